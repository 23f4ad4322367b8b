// The <movie-recs> widget's offline copy, for a host site that wants the widget to keep working
// without a connection. A service worker controls only the pages under its own folder, so the
// host registers one at its root; this file is what that worker runs, whole or imported:
//
//   // /sw.js on the host site (registered by the host's pages: navigator.serviceWorker.register('/sw.js'))
//   self.MOVIE_RECS_BASE = '/widgets/movie-recs/';       // the folder holding the widget's files
//   importScripts('/widgets/movie-recs/movie-recs-sw.js');
//
// On install it keeps the widget's files (the element, its modules, the wasm and the default
// model: `widget-precache.js` beside this file, written by ./build.sh build with a hash of them
// all) in one cache named by that hash, and serves them from there, online or not. Other models
// (`model="…"`) are kept the first time they load. The host's own pages and files (same origin)
// are kept too: the pages open when it installs, then each file as it is fetched through it
// (from the network when it answers, from the cache when it does not; so a page's own scripts
// and styles from the visit after the one that installed it), unless the host sets
// `self.MOVIE_RECS_PAGES = false` before the import because its own worker keeps them.
//
// A widget deploy changes `widget-precache.js`, which the browser compares on its update check,
// so a new worker installs beside the old one and takes over when no page uses the old one: a
// stale wasm never meets a new model. A host page that wants to switch at once posts
// 'movie-recs:skipWaiting' to the waiting worker.
(() => {
  const base = new URL(self.MOVIE_RECS_BASE || './', self.location).href;
  const keepPages = self.MOVIE_RECS_PAGES !== false;
  importScripts(new URL('widget-precache.js', base).href);
  const { version, files } = self.MOVIE_RECS_WIDGET_PRECACHE;
  const PREFIX = 'movie-recs-widget-';
  const CACHE = `${PREFIX}${version}`;
  const RUNTIME = `${PREFIX}runtime`;
  const kept = new Set(files.map((f) => new URL(f, base).href));

  self.addEventListener('install', (event) => {
    event.waitUntil(
      Promise.all([
        caches.open(CACHE).then((cache) => cache.addAll([...kept].map((u) => new Request(u, { cache: 'reload' })))),
        keepPages && keepOpenPages(),
      ]),
    );
  });

  /** The host's pages open now (the ones that registered the worker): they loaded before it ran. */
  async function keepOpenPages() {
    const open = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const runtime = await caches.open(RUNTIME);
    await Promise.all(
      open
        .map((c) => new URL(c.url))
        .filter((u) => u.origin === self.location.origin)
        .map((u) => fetch(u.href).then((r) => (r.ok ? runtime.put(u.href, r) : undefined), () => undefined)),
    );
  }

  self.addEventListener('activate', (event) => {
    event.waitUntil(
      caches
        .keys()
        .then((keys) => Promise.all(keys.filter((k) => k.startsWith(PREFIX) && k !== CACHE && k !== RUNTIME).map((k) => caches.delete(k))))
        .then(() => self.clients.claim()),
    );
  });

  self.addEventListener('message', (event) => {
    if (event.data === 'movie-recs:skipWaiting') self.skipWaiting();
  });

  self.addEventListener('fetch', (event) => {
    const request = event.request;
    const url = new URL(request.url);
    if (request.method !== 'GET' || url.origin !== self.location.origin) return;
    const page = request.mode === 'navigate';
    if (kept.has(url.origin + url.pathname)) {
      event.respondWith(fromCacheFirst(request));
    } else if (keepPages || url.pathname.endsWith('.bin')) {
      event.respondWith(fromNetworkFirst(request, page));
    }
  });

  /**
   * The widget's own files and its default model: the installed set, whole (a range request for
   * the model's rest gets the whole file, which the widget takes); the network only if evicted.
   */
  async function fromCacheFirst(request) {
    return (await (await caches.open(CACHE)).match(request, { ignoreSearch: true })) || fetch(request);
  }

  /** Other models and the host's own files: the network, kept for later; the kept copy offline. */
  async function fromNetworkFirst(request, page) {
    try {
      const response = await fetch(request);
      // Only a whole file: the Cache API refuses a partial (206) answer to a range request.
      if (response.status === 200) await (await caches.open(RUNTIME)).put(request, response.clone());
      return response;
    } catch (err) {
      const hit = await (await caches.open(RUNTIME)).match(request, { ignoreSearch: page });
      if (hit) return hit;
      throw err;
    }
  }
})();
