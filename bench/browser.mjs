// The browser half of `./build.sh bench`: one recommend call (fold-in + scoring + top 10 +
// reasons, method "mf") in headless Chromium on the default model and on the synthetic models
// that `trainer bench` wrote, the roofline peak of a plain simd128 dot loop, the time from
// navigation to the first recommendations, and payload sizes. Merges the native figures
// (NATIVE_JSON) and the implicit peer's (PEER_JSON, optional) into one table and one JSON.
//
//   node bench/browser.mjs NATIVE_JSON MODELS_DIR OUT_JSON [PEER_JSON]
import { readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startServer, launch, ROOT, sectionEnds } from '../tests/e2e/harness.mjs';
import { brotli, gzip } from '../scripts/precompress.mjs';

const [nativePath, modelsDir, outPath, peerPath] = process.argv.slice(2);
const native = JSON.parse(readFileSync(nativePath, 'utf8'));
const peer = peerPath && existsSync(peerPath) ? JSON.parse(readFileSync(peerPath, 'utf8')) : [];
execFileSync(`${ROOT}/node_modules/.bin/wasm-as`, ['--enable-simd', `${ROOT}/bench/peak.wat`, '-o', `${ROOT}/target/peak.wasm`]);
const peakWasm = readFileSync(`${ROOT}/target/peak.wasm`);

const server = await startServer();
const browser = await launch();
const page = await browser.newPage();
await page.route('**/bench-models/*', (route) => {
  const name = new URL(route.request().url()).pathname.split('/').pop();
  route.fulfill({ status: 200, contentType: 'application/octet-stream', body: readFileSync(`${modelsDir}/${name}`) });
});
await page.route('**/peak.wasm', (route) => route.fulfill({ status: 200, contentType: 'application/wasm', body: peakWasm }));

const firstRecs = [];
for (let i = 0; i < 5; i++) {
  const t = Date.now();
  await page.goto(`${server.origin}/?run=${i}`);
  await page.waitForSelector('#recommendations > li');
  firstRecs.push(Date.now() - t);
}
firstRecs.sort((a, b) => a - b);

// The same on a slow connection (Chromium's network emulation: 1.6 Mbit/s down, 150 ms
// latency; scripts/serve.py gzips as a static host does): the first recommendations wait for
// the wasm and the model's core only, the other methods for the whole file.
const slow = await (async () => {
  const slowPage = await browser.newPage();
  const cdp = await slowPage.context().newCDPSession(slowPage);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 0.75e6 / 8 });
  const t = Date.now();
  await slowPage.goto(`${server.origin}/?slow`, { timeout: 120000 });
  await slowPage.waitForSelector('html[data-ready="true"]', { timeout: 120000 });
  const first = Date.now() - t;
  await slowPage.waitForSelector('html[data-complete="true"]', { timeout: 120000 });
  const complete = Date.now() - t;
  await slowPage.close();
  return { first_recommendations_ms: first, all_methods_ms: complete };
})();

// Main-thread stalls at the largest catalogue: load the biggest synthetic model into the page,
// then type and rate as a visitor would while a PerformanceObserver records long tasks.
const biggest = native.map((r) => /\((synthetic-[^)]+)\)/.exec(r.case)?.[1]).filter(Boolean).sort((a, b) => {
  const size = (n) => n.match(/(\d+)x(\d+)/).slice(1).reduce((x, y) => x * y, 1);
  return size(b) - size(a);
})[0];
let stalls = null;
if (biggest) {
  // A page of its own: the probe's timer and the swapped model must not touch the timings below.
  const probePage = await browser.newPage();
  const page = probePage;
  await page.route('**/model.bin', (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body: readFileSync(`${modelsDir}/${biggest}`) }));
  await page.goto(`${server.origin}/?stalls`);
  await page.waitForSelector('html[data-complete="true"]');
  // An event-loop lag probe: a 5 ms timer records every gap over 50 ms between its ticks
  // (headless Chromium reports no 'longtask' entries for work driven over DevTools).
  await page.evaluate(() => {
    window.longTasks = [];
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      if (now - last > 50) window.longTasks.push(now - last);
      last = now;
    }, 5);
  });
  for (const q of ['syn', 'synthetic movie 1', 'synthetic movie 12']) await page.fill('#search', q);
  for (let i = 0; i < 5; i++) {
    await page.locator('#search-results .stars').nth(i % 3).focus();
    await page.keyboard.press(String((i % 5) + 1));
  }
  await page.waitForTimeout(300);
  const tasks = await page.evaluate(() => window.longTasks.slice());
  // Control: a deliberate 80 ms busy loop must show up, or the observer saw nothing at all.
  await page.evaluate(() => setTimeout(() => {
    const t = performance.now();
    while (performance.now() - t < 80);
  }, 0));
  await page.waitForTimeout(100);
  const observed = (await page.evaluate(() => window.longTasks.length)) > tasks.length;
  stalls = { model: biggest, long_tasks: tasks.length, longest_ms: tasks.length ? Math.max(...tasks) : 0, observer_works: observed };
  await probePage.close();
}

