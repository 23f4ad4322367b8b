// Movie night's other people: a friend is a name and the ratings (and seen movies) read from
// the history they exported, matched to this catalogue, kept in this browser beside the
// visitor's own ratings. The visitor's own profile is always their ratings store.

import { isMovieId, probeStorage } from './storage.js';

/** Friends beside the visitor: movie night is for two to four people. */
export const MAX_FRIENDS = 3;
/** Ratings kept per friend (the newest); an export of decades is still one evening's input. */
export const MAX_FRIEND_RATINGS = 20_000;

export function profilesKey(ratingsKey) {
  return `${ratingsKey}:friends`;
}

/** One friend read back from storage: anything unusable is dropped, never thrown. */
function cleanFriend(f) {
  if (!f || typeof f !== 'object' || typeof f.name !== 'string') return null;
  const ratings = Array.isArray(f.ratings)
    ? f.ratings.filter((r) => isMovieId(r?.movieId) && typeof r.rating === 'number' && Number.isFinite(r.rating)).map((r) => ({ movieId: r.movieId, rating: r.rating })).slice(-MAX_FRIEND_RATINGS)
    : [];
  const seen = Array.isArray(f.seen) ? f.seen.filter(isMovieId).slice(-MAX_FRIEND_RATINGS) : [];
  return { name: f.name.slice(0, 60) || 'Friend', ratings, seen };
}

export class FriendList {
  constructor(key) {
    this.key = key;
    this.storage = probeStorage();
    this.friends = [];
    this.warning = null;
    try {
      const value = JSON.parse(this.storage?.getItem(key) ?? '[]');
      const list = Array.isArray(value) ? value : [];
      this.friends = list.map(cleanFriend).filter(Boolean).slice(0, MAX_FRIENDS);
      if (!Array.isArray(value) || this.friends.length !== list.length) this.warning = 'Some saved movie-night friends could not be read and were left out.';
    } catch {
      this.warning = 'The saved movie-night friends could not be read and were left out.';
    }
  }

  add(friend) {
    if (this.friends.length >= MAX_FRIENDS) throw new Error(`movie night is for up to ${MAX_FRIENDS + 1} people; remove a friend first`);
    const clean = cleanFriend(friend);
    if (!clean || (clean.ratings.length === 0 && clean.seen.length === 0)) throw new Error('nothing in that file matched a movie of this catalogue');
    this.friends.push(clean);
    return this.save();
  }

  remove(index) {
    this.friends.splice(index, 1);
    return this.save();
  }

  /** Saves; returns false (the friends kept for this visit only) when storage is unavailable or full. */
  save() {
    try {
      if (!this.storage) return false;
      this.storage.setItem(this.key, JSON.stringify(this.friends));
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * A friend from their export files: matched like an import, saved nowhere but in the returned
 * object. The import code (js/history.js) is loaded on first use, as the page loads it.
 */
export async function friendFrom(recommender, history, name) {
  const { planImport } = await import('./history.js');
  const plan = planImport(recommender, history, { ratings: new Map() }, { get: () => undefined });
  return {
    name,
    ratings: plan.ratings.map(({ movieId, rating }) => ({ movieId, rating })),
    seen: plan.marks.filter((m) => m.mark === 'seen').map((m) => m.movieId),
    unmatched: plan.unmatchedCount ?? plan.unmatched.length,
  };
}
