//! Contract tests every model and the runtime must pass, on a small deterministic fixture.
#![cfg(feature = "train")]

mod common;

use std::collections::HashSet;

use movie_recs::fold_in::{fold_in_explicit, RawRating, SkipReason};
use movie_recs::model::ExplicitFactors;
use movie_recs::recommender::{Method, Reason, RecommendOptions, Recommender};
use movie_recs::train::{fit_explicit, ExplicitSettings, Interactions};
use movie_recs::{Error, FactorStorage, Model, MovieId};

fn raw(pairs: &[(u32, f32)]) -> Vec<RawRating> {
    pairs.iter().map(|&(m, r)| RawRating { movie_id: m as f64, rating: r as f64 }).collect()
}

fn user_ratings(user: u32) -> Vec<RawRating> {
    common::ratings().iter().filter(|r| r.user == user).map(|r| RawRating { movie_id: r.movie.0 as f64, rating: r.rating as f64 }).collect()
}

#[test]
fn folding_in_a_training_user_reproduces_their_trained_vector_and_top_items() {
    // Exact row solves, and conjugate-gradient ones (3 steps a sweep from the previous value):
    // the browser's exact fold-in must land on what either trainer gave a training user.
    for cg_steps in [0, 3] {
        let s = ExplicitSettings { cg_steps: Some(cg_steps), ..common::settings(FactorStorage::F32).explicit };
        fold_in_matches_training(&s);
    }
}

fn fold_in_matches_training(s: &ExplicitSettings) {
    let ratings = common::ratings();
    let data = Interactions::new(&ratings).unwrap();
    let fit = fit_explicit(&data, s, false);
    let model = ExplicitFactors {
        global_mean: fit.global_mean,
        item_bias: fit.item_bias.clone(),
        item_factors: fit.item_factors.clone(),
        reg_factors: s.reg_factors,
        reg_bias: s.reg_bias,
        rule: movie_recs::model::RegRule::Constant,
    };
    let k = s.factors;
    for u in [0usize, 17, 123, 299] {
        let rated: Vec<(usize, f32)> = data.user_ratings(u).collect();
        let folded = fold_in_explicit(&model, &rated);
        let trained = fit.user_factors.row(u);
        let dot: f32 = folded.factors.iter().zip(trained).map(|(a, b)| a * b).sum();
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let cosine = dot / (norm(&folded.factors) * norm(trained));
        assert!(cosine > 0.98, "user row {u}, {:?} CG steps: cosine {cosine}", s.cg_steps);
        assert!((folded.bias - fit.user_bias[u]).abs() < 0.05, "user row {u}: bias {} vs {}", folded.bias, fit.user_bias[u]);
        // Same top 10 unseen items by predicted rating.
        let seen: HashSet<usize> = rated.iter().map(|r| r.0).collect();
        let top = |bias: f32, p: &[f32]| {
            let mut s: Vec<(usize, f32)> = (0..data.items.len())
                .filter(|i| !seen.contains(i))
                .map(|i| (i, bias + fit.item_bias[i] + (0..k).map(|f| p[f] * fit.item_factors.row(i)[f]).sum::<f32>()))
                .collect();
            s.sort_by(|a, b| b.1.total_cmp(&a.1));
            s.into_iter().take(10).map(|x| x.0).collect::<HashSet<_>>()
        };
        let overlap = top(folded.bias, &folded.factors).intersection(&top(fit.user_bias[u], trained)).count();
        assert!(overlap >= 9, "user row {u}: top-10 overlap {overlap}");
    }
}

