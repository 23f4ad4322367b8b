// The one module that imports the wasm. It hands out a ready Recommender per model URL; the
// wasm module and each model are fetched once and shared by every caller on the page (the page
// and any number of widgets). The wasm and the model download in parallel, and the wasm compiles
// while it streams (WebAssembly.instantiateStreaming inside wasm-bindgen's init).
//
// The model streams too: its file starts with the core (catalogue and the ranking model, about
// an eighth of the bytes), so the Recommender is handed out as soon as the core has arrived; the
// movies' IMDb and TMDB ids and the star model follow (`whenDetails`), and the other methods'
// tables are attached when the rest has arrived (`whenComplete`).

import init, { Recommender } from '../pkg/movie_recs.js';

const WASM_URL = new URL('../pkg/movie_recs_bg.wasm', import.meta.url);
/** The default model, resolved relative to this module so it works from any page path. */
export const DEFAULT_MODEL_URL = new URL('../model.bin', import.meta.url);
/**
 * Where the page's and the widget's familiar-to-discover control starts, chosen on the curve of
 * `./build.sh first-minute` (README, "Familiar or new"): the most novelty for at most 2% NDCG@10
 * lost on the main split (0.3: 0.1484 against 0.1494, novelty 2.22 -> 2.47 bits, coverage@10
 * 3.6% -> 4.3%; future visitors gain, 0.1086 -> 0.1138). The core's `discover` option defaults
 * to 0, the method's own ranking, which the evaluation rows measure.
 */
export const DEFAULT_DISCOVER = 0.3;

let wasmReady = null;
const models = new Map();

async function request(url) {
  let response;
  try {
    response = await fetch(url, { credentials: 'same-origin' });
  } catch (err) {
    throw new Error(`could not download the model (${url}): ${err.message}. Check your connection and retry.`);
  }
  if (!response.ok) {
    throw new Error(`could not download the model (${url}): HTTP ${response.status} ${response.statusText}`);
  }
  return response;
}

/** Chunks of a download, joined on demand (once per call, not per chunk). */
class Received {
  chunks = [];
  length = 0;

  push(chunk) {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  bytes() {
    if (this.chunks.length !== 1) {
      const all = new Uint8Array(this.length);
      let at = 0;
      for (const c of this.chunks) {
        all.set(c, at);
        at += c.length;
      }
      this.chunks = [all];
    }
    return this.chunks[0] ?? new Uint8Array();
  }
}

/**
 * Downloads `url`, calling `onCore(recommender)` once the core has arrived and
 * `entry.onDetails(recommender)` once the two sections after it have: the movies' IMDb and TMDB
 * ids (links, imports, exports) and the star model (predicted stars). If by then nobody has
 * asked for the rest (`entry.wantRest`), the download stops there
 * and resolves with `{ recommender, parked }` (the bytes so far), fetched on by `fetchRest` when
 * a method first needs it; otherwise it resolves once the extras are attached. A file that ends
 * early or is corrupt rejects with the core's message, after `onCore` if the core itself was
 * whole.
 */
async function stream(url, entry, onCore) {
  const response = await request(url);
  timingMark('movie-recs:model-response');
  await wasmReady;
  const received = new Received();
  let recommender = null;
  let coreLength;
  let linksLength;
  let starsLength;
  const reader = response.body.getReader();
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (err) {
      throw new Error(`the model download (${url}) broke off: ${err.message}. Check your connection and retry.`);
    }
    if (chunk.done) break;
    received.push(chunk.value);
    if (!recommender) {
      coreLength ??= Recommender.coreLength(received.bytes());
      if (coreLength === undefined || received.length < coreLength) continue;
      recommender = Recommender.fromCore(received.bytes());
      linksLength = Recommender.linksLength(received.bytes());
      starsLength = Recommender.starsLength(received.bytes());
      timingMark('movie-recs:core');
      onCore(recommender);
    }
    if (!recommender.hasLinks) {
      if (received.length < linksLength) continue;
      recommender.attachLinks(received.bytes());
      timingMark('movie-recs:links');
    }
    // A core whose ranking reads the star model holds it.
    if (!recommender.hasStars) {
      if (received.length < starsLength) continue;
      recommender.attachStars(received.bytes());
      timingMark('movie-recs:stars');
    }
    entry.onDetails(recommender); // a no-op after the first time
    if (!entry.wantRest) {
      reader.cancel().catch(() => {});
      return { recommender, parked: received };
    }
  }
  if (!recommender) {
    // The whole file arrived before the core was complete: a truncated or tiny file; the
    // whole-file reader names what is wrong.
    recommender = new Recommender(received.bytes());
    onCore(recommender);
    entry.onDetails(recommender);
    return { recommender };
  }
  recommender.attachExtras(received.bytes());
  timingMark('movie-recs:extras');
  return { recommender };
}

