// The demo page: search and rate movies, see recommendations re-rank on every change.
// All text from the model or storage is rendered with textContent, never parsed as HTML.

import { DEFAULT_DISCOVER, DEFAULT_MODEL_URL, loadRecommender, timingMark, whenComplete, whenDetails } from './recommender.js';
import { RatingStore, probeStorage } from './storage.js';
import { KeptList, fingerprint, keptKey, keptStays } from './kept.js';
import { MarkStore, marksKey } from './marks.js';
import { UnseenList, nextQuestions, unseenKey } from './questions.js';
import { FriendList, MAX_FRIENDS, friendFrom, profilesKey } from './profiles.js';
import { STRINGS } from './strings.js';
import { el, importPreview, keepingFocus, movieItem } from './render.js';

const $ = (id) => document.getElementById(id);
const store = new RatingStore();
store.onWarning = (warning) => notice(warning, { kind: 'warning' });
const marks = new MarkStore(marksKey(store.key));
const unseen = new UnseenList(unseenKey(store.key));
const friends = new FriendList(profilesKey(store.key));
const kept = new KeptList(keptKey(store.key), probeStorage());
let lastRecommendations = [];
let recommender = null;
let similarTo = null;
/** The list kept from the last visit while it is on screen (`showKept`), else null. */
let keptShown = null;

/** Shows a dismissable notice; `actions` are `[label, onClick]` pairs. */
function notice(text, { kind = 'info', actions = [] } = {}) {
  const box = el('div', `notice ${kind}`);
  box.append(el('span', '', text));
  for (const [label, onClick] of actions) {
    const b = el('button', '', label);
    b.type = 'button';
    b.addEventListener('click', () => {
      onClick();
      box.remove();
    });
    box.append(b);
  }
  const close = el('button', 'close', '×');
  close.type = 'button';
  close.setAttribute('aria-label', 'Dismiss');
  close.addEventListener('click', () => box.remove());
  box.append(close);
  $('notices').append(box);
  return box;
}

function movieRow(movie, extra = {}) {
  return movieItem(movie, {
    rating: store.get(movie.movieId),
    onRate: (value) => rate(movie.movieId, value),
    onMore: () => showSimilar(movie.movieId),
    mark: marks.get(movie.movieId),
    onMark: (kind) => mark(movie.movieId, kind),
    ...extra,
  });
}

function mark(movieId, kind) {
  try {
    marks.set(movieId, kind);
  } catch (err) {
    notice(err.message, { kind: 'error' });
  }
  for (const w of marks.warnings.splice(0)) notice(w, { kind: 'warning' });
  render();
}

function renderMarks() {
  const all = marks.list();
  const marked = all
    .slice(-RATINGS_SHOWN)
    .reverse()
    .map((m) => recommender.movie(m.movieId))
    .filter(Boolean);
  renderList($('my-marks'), marked);
  const counts = Object.entries(STRINGS.en.marks)
    .map(([kind, label]) => [label, all.filter((m) => m.mark === kind).length])
    .filter(([, n]) => n)
    .map(([label, n]) => `${label}: ${n}`);
  $('marks-count').textContent = counts.length ? `(${counts.join(', ')})` : '';
  $('marks').hidden = marked.length === 0;
}

function rate(movieId, value) {
  try {
    store.set(movieId, value);
  } catch (err) {
    notice(err.message, { kind: 'error' });
  }
  render();
}

function renderList(list, movies, options = () => ({})) {
  list.replaceChildren(...movies.map((m) => movieRow(m, options(m))));
}

/** Ratings listed before "Show all": an imported history of thousands would take seconds to draw. */
const RATINGS_SHOWN = 50;
let showAllRatings = false;

function renderRatings() {
  const all = store.list();
  const shown = showAllRatings ? all : all.slice(-RATINGS_SHOWN);
  const rated = shown
    .reverse()
    .map((r) => recommender.movie(r.movieId) ?? { movieId: r.movieId, title: `Movie ${r.movieId} (not in this catalogue)`, genres: [] });
  renderList($('my-ratings'), rated);
  $('show-all-ratings').hidden = all.length <= rated.length;
  $('show-all-ratings').textContent = `Show all ${all.length} ratings`;
  $('rating-count').textContent = all.length ? `(${all.length})` : '';
  $('no-ratings').hidden = rated.length > 0;
  $('export').disabled = $('clear').disabled = rated.length === 0;
  $('export-letterboxd').disabled = $('export-imdb').disabled = rated.length === 0;
}

