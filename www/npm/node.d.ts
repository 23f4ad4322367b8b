export * from './movie_recs.js';
/** The bytes of the model the package ships (MovieLens ml-latest-small, every method). */
export function defaultModel(): Uint8Array;
