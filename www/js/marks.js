// What a visitor says about a movie without rating it: seen it, not interested, want to watch.
// Kept in their own storage key beside the ratings, read as defensively: whatever cannot be
// used is backed up before the key is written again (the same ring of at most MAX_BACKUPS
// timestamped keys as the ratings'), and when even that fails the original is left untouched
// and marks live in memory only.
//
// Every marked movie is left out of recommendations: the core takes the ids (`exclude`).

import { isMovieId, probeStorage, writeBackup } from './storage.js';

export const DEFAULT_MARKS_KEY = 'movie-recs:marks';
export const MARKS_VERSION = 1;
/** The marks, in the order the page shows them (their labels: `STRINGS[lang].marks`). */
export const MARK_KINDS = ['seen', 'notInterested', 'watchlist'];
/** More marks than this is not a person; the oldest beyond it are dropped (after a backup). */
export const MAX_MARKS = 20_000;

/** The marks' key beside a ratings key: the page's default pair, or `<key>:marks` for a widget's own key. */
export function marksKey(ratingsKey) {
  return ratingsKey === 'movie-recs:ratings' ? DEFAULT_MARKS_KEY : `${ratingsKey}:marks`;
}

export class MarkStore {
  constructor(key = DEFAULT_MARKS_KEY) {
    this.key = key;
    this.storage = probeStorage();
    this.warnings = [];
    this.marks = new Map();
    this.locked = false;
    this.load();
  }

  load() {
    this.warnings = [];
    this.marks = new Map();
    this.locked = false;
    if (!this.storage) return;
    let raw = null;
    try {
      raw = this.storage.getItem(this.key);
    } catch {
      raw = null;
    }
    if (raw === null) return;
    let value = null;
    try {
      value = JSON.parse(raw);
    } catch {
      value = null;
    }
    const list = value && typeof value === 'object' && Array.isArray(value.marks) ? value.marks : null;
    let bad = list === null ? 1 : 0;
    for (const m of list ?? []) {
      const id = m?.movieId;
      if (isMovieId(id) && MARK_KINDS.includes(m.mark)) {
        this.marks.delete(id);
        this.marks.set(id, { movieId: id, mark: m.mark, markedAt: Number.isFinite(m.markedAt) ? m.markedAt : 0 });
      } else bad++;
    }
    const over = this.marks.size > MAX_MARKS;
    if (bad || over || (value && value.version > MARKS_VERSION)) {
      const why = bad ? `${bad} saved mark(s) could not be read` : over ? `more than ${MAX_MARKS} marks were saved` : 'your marks were saved by a newer version of this page';
      if (writeBackup(this.storage, `${this.key}:backup:`, raw)) {
        this.warnings.push(`${why}; the original was kept as a backup.`);
      } else {
        this.locked = true;
        this.warnings.push(`${why}. There is no room to back up the original, so it is left untouched and new marks are kept only until you leave.`);
      }
      if (over) for (const m of this.list().slice(0, this.marks.size - MAX_MARKS)) this.marks.delete(m.movieId);
    }
  }

  save() {
    if (!this.storage || this.locked) return false;
    try {
      this.storage.setItem(this.key, JSON.stringify({ version: MARKS_VERSION, marks: [...this.marks.values()] }));
      return true;
    } catch {
      if (!this.full) this.warnings.push('Browser storage is full: new marks are kept only until you leave.');
      this.full = true;
      return false;
    }
  }

  /** The mark of a movie, or null. */
  get(movieId) {
    return this.marks.get(movieId)?.mark ?? null;
  }

  /** Marks (or, with null, unmarks) a movie. Throws on an unknown mark. */
  set(movieId, mark) {
    return this.setMany([{ movieId, mark, markedAt: Date.now() }]);
  }

  /** Sets many marks in one write; returns the undo for `revert`. */
  setMany(list) {
    for (const m of list) {
      if (m.mark !== null && !MARK_KINDS.includes(m.mark)) throw new Error(`unknown mark ${JSON.stringify(m.mark)} (known: ${MARK_KINDS.join(', ')})`);
      if (!Number.isInteger(m.movieId) || m.movieId < 0) throw new Error(`movie id ${JSON.stringify(m.movieId)} is not a whole number`);
    }
    const undo = list.map((m) => ({ movieId: m.movieId, before: this.marks.get(m.movieId) ?? null, after: m.mark }));
    for (const m of list) {
      this.marks.delete(m.movieId);
      if (m.mark !== null) this.marks.set(m.movieId, { movieId: m.movieId, mark: m.mark, markedAt: m.markedAt ?? Date.now() });
    }
    while (this.marks.size > MAX_MARKS) this.marks.delete(this.marks.keys().next().value);
    this.save();
    return undo;
  }

  /** Undoes `setMany`, leaving alone any mark changed since. */
  revert(undo) {
    for (const { movieId, before, after } of undo) {
      if (this.get(movieId) !== after) continue;
      this.marks.delete(movieId);
      if (before) this.marks.set(movieId, before);
    }
    this.save();
  }

  /** `[{movieId, mark, markedAt}]`, oldest first. */
  list() {
    return [...this.marks.values()].sort((a, b) => a.markedAt - b.markedAt);
  }

  /**
   * What `recommend` folds in: the saved ratings, and each movie marked seen but not rated as a
   * `{movieId, seen: true}` entry, all in the order they were made (a movie watched counts as a
   * mild positive in its place; the core measured it against leaving it out).
   */
  history(ratings) {
    const rated = new Set(ratings.map((r) => r.movieId));
    const seen = this.list().filter((m) => m.mark === 'seen' && !rated.has(m.movieId)).map((m) => ({ movieId: m.movieId, seen: true, at: m.markedAt }));
    const all = [...ratings.map((r) => ({ ...r, at: r.ratedAt ?? 0 })), ...seen];
    // A stable sort: ratings without a time keep their order, ahead of any dated entry.
    return all.sort((a, b) => a.at - b.at).map(({ at, ...entry }) => entry);
  }

  /** Ids never to recommend: every marked movie. */
  excluded() {
    return [...this.marks.keys()];
  }
}
