//! The Spark path's commands: `normalise` (any MovieLens layout as the CSV the Spark job reads)
//! and `import-spark` (Spark's factors packed, with or without natively trained other methods).

use std::path::{Path, PathBuf};
use std::time::Instant;

use movie_recs::data::{read_dataset, ReadOptions};
use movie_recs::methods::Method;
use movie_recs::train::{Learn, TrainSettings};
use movie_recs::{Error, FactorStorage, Result};

use crate::flags::{settings, storage_flag, usage_error, Args};
use crate::{read_with_metadata, write};

/// Writes the ratings of any MovieLens layout in the one form the Spark job reads.
pub fn cmd_normalise(mut args: Args) -> Result<()> {
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
pub fn cmd_import_spark(mut args: Args) -> Result<()> {
    use movie_recs::train::spark::{build_spark_model, read_spark_dir, NativeExtras};
    let data = args.value("--data")?.ok_or_else(|| usage_error("import-spark needs --data DIR".into()))?;
    let explicit = args.value("--explicit")?.ok_or_else(|| usage_error("import-spark needs --explicit SPARK_OUT".into()))?;
    let implicit = args.value("--implicit")?;
    let fold: Option<u32> = args.parsed("--fold")?;
    let out = args.value("--out")?.map(PathBuf::from);
    // Spark's factors are stored int8 unless told: int4 was measured on our own factors only.
    let storage = storage_flag(&mut args, "--storage")?.unwrap_or(FactorStorage::Int8);
    let lenient = args.flag("--lenient");
    let tmdb = args.value("--tmdb")?.map(PathBuf::from);
    // The other methods, trained here beside Spark's factors: the same flags as `model`.
    let extras_users: Option<usize> = args.parsed("--extras-users")?;
    let extras = if args.flag("--extras") || extras_users.is_some() {
        let s = settings(&mut args)?;
        Some(TrainSettings { learn: Learn::Off, ..s }.check()?)
    } else {
        None
    };
    args.finish()?;
    let ds = read_with_metadata(Path::new(&data), ReadOptions { lenient }, tmdb)?;
    let extras = extras.as_ref().map(|settings| NativeExtras { tags: &ds.tags, settings, max_users: extras_users });
    let explicit = read_spark_dir(Path::new(&explicit))?;
    let implicit = implicit.map(|d| read_spark_dir(Path::new(&d))).transpose()?;
    let split = fold.map(|f| movie_recs::eval::split(&ds.ratings, f, 5));
    let ratings = split.as_ref().map_or(&ds.ratings, |s| &s.train);
    let model = build_spark_model(&ds.name, &ds.movies, ratings, &explicit, implicit.as_ref(), storage, extras)?;
    let bytes = model.to_bytes()?;
    eprintln!(
        "packed Spark factors for {} of {} movies ({} bytes): {}",
        explicit.factors.len(),
        model.catalogue.len(),
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
        let m = movie_recs::eval::evaluate(&rec, Method::Mf, &split.test, &now)?;
        eprintln!(
            "fold {fold} spark: RMSE {:.4}  P@10 {:.4}  R@10 {:.4}  NDCG@10 {:.4}  users {}",
            m.rmse, m.precision, m.recall, m.ndcg, m.users
        );
        println!("{}", serde_json::to_string(&m).map_err(|e| Error::Decode(e.to_string()))?);
    }
    Ok(())
}
