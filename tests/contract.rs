//! The runtime's contract, on a small deterministic fixture: every method passes the same
//! checks (in the style of implicit's `RecommenderBaseTestMixin`), then each method's own
//! behaviour, the options, filters and bad input.
#![cfg(feature = "train")]

mod common;

use std::collections::HashSet;

use common::{raw, user_ratings};
use movie_recs::rank::SimilarMovies;
use movie_recs::{Error, FactorStorage, Method, Model, MovieId, RawRating, Reason, RecommendOptions, Recommender, SkipReason};

/// What every method must do, whatever it is: scores cover the catalogue and are finite;
/// fold-in is deterministic; lists are sorted, unique and never hold a movie the visitor rated;
/// where the registry says the method's reasons are exact, a movie's score minus its score for
/// a visitor without ratings is the sum of the rated movies' contributions.
fn method_contract(method: Method) {
    let rec = Recommender::new(common::model());
    let movies = rec.model().catalogue.len();
    let nobody = rec.fold_in(&[]);
    for user in [3u32, 50, 222, 299] {
        let given = user_ratings(user);
        let seen: HashSet<u32> = given.iter().map(|r| r.movie_id as u32).collect();
        let (a, b) = (rec.fold_in(&given), rec.fold_in(&given));
        let scores = rec.scores(&a, method).unwrap();
        assert_eq!(scores.len(), movies, "{method:?}: a score for every movie");
        assert!(scores.iter().all(|s| s.is_finite()), "{method:?}: finite scores");
        assert!(scores.iter().zip(rec.scores(&b, method).unwrap()).all(|(x, y)| x.to_bits() == y.to_bits()), "{method:?}: deterministic");
        let opts = RecommendOptions { count: 40, method, ..Default::default() };
        let out = rec.recommend_for(&a, &opts).unwrap();
        assert_eq!(out, rec.recommend_for(&b, &opts).unwrap(), "{method:?}: same list for the same ratings");
        let ids: Vec<u32> = out.items.iter().map(|i| i.movie.movie_id).collect();
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len(), "{method:?}: unique");
        assert!(ids.iter().all(|id| !seen.contains(id)), "{method:?}: a rated movie came back");
        assert!(out.items.windows(2).all(|w| w[0].score >= w[1].score), "{method:?}: best first");
        let entry = method.entry();
        for item in out.items.iter().take(10) {
            let id = MovieId(item.movie.movie_id);
            let parts = rec.contributions(&a, method, id).unwrap();
            assert_eq!(parts.is_some(), entry.decomposes || matches!(method, Method::Hybrid | Method::Neural), "{method:?}");
            if !entry.decomposes {
                continue;
            }
            let row = rec.row(id).unwrap();
            let sum: f64 = parts.unwrap().iter().map(|&(_, c)| c).sum();
            let base = rec.scores(&nobody, method).unwrap()[row] as f64;
            let score = scores[row] as f64;
            assert!((score - base - sum).abs() <= 1e-4 * score.abs().max(1.0), "{method:?} movie {}: {score} - {base} != {sum}", id.0);
        }
    }
}

macro_rules! contract {
    ($($name:ident: $method:expr),* $(,)?) => {$(
        #[test]
        fn $name() {
            method_contract($method);
        }
    )*};
}

contract! {
    hybrid_keeps_the_method_contract: Method::Hybrid,
    mf_keeps_the_method_contract: Method::Mf,
    item_knn_keeps_the_method_contract: Method::ItemKnn,
    neural_keeps_the_method_contract: Method::Neural,
    user_knn_keeps_the_method_contract: Method::UserKnn,
    content_keeps_the_method_contract: Method::Content,
    ease_keeps_the_method_contract: Method::Ease,
    popular_keeps_the_method_contract: Method::Popular,
}

#[test]
fn every_method_has_a_contract_test() {
    let source = include_str!("contract.rs");
    for e in &movie_recs::methods::REGISTRY {
        assert!(source.contains(&format!("Method::{:?},", e.method)), "{:?} has no contract test", e.method);
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
        let ids: HashSet<u32> = out.items.iter().map(|i| i.movie.movie_id).collect();
        assert_eq!(ids.len(), 25, "unique");
        assert!(ids.is_disjoint(&seen), "a rated movie came back");
        assert!(out.items.windows(2).all(|w| w[0].score >= w[1].score), "sorted by score");
        for item in &out.items {
            assert!(item.predicted_rating.is_some_and(|s| (0.5..=5.0).contains(&s)), "{:?}", item.predicted_rating);
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
                        let row = rec.row(MovieId(item.movie.movie_id)).unwrap();
                        let content = rec.model().extras.content.as_ref().unwrap();
                        let own: Vec<&str> = content.of(row).map(|(f, _)| content.display_name(f)).collect();
                        assert!(!names.is_empty() && names.iter().all(|n| own.contains(&n.as_str())), "{names:?} not among {own:?}");
                    }
                    Reason::SimilarViewers { rated, liked } => assert!(*rated > 0 && liked <= rated),
                    Reason::Popular { .. } => {}
                    Reason::Seen { movie_id, .. } => panic!("no movie was marked seen, yet {movie_id} is cited as seen"),
                }
            }
        }
    }
}

