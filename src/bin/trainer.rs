//! The native command line: train and pack the model, evaluate, generate synthetic data.
//! All IO and flag parsing lives here; the work is done by the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use movie_recs::data::{join_tmdb, read_dataset, Dataset, ReadOptions};
use movie_recs::model::{BlendWeights, HybridWeights};
use movie_recs::synthetic::{generate, SyntheticSpec};
use movie_recs::train::report::evaluate_dataset;
use movie_recs::train::{build_model, TrainSettings};
use movie_recs::{Error, FactorStorage, Result};

const USAGE: &str = "\
usage:
  trainer model --data DIR [--out FILE] [settings]      train on a MovieLens folder, write the packed model
  trainer eval DIR [--folds 0,1,2,3,4] [--json FILE] [--svg FILE] [settings]
                                                         run the protocol of shared/EVAL.md, print the table
  trainer tune DIR [--fold F] [--method M] --grid 'alpha=1,2 implicit-reg=5,20' [settings]
                                                         grid search on the validation users of a fold's training users
  trainer split DIR --out OUT                           write each fold's split as CSV for the peer baselines
  trainer normalise DIR --out FILE                      the ratings of any MovieLens layout as user,movie,rating,timestamp CSV
  trainer import-spark --data DIR --explicit SPARK_OUT [--implicit SPARK_OUT] [--fold F] [--out FILE] [--storage int8|f32|int4]
                                                         pack Spark MLlib ALS factors (scripts/spark_als.py) with the metadata;
                                                         with --fold, the fold's training ratings, and print its test users' metrics
  trainer bench [--models DIR] [--json FILE] [--quick]   native recommend timings; writes synthetic models for the browser run
  trainer synth --out DIR [--users N] [--movies N] [--ratings-per-user N] [--seed N]
                                                         write synthetic ratings.csv + movies.csv (ml-latest layout)
