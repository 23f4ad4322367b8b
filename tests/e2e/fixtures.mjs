// Import files in the services' published layouts, written here (no real person's file is in
// the repository): Letterboxd's export (ratings.csv, watched.csv, watchlist.csv, reviews.csv,
// diary.csv and the zip that holds them), IMDb's ratings and watchlist CSVs, and a zip writer.

import { deflateRawSync } from 'node:zlib';

export const LETTERBOXD = {
  ratings: ['Date', 'Name', 'Year', 'Letterboxd URI', 'Rating'],
  watched: ['Date', 'Name', 'Year', 'Letterboxd URI'],
  watchlist: ['Date', 'Name', 'Year', 'Letterboxd URI'],
  reviews: ['Date', 'Name', 'Year', 'Letterboxd URI', 'Rating', 'Rewatch', 'Review', 'Tags', 'Watched Date'],
  diary: ['Date', 'Name', 'Year', 'Letterboxd URI', 'Rating', 'Rewatch', 'Tags', 'Watched Date'],
};
export const IMDB_RATINGS = ['Const', 'Your Rating', 'Date Rated', 'Title', 'Original Title', 'URL', 'Title Type', 'IMDb Rating', 'Runtime (mins)', 'Year', 'Genres', 'Num Votes', 'Release Date', 'Directors'];
export const IMDB_WATCHLIST = ['Position', 'Const', 'Created', 'Modified', 'Description', 'Title', 'Original Title', 'URL', 'Title Type', 'IMDb Rating', 'Runtime (mins)', 'Year', 'Genres', 'Num Votes', 'Release Date', 'Directors', 'Your Rating', 'Date Rated'];

const quote = (v) => {
  const s = String(v ?? '');
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/** CSV text; `eol` '\r\n' by default (as both services write), `bom` to prefix one. */
export function csv(header, rows, { eol = '\r\n', bom = false } = {}) {
  return (bom ? '\ufeff' : '') + [header, ...rows].map((r) => r.map(quote).join(',')).join(eol) + eol;
}

let uri = 1000;
/** A Letterboxd row of `kind` (the columns of LETTERBOXD[kind]). */
export function letterboxdRow(kind, { title, year, rating = '', date = '2024-01-15', watched = date, review = '' }) {
  const link = `https://boxd.it/${(uri++).toString(36)}`;
  switch (kind) {
    case 'ratings':
      return [date, title, year ?? '', link, rating];
    case 'watched':
    case 'watchlist':
      return [date, title, year ?? '', link];
    case 'reviews':
      return [date, title, year ?? '', link, rating, '', review, '', watched];
    default:
      return [date, title, year ?? '', link, rating, '', '', watched];
  }
}

/** An IMDb ratings row: `rating` 1–10. */
export function imdbRow({ imdbId, rating, date = '2023-05-14', title, original = title, type = 'Movie', year }) {
  return [`tt${String(imdbId).padStart(7, '0')}`, rating, date, title, original, `https://www.imdb.com/title/tt${String(imdbId).padStart(7, '0')}/`, type, '7.5', '110', year ?? '', 'Drama', '1000', `${year}-01-01`, 'Someone'];
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * A zip archive of `files` ({name: text or bytes}); deflated unless `store`. `lie` makes every
 * entry declare a smaller unpacked size than it has (what a zip bomb does).
 */
export function zip(files, { store = false, lie = false } = {}) {
  const enc = new TextEncoder();
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const [name, content] of Object.entries(files)) {
    const data = typeof content === 'string' ? enc.encode(content) : content;
    const packed = store ? data : new Uint8Array(deflateRawSync(data));
    const nameBytes = enc.encode(name);
    const crc = crc32(data);
    const size = lie ? Math.max(1, data.length >> 4) : data.length;
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint16(8, store ? 0 : 8, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, packed.length, true);
    local.setUint32(22, size, true);
    local.setUint16(26, nameBytes.length, true);
    locals.push(new Uint8Array(local.buffer), nameBytes, packed);
    const central = new DataView(new ArrayBuffer(46));
    central.setUint32(0, 0x02014b50, true);
    central.setUint16(4, 20, true);
    central.setUint16(6, 20, true);
    central.setUint16(10, store ? 0 : 8, true);
    central.setUint32(16, crc, true);
    central.setUint32(20, packed.length, true);
    central.setUint32(24, size, true);
    central.setUint16(28, nameBytes.length, true);
    central.setUint32(42, offset, true);
    centrals.push(new Uint8Array(central.buffer), nameBytes);
    offset += 30 + nameBytes.length + packed.length;
  }
  const dirSize = centrals.reduce((n, c) => n + c.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, Object.keys(files).length, true);
  end.setUint16(10, Object.keys(files).length, true);
  end.setUint32(12, dirSize, true);
  end.setUint32(16, offset, true);
  const parts = [...locals, ...centrals, new Uint8Array(end.buffer)];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A Letterboxd export zip as the service lays it out, extra files and folders included. */
export function letterboxdExport({ ratings = [], watched = [], watchlist = [], reviews = [], diary = [] }) {
  return zip({
    'profile.csv': csv(['Date Joined', 'Username', 'Given Name'], [['2020-01-01', 'someone', 'Some']]),
    'ratings.csv': csv(LETTERBOXD.ratings, ratings.map((r) => letterboxdRow('ratings', r))),
    'watched.csv': csv(LETTERBOXD.watched, watched.map((r) => letterboxdRow('watched', r))),
    'watchlist.csv': csv(LETTERBOXD.watchlist, watchlist.map((r) => letterboxdRow('watchlist', r))),
    'reviews.csv': csv(LETTERBOXD.reviews, reviews.map((r) => letterboxdRow('reviews', r))),
    'diary.csv': csv(LETTERBOXD.diary, diary.map((r) => letterboxdRow('diary', r))),
    'comments.csv': csv(['Date', 'Content', 'Comment'], []),
    'lists/favourites.csv': 'Letterboxd list export v7\r\nDate,Name,Tags,URL,Description\r\n',
    'likes/films.csv': csv(LETTERBOXD.watched, watched.map((r) => letterboxdRow('watched', r))),
  });
}