function filters() {
  const year = (id) => {
    const v = $(id).value.trim();
    return v === '' ? undefined : Number(v);
  };
  const genre = $('genre').value;
  return {
    count: 12,
    genres: genre ? [genre] : [],
    yearMin: year('year-min'),
    yearMax: year('year-max'),
    method: $('method').value,
    exclude: marks.excluded(),
    discover: Number($('discover').value) / 100,
  };
}

/** What a list is computed from besides the model and the filters: the ratings and marks. */
const listState = (history = marks.history(store.list())) => fingerprint({ history, exclude: marks.excluded() });

/** Whether the filters are as the page opens (the only lists kept for the next visit). */
function defaultFilters() {
  const unchanged = (id) => $(id).value === $(id).defaultValue;
  return $('method').selectedIndex <= 0 && $('genre').value === '' && unchanged('year-min') && unchanged('year-max') && unchanged('discover');
}

/**
 * Shows the list kept from the last visit, if it was computed from what the page holds now
 * (js/kept.js), before the recommender is ready; `renderRecommendations` replaces it.
 */
function showKept() {
  const state = listState();
  const found = kept.read(MODEL_KEY, state);
  if (!found) return;
  try {
    renderList($('recommendations'), found.items, (m) => ({ predicted: m.predictedRating, reasons: m.reasons }));
  } catch {
    kept.clear();
    $('recommendations').replaceChildren();
    return;
  }
  $('recs-note').textContent = basedOn(found.usedRatings);
  lastRecommendations = found.items;
  $('export-recs').disabled = false;
  keptShown = { ...found, state };
  timingMark('movie-recs:kept-list');
}

/** Whether the kept list stays on screen (`keptStays`, with the filters as they opened). */
function keepingKept(state) {
  if (keptShown && defaultFilters() && keptStays(keptShown, state, recommender)) return true;
  keptShown = null;
  return false;
}

const basedOn = (n) => `Based on your ${n} rating${n === 1 ? '' : 's'}.`;

function renderRecommendations() {
  const history = marks.history(store.list());
  const state = listState(history);
  if (keepingKept(state)) return;
  const note = $('recs-note');
  let result;
  try {
    result = recommender.recommend(history, filters());
  } catch (err) {
    note.textContent = `Cannot filter like that: ${err.message}`;
    $('recommendations').replaceChildren();
    return;
  }
  if (result.coldStart) {
    note.textContent = 'Rate a few movies to make this personal. Meanwhile, popular and well-rated picks:';
    kept.clear(); // nothing personal to keep, and the old list's reasons name ratings now gone
  }
  else note.textContent = basedOn(result.usedRatings);
  if (result.items.length === 0) note.textContent += ' Nothing matches these filters.';
  lastRecommendations = result.items;
  if (!result.coldStart && result.items.length && defaultFilters()) {
    kept.save({ model: MODEL_KEY, state, modelId: recommender.modelId(), method: $('method').value, usedRatings: result.usedRatings, items: result.items });
  }
  $('export-recs').disabled = result.items.length === 0;
  renderList($('recommendations'), result.items, (m) => ({ predicted: m.predictedRating, reasons: m.reasons }));
}

/** Movie night: the visitor and their friends, one list, each pick saying whose taste it serves. */
function renderNight() {
  const people = [{ name: 'You', ratings: store.list(), seen: [] }, ...friends.friends];
  $('profiles').replaceChildren(
    ...people.map((p, i) => {
      const li = el('li', 'profile', `${p.name}: ${p.ratings.length} rating${p.ratings.length === 1 ? '' : 's'}`);
      if (i > 0) {
        const b = el('button', 'remove', 'Remove');
        b.type = 'button';
        b.setAttribute('aria-label', `Remove ${p.name} from movie night`);
        b.addEventListener('click', () => {
          friends.remove(i - 1);
          render();
        });
        li.append(' ', b);
      }
      return li;
    }),
  );
  $('add-friend').disabled = friends.friends.length >= MAX_FRIENDS;
  if (people.length < 2) {
    $('night-note').textContent = 'Add a friend to get one list for you both.';
    $('night-list').replaceChildren();
    return;
  }
  const exclude = [...new Set([...marks.excluded(), ...friends.friends.flatMap((f) => f.seen)])];
  let result;
  try {
    result = recommender.recommendGroup(people.map((p) => p.ratings), { count: 10, exclude: exclude.slice(0, 100_000) }, 'fair');
  } catch (err) {
    $('night-note').textContent = `Cannot make a movie-night list: ${err.message}`;
    $('night-list').replaceChildren();
    return;
  }
  $('night-note').textContent = `For ${people.map((p) => p.name).join(', ')}: nothing anyone has rated or seen.`;
  renderList($('night-list'), result.items, (m) => ({
    note: m.serves.length ? `For ${m.serves.map((i) => people[i].name).join(' and ')}` : 'A compromise for everyone',
    predicted: m.predictedRatings[0],
  }));
}

