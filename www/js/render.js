// DOM building shared by the demo page and the embeddable widget. Every string from the model
// or from storage goes through textContent: titles and genres are never parsed as HTML.

import { starRating } from './stars.js';
import { MARK_KINDS } from './marks.js';
import { STRINGS } from './strings.js';

const EN = STRINGS.en;

/** An element with an optional class and text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export const stars = (n, text = EN) => text.stars(n);

/**
 * "Because you liked Heat 4.5★ and Fargo 4.0★" (the core cites only ratings at or above the
 * visitor's own mean), "… and watched Alien" (movies marked seen, not rated), or the popularity
 * / similarity reason.
 */
export function reasonText(reasons, text = EN) {
  const rated = reasons.filter((r) => r.kind === 'rated').map((r) => `${r.title} ${text.stars(r.rating)}`);
  const watched = reasons.filter((r) => r.kind === 'seen').map((r) => r.title);
  if (rated.length && watched.length) return `${text.because(rated)}${text.andWatched(watched)}`;
  if (rated.length) return text.because(rated);
  if (watched.length) return text.becauseWatched(watched);
  const first = reasons[0];
  if (first.kind === 'attributes') return text.becauseAttributes(first.names);
  if (first.kind === 'similarViewers') return text.similarViewers(first.rated, first.liked);
  if (first.kind === 'similar') {
    const how = first.method === 'content' ? text.similarContent : text.similarRatings;
    return `${how} (${text.similarity(first.similarity.toFixed(2))})`;
  }
  return text.popular(text.stars(first.ratingMean), first.ratingCount);
}

const tt = (id) => `tt${String(id).padStart(7, '0')}`;

/**
 * Links to the movie on IMDb, TMDB and Letterboxd. They carry the movie's id and nothing about
 * the visitor: no query string, no referrer, no opener.
 */
export function movieLinks(movie, text = EN) {
  const out = [];
  if (movie.imdbId) out.push(['IMDb', `https://www.imdb.com/title/${tt(movie.imdbId)}/`]);
  if (movie.tmdbId) out.push(['TMDB', `https://www.themoviedb.org/movie/${movie.tmdbId}`]);
  if (movie.imdbId) out.push(['Letterboxd', `https://letterboxd.com/imdb/${tt(movie.imdbId)}/`]);
  else if (movie.tmdbId) out.push(['Letterboxd', `https://letterboxd.com/tmdb/${movie.tmdbId}/`]);
  return out.map(([name, href]) => {
    const a = el('a', 'link', name);
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.referrerPolicy = 'no-referrer';
    a.setAttribute('aria-label', text.linkLabel(movie.title, name));
    return a;
  });
}

/**
 * One movie row: title, year, genres, optional prediction and reason, its star control, and
 * buttons. `rating` is the visitor's current rating or null; `onRate(value|null)` is called on a
 * change; `onMore` (optional) shows similar movies; `mark` / `onMark(kind|null)` (optional) are
 * the seen / not interested / want to watch toggles; `links: false` leaves out the links out;
 * `text` is the strings table (`strings.js`), English by default.
 */
export function movieItem(movie, { rating, onRate, onMore, onUnseen, predicted, reasons, note, mark = null, onMark, links = true, text = EN }) {
  // A movie the model's core cannot rank comes without its title until the links section is in
  // (the page draws the list again then); it can still be one the visitor rated.
  const name = movie.title || text.titleLoading(movie.movieId);
  const li = el('li', 'movie');
  li.dataset.movieId = String(movie.movieId);
  li.setAttribute('part', 'movie');
  const head = el('div', 'movie-head');
  const title = el('span', 'title', name);
  title.setAttribute('part', 'title');
  head.append(title);
  if (movie.year) head.append(el('span', 'year', ` (${movie.year})`));
  li.append(head);
  if (movie.genres?.length) li.append(el('div', 'genres', movie.genres.join(' · ')));
  if (predicted !== undefined) li.append(el('div', 'predicted', text.predicted(text.stars(predicted))));
  if (reasons?.length) {
    const reason = el('div', 'reason', reasonText(reasons, text));
    reason.setAttribute('part', 'reason');
    li.append(reason);
  }
  if (note) li.append(el('div', 'reason serves', note));
  if (links) {
    const found = movieLinks(movie, text);
    if (found.length) {
      const box = el('div', 'links');
      box.append(...found);
      li.append(box);
    }
  }
  const control = starRating({ value: rating, label: text.starLabel(name), onChange: onRate, text });
  control.element.setAttribute('part', 'stars');
  control.element.dataset.movieId = String(movie.movieId);
  const row = el('div', 'movie-actions');
  row.append(control.element);
  const button = (className, caption, label, onClick) => {
    const b = el('button', className, caption);
    b.type = 'button';
    b.setAttribute('part', 'button');
    b.setAttribute('aria-label', label);
    b.addEventListener('click', onClick);
    row.append(b);
  };
  if (onUnseen && rating === null) button('unseen', text.unseen, text.unseenLabel(name), () => onUnseen(movie));
  if (onMore) button('more', text.more, text.moreLabel(name), onMore);
  if (rating !== null) button('remove', text.remove, text.removeLabel(name), () => onRate(null));
  if (onMark && rating === null) {
    for (const kind of MARK_KINDS) {
      const b = el('button', `mark mark-${kind}`, text.marks[kind]);
      b.type = 'button';
      b.dataset.mark = kind;
      b.setAttribute('part', 'button mark');
      b.setAttribute('aria-pressed', String(mark === kind));
      b.setAttribute('aria-label', `${text.marks[kind]}: ${name}`);
      b.addEventListener('click', () => onMark(mark === kind ? null : kind));
      row.append(b);
    }
  }
  li.append(row);
  return li;
}

