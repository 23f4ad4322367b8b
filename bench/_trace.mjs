import { startServer, launch } from '../tests/e2e/harness.mjs';
import { SLOW_4G, CPU_SLOWDOWN } from './first-load.mjs';
import fs from 'node:fs';
const server = await startServer(process.env.WWW);
const browser = await launch();
const context = await browser.newContext();
await context.addInitScript(() => {
  if (!localStorage.getItem('movie-recs:ratings')) localStorage.setItem('movie-recs:ratings', JSON.stringify({ version: 1, ratings: [{ movieId: 6, rating: 5, ratedAt: 1 }] }));
});
async function throttled() {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: Number(process.env.CPU ?? CPU_SLOWDOWN) });
  return { page, cdp };
}
let { page } = await throttled();
await page.goto(`${server.origin}/?cold`);
await page.waitForSelector('html[data-complete="true"]', { timeout: 120000 });
await page.waitForSelector('html[data-offline="ready"]', { timeout: 120000 });
await page.close();
for (let i = 0; i < Number(process.env.N ?? 1); i++) {
const { page: p2 } = await throttled();
if (i === 0) await browser.startTracing(p2, { path: '/tmp/prof/trace.json', categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.wasm', 'disabled-by-default-v8.wasm.detailed', 'blink.user_timing', 'loading', 'ServiceWorker', 'toplevel'] });
const t = Date.now();
await p2.goto(`${server.origin}/?warm${i}`);
await p2.waitForSelector('html[data-ready="true"]', { timeout: 120000 });
const first = Date.now() - t;
if (i === 0) await browser.stopTracing();
const marks = await p2.evaluate(() => performance.getEntriesByType('mark').map((m) => `${m.name.slice(11)} ${Math.round(m.startTime)}`).join(', '));
console.log('first', first, marks);
await p2.close();
}
await browser.close(); server.stop();