#[test]
fn every_method_returns_sorted_unique_unseen_movies_explained_by_rated_movies() {
    let rec = Recommender::new(common::model());
    for (user, method) in [3u32, 50, 222].into_iter().flat_map(|u| Method::ALL.map(|m| (u, m))) {
        let given = user_ratings(user);
        let seen: HashSet<u32> = given.iter().map(|r| r.movie_id as u32).collect();
        let out = rec.recommend(&given, &RecommendOptions { count: 25, method, ..Default::default() }).unwrap();
        assert_eq!(out.items.len(), 25);
        assert!(!out.cold_start);
        assert_eq!(out.used_ratings, seen.len());
        let ids: HashSet<u32> = out.items.iter().map(|i| i.movie_id).collect();
        assert_eq!(ids.len(), 25, "unique");
        assert!(ids.is_disjoint(&seen), "a rated movie came back");
        assert!(out.items.windows(2).all(|w| w[0].score >= w[1].score), "sorted by score");
        for item in &out.items {
            assert!((0.5..=5.0).contains(&item.predicted_rating));
            assert!(!item.reasons.is_empty());
            for reason in &item.reasons {
                match reason {
                    Reason::Rated { movie_id, rating, .. } => {
                        assert!(seen.contains(movie_id), "reason names movie {movie_id}, which the visitor did not rate");
                        let given_rating = given.iter().find(|g| g.movie_id as u32 == *movie_id).unwrap().rating as f32;
                        assert_eq!(*rating, given_rating);
                    }
                    Reason::Attributes { names } => {
                        // Real attributes of the recommended movie.
                        let row = rec.row(MovieId(item.movie_id)).unwrap();
                        let content = rec.model().content.as_ref().unwrap();
                        let own: Vec<&str> = content.of(row).map(|(f, _)| content.display_name(f)).collect();
                        assert!(!names.is_empty() && names.iter().all(|n| own.contains(&n.as_str())), "{names:?} not among {own:?}");
                    }
                    Reason::SimilarViewers { rated, liked } => assert!(*rated > 0 && liked <= rated),
                    Reason::Popular { .. } => {}
                }
            }
        }
    }
}

#[test]
fn personal_ranking_beats_popularity_on_held_out_ratings_of_the_fixture() {
    for cg_steps in [0, 3] {
        let mut settings = common::settings(FactorStorage::Int8);
        settings.explicit.cg_steps = Some(cg_steps);
        settings.implicit.as_mut().unwrap().cg_steps = Some(cg_steps);
        personal_beats_popularity(&settings);
    }
}

fn personal_beats_popularity(settings: &movie_recs::train::TrainSettings) {
    let ratings = common::ratings();
    let split = movie_recs::eval::split(&ratings, 0, 5);
    let model = movie_recs::train::build_model("synthetic", &common::movies(), &common::tags(), &split.train, settings).unwrap();
    let rec = Recommender::from_bytes(&model.to_bytes().unwrap()).unwrap();
    let clock = || 0.0;
    let popular = movie_recs::eval::evaluate(&rec, Method::Popular, &split.test, &clock).unwrap();
    for method in [Method::Mf, Method::Neural, Method::Hybrid] {
        let personal = movie_recs::eval::evaluate(&rec, method, &split.test, &clock).unwrap();
        assert!(personal.users > 30);
        assert!(personal.rmse < popular.rmse, "{method:?}: rmse {} vs popularity {}", personal.rmse, popular.rmse);
        assert!(personal.ndcg > popular.ndcg, "{method:?}: ndcg {} vs popularity {}", personal.ndcg, popular.ndcg);
    }
}

#[test]
fn bad_ratings_are_skipped_and_reported_and_the_last_duplicate_wins() {
    let rec = Recommender::new(common::model());
    let mut given = raw(&[(1, 4.0), (2, 3.0)]);
    given.push(RawRating { movie_id: 999_999.0, rating: 4.0 });
    given.push(RawRating { movie_id: 3.0, rating: f64::NAN });
    given.push(RawRating { movie_id: 4.0, rating: 7.5 });
    given.push(RawRating { movie_id: 5.5, rating: 3.0 });
    given.push(RawRating { movie_id: -1.0, rating: 3.0 });
    given.push(RawRating { movie_id: 1.0, rating: 2.0 });
    let visitor = rec.fold_in(&given);
    assert_eq!(visitor.used_ratings(), 2);
    let reasons: Vec<SkipReason> = visitor.skipped().iter().map(|s| s.reason).collect();
    assert_eq!(
        reasons,
        vec![
            SkipReason::UnknownMovie,
            SkipReason::NotFinite,
            SkipReason::OutOfRange,
            SkipReason::InvalidId,
            SkipReason::InvalidId,
            SkipReason::Duplicate
        ]
    );
    assert_eq!(visitor.skipped()[5].rating, 4.0, "the superseded rating is reported");
    // The duplicate's later value is the one used: same as rating movie 1 with 2.0 only.
    let a = rec.predict(&visitor, &[MovieId(10)], Method::Mf);
    let b = rec.predict(&rec.fold_in(&raw(&[(2, 3.0), (1, 2.0)])), &[MovieId(10)], Method::Mf);
    assert!((a[0].unwrap() - b[0].unwrap()).abs() < 1e-5);
    // A movie given with a bad value is still treated as seen.
    let out = rec.recommend(&given, &RecommendOptions { count: 200, ..Default::default() }).unwrap();
    assert!(out.items.iter().all(|i| ![1, 2, 3, 4].contains(&i.movie_id)));
}

