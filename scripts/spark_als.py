#!/usr/bin/env python3
"""Trains item factors with Apache Spark MLlib ALS and writes them as Parquet for the packer.

    python3 scripts/spark_als.py RATINGS_CSV OUT_DIR [--rank 64] [--reg 0.05] [--iterations 10]
        [--implicit --alpha 1.0] [--seed 0] [--master local[*]]

RATINGS_CSV is the normalised form the project's own readers write (`trainer normalise`, or a
fold's train.csv from `trainer split`): a header, then `user,movie,rating[,timestamp]`, so every
MovieLens layout arrives here the same way. OUT_DIR gets `item_factors/` (Parquet: `id` int,
`features` array<float>, as Spark's `ALSModel.itemFactors`) and `settings.json` (rank, regParam,
implicitPrefs, alpha, seed, maxIter), which the packer reads to fold visitors in as Spark would.

On a cluster, pass `--master yarn` (or `spark://host:7077`), or run the file with `spark-submit`.
"""
import argparse
import json
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ratings")
    ap.add_argument("out")
    ap.add_argument("--rank", type=int, default=64)
    ap.add_argument("--reg", type=float, default=0.05, help="regParam (Spark scales it by each row's rating count)")
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--implicit", action="store_true", help="implicitPrefs: confidence 1 + alpha * rating")
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--user-factors", action="store_true", help="also write user_factors/ (for checking fold-in)")
    ap.add_argument("--master", default=os.environ.get("SPARK_MASTER", "local[*]"))
    a = ap.parse_args()

    try:
        from pyspark.sql import SparkSession
        from pyspark.ml.recommendation import ALS
    except ImportError as e:
        sys.exit(f"spark_als.py: cannot import PySpark's ALS ({e}); ./build.sh spark installs PySpark and numpy into .venv")

    started = time.time()
    spark = (SparkSession.builder.master(a.master).appName("movie-recs ALS")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").config("spark.sql.shuffle.partitions", "8").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    ratings = spark.read.csv(a.ratings, header=True, inferSchema=False)
    cols = ratings.columns
    ratings = ratings.selectExpr(f"cast(`{cols[0]}` as int) as user", f"cast(`{cols[1]}` as int) as item",
                                 f"cast(`{cols[2]}` as float) as rating")
    n = ratings.count()
    print(f"spark: {n} ratings from {a.ratings}; ALS rank {a.rank} regParam {a.reg} implicit {a.implicit} on {a.master}",
          file=sys.stderr, flush=True)
    als = ALS(rank=a.rank, maxIter=a.iterations, regParam=a.reg, implicitPrefs=a.implicit, alpha=a.alpha, seed=a.seed,
              userCol="user", itemCol="item", ratingCol="rating", coldStartStrategy="drop")
    model = als.fit(ratings)
    os.makedirs(a.out, exist_ok=True)
    model.itemFactors.write.mode("overwrite").parquet(os.path.join(a.out, "item_factors"))
    if a.user_factors:
        model.userFactors.write.mode("overwrite").parquet(os.path.join(a.out, "user_factors"))
    settings = {"rank": a.rank, "regParam": a.reg, "maxIter": a.iterations, "implicitPrefs": a.implicit,
                "alpha": a.alpha, "seed": a.seed, "ratings": n, "master": a.master,
                "spark": spark.version, "seconds": round(time.time() - started, 2)}
    with open(os.path.join(a.out, "settings.json"), "w") as f:
        json.dump(settings, f, indent=2)
    print(f"spark: wrote {a.out}/item_factors and settings.json in {settings['seconds']} s", file=sys.stderr)
    spark.stop()


if __name__ == "__main__":
    main()
