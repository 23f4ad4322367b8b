#!/usr/bin/env python3
"""Public baselines on exactly the project's split (written by `trainer split`), scored with the
same metrics as src/eval.rs, appended to the evaluation report.

    python3 scripts/peers.py SPLIT_DIR REPORT_JSON [--folds 0,1,2,3,4] [--slow]

Rows: popularity (a check of the metric code against the Rust row), implicit ALS with
fold-in (recalculate_user), EASE (numpy, lambda 200), Surprise SVD retrained with the visitors'
given ratings; with --slow also SVD++ and item kNN-baseline (rating metrics only).
"""
import argparse
import json
import math
import time
from collections import defaultdict

import numpy as np
import scipy.sparse as sp

K, K_MAX, RELEVANT_AT = 10, 50, 3.5


def read(path):
    rows = []
    with open(path) as f:
        next(f)
        for line in f:
            u, m, r = line.rstrip("\n").split(",")
            rows.append((int(u), int(float(m)), float(r)))
    return rows


class Fold:
    def __init__(self, d):
        self.train = read(f"{d}/train.csv")
        self.given = defaultdict(list)
        for u, m, r in read(f"{d}/given.csv"):
            self.given[u].append((m, r))
        self.hidden = defaultdict(list)
        for u, m, r in read(f"{d}/hidden.csv"):
            self.hidden[u].append((m, r))
        self.users = sorted(set(self.given) | set(self.hidden))
        self.items = sorted({m for _, m, _ in self.train})
        self.col = {m: i for i, m in enumerate(self.items)}
        counts = np.zeros(len(self.items))
        for _, m, _ in self.train:
            counts[self.col[m]] += 1
        self.counts = counts
        lo = min(r for _, _, r in self.train)
        hi = max(r for _, _, r in self.train)
        self.scale = (lo, hi)


def metrics(fold, rank_fn, predict_fn, name):
    """rank_fn(user, given) -> item columns best first (given excluded by the caller here);
    predict_fn(user, given, movies) -> predicted ratings. Either may be None."""
    se = ae = 0.0
    n_ratings = 0
    p = r = nd = 0.0
    users = 0
    covered = set()
    elapsed = 0.0
    for u in fold.users:
        given = fold.given.get(u, [])
        hidden = [(m, x) for m, x in fold.hidden.get(u, []) if m in fold.col]
        if predict_fn and hidden:
            preds = predict_fn(u, given, [m for m, _ in hidden])
            for pr, (_, x) in zip(preds, hidden):
                e = min(max(pr, fold.scale[0]), fold.scale[1]) - x
                se += e * e
                ae += abs(e)
                n_ratings += 1
        if not rank_fn:
            continue
        t = time.perf_counter()
        seen = {fold.col[m] for m, _ in given if m in fold.col}
        top = [c for c in rank_fn(u, given, K_MAX + len(seen)) if c not in seen][:K_MAX]
        elapsed += time.perf_counter() - t
        covered.update(top[:K])
        relevant = {fold.col[m] for m, x in hidden if x >= RELEVANT_AT}
        if not relevant:
            continue
        users += 1
        hits = sum(1 for c in top[:K] if c in relevant)
        dcg = sum(1 / math.log2(i + 2) for i, c in enumerate(top[:K]) if c in relevant)
        ideal = sum(1 / math.log2(i + 2) for i in range(min(K, len(relevant))))
        p += hits / K
        r += hits / min(K, len(relevant))
        nd += dcg / ideal
    out = {"name": name, "shipped": False}
    if n_ratings:
        out.update(rmse=math.sqrt(se / n_ratings), mae=ae / n_ratings, mse=se / n_ratings)
    if rank_fn and users:
        out.update({"p@10": p / users, "r@10": r / users, "ndcg@10": nd / users,
                    "coverage@10": len(covered) / len(fold.items), "users": users,
                    "foldin_rank_ms": 1000 * elapsed / len(fold.users)})
    return out


def popularity(fold):
    order = list(np.argsort(-fold.counts, kind="stable"))
    return metrics(fold, lambda u, g, n: order[:n], None, "peer: popularity (check)")


def implicit_als(fold):
    from implicit.als import AlternatingLeastSquares
    users = sorted({u for u, _, _ in fold.train})
    row = {u: i for i, u in enumerate(users)}
    ui = sp.csr_matrix(([x for _, _, x in fold.train], ([row[u] for u, _, _ in fold.train], [fold.col[m] for _, m, _ in fold.train])),
                       shape=(len(users), len(fold.items)), dtype=np.float32)
    model = AlternatingLeastSquares(factors=64, regularization=0.05, iterations=15, random_state=0)
    model.fit(ui, show_progress=False)

    def rank(u, given, n):
        cols = [fold.col[m] for m, _ in given if m in fold.col]
        vals = [x for m, x in given if m in fold.col]
        row_items = sp.csr_matrix((np.array(vals, dtype=np.float32), ([0] * len(cols), cols)), shape=(1, len(fold.items)))
        ids, _ = model.recommend(0, row_items, N=n, filter_already_liked_items=True, recalculate_user=True)
        return list(ids)

    return metrics(fold, rank, None, "peer: implicit ALS 64f, fold-in (recalculate_user)")


