// <movie-recs>: recommendations on any static page with one script tag and one element.
//
//   <script type="module" src="/path/to/movie-recs.js"></script>
//   <movie-recs model="model.bin" count="10" genres="Comedy,Drama" theme="auto" storage-key="my-site"></movie-recs>
//
// `links="off"` leaves out the links to IMDb, TMDB and Letterboxd; `import="off"` the import
// button (a Letterboxd zip, IMDb or MovieLens CSV, read in the browser, shown as a preview).
//
// The wasm and the default model resolve relative to this module, so the widget works from any
// folder of the host site. Several widgets share one wasm instance and one download per model.
// Styles live in the shadow root (adopted stylesheet: no inline <style>, so a strict CSP holds).
// Events: `recommendations` (detail: {items, coldStart}) and `rating` (detail: {movieId, rating}).
// API: `element.ratings`, `element.setRating(movieId, rating|null)`, `element.clear()` (returns
// the ratings it removed) and `element.restore(removed)`.

import { loadRecommender, whenComplete, DEFAULT_MODEL_URL } from './js/recommender.js';
import { DEFAULT_KEY, RatingStore } from './js/storage.js';
import { MarkStore, marksKey } from './js/marks.js';
import { applyImport, planImport, readHistory, undoImport } from './js/history.js';
import { el, importPreview, keepingFocus, movieItem } from './js/render.js';

const CHANGED = 'movie-recs:changed';

const CSS = `
:host { display: block; --bg: #fff; --fg: #1d1d1f; --muted: #5f6368; --line: #e3e0d8; --accent: #b4460f;
  --star: #e8a317; --star-off: #c9c5bb; --focus: #1a73e8; --warn: #fff4d6;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.4; color: var(--fg); }
:host([theme="dark"]) { --bg: #202226; --fg: #ececec; --muted: #a4a7ad; --line: #3a3d44; --accent: #f08a4b; --star-off: #4a4d54; --focus: #8ab4f8; --warn: #3d3316; }
@media (prefers-color-scheme: dark) {
  :host(:not([theme="light"]):not([theme="dark"])) { --bg: #202226; --fg: #ececec; --muted: #a4a7ad; --line: #3a3d44; --accent: #f08a4b; --star-off: #4a4d54; --focus: #8ab4f8; --warn: #3d3316; }
}
.box { background: var(--bg); border: 1px solid var(--line); border-radius: 12px; padding: .8rem 1rem; }
h2 { font-size: 1.05rem; margin: .2rem 0 .6rem; color: var(--accent); }
h3 { font-size: .95rem; margin: .8rem 0 .3rem; color: var(--muted); }
label { display: block; font-size: .85rem; color: var(--muted); }
input { width: 100%; box-sizing: border-box; font: inherit; padding: .4rem .6rem; border: 1px solid var(--line); border-radius: 8px; background: var(--bg); color: var(--fg); }
.movies { list-style: none; padding: 0; margin: .4rem 0; display: grid; gap: .4rem; }
.movie { border: 1px solid var(--line); border-radius: 8px; padding: .45rem .6rem; }
.title { font-weight: 600; } .year, .genres, .reason, .hint { color: var(--muted); }
.genres, .reason, .predicted { font-size: .82rem; } .reason { font-style: italic; }
.movie-actions { display: flex; gap: .6rem; align-items: center; margin-top: .2rem; }
button { font: inherit; font-size: .8rem; padding: .15rem .5rem; border-radius: 6px; border: 1px solid var(--line); background: var(--bg); color: var(--fg); cursor: pointer; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.stars { display: inline-flex; cursor: pointer; font-size: 1.35rem; line-height: 1; border-radius: 4px; user-select: none; }
.star { color: var(--star-off); padding: 0 .04rem; }
.star[data-fill="full"] { color: var(--star); }
.star[data-fill="half"] { background: linear-gradient(90deg, var(--star) 50%, var(--star-off) 50%); -webkit-background-clip: text; background-clip: text; color: transparent; }
.notice { background: var(--warn); border-radius: 8px; padding: .4rem .6rem; font-size: .85rem; margin: .3rem 0; }
.error { border: 1px solid var(--accent); }
.links { font-size: .8rem; display: flex; gap: .6rem; } .links a { color: var(--accent); }
.mark[aria-pressed="true"] { background: var(--accent); color: var(--bg); border-color: var(--accent); }
.movie-actions { flex-wrap: wrap; }
.preview { border: 1px solid var(--accent); border-radius: 8px; padding: .4rem .6rem; margin: .4rem 0; font-size: .85rem; }
.preview h3 { margin-top: 0; } .actions { display: flex; gap: .5rem; margin: .3rem 0; }
@media (prefers-reduced-motion: no-preference) { .movie { transition: border-color .15s ease; } .movie:hover { border-color: var(--accent); } }
`;