#[test]
fn no_ratings_gives_a_labelled_popular_cold_start() {
    let rec = Recommender::new(common::model());
    let out = rec.recommend(&[], &RecommendOptions::default()).unwrap();
    assert!(out.cold_start);
    assert_eq!(out.items.len(), 10);
    assert!(out.items.iter().all(|i| matches!(i.reasons[..], [Reason::Popular { .. }])));
    let popular: Vec<u32> = rec.popular(10).iter().map(|m| m.movie_id).collect();
    assert_eq!(out.items.iter().map(|i| i.movie_id).collect::<Vec<_>>(), popular);
    // Only unknown ids: still cold start, with the skips reported.
    let out = rec.recommend(&raw(&[(424_242, 5.0)]), &RecommendOptions::default()).unwrap();
    assert!(out.cold_start && out.skipped.len() == 1);
}

#[test]
fn genre_and_year_filters_still_fill_the_list() {
    let rec = Recommender::new(common::model());
    let given = user_ratings(9);
    let opts =
        RecommendOptions { count: 10, genres: vec!["horror".into()], year_min: Some(1960), year_max: Some(1990), ..Default::default() };
    let out = rec.recommend(&given, &opts).unwrap();
    let model = rec.model();
    let horror = model.genre_names.iter().position(|g| g == "Horror").unwrap();
    let eligible = model
        .movies
        .iter()
        .filter(|m| m.genres & (1 << horror) != 0 && (1960..=1990).contains(&m.year.unwrap()))
        .filter(|m| !given.iter().any(|g| g.movie_id as u32 == m.id.0))
        .count();
    assert_eq!(out.items.len(), eligible.min(10));
    assert!(out.items.len() == 10, "the fixture has enough horror movies in range: {eligible}");
    for item in &out.items {
        assert!(item.genres.iter().any(|g| g == "Horror"));
        assert!((1960..=1990).contains(&item.year.unwrap()));
    }
}

#[test]
fn invalid_options_are_errors_that_name_the_value() {
    let rec = Recommender::new(common::model());
    let err = rec.recommend(&[], &RecommendOptions { count: 0, ..Default::default() }).unwrap_err();
    assert!(err.to_string().contains("count: 0"), "{err}");
    let err = rec.recommend(&[], &RecommendOptions { genres: vec!["Western".into()], ..Default::default() }).unwrap_err();
    assert!(err.to_string().contains("\"Western\""), "{err}");
    let err = rec.recommend(&[], &RecommendOptions { year_min: Some(2000), year_max: Some(1990), ..Default::default() }).unwrap_err();
    assert!(err.to_string().contains("2000"), "{err}");
}

#[test]
fn model_round_trips_and_bad_bytes_are_clear_errors() {
    let model = common::model();
    let bytes = model.to_bytes().unwrap();
    assert_eq!(Model::from_bytes(&bytes).unwrap(), model);

    assert!(matches!(Model::from_bytes(&bytes[..bytes.len() - 1]), Err(Error::Truncated { .. })));
    assert!(matches!(Model::from_bytes(&bytes[..10]), Err(Error::Truncated { .. })));
    assert!(matches!(Model::from_bytes(&[]), Err(Error::Truncated { found: 0, .. })));
    assert!(matches!(Model::from_bytes(b"<!DOCTYPE html><html>"), Err(Error::BadMagic { .. })));

    let mut newer = bytes.clone();
    newer[8..12].copy_from_slice(&(movie_recs::FORMAT_VERSION + 1).to_le_bytes());
    let err = Model::from_bytes(&newer).unwrap_err();
    assert!(matches!(err, Error::UnsupportedVersion { .. }));
    assert!(err.to_string().contains(&format!("version {}", movie_recs::FORMAT_VERSION + 1)));

    // Flip one byte anywhere in the core or the extras: the checksums catch it.
    for at in [movie_recs::model::HEADER_LEN, bytes.len() / 2, bytes.len() - 1] {
        let mut corrupt = bytes.clone();
        corrupt[at] ^= 0x40;
        assert!(matches!(Model::from_bytes(&corrupt), Err(Error::Checksum { .. })), "byte {at}");
    }
}

/// The error `Model::from_bytes` gives for the fixture model after `change`.
fn load_error(change: impl FnOnce(&mut Model)) -> Error {
    let mut model = common::model();
    change(&mut model);
    Model::from_bytes(&model.to_bytes().unwrap()).unwrap_err()
}

