// End-to-end: the embeddable <movie-recs> widget on the example static site (two pages, a strict
// Content-Security-Policy, hostile page CSS), driven in headless Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holdModel, openPage, sectionEnds, useBrowser } from './harness.mjs';

const env = useBrowser();

/** Movie ids of the first widget's recommendation list ('recs') or search results ('search'). */
const widgetIds = (page, list) =>
  page.$eval('movie-recs', (w, sel) => [...w.shadowRoot.querySelectorAll(sel)].map((li) => Number(li.dataset.movieId)), list === 'recs' ? 'ol > li' : 'ul > li');

test('the widget works under a strict CSP, shares ratings across pages, and requests nothing else', async () => {
  const { page, record, context } = await openPage(env.browser);
  await page.goto(`${env.server.origin}/site/index.html`);
  await page.waitForSelector('movie-recs[data-complete="true"]');
  assert.equal((await widgetIds(page, 'recs')).length, 5, 'count="5"');

  // Events and keyboard rating inside the shadow root.
  await page.evaluate(() => {
    window.seen = [];
    document.querySelector('movie-recs').addEventListener('movie-recs:rating', (e) => window.seen.push(['rating', e.detail]));
    document.querySelector('movie-recs').addEventListener('movie-recs:recommendations', (e) => window.seen.push(['recommendations', e.detail.items.length]));
  });
  await page.locator('movie-recs input[type="search"]').fill('heat 1995');
  const heat = page.locator('movie-recs ul > li', { has: page.locator('.title', { hasText: /^Heat$/ }) }).first();
  await heat.locator('.stars').focus();
  await page.keyboard.press('4');
  await page.keyboard.press('ArrowRight');
  const seen = await page.evaluate(() => window.seen);
  assert.deepEqual(seen.filter((e) => e[0] === 'rating').map((e) => e[1]), [{ movieId: 6, rating: 4 }, { movieId: 6, rating: 4.5 }]);
  assert.ok(seen.some((e) => e[0] === 'recommendations' && e[1] === 5));
  assert.ok(!(await widgetIds(page, 'recs')).includes(6), 'a rated movie is not recommended');

  // The JS API on the element; the host's own change fires no rating event back at it.
  await page.evaluate(() => document.querySelector('movie-recs').setRating(1, 5));
  assert.equal((await page.evaluate(() => window.seen)).filter((e) => e[0] === 'rating').length, 2, 'setRating echoed a rating event');
  assert.deepEqual(await page.evaluate(() => document.querySelector('movie-recs').ratings.map((r) => [r.movieId, r.rating])), [[6, 4.5], [1, 5]]);
  const bad = await page.evaluate(() => {
    try {
      document.querySelector('movie-recs').setRating(1, 11);
      return null;
    } catch (e) {
      return e.message;
    }
  });
  assert.match(bad, /outside/);

  // Host CSS does not leak in: the site's `li { font-size: 30px !important }` leaves the widget alone.
  const fontSize = await page.$eval('movie-recs', (w) => getComputedStyle(w.shadowRoot.querySelector('li')).fontSize);
  assert.notEqual(fontSize, '30px');

  // The other page's widget, with the same storage key, sees the same ratings.
  await page.click('nav a');
  await page.waitForSelector('movie-recs[data-complete="true"]');
  assert.deepEqual(await page.evaluate(() => document.querySelector('movie-recs').ratings.map((r) => r.movieId)), [6, 1]);
  assert.equal((await widgetIds(page, 'recs')).length, 3);
  assert.match(await page.$eval('movie-recs', (w) => w.shadowRoot.textContent), /Based on your 2 ratings/);

  // Only the site's own files, the module, the wasm and the model; no cookies; no CSP violation.
  // The site loads the bundled widget (./build.sh build): two script files and the import code on first use.
  const widgetFiles = new Set(['/dist/movie-recs.js', '/dist/movie-recs-chunk.js', '/dist/movie-recs-history.js', '/pkg/movie_recs_bg.wasm', '/model.bin']);
  const siteFiles = new Set(['/site/index.html', '/site/about.html', '/site/site.css', '/site/favicon.svg']);
  for (const url of record.requests) {
    const u = new URL(url);
    assert.equal(u.origin, env.server.origin, `request to another origin: ${url}`);
    assert.ok(widgetFiles.has(u.pathname) || siteFiles.has(u.pathname), `unexpected request: ${url}`);
  }
  assert.equal(record.requests.filter((u) => u.endsWith('/model.bin')).length, 2, 'one model download per page');
  assert.deepEqual(await context.cookies(), []);
  assert.deepEqual(record.errors, []);
  await context.close();
});