let sheet = null;
function styleSheet() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
  }
  return sheet;
}

let instances = 0;

export class MovieRecsElement extends HTMLElement {
  static observedAttributes = ['model', 'count', 'genres', 'storage-key', 'links', 'import'];

  constructor() {
    super();
    this.uid = `mr${++instances}`;
    this.root = this.attachShadow({ mode: 'open' });
    this.root.adoptedStyleSheets = [styleSheet()];
    this.recommender = null;
    this.store = null;
    this.onChanged = (e) => {
      if (e.detail?.key === this.store?.key && e.detail.source !== this) this.reload();
    };
    this.onStorage = (e) => {
      if (e.key === this.store?.key || e.key === this.marks?.key) this.reload();
    };
  }

  connectedCallback() {
    window.addEventListener(CHANGED, this.onChanged);
    window.addEventListener('storage', this.onStorage);
    this.start();
  }

  disconnectedCallback() {
    window.removeEventListener(CHANGED, this.onChanged);
    window.removeEventListener('storage', this.onStorage);
  }

  attributeChangedCallback(name, oldValue, newValue) {
    if (oldValue !== newValue && this.isConnected && this.recommender) this.start();
  }

  /** The visitor's ratings, oldest first: `[{movieId, rating, ratedAt}]`. */
  get ratings() {
    return this.store ? this.store.list() : [];
  }

  /** Sets (or with null removes) a rating; throws an Error for an invalid value. */
  setRating(movieId, rating) {
    if (!this.store) throw new Error('movie-recs is not ready yet');
    this.store.set(movieId, rating);
    this.changed(movieId, rating);
  }

  /** Removes every rating of this widget's storage key; returns them, for `restore`. */
  clear() {
    const before = this.store?.clear() ?? [];
    this.changed(null, null);
    return before;
  }

  /** Puts back the ratings `clear` returned (an undo). */
  restore(before) {
    this.store?.restore(before);
    this.changed(null, null);
  }

  get count() {
    const n = Number.parseInt(this.getAttribute('count') ?? '10', 10);
    return Number.isFinite(n) && n > 0 ? Math.min(n, 100) : 10;
  }

  get genres() {
    return (this.getAttribute('genres') ?? '').split(',').map((g) => g.trim()).filter(Boolean);
  }

  async start() {
    this.recommender = null;
    this.store = new RatingStore(this.getAttribute('storage-key') || DEFAULT_KEY);
    this.store.onWarning = (warning) => this.parts?.notices.append(el('p', 'notice', warning));
    this.marks = new MarkStore(marksKey(this.store.key));
    this.root.replaceChildren(this.skeleton());
    const model = this.getAttribute('model');
    const url = model ? new URL(model, document.baseURI) : DEFAULT_MODEL_URL;
    try {
      this.recommender = await loadRecommender(url);
    } catch (err) {
      this.showError(`Recommendations are unavailable: ${err.message}`);
      return;
    }
    this.render();
    this.dataset.ready = 'true';
    // The first recommendations come from the model's core; re-rank once the rest is in.
    whenComplete(url).then(
      () => {
        if (this.isConnected) this.render();
        this.dataset.complete = 'true';
      },
      (err) => {
        this.parts.notices.append(el('p', 'notice', `Showing simpler recommendations: part of the model did not load (${err.message}).`));
        this.dataset.complete = 'failed';
      },
    );
  }

  skeleton() {
    const box = el('div', 'box');
    box.setAttribute('role', 'region');
    box.setAttribute('aria-label', 'Movie recommendations');
    this.parts = {
      notices: el('div', 'notices'),
      search: el('input'),
      results: el('ul', 'movies'),
      status: el('p', 'hint', 'Loading recommendations…'),
      recs: el('ol', 'movies'),
      mine: el('h3', '', ''),
    };
    const p = this.parts;
    p.notices.setAttribute('role', 'status');
    p.notices.setAttribute('aria-live', 'polite');
    p.search.type = 'search';
    p.search.id = `${this.uid}-search`;
    p.search.placeholder = 'Find a movie you have seen';
    p.search.autocomplete = 'off';
    p.search.addEventListener('input', () => this.renderSearch());
    const label = el('label', '', 'Rate movies you have seen');
    label.htmlFor = p.search.id;
    p.results.id = `${this.uid}-results`;
    p.results.setAttribute('aria-label', 'Search results');
    p.recs.id = `${this.uid}-recs`;
    p.recs.setAttribute('aria-label', 'Recommended movies');
    p.preview = el('div', 'previews');
    box.append(el('h2', '', 'Recommended for you'), p.notices, label, p.search, p.results, p.preview, p.status, p.recs, p.mine);
    if (this.getAttribute('import') !== 'off') {
      const input = el('input');
      input.type = 'file';
      input.multiple = true;
      input.accept = '.csv,.zip,.json,text/csv,application/zip,application/json';
      input.hidden = true;
      input.addEventListener('change', () => {
        const files = [...input.files];
        input.value = '';
        if (files.length) this.importFiles(files);
      });
      const button = el('button', 'import', 'Import your Letterboxd or IMDb history…');
      button.type = 'button';
      button.addEventListener('click', () => input.click());
      const actions = el('div', 'actions');
      actions.append(button);
      box.append(actions, input);
      box.addEventListener('dragover', (e) => {
        if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
      });
      box.addEventListener('drop', (e) => {
        if (!e.dataTransfer?.files.length) return;
        e.preventDefault();
        this.importFiles([...e.dataTransfer.files]);
      });
    }
    for (const w of [...this.store.warnings, ...this.marks.warnings]) p.notices.append(el('p', 'notice', w));
    return box;
  }

