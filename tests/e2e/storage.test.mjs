// The ratings store (www/js/storage.js) in Node with a fake localStorage that can fill up: each
// of the ways a rating used to be lost, and a long seeded run of random operations in which
// none is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_BACKUPS, MAX_RATINGS, RatingStore, parseRatings } from '../../www/js/storage.js';
import { DEFAULT_MARKS_KEY, MarkStore } from '../../www/js/marks.js';
import { FakeStorage } from './fake-storage.mjs';

function withStorage(storage, fn) {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'localStorage');
  Object.defineProperty(globalThis, 'localStorage', { value: storage, configurable: true, writable: true });
  try {
    return fn();
  } finally {
    if (saved) Object.defineProperty(globalThis, 'localStorage', saved);
    else delete globalThis.localStorage;
  }
}

const KEY = 'movie-recs:ratings';
const backups = (s) => [...s.map.keys()].filter((k) => k.startsWith(`${KEY}:backup:`)).sort().map((k) => s.getItem(k));
const many = (n, from = 1) => Array.from({ length: n }, (_, i) => ({ movieId: from + i, rating: 4, ratedAt: from + i }));

test('every unreadable value is backed up, in a ring of timestamped backups', () => {
  const s = new FakeStorage();
  withStorage(s, () => {
    s.setItem(KEY, '{first bad');
    const a = new RatingStore();
    assert.match(a.warnings.join(), /kept as a backup/);
    s.setItem(KEY, '{second bad');
    const b = new RatingStore();
    assert.match(b.warnings.join(), /kept as a backup/);
    assert.deepEqual(backups(s), ['{first bad', '{second bad'], 'the second is kept too, not only the first');
    for (let i = 0; i < 5; i++) {
      s.setItem(KEY, `{bad ${i}`);
      new RatingStore();
    }
    assert.equal(backups(s).length, MAX_BACKUPS, 'the ring keeps the newest few');
    assert.equal(b.getBackup(), '{bad 4');
    assert.deepEqual(b.getBackups().map((x) => x.raw), ['{bad 4', '{bad 3', '{bad 2']);
  });
});

test('unreadable marks go to the same ring of backups: every one kept, the newest few, none overwritten', () => {
  const s = new FakeStorage();
  const markBackups = () => [...s.map.keys()].filter((k) => k.startsWith(`${DEFAULT_MARKS_KEY}:backup:`)).sort().map((k) => s.getItem(k));
  withStorage(s, () => {
    // Written within one millisecond: each still gets its own key (a counter after the time).
    for (let i = 0; i < 5; i++) {
      s.setItem(DEFAULT_MARKS_KEY, `{bad marks ${i}`);
      const m = new MarkStore();
      assert.match(m.warnings.join(), /kept as a backup/);
      assert.equal(m.locked, false);
    }
    assert.deepEqual(markBackups(), ['{bad marks 2', '{bad marks 3', '{bad marks 4'].slice(-MAX_BACKUPS));
    // The same text again is not a new backup.
    new MarkStore();
    assert.equal(markBackups().length, MAX_BACKUPS);
    assert.equal(backups(s).length, 0, "the ratings' ring is its own");
  });
  // No room for a backup: the original stays untouched and new marks live in memory.
  const full = new FakeStorage(100);
  withStorage(full, () => {
    full.setItem(DEFAULT_MARKS_KEY, '{unreadable marks, a long text}');
    const m = new MarkStore();
    assert.equal(m.locked, true);
    m.set(7, 'seen');
    assert.equal(m.get(7), 'seen');
    assert.equal(full.getItem(DEFAULT_MARKS_KEY), '{unreadable marks, a long text}');
  });
});