const cases = [...new Set(native.map((r) => r.case))];
const browserRows = await page.evaluate(async (cases) => {
  const { loadRecommender, whenComplete, DEFAULT_MODEL_URL } = await import('./js/recommender.js');
  const out = [];
  for (const name of cases) {
    const file = /\((synthetic-[^)]+)\)/.exec(name)?.[1];
    const url = file ? new URL(`/bench-models/${file}`, location.href) : DEFAULT_MODEL_URL;
    const rec = await whenComplete(url);
    const popular = rec.popular(400).map((m) => m.movieId);
    for (const n of [1, 20, 200]) {
      const ratings = popular.slice(0, n).map((movieId, i) => ({ movieId, rating: 0.5 + (i % 10) / 2 }));
      for (let w = 0; w < 5; w++) rec.recommend(ratings, { count: 10, method: 'mf' });
      const batches = [];
      for (let b = 0; b < 15; b++) {
        const t = performance.now();
        for (let i = 0; i < 10; i++) rec.recommend(ratings, { count: 10, method: 'mf' });
        batches.push((performance.now() - t) / 10);
      }
      batches.sort((a, b) => a - b);
      out.push({ case: name, ratings: n, wasm_median_ms: batches[7], wasm_p95_ms: batches[14] });
    }
    if (file) rec.free();
  }
  const peak = await WebAssembly.instantiateStreaming(fetch('/peak.wasm'));
  let best = 0;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    peak.instance.exports.run(1024, 20000);
    best = Math.max(best, (4 * 1024 * 20000) / (performance.now() - t) / 1e6);
  }
  return { rows: out, peakGmacs: best };
}, cases);
await browser.close();
server.stop();

const size = (p) => {
  const bytes = readFileSync(`${ROOT}/www/${p}`);
  return { raw: statSync(`${ROOT}/www/${p}`).size, gzip: gzip(bytes).length };
};
const modelBytes = readFileSync(`${ROOT}/www/model.bin`);
// The model's header and core section (what the first recommendations need), then each
// section after it, as a host serves them: gzip and brotli at their best.
const ends = sectionEnds(modelBytes);
const packed = (bytes) => ({ raw: bytes.length, gzip: gzip(bytes).length, brotli: brotli(bytes).length });
const core = modelBytes.subarray(0, ends.core);
const payload = {
  wasm: size('pkg/movie_recs_bg.wasm'),
  model: size('model.bin'),
  model_core: packed(core),
  model_links: packed(modelBytes.subarray(ends.core, ends.links)),
  model_stars: packed(modelBytes.subarray(ends.links, ends.stars)),
  js: size('pkg/movie_recs.js'),
};
const peakGmacs = browserRows.peakGmacs;
const rows = native.map((n) => {
  const b = browserRows.rows.find((r) => r.case === n.case && r.ratings === n.ratings);
  const p = peer.find((r) => r.movies === n.movies && r.factors === n.factors / 2 && r.ratings === n.ratings);
  const roofline = n.macs_per_call / (peakGmacs * 1e6);
  return { ...n, ...b, wasm_over_native: b.wasm_median_ms / n.native_median_ms, roofline_ms: roofline, over_roofline: b.wasm_median_ms / roofline, implicit_ms: p?.median_ms ?? null, speedup_vs_implicit: p ? p.median_ms / b.wasm_median_ms : null };
});
const report = { machine: `${process.platform} ${process.arch}, Chromium headless`, peak_simd_gmacs: peakGmacs, first_recommendations_ms: firstRecs[2], slow_connection: slow, main_thread_stalls: stalls, payload, rows };
writeFileSync(outPath, JSON.stringify(report, null, 2));
const f = (x, d = 3) => (x === null || x === undefined ? '–' : x.toFixed(d));
console.log(`\npeak simd128 dot in this browser: ${peakGmacs.toFixed(1)} GMAC/s; first recommendations ${firstRecs[2]} ms after navigation (median of 5, local server)`);
if (stalls) console.log(`typing and rating with ${stalls.model} in the page: ${stalls.long_tasks} tasks over 50 ms (longest ${stalls.longest_ms.toFixed(0)} ms; control busy loop ${stalls.observer_works ? 'seen' : 'NOT seen'})`);
console.log(`on a 1.6 Mbit/s, 150 ms link (uncompressed): first recommendations ${slow.first_recommendations_ms} ms, every method ${slow.all_methods_ms} ms after navigation`);
console.log(`payload: wasm ${payload.wasm.raw} B (${payload.wasm.gzip} gzip), model ${payload.model.raw} B (${payload.model.gzip} gzip; its core, which the first recommendations need: ${payload.model_core.raw} B, ${payload.model_core.gzip} gzip, ${payload.model_core.brotli} brotli; links ${payload.model_links.raw} B, ${payload.model_links.brotli} brotli; stars ${payload.model_stars.raw} B, ${payload.model_stars.brotli} brotli), js ${payload.js.raw} B (${payload.js.gzip} gzip)\n`);
console.log('| case | ratings | wasm median ms | wasm p95 ms | native median ms | wasm/native | roofline ms | x roofline | implicit ms | speed-up vs implicit |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.case} | ${r.ratings} | ${f(r.wasm_median_ms)} | ${f(r.wasm_p95_ms)} | ${f(r.native_median_ms)} | ${f(r.wasm_over_native, 2)} | ${f(r.roofline_ms)} | ${f(r.over_roofline, 1)} | ${f(r.implicit_ms)} | ${f(r.speedup_vs_implicit, 2)} |`);
}
console.log(`\nJSON: ${outPath}`);
