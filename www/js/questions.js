// The first-minute questions: which movies the page asks the visitor to rate next. The core
// chooses them (`Recommender.questions`, the strategy the elicitation simulation measured best)
// from the ratings and the movies answered "haven't seen it", which this module keeps.
//
// "Haven't seen it" is not a mark: the movie is not hidden from recommendations (it may be a
// good one to watch), it is only not asked again.

import { isMovieId, probeStorage } from './storage.js';

/** How many answers are kept; the oldest beyond it are forgotten (they only steer questions). */
export const MAX_UNSEEN = 2_000;

/** The unseen list's key beside a ratings key. */
export function unseenKey(ratingsKey) {
  return `${ratingsKey}:unseen`;
}

export class UnseenList {
  constructor(key) {
    this.key = key;
    this.storage = probeStorage();
    this.ids = [];
    try {
      const value = JSON.parse(this.storage?.getItem(key) ?? '[]');
      // Anything but whole ids is dropped: this list only decides what is asked.
      if (Array.isArray(value)) this.ids = value.filter(isMovieId).slice(-MAX_UNSEEN);
    } catch {
      this.ids = [];
    }
  }

  /** Adds `movieId` (once) and saves; in memory only when storage is unavailable or full. */
  add(movieId) {
    if (!Number.isInteger(movieId) || this.ids.includes(movieId)) return;
    this.ids.push(movieId);
    if (this.ids.length > MAX_UNSEEN) this.ids.splice(0, this.ids.length - MAX_UNSEEN);
    this.save();
  }

  clear() {
    this.ids = [];
    this.save();
  }

  save() {
    try {
      this.storage?.setItem(this.key, JSON.stringify(this.ids));
    } catch {
      // Full or blocked: the answers still count for this visit.
    }
  }
}

/** The next `count` questions for `ratings` (`store.list()`), or the popular list if the model cannot say. */
export function nextQuestions(recommender, ratings, unseen, count) {
  try {
    return recommender.questions(ratings, unseen.ids, count);
  } catch {
    return recommender.popular(count);
  }
}
