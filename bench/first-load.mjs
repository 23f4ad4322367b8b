// First load on a slow phone (figures printed, never asserted): the
// time from navigation to the first personal recommendations and to every method, on Chromium's
// "Slow 4G" profile as issue 17 states it (1.6 Mbit/s down, 750 kbit/s up, 150 ms round trip,
// CPU slowed 4x), served as a static host serves it (scripts/serve.py: the build's brotli and gzip
// siblings). Cold is a first visit (no HTTP cache, no service worker); warm is the next visit in
// the same browser profile, once the service worker has kept the files (www/sw.js), with the HTTP
// cache still off so that only the worker can answer.
//
// "First personal recommendations": one rating is in storage before the page loads, so the
// first list is folded in from it, not the popular list. Two figures per visit: when a personal
// list is first on screen (on the warm visit, the list kept from the cold one, js/kept.js,
// shown before the wasm and the model are ready), and when the page's own first computed list
// is (data-ready).
//
//   node bench/first-load.mjs [RUNS]      (after ./build.sh build; prints the figures, asserts nothing)
//   node bench/first-load.mjs [RUNS] --against DIR
//                                         the same for www/ and another build of it (say the previous
//                                         commit's, from a git worktree), their runs interleaved
import { fileURLToPath } from 'node:url';
import { startServer, launch } from '../tests/e2e/harness.mjs';

export const SLOW_4G = { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 0.75e6 / 8 };
export const CPU_SLOWDOWN = 4;

/** A new page of `context` on the profile above, its HTTP cache off (only a worker can answer). */
export async function throttled(context) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
  return page;
}

async function visit(page, url) {
  const t = Date.now();
  await page.goto(url, { timeout: 120000 });
  await page.waitForSelector('html[data-ready="true"]', { timeout: 120000 });
  const first = Date.now() - t;
  const personal = await page.textContent('#recs-note');
  await page.waitForSelector('html[data-complete="true"]', { timeout: 120000 });
  // Where the time went: the page's User Timing marks (js/recommender.js, js/app.js) and when
  // the modules were in, from navigation start.
  const marks = await page.evaluate(() => {
    const at = Object.fromEntries(performance.getEntriesByType('mark').filter((m) => m.name.startsWith('movie-recs:')).map((m) => [m.name.slice(11), Math.round(m.startTime)]));
    const nav = performance.getEntriesByType('navigation')[0];
    return { html: Math.round(nav.responseEnd), ...at };
  });
  return { first, shown: marks['kept-list'] ?? marks['first-recommendations'], complete: Date.now() - t, personal: /Based on your 1 rating/.test(personal ?? ''), marks };
}

/** One saved rating (Heat, 1995) in `context`'s storage, as the page's own storage holds it. */
export async function seedOneRating(context) {
  await context.addInitScript(() => {
    if (!localStorage.getItem('movie-recs:ratings')) localStorage.setItem('movie-recs:ratings', JSON.stringify({ version: 1, ratings: [{ movieId: 6, rating: 5, ratedAt: 1 }] }));
  });
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = (rs) => ({
  first_recommendations_ms: median(rs.map((r) => r.first)),
  first_list_shown_ms: median(rs.map((r) => r.shown)),
  all_methods_ms: median(rs.map((r) => r.complete)),
  marks: Object.fromEntries(Object.keys(rs[0].marks).map((k) => [k, median(rs.map((r) => r.marks[k] ?? NaN))])),
  runs: rs,
});

/** One cold visit and the warm one after it, in a fresh browser profile. */
async function coldThenWarm(browser, origin, i) {
  const context = await browser.newContext();
  await seedOneRating(context);
  const page = await throttled(context);
  const cold = await visit(page, `${origin}/?cold=${i}`);
  await page.waitForSelector('html[data-offline="ready"]', { timeout: 120000 });
  await page.close();
  const again = await throttled(context);
  const warm = await visit(again, `${origin}/?warm=${i}`);
  await context.close();
  return { cold, warm };
}

/**
 * Cold and warm first loads, `runs` of each, of every origin in turn (a fresh browser profile
 * per run): with two origins, run one after the other, so that both meet the same moments of a
 * busy machine (the warm figures swing by 150 ms from minute to minute here; comparing runs made
 * an hour apart has misled before). One result per origin.
 */
export async function firstLoads(browser, origins, runs = 3) {
  const visits = origins.map(() => ({ cold: [], warm: [] }));
  for (let i = 0; i < runs; i++) {
    for (const [j, origin] of origins.entries()) {
      const { cold, warm } = await coldThenWarm(browser, origin, i);
      visits[j].cold.push(cold);
      visits[j].warm.push(warm);
    }
  }
  return visits.map((v) => ({ profile: { ...SLOW_4G, cpu_slowdown: CPU_SLOWDOWN }, cold: summary(v.cold), warm: summary(v.warm) }));
}

export function describe(result) {
  const marks = (s) => Object.entries(s.marks).map(([k, v]) => `${k} ${v}`).join(', ');
  const line = (name, s) =>
    `${name}: a personal list on screen ${s.first_list_shown_ms} ms (runs ${s.runs.map((r) => r.shown).join(', ')}), first computed ${s.first_recommendations_ms} ms (runs ${s.runs.map((r) => r.first).join(', ')}), every method ${s.all_methods_ms} ms\n    median ms from navigation: ${marks(s)}`;
  return [
    `Slow 4G (1.6 Mbit/s, 150 ms, CPU ${CPU_SLOWDOWN}x slower), brotli from scripts/serve.py:`,
    `  ${line('cold (first visit)', result.cold)}`,
    `  ${line('warm (service worker)', result.warm)}`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--against');
  const against = at >= 0 ? args.splice(at, 2)[1] : null;
  if (at >= 0 && !against) throw new Error('usage: node bench/first-load.mjs [RUNS] [--against DIR]');
  const servers = [await startServer(), ...(against ? [await startServer(against)] : [])];
  const browser = await launch();
  try {
    const results = await firstLoads(browser, servers.map((s) => s.origin), Number(args[0] ?? 3));
    for (const [j, result] of results.entries()) {
      if (![...result.cold.runs, ...result.warm.runs].every((r) => r.personal)) console.log('warning: a first list was not the personal one');
      if (against) console.log(j === 0 ? 'www/ (this tree):' : `${against} (runs interleaved with the above):`);
      console.log(describe(result));
    }
  } finally {
    await browser.close();
    for (const s of servers) s.stop();
  }
}
