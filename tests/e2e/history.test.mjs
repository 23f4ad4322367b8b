// Import and export of a visitor's history (www/js/history.js) in Node, against the committed
// model through the same wasm package the page loads: the services' file layouts, broken
// files, matching, the preview's plan, undo, and the match rate on a 1,000-row Letterboxd file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ROOT } from './harness.mjs';
import { IMDB_RATINGS, IMDB_WATCHLIST, LETTERBOXD, csv, imdbRow, letterboxdExport, letterboxdRow, zip } from './fixtures.mjs';
import { initSync, Recommender } from '../../www/pkg/movie_recs.js';
import { ImportError, applyImport, detectFormat, imdbCsv, letterboxdCsv, parseCsv, planImport, readHistory, recommendationsCsv, undoImport } from '../../www/js/history.js';
import { RatingStore } from '../../www/js/storage.js';
import { MarkStore } from '../../www/js/marks.js';

initSync({ module: readFileSync(`${ROOT}/www/pkg/movie_recs_bg.wasm`) });
const rec = new Recommender(readFileSync(`${ROOT}/www/model.bin`));
const byTitle = (title, year) => rec.search(`${title} ${year ?? ''}`, 20).find((m) => m.title === title && (year === undefined || m.year === year));
const HEAT = byTitle('Heat', 1995);
const AMELIE = rec.search('amelie 2001', 5)[0];
const MATRIX = byTitle('The Matrix', 1999);
const TOY = byTitle('Toy Story', 1995);
const file = (name, text) => ({ name, bytes: new TextEncoder().encode(text) });
const stores = () => ({ ratings: new RatingStore('test:ratings'), marks: new MarkStore('test:marks') });

test('CSV: quotes, commas, line breaks, BOM and CRLF; an unclosed quote names its line', () => {
  const text = '\ufeffDate,Name,Year,Letterboxd URI,Rating\r\n2024-01-02,"Crouching Tiger, Hidden Dragon",2000,https://boxd.it/a,4\r\n\r\n2024-01-03,"Say ""Cheese""\nPart 2",1999,https://boxd.it/b,3.5\r\n2024-01-04,Amélie,2001,https://boxd.it/c,5';
  const { header, rows } = parseCsv(text);
  assert.deepEqual(header, LETTERBOXD.ratings);
  assert.deepEqual(rows.map((r) => [r.line, r.cells[1]]), [[2, 'Crouching Tiger, Hidden Dragon'], [4, 'Say "Cheese"\nPart 2'], [6, 'Amélie']]);
  assert.throws(() => parseCsv('a,b\r\n1,2\r\n3,"open\r\n4,5\r\n', 'x.csv'), (e) => e instanceof ImportError && /x\.csv, line 3: a quoted field is never closed/.test(e.message));
  assert.throws(() => parseCsv('', 'empty.csv'), /empty\.csv is empty/);
});

test('formats are told apart by their columns (and, for watched and watchlist, the file name)', () => {
  assert.equal(detectFormat(LETTERBOXD.ratings), 'letterboxd-ratings');
  assert.equal(detectFormat(LETTERBOXD.watched, 'watched.csv'), 'letterboxd-watched');
  assert.equal(detectFormat(LETTERBOXD.watchlist, 'export/watchlist.csv'), 'letterboxd-watchlist');
  assert.equal(detectFormat(LETTERBOXD.reviews), 'letterboxd-diary');
  assert.equal(detectFormat(LETTERBOXD.diary), 'letterboxd-diary');
  assert.equal(detectFormat(IMDB_RATINGS), 'imdb-ratings');
  assert.equal(detectFormat(IMDB_WATCHLIST), 'imdb-watchlist');
  assert.equal(detectFormat(['movie_id', 'imdb_id', 'tmdb_id', 'rating', 'average_rating', 'title']), 'movielens-ratings');
  assert.equal(detectFormat(['userId', 'movieId', 'rating', 'timestamp']), 'movielens-ratings');
  assert.equal(detectFormat(['imdbID', 'tmdbID', 'Title', 'Year', 'Rating', 'WatchedDate']), 'letterboxd-import');
  assert.equal(detectFormat(['Date Joined', 'Username']), null);
});

