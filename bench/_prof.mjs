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
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
  return { page, cdp };
}
let { page } = await throttled();
await page.goto(`${server.origin}/?cold`);
await page.waitForSelector('html[data-complete="true"]', { timeout: 120000 });
await page.waitForSelector('html[data-offline="ready"]', { timeout: 120000 });
await page.close();
const { page: p2, cdp } = await throttled();
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
await cdp.send('Profiler.start');
const t = Date.now();
await p2.goto(`${server.origin}/?warm`);
await p2.waitForSelector('html[data-ready="true"]', { timeout: 120000 });
console.log('first', Date.now() - t);
const { profile } = await cdp.send('Profiler.stop');
fs.writeFileSync('/tmp/prof/warm.cpuprofile', JSON.stringify(profile));
const marks = await p2.evaluate(() => performance.getEntriesByType('mark').map((m) => [m.name, Math.round(m.startTime)]));
console.log(marks);
await browser.close(); server.stop();
