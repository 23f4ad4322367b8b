// A visitor's movie history from elsewhere, in and out, parsed in the browser: Letterboxd's
// export (its zip, or ratings.csv / watched.csv / watchlist.csv / reviews.csv / diary.csv), IMDb's
// ratings and watchlist CSVs, a MovieLens ratings export, and this page's own JSON. Nothing is
// uploaded: the file is read here, matched to the catalogue by the wasm core
// (`Recommender.matchMovies`), shown as a preview, and saved only when the visitor confirms.
//
// No DOM here: the page and the widget render the preview; Node can use it as it is.

import { RATING_MAX, RATING_MIN, parseRatings, skippedCount } from './storage.js';
import { MARK_KINDS } from './marks.js';

/** A file larger than this is not a person's history (Letterboxd's 10,000 films are ~1 MB). */
export const MAX_FILE_BYTES = 50 * 1024 * 1024;
/** Rows read from all files of one import. */
export const MAX_ROWS = 200_000;
/** Unmatched rows listed one by one in the preview; beyond these only the count. */
export const MAX_LISTED = 200;

/** An import file that cannot be read; the message names the file and, where it can, the line. */
export class ImportError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ImportError';
  }
}

// ---------------------------------------------------------------------------------------------
// CSV

/**
 * Parses CSV text (RFC 4180: quoted fields may hold commas, quotes doubled, line breaks; CRLF
 * or LF; a UTF-8 BOM is dropped). Returns `{header, rows: [{line, cells}]}`, `line` being the
 * 1-based line where the record starts. Blank lines are skipped.
 */
export function parseCsv(text, file = 'the file') {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records = [];
  let cells = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let i = 0;
  const n = text.length;
  const endRecord = () => {
    cells.push(cell);
    if (cells.length > 1 || cells[0] !== '') records.push({ line: start, cells });
    cells = [];
    cell = '';
  };
  while (i < n) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        if (c === '\n') line++;
        cell += c;
      }
      i++;
      continue;
    }
    if (c === '"' && cell === '') {
      quoted = true;
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      endRecord();
      if (c === '\r' && text[i + 1] === '\n') i++;
      line++;
      start = line;
    } else {
      cell += c;
    }
    i++;
  }
  if (quoted) throw new ImportError(`${file}, line ${start}: a quoted field is never closed`);
  if (cell !== '' || cells.length) endRecord();
  if (!records.length) throw new ImportError(`${file} is empty`);
  const [head, ...rows] = records;
  return { header: head.cells.map((h) => h.trim()), rows };
}

/** One CSV field, quoted when it must be. */
function field(value) {
  const s = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** CSV text of a header and rows, CRLF line ends (what spreadsheet tools expect). */
export function toCsv(header, rows) {
  return [header, ...rows].map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}

// ---------------------------------------------------------------------------------------------
// Zip (Letterboxd's export is one), read with the browser's own DecompressionStream

/** The files of a zip archive, `[{name, bytes}]`; methods stored and deflate only. */
export async function readZip(bytes, file = 'the archive') {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (why) => new ImportError(`${file} is not a readable zip archive: ${why}`);
  // The end-of-central-directory record sits within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let p = bytes.length - 22; p >= Math.max(0, bytes.length - 65557); p--) {
    if (view.getUint32(p, true) === 0x06054b50) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) throw bad('no end of central directory');
  const count = view.getUint16(eocd + 10, true);
  const dirSize = view.getUint32(eocd + 12, true);
  let at = view.getUint32(eocd + 16, true);
  if (at === 0xffffffff || count === 0xffff) throw bad('zip64 archives are not supported');
  if (at + dirSize > bytes.length) throw bad('the central directory lies beyond the end of the file');
  const out = [];
  let total = 0;
  for (let k = 0; k < count; k++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50) throw bad(`entry ${k + 1} of ${count} is damaged`);
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const compressed = view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    const nameLen = view.getUint16(at + 28, true);
    const extraLen = view.getUint16(at + 30, true);
    const commentLen = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLen));
    at += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/')) continue; // a folder
    if (flags & 1) throw bad(`${name} is encrypted`);
    if (local + 30 > bytes.length || view.getUint32(local, true) !== 0x04034b50) throw bad(`${name}'s header is damaged`);
    const dataAt = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (dataAt + compressed > bytes.length) throw bad(`${name} runs past the end of the file`);
    total += size;
    if (total > MAX_FILE_BYTES) throw bad(`it unpacks to more than ${MAX_FILE_BYTES / 1024 / 1024} MB`);
    const data = bytes.subarray(dataAt, dataAt + compressed);
    if (method === 0) out.push({ name, bytes: data });
    else if (method === 8) out.push({ name, bytes: await inflate(data, size, name, bad) });
    else out.push({ name, bytes: null, skipped: `compression method ${method} is not supported` });
  }
  return out;
}