test('a Letterboxd export zip: every history file read, the rest left out, matched by title and year', async () => {
  const bytes = letterboxdExport({
    ratings: [
      { title: HEAT.title, year: HEAT.year, rating: '4.5', date: '2020-03-01' },
      { title: 'Amélie', year: 2001, rating: '5', date: '2020-03-02' },
      { title: 'A Film Nobody Made', year: 2019, rating: '3', date: '2020-03-03' },
    ],
    watched: [{ title: HEAT.title, year: HEAT.year }, { title: TOY.title, year: TOY.year }],
    watchlist: [{ title: MATRIX.title, year: MATRIX.year + 1 }],
    // A rewatch: the diary's later entry is what counts.
    diary: [{ title: 'Amélie', year: 2001, rating: '4', date: '2019-01-01', watched: '2019-01-01' }],
  });
  const history = await readHistory([{ name: 'letterboxd-someone.zip', bytes }]);
  assert.deepEqual(history.files.map((f) => f.name.split(': ')[1]).sort(), ['diary.csv', 'ratings.csv', 'reviews.csv', 'watched.csv', 'watchlist.csv']);
  assert.deepEqual(history.ignored.sort(), ['comments.csv', 'likes/films.csv', 'lists/favourites.csv', 'profile.csv']);
  const { ratings, marks } = stores();
  const plan = planImport(rec, history, ratings, marks);
  assert.deepEqual(plan.ratings.map((r) => [r.movieId, r.rating]), [[HEAT.movieId, 4.5], [AMELIE.movieId, 5]], 'oldest first, the latest Amélie rating');
  assert.equal(plan.ratings[0].ratedAt, Date.parse('2020-03-01T12:00:00Z'));
  assert.deepEqual(plan.marks.map((m) => [m.movieId, m.mark]).sort(), [[MATRIX.movieId, 'watchlist'], [TOY.movieId, 'seen']].sort());
  assert.equal(plan.unmatchedCount, 1);
  assert.match(plan.unmatched[0].reason, /no movie titled “A Film Nobody Made”/);
  assert.equal(plan.unmatched[0].line, 4);
  // Saved, it can be undone in one step.
  const undo = applyImport(plan, ratings, marks);
  assert.equal(ratings.get(HEAT.movieId), 4.5);
  assert.equal(marks.get(TOY.movieId), 'seen');
  undoImport(undo, ratings, marks);
  assert.equal(ratings.list().length, 0);
  assert.equal(marks.list().length, 0);
});

test('conflicts with saved ratings: the newer wins, an undated file never overwrites, undo keeps later changes', async () => {
  const { ratings, marks } = stores();
  ratings.setMany([{ movieId: HEAT.movieId, rating: 2, ratedAt: Date.parse('2021-06-01') }, { movieId: TOY.movieId, rating: 3, ratedAt: Date.parse('2021-06-01') }]);
  ratings.set(MATRIX.movieId, 5);
  const text = csv(IMDB_RATINGS, [
    imdbRow({ imdbId: HEAT.imdbId, rating: 9, date: '2022-01-01', title: 'Heat', year: 1995 }),
    imdbRow({ imdbId: TOY.imdbId, rating: 8, date: '2020-01-01', title: 'Toy Story', year: 1995 }),
    imdbRow({ imdbId: MATRIX.imdbId, rating: 8, date: '', title: 'The Matrix', year: 1999 }),
    imdbRow({ imdbId: 9999999, rating: 7, title: 'Breaking Point', type: 'TV Series', year: 2008 }),
    imdbRow({ imdbId: AMELIE.imdbId, rating: 11, title: 'Amélie', year: 2001 }),
  ]);
  const plan = planImport(rec, await readHistory([file('ratings.csv', text)]), ratings, marks);
  const conflict = (id) => plan.conflicts.find((c) => c.movieId === id);
  assert.equal(conflict(HEAT.movieId).keep, 'file');
  assert.equal(conflict(TOY.movieId).keep, 'saved');
  assert.match(conflict(MATRIX.movieId).why, /no date/);
  assert.deepEqual(plan.ratings.map((r) => [r.movieId, r.rating]), [[HEAT.movieId, 4.5]], 'IMDb 9 of 10 is 4.5 stars');
  assert.deepEqual(plan.unmatched.map((u) => [u.line, u.reason]), [[5, 'a TV Series: this catalogue has movies only'], [6, 'rating “11” is not 1–10']]);
  const undo = applyImport(plan, ratings, marks);
  assert.equal(ratings.get(HEAT.movieId), 4.5);
  ratings.set(TOY.movieId, 1); // a change after the import is the visitor's own
  undoImport(undo, ratings, marks);
  assert.equal(ratings.get(HEAT.movieId), 2, 'the import is undone');
  assert.equal(ratings.get(TOY.movieId), 1, 'what the visitor changed since stays');
  assert.equal(ratings.get(MATRIX.movieId), 5);
});

