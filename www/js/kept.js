// The last list of recommendations the page computed, kept in the visitor's storage so that the
// next visit shows it at once. On a slow phone the wasm and the model's core take most of a
// second to be ready even from the service worker (README, "first load"); the list they would
// give for an unchanged visitor is the one computed last time, so it is shown while they load.
//
// It is shown only for exactly what it was computed from: the same model file, the same
// ratings and marks, the page's default filters. The page replaces it as soon as anything
// differs: the visitor rates or filters, or the loaded model is another one (a deploy), which
// the model's id (the core's checksum) tells. Whatever is found under the key is checked field by
// field; anything else is dropped (it is a cache: nothing of the visitor's is lost with it).

import { isMovieId } from './storage.js';

export const KEPT_VERSION = 1;
/** The longest list kept (the page shows 12). */
export const MAX_KEPT = 50;

/**
 * The kept list's key beside a ratings key; `variant` tells apart lists computed with other
 * options from the same ratings (each widget's attributes).
 */
export const keptKey = (ratingsKey, variant = '') => `${ratingsKey}:kept-list${variant ? `:${variant}` : ''}`;

/**
 * A short fingerprint of the state a list is computed from (FNV-1a, 32 bits, over its JSON):
 * storage holds it instead of a copy of every rating.
 */
export function fingerprint(value) {
  const text = JSON.stringify(value);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

const isText = (s) => typeof s === 'string' && s.length <= 1000;
const isCount = (n) => Number.isFinite(n) && n >= 0;

/** Whether a reason has the fields `render.js`'s reasonText reads for its kind. */
function isReason(r) {
  if (r === null || typeof r !== 'object') return false;
  switch (r.kind) {
    case 'rated':
      return isText(r.title) && Number.isFinite(r.rating);
    case 'seen':
      return isText(r.title);
    case 'attributes':
      return Array.isArray(r.names) && r.names.every(isText);
    case 'similarViewers':
      return isCount(r.rated) && isCount(r.liked);
    case 'popular':
      return Number.isFinite(r.ratingMean) && isCount(r.ratingCount);
    default:
      return false;
  }
}

/** Whether an item has what a movie row shows. */
function isItem(m) {
  return (
    m !== null &&
    typeof m === 'object' &&
    isMovieId(m.movieId) &&
    isText(m.title) &&
    (m.year === null || Number.isInteger(m.year)) &&
    Array.isArray(m.genres) &&
    m.genres.every(isText) &&
    (m.predictedRating === undefined || Number.isFinite(m.predictedRating)) &&
    Array.isArray(m.reasons) &&
    m.reasons.length > 0 &&
    m.reasons.every(isReason) &&
    (m.imdbId === null || isMovieId(m.imdbId)) &&
    (m.tmdbId === null || isMovieId(m.tmdbId))
  );
}

/**
 * Removes every kept list of a ratings key (each widget variant's too): once the visitor has no
 * personal list, none of them is theirs any more, and the reasons in them name their ratings.
 */
export function forgetKept(storage, ratingsKey) {
  if (!storage) return;
  const base = keptKey(ratingsKey);
  try {
    const keys = [];
    for (let i = 0; i < storage.length; i++) {
      const k = storage.key(i);
      if (k === base || k?.startsWith(`${base}:`)) keys.push(k);
    }
    for (const k of keys) storage.removeItem(k);
  } catch {
    // A cache only.
  }
}

/**
 * Whether a kept list on screen stays there: `shown` (what `KeptList.read` gave, with the `state`
 * it was read for) came from `state` and the model `recommender` loaded, and the method that
 * made it is not in `recommender` yet (the rest of the model is still downloading), so a list
 * computed now would only be a worse one for a moment. The page and the widget both ask.
 */
export function keptStays(shown, state, recommender) {
  return shown.state === state && shown.modelId === recommender.modelId() && !recommender.methods().some((m) => m.name === shown.method);
}

export class KeptList {
  constructor(key, storage = null) {
    this.key = key;
    this.storage = storage;
  }

  /**
   * The kept list if it was computed from `model` (the model file's address) and `state` (a
   * `fingerprint`): `{modelId, method, usedRatings, items}`; otherwise null. A record that is
   * not one this page wrote is removed.
   */
  read(model, state) {
    let record;
    try {
      const raw = this.storage?.getItem(this.key);
      if (raw == null) return null;
      record = JSON.parse(raw);
    } catch {
      this.clear();
      return null;
    }
    const valid =
      record !== null &&
      typeof record === 'object' &&
      record.version === KEPT_VERSION &&
      isText(record.model) &&
      isText(record.state) &&
      isText(record.modelId) &&
      isText(record.method) &&
      Number.isInteger(record.usedRatings) &&
      record.usedRatings > 0 &&
      Array.isArray(record.items) &&
      record.items.length > 0 &&
      record.items.length <= MAX_KEPT &&
      record.items.every(isItem);
    if (!valid) {
      this.clear();
      return null;
    }
    if (record.model !== model || record.state !== state) return null;
    return { modelId: record.modelId, method: record.method, usedRatings: record.usedRatings, items: record.items };
  }

  /** Keeps a computed list (best effort: storage full or unavailable keeps nothing). */
  save({ model, state, modelId, method, usedRatings, items }) {
    const record = { version: KEPT_VERSION, model, state, modelId, method, usedRatings, items: items.slice(0, MAX_KEPT) };
    try {
      this.storage?.setItem(this.key, JSON.stringify(record));
    } catch {
      // A cache only.
    }
  }

  clear() {
    try {
      this.storage?.removeItem(this.key);
    } catch {
      // A cache only.
    }
  }
}
