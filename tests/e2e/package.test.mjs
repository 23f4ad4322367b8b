// The npm package as a user meets it: `npm pack`, installed into a new project, then used in
// Node (one import, the wasm loads itself), in a page through an import map, and in a page
// through a plain relative path, as a CDN serves it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, launch, openPage, startServer } from './harness.mjs';

const project = mkdtempSync(join(tmpdir(), 'movie-recs-user-'));
let server;
let browser;

before(async () => {
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', project], { cwd: `${ROOT}/www/pkg`, encoding: 'utf8' }).trim().split('\\n').at(-1);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'a-film-site', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', join(project, tarball)], { cwd: project, stdio: 'pipe' });
  server = await startServer(project);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

test('in Node: one import, the bundled model, recommendations', () => {
  writeFileSync(
    join(project, 'recommend.mjs'),
    `import { Recommender, defaultModel } from 'movie-recs';
     import { readHistory } from 'movie-recs/history.js';
     const rec = new Recommender(defaultModel());
     const out = rec.recommend([{ movieId: 6, rating: 5 }], { count: 3 });
     console.log(JSON.stringify({ n: out.items.length, info: rec.info().dataset, history: typeof readHistory }));`,
  );
  const out = JSON.parse(execFileSync(process.execPath, ['recommend.mjs'], { cwd: project, encoding: 'utf8' }));
  assert.deepEqual(out, { n: 3, info: 'ml-latest-small', history: 'function' });
  assert.ok(readdirSync(join(project, 'node_modules/movie-recs')).includes('model.bin'));
});

test('the widget service worker ships with the list of the files it keeps, each in the package', () => {
  const pkg = join(project, 'node_modules/movie-recs');
  assert.ok(existsSync(join(pkg, 'movie-recs-sw.js')));
  const list = readFileSync(join(pkg, 'widget-precache.js'), 'utf8');
  const files = JSON.parse(/files: (\[.*\])/.exec(list)[1]);
  assert.ok(files.includes('element.js') && files.includes('movie_recs_bg.wasm') && files.includes('model.bin'), String(files));
  for (const f of files) assert.ok(existsSync(join(pkg, f)), `${f} is listed but not in the package`);
});

for (const [how, head] of [
  ['through an import map', `<script type="importmap">{"imports": {"movie-recs/": "./node_modules/movie-recs/"}}</script><script type="module">import 'movie-recs/element.js';</script>`],
  ['through a plain relative path', `<script type="module" src="./node_modules/movie-recs/element.js"></script>`],
]) {
  test(`in a page ${how}: the element loads the packaged wasm and model`, async () => {
    const name = how.includes('map') ? 'map.html' : 'plain.html';
    writeFileSync(join(project, name), `<!doctype html><meta charset="utf-8"><title>films</title><link rel="icon" href="data:,">${head}<movie-recs count="4"></movie-recs>`);
    const { page, record, context } = await openPage(browser);
    await page.goto(`${server.origin}/${name}`);
    await page.waitForSelector('movie-recs[data-complete="true"]');
    assert.equal(await page.$eval('movie-recs', (w) => w.shadowRoot.querySelectorAll('ol > li').length), 4);
    assert.ok(record.requests.some((u) => u.endsWith('/node_modules/movie-recs/model.bin')));
    assert.deepEqual(record.errors, []);
    await context.close();
  });
}
