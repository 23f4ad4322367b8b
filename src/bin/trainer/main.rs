//! The native command line: train and pack the model, evaluate, generate synthetic data.
//! All IO and flag parsing lives here; the work is done by the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use movie_recs::data::{join_tmdb, read_dataset, Dataset, ReadOptions};
use movie_recs::methods::Method;
use movie_recs::synthetic::{generate, SyntheticSpec};
use movie_recs::train::build_model;
use movie_recs::train::progress::duration;
use movie_recs::train::report::{evaluate_dataset, Splits};
use movie_recs::{Error, Result};

mod flags;
mod spark;

use flags::{settings, usage_error, Args, USAGE};

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
    let budget = args.parsed::<f64>("--time-budget")?;
    let started = Instant::now();
    let mut s = settings(&mut args)?;
    args.finish()?;
    if let Some(b) = budget {
        if !(b.is_finite() && b > 0.0 && b < 1e7) {
            return Err(Error::InvalidSetting {
                name: "time-budget",
                value: b.to_string(),
                reason: "must be a number of seconds > 0".into(),
            });
        }
        s.deadline = Some(started + Duration::from_secs_f64(b));
    }
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
    let model = build_model(&ds.name, &ds.movies, &ds.tags, &ds.ratings, &s.check()?)?;
    let train_s = t.elapsed().as_secs_f64();
    if let Some(b) = budget.filter(|&b| started.elapsed().as_secs_f64() > b) {
        eprintln!(
            "time budget {} overrun by {}: the factor models, neighbours and EASE always run in full (fewer --iterations or a smaller --ease-movies shorten them)",
            duration(Duration::from_secs_f64(b)),
            duration(started.elapsed().saturating_sub(Duration::from_secs_f64(b)))
        );
    }
    let bytes = model.to_bytes()?;
    write(&out, &bytes)?;
    let size = |part: std::result::Result<Vec<u8>, postcard::Error>| part.map(|b| b.len()).unwrap_or(0);
    let [core, links, stars, extras] = model.sections()?;
    let implicit = size(postcard::to_allocvec(&model.mf.implicit));
    let in_core = if model.mf.ranks_by_stars() { size(postcard::to_allocvec(&model.mf.explicit)) } else { 0 };
    let shares = [
        ("core: movie metadata", core.len().saturating_sub(implicit + in_core)),
        ("core: implicit MF (ranking)", implicit),
        ("core: explicit MF (ranks)", in_core),
        ("links: IMDb and TMDB ids", links.len()),
        ("stars: explicit MF (stars)", stars.len()),
        ("extras: item_knn neighbours", size(postcard::to_allocvec(&model.extras.item_knn))),
        ("extras: content attributes", size(postcard::to_allocvec(&model.extras.content))),
        ("extras: user_knn pool", size(postcard::to_allocvec(&model.extras.user_knn))),
        ("extras: neural autoencoder", size(postcard::to_allocvec(&model.extras.neural))),
        ("extras: EASE weights", size(postcard::to_allocvec(&model.extras.ease))),
    ];
    eprintln!(
        "trained in {train_s:.2} s; wrote {} ({} bytes, {} movies): core {} bytes (what the first recommendations need), links {} bytes, stars {} bytes, extras {} bytes. Share of the file:",
        out.display(),
        bytes.len(),
        model.catalogue.len(),
        core.len(),
        links.len(),
        stars.len(),
        extras.len()
    );
    for (name, n) in shares {
        eprintln!("  {name:<30} {n:>9} B  {:>5.1}%", 100.0 * n as f64 / bytes.len() as f64);
    }
    println!("{}", out.display());
    Ok(())
}

/// `--folds 0,1,...` of the evaluation commands (every fold of five when absent).
fn folds(args: &mut Args) -> Result<Vec<u32>> {
    match args.value("--folds")? {
        Some(v) => v
            .split(',')
            .map(|f| {
                f.trim().parse::<u32>().ok().filter(|&f| f < 5).ok_or_else(|| Error::InvalidSetting {
                    name: "folds",
                    value: v.clone(),
                    reason: "a comma-separated list of 0..=4".into(),
                })
            })
            .collect(),
        None => Ok(vec![0, 1, 2, 3, 4]),
    }
}

