// A localStorage for the Node tests of the page's storage modules (storage.js, marks.js, kept.js).

/** localStorage with a quota in characters (keys and values), like the browser's. */
export class FakeStorage {
  constructor(quota = Infinity) {
    this.quota = quota;
    this.map = new Map();
  }
  get length() {
    return this.map.size;
  }
  key(i) {
    return [...this.map.keys()][i] ?? null;
  }
  getItem(k) {
    return this.map.has(k) ? this.map.get(k) : null;
  }
  used() {
    let n = 0;
    for (const [k, v] of this.map) n += k.length + v.length;
    return n;
  }
  setItem(k, v) {
    v = String(v);
    const after = this.used() - (this.map.has(k) ? k.length + this.map.get(k).length : 0) + k.length + v.length;
    if (after > this.quota) throw new DOMException('quota', 'QuotaExceededError');
    this.map.set(k, v);
  }
  removeItem(k) {
    this.map.delete(k);
  }
  clear() {
    this.map.clear();
  }
}
