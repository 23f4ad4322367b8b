// The wasm package outside the browser: the Node example (recommendations at build time) and
// the npm package manifest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './harness.mjs';
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
