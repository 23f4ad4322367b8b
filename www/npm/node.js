// The package's Node entry: the wasm is loaded from beside this file, so `import { Recommender }
// from 'movie-recs'` is ready to use, and `defaultModel()` gives the bundled model's bytes.
import { readFileSync } from 'node:fs';
import { initSync } from './movie_recs.js';

initSync({ module: readFileSync(new URL('./movie_recs_bg.wasm', import.meta.url)) });

export * from './movie_recs.js';

/** The bytes of the model the package ships (MovieLens ml-latest-small, every method). */
export function defaultModel() {
  return readFileSync(new URL('./model.bin', import.meta.url));
}
