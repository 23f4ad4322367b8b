// The widget's first load on a slow phone (figures printed, never asserted): the example site's
// page (www/site/index.html, one <movie-recs> and one script tag, no preloads) on
// bench/first-load.mjs's profile (Slow 4G, CPU 4x slower), a fresh browser each run, from
// navigation to the widget's first list (data-ready). With a second www/ (say one whose site
// loads the unbundled ../movie-recs.js, or another commit's build), runs alternate between them.
//
//   node bench/widget-load.mjs [RUNS] [--against DIR]     (after ./build.sh build)
import { startServer, launch } from '../tests/e2e/harness.mjs';
import { median, throttled } from './first-load.mjs';

const args = process.argv.slice(2);
const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 6);
const against = args.includes('--against') ? args[args.indexOf('--against') + 1] : null;
const dirs = [undefined, ...(against ? [against] : [])];
const servers = await Promise.all(dirs.map((d) => startServer(d)));
const times = dirs.map(() => []);
try {
  for (let i = 0; i < runs; i++) {
    for (const [j, server] of servers.entries()) {
      const browser = await launch();
      try {
        const page = await throttled(await browser.newContext());
        const t = Date.now();
        await page.goto(`${server.origin}/site/index.html?run=${i}`, { timeout: 120000 });
        await page.waitForSelector('movie-recs[data-ready="true"]', { timeout: 120000 });
        times[j].push(Date.now() - t);
      } finally {
        await browser.close();
      }
    }
  }
} finally {
  servers.forEach((s) => s.stop());
}
for (const [j, dir] of dirs.entries()) {
  console.log(`${dir ?? 'www/ (this tree)'}: the widget's first list ${median(times[j])} ms after navigation (runs ${times[j].join(', ')}), Slow 4G, CPU 4x slower, cold`);
}