#[test]
fn bad_ratings_are_skipped_and_reported_and_the_last_duplicate_wins() {
    let rec = Recommender::new(common::model());
    let mut given = raw(&[(1, 4.0), (2, 3.0)]);
    given.push(RawRating { movie_id: 999_999.0, rating: 4.0, seen: false });
    given.push(RawRating { movie_id: 3.0, rating: f64::NAN, seen: false });
    given.push(RawRating { movie_id: 4.0, rating: 7.5, seen: false });
    given.push(RawRating { movie_id: 5.5, rating: 3.0, seen: false });
    given.push(RawRating { movie_id: -1.0, rating: 3.0, seen: false });
    given.push(RawRating { movie_id: 1.0, rating: 2.0, seen: false });
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
    assert!(out.items.iter().all(|i| ![1, 2, 3, 4].contains(&i.movie.movie_id)));
}

#[test]
fn no_ratings_gives_a_labelled_popular_cold_start() {
    let rec = Recommender::new(common::model());
    let out = rec.recommend(&[], &RecommendOptions::default()).unwrap();
    assert!(out.cold_start);
    assert_eq!(out.items.len(), 10);
    assert!(out.items.iter().all(|i| matches!(i.reasons[..], [Reason::Popular { .. }])));
    let popular: Vec<u32> = rec.popular(10).iter().map(|m| m.movie_id).collect();
    assert_eq!(out.items.iter().map(|i| i.movie.movie_id).collect::<Vec<_>>(), popular);
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
    let horror = model.catalogue.genre_names.iter().position(|g| g == "Horror").unwrap();
    let eligible = model
        .catalogue
        .movies
        .iter()
        .filter(|m| m.genres & (1 << horror) != 0 && (1960..=1990).contains(&m.year.unwrap()))
        .filter(|m| !given.iter().any(|g| g.movie_id as u32 == m.id.0))
        .count();
    assert_eq!(out.items.len(), eligible.min(10));
    assert!(out.items.len() == 10, "the fixture has enough horror movies in range: {eligible}");
    for item in &out.items {
        assert!(item.movie.genres.iter().any(|g| g == "Horror"));
        assert!((1960..=1990).contains(&item.movie.year.unwrap()));
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
fn search_ignores_case_accents_and_ranks_prefix_matches_first() {
    let mut model = common::model();
    model.catalogue.movies[0].title = "Amélie".into();
    model.catalogue.movies[1].title = "The Return of Amelie".into();
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
    model.mf.implicit.as_mut().unwrap().recency_half_life = 2.0;
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
    assert_eq!(x.items.iter().map(|i| i.movie.movie_id).collect::<Vec<_>>(), y.items.iter().map(|i| i.movie.movie_id).collect::<Vec<_>>());
}

#[test]
fn similar_movies_are_the_neighbour_table_best_first_and_never_the_movie_itself() {
    let rec = Recommender::new(common::model());
    let SimilarMovies { method, items: similar } = rec.similar_movies(MovieId(5), 10, None).unwrap();
    assert_eq!(method, Method::ItemKnn);
    assert_eq!(similar.len(), 10);
    assert!(similar.iter().all(|s| s.movie.movie_id != 5));
    assert!(similar.windows(2).all(|w| w[0].similarity >= w[1].similarity));
    assert!(matches!(rec.similar_movies(MovieId(9999), 5, None), Err(Error::UnknownMovie(9999))));
    // The item-kNN method recommends neighbours of what was rated, explained by that rating.
    let out = rec.recommend(&raw(&[(5, 5.0)]), &RecommendOptions { count: 3, method: Method::ItemKnn, ..Default::default() }).unwrap();
    let top: Vec<u32> = out.items.iter().map(|i| i.movie.movie_id).collect();
    assert_eq!(top, similar.iter().take(3).map(|s| s.movie.movie_id).collect::<Vec<_>>());
    assert!(out.items.iter().all(|i| matches!(&i.reasons[0], Reason::Rated { movie_id: 5, .. })));
}

#[test]
fn a_factor_only_model_refuses_the_other_methods_and_serves_hybrid_as_mf() {
    let mut model = common::model();
    model.extras.item_knn = None;
    model.extras.content = None;
    model.extras.user_knn = None;
    model.extras.neural = None;
    model.extras.ease = None;
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
    let err = rec.recommend(&given, &RecommendOptions { method: Method::Ease, ..Default::default() }).unwrap_err();
    assert!(err.to_string().contains("ease needs a model with EASE weights"), "{err}");
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
    let settings = common::settings(FactorStorage::F32).check().unwrap();
    let model = movie_recs::train::build_model("synthetic", &movies, &common::tags(), &common::ratings(), &settings).unwrap();
    let rec = Recommender::from_bytes(&model.to_bytes().unwrap()).unwrap();
    let row = rec.row(MovieId(201)).expect("unrated movies are in the catalogue");
    assert_eq!(rec.model().catalogue.movies[row].rating_count, 0);
    // "More like this" for it falls back to content, and finds movies sharing its attributes.
    let SimilarMovies { method, items: similar } = rec.similar_movies(MovieId(201), 5, None).unwrap();
    assert_eq!(method, Method::Content);
    assert!(rec.similar_movies(MovieId(201), 5, Some(Method::ItemKnn)).unwrap().items.is_empty(), "nobody rated it: no neighbours");
    assert!(rec.similar_movies(MovieId(5), 5, Some(Method::Mf)).is_err());
    let SimilarMovies { method, items: by_content } = rec.similar_movies(MovieId(5), 5, Some(Method::Content)).unwrap();
    assert_eq!((method, by_content.len()), (Method::Content, 5));
    assert!(similar.iter().all(|s| s.movie.genres.contains(&"Horror".to_string()) || (s.movie.movie_id % 7 == 3)));
    // Horror fans get it from the content method, never from the collaborative ones.
    let horror: Vec<(u32, f32)> =
        common::movies().iter().filter(|m| m.genres.contains(&"Horror".to_string())).take(6).map(|m| (m.id.0, 5.0)).collect();
    let all = RecommendOptions { count: 300, ..Default::default() };
    let content = rec.recommend(&raw(&horror), &RecommendOptions { method: Method::Content, ..all.clone() }).unwrap();
    assert!(content.items.iter().any(|i| i.movie.movie_id == 201));
    let reason = &content.items.iter().find(|i| i.movie.movie_id == 201).unwrap().reasons[0];
    assert!(matches!(reason, Reason::Attributes { names } if names.contains(&"Horror".to_string())), "{reason:?}");
    for method in [Method::Mf, Method::ItemKnn, Method::Hybrid, Method::Popular] {
        let out = rec.recommend(&raw(&horror), &RecommendOptions { method, ..all.clone() }).unwrap();
        assert!(out.items.iter().all(|i| i.movie.movie_id != 201), "{method:?} recommended an unrated movie");
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
    let pool = rec.model().extras.user_knn.as_ref().unwrap();
    let index = pool.by_movie(rec.model().catalogue.len());
    let rated: Vec<(usize, f32)> = given.iter().map(|g| (rec.row(MovieId(g.movie_id as u32)).unwrap(), g.rating as f32)).collect();
    let neighbours = pool.neighbours(index, &rated);
    let user_42 = 41; // pool users are the training users in id order
    assert_eq!(neighbours[0].0, user_42, "the visitor's twin comes first: {:?}", &neighbours[..3]);
    assert!(neighbours.windows(2).all(|w| w[0].1 >= w[1].1));
}

#[test]
fn the_neighbour_correction_moves_predicted_stars_towards_how_the_neighbours_were_rated() {
    let mut model = common::model();
    let target = MovieId(5);
    let row = model.catalogue.movies.iter().position(|m| m.id == target).unwrap();
    let neighbour_ids: Vec<u32> =
        model.extras.item_knn.as_ref().unwrap().of(row).take(5).map(|(j, _)| model.catalogue.movies[j].id.0).collect();
    let loved: Vec<(u32, f32)> = neighbour_ids.iter().map(|&m| (m, 5.0)).collect();
    let hated: Vec<(u32, f32)> = neighbour_ids.iter().map(|&m| (m, 0.5)).collect();
    let predict = |model: &Model, ratings: &[(u32, f32)]| {
        let rec = Recommender::new(model.clone());
        rec.predict(&rec.fold_in(&raw(ratings)), &[target], Method::Mf)[0].unwrap()
    };
    let (with_love, with_hate) = (predict(&model, &loved), predict(&model, &hated));
    model.extras.item_knn.as_mut().unwrap().rating_weight = 0.0;
    let (plain_love, plain_hate) = (predict(&model, &loved), predict(&model, &hated));
    assert!(with_love >= plain_love, "{with_love} < {plain_love}");
    assert!(with_hate <= plain_hate, "{with_hate} > {plain_hate}");
    assert!(with_love - with_hate > plain_love - plain_hate);
}

#[test]
fn excluded_movies_never_come_back_and_the_list_still_fills() {
    let rec = Recommender::new(common::model());
    let given = user_ratings(50);
    for method in [Method::Hybrid, Method::Mf, Method::Popular, Method::Content] {
        let first = rec.recommend(&given, &RecommendOptions { count: 10, method, ..Default::default() }).unwrap();
        let dismissed: Vec<u32> = first.items.iter().take(5).map(|i| i.movie.movie_id).collect();
        // Unknown and repeated ids are ignored, not errors.
        let exclude = [dismissed.clone(), vec![dismissed[0], 424_242, u32::MAX]].concat();
        let next = rec.recommend(&given, &RecommendOptions { count: 10, method, exclude, ..Default::default() }).unwrap();
        assert_eq!(next.items.len(), 10, "{method:?}: the list fills from further down");
        assert!(next.items.iter().all(|i| !dismissed.contains(&i.movie.movie_id)), "{method:?}");
        let kept: Vec<u32> = first.items.iter().skip(5).map(|i| i.movie.movie_id).collect();
        assert_eq!(next.items[..5].iter().map(|i| i.movie.movie_id).collect::<Vec<_>>(), kept, "{method:?}: the rest keep their order");
    }
    // Cold start respects it too.
    let cold = rec.recommend(&[], &RecommendOptions { count: 3, exclude: vec![rec.popular(1)[0].movie_id], ..Default::default() }).unwrap();
    assert!(cold.cold_start && cold.items[0].movie.movie_id == rec.popular(2)[1].movie_id);
    let err = rec.recommend(&[], &RecommendOptions { exclude: vec![1; 100_001], ..Default::default() }).unwrap_err();
    assert!(err.to_string().contains("100001 ids"), "{err}");
}

#[test]
fn reasons_never_cite_a_disliked_movie_as_liked() {
    let rec = Recommender::new(common::model());
    // Liked and disliked ratings of one user's movies: the disliked ones carry weight in the
    // models (a rating is a sign of interest), but a reason must not present them as liked.
    let mut given = user_ratings(222);
    for (i, r) in given.iter_mut().enumerate() {
        r.rating = if i % 2 == 0 { 5.0 } else { 1.0 };
    }
    let disliked: HashSet<u32> = given.iter().filter(|r| r.rating < 3.0).map(|r| r.movie_id as u32).collect();
    let mut cited = 0;
    for method in [Method::Hybrid, Method::Mf, Method::ItemKnn, Method::Neural, Method::Ease] {
        let out = rec.recommend(&given, &RecommendOptions { count: 30, method, ..Default::default() }).unwrap();
        for item in &out.items {
            for reason in &item.reasons {
                if let Reason::Rated { movie_id, rating, .. } = reason {
                    assert!(!disliked.contains(movie_id) && *rating >= 3.0, "{method:?} cites {movie_id} rated {rating}");
                    cited += 1;
                }
            }
        }
    }
    assert!(cited > 50, "liked movies are still cited ({cited})");
    // A visitor whose only rating is 1 star liked nothing: no rated reason at all.
    let out = rec.recommend(&raw(&[(1, 1.0)]), &RecommendOptions { count: 10, method: Method::ItemKnn, ..Default::default() }).unwrap();
    assert!(out.items.iter().flat_map(|i| &i.reasons).all(|r| !matches!(r, Reason::Rated { .. })));
}

#[test]
fn import_rows_match_the_fixture_by_id_and_by_title() {
    use movie_recs::matching::{Match, MatchedBy, Wanted};
    let rec = Recommender::new(common::model());
    let movies = &rec.model().catalogue.movies;
    let (a, b) = (&movies[3], &movies[7]);
    let rows = [
        Wanted { imdb_id: a.imdb_id, ..Wanted::default() },
        Wanted { title: Some(b.title.to_uppercase()), year: b.year.map(|y| y + 1), ..Wanted::default() },
        Wanted { title: Some("No Such Movie".into()), year: Some(1990), ..Wanted::default() },
    ];
    let out = rec.match_movies(&rows).unwrap();
    assert!(a.imdb_id.is_some(), "the fixture has IMDb ids");
    assert_eq!(out[0], Match::Matched { movie_id: a.id.0, by: MatchedBy::Imdb });
    assert_eq!(out[1], Match::Matched { movie_id: b.id.0, by: MatchedBy::Title });
    assert!(matches!(&out[2], Match::Unmatched { reason } if reason.contains("No Such Movie")));
    assert!(rec.match_movies(&vec![Wanted::default(); 200_001]).is_err());
}

#[test]
fn elicitation_never_asks_a_rated_or_unseen_movie_and_moves_after_an_answer() {
    use movie_recs::elicit::{popularity_entropy, Strategy};
    let rec = Recommender::new(common::model());
    let table = popularity_entropy(
        rec.model().catalogue.len(),
        common::ratings().iter().filter_map(|r| rec.row(r.movie).map(|row| (row, r.rating))),
    );
    let given = user_ratings(50);
    let (rated, unseen) = (&given[..6], [given[6].movie_id as u32, given[7].movie_id as u32, 999_999]);
    let asked_not: HashSet<u32> = rated.iter().map(|r| r.movie_id as u32).chain(unseen).collect();
    let visitor = rec.fold_in(rated);
    for strategy in Strategy::COMPARED {
        let rows = rec.questions_with(strategy, &visitor, &unseen, 30, Some(&table)).unwrap();
        assert_eq!(rows.len(), 30, "{strategy:?}: the list fills");
        let ids: Vec<u32> = rows.iter().map(|&r| rec.model().catalogue.movies[r].id.0).collect();
        assert!(ids.iter().all(|id| !asked_not.contains(id)), "{strategy:?} asked a rated or unseen movie: {ids:?}");
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len(), "{strategy:?}: unique");
        // Answering the first question (either way) takes it off the list.
        let first = ids[0];
        let after_unseen = rec.questions_with(strategy, &visitor, &[unseen[0], unseen[1], first], 30, Some(&table)).unwrap();
        assert!(after_unseen.iter().all(|&r| rec.model().catalogue.movies[r].id.0 != first), "{strategy:?}");
        let mut more = rated.to_vec();
        more.push(RawRating { movie_id: first as f64, rating: 4.0, seen: false });
        let after_rating = rec.questions_with(strategy, &rec.fold_in(&more), &unseen, 30, Some(&table)).unwrap();
        assert!(after_rating.iter().all(|&r| rec.model().catalogue.movies[r].id.0 != first), "{strategy:?}");
    }
    // The shipped call: summaries, the same rule, and a count out of range is an error.
    let shipped = rec.questions(&visitor, &unseen, 8).unwrap();
    assert!(shipped.len() == 8 && shipped.iter().all(|m| !asked_not.contains(&m.movie_id)));
    assert!(matches!(rec.questions(&visitor, &[], 0), Err(Error::InvalidOption { name: "count", .. })));
    assert!(matches!(rec.questions(&visitor, &[], 101), Err(Error::InvalidOption { name: "count", .. })));
}

#[test]
fn the_simulated_first_minute_scores_after_k_asked_and_once_n_were_answered() {
    use movie_recs::elicit::Strategy;
    use movie_recs::eval::elicitation::{simulate, Stop, MAX_ASKED, STOPS};
    use movie_recs::eval::TestUser;
    let rec = Recommender::new(common::model());
    let user = |id: u32, given: Vec<RawRating>| TestUser { user: id, given, hidden: vec![(MovieId(7), 5.0)], released_by: None };
    // Every movie known: each question is answered. None known: none is.
    let everything: Vec<RawRating> = (1..=200u32).map(|m| RawRating { movie_id: m as f64, rating: 4.0, seen: false }).collect();
    let points = simulate(&rec, Strategy::Popular, &[user(1, everything)], None).unwrap();
    assert_eq!(points.iter().map(|p| p.stop).collect::<Vec<_>>(), STOPS.to_vec());
    for p in &points {
        let (answered, asked) = match p.stop {
            Stop::Asked(k) => (k, k),
            Stop::Answered(n) => (n, n),
        };
        assert_eq!((p.answered, p.asked), (answered as f64, asked as f64), "{:?}", p.stop);
    }
    let points = simulate(&rec, Strategy::Popular, &[user(2, Vec::new())], None).unwrap();
    for p in &points {
        let asked = match p.stop {
            Stop::Asked(k) => k,
            Stop::Answered(_) => MAX_ASKED,
        };
        assert_eq!((p.answered, p.asked), (0.0, asked as f64), "{:?}: a visitor who has seen nothing is asked up to the cap", p.stop);
    }
}

#[test]
fn a_haven_t_seen_it_answer_moves_the_factor_strategies_away_from_the_movie() {
    use movie_recs::elicit::Strategy;
    let rec = Recommender::new(common::model());
    let visitor = rec.fold_in(&user_ratings(3)[..3]);
    let before = rec.questions_with(Strategy::LikelySeen, &visitor, &[], 20, None).unwrap();
    let first = rec.model().catalogue.movies[before[0]].id.0;
    let after = rec.questions_with(Strategy::LikelySeen, &visitor, &[first], 20, None).unwrap();
    // Not only the answered movie gone: the observed zero re-scores the others.
    assert_ne!(&after[..19], &before[1..20], "an unseen answer changed nothing but the first place");
}

#[test]
fn the_discover_control_at_familiar_is_todays_ranking_and_leans_to_less_popular_movies() {
    let rec = Recommender::new(common::model());
    let movies = &rec.model().catalogue.movies;
    let mut popularity_drop = 0i64;
    for user in [3u32, 50, 222] {
        let visitor = rec.fold_in(&user_ratings(user));
        let today = rec.recommend_for(&visitor, &RecommendOptions { count: 10, ..Default::default() }).unwrap();
        let familiar = rec.recommend_for(&visitor, &RecommendOptions { count: 10, discover: 0.0, ..Default::default() }).unwrap();
        assert_eq!(today, familiar);
        let scores = rec.scores(&visitor, Method::Hybrid).unwrap();
        let best = movie_recs::rank::top_k(
            (0..scores.len())
                .filter(|&r| movies[r].rating_count > 0 && !user_ratings(user).iter().any(|g| g.movie_id as u32 == movies[r].id.0))
                .map(|r| (r, scores[r])),
            10,
            |r| movies[r].id,
        );
        assert_eq!(
            today.items.iter().map(|i| i.movie.movie_id).collect::<Vec<_>>(),
            best.iter().map(|&(r, _)| movies[r].id.0).collect::<Vec<_>>()
        );
        let discover = rec.recommend_for(&visitor, &RecommendOptions { count: 10, discover: 0.8, ..Default::default() }).unwrap();
        assert_eq!(discover.items.len(), 10);
        let seen: HashSet<u32> = user_ratings(user).iter().map(|r| r.movie_id as u32).collect();
        assert!(discover.items.iter().all(|i| !seen.contains(&i.movie.movie_id)));
        let count = |l: &movie_recs::Recommendations| l.items.iter().map(|i| i.movie.rating_count as i64).sum::<i64>();
        popularity_drop += count(&today) - count(&discover);
    }
    assert!(popularity_drop > 0, "discover did not lean to less popular movies");
    for bad in [-0.1f32, 1.5, f32::NAN] {
        let err = rec.recommend(&user_ratings(3), &RecommendOptions { discover: bad, ..Default::default() }).unwrap_err();
        assert!(matches!(err, Error::InvalidOption { name: "discover", .. }), "{bad}: {err}");
    }
}

#[test]
fn the_discovery_curve_scores_the_lists_recommend_gives() {
    use movie_recs::eval::{discovery, split};
    let rec = Recommender::new(common::model());
    let test = split(&common::ratings(), 0, 5).test;
    let points = discovery::curve(&rec, Method::Hybrid, &test[..3], movie_recs::rank::DISCOVER_DIVERSITY).unwrap();
    assert_eq!(points.len(), discovery::SETTINGS.len());
    // Recompute the first user's novelty at 0.5 through recommend_for: the curve's shortcut
    // (scores once, re-ranked per setting) must be the page's list.
    let users = rec.model().info.users as f64;
    let movies = &rec.model().catalogue.movies;
    let at = discovery::SETTINGS.iter().position(|&d| d == 0.5).unwrap();
    let novelty: f64 = test[..3]
        .iter()
        .map(|u| {
            let exclude = u.given.iter().map(|g| g.movie_id as u32).collect();
            let list = rec
                .recommend_for(&rec.fold_in(&u.given), &RecommendOptions { count: 10, discover: 0.5, exclude, ..Default::default() })
                .unwrap();
            list.items
                .iter()
                .map(|i| -((movies[rec.row(MovieId(i.movie.movie_id)).unwrap()].rating_count.max(1) as f64) / users).log2())
                .sum::<f64>()
                / list.items.len() as f64
        })
        .sum::<f64>()
        / 3.0;
    assert!((points[at].novelty - novelty).abs() < 1e-9, "{} vs {novelty}", points[at].novelty);
    assert!(points[at].novelty > points[0].novelty);
}

#[test]
fn a_group_of_one_is_the_visitors_own_list_and_no_pick_is_one_a_member_rated() {
    use movie_recs::group::Aggregation;
    let rec = Recommender::new(common::model());
    for user in [3u32, 50, 222] {
        let given = user_ratings(user);
        let own: Vec<u32> = rec
            .recommend(&given, &RecommendOptions { count: 15, ..Default::default() })
            .unwrap()
            .items
            .iter()
            .map(|i| i.movie.movie_id)
            .collect();
        for aggregation in Aggregation::ALL {
            let group = rec
                .recommend_group(std::slice::from_ref(&given), &RecommendOptions { count: 15, ..Default::default() }, aggregation)
                .unwrap();
            let ids: Vec<u32> = group.items.iter().map(|i| i.movie.movie_id).collect();
            assert_eq!(ids, own, "user {user}, {aggregation:?}: a group of one is the single ranking");
        }
    }
    let members = vec![user_ratings(3), user_ratings(50), user_ratings(222), vec![]];
    let rated: HashSet<u32> = members.iter().flatten().map(|r| r.movie_id as u32).collect();
    for aggregation in Aggregation::ALL {
        let out =
            rec.recommend_group(&members, &RecommendOptions { count: 12, exclude: vec![1, 2], ..Default::default() }, aggregation).unwrap();
        assert_eq!(out.items.len(), 12);
        assert_eq!(out.members, 4);
        for p in &out.items {
            assert!(
                !rated.contains(&p.movie.movie_id) && p.movie.movie_id > 2,
                "{aggregation:?}: {} was rated or excluded",
                p.movie.movie_id
            );
            assert_eq!(p.predicted_ratings.len(), 4);
            assert!(p.serves.iter().all(|&m| m < 4));
        }
    }
    // Fair spreads the list: every member with ratings is served at least once in twelve picks.
    let fair = rec.recommend_group(&members[..3], &RecommendOptions { count: 12, ..Default::default() }, Aggregation::Fair).unwrap();
    for m in 0..3 {
        assert!(fair.items.iter().any(|p| p.serves.contains(&m)), "member {m} is never served");
    }
    for n in [0usize, 9] {
        let many = vec![user_ratings(3); n];
        assert!(matches!(
            rec.recommend_group(&many, &RecommendOptions::default(), Aggregation::Fair),
            Err(Error::InvalidOption { name: "members", .. })
        ));
    }
}

#[test]
fn synthetic_groups_cover_the_test_users_once_and_are_scored() {
    use movie_recs::eval::{group, split};
    let rec = Recommender::new(common::model());
    let test = split(&common::ratings(), 0, 5).test;
    for grouping in [group::Grouping::Random, group::Grouping::Similar] {
        let gs = group::groups(&rec, &test, 2, grouping);
        let members: Vec<usize> = gs.iter().flatten().copied().collect();
        assert_eq!(members.len(), test.len() / 2 * 2, "{grouping:?}");
        assert_eq!(members.iter().collect::<HashSet<_>>().len(), members.len(), "{grouping:?}: a user in two groups");
    }
    let points = group::evaluate_groups(&rec, &test[..12], &[2]).unwrap();
    assert_eq!(points.len(), 2 * 3);
    assert!(points.iter().all(|p| p.majority.iter().all(|v| (0.0..=1.0).contains(v))));
}

#[test]
fn reasons_cite_ratings_for_the_first_hundred_places_and_the_method_beyond() {
    use movie_recs::recommender::MAX_EXPLAINED;
    let rec = Recommender::new(common::model());
    let out = rec.recommend(&user_ratings(50), &RecommendOptions { count: 150, method: Method::ItemKnn, ..Default::default() }).unwrap();
    assert!(out.items.len() > MAX_EXPLAINED, "the fixture has enough movies");
    assert!(out.items.iter().all(|i| !i.reasons.is_empty()));
    assert!(out.items[..MAX_EXPLAINED].iter().any(|i| matches!(i.reasons[0], Reason::Rated { .. })));
    assert!(out.items[MAX_EXPLAINED..].iter().all(|i| !matches!(i.reasons[0], Reason::Rated { .. })), "a rating cited past place 100");
}

#[test]
fn a_movie_seen_but_not_rated_is_never_listed_ranks_as_a_mild_positive_in_its_place_and_is_named_as_watched() {
    // Without the explicit model in the ranking (as shipped), so that the ranking can be
    // compared with a rating's: the star model leaves a seen movie out.
    let mut model = common::model();
    model.mf.implicit.as_mut().unwrap().recency_half_life = 2.0;
    model.mf.implicit.as_mut().unwrap().explicit_weight = 0.0;
    let rec = Recommender::new(model);
    let options = RecommendOptions { count: 20, ..Default::default() };
    let ids = |r: &movie_recs::Recommendations| r.items.iter().map(|i| i.movie.movie_id).collect::<Vec<_>>();
    let seen = |id: u32| RawRating { movie_id: id as f64, rating: f64::NAN, seen: true };
    // A visitor whose mean is 3 stars: a seen movie (3.5) is among what they like.
    let plain = rec.recommend(&raw(&[(1, 3.0), (2, 3.0)]), &options).unwrap();
    let seen_id = plain.items[0].movie.movie_id;
    let with_seen = rec.recommend(&[raw(&[(1, 3.0)])[0], seen(seen_id), raw(&[(2, 3.0)])[0]], &options).unwrap();
    assert!(with_seen.items.iter().all(|i| i.movie.movie_id != seen_id), "a seen movie is never recommended");
    assert_eq!(with_seen.used_ratings, 2, "a seen movie is not a rating");
    assert_eq!(with_seen.skipped_count, 0, "its rating is not read");
    // The ranking is the one a 3.5-star rating (0.7 of the top) in the same place gives.
    let as_rating = rec.recommend(&raw(&[(1, 3.0), (seen_id, 3.5), (2, 3.0)]), &options).unwrap();
    assert_eq!(ids(&with_seen), ids(&as_rating));
    let excluded_only =
        rec.recommend(&raw(&[(1, 3.0), (2, 3.0)]), &RecommendOptions { exclude: vec![seen_id], ..options.clone() }).unwrap();
    assert_ne!(ids(&with_seen), ids(&excluded_only), "a seen movie counts, not only leaves the list");
    // Predicted stars ignore it: the same as without it, for every movie in both lists.
    for item in &with_seen.items {
        if let Some(p) = excluded_only.items.iter().find(|p| p.movie.movie_id == item.movie.movie_id) {
            assert_eq!(item.predicted_rating, p.predicted_rating, "{}", item.movie.movie_id);
        }
    }
    // A reason that cites it names it as watched, never as a rating.
    let cites: Vec<&Reason> = with_seen
        .items
        .iter()
        .flat_map(|i| &i.reasons)
        .filter(|r| matches!(r, Reason::Rated { movie_id, .. } | Reason::Seen { movie_id, .. } if *movie_id == seen_id))
        .collect();
    assert!(!cites.is_empty(), "the seen movie explains some pick");
    assert!(cites.iter().all(|r| matches!(r, Reason::Seen { .. })), "{cites:?}");
    // Rated later as well: the later entry wins (a rating), as for any repeated movie.
    let both = rec.recommend(&[seen(seen_id), raw(&[(seen_id, 1.0), (1, 3.0)])[0], raw(&[(1, 3.0)])[0]], &options).unwrap();
    assert_eq!(both.used_ratings, 2);
    assert!(both.items.iter().flat_map(|i| &i.reasons).all(|r| !matches!(r, Reason::Seen { .. })));
    // An unknown seen movie is skipped and reported like an unknown rating.
    let unknown = rec.recommend(&[seen(999_999)], &options).unwrap();
    assert_eq!(unknown.skipped_count, 1);
    assert!(unknown.cold_start);
}

/// EASE and the autoencoder weigh a visitor's latest liked movie most, an older one by the
/// recency floor plus the rest of its decay (the implicit model's half-life): EASE is linear in
/// its input, so a two-movie history's scores are the two one-movie histories' scores, the older
/// one scaled by exactly that weight. The autoencoder's encoding changes with the order.
#[test]
fn ease_and_the_autoencoder_weigh_the_latest_liked_movie_most() {
    use movie_recs::methods::mf::recency_decay;
    use movie_recs::methods::RECENCY_FLOOR;
    let mut settings = common::settings(FactorStorage::F32);
    settings.implicit.as_mut().unwrap().recency_half_life = 2.0;
    let rec = Recommender::new(common::train(&common::ratings(), &settings));
    let half_life = rec.model().mf.implicit.as_ref().unwrap().recency_half_life;
    let older = RECENCY_FLOOR + (1.0 - RECENCY_FLOOR) * recency_decay(half_life, 1);
    assert!(older > RECENCY_FLOOR && older < 1.0, "{older}");
    // Two movies the fixture's users liked (both in EASE's vocabulary: each scores something alone).
    let ease = |pairs: &[(u32, f32)]| rec.scores(&rec.fold_in(&raw(pairs)), Method::Ease).unwrap();
    let liked: Vec<u32> = user_ratings(3).iter().filter(|r| r.rating >= 4.0).map(|r| r.movie_id as u32).collect();
    let (a, b) = liked
        .iter()
        .flat_map(|&a| liked.iter().map(move |&b| (a, b)))
        .find(|&(a, b)| a != b && ease(&[(a, 5.0)]).iter().any(|&s| s != 0.0) && ease(&[(b, 5.0)]).iter().any(|&s| s != 0.0))
        .expect("two liked movies with EASE weights");
    let (alone_a, alone_b) = (ease(&[(a, 5.0)]), ease(&[(b, 5.0)]));
    let a_then_b = ease(&[(a, 5.0), (b, 5.0)]);
    let b_then_a = ease(&[(b, 5.0), (a, 5.0)]);
    for i in 0..a_then_b.len() {
        assert!((a_then_b[i] - (older * alone_a[i] + alone_b[i])).abs() <= 1e-5, "movie row {i}");
        assert!((b_then_a[i] - (alone_a[i] + older * alone_b[i])).abs() <= 1e-5, "movie row {i}");
    }
    assert_ne!(a_then_b, b_then_a);
    let neural = |pairs: &[(u32, f32)]| rec.scores(&rec.fold_in(&raw(pairs)), Method::Neural).unwrap();
    assert_ne!(neural(&[(a, 5.0), (b, 5.0)]), neural(&[(b, 5.0), (a, 5.0)]));
    // Without a half-life (the fixture's default) the order does not matter.
    let flat = Recommender::new(common::model());
    let ease = |pairs: &[(u32, f32)]| flat.scores(&flat.fold_in(&raw(pairs)), Method::Ease).unwrap();
    assert!(ease(&[(a, 5.0), (b, 5.0)]).iter().zip(ease(&[(b, 5.0), (a, 5.0)])).all(|(x, y)| (x - y).abs() <= 1e-6));
}

#[test]
fn five_of_the_visitor_s_movies_folds_in_the_five_its_rule_picks() {
    use movie_recs::eval::elicitation::{five_of, FiveOf};
    use movie_recs::eval::TestUser;
    let rec = Recommender::new(common::model());
    let movies = &rec.model().catalogue.movies;
    let given = user_ratings(3);
    assert!(given.len() > 8, "the fixture user needs more than five ratings");
    let count = |g: &RawRating| movies[rec.row(MovieId(g.movie_id as u32)).unwrap()].rating_count;
    // The list a set of five gives (every given movie excluded, as in the protocol), as hidden
    // ratings: the rule that picks that set scores 1.
    let list_of = |five: &[RawRating], given: &[RawRating]| -> Vec<(MovieId, f32)> {
        let exclude = given.iter().map(|g| g.movie_id as u32).collect();
        let options = RecommendOptions { count: 10, method: Method::Hybrid, exclude, ..Default::default() };
        rec.recommend(five, &options).unwrap().items.iter().map(|i| (MovieId(i.movie.movie_id), 5.0)).collect()
    };
    let latest: Vec<RawRating> = given[given.len() - 5..].to_vec();
    let mut by_count: Vec<(usize, RawRating)> = given.iter().copied().enumerate().collect();
    by_count.sort_by(|a, b| count(&b.1).cmp(&count(&a.1)).then(a.1.movie_id.total_cmp(&b.1.movie_id)));
    by_count.truncate(5);
    by_count.sort_by_key(|&(at, _)| at);
    let most_rated: Vec<RawRating> = by_count.into_iter().map(|(_, g)| g).collect();
    assert_ne!(latest, most_rated, "the fixture must tell the rules apart");
    for (rule, five) in [(FiveOf::Latest, &latest), (FiveOf::MostRated, &most_rated)] {
        let hidden = list_of(five, &given);
        let users = [
            TestUser { user: 3, given: given.clone(), hidden, released_by: None },
            TestUser { user: 4, given: given.clone(), hidden: Vec::new(), released_by: None },
        ];
        let scores = five_of(&rec, rule, &users).unwrap();
        assert_eq!(scores.len(), 1, "{rule:?}: a user with nothing relevant hidden is not scored");
        assert!((scores[0] - 1.0).abs() < 1e-9, "{rule:?}: {}", scores[0]);
    }
    // Five movies or fewer: every rule picks them all, in the visitor's order.
    let few = TestUser { user: 5, given: given[..4].to_vec(), hidden: list_of(&given[..4], &given[..4]), released_by: None };
    for rule in FiveOf::ALL {
        assert!((five_of(&rec, rule, std::slice::from_ref(&few)).unwrap()[0] - 1.0).abs() < 1e-9, "{rule:?}");
    }
}
