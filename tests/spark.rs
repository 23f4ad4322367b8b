//! The Spark path end to end, on the output of a real Spark run (`./build.sh test` makes it:
//! synthetic ratings in the ml-latest layout → `trainer normalise` → `scripts/spark_als.py`
//! explicit (with user factors) and implicit → this test). Ignored by a plain `cargo test`
//! because it needs that run; `build.sh` runs it with `--ignored` and `MOVIE_RECS_SPARK_DIR`.
#![cfg(feature = "train")]

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use movie_recs::data::{read_dataset, ReadOptions};
use movie_recs::train::spark::{build_spark_model, read_factor_table, read_spark_dir, NativeExtras, SparkFactors, SparkSettings};
use movie_recs::{FactorStorage, Method, MovieId, RawRating, RecommendOptions, Recommender};

fn spark_dir() -> PathBuf {
    PathBuf::from(
        std::env::var("MOVIE_RECS_SPARK_DIR")
            .expect("MOVIE_RECS_SPARK_DIR is not set: run this test through ./build.sh test, which trains the Spark fixture it reads"),
    )
}

#[test]
#[ignore = "needs a Spark run; ./build.sh test provides it"]
fn spark_factors_pack_fold_in_exactly_as_spark_and_recommend() {
    let dir = spark_dir();
    let ds = read_dataset(&dir.join("data"), ReadOptions::default()).unwrap();
    let explicit = read_spark_dir(&dir.join("explicit")).unwrap();
    let implicit = read_spark_dir(&dir.join("implicit")).unwrap();
    let model = build_spark_model("fixture", &ds.movies, &ds.ratings, &explicit, Some(&implicit), FactorStorage::F32, None).unwrap();
    let rec = Recommender::from_bytes(&model.to_bytes().unwrap()).unwrap();

    // Spark solves its users last, against the final item factors: folding a training user in
    // with the packed factors must give Spark's own user vector.
    let users = read_factor_table(&dir.join("explicit/user_factors")).expect("the explicit run was made with --user-factors");
    let mut by_user: HashMap<u32, Vec<RawRating>> = HashMap::new();
    for r in &ds.ratings {
        by_user.entry(r.user).or_default().push(RawRating { movie_id: r.movie.0 as f64, rating: r.rating as f64, seen: false });
    }
    let (mut checked, mut worst) = (0, 0.0f32);
    for (user, spark_vector) in users.iter().take(40) {
        let visitor = rec.fold_in(&by_user[user]);
        let mine = visitor.explicit_factors().unwrap();
        let err = mine.iter().zip(spark_vector).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        let scale = spark_vector.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(err <= 1e-3 * scale.max(1.0), "user {user}: fold-in differs from Spark's vector by {err} (scale {scale})");
        worst = worst.max(err / scale.max(1.0));
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} users compared");
    eprintln!("{checked} training users folded in: largest difference from Spark's vectors {worst:.2e} (relative)");

    // And the page's calls work on the imported model.
    let given = &by_user[&users[0].0];
    let out = rec.recommend(given, &RecommendOptions { count: 10, method: Method::Hybrid, ..Default::default() }).unwrap();
    assert_eq!(out.items.len(), 10);
    assert!(!out.cold_start);
    let seen: Vec<u32> = given.iter().map(|r| r.movie_id as u32).collect();
    assert!(out.items.iter().all(|i| !seen.contains(&i.movie.movie_id)));
    assert!(rec.resolve(Method::ItemKnn).is_err(), "an imported model has only the factor methods");
}

