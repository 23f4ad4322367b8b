// The kept list (www/js/kept.js) in Node: a record is shown only for the model and state it was
// computed from, and whatever else is found under its key (tampered, truncated, another
// version, hostile values) is dropped without an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeptList, MAX_KEPT, fingerprint, forgetKept, keptKey } from '../../www/js/kept.js';
import { FakeStorage } from './fake-storage.mjs';

const item = (movieId, extra = {}) => ({
  movieId,
  title: `Movie ${movieId}`,
  year: 1995,
  genres: ['Drama'],
  ratingCount: 10,
  ratingMean: 4,
  imdbId: 113277,
  tmdbId: null,
  score: 1,
  predictedRating: 4.2,
  reasons: [{ kind: 'rated', movieId: 6, title: 'Heat', rating: 5 }],
  ...extra,
});
const MODEL = 'https://example.org/model.bin';
const record = (extra = {}) => ({ model: MODEL, state: fingerprint([1]), modelId: '00ff00ff00ff00ff', method: 'hybrid', usedRatings: 1, items: [item(1), item(2)], ...extra });

test('a saved list reads back only for its model and state', () => {
  const storage = new FakeStorage();
  const kept = new KeptList(keptKey('movie-recs:ratings'), storage);
  kept.save(record());
  const found = kept.read(MODEL, fingerprint([1]));
  assert.deepEqual(found.items.map((m) => m.movieId), [1, 2]);
  assert.equal(found.usedRatings, 1);
  assert.equal(kept.read('https://example.org/other.bin', fingerprint([1])), null);
  assert.equal(kept.read(MODEL, fingerprint([1, 2])), null);
  assert.ok(storage.getItem('movie-recs:ratings:kept-list'), 'a mismatch keeps the record');
  assert.notEqual(fingerprint({ a: 1 }), fingerprint({ a: 2 }));
  // At most MAX_KEPT items are kept.
  kept.save(record({ items: Array.from({ length: MAX_KEPT + 10 }, (_, i) => item(i + 1)) }));
  assert.equal(kept.read(MODEL, fingerprint([1])).items.length, MAX_KEPT);
});

test('anything else under the key is dropped, never thrown', () => {
  const hostile = [
    'not json',
    'null',
    '[]',
    '"a string"',
    JSON.stringify({ ...record(), version: 2 }),
    JSON.stringify({ ...record(), items: [] }),
    JSON.stringify({ ...record(), items: 'x' }),
    JSON.stringify({ ...record(), usedRatings: 0 }),
    JSON.stringify({ ...record(), usedRatings: 1.5 }),
    JSON.stringify({ ...record(), model: 7 }),
    JSON.stringify({ ...record(), items: Array.from({ length: MAX_KEPT + 1 }, (_, i) => item(i + 1)) }),
    JSON.stringify(record({ items: [item(-1)] })),
    JSON.stringify(record({ items: [item(2 ** 32)] })),
    JSON.stringify(record({ items: [item(1, { title: { toString: 1 } })] })),
    JSON.stringify(record({ items: [item(1, { title: 'x'.repeat(5000) })] })),
    JSON.stringify(record({ items: [item(1, { year: '1995' })] })),
    JSON.stringify(record({ items: [item(1, { genres: [1] })] })),
    JSON.stringify(record({ items: [item(1, { predictedRating: null })] })),
    JSON.stringify(record({ items: [item(1, { reasons: [] })] })),
    JSON.stringify(record({ items: [item(1, { reasons: [{ kind: 'rated', title: 7 }] })] })),
    JSON.stringify(record({ items: [item(1, { reasons: [{ kind: 'similar', similarity: 1 }] })] })),
    JSON.stringify(record({ items: [item(1, { reasons: [{ kind: 'popular', ratingMean: 'x', ratingCount: 1 }] })] })),
    JSON.stringify(record({ items: [item(1, { imdbId: 'tt0113277' })] })),
    JSON.stringify(record({ items: [null] })),
  ];
  for (const raw of hostile) {
    const storage = new FakeStorage();
    // record() has no version (save adds it): the objects get version 1 unless they set another.
    const value = raw.startsWith('{') ? JSON.stringify({ version: 1, ...JSON.parse(raw) }) : raw;
    storage.setItem('k:kept-list', value);
    const kept = new KeptList('k:kept-list', storage);
    assert.equal(kept.read(MODEL, fingerprint([1])), null, value.slice(0, 120));
    assert.equal(storage.getItem('k:kept-list'), null, `dropped: ${value.slice(0, 120)}`);
  }
  // The same record, valid, is read: the cases above each break one field.
  const storage = new FakeStorage();
  storage.setItem('k:kept-list', JSON.stringify({ version: 1, ...record() }));
  assert.ok(new KeptList('k:kept-list', storage).read(MODEL, fingerprint([1])));
  // Storage that throws on every call reads as nothing and saves nothing.
  const broken = { getItem() { throw new Error('denied'); }, setItem() { throw new Error('denied'); }, removeItem() { throw new Error('denied'); } };
  const kept = new KeptList('k', broken);
  assert.equal(kept.read(MODEL, fingerprint([1])), null);
  kept.save(record());
  kept.clear();
  assert.equal(new KeptList('k', null).read(MODEL, fingerprint([1])), null);
});

test('forgetKept removes every variant of a ratings key and nothing else', () => {
  const storage = new FakeStorage();
  for (const k of ['film-club:kept-list', 'film-club:kept-list:abc', 'film-club:kept-list:def', 'film-club', 'film-club:marks', 'other:kept-list']) storage.setItem(k, '1');
  forgetKept(storage, 'film-club');
  assert.deepEqual([...storage.map.keys()].sort(), ['film-club', 'film-club:marks', 'other:kept-list']);
  forgetKept(null, 'film-club');
});