settings:
  --factors N --iterations N --reg F --reg-bias F        explicit (rating) model
  --implicit-factors N --implicit-iterations N --implicit-reg F --alpha F --rating-offset F --explicit-weight F
  --half-life F (recency half-life of a rating's confidence, in ratings; 0 = off)
  --cg-steps N (ALS row solves by N conjugate-gradient steps from the previous value; 0 = exact Cholesky,
               the default up to 2M ratings; 3 above that)
  --no-implicit                                          rank by predicted stars only
  --neighbours K --shrink F   --no-neighbours            item kNN
  --knn-rating-weight F --knn-rating-shrink F            item-neighbour correction of predicted stars (0 = off)
  --content-features N   --no-content   --tmdb FILE       content model (TMDB found beside DIR by default)
  --user-k K --user-shrink F --user-pool N   --no-users   user kNN (pool: the N most active training users)
  --hidden N --epochs N --learning-rate F --weight-decay F --dropout F --batch N --min-ratings N
  --liked-from F --disliked-weight F   --no-neural
                                                         the neural autoencoder (Mult-DAE, tied weights)
  --blend F:N:C:U:A[/F:N:C:U:A/F:N:C:U:A]                hybrid weights (factor:item-knn:content:user-knn:neural) by rating count (<5, 5-19, 20+)
  --storage f32|int8|int4 (factor models, default int4)   --neural-storage f32|int8|int4 (default int8)
  --factor-min-ratings N (movies with fewer training ratings keep no factors; default 5)
  --seed N   --lenient   --quiet";

struct Args(Vec<String>);

impl Args {
    fn flag(&mut self, name: &str) -> bool {
        match self.0.iter().position(|a| a == name) {
            Some(i) => {
                self.0.remove(i);
                true
            }
            None => false,
        }
    }

    fn value(&mut self, name: &str) -> Result<Option<String>> {
        match self.0.iter().position(|a| a == name) {
            Some(i) if i + 1 < self.0.len() => {
                let v = self.0.remove(i + 1);
                self.0.remove(i);
                Ok(Some(v))
            }
            Some(_) => Err(usage_error(format!("{name} needs a value"))),
            None => Ok(None),
        }
    }

    fn parsed<T: std::str::FromStr>(&mut self, name: &'static str) -> Result<Option<T>> {
        match self.value(name)? {
            Some(v) => v.parse().map(Some).map_err(|_| Error::InvalidSetting { name, value: v, reason: "not a valid number".into() }),
            None => Ok(None),
        }
    }

    fn finish(self) -> Result<Vec<String>> {
        if let Some(a) = self.0.iter().find(|a| a.starts_with("--")) {
            return Err(usage_error(format!("unknown flag {a}")));
        }
        Ok(self.0)
    }
}

fn usage_error(msg: String) -> Error {
    Error::InvalidSetting { name: "arguments", value: msg, reason: format!("see usage:\n{USAGE}") }
}

fn settings(args: &mut Args) -> Result<TrainSettings> {
    let mut s = TrainSettings { progress: !args.flag("--quiet"), ..TrainSettings::default() };
    macro_rules! set {
        ($flag:literal, $target:expr) => {
            if let Some(v) = args.parsed($flag)? {
                $target = v;
            }
        };
    }
    set!("--factors", s.explicit.factors);
    set!("--iterations", s.explicit.iterations);
    set!("--reg", s.explicit.reg_factors);
    set!("--reg-bias", s.explicit.reg_bias);
    if let Some(seed) = args.parsed::<u64>("--seed")? {
        s.explicit.seed = seed;
        if let Some(i) = s.implicit.as_mut() {
            i.seed = seed + 1;
        }
    }
    if let Some(steps) = args.parsed::<usize>("--cg-steps")? {
        s.explicit.cg_steps = Some(steps);
        if let Some(i) = s.implicit.as_mut() {
            i.cg_steps = Some(steps);
        }
    }
    if let Some(i) = s.implicit.as_mut() {
        set!("--implicit-factors", i.factors);
        set!("--implicit-iterations", i.iterations);
        set!("--implicit-reg", i.reg);
        set!("--alpha", i.alpha);
        set!("--rating-offset", i.rating_offset);
        set!("--explicit-weight", i.explicit_weight);
        set!("--half-life", i.recency_half_life);
    }
    if args.flag("--no-implicit") {
        s.implicit = None;
    }
    if let Some(nb) = s.neighbours.as_mut() {
        set!("--neighbours", nb.k);
        set!("--shrink", nb.shrink);
        set!("--knn-rating-weight", nb.rating_weight);
        set!("--knn-rating-shrink", nb.rating_shrink);
    }
    if let Some(c) = s.content.as_mut() {
        set!("--content-features", c.max_features);
    }
    if let Some(u) = s.users.as_mut() {
        set!("--user-k", u.k);
        set!("--user-shrink", u.shrink);
        if let Some(max) = args.parsed::<usize>("--user-pool")? {
            u.max_users = Some(max);
        }
    }
    if args.flag("--no-users") {
        s.users = None;
    }
    if let Some(n) = s.neural.as_mut() {
        set!("--hidden", n.hidden);
        set!("--epochs", n.epochs);
        set!("--learning-rate", n.learning_rate);
        set!("--weight-decay", n.weight_decay);
        set!("--dropout", n.dropout);
        set!("--batch", n.batch);
        set!("--min-ratings", n.min_ratings);
        set!("--liked-from", n.liked_from);
        set!("--disliked-weight", n.disliked_weight);
    }
    if args.flag("--no-neural") {
        s.neural = None;
    }
    if let Some(b) = args.value("--blend")? {
        s.hybrid = parse_blend(&b)?;
    }
    if args.flag("--no-neighbours") {
        s.neighbours = None;
    }
    if args.flag("--no-content") {
        s.content = None;
    }
    if let Some(st) = storage_flag(args, "--storage")? {
        s.storage = st;
    }
    if let Some(st) = storage_flag(args, "--neural-storage")? {
        s.neural_storage = st;
    }
    set!("--factor-min-ratings", s.factor_min_ratings);
    s.validate()?;
    Ok(s)
}

/// A storage flag (`f32`, `int8` or `int4`), if given.
fn storage_flag(args: &mut Args, flag: &'static str) -> Result<Option<FactorStorage>> {
    match args.value(flag)?.as_deref() {
        None => Ok(None),
        Some("int8") => Ok(Some(FactorStorage::Int8)),
        Some("f32") => Ok(Some(FactorStorage::F32)),
        Some("int4") => Ok(Some(FactorStorage::Int4)),
        Some(other) => Err(Error::InvalidSetting { name: flag, value: other.into(), reason: "must be f32, int8 or int4".into() }),
    }
}

/// `F:N:C[:U[:A]]` (one blend for every bucket) or three of them separated by `/` (under 5, 5 to
/// 19, 20+ ratings): weights of factor, item-neighbour, content, user-neighbour and autoencoder
/// scores.
fn parse_blend(text: &str) -> Result<HybridWeights> {
    let bad = || Error::InvalidSetting {
        name: "blend",
        value: text.into(),
        reason: "F:N:C[:U[:A]] or three of them joined by / (factor:item-neighbour:content:user-neighbour:autoencoder weights)".into(),
    };
    let buckets: Vec<BlendWeights> = text
        .split('/')
        .map(|b| {
            let w: Vec<f32> = b.split(':').map(|x| x.parse::<f32>().map_err(|_| bad())).collect::<Result<_>>()?;
            match w[..] {
                [factor, neighbour, content] => Ok(BlendWeights { factor, neighbour, content, user: 0.0, neural: 0.0 }),
                [factor, neighbour, content, user] => Ok(BlendWeights { factor, neighbour, content, user, neural: 0.0 }),
                [factor, neighbour, content, user, neural] => Ok(BlendWeights { factor, neighbour, content, user, neural }),
                _ => Err(bad()),
            }
        })
        .collect::<Result<_>>()?;
    match buckets[..] {
        [one] => Ok(HybridWeights::uniform(one)),
        [a, b, c] => Ok(HybridWeights { buckets: [a, b, c] }),
        _ => Err(bad()),
    }
}

/// Reads a data set and, when present, joins TMDB metadata (`--tmdb FILE`, or
/// `DIR/../tmdb-5000/tmdb_5000_movies.csv`).
fn read_with_metadata(dir: &Path, options: ReadOptions, tmdb: Option<PathBuf>) -> Result<Dataset> {
    let mut ds = read_dataset(dir, options)?;
    let tmdb = tmdb.or_else(|| Some(dir.join("../tmdb-5000/tmdb_5000_movies.csv")).filter(|p| p.is_file()));
    if let Some(path) = tmdb {
        let matched = join_tmdb(&path, &mut ds.movies, options)?;
        eprintln!("joined TMDB metadata for {matched} movies from {}", path.display());
    }
    Ok(ds)
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::Io { path: dir.display().to_string(), reason: e.to_string() })?;
    }
    std::fs::write(path, bytes).map_err(|e| Error::Io { path: path.display().to_string(), reason: e.to_string() })
}

