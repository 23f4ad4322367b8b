// End-to-end: bringing a history in (Letterboxd zip, IMDb CSV) on the page and in the widget,
// the preview, confirm and undo; seen / not interested / want to watch; links out; reasons with
// a disliked movie; the star control's keyboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IMDB_RATINGS, csv, imdbRow, letterboxdExport } from './fixtures.mjs';
import { openPage, useBrowser } from './harness.mjs';

const env = useBrowser();
const ready = (page) => page.waitForSelector('html[data-complete="true"]');
const ids = (page, list) => page.$$eval(`#${list} > li`, (lis) => lis.map((li) => Number(li.dataset.movieId)));
const saved = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('movie-recs:ratings') ?? '{"ratings":[]}').ratings);

test('a Letterboxd export zip: preview, confirm, recommendations from it, one undo', async () => {
  const { page, record, context } = await openPage(env.browser);
  await page.goto(env.server.origin + '/');
  await ready(page);
  // One rating saved before the import: it must survive the import and its undo.
  await page.evaluate(() => localStorage.setItem('movie-recs:ratings', JSON.stringify({ version: 1, ratings: [{ movieId: 1, rating: 2, ratedAt: Date.parse('2024-06-01') }] })));
  await page.reload();
  await ready(page);
  const zip = letterboxdExport({
    ratings: [
      { title: 'Heat', year: 1995, rating: '4.5', date: '2019-02-01' },
      { title: 'Amélie', year: 2001, rating: '5', date: '2019-02-02' },
      { title: 'The Matrix', year: 1999, rating: '4', date: '2019-02-03' },
      { title: 'Toy Story', year: 1995, rating: '5', date: '2019-02-04' },
      { title: 'A Film Nobody Made', year: 2019, rating: '3', date: '2019-02-05' },
    ],
    watched: [{ title: 'Fargo', year: 1996 }],
    watchlist: [{ title: 'Seven Samurai', year: 1954 }],
  });
  const t = Date.now();
  await page.setInputFiles('#import', { name: 'letterboxd-export.zip', mimeType: 'application/zip', buffer: Buffer.from(zip) });
  await page.waitForSelector('#import-preview .preview');
  const previewMs = Date.now() - t;
  assert.match(await page.textContent('#import-preview .summary'), /6 of 7 rows matched a movie, 3 new ratings, 0 updated, 1 already as saved, 1 “Seen it”, 1 “Want to watch”/);
  assert.match(await page.textContent('#import-preview .unmatched'), /ratings\.csv, line 6: A Film Nobody Made \(2019\) — no movie titled “A Film Nobody Made”/);
  assert.match(await page.textContent('#import-preview .conflicts'), /Toy Story: saved 2★, file 5★ — keeping your 2★ \(you rated it here more recently\)/);
  assert.match(await page.textContent('#import-preview'), /Not history, left out: .*profile\.csv/);
  assert.deepEqual((await saved(page)).map((r) => r.movieId), [1], 'nothing is saved before confirming');
  await page.click('#import-preview button.confirm');
  await page.waitForSelector('.notice >> text=/Imported 3 ratings and 2 marks/');
  assert.equal(await page.textContent('#rating-count'), '(4)');
  assert.match(await page.textContent('#recs-note'), /Based on your 4 ratings/);
  // The recency weighting reads the file's dates: the saved 2024 rating is the newest.
  assert.deepEqual((await saved(page)).map((r) => r.movieId).at(-1), 1);
  const recs = await ids(page, 'recommendations');
  const marked = await ids(page, 'my-marks');
  assert.equal(marked.length, 2);
  for (const id of marked) assert.ok(!recs.includes(id), `marked movie ${id} was recommended`);
  console.log(`Letterboxd zip of 7 rows: preview shown ${previewMs} ms after the file was given`);
  // One undo puts back exactly what was there.
  await page.click('.notice button >> text=Undo import');
  assert.deepEqual((await saved(page)).map((r) => [r.movieId, r.rating]), [[1, 2]]);
  assert.equal((await ids(page, 'my-marks')).length, 0);
  assert.deepEqual(record.errors, []);
  await context.close();
});

