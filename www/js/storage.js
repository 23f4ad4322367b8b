// The visitor's ratings, in their own browser storage, under a versioned format.
//
// Nothing the visitor saved is ever lost:
// - whatever is found under the key is read defensively: every valid rating is kept, and
//   before anything unreadable is ever overwritten the original text is copied to a backup (a
//   small ring of timestamped keys, `<key>:backup:<time>`, newest kept); when even the backup
//   does not fit, the original is left as it is and nothing is written over it;
// - one cap (MAX_RATINGS) holds everywhere (load, set, merge, restore), keeping the newest,
//   and what goes over it is backed up first, with a notice;
// - when storage is unavailable or full, ratings live in memory, and another tab's change is
//   merged under them instead of replacing them.

export const FORMAT_VERSION = 1;
export const DEFAULT_KEY = 'movie-recs:ratings';
/** More than this many ratings is not a real visitor; beyond it the oldest are set aside (backed up). */
export const MAX_RATINGS = 5000;
/** Backups kept per key: the newest, and two before it. */
export const MAX_BACKUPS = 3;
export const RATING_MIN = 0.5;
export const RATING_MAX = 5;

/** Whether `id` can be a movie id: a whole number from 0 to 2^32 - 1 (what the core takes). */
export const isMovieId = (id) => Number.isInteger(id) && id >= 0 && id <= 0xffffffff;

/** Checks one entry; returns a clean rating or a string saying why it was skipped. */
export function checkEntry(entry) {
  if (entry === null || typeof entry !== 'object') return 'not an object';
  const movieId = typeof entry.movieId === 'string' && /^\d+$/.test(entry.movieId) ? Number(entry.movieId) : entry.movieId;
  const rating = typeof entry.rating === 'string' && entry.rating.trim() !== '' ? Number(entry.rating) : entry.rating;
  if (!isMovieId(movieId)) {
    return `movie id ${JSON.stringify(entry.movieId)} is not a whole number`;
  }
  if (typeof rating !== 'number' || !Number.isFinite(rating)) return `rating ${JSON.stringify(entry.rating)} of movie ${movieId} is not a number`;
  if (rating < RATING_MIN || rating > RATING_MAX) return `rating ${rating} of movie ${movieId} is outside ${RATING_MIN}–${RATING_MAX}`;
  const ratedAt = Number.isFinite(entry.ratedAt) ? entry.ratedAt : 0;
  return { movieId, rating: Math.round(rating * 2) / 2, ratedAt };
}

/**
 * Turns any parsed value (current format, the bare array of format 0, an export file) into
 * clean ratings, last one of a movie winning, in order (oldest first). Returns
 * `{ratings, skipped: [reason], newer}`; `skipped.more` counts reasons beyond the first 100.
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
  for (const entry of entries) {
    const clean = checkEntry(entry);
    if (typeof clean === 'string') {
      // Reasons are kept for the first few only: a pasted million rows must not make a million strings.
      if (skipped.length < 100) skipped.push(clean);
      else skipped.more = (skipped.more ?? 0) + 1;
    } else {
      byMovie.delete(clean.movieId);
      byMovie.set(clean.movieId, clean);
    }
  }
  return { ratings: [...byMovie.values()], skipped, newer };
}

/** How many were skipped in all (`parseRatings` keeps the first 100 reasons). */
export function skippedCount(skipped) {
  return skipped.length + (skipped.more ?? 0);
}

