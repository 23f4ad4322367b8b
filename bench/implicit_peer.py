#!/usr/bin/env python3
"""The anchor of `./build.sh bench`: the Python library `implicit` doing the same job natively —
fold a visitor in (`recommend(..., recalculate_user=True)`) and rank the whole catalogue — at the
same catalogue sizes and factor counts, timed like the browser (median of 15 batches of 10).

    python3 bench/implicit_peer.py OUT_JSON [--quick]
"""
import json
import sys
import time

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares

quick = "--quick" in sys.argv
shapes = [(9_742, 64)] + ([(62_423, 64)] if quick else [(m, k) for m in (62_423, 87_585) for k in (32, 64, 128)])
rows = []
rng = np.random.default_rng(7)
for movies, k in shapes:
    model = AlternatingLeastSquares(factors=k, regularization=20.0, iterations=1, random_state=0)
    model.item_factors = (rng.standard_normal((movies, k)) * 0.1).astype(np.float32)
    model.user_factors = np.zeros((1, k), dtype=np.float32)
    for n in (1, 20, 200):
        cols = np.arange(n) * 7 % movies
        row = sp.csr_matrix((np.full(n, 4.0, dtype=np.float32), (np.zeros(n, dtype=int), cols)), shape=(1, movies))
        for _ in range(5):
            model.recommend(0, row, N=10, recalculate_user=True)
        batches = []
        for _ in range(15):
            t = time.perf_counter()
            for _ in range(10):
                model.recommend(0, row, N=10, recalculate_user=True)
            batches.append((time.perf_counter() - t) * 100)
        batches.sort()
        rows.append({"movies": movies, "factors": k, "ratings": n, "median_ms": batches[7], "p95_ms": batches[14]})
        print(f"implicit {movies} movies x {k} factors, {n} ratings: median {batches[7]:.3f} ms", flush=True)
with open(sys.argv[1], "w") as f:
    json.dump(rows, f, indent=2)
