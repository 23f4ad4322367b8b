// Where a cold first load's bytes go (figures printed, never asserted): one cold visit under
// bench/first-load.mjs's profile (Slow 4G, CPU 4x slower), with the Chrome DevTools Protocol's
// network log. Prints each request (sent, response, first and last byte, ms from the first
// request; bytes as sent, compressed) and the bytes the link carried in each 200 ms (the
// profile's cap is 40 KB per 200 ms): where the link is idle is where the first load can still
// gain without sending fewer bytes.
//
//   node bench/cold-network.mjs      (after ./build.sh build)
import { startServer, launch } from '../tests/e2e/harness.mjs';
import { seedOneRating, throttled, SLOW_4G } from './first-load.mjs';

const BUCKET_MS = 200;
const server = await startServer();
const browser = await launch();
try {
  const context = await browser.newContext();
  await seedOneRating(context);
  const page = await throttled(context);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const requests = new Map();
  let start = null;
  const at = (timestamp) => Math.round((timestamp - start) * 1000);
  cdp.on('Network.requestWillBeSent', (e) => {
    start ??= e.timestamp;
    requests.set(e.requestId, { url: e.request.url.replace(server.origin, ''), sent: at(e.timestamp), response: null, first: null, last: null, bytes: 0, chunks: [] });
  });
  cdp.on('Network.responseReceived', (e) => {
    const r = requests.get(e.requestId);
    if (r) r.response = at(e.timestamp);
  });
  cdp.on('Network.dataReceived', (e) => {
    const r = requests.get(e.requestId);
    if (!r) return;
    r.first ??= at(e.timestamp);
    r.last = at(e.timestamp);
    r.bytes += e.encodedDataLength;
    r.chunks.push([at(e.timestamp), e.encodedDataLength]);
  });
  await page.goto(`${server.origin}/?network`, { timeout: 120000 });
  await page.waitForSelector('html[data-ready="true"]', { timeout: 120000 });
  const marks = await page.evaluate(() =>
    performance.getEntriesByType('mark').filter((m) => m.name.startsWith('movie-recs:')).map((m) => `${m.name.slice(11)} ${Math.round(m.startTime)}`),
  );
  console.log('request                      sent  response  first  last   KB (until the first list)');
  for (const r of requests.values()) {
    console.log(`${r.url.padEnd(28)} ${String(r.sent).padStart(5)} ${String(r.response).padStart(9)} ${String(r.first).padStart(6)} ${String(r.last).padStart(5)} ${(r.bytes / 1024).toFixed(1).padStart(6)}`);
  }
  const buckets = new Map();
  for (const r of requests.values()) for (const [t, n] of r.chunks) buckets.set(Math.floor(t / BUCKET_MS), (buckets.get(Math.floor(t / BUCKET_MS)) ?? 0) + n);
  const cap = (SLOW_4G.downloadThroughput * BUCKET_MS) / 1000 / 1024;
  const last = Math.max(...buckets.keys());
  console.log(`KB the link carried per ${BUCKET_MS} ms (cap ${cap.toFixed(0)}):`);
  console.log(Array.from({ length: last + 1 }, (_, i) => `${i * BUCKET_MS}: ${((buckets.get(i) ?? 0) / 1024).toFixed(1)}`).join('  '));
  console.log(`marks (ms from navigation): ${marks.join(', ')}`);
} finally {
  await browser.close();
  server.stop();
}
