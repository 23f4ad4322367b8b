// A star rating control: 0.5 to 5 stars in half steps, by pointer or keyboard.
// It is the WAI-ARIA rating slider: arrows move by half a star, Page Up / Page Down by a whole
// one, Home/End go to the ends, digits 1–5 set whole stars, Delete or Backspace removes the
// rating. The range is 0–5, 0 meaning "not rated", and the value text reads "3 of 5 stars".

import { STRINGS } from './strings.js';

const STEP = 0.5;
const MIN = 0.5;
const MAX = 5;

function paint(stars, value) {
  stars.forEach((star, i) => {
    const fill = value === null ? 0 : Math.max(0, Math.min(1, value - i));
    star.dataset.fill = fill >= 1 ? 'full' : fill >= 0.5 ? 'half' : 'empty';
  });
}

/**
 * Creates the control. `onChange(newValue | null)` is called on every change by the visitor;
 * `setValue` updates it without calling back.
 */
export function starRating({ value = null, label, onChange, text = STRINGS.en }) {
  const describe = (v) => (v === null ? text.notRated : text.ofStars(v, MAX));
  const el = document.createElement('div');
  el.className = 'stars';
  el.tabIndex = 0;
  el.setAttribute('role', 'slider');
  el.setAttribute('aria-label', label);
  el.setAttribute('aria-valuemin', '0');
  el.setAttribute('aria-valuemax', String(MAX));
  const stars = [];
  for (let i = 0; i < 5; i++) {
    const star = document.createElement('span');
    star.className = 'star';
    star.setAttribute('aria-hidden', 'true');
    star.textContent = '★';
    stars.push(star);
    el.append(star);
  }
  let current = value;
  const show = (v) => {
    current = v;
    paint(stars, v);
    el.setAttribute('aria-valuenow', String(v ?? 0));
    el.setAttribute('aria-valuetext', describe(v));
    el.title = `${label}: ${describe(v)}`;
  };
  const commit = (v) => {
    if (v === current) return;
    show(v);
    onChange(v);
  };
  const fromPointer = (event) => {
    const target = event.target.closest('.star');
    if (!target) return null;
    const i = stars.indexOf(target);
    const rect = target.getBoundingClientRect();
    return i + (event.clientX - rect.left < rect.width / 2 ? 0.5 : 1);
  };
  el.addEventListener('click', (event) => {
    const v = fromPointer(event);
    if (v !== null) commit(v);
  });
  el.addEventListener('pointermove', (event) => {
    const v = fromPointer(event);
    if (v !== null) paint(stars, v);
  });
  el.addEventListener('pointerleave', () => paint(stars, current));
  el.addEventListener('keydown', (event) => {
    const v = current ?? 0;
    let next;
    switch (event.key) {
      case 'ArrowRight':
      case 'ArrowUp':
        next = Math.min(MAX, v + STEP);
        break;
      case 'ArrowLeft':
      case 'ArrowDown':
        next = current === null ? null : Math.max(MIN, v - STEP);
        break;
      case 'PageUp':
        next = Math.min(MAX, v + 1);
        break;
      case 'PageDown':
        next = current === null ? null : Math.max(MIN, v - 1);
        break;
      case 'Home':
        next = MIN;
        break;
      case 'End':
        next = MAX;
        break;
      case 'Delete':
      case 'Backspace':
        next = null;
        break;
      default:
        if (/^[1-5]$/.test(event.key)) next = Number(event.key);
        else return;
    }
    event.preventDefault();
    commit(next);
  });
  show(value);
  return { element: el, setValue: show };
}
