// The one module that imports the wasm. It hands out a ready Recommender per model URL; the
// wasm module and each model are fetched once and shared by every caller on the page (the page
// and any number of widgets). The wasm and the model download in parallel, and the wasm compiles
// while it streams (WebAssembly.instantiateStreaming inside wasm-bindgen's init).

import init, { Recommender } from '../pkg/movie_recs.js';

const WASM_URL = new URL('../pkg/movie_recs_bg.wasm', import.meta.url);
/** The default model, resolved relative to this module so it works from any page path. */
export const DEFAULT_MODEL_URL = new URL('../model.bin', import.meta.url);

let wasmReady = null;
const models = new Map();

async function fetchModel(url) {
  let response;
  try {
    response = await fetch(url, { credentials: 'same-origin' });
  } catch (err) {
    throw new Error(`could not download the model (${url}): ${err.message}. Check your connection and retry.`);
  }
  if (!response.ok) {
    throw new Error(`could not download the model (${url}): HTTP ${response.status} ${response.statusText}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Resolves to a Recommender for `modelUrl` (default: the bundled model). Rejects with an Error
 * whose message says what went wrong (network, HTTP status, corrupt or incompatible model);
 * a failed load is forgotten so that calling again retries.
 */
export function loadRecommender(modelUrl = DEFAULT_MODEL_URL) {
  const key = new URL(modelUrl, document.baseURI).href;
  if (!models.has(key)) {
    if (!wasmReady) {
      wasmReady = init({ module_or_path: WASM_URL }).catch((err) => {
        wasmReady = null;
        throw new Error(`could not load the recommender engine: ${err.message}`);
      });
    }
    const loading = Promise.all([wasmReady, fetchModel(key)]).then(([, bytes]) => new Recommender(bytes));
    loading.catch(() => models.delete(key));
    models.set(key, loading);
  }
  return models.get(key);
}
