//! Tests on the real ml-latest-small in ../shared/data and on the committed default model.
#![cfg(feature = "train")]

use std::path::Path;

use movie_recs::data::{read_dataset, shared_ml_latest_small, ReadOptions};
use movie_recs::eval::{evaluate, split};
use movie_recs::train::{build_model, Learn, TrainSettings};
use movie_recs::{Method, RecommendOptions, Recommender};
use movie_recs::{MovieId, RawRating};

fn dataset() -> movie_recs::data::Dataset {
    let dir = shared_ml_latest_small();
    assert!(
        dir.join("ratings.csv").is_file(),
        "MovieLens ml-latest-small is missing: expected {} (the shared data folder beside the project)",
        dir.display()
    );
    read_dataset(&dir, ReadOptions::default()).expect("ml-latest-small reads strictly, without skipping lines")
}

#[test]
fn ml_latest_small_reads_completely() {
    let ds = dataset();
    assert_eq!(ds.ratings.len(), 100_836);
    assert_eq!(ds.movies.len(), 9_742);
    let users: std::collections::HashSet<u32> = ds.ratings.iter().map(|r| r.user).collect();
    assert_eq!(users.len(), 610);
    assert_eq!(ds.movies.iter().filter(|m| m.tmdb_id.is_some()).count(), 9_734);
    let heat = ds.movies.iter().find(|m| m.id == MovieId(6)).unwrap();
    assert_eq!((heat.title.as_str(), heat.year), ("Heat", Some(1995)));
    assert_eq!(ds.tags.len(), 3_683);
}

#[test]
fn tmdb_metadata_joins_through_links() {
    let mut ds = dataset();
    let path = movie_recs::data::shared_tmdb();
    assert!(path.is_file(), "TMDB 5000 is missing: expected {}", path.display());
    let matched = movie_recs::data::join_tmdb(&path, &mut ds.movies, ReadOptions::default()).unwrap();
    assert_eq!(matched, 3_536);
    let toy_story = ds.movies.iter().find(|m| m.id == MovieId(1)).unwrap();
    assert_eq!(toy_story.runtime, Some(81));
    assert!(toy_story.keywords.iter().any(|k| k == "jealousy"), "{:?}", toy_story.keywords);
    assert!(toy_story.overview.contains("Woody"), "{}", toy_story.overview);
}

#[test]
fn fold_0_of_the_protocol_beats_popularity() {
    let ds = dataset();
    let s = split(&ds.ratings, 0, 5);
    let settings = TrainSettings { learn: Learn::Off, ..TrainSettings::default() };
    let model = build_model(&ds.name, &ds.movies, &ds.tags, &s.train, &settings.check().unwrap()).unwrap();
    let rec = Recommender::from_bytes(&model.to_bytes().unwrap()).unwrap();
    let clock = || 0.0;
    let shipped = evaluate(&rec, Method::Hybrid, &s.test, &clock).unwrap();
    let popular = evaluate(&rec, Method::Popular, &s.test, &clock).unwrap();
    assert_eq!(shipped.users, popular.users);
    assert!(shipped.users > 100, "{} users counted", shipped.users);
    assert!(shipped.ndcg > popular.ndcg * 1.3, "NDCG@10 {} vs popularity {}", shipped.ndcg, popular.ndcg);
    assert!(shipped.rmse < 0.9 && shipped.rmse < popular.rmse, "RMSE {} vs popularity {}", shipped.rmse, popular.rmse);
}

#[test]
fn the_committed_default_model_loads_and_recommends() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("www/model.bin");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run ./build.sh model)", path.display()));
    let rec = Recommender::from_bytes(&bytes).expect("the committed model is valid for this build");
    assert_eq!(rec.model().info.dataset, "ml-latest-small");
    assert_eq!(rec.model().catalogue.movies.len(), 9_742, "every movie of movies.csv");
    assert_eq!(rec.model().catalogue.movies.iter().filter(|m| m.rating_count > 0).count(), 9_724, "rated ones");
    let content = rec.model().extras.content.as_ref().expect("the default model has attributes");
    let row = rec.row(MovieId(1)).unwrap();
    let names: Vec<&str> = content.of(row).map(|(f, _)| content.display_name(f)).collect();
    assert!(names.contains(&"Animation") && names.contains(&"toy"), "{names:?}");
    let toy_story_fans = [
        RawRating { movie_id: 1.0, rating: 5.0, seen: false },
        RawRating { movie_id: 3114.0, rating: 5.0, seen: false },
        RawRating { movie_id: 2355.0, rating: 4.5, seen: false },
    ];
    let out =
        rec.recommend(&toy_story_fans, &RecommendOptions { count: 20, genres: vec!["Animation".into()], ..Default::default() }).unwrap();
    assert_eq!(out.items.len(), 20);
    assert!(out.items.iter().all(|i| i.movie.genres.iter().any(|g| g == "Animation")));
    assert!(rec.search("toy story", 5).iter().any(|m| m.movie_id == 1));
}

/// The committed model and the data it was trained on.
fn committed() -> (movie_recs::data::Dataset, Vec<u8>) {
    let mut ds = dataset();
    movie_recs::data::join_tmdb(&movie_recs::data::shared_tmdb(), &mut ds.movies, ReadOptions::default()).unwrap();
    (ds, std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("www/model.bin")).unwrap())
}

// The two tests that train on all of ml-latest-small run in the optimised `native` profile
// (`./build.sh test` runs them with `--ignored`): in the debug profile they take minutes.
#[test]
#[ignore = "trains the default model; ./build.sh test runs it in the native profile"]
fn the_committed_model_is_what_build_sh_model_makes() {
    // `./build.sh model` searches its choices (see the next test); replaying the ones the
    // committed model records must give its bytes exactly.
    let (ds, committed) = committed();
    let learned = Recommender::from_bytes(&committed).unwrap().model().info.learned.clone().expect("the default model records its choices");
    let settings = TrainSettings { learn: Learn::Replay(learned), progress: false, ..TrainSettings::default() };
    let model = build_model(&ds.name, &ds.movies, &ds.tags, &ds.ratings, &settings.check().unwrap()).unwrap();
    assert!(model.to_bytes().unwrap() == committed, "www/model.bin is stale or training is not deterministic: run ./build.sh model");
}

#[test]
#[ignore = "runs the default model's search; ./build.sh test runs it in the native profile"]
fn the_search_reproduces_the_committed_models_choices() {
    let (ds, committed) = committed();
    let recorded = Recommender::from_bytes(&committed).unwrap().model().info.learned.clone().unwrap();
    let budget_s = match TrainSettings::default().learn {
        Learn::Search { budget_s } => budget_s,
        other => panic!("the default trainer searches, not {other:?}"),
    };
    let settings = TrainSettings { progress: false, ..TrainSettings::default() }.check().unwrap();
    let found = movie_recs::train::search::learn(&ds.name, &ds.movies, &ds.tags, &ds.ratings, &settings, budget_s * 10.0).unwrap();
    assert_eq!(
        (found.recency_half_life, found.recency_coherence, found.explicit_weight, found.alpha, found.hybrid),
        (recorded.recency_half_life, recorded.recency_coherence, recorded.explicit_weight, recorded.alpha, recorded.hybrid)
    );
    assert_eq!(found.validation, recorded.validation, "the same validation figures");
}