test('rows without a year match only a title that names one movie', async () => {
  const rows = [['2020-01-01', 'Fargo', '', 'https://boxd.it/x', '4'], ['2020-01-01', 'Hamlet', '', 'https://boxd.it/y', '4'], ['2020-01-01', 'Heat', '', 'https://boxd.it/z', '4']];
  const plan = planImport(rec, await readHistory([file('ratings.csv', csv(LETTERBOXD.ratings, rows, { eol: '\n' }))]), new RatingStore('t6'), new MarkStore('t6m'));
  assert.deepEqual(plan.ratings.map((r) => r.movieId).sort((a, b) => a - b), [HEAT.movieId, byTitle('Fargo', 1996).movieId].sort((a, b) => a - b), '"Heat" as written is the 1995 film, not "The Heat"');
  assert.match(plan.unmatched[0].reason, /5 movies are titled “Hamlet” \(1948, 1964, 1990, 1996, 2000\); the row gives no year/);
});

test('broken and hostile files: a clear message, nothing saved', async () => {
  const bad = async (files, pattern) => assert.rejects(readHistory(files), (e) => e instanceof ImportError && pattern.test(e.message), String(pattern));
  await bad([file('notes.csv', 'Date Joined,Username\r\n2020-01-01,x\r\n')], /notes\.csv, line 1: the columns \(Date Joined, Username\) are not/);
  await bad([file('ratings.csv', `${LETTERBOXD.ratings.join(',')}\r\n2020-01-01,"Heat,1995,u,4\r\n`)], /line 2: a quoted field is never closed/);
  const whole = letterboxdExport({ ratings: [{ title: 'Heat', year: 1995, rating: '4' }] });
  await bad([{ name: 'cut.zip', bytes: whole.subarray(0, whole.length - 30) }], /cut\.zip is not a readable zip archive/);
  await bad([{ name: 'bomb.zip', bytes: zip({ 'ratings.csv': csv(LETTERBOXD.ratings, []) + 'x'.repeat(100_000) }, { lie: true }) }], /unpacks to more than/);
  await bad([file('many.csv', csv(['userId', 'movieId', 'rating', 'timestamp'], [[1, 1, 4, 0], [2, 2, 5, 0]]))], /2 different users/);
  await bad([file('x.json', '{"ratings": [')], /x\.json is not valid JSON/);
  // A mark with an id out of range is reported, not thrown (found by the mutants, seed 1796330782).
  const marked = planImport(rec, await readHistory([file('m.json', JSON.stringify({ version: 1, ratings: [], marks: [{ movieId: -12, mark: 'seen' }, { movieId: 2 ** 40, mark: 'seen' }] }))]), new RatingStore('t7'), new MarkStore('t7m'));
  assert.equal(marked.unmatchedCount, 2);
  // A stored (uncompressed) zip reads as well as a deflated one.
  const stored = await readHistory([{ name: 's.zip', bytes: zip({ 'ratings.csv': csv(LETTERBOXD.ratings, [letterboxdRow('ratings', { title: 'Heat', year: 1995, rating: '4' })]) }, { store: true }) }]);
  assert.equal(stored.entries.length, 1);
});

