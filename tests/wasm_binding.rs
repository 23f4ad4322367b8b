//! The JS binding, run with wasm-bindgen-test (in Node): values cross as plain JS objects, bad
//! input becomes a JS `Error` with the core's message, bad ratings are reported, not thrown.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Object, Reflect};
use movie_recs::catalogue::{Catalogue, Movie, MovieId};
use movie_recs::factors::{FactorMatrix, FactorStorage};
use movie_recs::methods::hybrid::{BlendWeights, HybridWeights};
use movie_recs::methods::item_knn::ItemKnn;
use movie_recs::methods::mf::{ExplicitFactors, ImplicitFactors, Mf, RegRule};
use movie_recs::methods::{Extras, Method};
use movie_recs::model::{Model, ModelInfo};
use movie_recs::wasm::Recommender;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

/// Bytes as the page passes them: a `Uint8Array`.
fn js_bytes(b: &[u8]) -> JsValue {
    js_sys::Uint8Array::from(b).into()
}

/// Six movies, two factors: 1-3 load on factor 0, 4-6 on factor 1. Titles carry markup.
fn model_bytes() -> Vec<u8> {
    let movies: Vec<Movie> = (1..=6u32)
        .map(|id| Movie {
            id: MovieId(id),
            title: if id == 6 { "<img src=x onerror=alert(1)>".into() } else { format!("Film {id}") },
            year: Some(1990 + id as u16),
            genres: if id <= 3 { 1 } else { 2 },
            imdb_id: None,
            tmdb_id: Some(id * 10),
            rating_count: 10 * id,
            rating_mean: 3.5,
        })
        .collect();
    let factors: Vec<f32> = (1..=6).flat_map(|id| if id <= 3 { [1.0, 0.0] } else { [0.0, 1.0] }).collect();
    let m = |storage| FactorMatrix::new(6, 2, factors.clone(), storage).unwrap();
    Model {
        info: ModelInfo {
            dataset: "handmade".into(),
            users: 3,
            ratings: 210,
            rating_min: 0.5,
            rating_max: 5.0,
            trainer: "by hand".into(),
            learned: None,
        },
        catalogue: Catalogue { genre_names: vec!["Drama".into(), "Horror".into()], movies },
        mf: Mf {
            global_mean: 3.5,
            explicit: Some(ExplicitFactors {
                item_bias: vec![0.0; 6],
                item_factors: m(FactorStorage::Int4),
                reg_factors: 0.5,
                reg_bias: 1.0,
                rule: RegRule::Constant,
            }),
            implicit: Some(ImplicitFactors {
                item_factors: m(FactorStorage::Int8),
                reg: 1.0,
                alpha: 1.0,
                rating_offset: 0.0,
                explicit_weight: 0.1,
                recency_half_life: 0.0,
                recency_coherence: 0.0,
                rule: RegRule::Constant,
                gram: Default::default(),
            }),
        },
        hybrid: HybridWeights::uniform(BlendWeights::default().with(Method::Mf, 0.5).with(Method::ItemKnn, 0.5)),
        extras: Extras {
            // Each movie's neighbours: the other two of its group, the next one most similar.
            item_knn: Some(ItemKnn {
                offsets: vec![0, 2, 4, 6, 8, 10, 12],
                neighbours: vec![1, 2, 2, 0, 0, 1, 4, 5, 5, 3, 3, 4],
                similarity: vec![255, 128, 255, 128, 255, 128, 255, 128, 255, 128, 255, 128],
                max_similarity: 0.8,
                shrink: 0.0,
                rating_weight: 0.0,
                rating_shrink: 1.0,
            }),
            ..Extras::default()
        },
        has_links: true,
        core_checksum: Default::default(),
    }
    .to_bytes()
    .unwrap()
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

fn ratings(pairs: &[(f64, f64)]) -> JsValue {
    let arr = Array::new();
    for &(m, r) in pairs {
        let o = Object::new();
        Reflect::set(&o, &"movieId".into(), &m.into()).unwrap();
        Reflect::set(&o, &"rating".into(), &r.into()).unwrap();
        arr.push(&o);
    }
    arr.into()
}

fn error_message(v: JsValue) -> String {
    let e: js_sys::Error = v.dyn_into().expect("a real JS Error");
    e.message().into()
}

#[wasm_bindgen_test]
fn recommends_plain_objects_from_the_visitors_taste() {
    let rec = Recommender::new(js_bytes(&model_bytes())).unwrap();
    let out = rec.recommend(ratings(&[(1.0, 5.0), (2.0, 4.5)]), JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&out, "coldStart"), JsValue::FALSE);
    assert_eq!(get(&out, "usedRatings").as_f64(), Some(2.0));
    let items: Array = get(&out, "items").dyn_into().unwrap();
    assert_eq!(items.length(), 4, "six movies minus two rated");
    let first = items.get(0);
    assert_eq!(get(&first, "movieId").as_f64(), Some(3.0), "the unrated movie of the liked factor comes first");
    let reasons: Array = get(&first, "reasons").dyn_into().unwrap();
    assert_eq!(get(&reasons.get(0), "kind").as_string().as_deref(), Some("rated"));
    let predicted = get(&first, "predictedRating").as_f64().unwrap();
    assert!((0.5..=5.0).contains(&predicted));
}

