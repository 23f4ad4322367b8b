// The offline copy of the page. On the first visit it keeps every file the page needs (the
// page, its modules, the wasm and the default model) in one cache named by a hash of them all
// (`pkg/precache.js`, written by `./build.sh build`), and from then on serves them from there,
// online or not. A deploy changes that hash, so the browser installs a new worker beside the
// old one; the page then offers a reload, and the new files replace the old all at once: a
// stale wasm never meets a new model (the model's format-version check stays the last line).
// Models picked with `?model=` are kept too, the first time they load.

importScripts('./pkg/precache.js');

const { version, files } = self.MOVIE_RECS_PRECACHE;
const CACHE = `movie-recs-${version}`;
const RUNTIME = 'movie-recs-runtime';

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(files.map((f) => new Request(f, { cache: 'reload' })))));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('movie-recs-') && k !== CACHE && k !== RUNTIME).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The page asks for the waiting worker to take over when the visitor chooses to reload.
self.addEventListener('message', (event) => {
  if (event.data === 'skipWaiting') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  event.respondWith(
    (async () => {
      // A page's query (`?model=`) does not make it another page.
      const page = request.mode === 'navigate';
      const hit = await (await caches.open(CACHE)).match(request, { ignoreSearch: page });
      if (hit) return hit;
      try {
        const response = await fetch(request);
        // Only a whole file: the Cache API refuses a partial (206) answer to a range request.
        if (response.status === 200 && url.pathname.endsWith('.bin')) await (await caches.open(RUNTIME)).put(request, response.clone());
        return response;
      } catch (err) {
        const kept = await caches.match(request, { ignoreSearch: page });
        if (kept) return kept;
        throw err;
      }
    })(),
  );
});