#[test]
fn an_inconsistent_model_is_rejected_on_load() {
    let err = load_error(|m| {
        m.explicit.item_bias.pop();
    });
    assert!(matches!(err, Error::InvalidModel(_)), "{err}");
    let err = load_error(|m| m.movies[1].id = m.movies[0].id);
    assert!(err.to_string().contains("appears twice"), "{err}");
    load_error(|m| m.explicit.item_bias[3] = f32::NAN);

    // Every side table is bounds-checked on load, so scoring can index without checks.
    let err = load_error(|m| m.neighbours.as_mut().unwrap().neighbour[0] = 99_999).to_string();
    assert!(err.contains("neighbour entry 99999"), "{err}");
    let err = load_error(|m| {
        m.content.as_mut().unwrap().offsets.pop();
    })
    .to_string();
    assert!(err.contains("content table"), "{err}");
    let err = load_error(|m| {
        m.users.as_mut().unwrap().half_stars.pop();
    })
    .to_string();
    assert!(err.contains("user pool"), "{err}");
    let err = load_error(|m| *m.neural.as_mut().unwrap().rows.last_mut().unwrap() = 99_999).to_string();
    assert!(err.contains("autoencoder vocabulary"), "{err}");
    let err = load_error(|m| {
        m.neural.as_mut().unwrap().output_bias.pop();
    })
    .to_string();
    assert!(err.contains("autoencoder has"), "{err}");
    load_error(|m| m.hybrid.buckets[1].content = f32::INFINITY);
}

#[test]
fn training_is_deterministic_for_a_seed() {
    let a = common::model().to_bytes().unwrap();
    let b = common::model().to_bytes().unwrap();
    assert_eq!(a, b);
    let mut s = common::settings(FactorStorage::F32);
    s.explicit.seed += 1;
    let c = movie_recs::train::build_model("synthetic", &common::movies(), &common::tags(), &common::ratings(), &s)
        .unwrap()
        .to_bytes()
        .unwrap();
    assert_ne!(a, c);
    let mut s = common::settings(FactorStorage::F32);
    s.neural.as_mut().unwrap().seed += 1;
    let d = movie_recs::train::build_model("synthetic", &common::movies(), &common::tags(), &common::ratings(), &s).unwrap();
    assert_ne!(d.neural, common::model().neural, "the autoencoder's seed matters");
    assert_eq!(d.implicit, common::model().implicit, "and nothing else depends on it");
}

#[test]
fn int8_storage_is_close_to_f32_and_saves_three_bytes_a_value() {
    let f32_model = common::model();
    let int8 = common::model_stored(FactorStorage::Int8);
    let (a, b) = (f32_model.explicit.item_factors.as_slice(), int8.explicit.item_factors.as_slice());
    let max_err = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    let max_abs = a.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(max_err <= max_abs / 127.0 + 1e-6, "{max_err} vs {max_abs}");
    assert_eq!(Model::from_bytes(&int8.to_bytes().unwrap()).unwrap(), int8, "the in-memory int8 model equals the reloaded one");
    // Each value takes 1 byte instead of 4; each row adds a 4-byte scale (and each matrix a length).
    let rows = int8.movies.len();
    let k = int8.explicit.item_factors.cols() + int8.implicit.as_ref().unwrap().item_factors.cols();
    let saved = f32_model.to_bytes().unwrap().len() - int8.to_bytes().unwrap().len();
    assert!(saved + 16 >= rows * (3 * k - 8), "saved {saved} bytes for {rows} rows of {k} values");
}

#[test]
fn search_ignores_case_accents_and_ranks_prefix_matches_first() {
    let mut model = common::model();
    model.movies[0].title = "Amélie".into();
    model.movies[1].title = "The Return of Amelie".into();
    let rec = Recommender::new(model);
    let hits = rec.search("AMELIE", 10);
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].title, "Amélie");
    let with_year = rec.search(&format!("amelie {}", hits[0].year.unwrap()), 10);
    assert_eq!(with_year[0].title, "Amélie");
    assert!(rec.search("   ", 10).is_empty());
    assert!(rec.search("zzzz", 10).is_empty());
    assert_eq!(rec.search("movie number", 3).len(), 3);
}