/** The page's localStorage if it can be written, else null (private mode, disabled, sandboxed). */
export function probeStorage() {
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

/** The keys starting with `prefix` (a store's `<key>:backup:`), oldest first. */
export function backupKeys(storage, prefix) {
  if (!storage) return [];
  const keys = [];
  for (let i = 0; i < storage.length; i++) {
    const k = storage.key(i);
    if (k !== null && k.startsWith(prefix)) keys.push(k);
  }
  return keys.sort();
}

/**
 * The backup ring of the ratings and the marks alike: `raw` goes to a new key `<prefix><time>`,
 * sortable after every existing one (a counter for backups within one millisecond or after the
 * clock went back), and the oldest beyond MAX_BACKUPS are dropped. Nothing is written when the
 * newest backup already holds `raw`. True when `raw` is kept.
 */
export function writeBackup(storage, prefix, raw) {
  if (!storage) return false;
  const keys = backupKeys(storage, prefix);
  const last = keys.at(-1);
  let newest = null;
  try {
    newest = last === undefined ? null : storage.getItem(last);
  } catch {
    newest = null;
  }
  if (newest === raw) return true; // already kept
  const stamp = new Date().toISOString();
  let key = `${prefix}${stamp}`;
  for (let n = 1; last !== undefined && key <= last; n++) key = `${prefix}${stamp}.${String(n).padStart(6, '0')}`;
  try {
    storage.setItem(key, raw);
  } catch {
    return false;
  }
  for (const old of [...keys, key].slice(0, -MAX_BACKUPS)) storage.removeItem(old);
  return true;
}

/** Ratings of one storage key. `warnings` lists what the visitor should know, in plain words. */
export class RatingStore {
  constructor(key = DEFAULT_KEY) {
    this.key = key;
    this.backupPrefix = `${key}:backup:`;
    this.storage = probeStorage();
    this.warnings = [];
    this.ratings = new Map();
    /** Changes not yet written (storage full or unavailable): movieId -> rating, or null for a removal. */
    this.unsaved = new Map();
    /** True while the stored original could not be backed up: it must not be written over. */
    this.locked = false;
    /** Called with each warning that arises after loading (storage filling up, say). */
    this.onWarning = null;
    this.load();
  }

  warn(text, { later = true } = {}) {
    this.warnings.push(text);
    if (later) this.onWarning?.(text);
  }

  /**
   * Re-reads storage (another tab or widget may have written). Changes this store could not
   * save yet are applied again on top, so they survive another tab's write.
   */
  load() {
    this.warnings = [];
    const pending = new Map(this.unsaved);
    this.ratings = new Map();
    this.locked = false;
    if (!this.storage) {
      this.warn('Your browser does not let this page store data, so ratings are kept only until you leave.', { later: false });
      this.ratings = new Map([...pending].filter(([, r]) => r !== null));
      return;
    }
    const raw = this.read(this.key);
    if (raw !== null) this.readStored(raw);
    if (pending.size) {
      for (const [id, r] of pending) {
        this.ratings.delete(id);
        if (r !== null) this.ratings.set(id, r);
      }
      this.unsaved = pending;
      this.enforceCap();
      this.save();
    }
  }

  read(key) {
    try {
      return this.storage.getItem(key);
    } catch {
      return null;
    }
  }

  /** Reads the stored text into `ratings`, backing up what it cannot use. */
  readStored(raw) {
    let parsed;
    try {
      parsed = JSON.parse(raw);
    } catch {
      this.setAside(raw, 'Saved ratings could not be read');
      return;
    }
    const { ratings, skipped, newer } = parseRatings(parsed);
    for (const r of ratings) this.ratings.set(r.movieId, r);
    const over = this.ratings.size > MAX_RATINGS;
    if (newer) {
      this.setAside(raw, 'Your ratings were saved by a newer version of this page; they were read as far as possible');
    } else if (skipped.length) {
      const shown = skipped.slice(0, 3).join('; ');
      this.setAside(raw, `${skippedCount(skipped)} saved rating(s) could not be used (${shown})`);
    } else if (over) {
      this.setAside(raw, `${this.ratings.size} saved ratings are more than ${MAX_RATINGS}; the newest ${MAX_RATINGS} are used`);
    }
    if (over) this.trimOldest(); // the original, with every rating, is in the backup (or locked)
    if (!this.locked && !newer && !skipped.length && !over && (!parsed || Array.isArray(parsed) || parsed.version !== FORMAT_VERSION)) {
      this.save(); // migrate an older format in place; nothing was lost
    }
  }

  /**
   * Backs up `raw` before the key is ever written again and warns with `why`; when the backup
   * does not fit, locks the key (the original stays as it is) and says so.
   */
  setAside(raw, why) {
    if (this.backup(raw)) {
      this.warn(`${why}; the original was kept as a backup.`, { later: false });
    } else {
      this.locked = true;
      this.warn(`${why}. There is no room to back up the original, so it is left untouched and new ratings are kept only until you leave.`, { later: false });
    }
  }

  /** The backup keys of this store, oldest first. */
  backupKeys() {
    return backupKeys(this.storage, this.backupPrefix);
  }

  /** Writes `raw` to a new timestamped backup key, dropping the oldest beyond MAX_BACKUPS; true when it was written. */
  backup(raw) {
    return writeBackup(this.storage, this.backupPrefix, raw);
  }

  /** The backups kept, newest first: `[{savedAt, raw}]`. */
  getBackups() {
    return this.backupKeys()
      .reverse()
      .map((k) => ({ savedAt: k.slice(this.backupPrefix.length), raw: this.read(k) }))
      .filter((b) => b.raw !== null);
  }

  /** The newest backup's text, or null. */
  getBackup() {
    return this.getBackups()[0]?.raw ?? null;
  }

  /** Forgets the backups (the visitor decided they do not need them). */
  discardBackup() {
    for (const k of this.backupKeys()) this.storage.removeItem(k);
  }

  /** Drops the oldest ratings beyond MAX_RATINGS (the caller has backed them up). */
  trimOldest() {
    const over = this.ratings.size - MAX_RATINGS;
    if (over > 0) for (const r of this.list().slice(0, over)) this.ratings.delete(r.movieId);
  }

  /** Keeps the newest MAX_RATINGS ratings; the older ones are backed up first (true if any were over). */
  enforceCap() {
    const over = this.ratings.size - MAX_RATINGS;
    if (over <= 0) return false;
    const all = this.list();
    const kept = this.backup(JSON.stringify({ version: FORMAT_VERSION, ratings: all }));
    this.trimOldest();
    this.warn(
      kept
        ? `You have more than ${MAX_RATINGS} ratings: the oldest ${over} were set aside (all ${all.length} are kept in a backup).`
        : `You have more than ${MAX_RATINGS} ratings: the oldest ${over} are not used, and there was no room to back them up, so nothing is written over what was saved.`,
    );
    if (!kept) this.locked = true;
    return true;
  }

  /** Writes the ratings; false (and they stay in memory, marked unsaved) when it cannot. */
  save() {
    if (!this.storage || this.locked) return false;
    const body = JSON.stringify({ version: FORMAT_VERSION, ratings: this.list() });
    try {
      this.storage.setItem(this.key, body);
      this.unsaved.clear();
      return true;
    } catch {
      if (!this.full) {
        this.full = true;
        this.warn('Browser storage is full: new ratings are kept only until you leave (what was saved before stays saved).');
      }
      return false;
    }
  }

  /** Records a change for `save`, and remembers it until it is saved. */
  change(movieId, rating) {
    this.ratings.delete(movieId);
    if (rating !== null) this.ratings.set(movieId, rating);
    this.unsaved.set(movieId, rating);
  }

  /**
   * Ratings as `[{movieId, rating, ratedAt}]`, oldest first: by when they were rated (an import
   * brings old dates), in the order they were made for equal times.
   */
  list() {
    return [...this.ratings.values()].sort((a, b) => a.ratedAt - b.ratedAt);
  }

  get(movieId) {
    return this.ratings.get(movieId)?.rating ?? null;
  }

  /** Sets (or, with `null`, removes) a rating. Throws on an invalid value. */
  set(movieId, rating) {
    if (rating === null) {
      this.change(movieId, null);
    } else {
      const clean = checkEntry({ movieId, rating, ratedAt: Date.now() });
      if (typeof clean === 'string') throw new Error(clean);
      this.change(clean.movieId, clean);
      this.enforceCap();
    }
    this.save();
  }

  /**
   * Sets many ratings at once (an import), saved in one write; invalid ones throw before
   * anything changes. Returns the undo for `revert`: each movie's rating before, or null.
   */
  setMany(list) {
    const clean = list.map((r) => {
      const c = checkEntry(r);
      if (typeof c === 'string') throw new Error(c);
      return c;
    });
    const undo = clean.map((r) => ({ movieId: r.movieId, before: this.ratings.get(r.movieId) ?? null, after: r }));
    for (const r of clean) this.change(r.movieId, r);
    this.enforceCap();
    this.save();
    return undo;
  }

  /**
   * Undoes `setMany`: each movie gets back its rating from before, unless the visitor changed
   * it since (that later change is theirs, and stays).
   */
  revert(undo) {
    for (const { movieId, before, after } of undo) {
      const now = this.ratings.get(movieId);
      const untouched = now ? now.rating === after.rating && now.ratedAt === after.ratedAt : true;
      if (untouched) this.change(movieId, before);
    }
    this.save();
  }

  /** Removes every rating; returns what `restore` needs to undo it. */
  clear() {
    const before = this.list();
    for (const id of [...this.ratings.keys()]) this.change(id, null);
    this.save();
    return before;
  }

  /** Puts back exactly the ratings `clear` returned (an undo), ratings made since included. */
  restore(before) {
    const since = this.list();
    for (const r of before) this.change(r.movieId, r);
    for (const r of since) this.change(r.movieId, r);
    this.enforceCap();
    this.save();
  }

  /**
   * Merges ratings from an export file's parsed JSON. Returns counts and the reasons of what
   * was skipped: `{added, updated, unchanged, skipped: [reason], skippedCount}`.
   * `isKnown(movieId)` filters out movies the model does not know.
   */
  merge(value, isKnown = () => true) {
    const { ratings, skipped } = parseRatings(value);
    const result = { added: 0, updated: 0, unchanged: 0, skipped: [...skipped], skippedCount: skippedCount(skipped) };
    for (const r of ratings) {
      if (!isKnown(r.movieId)) {
        if (result.skipped.length < 100) result.skipped.push(`movie ${r.movieId} is not in this catalogue`);
        result.skippedCount++;
        continue;
      }
      const old = this.ratings.get(r.movieId);
      if (!old) result.added++;
      else if (old.rating !== r.rating) result.updated++;
      else {
        result.unchanged++;
        continue;
      }
      this.change(r.movieId, { ...r, ratedAt: r.ratedAt || Date.now() });
    }
    this.enforceCap();
    this.save();
    return result;
  }

  /** The export file's content. */
  exportJson(titleOf = () => undefined) {
    const ratings = this.list().map((r) => ({ ...r, title: titleOf(r.movieId) }));
    return JSON.stringify({ format: 'movie-recs-ratings', version: FORMAT_VERSION, exportedAt: new Date().toISOString(), ratings }, null, 2);
  }
}
