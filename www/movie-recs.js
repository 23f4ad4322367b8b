// <movie-recs>: recommendations on any static page with one script tag and one element.
//
//   <script type="module" src="/path/to/movie-recs.js"></script>
//   <movie-recs model="model.bin" count="10" genres="Comedy,Drama" theme="auto" storage-key="my-site"></movie-recs>
//
// `links="off"` leaves out the links to IMDb, TMDB and Letterboxd; `import="off"` the import
// button (a Letterboxd zip, IMDb or MovieLens CSV, read in the browser, shown as a preview);
// `method`, `year-min`, `year-max` and `discover` (0 familiar to 1 discover) shape the list; `lang` (or the page's language) picks the
// strings (English, French). Every attribute is also a property.
// Styling from the host page: the custom properties --movie-recs-bg, -fg, -muted, -line,
// -accent, -star, -star-off, -focus, -warn, -radius, -font; and ::part(box | heading | search |
// list | movie | title | reason | stars | button | mark | notice | preview).
//
// `./build.sh build` bundles this module with the ones it imports into www/dist/movie-recs.js
// (and its movie-recs-*.js chunks): the file a site copies, with pkg/movie_recs_bg.wasm and
// model.bin one folder up. The wasm and the default model resolve relative to the module, so
// the widget works from any folder of the host site. Offline: the host's root service worker imports movie-recs-sw.js. Several widgets share one wasm instance and one download per model.
// Styles live in the shadow root (adopted stylesheet: no inline <style>, so a strict CSP holds).
// Events: `movie-recs:recommendations` (detail: {items, coldStart}) and `movie-recs:rating`
// (detail: {movieId, rating}; the visitor's changes only, not the host's own setRating/clear/restore).
// API: `element.ratings`, `element.setRating(movieId, rating|null)`, `element.clear()` (returns
// the ratings it removed) and `element.restore(removed)`.

import { loadRecommender, whenComplete, whenDetails, needsRest, DEFAULT_DISCOVER, DEFAULT_MODEL_URL } from './js/recommender.js';
import { DEFAULT_KEY, RatingStore, probeStorage } from './js/storage.js';
import { KeptList, fingerprint, forgetKept, keptKey, keptStays } from './js/kept.js';
import { MarkStore, marksKey } from './js/marks.js';
import { el, importPreview, keepingFocus, movieItem } from './js/render.js';
import { textFor } from './js/strings.js';

const CHANGED = 'movie-recs:changed';
/** The events a host listens to, prefixed so they never collide with the page's own. */
export const RATING_EVENT = 'movie-recs:rating';
export const RECOMMENDATIONS_EVENT = 'movie-recs:recommendations';

