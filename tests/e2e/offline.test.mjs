// End-to-end: the page keeps working offline (www/sw.js), and a deploy reaches a visitor as one
// consistent set of files, when they choose to reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, openPage, startServer, useBrowser } from './harness.mjs';

const env = useBrowser();
const ready = (page) => page.waitForSelector('html[data-complete="true"]');
const ids = (page, list) => page.$$eval(`#${list} > li`, (lis) => lis.map((li) => Number(li.dataset.movieId)));

test('after one visit the page works offline: reload, rate, recommendations', async () => {
  const { page, record, context } = await openPage(env.browser);
  await page.goto(env.server.origin + '/');
  await ready(page);
  await page.waitForSelector('html[data-offline="ready"]');
  const manifest = await page.evaluate(async () => (await fetch(document.querySelector('link[rel=manifest]').href)).json());
  assert.equal(manifest.display, 'standalone');
  assert.ok(manifest.icons.length > 0);
  await context.setOffline(true);
  await page.reload();
  await ready(page);
  const before = await ids(page, 'recommendations');
  await page.fill('#search', 'heat 1995');
  await page.locator('#search-results > li', { has: page.locator('.title', { hasText: /^Heat$/ }) }).locator('.stars').focus();
  await page.keyboard.press('5');
  assert.match(await page.textContent('#recs-note'), /Based on your 1 rating/);
  assert.notDeepEqual(await ids(page, 'recommendations'), before);
  // A page address with a query is still the page.
  await page.goto(env.server.origin + '/?utm=x');
  await ready(page);
  assert.deepEqual(record.errors, []);
  await context.close();
});

test('a new deploy installs beside the old one and is used when the visitor reloads', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'movie-recs-deploy-'));
  await cp(`${ROOT}/www`, dir, { recursive: true, filter: (src) => !src.includes('model-spark') });
  const server = await startServer(dir);
  const { page, context } = await openPage(env.browser);
  try {
    await page.goto(server.origin + '/');
    await ready(page);
    await page.waitForSelector('html[data-offline="ready"]');
    const cachesBefore = await page.evaluate(() => caches.keys());
    // Deploy: a changed page, and the hash that ./build.sh build writes for it.
    const precache = join(dir, 'pkg/precache.js');
    await writeFile(precache, (await readFile(precache, 'utf8')).replace(/version: "[0-9a-f]+"/, 'version: "0123456789abcdef"'));
    await writeFile(join(dir, 'index.html'), (await readFile(join(dir, 'index.html'), 'utf8')).replace('<h1>Movie night</h1>', '<h1>Movie night 2</h1>'));
    await page.reload();
    await ready(page);
    assert.equal(await page.textContent('h1'), 'Movie night', 'until the visitor reloads, the old set is served whole');
    await page.waitForSelector('.notice >> text=/A new version of this page/');
    await Promise.all([page.waitForEvent('load'), page.click('.notice button >> text=Reload to use it')]);
    await ready(page);
    assert.equal(await page.textContent('h1'), 'Movie night 2');
    const cachesAfter = await page.evaluate(() => caches.keys());
    assert.ok(cachesAfter.includes('movie-recs-0123456789abcdef'), String(cachesAfter));
    for (const old of cachesBefore.filter((k) => k !== 'movie-recs-runtime')) assert.ok(!cachesAfter.includes(old), `old cache ${old} removed`);
  } finally {
    await context.close();
    server.stop();
  }
});