test('several widgets on one page share one wasm and one model download', async () => {
  const { page, record, context } = await openPage(env.browser);
  await page.goto(`${env.server.origin}/site/index.html`);
  await page.evaluate(() => {
    for (const key of ['a', 'b']) {
      const w = document.createElement('movie-recs');
      w.setAttribute('storage-key', key);
      w.setAttribute('genres', 'Comedy');
      w.setAttribute('theme', 'dark');
      document.body.append(w);
    }
  });
  await page.waitForFunction(() => [...document.querySelectorAll('movie-recs')].every((w) => w.dataset.complete === 'true'));
  assert.equal(record.requests.filter((u) => u.endsWith('.wasm')).length, 1);
  assert.equal(record.requests.filter((u) => u.endsWith('/model.bin')).length, 1);
  // Separate storage keys stay separate; genres="Comedy" filters.
  await page.evaluate(() => document.querySelectorAll('movie-recs')[1].setRating(1, 5));
  const counts = await page.evaluate(() => [...document.querySelectorAll('movie-recs')].map((w) => w.ratings.length));
  assert.deepEqual(counts, [0, 1, 0]);
  const genres = await page.$$eval('movie-recs', (ws) => [...ws[2].shadowRoot.querySelectorAll('ol .genres')].map((g) => g.textContent));
  assert.ok(genres.length > 0 && genres.every((g) => g.includes('Comedy')), genres.join('; '));
  assert.deepEqual(record.errors, []);
  await context.close();
});

test('a broken model shows a readable message in the widget and retry recovers', async () => {
  const { page, context } = await openPage(env.browser);
  let mode = 'truncated';
  await page.route('**/model.bin', async (route) => {
    if (mode === 'ok') return route.continue();
    const real = await route.fetch();
    const body = await real.body();
    return route.fulfill({ status: 200, body: body.subarray(0, 1000) });
  });
  await page.goto(`${env.server.origin}/site/index.html`);
  await page.waitForFunction(() => document.querySelector('movie-recs').shadowRoot.querySelector('.notice.error'));
  assert.match(await page.$eval('movie-recs', (w) => w.shadowRoot.querySelector('.notice.error').textContent), /truncated/);
  mode = 'ok';
  await page.locator('movie-recs .notice.error button').click();
  await page.waitForSelector('movie-recs[data-complete="true"]');
  assert.equal((await widgetIds(page, 'recs')).length, 5);
  await context.close();
});

test('offline at load, the widget recovers by itself when the connection returns', async () => {
  const { page, context } = await openPage(env.browser);
  await page.goto(`${env.server.origin}/site/about.html`);
  await page.waitForSelector('movie-recs[data-complete="true"]');
  // A fresh widget while offline: the model fetch fails; back online, it loads without a click.
  await context.setOffline(true);
  await page.evaluate(() => {
    const w = document.createElement('movie-recs');
    w.setAttribute('model', '/model.bin?second');
    w.id = 'late';
    document.body.append(w);
  });
  await page.waitForFunction(() => document.getElementById('late').shadowRoot.querySelector('.notice.error'));
  assert.match(await page.$eval('#late', (w) => w.shadowRoot.querySelector('.notice.error').textContent), /could not download the model/);
  await context.setOffline(false);
  await page.waitForSelector('#late[data-complete="true"]');
  await context.close();
});