fn cmd_model(mut args: Args) -> Result<()> {
    let data = args.value("--data")?.ok_or_else(|| usage_error("model needs --data DIR".into()))?;
    let out = PathBuf::from(args.value("--out")?.unwrap_or_else(|| "www/model.bin".into()));
    let lenient = args.flag("--lenient");
    let tmdb = args.value("--tmdb")?.map(PathBuf::from);
    let s = settings(&mut args)?;
    args.finish()?;
    let t = Instant::now();
    let ds = read_with_metadata(Path::new(&data), ReadOptions { lenient }, tmdb)?;
    eprintln!(
        "read {} ratings and {} movies from {} in {:.2} s ({} malformed lines skipped)",
        ds.ratings.len(),
        ds.movies.len(),
        data,
        t.elapsed().as_secs_f64(),
        ds.skipped_lines
    );
    let t = Instant::now();
    let model = build_model(&ds.name, &ds.movies, &ds.tags, &ds.ratings, &s)?;
    let train_s = t.elapsed().as_secs_f64();
    let bytes = model.to_bytes()?;
    write(&out, &bytes)?;
    let size = |part: std::result::Result<Vec<u8>, postcard::Error>| part.map(|b| b.len()).unwrap_or(0);
    let (core, extras) = model.sections()?;
    let (explicit, implicit) = (size(postcard::to_allocvec(&model.explicit)), size(postcard::to_allocvec(&model.implicit)));
    let shares = [
        ("core: movie metadata", core.len().saturating_sub(explicit + implicit)),
        ("core: explicit MF (stars)", explicit),
        ("core: implicit MF (ranking)", implicit),
        ("extras: item neighbours", size(postcard::to_allocvec(&model.neighbours))),
        ("extras: content attributes", size(postcard::to_allocvec(&model.content))),
        ("extras: user pool", size(postcard::to_allocvec(&model.users))),
        ("extras: neural autoencoder", size(postcard::to_allocvec(&model.neural))),
    ];
    eprintln!(
        "trained in {train_s:.2} s; wrote {} ({} bytes, {} movies): core {} bytes (what the first recommendations need), extras {} bytes. Share of the file:",
        out.display(),
        bytes.len(),
        model.movies.len(),
        core.len(),
        extras.len()
    );
    for (name, n) in shares {
        eprintln!("  {name:<30} {n:>9} B  {:>5.1}%", 100.0 * n as f64 / bytes.len() as f64);
    }
    println!("{}", out.display());
    Ok(())
}