#[test]
fn with_a_half_life_the_latest_ratings_weigh_most() {
    let mut model = common::model();
    model.implicit.as_mut().unwrap().recency_half_life = 2.0;
    let rec = Recommender::new(model);
    let (a, b) = ((1u32, 5.0f32), (7u32, 5.0f32));
    let a_last = rec.recommend(&raw(&[b, a]), &RecommendOptions { count: 5, ..Default::default() }).unwrap();
    let b_last = rec.recommend(&raw(&[a, b]), &RecommendOptions { count: 5, ..Default::default() }).unwrap();
    let first_reason = |out: &movie_recs::Recommendations| match &out.items[0].reasons[0] {
        Reason::Rated { movie_id, .. } => *movie_id,
        other => panic!("expected a rated reason, got {other:?}"),
    };
    assert_eq!(first_reason(&a_last), 1, "the latest rating explains the top pick");
    assert_eq!(first_reason(&b_last), 7, "the latest rating explains the top pick");
    // Without the decay, order does not matter.
    let rec = Recommender::new(common::model());
    let x = rec.recommend(&raw(&[b, a]), &RecommendOptions::default()).unwrap();
    let y = rec.recommend(&raw(&[a, b]), &RecommendOptions::default()).unwrap();
    assert_eq!(x.items.iter().map(|i| i.movie_id).collect::<Vec<_>>(), y.items.iter().map(|i| i.movie_id).collect::<Vec<_>>());
}

#[test]
fn similar_movies_are_the_neighbour_table_best_first_and_never_the_movie_itself() {
    let rec = Recommender::new(common::model());
    let (method, similar) = rec.similar_movies(MovieId(5), 10, None).unwrap();
    assert_eq!(method, Method::ItemKnn);
    assert_eq!(similar.len(), 10);
    assert!(similar.iter().all(|(m, _)| m.movie_id != 5));
    assert!(similar.windows(2).all(|w| w[0].1 >= w[1].1));
    assert!(matches!(rec.similar_movies(MovieId(9999), 5, None), Err(Error::UnknownMovie(9999))));
    // The item-kNN method recommends neighbours of what was rated, explained by that rating.
    let out = rec.recommend(&raw(&[(5, 5.0)]), &RecommendOptions { count: 3, method: Method::ItemKnn, ..Default::default() }).unwrap();
    let top: Vec<u32> = out.items.iter().map(|i| i.movie_id).collect();
    assert_eq!(top, similar.iter().take(3).map(|(m, _)| m.movie_id).collect::<Vec<_>>());
    assert!(out.items.iter().all(|i| matches!(&i.reasons[0], Reason::Rated { movie_id: 5, .. })));
}

#[test]
fn a_factor_only_model_refuses_the_other_methods_and_serves_hybrid_as_mf() {
    let mut model = common::model();
    model.neighbours = None;
    model.content = None;
    model.users = None;
    model.neural = None;
    let rec = Recommender::new(model);
    let given = user_ratings(4);
    let err = rec.recommend(&given, &RecommendOptions { method: Method::Neural, ..Default::default() }).unwrap_err();
    assert!(err.to_string().contains("neural needs a model with an autoencoder"), "{err}");
    let err = rec.recommend(&given, &RecommendOptions { method: Method::ItemKnn, ..Default::default() }).unwrap_err();
    assert!(err.to_string().contains("itemKnn"), "{err}");
    let err = rec.recommend(&given, &RecommendOptions { method: Method::Content, ..Default::default() }).unwrap_err();
    assert!(err.to_string().contains("content"), "{err}");
    let err = rec.recommend(&given, &RecommendOptions { method: Method::UserKnn, ..Default::default() }).unwrap_err();
    assert!(err.to_string().contains("userKnn"), "{err}");
    let hybrid = rec.recommend(&given, &RecommendOptions { method: Method::Hybrid, ..Default::default() }).unwrap();
    let mf = rec.recommend(&given, &RecommendOptions { method: Method::Mf, ..Default::default() }).unwrap();
    assert_eq!(hybrid, mf);
}

#[test]
fn option_field_names_match_what_serde_reads() {
    let json = serde_json::to_value(RecommendOptions::default()).unwrap();
    let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    let mut fields = RecommendOptions::FIELDS.to_vec();
    fields.sort();
    assert_eq!(keys, fields);
}