test('exports read back: Letterboxd import CSV, IMDb CSV, the recommendations list', async () => {
  const { ratings, marks } = stores();
  ratings.setMany([{ movieId: HEAT.movieId, rating: 4.5, ratedAt: Date.parse('2020-01-01') }, { movieId: AMELIE.movieId, rating: 0.5, ratedAt: Date.parse('2020-02-01') }]);
  marks.set(TOY.movieId, 'seen');
  const lb = letterboxdCsv(ratings.list(), marks.list(), (id) => rec.movie(id));
  assert.match(lb.split('\r\n')[0], /^imdbID,tmdbID,Title,Year,Rating,WatchedDate$/);
  assert.ok(lb.includes(`tt${String(HEAT.imdbId).padStart(7, '0')},${HEAT.tmdbId},Heat,1995,4.5,2020-01-01`), lb);
  const im = imdbCsv(ratings.list(), (id) => rec.movie(id));
  assert.ok(im.includes(',1,2020-02-01,'), 'half a star is IMDb 1');
  for (const [name, text] of [['letterboxd.csv', lb], ['imdb.csv', im]]) {
    const plan = planImport(rec, await readHistory([file(name, text)]), new RatingStore('t2'), new MarkStore('t2m'));
    assert.equal(plan.unmatchedCount, 0, name);
    assert.deepEqual(plan.ratings.map((r) => r.movieId).sort(), [HEAT.movieId, AMELIE.movieId].sort(), name);
  }
  const list = recommendationsCsv(rec.recommend([{ movieId: HEAT.movieId, rating: 5 }], { count: 5 }).items);
  const plan = planImport(rec, await readHistory([file('list.csv', list)]), new RatingStore('t3'), new MarkStore('t3m'));
  assert.equal(plan.marks.length, 5, 'a list reads back as movies to watch');
  assert.ok(plan.marks.every((m) => m.mark === 'watchlist'));
});

test('a 10,000-row file, duplicates and all, is read and matched in one pass', async () => {
  const movies = rec.popular(2000);
  const rows = [];
  for (let i = 0; i < 10_000; i++) {
    const m = movies[i % movies.length];
    rows.push(letterboxdRow('ratings', { title: m.title, year: m.year, rating: String(0.5 + (i % 10) / 2), date: `20${10 + (i % 12)}-01-01` }));
  }
  const text = csv(LETTERBOXD.ratings, rows);
  const t = performance.now();
  const plan = planImport(rec, await readHistory([file('ratings.csv', text)]), new RatingStore('t4'), new MarkStore('t4m'));
  console.log(`10,000-row Letterboxd ratings.csv (${(text.length / 1024).toFixed(0)} KiB): read, matched and planned in ${(performance.now() - t).toFixed(0)} ms`);
  assert.equal(plan.rows, 10_000);
  assert.equal(plan.matched + plan.unmatchedCount, 10_000);
  assert.equal(plan.ratings.length, new Set(plan.ratings.map((r) => r.movieId)).size, 'one rating a movie');
});

