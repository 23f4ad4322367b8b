// Precompressed siblings, as static hosts and CDNs serve them (nginx's gzip_static and
// brotli_static, Netlify, Cloudflare): FILE.br (brotli, quality 11) and FILE.gz (gzip -9) beside
// each FILE, made at build time because brotli's best setting is too slow to run per request.
//
//     node scripts/precompress.mjs FILE...
//
// A sibling newer than its file is kept, so a second build costs nothing. scripts/serve.py sends
// FILE.br to a browser that accepts br, FILE.gz to one that accepts gzip.
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { readFileSync, statSync, writeFileSync } from 'node:fs';

const fresh = (sibling, source) => {
  try {
    return statSync(sibling).mtimeMs >= statSync(source).mtimeMs;
  } catch {
    return false;
  }
};

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
    const br = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } });
    writeFileSync(`${file}.br`, br);
    made.push(`${br.length} B brotli`);
  }
  if (!fresh(`${file}.gz`, file)) {
    const gz = gzipSync(bytes, { level: 9 });
    writeFileSync(`${file}.gz`, gz);
    made.push(`${gz.length} B gzip`);
  }
  if (made.length) console.error(`precompressed ${file} (${bytes.length} B): ${made.join(', ')}`);
}