  /** Reads files into a preview in the widget; saved only on confirm, undone in one step. */
  async importFiles(files) {
    if (!this.recommender) return;
    let plan;
    try {
      plan = planImport(this.recommender, await readHistory(files), this.store, this.marks);
    } catch (err) {
      this.parts.notices.append(el('p', 'notice error', `Nothing was imported: ${err.message}.`));
      return;
    }
    this.parts.preview.replaceChildren(
      importPreview(plan, {
        onConfirm: () => {
          const undo = applyImport(plan, this.store, this.marks);
          const note = el('p', 'notice', `Imported ${plan.ratings.length} rating(s) and ${plan.marks.length} mark(s). `);
          const button = el('button', '', 'Undo import');
          button.type = 'button';
          button.addEventListener('click', () => {
            undoImport(undo, this.store, this.marks);
            note.remove();
            this.changed(null, null);
          });
          note.append(button);
          this.parts.notices.append(note);
          this.changed(null, null);
        },
      }),
    );
  }

  showError(message) {
    const p = this.parts;
    p.status.textContent = '';
    const box = el('p', 'notice error', message);
    const retry = el('button', '', 'Retry');
    retry.type = 'button';
    retry.addEventListener('click', () => this.start());
    box.append(' ', retry);
    p.notices.append(box);
    // Offline now? Try again by itself when the connection comes back.
    window.addEventListener('online', () => this.isConnected && !this.recommender && this.start(), { once: true });
  }

  reload() {
    this.store?.load();
    this.marks?.load();
    if (this.recommender) this.render();
  }

  changed(movieId, rating) {
    window.dispatchEvent(new CustomEvent(CHANGED, { detail: { key: this.store.key, source: this } }));
    this.dispatchEvent(new CustomEvent('rating', { detail: { movieId, rating }, bubbles: true, composed: true }));
    if (this.recommender) this.render();
  }

  row(movie, extra = {}) {
    return movieItem(movie, {
      rating: this.store.get(movie.movieId),
      onRate: (value) => {
        try {
          this.setRating(movie.movieId, value);
        } catch (err) {
          this.parts.notices.append(el('p', 'notice', err.message));
        }
      },
      mark: this.marks.get(movie.movieId),
      onMark: (kind) => {
        try {
          this.marks.set(movie.movieId, kind);
        } catch (err) {
          this.parts.notices.append(el('p', 'notice', err.message));
        }
        this.changed(movie.movieId, this.store.get(movie.movieId));
      },
      links: this.getAttribute('links') !== 'off',
      ...extra,
    });
  }

  renderSearch() {
    const q = this.parts.search.value;
    const hits = q.trim() ? this.recommender.search(q, 6) : [];
    this.parts.results.replaceChildren(...hits.map((m) => this.row(m)));
  }

  render() {
    keepingFocus(this.root, () => {
      const p = this.parts;
      let result;
      try {
        result = this.recommender.recommend(this.store.list(), { count: this.count, genres: this.genres, exclude: this.marks.excluded() });
      } catch (err) {
        p.status.textContent = `Cannot show recommendations: ${err.message}`;
        p.recs.replaceChildren();
        return;
      }
      p.status.textContent = result.coldStart ? 'Popular picks — rate a few movies to make them yours.' : `Based on your ${result.usedRatings} rating${result.usedRatings === 1 ? '' : 's'}.`;
      p.recs.replaceChildren(...result.items.map((m) => this.row(m, { predicted: m.predictedRating, reasons: m.reasons })));
      const n = this.store.list().length;
      p.mine.textContent = n ? `You have rated ${n} movie${n === 1 ? '' : 's'}.` : '';
      this.renderSearch();
      this.dispatchEvent(new CustomEvent('recommendations', { detail: { items: result.items, coldStart: result.coldStart }, bubbles: true, composed: true }));
    });
  }
}

if (!customElements.get('movie-recs')) customElements.define('movie-recs', MovieRecsElement);