/**
 * The preview of an import (`planImport`'s plan): what matched, each unmatched row with its
 * file, line and reason, each conflict with a saved rating and how it is resolved, and the two
 * buttons. Nothing is saved until `onConfirm` runs.
 */
export function importPreview(plan, { onConfirm, onCancel, text = EN }) {
  const box = el('section', 'preview');
  box.setAttribute('aria-label', text.preview);
  box.setAttribute('part', 'preview');
  box.append(el('h3', '', text.preview));
  const markCount = (kind) => plan.marks.filter((m) => m.mark === kind).length;
  const parts = [text.matched(plan.matched, plan.rows), text.added(plan.added), text.updated(plan.updated), text.unchanged(plan.unchanged)];
  for (const kind of MARK_KINDS) if (markCount(kind)) parts.push(text.markCount(markCount(kind), text.marks[kind]));
  box.append(el('p', 'summary', text.previewSummary(plan.files.map((f) => f.name).join(', '), parts)));
  const details = (className, heading, items) => {
    if (!items.length) return;
    const d = el('details', className);
    d.append(el('summary', '', heading));
    const list = el('ul');
    list.append(...items.map((t) => el('li', '', t)));
    d.append(list);
    box.append(d);
  };
  details('conflicts', text.conflicts(plan.conflicts.length), plan.conflicts.map(text.conflict));
  // The reasons come from the matcher and the file reader, in English.
  const unmatched = plan.unmatched.map((u) => `${u.file}${u.line ? `, ${text.line(u.line)}` : ''}: ${u.label ? `${u.label} — ` : ''}${u.reason}`);
  if (plan.unmatchedCount > unmatched.length) unmatched.push(text.andMore(plan.unmatchedCount - unmatched.length));
  details('unmatched', text.unmatched(plan.unmatchedCount), unmatched);
  if (plan.ignored.length) box.append(el('p', 'hint', text.ignored(`${plan.ignored.slice(0, 8).join(', ')}${plan.ignored.length > 8 ? ', …' : ''}`)));
  const actions = el('div', 'actions');
  const nothing = plan.ratings.length === 0 && plan.marks.length === 0;
  const confirm = el('button', 'confirm', nothing ? text.nothingNew : text.importCount(plan.ratings.length, plan.marks.length));
  confirm.type = 'button';
  confirm.disabled = nothing;
  confirm.addEventListener('click', () => {
    box.remove();
    onConfirm();
  });
  const cancel = el('button', 'cancel', text.cancel);
  cancel.type = 'button';
  cancel.addEventListener('click', () => {
    box.remove();
    onCancel?.();
  });
  actions.append(confirm, cancel);
  box.append(actions);
  return box;
}

/**
 * Runs `render()` and puts keyboard focus back on the star control of the same movie (in the same
 * list if it is still there), since re-rendering replaces the focused element.
 */
export function keepingFocus(root, render) {
  const active = root.activeElement;
  const movie = active?.classList?.contains('stars') ? active.dataset.movieId : null;
  const listId = movie ? active.closest('ul, ol')?.id : null;
  render();
  if (movie) {
    const selector = `.stars[data-movie-id="${CSS.escape(movie)}"]`;
    const again = (listId && root.querySelector(`#${listId} ${selector}`)) || root.querySelector(selector);
    again?.focus();
  }
}