#[test]
fn a_broken_spark_output_is_a_clear_error_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("movie-recs-bad-spark-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("item_factors")).unwrap();
    let err = read_spark_dir(&dir).unwrap_err().to_string();
    assert!(err.contains("settings.json"), "{err}");

    std::fs::write(dir.join("settings.json"), "{\"rank\": 8}").unwrap();
    let err = read_spark_dir(&dir).unwrap_err().to_string();
    assert!(err.contains("not the Spark job's settings"), "{err}");

    std::fs::write(
        dir.join("settings.json"),
        r#"{"rank": 8, "regParam": 0.1, "implicitPrefs": false, "alpha": 1.0, "maxIter": 5, "seed": 0}"#,
    )
    .unwrap();
    let err = read_spark_dir(&dir).unwrap_err().to_string();
    assert!(err.contains("no .parquet part files"), "{err}");

    std::fs::write(dir.join("item_factors/part-00000.snappy.parquet"), b"<html>not parquet</html>").unwrap();
    let err = read_spark_dir(&dir).unwrap_err().to_string();
    assert!(err.contains("part-00000.snappy.parquet") && err.contains("not a Parquet file"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Factors as a Spark run would give them, for every movie of `ratings` (deterministic values).
fn spark_like(ratings: &[movie_recs::eval::RatingRecord], implicit: bool) -> SparkFactors {
    let settings =
        SparkSettings { rank: 4, reg_param: 0.1, implicit_prefs: implicit, alpha: 1.0, max_iter: 5, seed: 0, spark: "test".into() };
    let factors = ratings
        .iter()
        .map(|r| (r.movie, (0..4).map(|k| ((r.movie.0 * 7 + k * 13 + implicit as u32) % 11) as f32 / 10.0 - 0.5).collect()))
        .collect::<HashMap<MovieId, Vec<f32>>>();
    SparkFactors { settings, factors }
}

#[test]
fn spark_factors_and_natively_trained_other_methods_go_in_one_file() {
    let (movies, ratings, tags) = (common::movies(), common::ratings(), common::tags());
    let (explicit, implicit) = (spark_like(&ratings, false), spark_like(&ratings, true));
    let settings = common::settings(FactorStorage::F32);
    let checked = settings.check().unwrap();
    let pack = |max_users| {
        let extras = NativeExtras { tags: &tags, settings: &checked, max_users };
        build_spark_model("fixture", &movies, &ratings, &explicit, Some(&implicit), FactorStorage::F32, Some(extras)).unwrap()
    };
    let model = pack(None);

    // The other methods are the ones `trainer model` trains on the same ratings, to the byte,
    // and the blend is the settings' own; the factors are Spark's, untouched.
    let native = common::train(&ratings, &settings);
    assert_eq!(model.extras, native.extras);
    assert_eq!(model.hybrid, settings.hybrid);
    let alone = build_spark_model("fixture", &movies, &ratings, &explicit, Some(&implicit), FactorStorage::F32, None).unwrap();
    assert_eq!(model.mf, alone.mf);
    assert_eq!(model.catalogue, alone.catalogue);
    assert!(model.info.trainer.contains("other methods native on all 300 users"), "{}", model.info.trainer);

    // One file, every method, extras bound to this core.
    let bytes = model.to_bytes().unwrap();
    let rec = Recommender::from_bytes(&bytes).unwrap();
    let given = common::user_ratings(7);
    for method in Method::ALL {
        assert_eq!(rec.resolve(method).unwrap(), method, "{method:?} in the packed file");
        let out = rec.recommend(&given, &RecommendOptions { count: 10, method, ..Default::default() }).unwrap();
        assert_eq!(out.items.len(), 10, "{method:?}");
    }
    assert!(Recommender::from_bytes(&alone.to_bytes().unwrap()).unwrap().resolve(Method::ItemKnn).is_err());

    // On a sample of the users: other tables, the same sample every time.
    let sampled = pack(Some(100));
    assert!(sampled.info.trainer.contains("other methods native on a sample of"), "{}", sampled.info.trainer);
    assert_ne!(sampled.extras, model.extras);
    assert_eq!(sampled.to_bytes().unwrap(), pack(Some(100)).to_bytes().unwrap());
    assert_eq!(sampled.mf, alone.mf, "the sample trains the other methods only");
}
