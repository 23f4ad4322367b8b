#!/usr/bin/env python3
"""Public baselines at their best, on exactly the project's splits (written by `trainer split`),
scored with the same metric definitions as src/eval, appended to the evaluation report.

    python3 scripts/peers.py SPLIT_DIR REPORT_JSON [--folds 0,1,2,3,4] [--quick]

Each peer is tuned the way ../shared/EVAL.md asks ("Peers at their best"): on every split
(5 folds, 3 future-visitor cuts and the past-visitors cut) its settings are searched on the validation users that the
project's own trainer carves from that split's training users (SPLIT/validation0..4/: five
inner folds, every training user validated once), in both input forms its users run it with,
and the setting with the best worst case over the validation variants (main, latest 5, latest
20 given ratings; each relative to the best any setting reached there) is refitted on the whole
split and scored on the test users. --inner N tunes on the first N inner folds only.

Rows: popularity (a check of the metric code against the Rust row); EASE (liked movies or every
rated movie, lambda searched); implicit ALS (liked movies or confidence-weighted ratings;
factors, regularisation and alpha searched), folded in with recalculate_user; Surprise SVD
retrained with the visitors' given ratings (a rating predictor; untuned, for RMSE).
"""
import argparse
import json
import math
import os
import time
from collections import defaultdict

import warnings

import numpy as np
import scipy.sparse as sp

# implicit asks for one BLAS thread; EASE's inversion wants both cores, and implicit's own
# threads are idle while it runs, so the warning is noise here.
warnings.filterwarnings("ignore", message="OpenBLAS is configured")

K, RELEVANT_AT, LIKED = 10, 3.5, 3.5
VARIANTS = {"main": "given.csv", "short-5": "given-short5.csv", "short-20": "given-short20.csv"}


def read(path):
    rows = []
    with open(path) as f:
        next(f)
        for line in f:
            u, m, r = line.rstrip("\n").split(",")
            rows.append((int(u), int(float(m)), float(r)))
    return rows


def by_user(rows):
    out = defaultdict(list)
    for u, m, r in rows:
        out[u].append((m, r))
    return out


class Split:
    """One split: training ratings, and the test users' given (per variant) and hidden ratings."""

    def __init__(self, d):
        self.train = read(f"{d}/train.csv")
        self.hidden = by_user(read(f"{d}/hidden.csv"))
        self.given = {v: by_user(read(f"{d}/{f}")) for v, f in VARIANTS.items() if os.path.exists(f"{d}/{f}")}
        self.users = sorted(set(self.hidden) | set(self.given["main"]))
        self.items = sorted({m for _, m, _ in self.train})
        self.col = {m: i for i, m in enumerate(self.items)}
        self.counts = np.zeros(len(self.items))
        for _, m, _ in self.train:
            self.counts[self.col[m]] += 1
        self.scale = (min(r for _, _, r in self.train), max(r for _, _, r in self.train))
        # Past visitors (eras.csv): each one's list holds only movies released by their year.
        self.banned = {}
        if os.path.exists(f"{d}/eras.csv"):
            years = dict(tuple(map(int, line.split(","))) for line in open(f"{d}/years.csv").read().split()[1:])
            for line in open(f"{d}/eras.csv").read().split()[1:]:
                u, by = map(int, line.split(","))
                self.banned[u] = np.array([c for m, c in self.col.items() if years.get(m, 0) > by], dtype=np.int64)

    def extra(self, u):
        """How many more columns a list of `u` must rank: the movies of a later era."""
        return len(self.banned.get(u, ()))

    def mask(self, u, scores):
        """`scores` with the movies `u` could not have rated put last."""
        if u in self.banned and len(self.banned[u]):
            scores = np.array(scores, dtype=np.float64)
            scores[self.banned[u]] = -np.inf
        return scores