test('the widget imports a history with a preview and an undo, takes marks, and can leave links out', async () => {
  const { csv, imdbRow, IMDB_RATINGS } = await import('./fixtures.mjs');
  const { page, record, context } = await openPage(env.browser);
  await page.goto(`${env.server.origin}/site/index.html`);
  await page.waitForSelector('movie-recs[data-complete="true"]');
  const shadowText = (sel) => page.$eval('movie-recs', (w, s) => w.shadowRoot.querySelector(s)?.textContent ?? null, sel);
  assert.notEqual(await shadowText('.links'), null, 'links by default');
  const text = csv(IMDB_RATINGS, [
    imdbRow({ imdbId: 113277, rating: 9, title: 'Heat', year: 1995 }),
    imdbRow({ imdbId: 133093, rating: 10, title: 'The Matrix', year: 1999 }),
    imdbRow({ imdbId: 1, rating: 6, title: 'Nothing Like It', year: 1901 }),
  ]);
  await page.setInputFiles('movie-recs input[type="file"]', { name: 'ratings.csv', mimeType: 'text/csv', buffer: Buffer.from(text) });
  await page.waitForSelector('movie-recs .preview');
  assert.match(await shadowText('.preview .summary'), /2 of 3 rows matched a movie, 2 new ratings/);
  assert.match(await shadowText('.preview .unmatched'), /line 4: Nothing Like It \(1901\) — no movie titled/);
  await page.click('movie-recs .preview button.confirm');
  assert.deepEqual(await page.evaluate(() => document.querySelector('movie-recs').ratings.map((r) => r.movieId).sort((a, b) => a - b)), [6, 2571]);
  await page.click('movie-recs .notice button >> text=Undo import');
  assert.deepEqual(await page.evaluate(() => document.querySelector('movie-recs').ratings), []);
  // "Not interested" on a recommendation: it leaves the list, which fills again.
  const first = (await widgetIds(page, 'recs'))[0];
  await page.click(`movie-recs ol > li[data-movie-id="${first}"] button.mark[data-mark="notInterested"]`);
  const after = await widgetIds(page, 'recs');
  assert.ok(!after.includes(first));
  assert.equal(after.length, 5);
  await page.evaluate(() => document.querySelector('movie-recs').setAttribute('links', 'off'));
  await page.waitForSelector('movie-recs[data-complete="true"]');
  await page.waitForFunction(() => document.querySelector('movie-recs').shadowRoot.querySelectorAll('ol > li').length === 5);
  assert.equal(await shadowText('.links'), null, 'links="off"');
  assert.deepEqual(record.errors, []);
  await context.close();
});