#[wasm_bindgen_test]
fn options_filter_and_bad_options_throw_errors_with_messages() {
    let rec = Recommender::new(js_bytes(&model_bytes())).unwrap();
    let opts = Object::new();
    Reflect::set(&opts, &"genres".into(), &Array::of1(&"Horror".into())).unwrap();
    Reflect::set(&opts, &"count".into(), &2.into()).unwrap();
    let out = rec.recommend(ratings(&[]), opts.into()).unwrap();
    let items: Array = get(&out, "items").dyn_into().unwrap();
    assert_eq!(items.length(), 2);
    assert_eq!(get(&out, "coldStart"), JsValue::TRUE);

    let bad = Object::new();
    Reflect::set(&bad, &"count".into(), &0.into()).unwrap();
    let msg = error_message(rec.recommend(ratings(&[]), bad.into()).err().unwrap().into());
    assert!(msg.contains("count"), "{msg}");

    let typo = Object::new();
    Reflect::set(&typo, &"cuont".into(), &3.into()).unwrap();
    let msg = error_message(rec.recommend(ratings(&[]), typo.into()).err().unwrap().into());
    assert!(msg.contains("cuont"), "{msg}");

    let msg = error_message(rec.recommend(JsValue::from_str("nope"), JsValue::UNDEFINED).err().unwrap().into());
    assert!(msg.starts_with("invalid ratings"), "{msg}");
}

#[wasm_bindgen_test]
fn bad_ratings_are_reported_not_thrown() {
    let rec = Recommender::new(js_bytes(&model_bytes())).unwrap();
    let out = rec.recommend(ratings(&[(1.0, f64::NAN), (99.0, 4.0), (2.0, 9.0), (4.0, 4.0)]), JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&out, "usedRatings").as_f64(), Some(1.0));
    let skipped: Array = get(&out, "skipped").dyn_into().unwrap();
    let reasons: Vec<String> = skipped.iter().map(|s| get(&s, "reason").as_string().unwrap()).collect();
    assert_eq!(reasons, vec!["notFinite", "unknownMovie", "outOfRange"]);
}

#[wasm_bindgen_test]
fn corrupt_models_throw_readable_errors() {
    let bytes = model_bytes();
    let msg = error_message(Recommender::new(js_bytes(&bytes[..bytes.len() / 2])).err().unwrap().into());
    assert!(msg.contains("truncated"), "{msg}");
    let msg = error_message(Recommender::new(js_bytes(b"<!doctype html>")).err().unwrap().into());
    assert!(msg.contains("not a movie-recs model"), "{msg}");
    let mut flipped = bytes.clone();
    let last = flipped.len() - 3;
    flipped[last] ^= 1;
    let msg = error_message(Recommender::new(js_bytes(&flipped)).err().unwrap().into());
    assert!(msg.contains("corrupt"), "{msg}");
}