test('one cap everywhere, keeping the newest, with a notice and a backup of the rest', () => {
  const s = new FakeStorage();
  withStorage(s, () => {
    // Reload of an over-full list keeps the newest, not the first.
    s.setItem(KEY, JSON.stringify({ version: 1, ratings: many(MAX_RATINGS + 10) }));
    const a = new RatingStore();
    assert.equal(a.list().length, MAX_RATINGS);
    assert.equal(a.list()[0].movieId, 11, 'the oldest 10 are set aside');
    assert.equal(a.list().at(-1).movieId, MAX_RATINGS + 10);
    assert.equal(parseRatings(JSON.parse(a.getBackup())).ratings.length, MAX_RATINGS + 10, 'all of them are in the backup');
    // set and merge hold the same cap.
    const warnings = [];
    a.onWarning = (w) => warnings.push(w);
    a.set(999999, 5);
    assert.equal(a.list().length, MAX_RATINGS);
    assert.equal(a.get(999999), 5, 'the newest rating is kept');
    assert.match(warnings.join(), /more than 5000 ratings/);
    a.merge({ ratings: many(100, 20000) });
    assert.equal(a.list().length, MAX_RATINGS);
    assert.equal(a.get(20099), 4);
    const stored = JSON.parse(s.getItem(KEY)).ratings;
    assert.equal(stored.length, MAX_RATINGS, 'what is saved is capped too, so a reload keeps the same list');
  });
});

test('clear and undo restore every rating', () => {
  const s = new FakeStorage();
  withStorage(s, () => {
    const a = new RatingStore();
    a.merge({ ratings: many(MAX_RATINGS) });
    a.set(1, 2.5);
    const before = a.list();
    const removed = a.clear();
    assert.equal(a.list().length, 0);
    a.restore(removed);
    assert.deepEqual(a.list(), before);
    assert.deepEqual(new RatingStore().list(), before, 'and it is saved');
  });
});

test("another tab's change does not wipe ratings that could not be saved", () => {
  const s = new FakeStorage(200);
  withStorage(s, () => {
    const a = new RatingStore();
    a.set(1, 4);
    for (let id = 2; id < 30; id++) a.set(id, 3); // storage fills up
    assert.match(a.warnings.join(), /storage is full/);
    assert.equal(a.list().length, 29);
    // Another tab frees space and writes its own rating: the storage event reloads this one.
    const saved = JSON.parse(s.getItem(KEY)).ratings;
    assert.ok(saved.length < 29);
    s.quota = 1e6;
    s.setItem(KEY, JSON.stringify({ version: 1, ratings: [...saved, { movieId: 500, rating: 5, ratedAt: 1 }] }));
    a.load();
    assert.equal(a.list().length, 30, "the other tab's rating and all 29 of ours");
    assert.equal(a.get(500), 5);
    assert.equal(a.get(29), 3);
    assert.equal(JSON.parse(s.getItem(KEY)).ratings.length, 30, 'and now they are saved');
  });
});

test('an original that cannot be backed up is never overwritten', () => {
  const original = JSON.stringify({ version: 1, ratings: [...many(5), { movieId: 'x', rating: 3 }] });
  const s = new FakeStorage(original.length + KEY.length + 40); // room for the probe, not for a backup
  withStorage(s, () => {
    s.setItem(KEY, original);
    const a = new RatingStore();
    assert.equal(a.list().length, 5);
    assert.match(a.warnings.join(), /no room to back up the original/);
    a.set(77, 4.5);
    assert.equal(s.getItem(KEY), original, 'the original stays as it was');
    assert.equal(a.get(77), 4.5, 'the new rating is kept in memory');
  });
});

test('a seeded run of random operations never loses a rating', () => {
  let seed = 42;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const s = new FakeStorage(4000);
  withStorage(s, () => {
    let store = new RatingStore();
    const expected = new Map();
    for (let step = 0; step < 2000; step++) {
      const op = rand(10);
      if (op < 6) {
        const id = 1 + rand(60);
        const rating = rand(5) === 0 ? null : 0.5 + rand(10) / 2;
        store.set(id, rating);
        if (rating === null) expected.delete(id);
        else expected.set(id, rating);
      } else if (op === 6) {
        s.quota = 1000 + rand(6000); // storage shrinks or grows (another site, the visitor freeing space)
      } else if (op === 7) {
        store.load(); // another tab's storage event
      } else if (op === 8) {
        store.restore(store.clear());
      } else if (store.unsaved.size === 0 && !store.locked) {
        store = new RatingStore(); // a reload, once everything is saved
      }
      assert.deepEqual(new Map(store.list().map((r) => [r.movieId, r.rating])), expected, `step ${step}`);
    }
  });
});
