// Where a warm visit's main thread goes (figures printed, never asserted): one cold visit to
// fill the service worker, then a warm one under bench/first-load.mjs's profile (Slow 4G, CPU
// 4x slower) with V8's sampling profiler on; prints the User Timing marks and the functions with
// the most time, by self and by total. Function names need a wasm with its name section: build
// one with `wasm-bindgen --keep-debug` and `wasm-opt -g` into a copy of www/ and pass it as WWW.
//
//   node bench/warm-profile.mjs [--out FILE.cpuprofile]   (after ./build.sh build; WWW=DIR for another copy of www/)
import { writeFileSync } from 'node:fs';
import { startServer, launch } from '../tests/e2e/harness.mjs';
import { seedOneRating, throttled } from './first-load.mjs';

const out = process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1] : null;
const server = await startServer(process.env.WWW);
const browser = await launch();
try {
  const context = await browser.newContext();
  await seedOneRating(context);
  const cold = await throttled(context);
  await cold.goto(`${server.origin}/?cold`);
  await cold.waitForSelector('html[data-complete="true"]', { timeout: 120000 });
  await cold.waitForSelector('html[data-offline="ready"]', { timeout: 120000 });
  await cold.close();

  const page = await throttled(context);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await page.goto(`${server.origin}/?warm`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 120000 });
  const { profile } = await cdp.send('Profiler.stop');
  if (out) writeFileSync(out, JSON.stringify(profile));
  const marks = await page.evaluate(() => performance.getEntriesByType('mark').map((m) => `${m.name.replace('movie-recs:', '')} ${Math.round(m.startTime)}`));
  console.log(`marks (ms from navigation): ${marks.join(', ')}`);
  summarise(profile);
} finally {
  await browser.close();
  server.stop();
}

/** The heaviest functions of a CPU profile, by self time and by total (inclusive) time. */
function summarise(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n) => `${n.callFrame.functionName.replace(/::h[0-9a-f]{16}$/, '') || '(anonymous)'} ${n.callFrame.url.split('/').pop()}`.trim();
  const self = new Map();
  const total = new Map();
  profile.samples.forEach((id, i) => {
    const ms = profile.timeDeltas[i] / 1000;
    const leaf = name(byId.get(id));
    self.set(leaf, (self.get(leaf) ?? 0) + ms);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const k = name(byId.get(cur));
      if (!seen.has(k)) total.set(k, (total.get(k) ?? 0) + ms);
      seen.add(k);
    }
  });
  const top = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => `  ${v.toFixed(1).padStart(7)} ms  ${k.slice(0, 120)}`).join('\n');
  console.log(`self time:\n${top(self)}\ntotal time:\n${top(total)}`);
}