fn cmd_eval(mut args: Args) -> Result<()> {
    let folds: Vec<u32> = match args.value("--folds")? {
        Some(v) => v
            .split(',')
            .map(|f| {
                f.trim().parse::<u32>().ok().filter(|&f| f < 5).ok_or_else(|| Error::InvalidSetting {
                    name: "folds",
                    value: v.clone(),
                    reason: "a comma-separated list of 0..=4".into(),
                })
            })
            .collect::<Result<_>>()?,
        None => vec![0, 1, 2, 3, 4],
    };
    let json = args.value("--json")?.map(PathBuf::from);
    let svg = args.value("--svg")?.map(PathBuf::from);
    let lenient = args.flag("--lenient");
    let tmdb = args.value("--tmdb")?.map(PathBuf::from);
    let mut s = settings(&mut args)?;
    s.progress = false;
    let rest = args.finish()?;
    let [dir] = rest.as_slice() else { return Err(usage_error("eval needs exactly one DATA_DIR".into())) };
    let ds = read_with_metadata(Path::new(dir), ReadOptions { lenient }, tmdb)?;
    let report = evaluate_dataset(&ds, &folds, &s)?;
    println!("{}", report.table());
    println!("{}", report.json());
    if let Some(path) = &json {
        write(path, report.json().as_bytes())?;
        let svg_path = svg.clone().unwrap_or_else(|| path.with_extension("svg"));
        write(&svg_path, report.svg().as_bytes())?;
        eprintln!("wrote {} and {}", path.display(), svg_path.display());
    } else if let Some(path) = &svg {
        write(path, report.svg().as_bytes())?;
    }
    Ok(())
}

/// Grid search on the validation split of one fold's training users (never its test users).
fn cmd_tune(mut args: Args) -> Result<()> {
    if args.0.first().is_none_or(|a| a.starts_with("--")) {
        return Err(usage_error("tune needs DATA_DIR first".into()));
    }
    let dir = args.0.remove(0);
    let fold: u32 = args.parsed("--fold")?.unwrap_or(0);
    let grid = args.value("--grid")?.unwrap_or_default();
    let method = match args.value("--method")? {
        None => movie_recs::Method::Hybrid,
        Some(name) => movie_recs::Method::ALL.into_iter().find(|m| m.name() == name).ok_or_else(|| Error::InvalidSetting {
            name: "method",
            value: name,
            reason: format!("one of {}", movie_recs::Method::ALL.map(|m| m.name()).join(", ")),
        })?,
    };
    let lenient = args.flag("--lenient");
    let tmdb = args.value("--tmdb")?.map(PathBuf::from);
    let rest = args.0;
    let axes: Vec<(String, Vec<String>)> = grid
        .split_whitespace()
        .map(|axis| {
            let (name, values) = axis.split_once('=').ok_or_else(|| usage_error(format!("grid axis {axis:?} is not name=v1,v2")))?;
            Ok((format!("--{name}"), values.split(',').map(String::from).collect()))
        })
        .collect::<Result<_>>()?;
    let ds = read_with_metadata(Path::new(&dir), ReadOptions { lenient }, tmdb)?;
    let inner: Vec<_> = (0..5).filter(|&g| g != fold).map(|g| movie_recs::eval::validation_split(&ds.ratings, fold, g, 5)).collect();
    eprintln!(
        "fold {fold}: validating on its {} training users, one inner fold at a time",
        inner.iter().map(|s| s.test.len()).sum::<usize>()
    );
    let mut combos: Vec<Vec<String>> = vec![Vec::new()];
    for (flag, values) in &axes {
        combos = combos.into_iter().flat_map(|c| values.iter().map(move |v| [c.clone(), vec![flag.clone(), v.clone()]].concat())).collect();
    }
    let clock = Instant::now();
    let now = move || clock.elapsed().as_secs_f64() * 1000.0;
    println!("| settings | RMSE | P@10 | R@10 | NDCG@10 |\n|---|---|---|---|---|");
    for combo in combos {
        let mut a = Args([rest.clone(), combo.clone(), vec!["--quiet".into()]].concat());
        let s = settings(&mut a)?;
        let mut per_inner = Vec::new();
        for split in &inner {
            let model = build_model(&ds.name, &ds.movies, &ds.tags, &split.train, &s)?;
            let rec = movie_recs::Recommender::from_bytes(&model.to_bytes()?)?;
            per_inner.push(movie_recs::eval::evaluate(&rec, method, &split.test, &now)?);
        }
        let m = movie_recs::eval::mean(&per_inner);
        println!("| {} | {:.4} | {:.4} | {:.4} | {:.4} |", combo.join(" "), m.rmse, m.precision, m.recall, m.ndcg);
    }
    Ok(())
}

