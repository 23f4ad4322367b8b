// DOM building shared by the demo page and the embeddable widget. Every string from the model
// or from storage goes through textContent: titles and genres are never parsed as HTML.

import { starRating } from './stars.js';

/** An element with an optional class and text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export const stars = (n) => `${Number(n).toFixed(1)}★`;

/** "Because you rated Heat 4.5★ and Fargo 4.0★", or the popularity / similarity reason. */
export function reasonText(reasons) {
  const rated = reasons.filter((r) => r.kind === 'rated').map((r) => `${r.title} ${stars(r.rating)}`);
  if (rated.length) return `Because you rated ${rated.join(' and ')}`;
  const first = reasons[0];
  if (first.kind === 'attributes') return `Because you like ${first.names.join(', ')}`;
  if (first.kind === 'similarViewers') return `${first.rated} viewers with taste like yours rated it, ${first.liked} above their average`;
  if (first.kind === 'similar') {
    const how = first.method === 'content' ? 'Similar genres, tags and themes' : 'Rated alike by the same viewers';
    return `${how} (similarity ${first.similarity.toFixed(2)})`;
  }
  return `Popular and well rated: ${stars(first.ratingMean)} from ${first.ratingCount} viewers`;
}

/**
 * One movie row: title, year, genres, optional prediction and reason, its star control, and
 * buttons. `rating` is the visitor's current rating or null; `onRate(value|null)` is called on a
 * change; `onMore` (optional) shows similar movies.
 */
export function movieItem(movie, { rating, onRate, onMore, predicted, reasons }) {
  const li = el('li', 'movie');
  li.dataset.movieId = String(movie.movieId);
  const head = el('div', 'movie-head');
  head.append(el('span', 'title', movie.title));
  if (movie.year) head.append(el('span', 'year', ` (${movie.year})`));
  li.append(head);
  if (movie.genres?.length) li.append(el('div', 'genres', movie.genres.join(' · ')));
  if (predicted !== undefined) li.append(el('div', 'predicted', `Predicted ${stars(predicted)}`));
  if (reasons?.length) li.append(el('div', 'reason', reasonText(reasons)));
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
  li.append(row);
  return li;
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