#[test]
fn content_covers_unrated_movies_and_explains_with_their_attributes() {
    // Movie 201 has metadata but no rating: only the content method can reach it.
    let mut movies = common::movies();
    movies.push(movie_recs::data::MovieRecord {
        id: MovieId(201),
        title: "Nobody rated me".into(),
        year: Some(2001),
        genres: vec!["Horror".into()],
        keywords: vec!["theme 3".into()],
        ..Default::default()
    });
    let model =
        movie_recs::train::build_model("synthetic", &movies, &common::tags(), &common::ratings(), &common::settings(FactorStorage::F32))
            .unwrap();
    let rec = Recommender::from_bytes(&model.to_bytes().unwrap()).unwrap();
    let row = rec.row(MovieId(201)).expect("unrated movies are in the catalogue");
    assert_eq!(rec.model().movies[row].rating_count, 0);
    // "More like this" for it falls back to content, and finds movies sharing its attributes.
    let (method, similar) = rec.similar_movies(MovieId(201), 5, None).unwrap();
    assert_eq!(method, Method::Content);
    assert!(rec.similar_movies(MovieId(201), 5, Some(Method::ItemKnn)).unwrap().1.is_empty(), "nobody rated it: no neighbours");
    assert!(rec.similar_movies(MovieId(5), 5, Some(Method::Mf)).is_err());
    let (method, by_content) = rec.similar_movies(MovieId(5), 5, Some(Method::Content)).unwrap();
    assert_eq!((method, by_content.len()), (Method::Content, 5));
    assert!(similar.iter().all(|(m, _)| m.genres.contains(&"Horror".to_string()) || (m.movie_id % 7 == 3)));
    // Horror fans get it from the content method, never from the collaborative ones.
    let horror: Vec<(u32, f32)> =
        common::movies().iter().filter(|m| m.genres.contains(&"Horror".to_string())).take(6).map(|m| (m.id.0, 5.0)).collect();
    let all = RecommendOptions { count: 300, ..Default::default() };
    let content = rec.recommend(&raw(&horror), &RecommendOptions { method: Method::Content, ..all.clone() }).unwrap();
    assert!(content.items.iter().any(|i| i.movie_id == 201));
    let reason = &content.items.iter().find(|i| i.movie_id == 201).unwrap().reasons[0];
    assert!(matches!(reason, Reason::Attributes { names } if names.contains(&"Horror".to_string())), "{reason:?}");
    for method in [Method::Mf, Method::ItemKnn, Method::Hybrid, Method::Popular] {
        let out = rec.recommend(&raw(&horror), &RecommendOptions { method, ..all.clone() }).unwrap();
        assert!(out.items.iter().all(|i| i.movie_id != 201), "{method:?} recommended an unrated movie");
    }
}

#[test]
fn user_knn_finds_the_visitors_twin_among_training_users() {
    let rec = Recommender::new(common::model());
    // Folding in most of user 42's ratings: user 42 is among the nearest viewers, and what the
    // method recommends is explained by how many similar viewers rated it.
    let all = user_ratings(42);
    let given = &all[..all.len() - 5];
    let out = rec.recommend(given, &RecommendOptions { count: 10, method: Method::UserKnn, ..Default::default() }).unwrap();
    assert_eq!(out.items.len(), 10);
    for item in &out.items {
        assert!(matches!(item.reasons[0], Reason::SimilarViewers { rated, .. } if rated > 0), "{:?}", item.reasons);
    }
    let pool = rec.model().users.as_ref().unwrap();
    let index = pool.index(rec.model().movies.len());
    let rated: Vec<(usize, f32)> = given.iter().map(|g| (rec.row(MovieId(g.movie_id as u32)).unwrap(), g.rating as f32)).collect();
    let neighbours = pool.neighbours(&index, &rated);
    let user_42 = 41; // pool users are the training users in id order
    assert_eq!(neighbours[0].0, user_42, "the visitor's twin comes first: {:?}", &neighbours[..3]);
    assert!(neighbours.windows(2).all(|w| w[0].1 >= w[1].1));
}

#[test]
fn int8_scoring_matches_the_f32_dot_products() {
    let model = common::model_stored(FactorStorage::Int8);
    let m = &model.implicit.as_ref().unwrap().item_factors;
    let v: Vec<f32> = (0..m.cols()).map(|i| (i as f32 * 0.9).sin()).collect();
    let fast = m.dot_all(&v);
    let max = (0..m.rows()).map(|r| movie_recs::fold_in::dot(m.row(r), &v).abs()).fold(0.0f32, f32::max);
    for (r, f) in fast.iter().enumerate() {
        let exact = movie_recs::fold_in::dot(m.row(r), &v);
        assert!((f - exact).abs() <= 1e-3 * max, "row {r}: {f} vs {exact}");
    }
    assert!(m.dot_all(&vec![0.0; m.cols()]).iter().all(|&x| x == 0.0));
}