test('a 2,000-row IMDb file is previewed and recommended from within a second or so', async () => {
  const { page, context } = await openPage(env.browser);
  await page.goto(env.server.origin + '/');
  await ready(page);
  // The modules themselves (the page runs its bundle): the ids come with the links section.
  const movies = await page.evaluate(async () => {
    const { whenDetails } = await import('/js/recommender.js');
    return (await whenDetails()).popular(2000).filter((m) => m.imdbId);
  });
  assert.ok(movies.length > 1900, `${movies.length} popular movies with an IMDb id`);
  const rows = movies.map((m, i) => imdbRow({ imdbId: m.imdbId, rating: 1 + (i % 10), title: m.title, year: m.year, date: `2015-01-${String(1 + (i % 28)).padStart(2, '0')}` }));
  const text = csv(IMDB_RATINGS, rows, { bom: true });
  let t = Date.now();
  await page.setInputFiles('#import', { name: 'ratings.csv', mimeType: 'text/csv', buffer: Buffer.from(text) });
  await page.waitForSelector('#import-preview .preview');
  const preview = Date.now() - t;
  assert.match(await page.textContent('#import-preview .summary'), new RegExp(`${rows.length} of ${rows.length} rows matched a movie, ${rows.length} new ratings`));
  t = Date.now();
  await page.click('#import-preview button.confirm');
  await page.waitForSelector(`#recs-note >> text=/Based on your ${rows.length} ratings/`);
  console.log(`IMDb ratings.csv of ${rows.length} rows (${(text.length / 1024).toFixed(0)} KiB): preview in ${preview} ms, confirmed and recommended in ${Date.now() - t} ms`);
  await context.close();
});

test('a malformed file names its line, and nothing saved is lost', async () => {
  const { page, context } = await openPage(env.browser);
  await page.goto(env.server.origin + '/');
  await ready(page);
  await page.evaluate(() => localStorage.setItem('movie-recs:ratings', JSON.stringify({ version: 1, ratings: [{ movieId: 6, rating: 4, ratedAt: 1 }] })));
  await page.reload();
  await ready(page);
  const broken = `${IMDB_RATINGS.join(',')}\r\n${imdbRow({ imdbId: 113277, rating: 8, title: 'Heat', year: 1995 }).join(',')}\r\ntt0000001,7,2020-01-01,"Unclosed,\r\n`;
  await page.setInputFiles('#import', { name: 'imdb.csv', mimeType: 'text/csv', buffer: Buffer.from(broken) });
  await page.waitForSelector('.notice.error');
  assert.match(await page.textContent('.notice.error'), /Nothing was imported: imdb\.csv, line 3: a quoted field is never closed/);
  await page.setInputFiles('#import', { name: 'photo.csv', mimeType: 'text/csv', buffer: Buffer.from([0xff, 0xd8, 0xff, 0, 1, 2]) });
  await page.waitForSelector('.notice.error >> text=/photo\\.csv is not a text file/');
  assert.deepEqual((await saved(page)).map((r) => [r.movieId, r.rating]), [[6, 4]]);
  await context.close();
});

test('seen, not interested and want to watch leave the recommendations, persist, and come back when unmarked', async () => {
  const { page, context } = await openPage(env.browser);
  await page.goto(env.server.origin + '/');
  await ready(page);
  const first = (await ids(page, 'recommendations'))[0];
  await page.locator(`#recommendations > li[data-movie-id="${first}"] button.mark[data-mark="notInterested"]`).click();
  assert.ok(!(await ids(page, 'recommendations')).includes(first));
  assert.equal((await ids(page, 'recommendations')).length, 12, 'the list fills from further down');
  assert.deepEqual(await ids(page, 'my-marks'), [first]);
  await page.reload();
  await ready(page);
  assert.ok(!(await ids(page, 'recommendations')).includes(first), 'the mark is stored');
  assert.equal(await page.getAttribute(`#my-marks > li[data-movie-id="${first}"] button.mark[data-mark="notInterested"]`, 'aria-pressed'), 'true');
  await page.click(`#my-marks > li[data-movie-id="${first}"] button.mark[data-mark="notInterested"]`);
  assert.equal((await ids(page, 'recommendations'))[0], first, 'unmarked, it is back');
  await context.close();
});