test('the widget takes method, years and language, hides on hidden, and is styled through parts and custom properties', async () => {
  const { page, record, context } = await openPage(env.browser);
  await page.goto(`${env.server.origin}/site/index.html`);
  await page.waitForSelector('movie-recs[data-complete="true"]');
  await page.evaluate(() => {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync('#second::part(title) { color: rgb(1, 2, 3); } #second { --movie-recs-accent: rgb(4, 5, 6); }');
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    const w = document.createElement('movie-recs');
    w.id = 'second';
    w.setAttribute('lang', 'fr');
    w.setAttribute('count', '6');
    w.method = 'itemKnn';
    w.yearMin = 1990;
    w.yearMax = 1999;
    w.setAttribute('storage-key', 'second');
    document.body.append(w);
  });
  await page.waitForSelector('#second[data-complete="true"]');
  const second = (fn) => page.$eval('#second', fn);
  assert.equal(await second((w) => w.getAttribute('method')), 'itemKnn', 'properties reflect to attributes');
  assert.equal(await second((w) => w.getAttribute('year-min')), '1990');
  assert.match(await second((w) => w.shadowRoot.textContent), /Recommandé pour vous/);
  assert.match(await second((w) => w.shadowRoot.querySelector('input').placeholder), /Chercher un film/);
  const years = await second((w) => [...w.shadowRoot.querySelectorAll('ol > li .year')].map((e) => Number(/\d{4}/.exec(e.textContent)[0])));
  assert.equal(years.length, 6);
  assert.ok(years.every((y) => y >= 1990 && y <= 1999), String(years));
  // Rated by keyboard in French: the value text too.
  await page.evaluate(() => document.querySelector('#second').setRating(1, 4.5));
  const fr = await second((w) => [w.shadowRoot.querySelector('.hint').textContent, [...w.shadowRoot.querySelectorAll('.reason')].map((r) => r.textContent)]);
  assert.match(fr[0], /D’après vos 1 note/);
  assert.ok(fr[1].every((r) => /^(Parce que|Populaire|Noté|\d+ spectateurs)/.test(r)), fr[1].join(' | '));
  // The method changes the list.
  const itemKnn = await widgetIds(page, 'recs');
  const before = await second((w) => [...w.shadowRoot.querySelectorAll('ol > li')].map((li) => Number(li.dataset.movieId)));
  await page.evaluate(() => { document.querySelector('#second').method = 'popular'; });
  await page.waitForFunction(() => document.querySelector('#second').shadowRoot.querySelectorAll('ol > li').length === 6);
  const after = await second((w) => [...w.shadowRoot.querySelectorAll('ol > li')].map((li) => Number(li.dataset.movieId)));
  assert.notDeepEqual(after, before);
  assert.ok(itemKnn.length > 0);
  // discover: the measured default 0.3, clamped, and it re-ranks.
  assert.equal(await second((w) => w.discover), 0.3);
  await page.evaluate(() => { const w = document.querySelector('#second'); w.method = 'hybrid'; w.discover = 0; });
  await page.waitForFunction(() => document.querySelector('#second').shadowRoot.querySelectorAll('ol > li').length === 6);
  const familiar = await second((w) => [...w.shadowRoot.querySelectorAll('ol > li')].map((li) => Number(li.dataset.movieId)));
  await page.evaluate(() => { document.querySelector('#second').setAttribute('discover', '7'); });
  assert.equal(await second((w) => w.discover), 1, 'clamped to 1');
  await page.waitForFunction((f) => {
    const ids = [...document.querySelector('#second').shadowRoot.querySelectorAll('ol > li')].map((li) => Number(li.dataset.movieId));
    return ids.length === 6 && ids.join() !== f.join();
  }, familiar);
  // Styling hooks from the host page.
  assert.equal(await second((w) => getComputedStyle(w.shadowRoot.querySelector('.title')).color), 'rgb(1, 2, 3)');
  assert.equal(await second((w) => getComputedStyle(w.shadowRoot.querySelector('h2')).color), 'rgb(4, 5, 6)');
  // hidden hides it.
  await page.evaluate(() => { document.querySelector('#second').hidden = true; });
  assert.equal(await second((w) => getComputedStyle(w).display), 'none');
  assert.deepEqual(record.errors, []);
  await context.close();
});