/**
 * The import and export code (js/history.js, a sixth of the page's script), fetched when first
 * used rather than with the page, so that the first list does not wait for its bytes; the
 * service worker keeps it for offline use with every other file.
 */
const historyCode = () => import('./history.js');

/** The model's sections after the core did not load: what an import or an export says then. */
class IdsMissing extends Error {}

/**
 * The recommender once the movies' IMDb and TMDB ids are in (the section after the core):
 * imports and exports match on them.
 */
const withIds = () =>
  whenDetails(MODEL_URL).catch((err) => {
    throw new IdsMissing(`the movies' IMDb and TMDB ids did not load (${err.message})`);
  });

async function addFriend(files) {
  const name = (files[0]?.name ?? 'Friend').replace(/\.(zip|csv|json)$/i, '').replace(/[-_]+/g, ' ').trim().slice(0, 40) || 'Friend';
  try {
    const history = await (await historyCode()).readHistory(files);
    const friend = await friendFrom(await withIds(), history, name);
    const saved = friends.add(friend);
    notice(`Added ${friend.name} to movie night: ${friend.ratings.length} ratings${friend.unmatched ? `, ${friend.unmatched} rows not matched` : ''}.${saved ? '' : ' It is kept for this visit only: storage is unavailable or full.'}`);
  } catch (err) {
    notice(`Could not add that friend: ${err.message}.`, { kind: 'error' });
    return;
  }
  render();
}

function showSimilar(movieId) {
  if (!recommender) return;
  similarTo = movieId;
  renderSimilar();
  $('similar').scrollIntoView({ block: 'nearest' });
  $('similar-close').focus();
}

function renderSimilar() {
  const box = $('similar');
  box.hidden = similarTo === null;
  if (similarTo === null) return;
  const movie = recommender.movie(similarTo);
  $('similar-heading').textContent = `More like ${movie?.title ?? `movie ${similarTo}`}`;
  let list = [];
  let method = 'itemKnn';
  try {
    ({ items: list, method } = recommender.similarMovies(similarTo, 8));
  } catch (err) {
    $('similar-heading').textContent += ` — ${err.message}`;
  }
  renderList(
    $('similar-list'),
    list.map((s) => s.movie),
    (m) => ({ reasons: [{ kind: 'similar', method, similarity: list.find((s) => s.movie.movieId === m.movieId).similarity }] }),
  );
}

function renderSearch() {
  const q = $('search').value;
  renderList($('search-results'), q.trim() ? recommender.search(q, 10) : []);
}

/** Re-renders everything that depends on the ratings, keeping keyboard focus on the same control. */
function render() {
  // Before the recommender is ready only the kept list is on screen: a rating made on it is
  // saved, and the first render after the load uses it.
  if (!recommender) return;
  keepingFocus(document, () => {
    renderRatings();
    renderMarks();
    renderRecommendations();
    renderNight();
    renderSearch();
    renderSimilar();
    renderList($('starter'), nextQuestions(recommender, store.list(), unseen, 8), () => ({ onUnseen: (m) => { unseen.add(m.movieId); render(); } }));
  });
}

