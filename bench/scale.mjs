// The browser half of `./build.sh bench-scale`: large models (every method, trained by the
// trainer on the project's synthetic ML-25M- and ML-32M-size data) in headless Chromium, served
// gzipped by scripts/serve.py as a static host would. For each model:
// - sizes: the file, its core (what the first recommendations need) and its extras, raw and gzip;
// - on Chromium DevTools' "Slow 4G" profile (562.5 ms latency, 1.44 Mbit/s down, 675 kbit/s up),
//   the time from navigation to the first recommendations and to every method;
// - the hybrid call (fold-in + every part + blend + top 10 + reasons) at 1, 20 and 200
//   ratings, median and p95 of batches of 10 calls (Chromium coarsens performance.now());
// - search and "more like this" over the whole catalogue;
// - the page's JS heap and wasm memory once every method has loaded.
//
//   node bench/scale.mjs OUT_JSON MODEL_FILE...   (each MODEL_FILE inside www/)
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startServer, launch, ROOT, sectionEnds } from '../tests/e2e/harness.mjs';

const [outPath, ...models] = process.argv.slice(2);
const server = await startServer();
const browser = await launch();
const SLOW_4G = { offline: false, latency: 562.5, downloadThroughput: (1.6e6 * 0.9) / 8, uploadThroughput: (750e3 * 0.9) / 8 };
const rows = [];
for (const path of models) {
  const name = basename(path);
  const bytes = readFileSync(`${ROOT}/www/${name}`);
  const coreEnd = sectionEnds(bytes).core;
  const part = (b) => ({ raw: b.length, gzip: gzipSync(b).length });
  const sizes = { file: part(bytes), core: part(bytes.subarray(0, coreEnd)), extras: part(bytes.subarray(coreEnd)) };

  // Slow 4G, nothing cached.
  const slowPage = await browser.newPage();
  const cdp = await slowPage.context().newCDPSession(slowPage);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
  let t = Date.now();
  await slowPage.goto(`${server.origin}/?model=${name}`, { timeout: 600000 });
  await slowPage.waitForSelector('html[data-ready="true"]', { timeout: 600000 });
  const first = Date.now() - t;
  await slowPage.waitForSelector('html[data-complete="true"]', { timeout: 600000 });
  const complete = Date.now() - t;
  // The page's memory with every method loaded (its own recommender, nothing else).
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = await cdp.send('Runtime.getHeapUsage');
  const wasmBytes = await slowPage.evaluate(async () => (await (await import('./pkg/movie_recs.js')).default()).memory.buffer.byteLength);
  await slowPage.close();

  const page = await browser.newPage();
  await page.goto(`${server.origin}/?model=${name}`);
  await page.waitForSelector('html[data-complete="true"]', { timeout: 600000 });
  const timings = await page.evaluate(async (name) => {
    const { whenComplete } = await import('./js/recommender.js');
    const rec = await whenComplete(new URL(`/${name}`, location.href));
    const popular = rec.popular(400).map((m) => m.movieId);
    const time = (f) => {
      for (let w = 0; w < 3; w++) f();
      const batches = [];
      for (let b = 0; b < 15; b++) {
        const t = performance.now();
        for (let i = 0; i < 10; i++) f();
        batches.push((performance.now() - t) / 10);
      }
      batches.sort((a, b) => a - b);
      return { median_ms: batches[7], p95_ms: batches[14] };
    };
    const out = { hybrid: [] };
    for (const n of [1, 20, 200]) {
      const ratings = popular.slice(0, n).map((movieId, i) => ({ movieId, rating: 0.5 + (i % 10) / 2 }));
      out.hybrid.push({ ratings: n, ...time(() => rec.recommend(ratings, { count: 10, method: 'hybrid' })) });
    }
    out.search = time(() => rec.search('synthetic movie 12', 20));
    out.more_like_this = time(() => rec.similarMovies(popular[0], 8));
    out.methods = rec.methods().map((m) => m.name);
    rec.free();
    return out;
  }, name);
  await page.close();
  rows.push({ model: name, sizes, slow_4g: { first_recommendations_ms: first, all_methods_ms: complete }, js_heap_bytes: heap.usedSize, wasm_memory_bytes: wasmBytes, ...timings });
}
await browser.close();
server.stop();
writeFileSync(outPath, JSON.stringify({ machine: `${process.platform} ${process.arch}, Chromium headless`, slow_4g: SLOW_4G, rows }, null, 2));
const mb = (b) => (b / 1e6).toFixed(1);
const f = (x) => x.toFixed(2);
console.log('\n| model | file MB (gzip) | core MB (gzip) | extras MB (gzip) | Slow 4G: first recs s | every method s | hybrid ms at 1 / 20 / 200 ratings, median (p95) | search ms | more like this ms | JS heap MB | wasm memory MB |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const s = r.sizes;
  const h = r.hybrid.map((x) => `${f(x.median_ms)} (${f(x.p95_ms)})`).join(' / ');
  console.log(`| ${r.model} | ${mb(s.file.raw)} (${mb(s.file.gzip)}) | ${mb(s.core.raw)} (${mb(s.core.gzip)}) | ${mb(s.extras.raw)} (${mb(s.extras.gzip)}) | ${(r.slow_4g.first_recommendations_ms / 1000).toFixed(1)} | ${(r.slow_4g.all_methods_ms / 1000).toFixed(1)} | ${h} | ${f(r.search.median_ms)} | ${f(r.more_like_this.median_ms)} | ${mb(r.js_heap_bytes)} | ${mb(r.wasm_memory_bytes)} |`);
}
console.log(`\nJSON: ${outPath}`);