test('links out carry only the movie id; reasons never present a disliked movie as liked', async () => {
  const { page, context } = await openPage(env.browser);
  await page.goto(env.server.origin + '/');
  await ready(page);
  const links = await page.$$eval('#recommendations > li:first-child .links a', (as) => as.map((a) => [a.textContent, a.href, a.rel, a.target, a.referrerPolicy]));
  assert.deepEqual(links.map((l) => l[0]), ['IMDb', 'TMDB', 'Letterboxd']);
  for (const [, href, rel, target, policy] of links) {
    const u = new URL(href);
    assert.ok(['www.imdb.com', 'www.themoviedb.org', 'letterboxd.com'].includes(u.hostname), href);
    assert.equal(u.search + u.hash, '', `no query string: ${href}`);
    assert.match(href, /\/(tt\d{7,}|\d+)\/?$/);
    assert.equal(rel, 'noopener noreferrer');
    assert.equal(target, '_blank');
    assert.equal(policy, 'no-referrer');
  }
  // Heat 4.5, Amélie 5, Toy Story 2: Toy Story is never given as a reason for liking.
  await page.evaluate(async () => {
    const { loadRecommender } = await import('/js/recommender.js');
    const r = await loadRecommender();
    const id = (q, t) => r.search(q, 10).find((m) => m.title.startsWith(t)).movieId;
    const ratings = [[id('heat 1995', 'Heat'), 4.5], [id('amelie', 'Amelie'), 5], [id('toy story 1995', 'Toy Story'), 2]];
    localStorage.setItem('movie-recs:ratings', JSON.stringify({ version: 1, ratings: ratings.map(([movieId, rating], i) => ({ movieId, rating, ratedAt: i + 1 })) }));
  });
  await page.reload();
  await ready(page);
  for (const method of ['hybrid', 'mf', 'itemKnn', 'ease', 'neural']) {
    await page.selectOption('#method', method);
    const reasons = await page.$$eval('#recommendations .reason', (els) => els.map((e) => e.textContent));
    assert.ok(reasons.every((r) => !r.includes('Toy Story')), `${method}: ${reasons.join(' | ')}`);
    assert.ok(reasons.some((r) => /Because you liked (Heat|Amelie)/.test(r)), `${method}: ${reasons.join(' | ')}`);
  }
  // A visitor who rated Heat 3 and marked Alien and Aliens seen: both stay off the list, and
  // where they explain a pick they are movies watched, never ratings.
  const seen = await page.evaluate(async () => {
    const { loadRecommender } = await import('/js/recommender.js');
    const r = await loadRecommender();
    const id = (q, t) => r.search(q, 10).find((m) => m.title.startsWith(t)).movieId;
    const seen = [id('alien 1979', 'Alien'), id('aliens 1986', 'Aliens')];
    localStorage.setItem('movie-recs:ratings', JSON.stringify({ version: 1, ratings: [{ movieId: id('heat 1995', 'Heat'), rating: 3, ratedAt: 1 }] }));
    localStorage.setItem('movie-recs:marks', JSON.stringify({ version: 1, marks: seen.map((movieId, i) => ({ movieId, mark: 'seen', markedAt: i + 2 })) }));
    return seen.map(String);
  });
  await page.reload();
  await ready(page);
  await page.selectOption('#method', 'hybrid');
  const listed = await page.$$eval('#recommendations > li', (els) => els.map((e) => e.dataset.movieId));
  const reasons = await page.$$eval('#recommendations .reason', (els) => els.map((e) => e.textContent));
  assert.ok(listed.length > 0 && listed.every((l) => !seen.includes(l)), listed.join(' | '));
  assert.ok(reasons.some((r) => /watched Aliens?\b/.test(r)), reasons.join(' | '));
  assert.ok(reasons.every((r) => !/Aliens? \d/.test(r)), `a seen movie cited with stars: ${reasons.join(' | ')}`);
  await context.close();
});

test('the star control is the WAI-ARIA rating slider: 0 is not rated, Page Up/Down by a star, "3 of 5 stars"', async () => {
  const { page, context } = await openPage(env.browser);
  await page.goto(env.server.origin + '/');
  await ready(page);
  // A search result: it stays listed once rated (a starter question is replaced by the next).
  await page.fill('#search', 'toy story');
  const control = page.locator('#search-results > li:first-child .stars');
  await control.waitFor();
  const state = async () => [await control.getAttribute('aria-valuemin'), await control.getAttribute('aria-valuemax'), await control.getAttribute('aria-valuenow'), await control.getAttribute('aria-valuetext')];
  assert.deepEqual(await state(), ['0', '5', '0', 'not rated']);
  await control.focus();
  await page.keyboard.press('PageUp');
  await page.keyboard.press('PageUp');
  await page.keyboard.press('PageUp');
  assert.deepEqual(await state(), ['0', '5', '3', '3 of 5 stars']);
  await page.keyboard.press('PageDown');
  await page.keyboard.press('ArrowRight');
  assert.deepEqual(await state(), ['0', '5', '2.5', '2.5 of 5 stars']);
  await page.keyboard.press('End');
  await page.keyboard.press('PageUp');
  assert.equal((await state())[2], '5', 'Page Up stops at 5');
  await page.keyboard.press('Delete');
  assert.deepEqual(await state(), ['0', '5', '0', 'not rated']);
  await context.close();
});