/// Writes the ratings of any MovieLens layout in the one form the Spark job reads.
fn cmd_normalise(mut args: Args) -> Result<()> {
    let out = PathBuf::from(args.value("--out")?.ok_or_else(|| usage_error("normalise needs --out FILE".into()))?);
    let lenient = args.flag("--lenient");
    let rest = args.finish()?;
    let [dir] = rest.as_slice() else { return Err(usage_error("normalise needs exactly one DATA_DIR".into())) };
    let ds = read_dataset(Path::new(dir), ReadOptions { lenient })?;
    let mut text = String::with_capacity(ds.ratings.len() * 24);
    text += "user,movie,rating,timestamp\n";
    for r in &ds.ratings {
        text += &format!("{},{},{},{}\n", r.user, r.movie.0, r.rating, r.timestamp);
    }
    write(&out, text.as_bytes())?;
    eprintln!("wrote {} ratings of {} to {}", ds.ratings.len(), ds.name, out.display());
    Ok(())
}

/// Packs Spark's factors; with `--fold F`, on that fold's training ratings, then evaluates the
/// packed bytes on the fold's test users exactly as `eval` does and prints the metrics as JSON.
fn cmd_import_spark(mut args: Args) -> Result<()> {
    use movie_recs::train::spark::{build_spark_model, read_spark_dir};
    let data = args.value("--data")?.ok_or_else(|| usage_error("import-spark needs --data DIR".into()))?;
    let explicit = args.value("--explicit")?.ok_or_else(|| usage_error("import-spark needs --explicit SPARK_OUT".into()))?;
    let implicit = args.value("--implicit")?;
    let fold: Option<u32> = args.parsed("--fold")?;
    let out = args.value("--out")?.map(PathBuf::from);
    // Spark's factors are stored int8 unless told: int4 was measured on our own factors only.
    let storage = storage_flag(&mut args, "--storage")?.unwrap_or(FactorStorage::Int8);
    let lenient = args.flag("--lenient");
    let tmdb = args.value("--tmdb")?.map(PathBuf::from);
    args.finish()?;
    let ds = read_with_metadata(Path::new(&data), ReadOptions { lenient }, tmdb)?;
    let explicit = read_spark_dir(Path::new(&explicit))?;
    let implicit = implicit.map(|d| read_spark_dir(Path::new(&d))).transpose()?;
    let split = fold.map(|f| movie_recs::eval::split(&ds.ratings, f, 5));
    let ratings = split.as_ref().map_or(&ds.ratings, |s| &s.train);
    let model = build_spark_model(&ds.name, &ds.movies, ratings, &explicit, implicit.as_ref(), storage)?;
    let bytes = model.to_bytes()?;
    eprintln!(
        "packed Spark factors for {} of {} movies ({} bytes): {}",
        explicit.factors.len(),
        model.movies.len(),
        bytes.len(),
        model.info.trainer
    );
    if let Some(path) = &out {
        write(path, &bytes)?;
        println!("{}", path.display());
    }
    if let (Some(fold), Some(split)) = (fold, &split) {
        let rec = movie_recs::Recommender::from_bytes(&bytes)?;
        let clock = Instant::now();
        let now = move || clock.elapsed().as_secs_f64() * 1000.0;
        let m = movie_recs::eval::evaluate(&rec, movie_recs::Method::Mf, &split.test, &now)?;
        eprintln!(
            "fold {fold} spark: RMSE {:.4}  P@10 {:.4}  R@10 {:.4}  NDCG@10 {:.4}  users {}",
            m.rmse, m.precision, m.recall, m.ndcg, m.users
        );
        println!("{}", serde_json::to_string(&m).map_err(|e| Error::Decode(e.to_string()))?);
    }
    Ok(())
}

