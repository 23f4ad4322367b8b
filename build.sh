#!/usr/bin/env bash
# One entry point for everything: ./build.sh <command>. Each step installs what it lacks and is
# safe to run again.
#
#   help             this list
#   serve [PORT]     build the wasm and serve www/ on 127.0.0.1:PORT (default 8080)
#   test             every test: native (core, readers, trainer, real data), wasm binding, browser
#   build            the wasm module into www/pkg (wasm-bindgen + wasm-opt), the page's script into www/dist (esbuild)
#   model            retrain the default model www/model.bin from ../shared/data/ml-latest-small
#   bench [--quick]  speed and size figures: native vs browser vs the implicit peer, roofline,
#                    first load on Slow 4G (cold and warm), the cold one's network log
#   eval DIR [...]   the evaluation protocol (shared/EVAL.md) on a MovieLens folder; flags go to
#                    `trainer eval` (--folds 0,1 --splits main,future,past --json FILE --svg FILE
#                    ...); --peers adds the public baselines (implicit, EASE, Surprise) from
#                    PyPI on the same split
#   first-minute DIR [--folds 0,1,2,3,4] [--json FILE]
#                    the first minute (issue 16): which movies to ask first (elicitation
#                    strategies, simulated on held-out users), the familiar-to-discover
#                    trade-off and movie night's aggregations on synthetic groups; the committed
#                    model's learned choices replayed per fold, about 5 minutes; writes
#                    eval/first-minute.json and .svg (also run by eval)
#   spark DIR [--out FILE] [--master M] [--rank N] [--extras [--extras-users N]]
#                    the Spark path: normalise DIR's ratings, train Spark MLlib ALS (explicit and
#                    implicit), import the Parquet factors, pack (default www/model-spark.bin);
#                    --extras also trains the other methods natively (on a hash sample of about
#                    N users with --extras-users) and packs them in the same file
#   bench-train [--quick] [--no-spark]
#                    training at ML-25M size (synthetic, 25M ratings; --quick: a tenth): the
#                    native trainer, implicit's ALS and Spark local[2], wall time and peak memory
#   bench-scale [--quick]
#                    every method at ML-25M and ML-32M size (synthetic, made by the project,
#                    cached under target/scale; --quick: a tenth of the users): `trainer model`'s
#                    wall time, peak memory and size per part, then the page in Chromium on
#                    Slow 4G (first recommendations, every method), the hybrid call, search,
#                    memory (bench/scale.mjs); about 40 minutes
#   fuzz [--minutes N]
#                    the mutation and hostile-argument tests at length (default 10 minutes):
#                    checksum-valid model mutants and API calls on the default model; an input
#                    that panics is kept in tests/fixtures/fuzz/ as a regression case
#   spark-eval DIR [--folds 0,1,2,3,4] [--json FILE]
#                    the Spark row of the evaluation table: Spark trains on each fold's training
#                    users, our fold-in serves the held-out users
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
DATA=${MOVIE_RECS_DATA:-$ROOT/../shared/data}
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_wasm_target() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown && return
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
}

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
ensure_wasm_bindgen() {
  local want
  want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
  [ -n "$want" ] || { echo "no wasm-bindgen in Cargo.lock" >&2; exit 1; }
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $want" ]; then
    log "installing wasm-bindgen-cli $want (a few minutes, once)"
    cargo install wasm-bindgen-cli --version "$want"
  fi
}

ensure_npm() {
  if ! cmp -s package-lock.json node_modules/.package-lock.stamp 2>/dev/null; then
    log "installing npm dev tools (binaryen, esbuild, playwright-core)"
    npm ci --no-audit --no-fund
    cp package-lock.json node_modules/.package-lock.stamp
  fi
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && return
  log "installing Debian's chromium and chromium-driver for the browser tests"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver
}