/**
 * A User Timing mark (`performance.getEntriesByName`), so that a site owner's tools and
 * bench/first-load.mjs see where a load spends its time: the model's response, the wasm, the
 * core, the extras.
 */
export function timingMark(name) {
  try {
    performance.mark(name);
  } catch {
    // Marks are a measurement aid only.
  }
}

/**
 * The rest of a parked download: a range request from where it stopped (a host that ignores
 * ranges, or compresses on the fly, sends the whole file again: then that is used), attached
 * to the recommender. The extras' checksum and the core's checksum in their header decide
 * whether they belong to it.
 */
async function fetchRest(url, { recommender, parked }) {
  // The rest may have arrived with the core's last chunk.
  if (parked.length >= Recommender.fileLength(parked.bytes())) {
    recommender.attachExtras(parked.bytes());
    return recommender;
  }
  let response;
  try {
    response = await fetch(url, { credentials: 'same-origin', headers: { Range: `bytes=${parked.length}-` } });
  } catch (err) {
    throw new Error(`could not download the rest of the model (${url}): ${err.message}. Check your connection and retry.`);
  }
  if (!response.ok) throw new Error(`could not download the rest of the model (${url}): HTTP ${response.status} ${response.statusText}`);
  const body = new Uint8Array(await response.arrayBuffer());
  if (response.status === 206) {
    const start = parked.bytes();
    const whole = new Uint8Array(start.length + body.length);
    whole.set(start);
    whole.set(body, start.length);
    recommender.attachExtras(whole);
  } else {
    recommender.attachExtras(body);
  }
  return recommender;
}

function open(key, rest) {
  if (!wasmReady) {
    wasmReady = init({ module_or_path: WASM_URL }).then(() => timingMark('movie-recs:wasm'), (err) => {
      wasmReady = null;
      throw new Error(`could not load the recommender engine: ${err.message}`);
    });
  }
  const entry = { key, wantRest: rest !== 'lazy' };
  entry.core = new Promise((resolve, reject) => {
    entry.details = new Promise((detailsIn, detailsFailed) => {
      entry.onDetails = detailsIn;
      entry.download = stream(key, entry, resolve);
      entry.download.catch(detailsFailed); // a no-op once the details have resolved
    });
    entry.download.catch(reject); // a no-op once the core has resolved
  });
  entry.core.catch(() => models.delete(key));
  entry.details.catch(() => {}); // reported by `whenDetails`, `whenComplete` or the core
  return entry;
}

function entryFor(modelUrl, rest) {
  const key = new URL(modelUrl, document.baseURI).href;
  if (!models.has(key)) models.set(key, open(key, rest));
  return models.get(key);
}

/**
 * Resolves to a Recommender for `modelUrl` (default: the bundled model) as soon as the model's
 * core has arrived. Rejects with an Error whose message says what went wrong (network, HTTP
 * status, corrupt or incompatible model); a failed load is forgotten so that calling again
 * retries.
 *
 * `rest`: `'eager'` (the default) goes on downloading the other methods' tables after the core;
 * `'lazy'` stops after the core, for a caller whose method needs only the factor models
 * (`mf`, `popular`): the rest is fetched when `whenComplete` is first called. At ML-25M's size
 * the core is 6.7 MB of a 17 MB file (README, "Every method at a site's scale").
 */
export function loadRecommender(modelUrl = DEFAULT_MODEL_URL, { rest = 'eager' } = {}) {
  return entryFor(modelUrl, rest).core;
}

/**
 * Resolves (to the same Recommender) once the two sections after the core are in: the movies'
 * IMDb and TMDB ids (`hasLinks`: links, and what imports and exports match on) and the star
 * model (`hasStars`: predicted stars). On a slow connection the first list comes without them,
 * and this is when to draw it again; an import or an export waits for it. Rejects if that part
 * of the download failed (the core still working).
 */
export function whenDetails(modelUrl = DEFAULT_MODEL_URL) {
  return entryFor(modelUrl).details;
}

/**
 * Resolves (to the same Recommender) once the whole model is in and every method it has is
 * available, fetching the rest if a lazy load stopped after the core; rejects with an Error if
 * the rest failed, the core still working (a later call tries again).
 */
export function whenComplete(modelUrl = DEFAULT_MODEL_URL) {
  const entry = entryFor(modelUrl);
  entry.wantRest = true;
  entry.complete ??= entry.core
    .then(() => entry.download)
    .then((done) => (done.parked ? fetchRest(entry.key, done) : done.recommender));
  entry.complete.catch(() => {
    entry.complete = undefined;
  });
  return entry.complete;
}

/** Methods that need the model's extras (everything but the factor models and popularity; tests/e2e/node.test.mjs holds this to the core's own list, which is known only after the wasm loads). */
export function needsRest(method) {
  return method !== 'mf' && method !== 'popular';
}