async function inflate(data, size, name, bad) {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  const reader = stream.getReader();
  const parts = [];
  let length = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.length;
      // The directory's size is a claim: never unpack past it (a zip bomb says it is small).
      if (length > size) throw bad(`${name} unpacks to more than the ${size} bytes it declares`);
      parts.push(value);
    }
  } catch (err) {
    if (err instanceof ImportError) throw err;
    throw bad(`${name} could not be unpacked (${err.message})`);
  }
  const all = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

// ---------------------------------------------------------------------------------------------
// Formats

/** Letterboxd export files read; the rest of the archive (profile, comments, lists) is not history. */
const LETTERBOXD_FILES = ['ratings.csv', 'watched.csv', 'watchlist.csv', 'reviews.csv', 'diary.csv'];

function columns(header) {
  const at = new Map(header.map((h, i) => [h.toLowerCase(), i]));
  return (...names) => {
    for (const n of names) if (at.has(n.toLowerCase())) return at.get(n.toLowerCase());
    return -1;
  };
}

/**
 * The format of a CSV by its header, or null: letterboxd-ratings, letterboxd-diary (diary and
 * reviews), letterboxd-watched and letterboxd-watchlist (same columns, told apart by the file
 * name), imdb-ratings, imdb-watchlist, movielens-ratings, letterboxd-import (Letterboxd's import
 * layout, what this page exports).
 */
export function detectFormat(header, fileName = '') {
  const col = columns(header);
  const base = fileName.split('/').pop().toLowerCase();
  if (col('Letterboxd URI') >= 0 && col('Name') >= 0) {
    if (col('Rating') >= 0) return col('Watched Date') >= 0 ? 'letterboxd-diary' : 'letterboxd-ratings';
    return base.includes('watchlist') ? 'letterboxd-watchlist' : 'letterboxd-watched';
  }
  if (col('Const') >= 0) {
    if (col('Position') >= 0) return 'imdb-watchlist';
    if (col('Your Rating') >= 0) return 'imdb-ratings';
  }
  if (col('movie_id', 'movieId') >= 0 && col('rating') >= 0) return 'movielens-ratings';
  // Letterboxd's import layout (what this page exports, and what other tools write for it).
  if (col('imdbID', 'tmdbID') >= 0 || (col('Title') >= 0 && col('Year') >= 0)) return 'letterboxd-import';
  return null;
}

const NOT_MOVIES = /series|episode|mini|podcast|video ?game|music ?video/i;

