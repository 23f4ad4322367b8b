import type { Recommendation } from './movie_recs.js';

/** `<movie-recs>`: recommendations on any page, computed in the browser. */
export class MovieRecsElement extends HTMLElement {
  /** The visitor's ratings, oldest first. */
  readonly ratings: { movieId: number; rating: number; ratedAt: number }[];
  /** Sets (or with null removes) a rating; throws an Error for an invalid value. */
  setRating(movieId: number, rating: number | null): void;
  /** Removes every rating of this widget's storage key; returns them, for `restore`. */
  clear(): { movieId: number; rating: number; ratedAt: number }[];
  /** Familiar (0, the default) to discover (1), reflected as the `discover` attribute. */
  discover: number;
  /** Puts back the ratings `clear` returned. */
  restore(removed: { movieId: number; rating: number; ratedAt: number }[]): void;
}

export interface MovieRecsEventMap extends HTMLElementEventMap {
  /** The visitor rated, removed or imported (not fired for the host's own setRating/clear/restore). */
  'movie-recs:rating': CustomEvent<{ movieId: number | null; rating: number | null }>;
  /** A list was shown. */
  'movie-recs:recommendations': CustomEvent<{ items: Recommendation[]; coldStart: boolean }>;
}

declare global {
  interface HTMLElementTagNameMap {
    'movie-recs': MovieRecsElement;
  }
}
