// Shared set-up of the browser tests: a static server for www/ on 127.0.0.1 (scripts/serve.py,
// the same one `./build.sh serve` runs: brotli or gzip, as a static host sends) and Debian's headless Chromium driven by
// playwright-core. Every request the page makes is recorded.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function startServer(dir = `${ROOT}/www`) {
  const proc = spawn('python3', ['-u', `${ROOT}/scripts/serve.py`, '0', dir, '--bind', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 10000);
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /port (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  proc.stderr.resume();
  return { origin: `http://127.0.0.1:${port}`, stop: () => proc.kill() };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** A new page that records requests, console errors and uncaught exceptions. */
export async function openPage(browser, options = {}) {
  const context = await browser.newContext({ acceptDownloads: true, ...options });
  const page = await context.newPage();
  const record = { requests: [], errors: [] };
  page.on('request', (r) => record.requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') record.errors.push(m.text());
  });
  page.on('pageerror', (e) => record.errors.push(e.message));
  return { context, page, record };
}

/** Starts a server and a browser before the file's tests and stops them after: `env.server`, `env.browser`. */
export function useBrowser() {
  const env = {};
  before(async () => {
    env.server = await startServer();
    env.browser = await launch();
  });
  after(async () => {
    await env.browser?.close();
    env.server?.stop();
  });
  return env;
}

/**
 * Holds every request for the model on `page` until the returned `release()` is called; from
 * then on they go through: what a page shows before its model arrives.
 */
export async function holdModel(page) {
  let release;
  const held = new Promise((resolve) => (release = resolve));
  await page.route('**/model.bin', async (route) => {
    await held;
    await route.continue();
  });
  return release;
}

/**
 * Where each section of a model file ends, in file order (src/format.rs): the header is the
 * magic (8 bytes), the format version (4), then each of the four sections' length and checksum
 * (u64 LE each).
 */
export function sectionEnds(bytes) {
  const sections = ['core', 'links', 'stars', 'extras'];
  let end = 12 + 16 * sections.length;
  return Object.fromEntries(sections.map((name, i) => [name, (end += Number(bytes.readBigUInt64LE(12 + 16 * i)))]));
}