#[wasm_bindgen_test]
fn search_lookup_and_metadata() {
    let rec = Recommender::new(js_bytes(&model_bytes())).unwrap();
    let hits: Array = rec.search("FILM 2".into(), 5.into()).unwrap().dyn_into().unwrap();
    assert_eq!(get(&hits.get(0), "movieId").as_f64(), Some(2.0));
    assert!(rec.movie(42.into()).unwrap().is_null());
    let m = rec.movie(6.into()).unwrap();
    assert_eq!(get(&m, "title").as_string().as_deref(), Some("<img src=x onerror=alert(1)>"));
    assert_eq!(get(&m, "tmdbId").as_f64(), Some(60.0));
    let genres: Array = rec.genres().unwrap().dyn_into().unwrap();
    assert_eq!(genres.length(), 2);
    let info = rec.info().unwrap();
    assert_eq!(get(&info, "movies").as_f64(), Some(6.0));
    assert_eq!(get(&info, "dataset").as_string().as_deref(), Some("handmade"));
    let popular: Array = rec.popular(3.into()).unwrap().dyn_into().unwrap();
    assert_eq!(popular.length(), 3);
    // The first questions: never a rated or unseen movie; bad unseen elements are skipped.
    let unseen = Array::new();
    for v in [JsValue::from(2.0), JsValue::from_str("3"), JsValue::NULL, JsValue::from(-1.0)] {
        unseen.push(&v);
    }
    let asked: Vec<f64> = rec
        .questions(ratings(&[(1.0, 5.0)]), unseen.into(), 6.into())
        .unwrap()
        .dyn_into::<Array>()
        .unwrap()
        .iter()
        .map(|m| get(&m, "movieId").as_f64().unwrap())
        .collect();
    assert!(!asked.is_empty() && !asked.contains(&1.0) && !asked.contains(&2.0), "{asked:?}");
    let msg = error_message(rec.questions(ratings(&[]), Array::new().into(), 0.into()).err().unwrap().into());
    assert!(msg.contains("count"), "{msg}");
    let msg = error_message(rec.questions(JsValue::NULL, Array::new().into(), 3.into()).err().unwrap().into());
    assert!(msg.contains("invalid questions"), "{msg}");
    // Movie night: one list for two members, never a movie either rated; bad shapes are Errors.
    let members = Array::new();
    members.push(&ratings(&[(1.0, 5.0)]));
    members.push(&ratings(&[(2.0, 4.0)]));
    let group = rec.recommend_group(members.into(), JsValue::UNDEFINED, "average".into()).unwrap();
    assert_eq!(get(&group, "members").as_f64(), Some(2.0));
    let picks: Array = get(&group, "items").dyn_into().unwrap();
    assert!(picks.length() > 0);
    for p in picks.iter() {
        assert!(![1.0, 2.0].contains(&get(&p, "movieId").as_f64().unwrap()));
        assert_eq!(get(&p, "predictedRatings").dyn_into::<Array>().unwrap().length(), 2);
    }
    let msg = error_message(
        rec.recommend_group(Array::of1(&JsValue::from(3)).into(), JsValue::UNDEFINED, JsValue::UNDEFINED).err().unwrap().into(),
    );
    assert!(msg.contains("invalid members"), "{msg}");
    let msg =
        error_message(rec.recommend_group(Array::of1(&Array::new()).into(), JsValue::UNDEFINED, "loudest".into()).err().unwrap().into());
    assert!(msg.contains("invalid aggregation"), "{msg}");
    let msg = error_message(rec.recommend_group(Array::new().into(), JsValue::UNDEFINED, JsValue::UNDEFINED).err().unwrap().into());
    assert!(msg.contains("members"), "{msg}");
}

#[wasm_bindgen_test]
fn methods_and_more_like_this() {
    let rec = Recommender::new(js_bytes(&model_bytes())).unwrap();
    let methods: Vec<String> =
        rec.methods().unwrap().dyn_into::<Array>().unwrap().iter().map(|m| get(&m, "name").as_string().unwrap()).collect();
    assert_eq!(methods, vec!["hybrid", "mf", "itemKnn", "popular"], "only the methods this model has");
    let answer = rec.similar_movies(4.into(), 5.into(), JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&answer, "method").as_string().as_deref(), Some("itemKnn"));
    let similar: Array = get(&answer, "items").dyn_into().unwrap();
    let ids: Vec<f64> = similar.iter().map(|s| get(&get(&s, "movie"), "movieId").as_f64().unwrap()).collect();
    assert_eq!(ids, vec![5.0, 6.0]);
    assert!((get(&similar.get(0), "similarity").as_f64().unwrap() - 0.8).abs() < 1e-6);
    let msg = error_message(rec.similar_movies(77.into(), 5.into(), JsValue::UNDEFINED).err().unwrap().into());
    assert!(msg.contains("unknown movie id 77"), "{msg}");
    let msg = error_message(rec.similar_movies(4.into(), 5.into(), "content".into()).err().unwrap().into());
    assert!(msg.contains("content"), "{msg}");
    let msg = error_message(rec.similar_movies(77.into(), 5.into(), JsValue::UNDEFINED).err().unwrap().into());
    assert!(msg.contains("unknown movie id 77"), "{msg}");

    let opts = Object::new();
    Reflect::set(&opts, &"method".into(), &"itemKnn".into()).unwrap();
    let out = rec.recommend(ratings(&[(4.0, 5.0)]), opts.into()).unwrap();
    let first = Array::from(&get(&out, "items")).get(0);
    assert_eq!(get(&first, "movieId").as_f64(), Some(5.0));
    let bad = Object::new();
    Reflect::set(&bad, &"method".into(), &"magic".into()).unwrap();
    let msg = error_message(rec.recommend(ratings(&[]), bad.into()).err().unwrap().into());
    assert!(msg.contains("magic"), "{msg}");
}

#[wasm_bindgen_test]
fn simd_dot_product_matches_the_plain_sum_at_every_length() {
    for n in [0usize, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 65, 128] {
        let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos() - 0.2).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        let fast = movie_recs::kernels::dot(&a, &b);
        assert!((fast - plain).abs() <= 1e-4 * (1.0 + plain.abs()), "n {n}: {fast} vs {plain}");
    }
}