def evaluate(split, variant, rank_fn, predict_fn=None):
    """rank_fn(given_by_user, users) -> {user: item columns best first}; predict_fn(user, given,
    movies) -> predicted ratings. Returns the metrics and the per-user NDCG@10."""
    given_all = split.given[variant]
    se = n_ratings = 0
    p = r = 0.0
    per_user = []
    covered = set()
    t = time.perf_counter()
    ranked = rank_fn(given_all, split.users) if rank_fn else {}
    elapsed = time.perf_counter() - t
    for u in split.users:
        given = given_all.get(u, [])
        hidden = [(m, x) for m, x in split.hidden.get(u, []) if m in split.col]
        if predict_fn and hidden:
            for pr, (_, x) in zip(predict_fn(u, given, [m for m, _ in hidden]), hidden):
                e = min(max(pr, split.scale[0]), split.scale[1]) - x
                se += e * e
                n_ratings += 1
        if not rank_fn:
            continue
        seen = {split.col[m] for m, _ in given if m in split.col}
        banned = set(split.banned.get(u, ()))
        top = [c for c in ranked[u] if c not in seen and c not in banned][:K]
        covered.update(top)
        relevant = {split.col[m] for m, x in hidden if x >= RELEVANT_AT}
        if not relevant:
            continue
        hits = sum(1 for c in top if c in relevant)
        dcg = sum(1 / math.log2(i + 2) for i, c in enumerate(top) if c in relevant)
        ideal = sum(1 / math.log2(i + 2) for i in range(min(K, len(relevant))))
        p += hits / K
        r += hits / min(K, len(relevant))
        per_user.append(dcg / ideal)
    n = max(len(per_user), 1)
    out = {"p@10": p / n, "r@10": r / n, "ndcg@10": sum(per_user) / n, "users": len(per_user),
           "coverage@10": len(covered) / len(split.items), "foldin_rank_ms": 1000 * elapsed / max(len(split.users), 1)}
    if n_ratings:
        out["rmse"] = math.sqrt(se / n_ratings)
    return out, per_user


def top_columns(scores, seen_count):
    n = min(scores.shape[-1], K + seen_count)
    part = np.argpartition(-scores, n - 1)[:n]
    return part[np.argsort(-scores[part], kind="stable")]


# --- peers -----------------------------------------------------------------------------------

def popularity(split):
    order = list(np.argsort(-split.counts, kind="stable"))
    return lambda given, users: {u: order[:K + len(given.get(u, [])) + split.extra(u)] for u in users}


def interactions(split, form, alpha=1.0):
    """Users x items: liked movies as 1 (form "liked"), every rating as 1 ("all"), or the rating
    times alpha as implicit's confidence ("confidence")."""
    users = sorted({u for u, _, _ in split.train})
    row = {u: i for i, u in enumerate(users)}
    kept = [(u, m, x) for u, m, x in split.train if form != "liked" or x >= LIKED]
    values = [alpha * x if form == "confidence" else (alpha if form == "liked" else 1.0) for _, _, x in kept]
    return sp.csr_matrix((np.array(values, dtype=np.float32), ([row[u] for u, _, _ in kept], [split.col[m] for _, m, _ in kept])),
                         shape=(len(users), len(split.items)))


def visitor_input(split, given, form):
    return [(split.col[m], x) for m, x in given if m in split.col and (form != "liked" or x >= LIKED)]


def gram(split, form):
    x = interactions(split, "liked" if form == "liked" else "all")
    return (x.T @ x).toarray().astype(np.float32)


def ease(split, form, lam, grams={}):
    """EASE (Steck 2019): B = I - P diag(1/diag(P)), P = (X^T X + lambda I)^-1, by Cholesky in
    float32 (a quarter of the LU inverse's time at 9k movies; the scores only rank)."""
    from scipy.linalg import lapack
    key = (id(split), form)
    if key not in grams:
        grams.clear()
        grams[key] = gram(split, form)
    g = grams[key].copy()
    g[np.diag_indices_from(g)] += lam
    c, info = lapack.spotrf(g, lower=1, overwrite_a=1)
    assert info == 0, f"X^T X + {lam} I is not positive definite ({info})"
    pinv, info = lapack.spotri(c, lower=1, overwrite_c=1)
    assert info == 0
    pinv = np.tril(pinv) + np.tril(pinv, -1).T
    b = pinv / -np.diag(pinv)
    b[np.diag_indices_from(b)] = 0

    def rank(given, users):
        out = {}
        for u in users:
            g_u = given.get(u, [])
            cols = [c for c, _ in visitor_input(split, g_u, form)]
            scores = b[cols].sum(axis=0) if cols else split.counts.astype(np.float32)
            out[u] = top_columns(split.mask(u, scores), len(g_u))
        return out
    return rank


