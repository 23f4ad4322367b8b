// Figures, not assertions on time: the cost of one recommend call (fold-in + scoring + top-N)
// in the browser, the time from navigation to the first recommendations, and payload sizes.
// Chromium coarsens performance.now(), so calls are timed in batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { openPage, useBrowser, ROOT, sectionEnds } from './harness.mjs';

const env = useBrowser();

test('prints browser timings and payload sizes', async () => {
  const { page, context } = await openPage(env.browser);
  const start = Date.now();
  await page.goto(env.server.origin + '/');
  await page.waitForSelector('#recommendations > li');
  const firstRecsMs = Date.now() - start;
  const figures = await page.evaluate(async () => {
    const { whenComplete } = await import('./js/recommender.js');
    const rec = await whenComplete();
    const popular = rec.popular(400).map((m) => m.movieId);
    const out = {};
    for (const n of [1, 20, 200]) {
      const ratings = popular.slice(0, n).map((movieId, i) => ({ movieId, rating: 0.5 + (i % 10) / 2 }));
      for (const method of ['hybrid', 'mf', 'itemKnn', 'userKnn', 'content', 'neural', 'ease']) {
        const batches = [];
        for (let b = 0; b < 15; b++) {
          const t = performance.now();
          for (let i = 0; i < 10; i++) rec.recommend(ratings, { count: 10, method });
          batches.push((performance.now() - t) / 10);
        }
        batches.sort((a, b) => a - b);
        out[`${method} ${n} ratings`] = { median: batches[7], p95: batches[14] };
      }
    }
    return out;
  });
  const size = (p) => {
    const bytes = readFileSync(`${ROOT}/www/${p}`);
    return `${statSync(`${ROOT}/www/${p}`).size} B raw, ${gzipSync(bytes, { level: 9 }).length} B gzip`;
  };
  console.log(`first recommendations ${firstRecsMs} ms after navigation (local server)`);
  for (const [k, v] of Object.entries(figures)) console.log(`recommend ${k}: median ${v.median.toFixed(3)} ms, p95 ${v.p95.toFixed(3)} ms (per call, batches of 10)`);
  const model = readFileSync(`${ROOT}/www/model.bin`);
  const core = model.subarray(0, sectionEnds(model).core);
  console.log(`wasm ${size('pkg/movie_recs_bg.wasm')}; model ${size('model.bin')} (core ${core.length} B raw, ${gzipSync(core, { level: 9 }).length} B gzip); js glue ${size('pkg/movie_recs.js')}`);
  assert.ok(Object.values(figures).every((v) => v.median > 0));
  await context.close();
});