def ease(fold, lam=200.0):
    users = sorted({u for u, _, _ in fold.train})
    row = {u: i for i, u in enumerate(users)}
    x = sp.csr_matrix((np.ones(len(fold.train)), ([row[u] for u, _, _ in fold.train], [fold.col[m] for _, m, _ in fold.train])),
                      shape=(len(users), len(fold.items)))
    g = (x.T @ x).toarray()
    g[np.diag_indices_from(g)] += lam
    pinv = np.linalg.inv(g)
    b = pinv / -np.diag(pinv)
    b[np.diag_indices_from(b)] = 0

    def rank(u, given, n):
        cols = [fold.col[m] for m, _ in given if m in fold.col]
        scores = b[cols].sum(axis=0) if cols else fold.counts.astype(float)
        return list(np.argsort(-scores, kind="stable")[:n])

    return metrics(fold, rank, None, f"peer: EASE lambda {lam:g} (dense item x item)")


def surprise_model(fold, algo, name, rank=True):
    import pandas as pd
    from surprise import Dataset, Reader
    rows = list(fold.train) + [(u, m, x) for u, g in fold.given.items() for m, x in g]
    df = pd.DataFrame(rows, columns=["u", "m", "r"])
    data = Dataset.load_from_df(df, Reader(rating_scale=fold.scale))
    algo.fit(data.build_full_trainset())

    def predict(u, given, movies):
        return [algo.predict(u, m).est for m in movies]

    def ranker(u, given, n):
        est = np.array([algo.predict(u, m).est for m in fold.items])
        return list(np.argsort(-est, kind="stable")[:n])

    return metrics(fold, ranker if rank else None, predict, name)


def mean_rows(rows):
    keys = [k for k in rows[0] if isinstance(rows[0][k], (int, float)) and not isinstance(rows[0][k], bool)]
    out = dict(rows[0])
    for k in keys:
        out[k] = sum(r[k] for r in rows) / len(rows)
    if "users" in out:
        out["users"] = sum(r["users"] for r in rows)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("split_dir")
    ap.add_argument("report")
    ap.add_argument("--folds", default="0,1,2,3,4")
    ap.add_argument("--slow", action="store_true", help="also SVD++ and kNN-baseline (minutes)")
    a = ap.parse_args()
    from surprise import SVD, SVDpp, KNNBaseline
    peers = [("popularity", popularity), ("implicit", implicit_als), ("ease", ease),
             ("svd", lambda f: surprise_model(f, SVD(random_state=0), "peer: Surprise SVD, retrained with the given ratings"))]
    if a.slow:
        peers += [("svdpp", lambda f: surprise_model(f, SVDpp(random_state=0), "peer: Surprise SVD++, retrained", rank=False)),
                  ("knnbaseline", lambda f: surprise_model(f, KNNBaseline(sim_options={"name": "pearson_baseline", "user_based": False}, verbose=False), "peer: Surprise kNN-baseline (item), retrained", rank=False))]
    folds = [int(f) for f in a.folds.split(",")]
    per = defaultdict(list)
    for f in folds:
        fold = Fold(f"{a.split_dir}/fold{f}")
        for key, fn in peers:
            t = time.perf_counter()
            row = fn(fold)
            row["train_s"] = time.perf_counter() - t
            row["trained"] = "same split; see scripts/peers.py"
            per[key].append(row)
            print(f"fold {f} {row['name']}: " + ", ".join(f"{k} {v:.4f}" for k, v in row.items() if isinstance(v, float)), flush=True)
    with open(a.report) as fh:
        report = json.load(fh)
    report["models"] = [m for m in report["models"] if not m["name"].startswith("peer:")] + [mean_rows(rows) for rows in per.values()]
    with open(a.report, "w") as fh:
        json.dump(report, fh, indent=2)
    cols = ["rmse", "mae", "p@10", "r@10", "ndcg@10", "coverage@10", "users"]
    print("\n| model | " + " | ".join(c.upper() if c in ("rmse", "mae") else c for c in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for m in report["models"]:
        cells = [("–" if c not in m else (f"{m[c]:.4f}" if isinstance(m[c], float) else str(m[c]))) for c in cols]
        print(f"| {m['name']}{' **(shipped)**' if m.get('shipped') else ''} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