def implicit_als(split, form, factors, reg, alpha):
    from implicit.als import AlternatingLeastSquares
    model = AlternatingLeastSquares(factors=factors, regularization=reg, iterations=15, random_state=0)
    model.fit(interactions(split, form, alpha), show_progress=False)

    def rank(given, users):
        rows, cols, vals = [], [], []
        for i, u in enumerate(users):
            for c, x in visitor_input(split, given.get(u, []), form):
                rows.append(i)
                cols.append(c)
                vals.append(alpha * x if form == "confidence" else alpha)
        items = sp.csr_matrix((np.array(vals, dtype=np.float32), (rows, cols)), shape=(len(users), len(split.items)))
        n = min(len(split.items), K + max((split.extra(u) for u in users), default=0))
        ids, _ = model.recommend(np.arange(len(users)), items, N=n, filter_already_liked_items=True, recalculate_user=True)
        return {u: list(ids[i]) for i, u in enumerate(users)}
    return rank


def svd(split, variant):
    import pandas as pd
    from surprise import SVD, Dataset, Reader
    rows = list(split.train) + [(u, m, x) for u, g in split.given[variant].items() for m, x in g]
    algo = SVD(random_state=0)
    algo.fit(Dataset.load_from_df(pd.DataFrame(rows, columns=["u", "m", "r"]), Reader(rating_scale=split.scale)).build_full_trainset())

    def rank(given, users):
        est = lambda u: np.array([algo.predict(u, m).est for m in split.items])
        return {u: top_columns(split.mask(u, est(u)), len(given.get(u, []))) for u in users}
    return rank, lambda u, given, movies: [algo.predict(u, m).est for m in movies]


# name, forms, grid per form, fit(split, form, **params) -> rank_fn
PEERS = [
    ("EASE", ["liked", "all"], [{"lam": lam} for lam in (25, 50, 100, 200, 400, 800)], lambda s, f, p: ease(s, f, p["lam"])),
    ("implicit ALS", ["liked", "confidence"],
     [{"factors": k, "reg": reg, "alpha": a} for k in (64, 128) for reg in (0.01, 0.1) for a in (1.0, 10.0)],
     lambda s, f, p: implicit_als(s, f, p["factors"], p["reg"], p["alpha"])),
]


def tune(validations, forms, grid, fit, quick):
    """(form, params) with the best worst case over the validation variants (each variant's
    NDCG@10 over the users of every inner fold, relative to the best any candidate reached
    there); and every candidate's figures."""
    candidates = [(f, p) for f in forms for p in (grid[::2] if quick else grid)]
    per_user = [defaultdict(list) for _ in candidates]
    # Inner fold by inner fold, the candidates of one form in a row (EASE reuses its Gram matrix).
    for validation in validations:
        for at, (form, params) in enumerate(candidates):
            rank = fit(validation, form, params)
            for v in validation.given:
                per_user[at][v].extend(evaluate(validation, v, rank)[1])
    scores = [{v: sum(x) / max(len(x), 1) for v, x in c.items()} for c in per_user]
    best = {v: max(s[v] for s in scores) or 1.0 for v in scores[0]}
    worst = [min(s[v] / best[v] for v in s) for s in scores]
    at = int(np.argmax(worst))
    return candidates[at], [(c, s, w) for c, s, w in zip(candidates, scores, worst)]