/// Writes each fold's split as CSV (`user,movie,rating`, given in time order) so that peers
/// outside Rust evaluate on exactly the same split.
fn cmd_split(mut args: Args) -> Result<()> {
    let out = PathBuf::from(args.value("--out")?.ok_or_else(|| usage_error("split needs --out DIR".into()))?);
    let lenient = args.flag("--lenient");
    let rest = args.finish()?;
    let [dir] = rest.as_slice() else { return Err(usage_error("split needs exactly one DATA_DIR".into())) };
    let ds = read_dataset(Path::new(dir), ReadOptions { lenient })?;
    for fold in 0..5 {
        let s = movie_recs::eval::split(&ds.ratings, fold, 5);
        let mut train = String::from("user,movie,rating\n");
        for r in &s.train {
            train += &format!("{},{},{}\n", r.user, r.movie.0, r.rating);
        }
        let (mut given, mut hidden) = (String::from("user,movie,rating\n"), String::from("user,movie,rating\n"));
        for u in &s.test {
            for g in &u.given {
                given += &format!("{},{},{}\n", u.user, g.movie_id, g.rating);
            }
            for (m, r) in &u.hidden {
                hidden += &format!("{},{},{}\n", u.user, m.0, r);
            }
        }
        let d = out.join(format!("fold{fold}"));
        write(&d.join("train.csv"), train.as_bytes())?;
        write(&d.join("given.csv"), given.as_bytes())?;
        write(&d.join("hidden.csv"), hidden.as_bytes())?;
    }
    eprintln!("wrote 5 folds of {} to {}", ds.name, out.display());
    Ok(())
}

/// Native timings of one recommend call (fold-in + scoring + top 10 + reasons), the same
/// methodology as the browser benchmark: batches of 10 calls, median and p95 of 15 batches.
/// Writes the synthetic models it times to `--models DIR` for the browser run.
fn cmd_bench(mut args: Args) -> Result<()> {
    let models_dir = PathBuf::from(args.value("--models")?.unwrap_or_else(|| "target/bench-models".into()));
    let json = args.value("--json")?.map(PathBuf::from);
    let quick = args.flag("--quick");
    args.finish()?;
    let mut cases: Vec<(String, Vec<u8>)> = vec![(
        "ml-latest-small (default model)".into(),
        std::fs::read("www/model.bin").map_err(|e| Error::Io { path: "www/model.bin".into(), reason: e.to_string() })?,
    )];
    let sizes: &[(usize, &str)] = if quick { &[(62_423, "ML-25M size")] } else { &[(62_423, "ML-25M size"), (87_585, "ML-32M size")] };
    let factor_counts: &[usize] = if quick { &[64] } else { &[32, 64, 128] };
    for &(movies, label) in sizes {
        for &k in factor_counts {
            let name = format!("synthetic-{movies}x{k}.bin");
            let bytes = movie_recs::synthetic::factor_model(movies, k, 7).to_bytes()?;
            write(&models_dir.join(&name), &bytes)?;
            cases.push((format!("{label}, {k} factors ({name})"), bytes));
        }
    }
    let mut rows = Vec::new();
    for (name, bytes) in &cases {
        let rec = movie_recs::Recommender::from_bytes(bytes)?;
        let popular: Vec<u32> = rec.popular(400).iter().map(|m| m.movie_id).collect();
        let (ke, ki) = (rec.model().explicit.item_factors.cols(), rec.model().implicit.as_ref().map_or(0, |i| i.item_factors.cols()));
        let k = ke + ki;
        for n in [1usize, 20, 200] {
            let ratings = movie_recs::synthetic::sample_ratings(&popular, n);
            let opts = movie_recs::RecommendOptions { count: 10, method: movie_recs::Method::Mf, ..Default::default() };
            let mut batches: Vec<f64> = (0..15)
                .map(|_| {
                    let t = Instant::now();
                    for _ in 0..10 {
                        std::hint::black_box(rec.recommend(&ratings, &opts).expect("valid options"));
                    }
                    t.elapsed().as_secs_f64() * 100.0 // ms per call
                })
                .collect();
            batches.sort_by(f64::total_cmp);
            let (median, p95) = (batches[7], batches[14]);
            println!("{name:<56} {n:>4} ratings: median {median:.3} ms, p95 {p95:.3} ms");
            rows.push(serde_json::json!({"case": name, "movies": rec.model().movies.len(), "factors": k, "ratings": n, "native_median_ms": median, "native_p95_ms": p95, "macs_per_call": rec.model().movies.len() * k + fold_in_macs(n, ke, ki)}));
        }
    }
    if let Some(path) = json {
        write(&path, serde_json::to_string_pretty(&rows).expect("plain data").as_bytes())?;
    }
    Ok(())
}