test('a widget of the factor models downloads only the core; the rest comes by a range request when a method needs it', async () => {
  const { page, record, context } = await openPage(env.browser);
  const whole = await (await fetch(`${env.server.origin}/model.bin`)).arrayBuffer().then((b) => Buffer.from(b));
  const coreEnd = sectionEnds(whole).core;
  const asked = [];
  page.on('request', (r) => {
    const m = /\/model\.bin\?(\w+)$/.exec(r.url());
    if (m) asked.push([m[1], r.headers().range ?? null]);
  });
  // ?ranges goes to the test server, which streams the file gzipped and answers a range with 206;
  // ?noranges answers a range with the whole file and 200, as some hosts do.
  await page.route(/\/model\.bin\?noranges$/, (route) =>
    route.request().headers().range ? route.fulfill({ status: 200, contentType: 'application/octet-stream', body: whole }) : route.continue(),
  );
  await page.route('**/lazy.html', (route) =>
    route.fulfill({
      status: 200,
      contentType: 'text/html',
      body: '<!doctype html><script type="module" src="/movie-recs.js"></script><movie-recs id="a" method="mf" model="/model.bin?ranges" storage-key="a"></movie-recs><movie-recs id="b" method="popular" model="/model.bin?noranges" storage-key="b"></movie-recs>',
    }),
  );
  await page.goto(`${env.server.origin}/lazy.html`);
  await page.waitForFunction(() => ['#a', '#b'].every((id) => document.querySelector(id).dataset.complete === 'true'));
  await page.waitForTimeout(300);
  const state = (id) => page.$eval(id, (w) => ({ extras: w.recommender.hasExtras, methods: w.recommender.methods().map((m) => m.name), items: w.shadowRoot.querySelectorAll('ol > li').length }));
  for (const id of ['#a', '#b']) assert.deepEqual(await state(id), { extras: false, methods: ['mf', 'popular'], items: 10 }, id);
  assert.deepEqual(asked.sort(), [['noranges', null], ['ranges', null]], 'one request each, read only up to the core');

  // A method of the extras: the rest from where the download stopped (or the whole file, from a host without ranges).
  for (const id of ['#a', '#b']) {
    await page.$eval(id, (w) => { w.method = 'itemKnn'; });
    await page.waitForSelector(`${id}[data-complete="true"]`);
    const s = await state(id);
    assert.equal(s.extras, true, id);
    assert.ok(s.methods.includes('itemKnn') && s.items === 10, JSON.stringify(s));
  }
  const rest = asked.slice(2);
  assert.deepEqual(rest.map((a) => a[0]), ['ranges', 'noranges']);
  for (const [, range] of rest) {
    const from = Number(/^bytes=(\d+)-$/.exec(range)?.[1]);
    assert.ok(from >= coreEnd && from < whole.length, `the rest asked from byte ${range}: the core ends at ${coreEnd}, the file at ${whole.length}`);
  }
  assert.deepEqual(record.errors, []);
  await context.close();
});

test('the widget shows the list it computed last visit at once, while the model loads', async () => {
  const { page, record, context } = await openPage(env.browser);
  await context.addInitScript(() => {
    if (!localStorage.getItem('film-club')) localStorage.setItem('film-club', JSON.stringify({ version: 1, ratings: [{ movieId: 6, rating: 5, ratedAt: 1 }] }));
  });
  await page.goto(`${env.server.origin}/site/index.html`);
  await page.waitForSelector('movie-recs[data-complete="true"]');
  const computed = await widgetIds(page, 'recs');
  assert.equal(computed.length, 5);
  const release = await holdModel(page);
  await page.reload();
  await page.waitForFunction(() => document.querySelector('movie-recs')?.shadowRoot?.querySelectorAll('ol > li').length > 0);
  assert.equal(await page.getAttribute('movie-recs', 'data-ready'), null, 'the recommender is not ready yet');
  assert.deepEqual(await widgetIds(page, 'recs'), computed);
  assert.match(await page.$eval('movie-recs', (w) => w.shadowRoot.textContent), /Based on your 1 rating/);
  release();
  await page.waitForSelector('movie-recs[data-complete="true"]');
  assert.deepEqual(await widgetIds(page, 'recs'), computed, 'the computed list is the kept one');
  // Other options make another list: a widget with another count keeps its own.
  await page.evaluate(() => document.querySelector('movie-recs').setAttribute('count', '3'));
  await page.waitForFunction(() => document.querySelector('movie-recs').shadowRoot.querySelectorAll('ol > li').length === 3);
  const kept = () => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('film-club:kept-list:')).length);
  assert.equal(await kept(), 2);
  // Without ratings, none of them is the visitor's any more.
  await page.evaluate(() => document.querySelector('movie-recs').clear());
  assert.equal(await kept(), 0);
  assert.deepEqual(record.errors, []);
  await context.close();
});