def bootstrap(groups, resamples=1000):
    rng = np.random.default_rng(12345)
    groups = [np.array(g) for g in groups if len(g)]
    if not groups:
        return [0.0, 0.0]
    means = np.mean([[rng.choice(g, len(g)).mean() for g in groups] for _ in range(resamples)], axis=1)
    return [float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("split_dir")
    ap.add_argument("report")
    ap.add_argument("--folds", default="0,1,2,3,4")
    ap.add_argument("--quick", action="store_true", help="half of each grid")
    ap.add_argument("--inner", type=int, default=5, help="inner validation folds to tune on (of 5)")
    ap.add_argument("--splits", default="main,future,past", help="which splits: main (the folds), future, past")
    a = ap.parse_args()
    kinds = a.splits.split(",")
    splits = ([f"fold{f}" for f in a.folds.split(",")] if "main" in kinds else []) + \
        (["future60", "future70", "future80"] if "future" in kinds else []) + (["past10"] if "past" in kinds else [])
    # results[row name][variant] = list of (metrics, per-user ndcg); chosen[row name] = settings per split
    results = defaultdict(lambda: defaultdict(list))
    chosen = defaultdict(list)
    train_s = defaultdict(list)
    for name in splits:
        split = Split(f"{a.split_dir}/{name}")
        variants = list(split.given) if name.startswith("fold") else ["main"]
        label = lambda v: v if name.startswith("fold") else ("past" if name.startswith("past") else "future")
        for v in variants:
            results["peer: popularity (check)"][label(v)].append(evaluate(split, v, popularity(split)))
        validations = [Split(f"{a.split_dir}/{name}/validation{k}") for k in range(a.inner)]
        for peer, forms, grid, fit in PEERS:
            t = time.perf_counter()
            (form, params), tried = tune(validations, forms, grid, fit, a.quick)
            rank = fit(split, form, params)
            train_s[peer].append(time.perf_counter() - t)
            row = f"peer: {peer} at its best (input form and settings tuned per split on validation users)"
            chosen[row].append(f"{name}: {form} {params}")
            print(f"{name} {peer}: chose {form} {params} (worst-case validation ratio {max(w for _, _, w in tried):.3f})", flush=True)
            for v in variants:
                results[row][label(v)].append(evaluate(split, v, rank))
        for v in variants:
            rank, predict = svd(split, v)
            results["peer: Surprise SVD, retrained with the given ratings (a rating predictor, untuned)"][label(v)].append(
                evaluate(split, v, rank, predict))
        for row, by_variant in results.items():
            for v, runs in by_variant.items():
                if len(runs) and (name.startswith("fold") or v == label("main")):
                    m = runs[-1][0]
                    print(f"{name} {v:<9} {row[:70]:<70} NDCG@10 {m['ndcg@10']:.4f} users {m['users']}", flush=True)
    with open(a.report) as fh:
        report = json.load(fh)
    rows = []
    for row, by_variant in results.items():
        def mean(runs):
            keys = [k for k in runs[0][0] if k != "users"]
            out = {k: sum(r[0][k] for r in runs) / len(runs) for k in keys if all(k in r[0] for r in runs)}
            out["users"] = sum(r[0]["users"] for r in runs)
            out["ndcg_ci95"] = bootstrap([r[1] for r in runs])
            return out
        main_row = mean(by_variant["main"]) if "main" in by_variant else {}
        main_row.pop("ndcg_ci95", None)
        peer = next((p for p in PEERS if f"peer: {p[0]} " in row), None)
        rows.append({"name": row, "shipped": False,
                     "trained": "same splits; see scripts/peers.py" + ("; chosen: " + "; ".join(chosen[row]) if chosen[row] else ""),
                     **main_row, "variants": {v: mean(runs) for v, runs in by_variant.items() if v != "main"},
                     "train_s": float(np.mean(train_s[peer[0]])) if peer else 0.0})
    # A run of some splits only adds its variants to the peer rows of an earlier run.
    earlier = {m["name"]: m for m in report["models"] if m["name"].startswith("peer:")}
    for r in rows:
        if r["name"] in earlier and "main" not in kinds:
            merged = earlier[r["name"]]
            merged.setdefault("variants", {}).update(r["variants"])
            r.clear()
            r.update(merged)
    report["models"] = [m for m in report["models"] if not m["name"].startswith("peer:")] + rows
    with open(a.report, "w") as fh:
        json.dump(report, fh, indent=2)
    print("\n| model | main | short-5 | short-20 | future | past |\n|---|---|---|---|---|---|")
    for m in report["models"]:
        cell = lambda v: (f"{m['variants'][v]['ndcg@10']:.4f} [{m['variants'][v]['ndcg_ci95'][0]:.3f}, {m['variants'][v]['ndcg_ci95'][1]:.3f}]"
                          if v in m.get("variants", {}) else "–")
        main_cell = f"{m['ndcg@10']:.4f}" if "ndcg@10" in m else "–"
        print(f"| {m['name']}{' **(shipped)**' if m.get('shipped') else ''} | {main_cell} | {cell('short-5')} | {cell('short-20')} | {cell('future')} | {cell('past')} |")


if __name__ == "__main__":
    main()
