// The wasm package outside the browser: the Node example (recommendations at build time) and
// the npm package manifest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, sectionEnds, startServer } from './harness.mjs';
import { Recommender } from '../../www/pkg/node.js';
import { needsRest } from '../../www/js/recommender.js';

const dir = mkdtempSync(join(tmpdir(), 'movie-recs-node-'));
const run = (...args) => spawnSync(process.execPath, [`${ROOT}/examples/node-recommend.mjs`, ...args], { encoding: 'utf8' });

test('the Node example recommends from a ratings export, skipping bad entries', () => {
  const file = join(dir, 'ratings.json');
  writeFileSync(file, JSON.stringify({ format: 'movie-recs-ratings', version: 1, ratings: [{ movieId: 6, rating: 5 }, { movieId: 1, rating: 4.5 }, { movieId: 'x', rating: 3 }, { movieId: 2, rating: 99 }] }));
  const out = run(file, `${ROOT}/www/model.bin`, '7');
  assert.equal(out.status, 0, out.stderr);
  const result = JSON.parse(out.stdout);
  assert.equal(result.items.length, 7);
  assert.equal(result.usedRatings, 2);
  assert.deepEqual(result.skipped.map((s) => s.reason).sort(), ['invalidId', 'outOfRange']);
  for (const item of result.items) {
    assert.ok(![6, 1, 2].includes(item.movieId));
    assert.ok(item.reasons.every((r) => r.kind !== 'rated' || [6, 1].includes(r.movieId)));
  }
});

test('the Node example fails clearly on a corrupt model and on a non-list', () => {
  const corrupt = join(dir, 'corrupt.bin');
  writeFileSync(corrupt, 'MOVRECS\0garbage');
  const ratings = join(dir, 'r.json');
  writeFileSync(ratings, '[]');
  const bad = run(ratings, corrupt);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /error: model file is truncated/);
  writeFileSync(ratings, '{"nothing": true}');
  const notList = run(ratings);
  assert.equal(notList.status, 1);
  assert.match(notList.stderr, /no list of ratings/);
});

test('www/pkg is a valid npm package with types, the element, the model and a README', () => {
  const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: `${ROOT}/www/pkg`, encoding: 'utf8' }));
  const files = packed[0].files.map((f) => f.path).sort();
  for (const f of ['README.md', 'movie_recs.d.ts', 'movie_recs.js', 'movie_recs_bg.wasm', 'package.json', 'node.js', 'node.d.ts', 'element.js', 'element.d.ts', 'js/recommender.js', 'js/history.js', 'model.bin', 'custom-elements.json']) {
    assert.ok(files.includes(f), `${f} in ${files}`);
  }
  assert.ok(!files.includes('precache.js'), 'the service worker list is the page\'s, not the package\'s');
  assert.equal(packed[0].name, 'movie-recs');
});

test('needsRest names exactly the methods a model core cannot serve (the page and the core agree)', () => {
  const bytes = readFileSync(`${ROOT}/www/model.bin`);
  const whole = new Recommender(bytes);
  const core = Recommender.fromCore(bytes.subarray(0, Recommender.coreLength(bytes)));
  const inCore = core.methods().map((m) => m.name);
  const all = whole.methods().map((m) => m.name);
  assert.ok(all.length > inCore.length, `${all} vs ${inCore}`);
  for (const name of all) assert.equal(needsRest(name), !inCore.includes(name), name);
});

