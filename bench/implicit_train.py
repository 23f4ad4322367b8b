#!/usr/bin/env python3
"""The training side of the implicit peer (issue "fast and small"): `implicit`'s ALS fit on a
ratings CSV (header, then user,movie,rating,...), the same factors and sweeps as ours.

    python3 bench/implicit_train.py RATINGS_CSV [--factors 64] [--iterations 10]
"""
import argparse
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ratings")
    ap.add_argument("--factors", type=int, default=64)
    ap.add_argument("--iterations", type=int, default=10)
    a = ap.parse_args()
    t = time.perf_counter()
    df = pd.read_csv(a.ratings, usecols=[0, 1, 2], dtype={0: np.int64, 1: np.int64, 2: np.float32})
    users, user_rows = np.unique(df.iloc[:, 0].to_numpy(), return_inverse=True)
    items, item_cols = np.unique(df.iloc[:, 1].to_numpy(), return_inverse=True)
    matrix = sp.csr_matrix((df.iloc[:, 2].to_numpy(), (user_rows, item_cols)), shape=(len(users), len(items)))
    read_s = time.perf_counter() - t
    from implicit.als import AlternatingLeastSquares
    model = AlternatingLeastSquares(factors=a.factors, iterations=a.iterations, regularization=0.05, random_state=0)
    t = time.perf_counter()
    model.fit(matrix, show_progress=False)
    print(f"implicit ALS: {matrix.nnz} ratings, {len(users)} users, {len(items)} movies; read {read_s:.1f} s, "
          f"fit {time.perf_counter() - t:.1f} s ({a.factors} factors, {a.iterations} iterations)")


if __name__ == "__main__":
    main()
