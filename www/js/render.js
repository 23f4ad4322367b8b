// DOM building shared by the demo page and the embeddable widget. Every string from the model
// or from storage goes through textContent: titles and genres are never parsed as HTML.

import { starRating } from './stars.js';
import { MARK_KINDS, MARK_LABELS } from './marks.js';

/** An element with an optional class and text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export const stars = (n) => `${Number(n).toFixed(1)}★`;

/**
 * "Because you liked Heat 4.5★ and Fargo 4.0★" (the core cites only ratings at or above the
 * visitor's own mean), or the popularity / similarity reason.
 */
export function reasonText(reasons) {
  const rated = reasons.filter((r) => r.kind === 'rated').map((r) => `${r.title} ${stars(r.rating)}`);
  if (rated.length) return `Because you liked ${rated.join(' and ')}`;
  const first = reasons[0];
  if (first.kind === 'attributes') return `Because you like ${first.names.join(', ')}`;
  if (first.kind === 'similarViewers') return `${first.rated} viewers with taste like yours rated it, ${first.liked} above their average`;
  if (first.kind === 'similar') {
    const how = first.method === 'content' ? 'Similar genres, tags and themes' : 'Rated alike by the same viewers';
    return `${how} (similarity ${first.similarity.toFixed(2)})`;
  }
  return `Popular and well rated: ${stars(first.ratingMean)} from ${first.ratingCount} viewers`;
}

const tt = (id) => `tt${String(id).padStart(7, '0')}`;

/**
 * Links to the movie on IMDb, TMDB and Letterboxd. They carry the movie's id and nothing about
 * the visitor: no query string, no referrer, no opener.
 */
export function movieLinks(movie) {
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
    a.setAttribute('aria-label', `${movie.title} on ${name} (opens in a new tab)`);
    return a;
  });
}

/**
 * One movie row: title, year, genres, optional prediction and reason, its star control, and
 * buttons. `rating` is the visitor's current rating or null; `onRate(value|null)` is called on a
 * change; `onMore` (optional) shows similar movies; `mark` / `onMark(kind|null)` (optional) are
 * the seen / not interested / want to watch toggles; `links: false` leaves out the links out.
 */
export function movieItem(movie, { rating, onRate, onMore, predicted, reasons, mark = null, onMark, links = true }) {
  const li = el('li', 'movie');
  li.dataset.movieId = String(movie.movieId);
  const head = el('div', 'movie-head');
  head.append(el('span', 'title', movie.title));
  if (movie.year) head.append(el('span', 'year', ` (${movie.year})`));
  li.append(head);
  if (movie.genres?.length) li.append(el('div', 'genres', movie.genres.join(' · ')));
  if (predicted !== undefined) li.append(el('div', 'predicted', `Predicted ${stars(predicted)}`));
  if (reasons?.length) li.append(el('div', 'reason', reasonText(reasons)));
  if (links) {
    const found = movieLinks(movie);
    if (found.length) {
      const box = el('div', 'links');
      box.append(...found);
      li.append(box);
    }
  }
  const control = starRating({ value: rating, label: `Your rating of ${movie.title}`, onChange: onRate });
  control.element.dataset.movieId = String(movie.movieId);
  const row = el('div', 'movie-actions');
  row.append(control.element);
  const button = (className, text, label, onClick) => {
    const b = el('button', className, text);
    b.type = 'button';
    b.setAttribute('aria-label', label);
    b.addEventListener('click', onClick);
    row.append(b);
  };
  if (onMore) button('more', 'More like this', `More movies like ${movie.title}`, onMore);
  if (rating !== null) button('remove', 'Remove', `Remove your rating of ${movie.title}`, () => onRate(null));
  if (onMark && rating === null) {
    for (const kind of MARK_KINDS) {
      const b = el('button', `mark mark-${kind}`, MARK_LABELS[kind]);
      b.type = 'button';
      b.dataset.mark = kind;
      b.setAttribute('aria-pressed', String(mark === kind));
      b.setAttribute('aria-label', `${MARK_LABELS[kind]}: ${movie.title}`);
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
export function importPreview(plan, { onConfirm, onCancel }) {
  const box = el('section', 'preview');
  box.setAttribute('aria-label', 'Import preview');
  box.append(el('h3', '', 'Import preview'));
  const markCount = (kind) => plan.marks.filter((m) => m.mark === kind).length;
  const parts = [
    `${plan.matched} of ${plan.rows} rows matched a movie`,
    `${plan.added} new rating${plan.added === 1 ? '' : 's'}`,
    `${plan.updated} updated`,
    `${plan.unchanged} already as saved`,
  ];
  for (const kind of MARK_KINDS) if (markCount(kind)) parts.push(`${markCount(kind)} “${MARK_LABELS[kind]}”`);
  box.append(el('p', 'summary', `From ${plan.files.map((f) => f.name).join(', ')}: ${parts.join(', ')}.`));
  const details = (className, heading, items) => {
    if (!items.length) return;
    const d = el('details', className);
    d.append(el('summary', '', heading));
    const list = el('ul');
    list.append(...items.map((t) => el('li', '', t)));
    d.append(list);
    box.append(d);
  };
  details(
    'conflicts',
    `Differs from what you saved (${plan.conflicts.length})`,
    plan.conflicts.map((c) => `${c.title}: saved ${c.saved}★, file ${c.incoming}★ — keeping ${c.keep === 'file' ? `the file’s ${c.incoming}★` : `your ${c.saved}★`} (${c.why})`),
  );
  const unmatched = plan.unmatched.map((u) => `${u.file}${u.line ? `, line ${u.line}` : ''}: ${u.label ? `${u.label} — ` : ''}${u.reason}`);
  if (plan.unmatchedCount > unmatched.length) unmatched.push(`… and ${plan.unmatchedCount - unmatched.length} more`);
  details('unmatched', `Not matched (${plan.unmatchedCount})`, unmatched);
  if (plan.ignored.length) box.append(el('p', 'hint', `Not history, left out: ${plan.ignored.slice(0, 8).join(', ')}${plan.ignored.length > 8 ? ', …' : ''}`));
  const actions = el('div', 'actions');
  const nothing = plan.ratings.length === 0 && plan.marks.length === 0;
  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const confirm = el('button', 'confirm', nothing ? 'Nothing new to import' : `Import ${plural(plan.ratings.length, 'rating')}${plan.marks.length ? ` and ${plural(plan.marks.length, 'mark')}` : ''}`);
  confirm.type = 'button';
  confirm.disabled = nothing;
  confirm.addEventListener('click', () => {
    box.remove();
    onConfirm();
  });
  const cancel = el('button', 'cancel', 'Cancel');
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