function download(text, name, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

const today = () => new Date().toISOString().slice(0, 10);
const movieOf = (id) => recommender.movie(id);

async function exportRatings() {
  let code;
  try {
    code = await historyCode();
  } catch (err) {
    notice(`Nothing was exported: ${err.message}.`, { kind: 'error' });
    return;
  }
  download(code.exportJson(store, marks, (id) => movieOf(id)?.title), `movie-ratings-${today()}.json`, 'application/json');
}

/** Reads dropped or picked files into a preview; nothing is saved until the visitor confirms. */
async function importFiles(files) {
  let plan;
  let code;
  try {
    code = await historyCode();
    const history = await code.readHistory(files);
    plan = code.planImport(await withIds(), history, store, marks);
  } catch (err) {
    const known = (code && err instanceof code.ImportError) || err instanceof IdsMissing;
    const message = known ? err.message : `could not read ${files[0]?.name ?? 'the file'}: ${err.message}`;
    notice(`Nothing was imported: ${message}.`, { kind: 'error' });
    return;
  }
  showPreview(plan);
}

function showPreview(plan) {
  const box = importPreview(plan, { onConfirm: () => confirmImport(plan) });
  $('import-preview').replaceChildren(box);
  box.scrollIntoView({ block: 'nearest' });
  box.querySelector('button.confirm:not([disabled])')?.focus();
}

async function confirmImport(plan) {
  // Loaded already: the plan came from it.
  const { applyImport, undoImport } = await historyCode();
  let undo;
  try {
    undo = applyImport(plan, store, marks);
  } catch (err) {
    notice(`Nothing was imported: ${err.message}.`, { kind: 'error' });
    return;
  }
  render();
  notice(`Imported ${plan.ratings.length} rating${plan.ratings.length === 1 ? '' : 's'} and ${plan.marks.length} mark${plan.marks.length === 1 ? '' : 's'}.`, {
    actions: [['Undo import', () => { undoImport(undo, store, marks); render(); }]],
  });
}

function clearAll() {
  const before = store.clear();
  unseen.clear();
  render();
  notice(`Cleared ${before.length} rating${before.length === 1 ? '' : 's'}.`, {
    actions: [['Undo', () => { store.restore(before); render(); }]],
  });
}

function wire() {
  $('search').disabled = false;
  $('discover').value = String(Math.round(DEFAULT_DISCOVER * 100));
  $('search').addEventListener('input', renderSearch);
  $('filters').addEventListener('input', renderRecommendations);
  $('filters').addEventListener('submit', (e) => e.preventDefault());
  $('add-friend').addEventListener('click', () => $('friend-file').click());
  $('friend-file').addEventListener('change', async (e) => {
    if (e.target.files.length) await addFriend([...e.target.files]);
    e.target.value = '';
  });
  if (friends.warning) notice(friends.warning, { kind: 'warning' });
  $('export').addEventListener('click', exportRatings);
  // The CSV exports carry IMDb and TMDB ids.
  const csv = (exportCsv) => () =>
    Promise.all([withIds(), historyCode()]).then(([, code]) => exportCsv(code), (err) => notice(`Nothing was exported: ${err.message}.`, { kind: 'error' }));
  $('export-letterboxd').addEventListener('click', csv((code) => download(code.letterboxdCsv(store.list(), marks.list(), movieOf), `letterboxd-import-${today()}.csv`, 'text/csv')));
  $('export-imdb').addEventListener('click', csv((code) => download(code.imdbCsv(store.list(), movieOf), `imdb-ratings-${today()}.csv`, 'text/csv')));
  $('export-recs').addEventListener('click', csv((code) => download(code.recommendationsCsv(lastRecommendations), `recommendations-${today()}.csv`, 'text/csv')));
  $('import-button').addEventListener('click', () => $('import').click());
  $('import').addEventListener('change', async (e) => {
    const files = [...e.target.files];
    e.target.value = '';
    if (files.length) await importFiles(files);
  });
  // A file dropped anywhere on the page is an import.
  document.addEventListener('dragover', (e) => {
    if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
  });
  document.addEventListener('drop', (e) => {
    if (!e.dataTransfer?.files.length) return;
    e.preventDefault();
    importFiles([...e.dataTransfer.files]);
  });
  $('clear').addEventListener('click', clearAll);
  $('show-all-ratings').addEventListener('click', () => {
    showAllRatings = true;
    render();
  });
  $('similar-close').addEventListener('click', () => {
    similarTo = null;
    renderSimilar();
  });
  window.addEventListener('storage', (e) => {
    if (e.key === store.key) {
      store.load();
      render();
    } else if (e.key === marks.key) {
      marks.load();
      render();
    }
  });
}

function showStoreWarnings() {
  for (const w of store.warnings) {
    const actions = store.getBackup() !== null ? [['Discard backup', () => store.discardBackup()]] : [];
    notice(w, { kind: 'warning', actions });
  }
  for (const w of marks.warnings.splice(0)) notice(w, { kind: 'warning' });
}

/** 100836 -> "100,836" (toLocaleString's first call loads the locale data: 60 ms on a slow phone, before the first list). */
const thousands = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

function describeModel() {
  const info = recommender.info();
  const footer = $('about');
  footer.replaceChildren(
    el('p', '', `Model trained on ${info.dataset}: ${thousands(info.ratings)} ratings by ${thousands(info.users)} viewers, ${thousands(info.movies)} movies.`),
    el('p', '', 'Ratings data: MovieLens, GroupLens Research, University of Minnesota (F. M. Harper and J. A. Konstan, 2015), used under its licence; no endorsement is implied.'),
    el('p', '', 'Movie keywords, overviews and runtimes: TMDB 5000. This product uses the TMDB API but is not endorsed or certified by TMDB.'),
  );
  fillMethods();
  for (const g of recommender.genres()) {
    const opt = el('option', '', g);
    opt.value = g;
    $('genre').append(opt);
  }
}

/**
 * The method selector from what the model has loaded so far, default first. A visitor's own
 * choice is kept; the default follows the model (the factor models while the rest of the file
 * downloads, then the hybrid).
 */
function fillMethods() {
  const select = $('method');
  const chosen = select.selectedIndex > 0 ? select.value : null;
  select.replaceChildren(
    ...recommender.methods().map(({ name, label }) => {
      const opt = el('option', '', label);
      opt.value = name;
      return opt;
    }),
  );
  if (chosen !== null && [...select.options].some((o) => o.value === chosen)) select.value = chosen;
}

/**
 * `?model=NAME.bin` loads another model from beside the default one (for example the one
 * `./build.sh spark` packs from Spark's factors); only a plain file name is accepted.
 */
function modelFromAddress() {
  const name = new URLSearchParams(location.search).get('model');
  if (name === null) return undefined;
  if (!/^[\w.-]+\.bin$/.test(name)) {
    notice(`Ignoring model=${name}: give the file name of a .bin model beside the default one.`, { kind: 'warning' });
    return undefined;
  }
  return new URL(name, DEFAULT_MODEL_URL);
}

const MODEL_URL = modelFromAddress();
/** The model's address as the kept list records it. */
const MODEL_KEY = new URL(MODEL_URL ?? DEFAULT_MODEL_URL, document.baseURI).href;

async function boot() {
  const modelUrl = MODEL_URL;
  try {
    recommender = await loadRecommender(modelUrl);
  } catch (err) {
    $('recs-note').textContent = keptShown ? 'Your list from your last visit:' : '';
    const box = notice(`The recommender could not start: ${err.message}`, { kind: 'error', actions: [['Retry', boot]] });
    window.addEventListener('online', () => {
      if (box.isConnected) {
        box.remove();
        boot();
      }
    }, { once: true });
    return;
  }
  describeModel();
  wire();
  const unknown = store.list().filter((r) => recommender.movie(r.movieId) === null).length;
  if (unknown) notice(`${unknown} saved rating(s) are for movies this model does not know; they are kept but not used.`, { kind: 'warning' });
  render();
  timingMark('movie-recs:first-recommendations');
  document.documentElement.dataset.ready = 'true';
  // The first list may come before the links and the predicted stars (the sections after the
  // core): draw it again with them, unless the whole model is already in (and drawn below).
  whenDetails(modelUrl).then(
    (r) => {
      if (!r.hasExtras) render();
      document.documentElement.dataset.details = 'true';
    },
    () => {},
  );
  whenComplete(modelUrl).then(
    () => {
      fillMethods();
      render();
      document.documentElement.dataset.complete = 'true';
      keepOffline();
    },
    (err) => {
      keptShown = null;
      render();
      notice(`Only the matrix-factorisation recommendations are available: the rest of the model did not load (${err.message}).`, { kind: 'warning', actions: [['Reload', () => location.reload()]] });
      document.documentElement.dataset.complete = 'failed';
    },
  );
}

/**
 * Keeps the page working offline (www/sw.js), registered once the model is in so that it never
 * competes with the first load. When a new deploy is waiting, the visitor is told and chooses
 * when to reload.
 */
let offlineStarted = false;
function keepOffline() {
  if (offlineStarted || !('serviceWorker' in navigator) || !window.isSecureContext) return;
  offlineStarted = true;
  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (reloading) location.reload();
  });
  const offer = (worker) =>
    notice('A new version of this page has been downloaded.', {
      actions: [['Reload to use it', () => {
        reloading = true;
        worker.postMessage('skipWaiting');
      }]],
    });
  navigator.serviceWorker.register('sw.js', { updateViaCache: 'none' }).then(
    (registration) => {
      if (!registration) return; // a browser that stubs workers out (automation with workers blocked)
      if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
      registration.addEventListener('updatefound', () => {
        const worker = registration.installing;
        worker?.addEventListener('statechange', () => {
          if (worker.state === 'installed' && navigator.serviceWorker.controller) offer(worker);
        });
      });
      navigator.serviceWorker.ready.then(() => {
        document.documentElement.dataset.offline = 'ready';
      });
    },
    (err) => console.warn(`offline use is unavailable: ${err.message}`),
  );
}

showStoreWarnings();
showKept();
boot();