build_wasm() {
  ensure_wasm_target
  ensure_wasm_bindgen
  ensure_npm
  log "building the wasm module"
  cargo build --release --target wasm32-unknown-unknown --lib
  wasm-bindgen --target web --out-dir www/pkg target/wasm32-unknown-unknown/release/movie_recs.wasm
  node_modules/.bin/wasm-opt -Oz --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals www/pkg/movie_recs_bg.wasm -o www/pkg/movie_recs_bg.wasm
  write_pkg_manifest
  bundle_scripts
  write_precache
  precompress
  printf 'wasm: %s bytes, %s gzip\n' "$(wc -c < www/pkg/movie_recs_bg.wasm)" "$(gzip -9c www/pkg/movie_recs_bg.wasm | wc -c)" >&2
}

# The page's script as a static host should serve it: www/js/app.js and every module it imports
# (the wasm's glue too) in one minified file, www/dist/app.js, with the code it shares with the
# import and export code (loaded on first use) in www/dist/chunk.js, and source maps. Eleven
# modules were eleven requests on a cold visit and eleven responses for the page's main thread
# to take in on a warm one (README, "first load"). The widget the same way, for a site that
# copies it (www/dist/movie-recs.js and its movie-recs-*.js chunks). The sources stay the
# framework-free modules of www/js/ and www/movie-recs.js, which the npm package ships as they
# are (a site's own bundler bundles them).
bundle_scripts() {
  rm -rf www/dist
  local common=(--bundle --format=esm --splitting --minify --sourcemap --target=es2022 --outdir=www/dist
    --entry-names='[name]' --log-level=warning)
  node_modules/.bin/esbuild www/js/app.js "${common[@]}" --chunk-names='[name]'
  node_modules/.bin/esbuild www/movie-recs.js "${common[@]}" --chunk-names='movie-recs-[name]'
}

