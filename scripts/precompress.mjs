// Precompressed siblings, as static hosts and CDNs serve them (nginx's gzip_static and
// brotli_static, Netlify, Cloudflare): FILE.br (brotli, quality 11) and FILE.gz (gzip -9) beside
// each FILE, made at build time because brotli's best setting is too slow to run per request.
//
//     node scripts/precompress.mjs FILE...
//
// A sibling newer than its file is kept, so a second build costs nothing. scripts/serve.py sends
// FILE.br to a browser that accepts br, FILE.gz to one that accepts gzip. `brotli` and `gzip` are
// the two encodings as made here, for the benches that report sizes as a host serves them.
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const brotli = (bytes) => brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } });
export const gzip = (bytes) => gzipSync(bytes, { level: 9 });

const fresh = (sibling, source) => {
  try {
    return statSync(sibling).mtimeMs >= statSync(source).mtimeMs;
  } catch {
    return false;
  }
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const file of process.argv.slice(2)) {
    let bytes;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      console.error(`precompress: cannot read ${file}: ${err.message}`);
      process.exit(1);
    }
    const made = [];
    if (!fresh(`${file}.br`, file)) {
      const br = brotli(bytes);
      writeFileSync(`${file}.br`, br);
      made.push(`${br.length} B brotli`);
    }
    if (!fresh(`${file}.gz`, file)) {
      const gz = gzip(bytes);
      writeFileSync(`${file}.gz`, gz);
      made.push(`${gz.length} B gzip`);
    }
    if (made.length) console.error(`precompressed ${file} (${bytes.length} B): ${made.join(', ')}`);
  }
}
