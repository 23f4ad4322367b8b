// The visitor's ratings, in their own browser storage, under a versioned format.
//
// Whatever is found under the key is read defensively: every valid rating is kept, anything
// unreadable is reported as a warning and the original text is copied to `<key>:backup` before
// it is ever overwritten, so nothing the visitor saved is lost. When storage is unavailable or
// full, ratings live in memory and a warning says so.

export const FORMAT_VERSION = 1;
export const DEFAULT_KEY = 'movie-recs:ratings';
/** More than this many ratings is not a real visitor; the rest are set aside (backed up). */
export const MAX_RATINGS = 5000;
export const RATING_MIN = 0.5;
export const RATING_MAX = 5;

/** Checks one entry; returns a clean rating or a string saying why it was skipped. */
export function checkEntry(entry) {
  if (entry === null || typeof entry !== 'object') return 'not an object';
  const movieId = typeof entry.movieId === 'string' && /^\d+$/.test(entry.movieId) ? Number(entry.movieId) : entry.movieId;
  const rating = typeof entry.rating === 'string' && entry.rating.trim() !== '' ? Number(entry.rating) : entry.rating;
  if (typeof movieId !== 'number' || !Number.isInteger(movieId) || movieId < 0 || movieId > 0xffffffff) {
    return `movie id ${JSON.stringify(entry.movieId)} is not a whole number`;
  }
  if (typeof rating !== 'number' || !Number.isFinite(rating)) return `rating ${JSON.stringify(entry.rating)} of movie ${movieId} is not a number`;
  if (rating < RATING_MIN || rating > RATING_MAX) return `rating ${rating} of movie ${movieId} is outside ${RATING_MIN}–${RATING_MAX}`;
  const ratedAt = Number.isFinite(entry.ratedAt) ? entry.ratedAt : 0;
  return { movieId, rating: Math.round(rating * 2) / 2, ratedAt };
}

/**
 * Turns any parsed value (current format, the bare array of format 0, an export file) into
 * clean ratings, last one of a movie winning. Returns `{ratings, skipped: [reason], newer}`.
 */
export function parseRatings(value) {
  let entries;
  let newer = false;
  if (Array.isArray(value)) {
    entries = value; // format 0: a bare array of {movieId, rating}
  } else if (value && typeof value === 'object' && Array.isArray(value.ratings)) {
    entries = value.ratings;
    newer = Number.isFinite(value.version) && value.version > FORMAT_VERSION;
  } else {
    return { ratings: [], skipped: ['the saved data is not a list of ratings'], newer: false };
  }
  const byMovie = new Map();
  const skipped = [];
  for (const entry of entries.slice(0, MAX_RATINGS)) {
    const clean = checkEntry(entry);
    if (typeof clean === 'string') skipped.push(clean);
    else {
      byMovie.delete(clean.movieId);
      byMovie.set(clean.movieId, clean);
    }
  }
  if (entries.length > MAX_RATINGS) skipped.push(`${entries.length - MAX_RATINGS} ratings beyond the first ${MAX_RATINGS}`);
  return { ratings: [...byMovie.values()], skipped, newer };
}

function probeStorage() {
  try {
    const s = globalThis.localStorage;
    const probe = 'movie-recs:probe';
    s.setItem(probe, '1');
    s.removeItem(probe);
    return s;
  } catch {
    return null;
  }
}

/** Ratings of one storage key. `warnings` lists what the visitor should know, in plain words. */
export class RatingStore {
  constructor(key = DEFAULT_KEY) {
    this.key = key;
    this.backupKey = `${key}:backup`;
    this.storage = probeStorage();
    this.warnings = [];
    this.ratings = new Map();
    /** Called with each warning that arises after loading (storage filling up, say). */
    this.onWarning = null;
    this.load();
  }