test('match rate on a 1,000-row Letterboxd file written from the catalogue with Letterboxd’s conventions', async () => {
  // Letterboxd shows titles with the article in front ("The Matrix"), without MovieLens's
  // alternative titles in parentheses, sometimes in the original language, and its year may
  // be the festival year, one off.
  const pool = rec.popular(4000);
  const rows = [];
  const truth = [];
  const changed = { original: 0, and: 0, subtitle: 0, year: 0 };
  for (let i = 0; rows.length < 1000 && i < pool.length; i += 3) {
    const m = pool[i];
    const alternatives = [...m.title.matchAll(/\(([^()]+)\)/g)].map((x) => x[1].replace(/^a\.k\.a\. /, ''));
    let title = m.title.replace(/ \(.*$/, '');
    if (alternatives.length && i % 4 === 0 && ++changed.original) title = alternatives[0].replace(/^(.*), (The|Le|La|Les|L'|Il|Der|Die|Das|El)$/, (_, stem, a) => `${a}${a.endsWith("'") ? '' : ' '}${stem}`);
    if (i % 7 === 0 && title.includes(' & ') && ++changed.and) title = title.replace(/ & /, ' and ');
    if (i % 11 === 0 && title.includes(': ') && ++changed.subtitle) title = title.slice(0, title.indexOf(': ')); // "Star Wars"
    const year = m.year && i % 20 === 0 && ++changed.year ? m.year + 1 : m.year;
    rows.push(letterboxdRow('ratings', { title, year, rating: '4' }));
    truth.push(m.movieId);
  }
  const plan = planImport(rec, await readHistory([file('ratings.csv', csv(LETTERBOXD.ratings, rows))]), new RatingStore('t5'), new MarkStore('t5m'));
  const got = new Map(plan.ratings.map((r) => [r.movieId, r]));
  const right = truth.filter((id) => got.has(id)).length;
  console.log(`match rate on ${rows.length} Letterboxd rows (${changed.original} in another language, ${changed.and} with “and” for “&”, ${changed.subtitle} without the subtitle, ${changed.year} a year off): ${((100 * plan.matched) / rows.length).toFixed(1)}% matched, ${((100 * right) / rows.length).toFixed(1)}% to the right movie; unmatched e.g. ${plan.unmatched.slice(0, 3).map((u) => `${u.label}: ${u.reason}`).join('; ')}`);
  assert.ok(right / rows.length >= 0.95, `${right} of ${rows.length}`);
});

test('seeded mutants of every import format: an ImportError or a plan, never anything else', async () => {
  // A small xorshift, seeded, so a failure names a case that reproduces.
  let state = Number(process.env.MOVIE_RECS_FUZZ_SEED ?? 7) >>> 0 || 7;
  const next = () => ((state ^= state << 13), (state ^= state >>> 17), (state ^= state << 5), state >>> 0);
  const below = (n) => next() % n;
  const enc = new TextEncoder();
  const seeds = [
    ['letterboxd.zip', letterboxdExport({ ratings: [{ title: 'Heat', year: 1995, rating: '4.5' }, { title: 'Amélie', year: 2001, rating: '5' }], watched: [{ title: 'Fargo', year: 1996 }], watchlist: [{ title: 'Alien', year: 1979 }] })],
    ['ratings.csv', enc.encode(csv(IMDB_RATINGS, [imdbRow({ imdbId: 113277, rating: 9, title: 'Heat', year: 1995 }), imdbRow({ imdbId: 133093, rating: 10, title: 'The Matrix', year: 1999 })], { bom: true }))],
    ['ratings.csv', enc.encode(csv(LETTERBOXD.ratings, [letterboxdRow('ratings', { title: 'Crouching Tiger, Hidden Dragon', year: 2000, rating: '4' })]))],
    ['export.json', enc.encode(JSON.stringify({ version: 1, ratings: [{ movieId: 1, rating: 4, ratedAt: 5 }], marks: [{ movieId: 2, mark: 'seen', markedAt: 1 }] }))],
    ['movielens.csv', enc.encode(csv(['movie_id', 'imdb_id', 'tmdb_id', 'rating', 'average_rating', 'title'], [[1, 114709, 862, 4, 3.9, 'Toy Story (1995)']]))],
  ];
  const pieces = ['"', ',', '\r\n', '\n', '\ufeff', 'PK\u0003\u0004', '\u0000', 'tt', '9'.repeat(12), 'NaN', '-1', '1e309', '{', '[', '💥', 'Letterboxd URI', 'Const'];
  const cases = Number(process.env.MOVIE_RECS_FUZZ_CASES ?? 3000);
  const t = performance.now();
  let plans = 0;
  let errors = 0;
  for (let i = 0; i < cases; i++) {
    const [name, seed] = seeds[below(seeds.length)];
    let bytes = Uint8Array.from(seed);
    for (let m = 0, n = 1 + below(4); m < n; m++) {
      const at = below(bytes.length + 1);
      const op = below(4);
      if (op === 0) bytes[Math.min(at, bytes.length - 1)] = below(256);
      else if (op === 1) bytes = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + 1 + below(40))]);
      else if (op === 2) bytes = Uint8Array.from([...bytes.subarray(0, at), ...enc.encode(pieces[below(pieces.length)]), ...bytes.subarray(at)]);
      else bytes = bytes.subarray(0, at);
    }
    try {
      const plan = planImport(rec, await readHistory([{ name, bytes }]), new RatingStore(`f${i}`), new MarkStore(`f${i}m`));
      assert.equal(plan.matched + plan.unmatchedCount >= 0, true);
      plans++;
    } catch (err) {
      if (!(err instanceof ImportError)) throw new Error(`case ${i} (${name}, seed ${process.env.MOVIE_RECS_FUZZ_SEED ?? 7}): ${err.stack}`);
      errors++;
    }
  }
  const s = (performance.now() - t) / 1000;
  console.log(`import mutants: ${cases} in ${s.toFixed(1)} s (${(cases / s).toFixed(0)} a second): ${plans} previews, ${errors} clear errors, nothing else`);
});
