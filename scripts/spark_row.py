#!/usr/bin/env python3
"""Adds the Spark row to an evaluation report: the mean over folds of the metrics that
`trainer import-spark --fold F` printed (one JSON object a line).

    python3 scripts/spark_row.py ROWS_JSONL REPORT_JSON "settings"
"""
import json
import sys


def main():
    rows_path, report_path, settings = sys.argv[1:4]
    rows = [json.loads(line) for line in open(rows_path) if line.strip()]
    if not rows:
        sys.exit(f"spark_row.py: no fold rows in {rows_path}")
    out = {"name": "spark: MLlib ALS (explicit stars + implicit ranking), folded in by our code", "shipped": False,
           "trained": f"Spark MLlib ALS on each fold's training users, {settings}; see scripts/spark_als.py"}
    for key, value in rows[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = sum(r[key] for r in rows) / len(rows)
        elif isinstance(value, list):
            out[key] = [sum(r[key][i] for r in rows) / len(rows) for i in range(len(value))]
    out["users"] = sum(r["users"] for r in rows)
    out["folds"] = len(rows)
    with open(report_path) as fh:
        report = json.load(fh)
    models = [m for m in report["models"] if not m["name"].startswith("spark:")]
    peers_at = next((i for i, m in enumerate(models) if m["name"].startswith("peer:")), len(models))
    report["models"] = models[:peers_at] + [out] + models[peers_at:]
    with open(report_path, "w") as fh:
        json.dump(report, fh, indent=2)
    print(f"| {out['name']} | {out['rmse']:.4f} | {out['mae']:.4f} | {out['p@10']:.4f} | {out['r@10']:.4f} | "
          f"{out['ndcg@10']:.4f} | {out['coverage@10']:.3f} | {out['foldin_rank_ms']:.2f} | train {out['train_s']:.1f} s |")


if __name__ == "__main__":
    main()
