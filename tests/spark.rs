//! The Spark path end to end, on the output of a real Spark run (`./build.sh test` makes it:
//! synthetic ratings in the ml-latest layout → `trainer normalise` → `scripts/spark_als.py`
//! explicit (with user factors) and implicit → this test). Ignored by a plain `cargo test`
//! because it needs that run; `build.sh` runs it with `--ignored` and `MOVIE_RECS_SPARK_DIR`.
#![cfg(feature = "train")]

use std::collections::HashMap;
use std::path::PathBuf;

use movie_recs::data::{read_dataset, ReadOptions};
use movie_recs::train::spark::{build_spark_model, read_factor_table, read_spark_dir};
use movie_recs::{FactorStorage, Method, RawRating, RecommendOptions, Recommender};

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
    let model = build_spark_model("fixture", &ds.movies, &ds.ratings, &explicit, Some(&implicit), FactorStorage::F32).unwrap();
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
        let mine = visitor.explicit_factors();
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
