// End-to-end: the page's first minute (which movies it asks, "haven't seen it") and the
// familiar-to-discover control, in headless Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, useBrowser } from './harness.mjs';

const env = useBrowser();
const ready = (page) => page.waitForSelector('html[data-complete="true"]');
const ids = (page, list) => page.$$eval(`#${list} > li`, (lis) => lis.map((li) => Number(li.dataset.movieId)));

test('the starter list moves on after a rating and after "haven\'t seen it", which is kept', async () => {
  const { page, record } = await openPage(env.browser);
  await page.goto(env.server.origin + '/');
  await ready(page);
  const first = await ids(page, 'starter');
  assert.equal(first.length, 8);

  // Rate the first question: it leaves the list, which still asks eight.
  await page.locator('#starter > li').first().locator('.stars').focus();
  await page.keyboard.press('4');
  const afterRating = await ids(page, 'starter');
  assert.equal(afterRating.length, 8);
  assert.ok(!afterRating.includes(first[0]), 'a rated movie is asked again');
  assert.equal(await page.textContent('#rating-count'), '(1)');

  // "Haven't seen it" on the next: gone from the questions, not rated, not hidden from recommendations.
  const skipped = afterRating[0];
  await page.locator(`#starter > li[data-movie-id="${skipped}"] button.unseen`).click();
  const afterSkip = await ids(page, 'starter');
  assert.equal(afterSkip.length, 8);
  assert.ok(!afterSkip.includes(skipped), 'an unseen movie is asked again');
  assert.equal(await page.textContent('#rating-count'), '(1)', 'an unseen answer is not a rating');
  assert.equal(await page.$$eval('#marks:not([hidden]) li', (l) => l.length), 0, 'an unseen answer is not a mark');

  // Kept across a reload; a tampered list is ignored, never a crash.
  await page.reload();
  await ready(page);
  assert.deepEqual(await ids(page, 'starter'), afterSkip);
  await page.evaluate(() => localStorage.setItem('movie-recs:ratings:unseen', '{"not": "a list"'));
  await page.reload();
  await ready(page);
  assert.equal((await ids(page, 'starter')).length, 8);
  assert.deepEqual(record.errors, []);
});

test('the familiar-to-discover control re-ranks, and familiar is the method\'s own ranking', async () => {
  const { page, record } = await openPage(env.browser);
  await page.goto(env.server.origin + '/');
  await ready(page);
  // A few ratings so the list is personal.
  for (const id of await ids(page, 'starter')) {
    const stars = page.locator(`#starter > li[data-movie-id="${id}"] .stars`);
    if (!(await stars.count())) continue;
    await stars.first().focus();
    await page.keyboard.press('5');
    if ((await page.textContent('#rating-count')) === '(4)') break;
  }
  assert.equal(Number(await page.inputValue('#discover')), 30, 'the measured default');
  const setTo = async (v) => {
    await page.locator('#discover').fill(String(v));
    await page.locator('#discover').dispatchEvent('input');
    return ids(page, 'recommendations');
  };
  const familiar = await setTo(0);
  const discover = await setTo(100);
  assert.equal(discover.length, familiar.length);
  assert.notDeepEqual(discover, familiar, 'the control changed nothing');
  // Familiar equals what the core ranks with no discover option at all; discover leans to less popular movies.
  const core = await page.evaluate(async ([familiar, discover]) => {
    const { whenComplete } = await import('./js/recommender.js');
    const rec = await whenComplete();
    const ratings = JSON.parse(localStorage.getItem('movie-recs:ratings')).ratings;
    const own = rec.recommend(ratings.map((r) => ({ movieId: r.movieId, rating: r.rating })), { count: 12 }).items.map((m) => m.movieId);
    const views = (list) => list.reduce((s, id) => s + rec.movie(id).ratingCount, 0) / list.length;
    return { own, familiar: views(familiar), discover: views(discover) };
  }, [familiar, discover]);
  assert.deepEqual(familiar, core.own);
  assert.ok(core.discover < core.familiar, `discover's movies have ${core.discover} ratings on average, familiar's ${core.familiar}`);
  assert.deepEqual(record.errors, []);
});

test('movie night: a friend from their export gives one list that nobody has seen, each pick saying whom it serves', async () => {
  const { page, record } = await openPage(env.browser);
  await page.goto(env.server.origin + '/');
  await ready(page);
  assert.match(await page.textContent('#night-note'), /Add a friend/);
  assert.equal((await ids(page, 'night-list')).length, 0);
  // The visitor rates three; the friend's MovieLens export rates three others (and one the same).
  for (const id of (await ids(page, 'starter')).slice(0, 3)) {
    await page.locator(`#starter > li[data-movie-id="${id}"] .stars`).focus();
    await page.keyboard.press('5');
  }
  const mine = JSON.parse(await page.evaluate(() => localStorage.getItem('movie-recs:ratings'))).ratings.map((r) => r.movieId);
  const friendIds = [1, 2, 3, mine[0]];
  const csv = 'userId,movieId,rating,timestamp\n' + friendIds.map((id, i) => `7,${id},${4 + (i % 2) / 2},${964982703 + i}`).join('\n') + '\n';
  await page.setInputFiles('#friend-file', { name: 'sam_ratings.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.waitForSelector('#night-list > li');
  const night = await ids(page, 'night-list');
  assert.equal(night.length, 10);
  for (const id of [...mine, ...friendIds]) assert.ok(!night.includes(id), `movie ${id} was rated by someone`);
  assert.match(await page.textContent('#profiles'), /sam ratings: 4 ratings/);
  const serves = await page.$$eval('#night-list > li .serves', (els) => els.map((e) => e.textContent));
  assert.equal(serves.length, 10);
  assert.ok(serves.every((t) => /^For (You|sam ratings)|^A compromise/.test(t)), serves.join(' | '));
  assert.ok(serves.some((t) => t.includes('sam ratings')), 'the friend is never served');
  // Kept across a reload; removing the friend empties the list.
  await page.reload();
  await ready(page);
  assert.deepEqual(await ids(page, 'night-list'), night);
  await page.click('#profiles button.remove');
  assert.equal((await ids(page, 'night-list')).length, 0);
  assert.deepEqual(record.errors, []);
});