#[wasm_bindgen_test]
fn the_core_recommends_before_the_rest_of_the_file_arrives() {
    let bytes = model_bytes();
    assert!(Recommender::core_length(js_bytes(&bytes[..12])).unwrap().is_none(), "no answer before the header");
    let msg = error_message(Recommender::core_length(js_bytes(b"<html")).err().unwrap().into());
    assert!(msg.contains("not a movie-recs model"), "{msg}");
    let core_len = Recommender::core_length(js_bytes(&bytes[..movie_recs::format::HEADER_LEN])).unwrap().unwrap() as usize;
    assert!(core_len < bytes.len());
    assert_eq!(Recommender::file_length(js_bytes(&bytes[..core_len])).unwrap(), Some(bytes.len() as f64));
    assert!(Recommender::file_length(js_bytes(&bytes[..12])).unwrap().is_none());
    let mut rec = Recommender::from_core(js_bytes(&bytes[..core_len])).unwrap();
    assert!(!rec.has_extras());
    let names = |rec: &Recommender| {
        rec.methods().unwrap().dyn_into::<Array>().unwrap().iter().map(|m| get(&m, "name").as_string().unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(names(&rec), vec!["mf", "popular"]);
    let out = rec.recommend(ratings(&[(1.0, 5.0)]), JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&Array::from(&get(&out, "items")).get(0), "movieId").as_f64().map(|id| id <= 3.0), Some(true));

    let msg = error_message(rec.attach_extras(js_bytes(&bytes[..bytes.len() - 1])).err().unwrap().into());
    assert!(msg.contains("truncated"), "{msg}");
    assert_eq!(names(&rec), vec!["mf", "popular"], "a failed attach leaves the core working");
    rec.attach_extras(js_bytes(&bytes)).unwrap();
    assert!(rec.has_extras());
    assert_eq!(names(&rec), vec!["hybrid", "mf", "itemKnn", "popular"]);
}

#[wasm_bindgen_test]
fn simd_axpy_matches_the_scalar_update_to_the_bit() {
    for n in [0usize, 1, 2, 3, 64, 65] {
        let z: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        let mut fast: Vec<f64> = (0..n).map(|i| (i as f64 * 0.11).cos()).collect();
        let mut plain = fast.clone();
        movie_recs::kernels::axpy_f64(&mut fast, 0.731, &z);
        for (a, &zi) in plain.iter_mut().zip(&z) {
            *a += 0.731 * zi;
        }
        assert_eq!(fast, plain, "n {n}");
    }
}

#[wasm_bindgen_test]
fn hostile_js_values_are_errors_or_skipped_never_traps() {
    let rec = Recommender::new(js_bytes(&model_bytes())).unwrap();
    // A query that is not a string: an Error naming its type (it used to trap in the glue).
    for (query, says) in [(JsValue::from(1995), "number"), (Object::new().into(), "object"), (JsValue::NULL, "object")] {
        let msg = error_message(rec.search(query, 5.into()).err().unwrap().into());
        assert!(msg.contains("invalid query") && msg.contains(says), "{msg}");
    }
    // Numbers are checked, never wrapped or truncated.
    for bad in [4294967296.0 + 6.0, 6.5, -1.0, f64::NAN] {
        let msg = error_message(rec.movie(bad.into()).err().unwrap().into());
        assert!(msg.contains("invalid movie id"), "{bad}: {msg}");
    }
    let msg = error_message(rec.popular((-1.0).into()).err().unwrap().into());
    assert!(msg.contains("invalid limit"), "{msg}");
    let msg = error_message(rec.popular("3".into()).err().unwrap().into());
    assert!(msg.contains("expected a number"), "{msg}");
    let msg = error_message(Recommender::new(JsValue::from(1995)).err().unwrap().into());
    assert!(msg.contains("expected a Uint8Array"), "{msg}");
    // One rating of the wrong type is skipped and reported; the rest are used.
    let list = Array::new();
    for r in [ratings(&[(1.0, 5.0)]).dyn_into::<Array>().unwrap().get(0), JsValue::NULL, JsValue::from_str("318"), Object::new().into()] {
        list.push(&r);
    }
    let text = Object::new();
    Reflect::set(&text, &"movieId".into(), &"2".into()).unwrap();
    Reflect::set(&text, &"rating".into(), &4.0.into()).unwrap();
    list.push(&text);
    let out = rec.recommend(list.into(), JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&out, "usedRatings").as_f64(), Some(1.0));
    assert_eq!(get(&out, "skippedCount").as_f64(), Some(4.0));
    let skipped: Array = get(&out, "skipped").dyn_into().unwrap();
    assert!(skipped.iter().all(|s| get(&s, "reason").as_string().unwrap() == "invalidId"));
}
