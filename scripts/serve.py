#!/usr/bin/env python3
"""A static file server for www/ that compresses as a real static host does.

    python3 scripts/serve.py PORT DIRECTORY [--bind 127.0.0.1]

Python's http.server sends every file as it is on disk; a static host (GitHub Pages, Netlify,
nginx with gzip on) sends text, the wasm and the model gzipped when the browser accepts it.
This server does the same, so the first load measured here is the one a visitor gets: the
build's precompressed siblings (FILE.br, FILE.gz from scripts/precompress.mjs, as nginx's
brotli_static and gzip_static serve them; brotli when the browser accepts it), else gzip level 6
kept in memory per file and modification time, always with Vary: Accept-Encoding; a byte range
is sent uncompressed with 206 (as many static hosts do; others send the whole file with 200,
which the page handles too). Everything else is http.server's: directory index, Last-Modified, If-Modified-Since, 404s.
"""

import argparse
import gzip
import http.server
import io
import os
import re
import sys

COMPRESSIBLE = {".html", ".js", ".mjs", ".css", ".json", ".svg", ".wasm", ".bin", ".csv", ".txt", ".map"}
_cache = {}


def accepted_encodings(header):
    """The codings an Accept-Encoding header accepts (`br;q=0` refuses br)."""
    out = set()
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        q = params.strip()
        if q.startswith("q=") and q[2:].strip() in {"0", "0.0", "0.00", "0.000"}:
            continue
        if name:
            out.add(name.strip().lower())
    return out


def precompressed(path, stat, accepted):
    """`(coding, bytes)` of the build's sibling `path.br` or `path.gz` (scripts/precompress.mjs),
    brotli first, when the browser accepts it and it is not older than `path`; otherwise
    `(None, None)`."""
    for coding, suffix in (("br", ".br"), ("gzip", ".gz")):
        sibling = path + suffix
        if coding in accepted and os.path.isfile(sibling) and os.stat(sibling).st_mtime_ns >= stat.st_mtime_ns:
            with open(sibling, "rb") as f:
                return coding, f.read()
    return None, None


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm", ".mjs": "text/javascript", ".webmanifest": "application/manifest+json"}

    def send_head(self):
        path = self.translate_path(self.path)
        if self.headers.get("Range") and os.path.isfile(path):
            return self.send_range(path)
        if os.path.isdir(path):
            if not self.path.split("?", 1)[0].endswith("/"):
                return super().send_head()  # the redirect to the slash form
            path = os.path.join(path, "index.html")
        ext = os.path.splitext(path)[1].lower()
        accepted = accepted_encodings(self.headers.get("Accept-Encoding", ""))
        if ext not in COMPRESSIBLE or not accepted & {"br", "gzip"} or not os.path.isfile(path):
            return super().send_head()
        stat = os.stat(path)
        since = self.headers.get("If-Modified-Since")
        last_modified = self.date_time_string(int(stat.st_mtime))
        if since == last_modified:
            self.send_response(304)
            self.end_headers()
            return None
        encoding, body = precompressed(path, stat, accepted)
        if body is None:
            if "gzip" not in accepted:
                return super().send_head()
            encoding, key = "gzip", (path, stat.st_mtime_ns, stat.st_size)
            body = _cache.get(key)
            if body is None:
                with open(path, "rb") as f:
                    body = gzip.compress(f.read(), compresslevel=6, mtime=0)
                _cache[key] = body
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", last_modified)
        self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        return io.BytesIO(body)

    def send_range(self, path):
        """One byte range (`bytes=N-` or `bytes=N-M`), sent as it is on disk, as static hosts do
        (a compressed response has no byte offsets to cut at)."""
        size = os.path.getsize(path)
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers["Range"].strip())
        if not m or int(m.group(1)) >= size:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        start = int(m.group(1))
        end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
        with open(path, "rb") as f:
            f.seek(start)
            body = f.read(end - start + 1)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Last-Modified", self.date_time_string(int(os.stat(path).st_mtime)))
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, format, *args):
        if os.environ.get("MOVIE_RECS_SERVE_LOG"):
            super().log_message(format, *args)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("directory")
    parser.add_argument("--bind", default="127.0.0.1")
    args = parser.parse_args()
    handler = lambda *a, **kw: Handler(*a, directory=args.directory, **kw)  # noqa: E731
    with http.server.ThreadingHTTPServer((args.bind, args.port), handler) as httpd:
        host, port = httpd.server_address[:2]
        print(f"Serving HTTP on {host} port {port} (http://{host}:{port}/), brotli and gzip on", flush=True)
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            sys.exit(0)


if __name__ == "__main__":
    main()