  /** Re-reads storage (another tab or widget may have written). */
  load() {
    this.warnings = [];
    this.ratings = new Map();
    if (!this.storage) {
      this.warnings.push('Your browser does not let this page store data, so ratings are kept only until you leave.');
      return;
    }
    const raw = this.storage.getItem(this.key);
    if (raw === null) return;
    let parsed;
    try {
      parsed = JSON.parse(raw);
    } catch {
      this.backup(raw);
      this.warnings.push('Saved ratings could not be read; the original was kept as a backup.');
      return;
    }
    const { ratings, skipped, newer } = parseRatings(parsed);
    for (const r of ratings) this.ratings.set(r.movieId, r);
    if (newer) {
      this.backup(raw);
      this.warnings.push('Your ratings were saved by a newer version of this page; they were read as far as possible and the original kept as a backup.');
    } else if (skipped.length) {
      this.backup(raw);
      this.warnings.push(`${skipped.length} saved rating(s) could not be used (${skipped.slice(0, 3).join('; ')}); the original was kept as a backup.`);
    } else if (!parsed || Array.isArray(parsed) || parsed.version !== FORMAT_VERSION) {
      this.save(); // migrate an older format in place; nothing was lost
    }
  }

  backup(raw) {
    try {
      if (this.storage.getItem(this.backupKey) === null) this.storage.setItem(this.backupKey, raw);
    } catch {
      /* a full storage cannot take the backup; the original stays where it is until we write */
    }
  }

  /** The unreadable original kept aside, or null. */
  getBackup() {
    return this.storage ? this.storage.getItem(this.backupKey) : null;
  }

  /** Forgets the backup (the visitor decided they do not need it). */
  discardBackup() {
    this.storage?.removeItem(this.backupKey);
  }

  save() {
    if (!this.storage) return true;
    const body = JSON.stringify({ version: FORMAT_VERSION, ratings: [...this.ratings.values()] });
    try {
      this.storage.setItem(this.key, body);
      return true;
    } catch {
      const warning = 'Browser storage is full: new ratings are kept only until you leave (what was saved before stays saved).';
      this.warnings.push(warning);
      this.onWarning?.(warning);
      this.storage = null;
      return false;
    }
  }

  /** Ratings as `[{movieId, rating, ratedAt}]`, oldest first. */
  list() {
    return [...this.ratings.values()];
  }

  get(movieId) {
    return this.ratings.get(movieId)?.rating ?? null;
  }

  /** Sets (or, with `null`, removes) a rating. Throws on an invalid value. */
  set(movieId, rating) {
    if (rating === null) {
      this.ratings.delete(movieId);
    } else {
      const clean = checkEntry({ movieId, rating, ratedAt: Date.now() });
      if (typeof clean === 'string') throw new Error(clean);
      this.ratings.delete(movieId);
      this.ratings.set(movieId, clean);
    }
    this.save();
  }

  clear() {
    this.ratings.clear();
    this.save();
  }

  /**
   * Merges ratings from an export file's parsed JSON. Returns counts and the reasons of what
   * was skipped: `{added, updated, unchanged, skipped: [reason]}`. `isKnown(movieId)` filters out
   * movies the model does not know.
   */
  merge(value, isKnown = () => true) {
    const { ratings, skipped } = parseRatings(value);
    const result = { added: 0, updated: 0, unchanged: 0, skipped: [...skipped] };
    for (const r of ratings) {
      if (!isKnown(r.movieId)) {
        result.skipped.push(`movie ${r.movieId} is not in this catalogue`);
        continue;
      }
      const old = this.ratings.get(r.movieId);
      if (!old) result.added++;
      else if (old.rating !== r.rating) result.updated++;
      else {
        result.unchanged++;
        continue;
      }
      this.ratings.delete(r.movieId);
      this.ratings.set(r.movieId, { ...r, ratedAt: r.ratedAt || Date.now() });
    }
    this.save();
    return result;
  }

  /** The export file's content. */
  exportJson(titleOf = () => undefined) {
    const ratings = this.list().map((r) => ({ ...r, title: titleOf(r.movieId) }));
    return JSON.stringify({ format: 'movie-recs-ratings', version: FORMAT_VERSION, exportedAt: new Date().toISOString(), ratings }, null, 2);
  }
}