/// Multiply-adds of folding `ratings` ratings into an explicit model of `ke` factors (plus the
/// bias) and an implicit one of `ki`: each rating adds the upper triangle of `z z^T`, then each
/// model is one Cholesky factorisation (`k^3 / 6`).
fn fold_in_macs(ratings: usize, ke: usize, ki: usize) -> usize {
    let per_model = |k: usize| ratings * k * (k + 1) / 2 + k * k * k / 6;
    per_model(ke + 1) + if ki > 0 { per_model(ki) } else { 0 }
}

fn cmd_synth(mut args: Args) -> Result<()> {
    let out = PathBuf::from(args.value("--out")?.ok_or_else(|| usage_error("synth needs --out DIR".into()))?);
    let spec = SyntheticSpec {
        users: args.parsed("--users")?.unwrap_or(1000),
        movies: args.parsed("--movies")?.unwrap_or(2000),
        ratings_per_user: args.parsed("--ratings-per-user")?.unwrap_or(100),
        dims: 8,
        seed: args.parsed("--seed")?.unwrap_or(7),
    };
    args.finish()?;
    let ratings = generate(&spec);
    let mut text = String::from("userId,movieId,rating,timestamp\n");
    for r in &ratings {
        text += &format!("{},{},{:.1},{}\n", r.user, r.movie.0, r.rating, r.timestamp);
    }
    write(&out.join("ratings.csv"), text.as_bytes())?;
    let mut movies = String::from("movieId,title,genres\n");
    const GENRES: [&str; 6] = ["Action", "Comedy", "Drama", "Sci-Fi", "Romance", "Thriller"];
    for m in 1..=spec.movies {
        movies +=
            &format!("{m},\"Synthetic Movie {m}, The ({})\",{}|{}\n", 1950 + m % 70, GENRES[m as usize % 6], GENRES[(m as usize / 6) % 6]);
    }
    write(&out.join("movies.csv"), movies.as_bytes())?;
    eprintln!("wrote {} ratings for {} users and {} movies to {}", ratings.len(), spec.users, spec.movies, out.display());
    Ok(())
}

fn main() -> ExitCode {
    let mut argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.is_empty() || argv[0] == "--help" || argv[0] == "-h" {
        println!("{USAGE}");
        return if argv.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS };
    }
    let cmd = argv.remove(0);
    let args = Args(argv);
    let result = match cmd.as_str() {
        "model" => cmd_model(args),
        "eval" => cmd_eval(args),
        "synth" => cmd_synth(args),
        "tune" => cmd_tune(args),
        "split" => cmd_split(args),
        "normalise" => cmd_normalise(args),
        "import-spark" => cmd_import_spark(args),
        "bench" => cmd_bench(args),
        other => Err(usage_error(format!("unknown command {other}"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