const CSS = `
:host { display: block; --bg0: #fff; --fg0: #1d1d1f; --muted0: #5f6368; --line0: #e3e0d8; --accent0: #b4460f;
  --star0: #e8a317; --star-off0: #c9c5bb; --focus0: #1a73e8; --warn0: #fff4d6;
  --bg: var(--movie-recs-bg, var(--bg0)); --fg: var(--movie-recs-fg, var(--fg0)); --muted: var(--movie-recs-muted, var(--muted0));
  --line: var(--movie-recs-line, var(--line0)); --accent: var(--movie-recs-accent, var(--accent0)); --star: var(--movie-recs-star, var(--star0));
  --star-off: var(--movie-recs-star-off, var(--star-off0)); --focus: var(--movie-recs-focus, var(--focus0)); --warn: var(--movie-recs-warn, var(--warn0));
  font-family: var(--movie-recs-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif); line-height: 1.4; color: var(--fg); }
:host([hidden]) { display: none; }
:host([theme="dark"]) { --bg0: #202226; --fg0: #ececec; --muted0: #a4a7ad; --line0: #3a3d44; --accent0: #f08a4b; --star-off0: #4a4d54; --focus0: #8ab4f8; --warn0: #3d3316; }
@media (prefers-color-scheme: dark) {
  :host(:not([theme="light"]):not([theme="dark"])) { --bg0: #202226; --fg0: #ececec; --muted0: #a4a7ad; --line0: #3a3d44; --accent0: #f08a4b; --star-off0: #4a4d54; --focus0: #8ab4f8; --warn0: #3d3316; }
}
.box { background: var(--bg); border: 1px solid var(--line); border-radius: var(--movie-recs-radius, 12px); padding: .8rem 1rem; }
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
  static observedAttributes = ['model', 'count', 'genres', 'storage-key', 'links', 'import', 'method', 'year-min', 'year-max', 'lang', 'discover'];

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
    if (!this.store) throw new Error(this.text.notReady);
    this.store.set(movieId, rating);
    this.changed(movieId, rating, { byHost: true });
  }

  /** Removes every rating of this widget's storage key; returns them, for `restore`. */
  clear() {
    const before = this.store?.clear() ?? [];
    this.changed(null, null, { byHost: true });
    return before;
  }

  /** Puts back the ratings `clear` returned (an undo). */
  restore(before) {
    this.store?.restore(before);
    this.changed(null, null, { byHost: true });
  }

  get count() {
    const n = Number.parseInt(this.getAttribute('count') ?? '10', 10);
    return Number.isFinite(n) && n > 0 ? Math.min(n, 100) : 10;
  }

  set count(n) {
    this.setAttribute('count', String(n));
  }

  get genres() {
    return (this.getAttribute('genres') ?? '').split(',').map((g) => g.trim()).filter(Boolean);
  }

  set genres(list) {
    this.setAttribute('genres', Array.isArray(list) ? list.join(',') : String(list));
  }

  /** The ranking method (`hybrid` by default; `recommender.methods()` lists the model's). */
  get method() {
    return this.getAttribute('method') || 'hybrid';
  }

  set method(m) {
    this.setAttribute('method', m);
  }

  get yearMin() {
    return this.year('year-min');
  }

  set yearMin(y) {
    this.reflect('year-min', y);
  }

  get yearMax() {
    return this.year('year-max');
  }

  set yearMax(y) {
    this.reflect('year-max', y);
  }

  /**
   * Familiar (0) to discover (1): leans the list toward less popular movies. The default 0.3
   * is the measured one (README, "Familiar or new": the most novelty for at most 2% accuracy).
   */
  get discover() {
    const raw = this.getAttribute('discover');
    const v = raw === null || raw.trim() === '' ? DEFAULT_DISCOVER : Number(raw);
    return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : DEFAULT_DISCOVER;
  }

  set discover(d) {
    this.setAttribute('discover', String(d));
  }

  get links() {
    return this.getAttribute('links') !== 'off';
  }

  set links(on) {
    this.setAttribute('links', on ? 'on' : 'off');
  }

  year(name) {
    const y = Number.parseInt(this.getAttribute(name) ?? '', 10);
    return Number.isInteger(y) ? y : undefined;
  }

  reflect(name, value) {
    if (value === undefined || value === null) this.removeAttribute(name);
    else this.setAttribute(name, String(value));
  }

  /** The strings: the widget's `lang`, else the page's, else English. */
  get text() {
    return textFor(this.getAttribute('lang') || this.closest('[lang]')?.getAttribute('lang') || document.documentElement.lang);
  }

  async start() {
    this.recommender = null;
    delete this.dataset.complete;
    this.store = new RatingStore(this.getAttribute('storage-key') || DEFAULT_KEY);
    this.store.onWarning = (warning) => this.parts?.notices.append(this.notice(warning));
    this.marks = new MarkStore(marksKey(this.store.key));
    this.root.replaceChildren(this.skeleton());
    const model = this.getAttribute('model');
    const url = model ? new URL(model, document.baseURI) : DEFAULT_MODEL_URL;
    this.modelKey = url.href;
    this.showKept();
    // A widget showing only the factor models (`method="mf"` or `"popular"`) downloads only the
    // model's core; the rest comes if the method changes to one that needs it.
    const rest = needsRest(this.method);
    try {
      this.recommender = await loadRecommender(url, { rest: rest ? 'eager' : 'lazy' });
    } catch (err) {
      this.showError(this.text.unavailable(err.message));
      return;
    }
    this.render();
    this.dataset.ready = 'true';
    // The links and the predicted stars come with the sections after the core: draw the list
    // again with them. For the factor models alone, that is all this widget loads.
    whenDetails(url).then(
      (r) => {
        if (this.isConnected && !r.hasExtras) this.render();
        if (!rest) this.dataset.complete = 'true';
      },
      (err) => {
        if (rest) return; // reported once the rest has failed too
        this.parts.notices.append(this.notice(this.text.simpler(err.message)));
        this.dataset.complete = 'failed';
      },
    );
    if (!rest) return;
    // The first recommendations come from the model's core; re-rank once the rest is in.
    whenComplete(url).then(
      () => {
        if (this.isConnected) this.render();
        this.dataset.complete = 'true';
      },
      (err) => {
        this.keptShown = null;
        if (this.isConnected) this.render();
        this.parts.notices.append(this.notice(this.text.simpler(err.message)));
        this.dataset.complete = 'failed';
      },
    );
  }

  notice(message, kind = '') {
    const p = el('p', `notice ${kind}`.trim(), message);
    p.setAttribute('part', 'notice');
    return p;
  }

  skeleton() {
    const text = this.text;
    const box = el('div', 'box');
    box.setAttribute('role', 'region');
    box.setAttribute('aria-label', text.region);
    box.setAttribute('part', 'box');
    this.parts = {
      notices: el('div', 'notices'),
      search: el('input'),
      results: el('ul', 'movies'),
      status: el('p', 'hint', text.loading),
      recs: el('ol', 'movies'),
      mine: el('h3', '', ''),
    };
    const p = this.parts;
    p.notices.setAttribute('role', 'status');
    p.notices.setAttribute('aria-live', 'polite');
    p.search.type = 'search';
    p.search.id = `${this.uid}-search`;
    p.search.placeholder = text.searchPlaceholder;
    p.search.setAttribute('part', 'search');
    p.search.autocomplete = 'off';
    p.search.addEventListener('input', () => this.renderSearch());
    const label = el('label', '', text.searchLabel);
    label.htmlFor = p.search.id;
    p.results.id = `${this.uid}-results`;
    p.results.setAttribute('aria-label', text.results);
    p.results.setAttribute('part', 'list');
    p.recs.id = `${this.uid}-recs`;
    p.recs.setAttribute('aria-label', text.recommended);
    p.recs.setAttribute('part', 'list');
    p.preview = el('div', 'previews');
    const heading = el('h2', '', text.heading);
    heading.setAttribute('part', 'heading');
    box.append(heading, p.notices, label, p.search, p.results, p.preview, p.status, p.recs, p.mine);
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
      const button = el('button', 'import', text.importButton);
      button.setAttribute('part', 'button');
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
    for (const w of [...this.store.warnings, ...this.marks.warnings]) p.notices.append(this.notice(w));
    return box;
  }

  /** Reads files into a preview in the widget; saved only on confirm, undone in one step. */
  async importFiles(files) {
    if (!this.recommender) return;
    let plan;
    let code;
    try {
      // The import code (js/history.js, a sixth of the script) comes on first use: a page that
      // embeds the widget does not wait for it.
      code = await import('./js/history.js');
      const history = await code.readHistory(files);
      // Rows are matched on IMDb and TMDB ids, which come in the section after the core.
      plan = code.planImport(await whenDetails(this.modelKey), history, this.store, this.marks);
    } catch (err) {
      this.parts.notices.append(this.notice(this.text.nothingImported(err.message), 'error'));
      return;
    }
    const text = this.text;
    this.parts.preview.replaceChildren(
      importPreview(plan, {
        text,
        onConfirm: () => {
          const undo = code.applyImport(plan, this.store, this.marks);
          const note = this.notice(`${text.imported(plan.ratings.length, plan.marks.length)} `);
          const button = el('button', '', text.undoImport);
          button.type = 'button';
          button.addEventListener('click', () => {
            code.undoImport(undo, this.store, this.marks);
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
    const box = this.notice(message, 'error');
    const retry = el('button', '', this.text.retry);
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

  /**
   * After the ratings changed: other widgets of the key reload, and `movie-recs:rating` tells
   * the host — only for what the visitor did, not for the host's own `setRating`, `clear` or
   * `restore` (it knows; an event would echo back into its handler).
   */
  changed(movieId, rating, { byHost = false } = {}) {
    window.dispatchEvent(new CustomEvent(CHANGED, { detail: { key: this.store.key, source: this } }));
    if (!byHost) this.dispatchEvent(new CustomEvent(RATING_EVENT, { detail: { movieId, rating }, bubbles: true, composed: true }));
    if (this.recommender) this.render();
  }

  row(movie, extra = {}) {
    return movieItem(movie, {
      rating: this.store.get(movie.movieId),
      onRate: (value) => {
        try {
          this.store.set(movie.movieId, value);
          this.changed(movie.movieId, value);
        } catch (err) {
          this.parts.notices.append(this.notice(err.message));
        }
      },
      mark: this.marks.get(movie.movieId),
      onMark: (kind) => {
        try {
          this.marks.set(movie.movieId, kind);
        } catch (err) {
          this.parts.notices.append(this.notice(err.message));
        }
        this.changed(movie.movieId, this.store.get(movie.movieId));
      },
      links: this.links,
      text: this.text,
      ...extra,
    });
  }

  renderSearch() {
    const q = this.parts.search.value;
    const hits = q.trim() ? this.recommender.search(q, 6) : [];
    this.parts.results.replaceChildren(...hits.map((m) => this.row(m)));
  }

  /**
   * The list this widget computed on the last visit (js/kept.js), under a key of its options, so
   * that two widgets of one storage key keep their own.
   */
  get kept() {
    this.keptStorage ??= probeStorage();
    const options = { count: this.count, genres: this.genres, method: this.method, yearMin: this.yearMin, yearMax: this.yearMax, discover: this.discover };
    return new KeptList(keptKey(this.store.key, fingerprint(options)), this.keptStorage);
  }

  /** What a list is computed from besides the model and the options: the ratings and marks. */
  listState(history = this.marks.history(this.store.list())) {
    return fingerprint({ history, exclude: this.marks.excluded() });
  }

  /** Shows the kept list while the recommender loads, if nothing it came from has changed. */
  showKept() {
    this.keptShown = null;
    const state = this.listState();
    const kept = this.kept;
    const found = kept.read(this.modelKey, state);
    if (!found) return;
    try {
      this.parts.recs.replaceChildren(...found.items.map((m) => this.row(m, { predicted: m.predictedRating, reasons: m.reasons })));
    } catch {
      kept.clear();
      this.parts.recs.replaceChildren();
      return;
    }
    this.parts.status.textContent = this.text.basedOn(found.usedRatings);
    this.keptShown = { ...found, state };
  }

  /** Whether the kept list stays on screen (`keptStays`). */
  keepingKept(state) {
    if (this.keptShown && keptStays(this.keptShown, state, this.recommender)) return true;
    this.keptShown = null;
    return false;
  }

  render() {
    keepingFocus(this.root, () => {
      const p = this.parts;
      const n = this.store.list().length;
      p.mine.textContent = n ? this.text.youRated(n) : '';
      this.renderSearch();
      const history = this.marks.history(this.store.list());
      const state = this.listState(history);
      if (this.keepingKept(state)) return;
      let result;
      // Until the whole model is in, a method of its extras is not there yet: the default meanwhile.
      const method = this.recommender.hasExtras || this.recommender.methods().some((m) => m.name === this.method) ? this.method : undefined;
      try {
        result = this.recommender.recommend(history, {
          count: this.count,
          genres: this.genres,
          method,
          yearMin: this.yearMin,
          yearMax: this.yearMax,
          exclude: this.marks.excluded(),
          discover: this.discover,
        });
      } catch (err) {
        p.status.textContent = this.text.cannotShow(err.message);
        p.recs.replaceChildren();
        return;
      }
      p.status.textContent = result.coldStart ? this.text.coldStart : this.text.basedOn(result.usedRatings);
      p.recs.replaceChildren(...result.items.map((m) => this.row(m, { predicted: m.predictedRating, reasons: m.reasons })));
      // Without ratings no kept list is this visitor's any more (each option set's included).
      if (result.coldStart) forgetKept(this.keptStorage, this.store.key);
      if (!result.coldStart && result.items.length) {
        const used = method ?? this.recommender.methods()[0].name;
        this.kept.save({ model: this.modelKey, state, modelId: this.recommender.modelId(), method: used, usedRatings: result.usedRatings, items: result.items });
      }
      this.dispatchEvent(new CustomEvent(RECOMMENDATIONS_EVENT, { detail: { items: result.items, coldStart: result.coldStart }, bubbles: true, composed: true }));
    });
  }
}

if (!customElements.get('movie-recs')) customElements.define('movie-recs', MovieRecsElement);