fn cmd_eval(mut args: Args) -> Result<()> {
    let folds = folds(&mut args)?;
    let splits = args.value("--splits")?.map_or(Ok(Splits::ALL), |v| Splits::parse(&v))?;
    let json = args.value("--json")?.map(PathBuf::from);
    let svg = args.value("--svg")?.map(PathBuf::from);
    let lenient = args.flag("--lenient");
    let tmdb = args.value("--tmdb")?.map(PathBuf::from);
    let mut s = settings(&mut args)?;
    s.progress = false;
    let rest = args.finish()?;
    let [dir] = rest.as_slice() else { return Err(usage_error("eval needs exactly one DATA_DIR".into())) };
    let ds = read_with_metadata(Path::new(dir), ReadOptions { lenient }, tmdb)?;
    let report = evaluate_dataset(&ds, &folds, &s, splits)?;
    println!("{}", report.table());
    println!("{}", report.variants_table());
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

/// The first-minute report: elicitation strategies and the discover control's trade-off.
fn cmd_first_minute(mut args: Args) -> Result<()> {
    let folds = folds(&mut args)?;
    let json = args.value("--json")?.map(PathBuf::from);
    let tmdb = args.value("--tmdb")?.map(PathBuf::from);
    let mut s = settings(&mut args)?;
    s.progress = false;
    let rest = args.finish()?;
    let [dir] = rest.as_slice() else { return Err(usage_error("first-minute needs exactly one DATA_DIR".into())) };
    let ds = read_with_metadata(Path::new(dir), ReadOptions::default(), tmdb)?;
    let report = movie_recs::train::first_minute::first_minute(&ds, &folds, &s)?;
    println!("{}", report.table());
    if let Some(path) = &json {
        write(path, report.json().as_bytes())?;
        write(&path.with_extension("svg"), report.svg().as_bytes())?;
        eprintln!("wrote {} and its .svg", path.display());
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
        None => Method::Hybrid,
        Some(name) => Method::from_name(&name)?,
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
    let inner = movie_recs::train::tune::inner_splits(&ds, fold);
    eprintln!(
        "fold {fold}: validating on its {} training users, one inner fold at a time",
        inner.iter().map(|s| s.test.len()).sum::<usize>()
    );
    let mut combos: Vec<Vec<String>> = vec![Vec::new()];
    for (flag, values) in &axes {
        combos = combos.into_iter().flat_map(|c| values.iter().map(move |v| [c.clone(), vec![flag.clone(), v.clone()]].concat())).collect();
    }
    println!("| settings | RMSE | P@10 | R@10 | NDCG@10 |\n|---|---|---|---|---|");
    for combo in combos {
        let mut a = Args([rest.clone(), combo.clone(), vec!["--quiet".into()]].concat());
        let s = settings(&mut a)?.check()?;
        let m = movie_recs::train::tune::validate(&ds, &inner, &s, method)?;
        println!("| {} | {:.4} | {:.4} | {:.4} | {:.4} |", combo.join(" "), m.rmse, m.precision, m.recall, m.ndcg);
    }
    Ok(())
}

/// Writes each fold's split as CSV (`user,movie,rating`, given in time order) so that peers
/// outside Rust evaluate on exactly the same split.
fn cmd_split(mut args: Args) -> Result<()> {
    use movie_recs::eval::{carve_validation, future_split, past_split, shorten, split, FoldSplit, FUTURE_CUTS, PAST_CUT};
    let out = PathBuf::from(args.value("--out")?.ok_or_else(|| usage_error("split needs --out DIR".into()))?);
    let lenient = args.flag("--lenient");
    let rest = args.finish()?;
    let [dir] = rest.as_slice() else { return Err(usage_error("split needs exactly one DATA_DIR".into())) };
    let ds = read_dataset(Path::new(dir), ReadOptions { lenient })?;
    let csv = |rows: &mut dyn Iterator<Item = (u32, u32, f64)>| {
        let mut text = String::from("user,movie,rating\n");
        rows.for_each(|(u, m, r)| text += &format!("{u},{m},{r}\n"));
        text
    };
    let write_split = |d: &Path, s: &FoldSplit, short: bool| -> Result<()> {
        write(&d.join("train.csv"), csv(&mut s.train.iter().map(|r| (r.user, r.movie.0, r.rating as f64))).as_bytes())?;
        let given = |test: &[movie_recs::eval::TestUser]| {
            csv(&mut test.iter().flat_map(|u| u.given.iter().map(move |g| (u.user, g.movie_id as u32, g.rating))))
        };
        write(&d.join("given.csv"), given(&s.test).as_bytes())?;
        write(
            &d.join("hidden.csv"),
            csv(&mut s.test.iter().flat_map(|u| u.hidden.iter().map(move |(m, r)| (u.user, m.0, *r as f64)))).as_bytes(),
        )?;
        if short {
            for n in [5, 20] {
                write(&d.join(format!("given-short{n}.csv")), given(&shorten(&s.test, n)).as_bytes())?;
            }
        }
        // Past visitors' lists hold only movies released by their last rating's year: the
        // limit per user, and every movie's year, so that a peer applies the same filter.
        if s.test.iter().any(|u| u.released_by.is_some()) {
            let mut eras = String::from("user,released_by\n");
            s.test.iter().filter_map(|u| u.released_by.map(|y| (u.user, y))).for_each(|(u, y)| eras += &format!("{u},{y}\n"));
            write(&d.join("eras.csv"), eras.as_bytes())?;
            let mut years = String::from("movie,year\n");
            ds.movies.iter().filter_map(|m| m.year.map(|y| (m.id.0, y))).for_each(|(m, y)| years += &format!("{m},{y}\n"));
            write(&d.join("years.csv"), years.as_bytes())?;
        }
        Ok(())
    };
    // Each split with the validation split its trainer carves (so peers tune on the same users).
    let mut splits: Vec<(String, FoldSplit, bool)> = (0..5).map(|f| (format!("fold{f}"), split(&ds.ratings, f, 5), true)).collect();
    splits.extend(FUTURE_CUTS.iter().map(|&q| (format!("future{}", (q * 100.0).round()), future_split(&ds.ratings, q), false)));
    splits.push((format!("past{}", (PAST_CUT * 100.0).round()), past_split(&ds.ratings, PAST_CUT), false));
    for (name, s, short) in &splits {
        let d = out.join(name);
        write_split(&d, s, *short)?;
        for k in 0..5 {
            write_split(&d.join(format!("validation{k}")), &carve_validation(&s.train, k), true)?;
        }
    }
    eprintln!(
        "wrote 5 folds, {} future cuts and the past cut of {} (each with its validation split) to {}",
        FUTURE_CUTS.len(),
        ds.name,
        out.display()
    );
    Ok(())
}

/// Native timings (`movie_recs::train::bench`); writes the synthetic models it times to
/// `--models DIR` for the browser run.
fn cmd_bench(mut args: Args) -> Result<()> {
    let models_dir = PathBuf::from(args.value("--models")?.unwrap_or_else(|| "target/bench-models".into()));
    let json = args.value("--json")?.map(PathBuf::from);
    let quick = args.flag("--quick");
    args.finish()?;
    let default = std::fs::read("www/model.bin").map_err(|e| Error::Io { path: "www/model.bin".into(), reason: e.to_string() })?;
    let mut cases = vec![("ml-latest-small (default model)".to_string(), default)];
    for (file, label, bytes) in movie_recs::train::bench::synthetic_cases(quick)? {
        write(&models_dir.join(&file), &bytes)?;
        cases.push((label, bytes));
    }
    let rows = movie_recs::train::bench::run(&cases)?;
    if let Some(path) = json {
        write(&path, serde_json::to_string_pretty(&rows).expect("plain data").as_bytes())?;
    }
    Ok(())
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
        "first-minute" => cmd_first_minute(args),
        "synth" => cmd_synth(args),
        "tune" => cmd_tune(args),
        "split" => cmd_split(args),
        "normalise" => spark::cmd_normalise(args),
        "import-spark" => spark::cmd_import_spark(args),
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