#[test]
fn the_neighbour_correction_moves_predicted_stars_towards_how_the_neighbours_were_rated() {
    let mut model = common::model();
    let target = MovieId(5);
    let row = model.movies.iter().position(|m| m.id == target).unwrap();
    let neighbour_ids: Vec<u32> = model.neighbours.as_ref().unwrap().of(row).take(5).map(|(j, _)| model.movies[j].id.0).collect();
    let loved: Vec<(u32, f32)> = neighbour_ids.iter().map(|&m| (m, 5.0)).collect();
    let hated: Vec<(u32, f32)> = neighbour_ids.iter().map(|&m| (m, 0.5)).collect();
    let predict = |model: &Model, ratings: &[(u32, f32)]| {
        let rec = Recommender::new(model.clone());
        rec.predict(&rec.fold_in(&raw(ratings)), &[target], Method::Mf)[0].unwrap()
    };
    let (with_love, with_hate) = (predict(&model, &loved), predict(&model, &hated));
    model.neighbours.as_mut().unwrap().rating_weight = 0.0;
    let (plain_love, plain_hate) = (predict(&model, &loved), predict(&model, &hated));
    assert!(with_love >= plain_love, "{with_love} < {plain_love}");
    assert!(with_hate <= plain_hate, "{with_hate} > {plain_hate}");
    assert!(with_love - with_hate > plain_love - plain_hate);
}

#[test]
fn als_row_solves_are_exact_on_small_data_and_conjugate_gradient_on_large_unless_set() {
    use movie_recs::train::{cg_steps_for, LARGE_RATINGS};
    assert_eq!(cg_steps_for(None, 100_000), 0);
    assert_eq!(cg_steps_for(None, LARGE_RATINGS + 1), 3);
    assert_eq!(cg_steps_for(Some(0), LARGE_RATINGS + 1), 0, "an explicit setting wins");
    let resolved = common::settings(FactorStorage::F32).for_ratings(LARGE_RATINGS + 1);
    assert_eq!((resolved.explicit.cg_steps, resolved.implicit.unwrap().cg_steps), (Some(3), Some(3)));
}

#[test]
fn the_core_loads_from_the_first_bytes_and_the_extras_attach_when_the_rest_arrives() {
    let model = common::model();
    let bytes = model.to_bytes().unwrap();
    // A page feeds growing prefixes: no answer before the header, the core's end after it.
    assert_eq!(Model::core_length(&bytes[..10]).unwrap(), None);
    assert!(matches!(Model::core_length(b"<!DOC"), Err(Error::BadMagic { .. })), "an HTML page fails at once");
    let core_len = Model::core_length(&bytes[..movie_recs::model::HEADER_LEN]).unwrap().unwrap();
    let (core, _) = model.sections().unwrap();
    assert_eq!(core_len, movie_recs::model::HEADER_LEN + core.len());
    assert!(core_len < bytes.len() / 2, "the core is the small part: {core_len} of {}", bytes.len());
    assert!(matches!(Model::core_from_bytes(&bytes[..core_len - 1]), Err(Error::Truncated { .. })));

    let mut early = Recommender::from_core_bytes(&bytes[..core_len]).unwrap();
    assert!(!early.model().has_extras());
    assert_eq!(early.model().movies, model.movies);
    assert_eq!(early.model().explicit, model.explicit);
    let full = Recommender::from_bytes(&bytes).unwrap();
    let ratings = user_ratings(7);
    let ids = |r: &Recommender, method| {
        let opts = RecommendOptions { method, ..RecommendOptions::default() };
        r.recommend(&ratings, &opts).unwrap().items.iter().map(|i| i.movie_id).collect::<Vec<_>>()
    };
    // Before the extras the hybrid is the factor models; the other methods say what is missing.
    assert_eq!(early.resolve(Method::Hybrid).unwrap(), Method::Mf);
    assert_eq!(ids(&early, Method::Hybrid), ids(&full, Method::Mf));
    assert!(early.recommend(&ratings, &RecommendOptions { method: Method::Neural, ..Default::default() }).is_err());

    // A truncated or corrupt rest is a clear error and leaves the core working.
    assert!(matches!(early.attach_extras(&bytes[..bytes.len() - 1]), Err(Error::Truncated { .. })));
    let mut corrupt = bytes.clone();
    *corrupt.last_mut().unwrap() ^= 1;
    assert!(matches!(early.attach_extras(&corrupt), Err(Error::Checksum { .. })));
    assert!(!early.model().has_extras());
    assert_eq!(ids(&early, Method::Hybrid), ids(&full, Method::Mf));

    early.attach_extras(&bytes).unwrap();
    assert_eq!(early.model(), full.model());
    for method in [Method::Hybrid, Method::UserKnn, Method::Neural] {
        assert_eq!(ids(&early, method), ids(&full, method), "{method:?}");
    }
}