test('the first list needs only the core; the ids and predicted stars come with the sections after it', () => {
  const bytes = readFileSync(`${ROOT}/www/model.bin`);
  const whole = new Recommender(bytes);
  const coreEnd = Recommender.coreLength(bytes);
  const linksEnd = Recommender.linksLength(bytes);
  const starsEnd = Recommender.starsLength(bytes);
  assert.ok(coreEnd < linksEnd && linksEnd < starsEnd && starsEnd < bytes.length, `${coreEnd} < ${linksEnd} < ${starsEnd} < ${bytes.length}`);
  // The tests' and benches' own reading of the header agrees with the core's.
  assert.deepEqual(sectionEnds(bytes), { core: coreEnd, links: linksEnd, stars: starsEnd, extras: bytes.length });
  const ratings = [{ movieId: 6, rating: 5 }, { movieId: 318, rating: 4.5 }];
  const list = (r) => r.recommend(ratings, { method: 'mf', count: 10 }).items;
  const early = Recommender.fromCore(bytes.subarray(0, coreEnd));
  assert.equal(early.hasStars, false);
  assert.equal(early.hasLinks, false);
  assert.deepEqual(list(early).map((m) => m.movieId), list(whole).map((m) => m.movieId), 'the same ranking without the ids and the stars');
  assert.ok(list(early).every((m) => !('predictedRating' in m)), 'no predicted stars yet');
  assert.ok(list(early).every((m) => m.imdbId === null && m.tmdbId === null), 'no outside ids yet');
  assert.equal(whole.movie(318).imdbId, 111161, 'The Shawshank Redemption, tt0111161');
  assert.throws(() => early.matchMovies([{ imdbId: 111161 }]), /needs the model's links section, which has not arrived yet/);
  assert.throws(() => early.attachLinks(bytes.subarray(0, linksEnd - 1)), /model file is truncated/);
  early.attachLinks(bytes.subarray(0, linksEnd));
  assert.equal(early.hasLinks, true);
  assert.deepEqual(early.movie(318), whole.movie(318));
  assert.deepEqual(early.matchMovies([{ imdbId: 111161 }]), whole.matchMovies([{ imdbId: 111161 }]));
  assert.throws(() => early.attachStars(bytes.subarray(0, starsEnd - 1)), /model file is truncated/);
  assert.equal(early.hasStars, false, 'a short prefix leaves it as it was');
  early.attachStars(bytes.subarray(0, starsEnd));
  assert.equal(early.hasStars, true);
  const withStars = list(early).map((m) => m.predictedRating);
  assert.ok(withStars.every((p) => p >= 0.5 && p <= 5), withStars.join());
  assert.equal(early.hasExtras, false);
});

test('index.html loads the bundled script and preloads every module it imports, at any depth, and nothing else', () => {
  const html = readFileSync(`${ROOT}/www/index.html`, 'utf8');
  assert.match(html, /<script type="module" src="dist\/app.js"><\/script>/);
  const preloaded = new Set([...html.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => m[1]));
  const graph = new Set();
  const visit = (file) => {
    if (graph.has(file)) return;
    graph.add(file);
    const source = readFileSync(`${ROOT}/www/${file}`, 'utf8');
    // Static imports and re-exports as esbuild writes them (`import{a as b}from"./chunk.js"`);
    // `import("./history.js")`, loaded on first use, is not one.
    for (const [, spec] of source.matchAll(/\b(?:import|export)\s*(?:[\w$*{},\s]*?from\s*)?["'](\.[^"']+)["']/g)) {
      visit(new URL(spec, `file:///${file}`).pathname.slice(1));
    }
  };
  visit('dist/app.js');
  assert.deepEqual([...preloaded].sort(), [...graph].sort());
  assert.deepEqual([...graph].sort(), ['dist/app.js', 'dist/chunk.js'], 'the page is two files, whatever www/js/ holds');
  assert.match(readFileSync(`${ROOT}/www/dist/app.js`, 'utf8'), /import\("\.\/history\.js"\)/, 'the import and export code on first use');
  assert.match(html, /<link rel="preload" href="pkg\/movie_recs_bg.wasm" as="fetch" type="application\/wasm" crossorigin>/);
});

test('the offline lists of www/ name files that exist: the bundled page and the bundled widget, not their sources', () => {
  const listed = (file, name) => {
    const self = {};
    new Function('self', readFileSync(`${ROOT}/www/${file}`, 'utf8'))(self);
    return self[name].files;
  };
  const page = listed('pkg/precache.js', 'MOVIE_RECS_PRECACHE');
  const widget = listed('widget-precache.js', 'MOVIE_RECS_WIDGET_PRECACHE');
  for (const f of [...page, ...widget]) assert.ok(f === './' || existsSync(`${ROOT}/www/${f}`), `${f} is listed but missing`);
  assert.deepEqual(page.filter((f) => f.startsWith('dist/')).sort(), ['dist/app.js', 'dist/chunk.js', 'dist/history.js']);
  assert.deepEqual(widget.sort(), ['dist/movie-recs-chunk.js', 'dist/movie-recs-history.js', 'dist/movie-recs.js', 'model.bin', 'pkg/movie_recs_bg.wasm']);
  for (const html of ['site/index.html', 'site/about.html']) {
    assert.match(readFileSync(`${ROOT}/www/${html}`, 'utf8'), /<script type="module" src="\.\.\/dist\/movie-recs\.js"><\/script>/, html);
  }
});

test('the static server sends the build\'s brotli or gzip sibling by Accept-Encoding, and never a stale one', async () => {
  const site = mkdtempSync(join(tmpdir(), 'movie-recs-serve-'));
  const body = Buffer.from('movie '.repeat(5000));
  writeFileSync(join(site, 'model.bin'), body);
  writeFileSync(join(site, 'plain.js'), body);
  const made = spawnSync(process.execPath, [`${ROOT}/scripts/precompress.mjs`, join(site, 'model.bin')], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const server = await startServer(site);
  try {
    const get = async (path, accept) => {
      const response = await fetch(`${server.origin}/${path}`, { headers: { 'Accept-Encoding': accept } });
      return { coding: response.headers.get('content-encoding'), vary: response.headers.get('vary'), bytes: Buffer.from(await response.arrayBuffer()) };
    };
    // Node's fetch decodes br and gzip itself: the bytes must come back whole either way.
    const br = await get('model.bin', 'gzip, deflate, br');
    assert.equal(br.coding, 'br');
    assert.equal(br.vary, 'Accept-Encoding');
    assert.deepEqual(br.bytes, body);
    assert.deepEqual(brotliDecompressSync(readFileSync(join(site, 'model.bin.br'))), body);
    const gz = await get('model.bin', 'gzip');
    assert.equal(gz.coding, 'gzip');
    assert.deepEqual(gunzipSync(readFileSync(join(site, 'model.bin.gz'))), body);
    assert.equal((await get('model.bin', 'br;q=0, gzip')).coding, 'gzip');
    assert.equal((await get('model.bin', 'identity')).coding, null);
    assert.equal((await get('plain.js', 'br')).coding, null, 'no sibling and no gzip accepted: sent as it is');
    assert.equal((await get('plain.js', 'gzip, br')).coding, 'gzip', 'no sibling: gzipped on the fly');
    // A file newer than its siblings (a rebuilt model not yet precompressed) is never answered
    // with the old bytes.
    const newer = Buffer.from('a different model '.repeat(100));
    writeFileSync(join(site, 'model.bin'), newer);
    const later = new Date(Date.now() + 60000);
    utimesSync(join(site, 'model.bin'), later, later);
    const fresh = await get('model.bin', 'gzip, br');
    assert.equal(fresh.coding, 'gzip');
    assert.deepEqual(fresh.bytes, newer);
  } finally {
    server.stop();
  }
});
