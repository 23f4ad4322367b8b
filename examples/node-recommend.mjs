#!/usr/bin/env node
// Recommendations at build time, in plain Node, from the same wasm package the page loads:
//
//   node examples/node-recommend.mjs RATINGS.json [MODEL.bin] [COUNT]
//
// RATINGS.json is an export of the page ({"ratings": [...]}) or a bare [{movieId, rating}] list.
// Prints {items, coldStart, usedRatings, skipped} as JSON; exits 1 with a message on bad input.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { initSync, Recommender } from '../www/pkg/movie_recs.js';

const [ratingsPath, modelPath = fileURLToPath(new URL('../www/model.bin', import.meta.url)), count = '10'] = process.argv.slice(2);
if (!ratingsPath) {
  console.error('usage: node examples/node-recommend.mjs RATINGS.json [MODEL.bin] [COUNT]');
  process.exit(2);
}
try {
  initSync({ module: await readFile(new URL('../www/pkg/movie_recs_bg.wasm', import.meta.url)) });
  const recommender = new Recommender(await readFile(modelPath));
  const parsed = JSON.parse(await readFile(ratingsPath, 'utf8'));
  const ratings = Array.isArray(parsed) ? parsed : parsed.ratings;
  if (!Array.isArray(ratings)) throw new Error(`${ratingsPath} has no list of ratings`);
  const clean = ratings.map(({ movieId, rating }) => ({ movieId: Number(movieId), rating: Number(rating) }));
  const result = recommender.recommend(clean, { count: Number(count) });
  console.log(JSON.stringify(result, null, 2));
} catch (err) {
  console.error(`error: ${err.message}`);
  process.exit(1);
}