#[test]
fn movie_metadata_round_trips_through_the_column_layout() {
    let mut model = common::model();
    model.movies[0].year = None;
    model.movies[1].imdb_id = None;
    model.movies[2].tmdb_id = Some(0);
    model.movies[3].imdb_id = Some(u32::MAX);
    model.movies[4].title = "Amélie (Le Fabuleux Destin d'Amélie Poulain)".into();
    model.movies[5].rating_mean = movie_recs::model::round_mean(3.27183);
    model.movies.swap(6, 7); // ids need not ascend
    let n = model.movies.len();
    model.explicit.item_bias.truncate(n);
    assert_eq!(Model::from_bytes(&model.to_bytes().unwrap()).unwrap().movies, model.movies);
}

#[test]
fn int4_storage_keeps_half_a_byte_a_value_and_one_bit_for_an_empty_row() {
    let f32_model = common::model();
    let mut int4 = common::model_stored(FactorStorage::Int4);
    let (a, b) = (f32_model.explicit.item_factors.as_slice(), int4.explicit.item_factors.as_slice());
    let k = f32_model.explicit.item_factors.cols();
    for (row, (x, y)) in a.chunks(k).zip(b.chunks(k)).enumerate() {
        let max = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        // Half a level of rounding, plus the scale's bf16 rounding (8 bits) over 7 levels.
        let bound = max / 7.0 * 0.5 + max * 7.0 / 256.0 + 1e-6;
        for (u, v) in x.iter().zip(y) {
            assert!((u - v).abs() <= bound, "row {row}: {u} vs {v} (bound {bound})");
        }
    }
    assert_eq!(Model::from_bytes(&int4.to_bytes().unwrap()).unwrap(), int4, "the in-memory int4 model equals the reloaded one");
    let int8 = common::model_stored(FactorStorage::Int8);
    let (size4, size8) = (int4.to_bytes().unwrap().len(), int8.to_bytes().unwrap().len());
    let rows = int4.movies.len();
    let values = rows * (k + int4.implicit.as_ref().unwrap().item_factors.cols());
    assert!(size8 - size4 >= values / 2 + 2 * rows * 2 - 64, "int4 saved {} bytes on {values} values", size8 - size4);

    // Rows of zeros cost one bit, score 0, and come back as zeros.
    let before = int4.to_bytes().unwrap().len();
    let m = &int4.explicit.item_factors;
    let (rows, cols) = (m.rows(), m.cols());
    let mut data = m.as_slice().to_vec();
    data[..10 * cols].iter_mut().for_each(|v| *v = 0.0);
    int4.explicit.item_factors =
        movie_recs::model::FactorMatrix::new(rows, cols, data, FactorStorage::F32).unwrap().with_storage(FactorStorage::Int4);
    let after = int4.to_bytes().unwrap().len();
    assert_eq!(before - after, 10 * (cols.div_ceil(2) + 2), "ten empty rows save their values and scales");
    let reloaded = Model::from_bytes(&int4.to_bytes().unwrap()).unwrap();
    assert!(reloaded.explicit.item_factors.as_slice()[..10 * cols].iter().all(|&v| v == 0.0));
    let v: Vec<f32> = (0..cols).map(|i| (i as f32).cos()).collect();
    let scores = reloaded.explicit.item_factors.dot_all(&v);
    assert!(scores[..10].iter().all(|&s| s == 0.0));
    let m = &reloaded.explicit.item_factors;
    for (r, score) in scores.iter().enumerate().skip(10) {
        let exact = movie_recs::fold_in::dot(m.row(r), &v);
        assert!((score - exact).abs() <= 1e-3 * exact.abs().max(1.0), "row {r}: {score} vs {exact}");
    }
}

#[test]
fn movies_with_too_few_training_ratings_keep_no_factors() {
    let mut s = common::settings(FactorStorage::F32);
    s.factor_min_ratings = 40;
    let ratings = common::ratings();
    let model = movie_recs::train::build_model("synthetic", &common::movies(), &common::tags(), &ratings, &s).unwrap();
    let count = |id: MovieId| ratings.iter().filter(|r| r.movie == id).count();
    let (mut kept, mut dropped) = (0, 0);
    for (row, m) in model.movies.iter().enumerate() {
        let zero = model.explicit.item_factors.row(row).iter().all(|&v| v == 0.0)
            && model.implicit.as_ref().unwrap().item_factors.row(row).iter().all(|&v| v == 0.0);
        assert_eq!(zero, count(m.id) < 40, "movie {} with {} ratings", m.id.0, count(m.id));
        if zero {
            dropped += 1
        } else {
            kept += 1
        }
    }
    assert!(kept > 0 && dropped > 0, "the fixture has movies on both sides of 40 ratings ({kept} kept, {dropped} dropped)");
}
