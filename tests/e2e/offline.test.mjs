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

test('a host site keeps the widget offline with the widget service worker in its own, and takes a widget deploy as one set', async () => {
  // A host site with the npm package copied under /widgets/movie-recs/ and its own root worker.
  const dir = await mkdtemp(join(tmpdir(), 'movie-recs-host-'));
  await cp(`${ROOT}/www/pkg`, join(dir, 'widgets/movie-recs'), { recursive: true });
  await writeFile(join(dir, 'sw.js'), "self.MOVIE_RECS_BASE = '/widgets/movie-recs/';\nimportScripts('/widgets/movie-recs/movie-recs-sw.js');\n");
  await writeFile(join(dir, 'register.js'), "navigator.serviceWorker.register('/sw.js', { updateViaCache: 'none' });\n");
  await writeFile(
    join(dir, 'index.html'),
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Film club</title><link rel="icon" href="data:,">' +
      '<script type="module" src="/widgets/movie-recs/element.js"></script><script type="module" src="/register.js"></script>' +
      '</head><body><h1>Film club</h1><movie-recs count="5"></movie-recs></body></html>',
  );
  const server = await startServer(dir);
  const { page, record, context } = await openPage(env.browser);
  const widgetReady = () => page.waitForSelector('movie-recs[data-complete="true"]');
  const recs = () => page.$eval('movie-recs', (w) => [...w.shadowRoot.querySelectorAll('ol > li')].map((li) => Number(li.dataset.movieId)));
  try {
    await page.goto(server.origin + '/');
    await widgetReady();
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    const version = /version: "([0-9a-f]+)"/.exec(await readFile(join(dir, 'widgets/movie-recs/widget-precache.js'), 'utf8'))[1];
    assert.ok((await page.evaluate(() => caches.keys())).includes(`movie-recs-widget-${version}`));

    // The host's own files (register.js here) loaded before the worker ran; the next visit keeps them.
    await page.reload();
    await widgetReady();
    // Offline: the host's page and files, the element, the wasm and the model all come from the worker.
    await context.setOffline(true);
    await page.reload();
    await widgetReady();
    assert.equal(await page.textContent('h1'), 'Film club');
    const before = await recs();
    assert.equal(before.length, 5);
    await page.locator('movie-recs input[type="search"]').fill('heat 1995');
    await page.locator('movie-recs ul > li', { has: page.locator('.title', { hasText: /^Heat$/ }) }).first().locator('.stars').focus();
    await page.keyboard.press('5');
    await page.waitForFunction(() => /Based on your 1 rating/.test(document.querySelector('movie-recs').shadowRoot.textContent));
    assert.notDeepEqual(await recs(), before);
    await context.setOffline(false);

    // A widget deploy (its hash changes): the new set installs beside the old and waits; the
    // page keeps the old set whole until the host lets the new worker take over.
    const list = join(dir, 'widgets/movie-recs/widget-precache.js');
    await writeFile(list, (await readFile(list, 'utf8')).replace(/version: "[0-9a-f]+"/, 'version: "fedcba9876543210"'));
    await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      await registration.update();
      while (!registration.waiting) await new Promise((wait) => setTimeout(wait, 50));
    });
    assert.ok((await page.evaluate(() => caches.keys())).includes(`movie-recs-widget-${version}`), 'the old set still serves');
    await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      const changed = new Promise((done) => navigator.serviceWorker.addEventListener('controllerchange', done, { once: true }));
      registration.waiting.postMessage('movie-recs:skipWaiting');
      await changed;
    });
    // The new worker's activation removes the old set (after the controller changes).
    const after = await page.evaluate(async (old) => {
      for (let i = 0; i < 100 && (await caches.keys()).includes(old); i++) await new Promise((wait) => setTimeout(wait, 50));
      return caches.keys();
    }, `movie-recs-widget-${version}`);
    assert.ok(after.includes('movie-recs-widget-fedcba9876543210'), String(after));
    assert.ok(!after.includes(`movie-recs-widget-${version}`), `the old set is removed: ${after}`);
    await page.reload();
    await widgetReady();
    assert.equal((await recs()).length, 5);
    assert.deepEqual(record.errors, []);
  } finally {
    await context.close();
    server.stop();
  }
});