/** Milliseconds of a date (YYYY-MM-DD, an ISO time, or Unix seconds), or 0 when there is none. */
function dateOf(text) {
  const s = (text ?? '').trim();
  if (!s) return 0;
  if (/^\d{9,11}$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T12:00:00Z` : s);
  return Number.isFinite(t) ? t : 0;
}

function yearOf(text) {
  const y = Number((text ?? '').trim().slice(0, 4));
  return Number.isInteger(y) && y >= 1870 && y <= 2100 ? y : undefined;
}

function imdbOf(text) {
  const m = /^tt0*(\d{1,9})$/.exec((text ?? '').trim());
  return m ? Number(m[1]) : undefined;
}

function idOf(text) {
  const s = (text ?? '').trim();
  return /^\d{1,10}$/.test(s) && Number(s) <= 0xffffffff ? Number(s) : undefined;
}

/**
 * The rows of one parsed CSV as history entries:
 * `{file, line, kind: 'rating'|'seen'|'watchlist', rating?, date, wanted, movieId?, label}`,
 * or `{file, line, label, reason}` for a row that cannot be used.
 */
export function entriesOf(format, { header, rows }, file) {
  const col = columns(header);
  const get = (cells, i) => (i >= 0 ? (cells[i] ?? '').trim() : '');
  const out = [];
  const halve = format === 'imdb-ratings' || format === 'imdb-watchlist' || (format === 'letterboxd-import' && col('Rating') < 0 && col('Rating10') >= 0);
  const ci = {
    title: col('Name', 'Title', 'title'),
    original: col('Original Title'),
    year: col('Year', 'year'),
    rating: col('Rating', 'Your Rating', 'rating', 'Rating10'),
    date: col('Watched Date', 'WatchedDate', 'Date Rated', 'Date', 'Created', 'timestamp', 'created_at'),
    imdb: col('Const', 'imdb_id', 'imdbId'),
    position: col('Position'),
    tmdb: col('tmdb_id', 'tmdbId'),
    movie: col('movie_id', 'movieId'),
    type: col('Title Type'),
    user: col('userId', 'user_id'),
  };
  const users = new Set();
  for (const { line, cells } of rows) {
    const title = get(cells, ci.title);
    const year = yearOf(get(cells, ci.year));
    const label = title ? (year ? `${title} (${year})` : title) : `row ${line}`;
    const where = { file, line, label };
    if (ci.user >= 0) users.add(get(cells, ci.user));
    const type = get(cells, ci.type);
    if (type && NOT_MOVIES.test(type)) {
      out.push({ ...where, reason: `a ${type}: this catalogue has movies only` });
      continue;
    }
    const wanted = {};
    if (title) wanted.title = title;
    const original = get(cells, ci.original);
    if (original && original !== title) wanted.originalTitle = original;
    if (year) wanted.year = year;
    const imdb = imdbOf(get(cells, ci.imdb)) ?? idOf(get(cells, ci.imdb));
    if (imdb !== undefined) wanted.imdbId = imdb;
    const tmdb = idOf(get(cells, ci.tmdb));
    if (tmdb !== undefined) wanted.tmdbId = tmdb;
    const entry = { ...where, wanted, date: dateOf(get(cells, ci.date)) };
    if (format === 'movielens-ratings') entry.movieId = idOf(get(cells, ci.movie));
    const rawRating = get(cells, ci.rating);
    const rated =
      ['letterboxd-ratings', 'letterboxd-diary', 'imdb-ratings', 'movielens-ratings'].includes(format) ||
      (['imdb-watchlist', 'letterboxd-import'].includes(format) && rawRating !== '');
    if (rated && rawRating !== '') {
      let stars = Number(rawRating);
      if (halve) stars /= 2;
      if (!Number.isFinite(stars) || stars < RATING_MIN || stars > RATING_MAX) {
        out.push({ ...where, reason: `rating “${rawRating}” is not ${halve ? '1–10' : `${RATING_MIN}–${RATING_MAX}`}` });
        continue;
      }
      entry.kind = 'rating';
      entry.rating = Math.round(stars * 2) / 2;
    } else if (rated && format !== 'letterboxd-diary') {
      out.push({ ...where, reason: 'no rating' });
      continue;
    } else {
      // A list (it has positions) is movies to watch; Letterboxd's import rows without a rating are watched.
      entry.kind = format.endsWith('watchlist') || ci.position >= 0 ? 'watchlist' : 'seen';
    }
    out.push(entry);
  }
  if (users.size > 1) {
    throw new ImportError(`${file} holds the ratings of ${users.size} different users: export one person’s ratings`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading files

/**
 * Reads dropped or picked files (`{name, bytes}` or `File`s) into history entries. A zip is
 * opened and its Letterboxd files read; a JSON file is this page's export. Returns
 * `{entries, files: [{name, format, rows}], ignored: [name], json: [parsed]}`; throws an
 * ImportError naming the file (and line) when a file cannot be read at all.
 */
export async function readHistory(files) {
  const result = { entries: [], files: [], ignored: [], json: [] };
  let rows = 0;
  // `name` is what messages call the file; `base` its own name (watched.csv or watchlist.csv).
  const addCsv = (name, text, base = name) => {
    const parsed = parseCsv(text, name);
    const format = detectFormat(parsed.header, base);
    if (!format) {
      throw new ImportError(
        `${name}, line 1: the columns (${parsed.header.slice(0, 6).join(', ')}) are not a Letterboxd, IMDb or MovieLens export`,
      );
    }
    rows += parsed.rows.length;
    if (rows > MAX_ROWS) throw new ImportError(`more than ${MAX_ROWS.toLocaleString('en')} rows: this is not one person’s history`);
    result.files.push({ name, format, rows: parsed.rows.length });
    result.entries.push(...entriesOf(format, parsed, name));
  };
  for (const f of files) {
    const name = f.name ?? 'file';
    // A File (Blob) has a `bytes()` method of its own: only a Uint8Array is taken as the bytes.
    const bytes = f.bytes instanceof Uint8Array ? f.bytes : new Uint8Array(await f.arrayBuffer());
    if (bytes.length > MAX_FILE_BYTES) throw new ImportError(`${name} is larger than ${MAX_FILE_BYTES / 1024 / 1024} MB`);
    if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
      for (const member of await readZip(bytes, name)) {
        const base = member.name.split('/').pop().toLowerCase();
        // Only the top level: lists/ and deleted/ hold the same columns but are not history.
        if (member.name.includes('/') || !LETTERBOXD_FILES.includes(base) || !member.bytes) {
          result.ignored.push(member.skipped ? `${member.name} (${member.skipped})` : member.name);
          continue;
        }
        addCsv(`${name}: ${member.name}`, decode(member.bytes, member.name), member.name);
      }
      continue;
    }
    const text = decode(bytes, name);
    if (/^\s*[[{]/.test(text)) {
      try {
        result.json.push({ name, value: JSON.parse(text) });
      } catch (err) {
        throw new ImportError(`${name} is not valid JSON (${err.message})`);
      }
      result.files.push({ name, format: 'movie-recs-json', rows: 0 });
      continue;
    }
    addCsv(name, text);
  }
  return result;
}

function decode(bytes, name) {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Excel on Windows saves CSV in its own code page; windows-1252 keeps the accents.
    if (bytes.includes(0)) throw new ImportError(`${name} is not a text file`);
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

// ---------------------------------------------------------------------------------------------
// The plan: what an import would change, for the preview; nothing is saved yet

/** Which mark a file row asks for outranks which: a rating says more than "seen", "seen" more than "want". */
const STRENGTH = { rating: 3, seen: 2, notInterested: 2, watchlist: 1 };

/**
 * What importing `history` would do, against what `ratings` (a RatingStore) and `marks` (a
 * MarkStore) hold:
 * `{ratings: [{movieId, rating, ratedAt}], marks: [{movieId, mark, markedAt}], added, updated,
 *   unchanged, conflicts: [{movieId, title, saved, incoming, keep, why}], unmatched: [{file,
 *   line, label, reason}], unmatchedCount, matched, rows, files, ignored}`.
 * A saved rating is replaced only by a file rating dated after it; an undated file rating never
 * replaces one. `recommender` supplies `matchMovies` and `movie`.
 */
export function planImport(recommender, history, ratings, marks) {
  const plan = {
    ratings: [],
    marks: [],
    added: 0,
    updated: 0,
    unchanged: 0,
    conflicts: [],
    unmatched: [],
    unmatchedCount: 0,
    matched: 0,
    rows: 0,
    files: history.files,
    ignored: history.ignored,
  };
  const unmatched = (e, reason) => {
    plan.unmatchedCount++;
    if (plan.unmatched.length < MAX_LISTED) plan.unmatched.push({ file: e.file, line: e.line, label: e.label, reason });
  };
  // This page's own JSON: ids are the catalogue's own.
  const usable = [];
  let jsonRows = 0;
  for (const { name, value } of history.json) {
    const { ratings: list, skipped } = parseRatings(value);
    jsonRows += list.length + skippedCount(skipped);
    for (const s of skipped) unmatched({ file: name, line: 0, label: '' }, s);
    plan.unmatchedCount += skippedCount(skipped) - skipped.length;
    for (const r of list) usable.push({ file: name, line: 0, label: `movie ${r.movieId}`, kind: 'rating', rating: r.rating, date: r.ratedAt, movieId: r.movieId });
    if (value && typeof value === 'object' && Array.isArray(value.marks)) {
      for (const m of value.marks) {
        const id = Number(m?.movieId);
        jsonRows++;
        if (Number.isInteger(id) && id >= 0 && id <= 0xffffffff && MARK_KINDS.includes(m?.mark)) {
          usable.push({ file: name, line: 0, label: `movie ${id}`, kind: m.mark, date: Number(m.markedAt) || 0, movieId: id });
        } else {
          unmatched({ file: name, line: 0, label: '' }, `mark ${String(JSON.stringify(m)).slice(0, 60)} is not one this page knows`);
        }
      }
    }
  }
  plan.rows = jsonRows + history.entries.length;
  const toMatch = [];
  for (const e of history.entries) {
    if (e.reason) unmatched(e, e.reason);
    else if (e.movieId !== undefined && recommender.movie(e.movieId)) usable.push(e);
    else toMatch.push(e);
  }
  const answers = toMatch.length ? recommender.matchMovies(toMatch.map((e) => e.wanted)) : [];
  toMatch.forEach((e, i) => {
    const a = answers[i];
    if (a.status === 'matched') usable.push({ ...e, movieId: a.movieId });
    else unmatched(e, a.reason);
  });
  // One outcome a movie: the strongest kind, then the latest date.
  const best = new Map();
  for (const e of usable) {
    if (!recommender.movie(e.movieId)) {
      unmatched(e, `movie ${e.movieId} is not in this catalogue`);
      continue;
    }
    plan.matched++;
    const old = best.get(e.movieId);
    const strength = (x) => STRENGTH[x.kind];
    if (!old || strength(e) > strength(old) || (strength(e) === strength(old) && e.date >= old.date)) best.set(e.movieId, e);
  }
  for (const [movieId, e] of best) {
    const savedRating = ratings.ratings.get(movieId);
    if (e.kind === 'rating') {
      if (!savedRating) {
        plan.added++;
        plan.ratings.push({ movieId, rating: e.rating, ratedAt: e.date });
      } else if (savedRating.rating === e.rating) {
        plan.unchanged++;
      } else {
        const newer = e.date > 0 && e.date > savedRating.ratedAt;
        const title = recommender.movie(movieId)?.title ?? `movie ${movieId}`;
        plan.conflicts.push({
          movieId,
          title,
          saved: savedRating.rating,
          incoming: e.rating,
          keep: newer ? 'file' : 'saved',
          why: newer ? 'the file’s rating is the more recent' : e.date > 0 ? 'you rated it here more recently' : 'the file gives no date, so what you saved stays',
        });
        if (newer) {
          plan.updated++;
          plan.ratings.push({ movieId, rating: e.rating, ratedAt: e.date });
        } else plan.unchanged++;
      }
    } else if (!savedRating && marks.get(movieId) !== e.kind) {
      plan.marks.push({ movieId, mark: e.kind, markedAt: e.date || Date.now() });
    } else {
      plan.unchanged++;
    }
  }
  // Oldest first, so the recency weighting reads the file's order.
  plan.ratings.sort((a, b) => a.ratedAt - b.ratedAt);
  return plan;
}

/**
 * Saves a plan; returns the undo: one call to `undoImport` puts back exactly what was there
 * before (ratings and marks the visitor changed since are left alone).
 */
export function applyImport(plan, ratings, marks) {
  const now = Date.now();
  const ratingUndo = ratings.setMany(plan.ratings.map((r) => ({ ...r, ratedAt: r.ratedAt || now })));
  const markUndo = marks.setMany(plan.marks);
  return { ratings: ratingUndo, marks: markUndo };
}

/** Reverts an import (see `applyImport`). */
export function undoImport(undo, ratings, marks) {
  ratings.revert(undo.ratings);
  marks.revert(undo.marks);
}

// ---------------------------------------------------------------------------------------------
// Export, in the formats those services import

const isoDay = (ms) => (ms > 0 ? new Date(ms).toISOString().slice(0, 10) : '');
const tt = (id) => (id ? `tt${String(id).padStart(7, '0')}` : '');

/**
 * Letterboxd's import CSV (imdbID, tmdbID, Title, Year, Rating, WatchedDate): the ratings, and
 * the movies marked seen without a rating. `movieOf(id)` gives a MovieSummary or null.
 */
export function letterboxdCsv(ratingList, markList, movieOf) {
  const rows = [];
  for (const r of ratingList) {
    const m = movieOf(r.movieId);
    if (m) rows.push([tt(m.imdbId), m.tmdbId ?? '', m.title, m.year ?? '', r.rating, isoDay(r.ratedAt)]);
  }
  for (const k of markList.filter((k) => k.mark === 'seen')) {
    const m = movieOf(k.movieId);
    if (m) rows.push([tt(m.imdbId), m.tmdbId ?? '', m.title, m.year ?? '', '', isoDay(k.markedAt)]);
  }
  return toCsv(['imdbID', 'tmdbID', 'Title', 'Year', 'Rating', 'WatchedDate'], rows);
}

/** An IMDb-style ratings CSV (Const, Your Rating 1–10, Date Rated, Title, Year). */
export function imdbCsv(ratingList, movieOf) {
  const rows = [];
  for (const r of ratingList) {
    const m = movieOf(r.movieId);
    if (m?.imdbId) rows.push([tt(m.imdbId), Math.max(1, Math.round(r.rating * 2)), isoDay(r.ratedAt), m.title, m.year ?? '']);
  }
  return toCsv(['Const', 'Your Rating', 'Date Rated', 'Title', 'Year'], rows);
}

/** Recommendations as a Letterboxd list CSV, in their order. */
export function recommendationsCsv(items) {
  return toCsv(
    ['Position', 'imdbID', 'tmdbID', 'Title', 'Year'],
    items.map((m, i) => [i + 1, tt(m.imdbId), m.tmdbId ?? '', m.title, m.year ?? '']),
  );
}

/** The page's JSON with marks beside ratings (what `readHistory` and `RatingStore.merge` read). */
export function exportJson(ratings, marks, titleOf = () => undefined) {
  const body = JSON.parse(ratings.exportJson(titleOf));
  body.marks = marks.list().map((m) => ({ ...m, title: titleOf(m.movieId) }));
  return JSON.stringify(body, null, 2);
}