# Brotli and gzip siblings of the wasm, the model and the scripts (FILE.br, FILE.gz), made once
# per build as a static host's build step makes them; scripts/serve.py sends them by
# Accept-Encoding.
precompress() {
  local files=(www/pkg/movie_recs_bg.wasm www/pkg/movie_recs.js www/js/*.js www/dist/*.js www/movie-recs.js)
  [ -f www/model.bin ] && files+=(www/model.bin)
  node scripts/precompress.mjs "${files[@]}"
}

# precache_list DIR OUT NAME PATTERN...: DIR/OUT sets `self.NAME = { version, files }`, the files
# a service worker keeps offline (the patterns as globs in DIR) and a hash of them all: a deploy
# that changes any file changes the hash, so browsers install the new set as one.
precache_list() (
  cd "$1"
  local out=$2 name=$3
  shift 3
  local files version
  # shellcheck disable=SC2206 # the patterns are globs, expanded here in DIR
  files=($@)
  version=$(for f in "${files[@]}"; do [ -f "$f" ] && cat "$f"; done | sha256sum | cut -c1-16)
  {
    printf '// Written by ./build.sh build: the files a service worker keeps offline, and their hash.\n'
    printf 'self.%s = { version: "%s", files: [' "$name" "$version"
    local sep=""
    for f in "${files[@]}"; do
      printf '%s"%s"' "$sep" "$f"
      sep=", "
    done
    printf '] };\n'
  } > "$out"
)

# The page's offline set (www/sw.js), and the widget's (www/movie-recs-sw.js, for a host site)
# in both layouts: www/ and the npm package.
write_precache() {
  precache_list www pkg/precache.js MOVIE_RECS_PRECACHE ./ index.html style.css manifest.json icon.svg dist/app.js dist/chunk.js dist/history.js \
    pkg/movie_recs_bg.wasm model.bin
  precache_list www widget-precache.js MOVIE_RECS_WIDGET_PRECACHE 'dist/movie-recs*.js' pkg/movie_recs_bg.wasm model.bin
  if [ -f www/pkg/element.js ]; then
    precache_list www/pkg widget-precache.js MOVIE_RECS_WIDGET_PRECACHE element.js 'js/*.js' movie_recs.js movie_recs_bg.wasm model.bin
  fi
}

# www/pkg is also the npm package: the wasm-bindgen output, a Node entry that loads the wasm
# itself, the element with its modules (laid out as in www/, so the relative URLs hold) and the
# default model, an exports map, types and a custom-elements manifest.
write_pkg_manifest() {
  local version
  version=$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)
  cp www/pkg-README.md www/pkg/README.md
  rm -f www/pkg/history.js www/pkg/storage.js www/pkg/marks.js
  cp www/npm/node.js www/npm/node.d.ts www/npm/element.d.ts www/npm/custom-elements.json www/pkg/
  cp www/movie-recs.js www/pkg/element.js
  cp www/movie-recs-sw.js www/pkg/movie-recs-sw.js
  mkdir -p www/pkg/js
  cp www/js/*.js www/pkg/js/
  # In www/ the modules find the wasm in pkg/; in the package it sits one level up from js/.
  sed -i "s#'../pkg/movie_recs.js'#'../movie_recs.js'#; s#'../pkg/movie_recs_bg.wasm'#'../movie_recs_bg.wasm'#" www/pkg/js/recommender.js
  grep -q "'../movie_recs.js'" www/pkg/js/recommender.js || { echo "build.sh: js/recommender.js no longer imports ../pkg/movie_recs.js; update write_pkg_manifest" >&2; exit 1; }
  cp www/model.bin www/pkg/model.bin
  cat > www/pkg/package.json <<JSON
{
  "name": "movie-recs",
  "version": "$version",
  "description": "Client-side movie recommendations: MovieLens factors folded in with WebAssembly, and a <movie-recs> element.",
  "license": "MIT OR Apache-2.0",
  "type": "module",
  "main": "node.js",
  "module": "movie_recs.js",
  "types": "movie_recs.d.ts",
  "exports": {
    ".": {
      "node": { "types": "./node.d.ts", "default": "./node.js" },
      "types": "./movie_recs.d.ts",
      "default": "./movie_recs.js"
    },
    "./element": { "types": "./element.d.ts", "default": "./element.js" },
    "./element.js": { "types": "./element.d.ts", "default": "./element.js" },
    "./history.js": "./js/history.js",
    "./storage.js": "./js/storage.js",
    "./marks.js": "./js/marks.js",
    "./model.bin": "./model.bin",
    "./movie-recs-sw.js": "./movie-recs-sw.js",
    "./widget-precache.js": "./widget-precache.js",
    "./movie_recs_bg.wasm": "./movie_recs_bg.wasm",
    "./package.json": "./package.json"
  },
  "sideEffects": ["./element.js", "./node.js"],
  "customElements": "custom-elements.json",
  "files": ["movie_recs_bg.wasm", "movie_recs.js", "movie_recs.d.ts", "movie_recs_bg.wasm.d.ts", "node.js", "node.d.ts",
            "element.js", "element.d.ts", "js/*.js", "model.bin", "movie-recs-sw.js", "widget-precache.js",
            "custom-elements.json", "README.md"],
  "keywords": ["recommender", "wasm", "movielens", "web-component", "custom-element"]
}
JSON
}

trainer() {
  cargo build --profile native --features train --bin trainer -q
  target/native/trainer "$@"
}

# ensure_venv PACKAGE...: the project's Python virtual environment (.venv) with these packages.
ensure_venv() {
  [ -x .venv/bin/python ] || python3 -m venv .venv
  [ $# -eq 0 ] || .venv/bin/pip install -q "$@" || { echo "error: could not install $* from PyPI into .venv" >&2; exit 1; }
}

# Spark MLlib ALS from PyPI's PySpark in .venv, on Debian's Java when there is none.
ensure_spark() {
  if ! command -v java >/dev/null 2>&1; then
    log "installing Java for Spark (Debian's default-jre-headless)"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends default-jre-headless \
      || { echo "error: Spark needs Java 17 or newer and it could not be installed; install a JRE and retry" >&2; exit 1; }
  fi
  ensure_venv
  # pyspark.ml needs numpy, which PySpark does not pull in by itself.
  if ! .venv/bin/python -c 'import pyspark.ml.recommendation' 2>/dev/null; then
    log "installing PySpark into .venv (a few hundred MB, once)"
    ensure_venv 'pyspark>=4,<5' numpy
  fi
}

SPARK_RANK=${SPARK_RANK:-64}
SPARK_REG=${SPARK_REG:-0.1}
SPARK_ALPHA=${SPARK_ALPHA:-1.0}
SPARK_ITERATIONS=${SPARK_ITERATIONS:-10}

# spark_train RATINGS_CSV OUT_DIR [spark_als.py flags...]: the explicit run into OUT_DIR/explicit,
# the implicit run into OUT_DIR/implicit.
spark_train() {
  local ratings=$1 out=$2
  shift 2
  log "Spark ALS, explicit (stars): $ratings"
  .venv/bin/python scripts/spark_als.py "$ratings" "$out/explicit" --rank "$SPARK_RANK" --reg "$SPARK_REG" \
    --iterations "$SPARK_ITERATIONS" "$@"
  log "Spark ALS, implicit (ranking): $ratings"
  .venv/bin/python scripts/spark_als.py "$ratings" "$out/implicit" --rank "$SPARK_RANK" --reg "$SPARK_REG" \
    --iterations "$SPARK_ITERATIONS" --implicit --alpha "$SPARK_ALPHA" "$@"
}

need_data() {
  [ -f "$DATA/ml-latest-small/ratings.csv" ] || {
    echo "error: MovieLens ml-latest-small not found at $DATA/ml-latest-small (set MOVIE_RECS_DATA to the folder holding it)" >&2
    exit 1
  }
}

# The command list at the top of this file.
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

cmd=${1:-}
shift || true
case "$cmd" in
  build) build_wasm ;;
  model)
    need_data
    log "training the default model on ml-latest-small"
    trainer model --data "$DATA/ml-latest-small" --out www/model.bin "$@"
    printf 'model: %s bytes, %s gzip\n' "$(wc -c < www/model.bin)" "$(gzip -9c www/model.bin | wc -c)" >&2
    # A new model is a new deploy for the offline copy.
    if [ -d www/pkg ]; then write_precache; precompress; fi
    ;;
  serve)
    port=${1:-8080}
    build_wasm
    [ -f www/model.bin ] || { need_data; "$0" model; }
    log "serving www/ on http://127.0.0.1:$port/"
    exec python3 scripts/serve.py "$port" www --bind 127.0.0.1
    ;;
  test)
    ensure_wasm_target
    ensure_wasm_bindgen
    ensure_npm
    ensure_chromium
    log "formatting"
    cargo fmt --check
    log "native tests (core, readers, trainer, real data)"
    cargo test --features train
    log "the default model: its search and its bytes, reproduced (optimised build)"
    cargo test --profile native --features train --test real_data -- --ignored
    log "wasm binding tests (wasm-bindgen-test in Node)"
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test --target wasm32-unknown-unknown --test wasm_binding
    log "the Spark path on a small synthetic fixture (normalise, Spark ALS, Parquet import, fold-in)"
    ensure_spark
    fixture=target/spark-fixture
    rm -rf "$fixture"
    trainer synth --out "$fixture/data" --users 200 --movies 150 --ratings-per-user 30 --seed 11
    trainer normalise "$fixture/data" --out "$fixture/ratings.csv"
    SPARK_RANK=8 SPARK_ITERATIONS=8 spark_train "$fixture/ratings.csv" "$fixture" --master 'local[2]' --user-factors
    MOVIE_RECS_SPARK_DIR="$ROOT/$fixture" cargo test --features train --test spark -- --ignored
    trainer import-spark --data "$fixture/data" --explicit "$fixture/explicit" --implicit "$fixture/implicit" \
      --out www/model-spark-fixture.bin > /dev/null
    trainer import-spark --data "$fixture/data" --explicit "$fixture/explicit" --implicit "$fixture/implicit" \
      --extras --extras-users 150 --quiet --out www/model-spark-extras-fixture.bin > /dev/null
    log "a model of ML-32M's catalogue size (87,585 movies) from few synthetic users, every method"
    wide=target/wide-fixture
    [ -f "$wide/data/ratings.csv" ] || trainer synth --out "$wide/data" --users 2000 --movies 87585 --ratings-per-user 50 --seed 32
    trainer model --data "$wide/data" --no-search --quiet --out www/model-wide-fixture.bin > /dev/null
    build_wasm
    log "browser end-to-end tests (headless chromium; some load the Spark fixture's and the wide fixture's models)"
    # Two files at a time: the browser tests mostly wait (downloads, timers), which halves their
    # wall time on 2 cores; the one that prints timings runs alone after them.
    node --test --test-concurrency=2 $(ls tests/e2e/*.test.mjs | grep -v measure.test.mjs)
    node --test tests/e2e/measure.test.mjs
    ;;
  fuzz)
    minutes=10
    while [ $# -gt 0 ]; do
      case "$1" in
        --minutes) minutes=$2; shift ;;
        *) echo "usage: ./build.sh fuzz [--minutes N]" >&2; exit 2 ;;
      esac
      shift
    done
    log "fuzzing for $minutes minutes (model mutants on one thread, then 100,000 hostile API calls)"
    MOVIE_RECS_FUZZ_MINUTES=$minutes MOVIE_RECS_FUZZ_SEED=$(date +%s) \
      cargo test --profile native --features train --test fuzz -- --nocapture --test-threads 1 \
      checksum_valid_mutants_never_panic hostile_api_calls_never_panic
    log "import files: seeded mutants of every format through the wasm package (about 20,000 a minute asked)"
    [ -f www/pkg/movie_recs_bg.wasm ] || build_wasm
    MOVIE_RECS_FUZZ_CASES=$((minutes * 20000)) MOVIE_RECS_FUZZ_SEED=$(date +%s) \
      node --test --test-name-pattern=mutants tests/e2e/history.test.mjs
    ;;
  spark)
    [ $# -ge 1 ] || { echo "usage: ./build.sh spark DATA_DIR [--out FILE] [--master M] [--rank N] [--extras [--extras-users N]]" >&2; exit 2; }
    dir=$1
    shift
    out=www/model-spark.bin master='local[*]' extras=()
    while [ $# -gt 0 ]; do
      case "$1" in
        --out) out=$2; shift ;;
        --master) master=$2; shift ;;
        --rank) SPARK_RANK=$2; shift ;;
        --extras) extras+=(--extras) ;;
        --extras-users) extras+=(--extras-users "$2"); shift ;;
        *) echo "unknown flag $1" >&2; exit 2 ;;
      esac
      shift
    done
    ensure_spark
    work="target/spark-$(basename "$dir")"
    log "normalising $dir"
    trainer normalise "$dir" --out "$work/ratings.csv"
    spark_train "$work/ratings.csv" "$work" --master "$master"
    log "importing Spark's factors into $out"
    trainer import-spark --data "$dir" --explicit "$work/explicit" --implicit "$work/implicit" --out "$out" "${extras[@]}"
    case "$out" in www/*) echo "serve it with ./build.sh serve and open http://127.0.0.1:8080/?model=${out#www/}" >&2 ;; esac
    ;;
  bench-train)
    users=162541 spark=1
    for arg in "$@"; do
      case "$arg" in
        --quick) users=16254 ;;
        --no-spark) spark=0 ;;
        *) echo "usage: ./build.sh bench-train [--quick] [--no-spark]" >&2; exit 2 ;;
      esac
    done
    data="target/scale/synthetic-$users"
    if [ ! -f "$data/ratings.csv" ]; then
      log "generating synthetic ratings: $users users x 154, 62,423 movies (ML-25M shape)"
      trainer synth --out "$data" --users "$users" --movies 62423 --ratings-per-user 154 --seed 25
    fi
    if [ "$spark" = 1 ]; then ensure_spark; fi
    ensure_venv numpy scipy pandas implicit
    if [ "$spark" = 1 ]; then trainer normalise "$data" --out "$data/normalised.csv"; fi
    cargo build --profile native --features train --bin trainer -q # measured below without its build
    log "training on $(($(wc -l < "$data/ratings.csv") - 1)) ratings: 64 factors, 10 sweeps, explicit + implicit where the tool has both"
    bench/measure.sh "native trainer (explicit + implicit ALS, 3 CG steps a sweep)" \
      target/native/trainer model --data "$data" --no-item-knn --no-content --no-user-knn --no-neural --no-ease --no-search \
      --iterations 10 --implicit-iterations 10 --cg-steps 3 --out "$data/native.bin" --quiet
    # One BLAS thread, as implicit asks (its own threads already use every core).
    OPENBLAS_NUM_THREADS=1 bench/measure.sh "implicit (PyPI) ALS, implicit only" .venv/bin/python bench/implicit_train.py "$data/ratings.csv"
    if [ "$spark" = 1 ]; then
      bench/measure.sh "Spark MLlib ALS local[2] (explicit + implicit)" bash -c "
        .venv/bin/python scripts/spark_als.py '$data/normalised.csv' '$data/spark/explicit' --rank 64 --iterations 10 --master 'local[2]' &&
        .venv/bin/python scripts/spark_als.py '$data/normalised.csv' '$data/spark/implicit' --rank 64 --iterations 10 --implicit --master 'local[2]'"
      # A log beyond one machine: Spark's factors, the other methods natively on a user sample.
      bench/measure.sh "import Spark's factors + the other methods natively on 20,000 users" \
        target/native/trainer import-spark --data "$data" --explicit "$data/spark/explicit" --implicit "$data/spark/implicit" \
        --extras --extras-users 20000 --quiet --out "$data/spark-extras.bin"
      printf 'packed: %s bytes, %s gzip\n' "$(wc -c < "$data/spark-extras.bin")" "$(gzip -6c "$data/spark-extras.bin" | wc -c)"
    fi
    ;;
  bench-scale)
    quick=0
    for arg in "$@"; do
      case "$arg" in
        --quick) quick=1 ;;
        *) echo "usage: ./build.sh bench-scale [--quick]" >&2; exit 2 ;;
      esac
    done
    ensure_npm
    ensure_chromium
    build_wasm
    cargo build --profile native --features train --bin trainer -q # measured below without its build
    models=()
    # ML-25M: 162,541 users x 154 ratings over 62,423 movies; ML-32M: 200,948 x 159 over 87,585.
    for shape in "162541 62423 154 25" "200948 87585 159 32"; do
      read -r users movies per seed <<< "$shape"
      if [ "$quick" = 1 ]; then users=$((users / 10)); fi
      data="target/scale/synthetic-$users"
      [ "$movies" = 62423 ] || data="$data-$movies"
      if [ ! -f "$data/ratings.csv" ]; then
        log "generating synthetic ratings: $users users x $per, $movies movies (ML-${seed}M shape)"
        trainer synth --out "$data" --users "$users" --movies "$movies" --ratings-per-user "$per" --seed "$seed"
      fi
      out="www/model-scale-ml${seed}m.bin"
      log "training every method on $(($(wc -l < "$data/ratings.csv") - 1)) ratings (the defaults: search, then the final fit)"
      bench/measure.sh "trainer model, every method, ML-${seed}M shape" target/native/trainer model --data "$data" --out "$out" 2> "$data/train.log"
      grep -E "search: on a sample|inner folds fitted|out of time|autoencoder \(|autoencoder:|trained in|^  (core|extras):" "$data/train.log" | grep -v "epoch [0-9]*/[0-9]*: .*ETA" >&2 || true
      models+=("$out")
    done
    log "the models in the page (Chromium, Slow 4G, served gzipped)"
    node bench/scale.mjs target/bench-scale.json "${models[@]}"
    ;;
  spark-eval)
    [ $# -ge 1 ] || { echo "usage: ./build.sh spark-eval DATA_DIR [--folds 0,1,2,3,4] [--json FILE]" >&2; exit 2; }
    dir=$1
    shift
    folds=0,1,2,3,4 json="eval/$(basename "$dir").json"
    while [ $# -gt 0 ]; do
      case "$1" in
        --folds) folds=$2; shift ;;
        --json) json=$2; shift ;;
        *) echo "unknown flag $1" >&2; exit 2 ;;
      esac
      shift
    done
    ensure_spark
    split="target/split-$(basename "$dir")"
    trainer split "$dir" --out "$split"
    rows="$split/spark-rows.jsonl"
    : > "$rows"
    for f in ${folds//,/ }; do
      start=$(date +%s.%N)
      spark_train "$split/fold$f/train.csv" "$split/fold$f/spark" --master 'local[2]'
      end=$(date +%s.%N)
      trainer import-spark --data "$dir" --explicit "$split/fold$f/spark/explicit" --implicit "$split/fold$f/spark/implicit" --fold "$f" \
        | python3 -c "import json,sys; m=json.loads(sys.stdin.read()); m['train_s']=$end-$start; print(json.dumps(m))" >> "$rows"
    done
    python3 scripts/spark_row.py "$rows" "$json" "rank $SPARK_RANK, regParam $SPARK_REG, alpha $SPARK_ALPHA, maxIter $SPARK_ITERATIONS"
    ;;
  bench)
    # Speed and size figures (printed, never asserted): native and in-browser recommend calls at
    # the real and at ML-25M/ML-32M-size synthetic catalogues, the implicit peer, the roofline.
    quick=""
    [ "${1:-}" = "--quick" ] && quick="--quick"
    build_wasm
    ensure_chromium
    log "criterion: native recommend calls on random factor models (target/criterion has the details)"
    if [ -n "$quick" ]; then
      cargo bench --bench recommend -- --warm-up-time 0.5 --measurement-time 1 "87585x64"
    else
      cargo bench --bench recommend -- --warm-up-time 0.5 --measurement-time 2
    fi
    log "native recommend timings (and synthetic models for the browser run)"
    trainer bench --models target/bench-models --json target/bench-native.json $quick
    log "the implicit peer on the same shapes (single-threaded, like the browser)"
    ensure_venv numpy scipy implicit
    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/implicit_peer.py target/bench-peer.json $quick
    log "browser timings in headless chromium"
    node bench/browser.mjs target/bench-native.json target/bench-models target/bench.json target/bench-peer.json
    log "first load on Slow 4G with the CPU 4x slower: cold and warm visits (the service worker's copy)"
    node bench/first-load.mjs "$([ -n "$quick" ] && echo 1 || echo 3)"
    log "where a cold first load's bytes go: each request, and the link's use per 200 ms"
    node bench/cold-network.mjs
    log "the widget's first load (the example site, Slow 4G, 4x slower CPU)"
    node bench/widget-load.mjs "$([ -n "$quick" ] && echo 1 || echo 3)"
    ;;
  eval)
    [ $# -ge 1 ] || { echo "usage: ./build.sh eval DATA_DIR [--folds 0,1,2,3,4] [--splits main,future,past] [--json FILE] [--svg FILE] [--peers]" >&2; exit 2; }
    dir=$1
    peers=0 json="" folds=0,1,2,3,4 splits=main,future,past args=()
    while [ $# -gt 0 ]; do
      case "$1" in
        --peers) peers=1 ;;
        --json) json=$2; args+=("$1" "$2"); shift ;;
        --folds) folds=$2; args+=("$1" "$2"); shift ;;
        --splits) splits=$2; args+=("$1" "$2"); shift ;;
        *) args+=("$1") ;;
      esac
      shift
    done
    if [ "$peers" = 1 ] && [ -z "$json" ]; then
      json="eval/$(basename "$dir").json"
      args+=(--json "$json")
    fi
    trainer eval "${args[@]}"
    if [ "$peers" = 1 ]; then
      # The public baselines, on exactly this split, from PyPI in a virtual environment.
      ensure_venv numpy scipy pandas implicit scikit-surprise
      split="target/split-$(basename "$dir")"
      trainer split "$dir" --out "$split"
      .venv/bin/python scripts/peers.py "$split" "$json" --folds "$folds" --splits "$splits"
    fi
    "$0" first-minute "$dir" --folds "$folds"
    ;;
  first-minute)
    [ $# -ge 1 ] || { echo "usage: ./build.sh first-minute DATA_DIR [--folds 0,1,2,3,4] [--json FILE]" >&2; exit 2; }
    dir=$1
    shift
    fm_json=eval/first-minute.json
    [ "$(basename "$dir")" = ml-latest-small ] || fm_json="eval/$(basename "$dir")-first-minute.json"
    trainer first-minute "$dir" --replay-from www/model.bin --json "$fm_json" "$@"
    ;;
  help | -h | --help) usage ;;
  *)
    usage >&2
    [ -z "$cmd" ] && exit 2 || { echo "unknown command: $cmd" >&2; exit 2; }
    ;;
esac
