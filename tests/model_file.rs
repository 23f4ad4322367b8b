//! The model file: round trips, every kind of broken bytes, the storages, the core-first
//! layout.
#![cfg(feature = "train")]

mod common;

use common::user_ratings;
use movie_recs::matching::{Match, MatchedBy, Wanted};
use movie_recs::{Error, FactorStorage, Method, Model, Movie, RecommendOptions, Recommender};

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
    for at in [movie_recs::format::HEADER_LEN, bytes.len() / 2, bytes.len() - 1] {
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
        m.mf.explicit.as_mut().unwrap().item_bias.pop();
    });
    assert!(matches!(err, Error::InvalidModel(_)), "{err}");
    let err = load_error(|m| m.catalogue.movies[1].id = m.catalogue.movies[0].id);
    assert!(err.to_string().contains("appears twice"), "{err}");
    load_error(|m| m.mf.explicit.as_mut().unwrap().item_bias[3] = f32::NAN);

    // Every side table is bounds-checked on load, so scoring can index without checks.
    let err = load_error(|m| m.extras.item_knn.as_mut().unwrap().neighbours[0] = 99_999).to_string();
    assert!(err.contains("item_knn entry 99999"), "{err}");
    let err = load_error(|m| {
        m.extras.content.as_mut().unwrap().offsets.pop();
    })
    .to_string();
    assert!(err.contains("content table"), "{err}");
    let err = load_error(|m| {
        m.extras.user_knn.as_mut().unwrap().half_stars.pop();
    })
    .to_string();
    assert!(err.contains("user_knn pool"), "{err}");
    let err = load_error(|m| *m.extras.neural.as_mut().unwrap().rows.last_mut().unwrap() = 99_999).to_string();
    assert!(err.contains("autoencoder vocabulary"), "{err}");
    let err = load_error(|m| {
        m.extras.neural.as_mut().unwrap().output_bias.pop();
    })
    .to_string();
    assert!(err.contains("autoencoder has"), "{err}");
    load_error(|m| m.hybrid.buckets[1].0[2] = f32::INFINITY);
}

#[test]
fn int8_storage_is_close_to_f32_and_saves_three_bytes_a_value() {
    let f32_model = common::model();
    let int8 = common::model_stored(FactorStorage::Int8);
    let (a, b) = (f32_model.mf.explicit.as_ref().unwrap().item_factors.to_vec(), int8.mf.explicit.as_ref().unwrap().item_factors.to_vec());
    let max_err = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    let max_abs = a.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(max_err <= max_abs / 127.0 + 1e-6, "{max_err} vs {max_abs}");
    assert_eq!(Model::from_bytes(&int8.to_bytes().unwrap()).unwrap(), int8, "the in-memory int8 model equals the reloaded one");
    // Each value takes 1 byte instead of 4; each row adds a 4-byte scale (and each matrix a length).
    let rows = int8.catalogue.movies.len();
    let k = int8.mf.explicit.as_ref().unwrap().item_factors.cols() + int8.mf.implicit.as_ref().unwrap().item_factors.cols();
    let saved = f32_model.to_bytes().unwrap().len() - int8.to_bytes().unwrap().len();
    assert!(saved + 16 >= rows * (3 * k - 8), "saved {saved} bytes for {rows} rows of {k} values");
}

#[test]
fn int8_scoring_matches_the_f32_dot_products() {
    let model = common::model_stored(FactorStorage::Int8);
    let m = &model.mf.implicit.as_ref().unwrap().item_factors;
    let v: Vec<f32> = (0..m.cols()).map(|i| (i as f32 * 0.9).sin()).collect();
    let fast = m.dot_all(&v);
    let max = (0..m.rows()).map(|r| movie_recs::kernels::dot(m.row(r), &v).abs()).fold(0.0f32, f32::max);
    for (r, f) in fast.iter().enumerate() {
        let exact = movie_recs::kernels::dot(m.row(r), &v);
        assert!((f - exact).abs() <= 1e-3 * max, "row {r}: {f} vs {exact}");
    }
    assert!(m.dot_all(&vec![0.0; m.cols()]).iter().all(|&x| x == 0.0));
}

#[test]
fn the_core_loads_from_the_first_bytes_and_the_extras_attach_when_the_rest_arrives() {
    // A ranking that blends predicted stars in needs the star model in the core.
    let blended = common::model();
    assert!(blended.mf.ranks_by_stars());
    let bytes = blended.to_bytes().unwrap();
    let core_len = Model::core_length(&bytes).unwrap().unwrap();
    assert!(Model::core_from_bytes(&bytes[..core_len]).unwrap().has_stars());
    let links_len = Model::links_length(&bytes).unwrap().unwrap();
    assert_eq!(Model::stars_length(&bytes).unwrap(), Some(links_len + 1), "an empty stars section: one byte, None");

    // The shipped layout: the ranking does not read the stars, which come after the core.
    let mut model = common::model();
    model.mf.implicit.as_mut().unwrap().explicit_weight = 0.0;
    let bytes = model.to_bytes().unwrap();
    // A page feeds growing prefixes: no answer before the header, the core's end after it.
    assert_eq!(Model::core_length(&bytes[..10]).unwrap(), None);
    assert!(matches!(Model::core_length(b"<!DOC"), Err(Error::BadMagic { .. })), "an HTML page fails at once");
    let core_len = Model::core_length(&bytes[..movie_recs::format::HEADER_LEN]).unwrap().unwrap();
    let [core, links, stars, _] = model.sections().unwrap();
    assert_eq!(core_len, movie_recs::format::HEADER_LEN + core.len());
    let links_len = Model::links_length(&bytes[..movie_recs::format::HEADER_LEN]).unwrap().unwrap();
    assert_eq!(links_len, core_len + links.len());
    let stars_len = Model::stars_length(&bytes[..movie_recs::format::HEADER_LEN]).unwrap().unwrap();
    assert_eq!(stars_len, links_len + stars.len());
    assert!(core_len < bytes.len() / 2, "the core is the small part: {core_len} of {}", bytes.len());
    assert_eq!(Model::file_length(&bytes[..10]).unwrap(), None);
    assert_eq!(Model::file_length(&bytes[..movie_recs::format::HEADER_LEN]).unwrap(), Some(bytes.len() as u64));
    assert!(matches!(Model::core_from_bytes(&bytes[..core_len - 1]), Err(Error::Truncated { .. })));

    let mut early = Recommender::from_core_bytes(&bytes[..core_len]).unwrap();
    assert!(!early.model().has_extras());
    // The IMDb and TMDB ids come in the links section after the core.
    assert!(model.catalogue.movies.iter().all(|m| m.imdb_id.is_some()), "the fixture has ids");
    let without_ids: Vec<_> = model.catalogue.movies.iter().cloned().map(|m| Movie { imdb_id: None, tmdb_id: None, ..m }).collect();
    assert_eq!(early.model().catalogue.movies, without_ids);
    assert!(!early.model().has_links);
    let by_imdb = [Wanted { imdb_id: model.catalogue.movies[3].imdb_id, ..Wanted::default() }];
    let e = early.match_movies(&by_imdb).unwrap_err();
    assert!(matches!(e, Error::NotYetLoaded { section: "links", .. }), "{e}");
    assert!(matches!(early.attach_links(&bytes[..links_len - 1]), Err(Error::Truncated { .. })));
    assert!(!early.model().has_links, "left as it was");
    early.attach_links(&bytes[..links_len]).unwrap();
    assert_eq!(early.model().catalogue.movies, model.catalogue.movies);
    assert_eq!(
        early.match_movies(&by_imdb).unwrap(),
        vec![Match::Matched { movie_id: model.catalogue.movies[3].id.0, by: MatchedBy::Imdb }]
    );
    early.attach_links(&bytes[..links_len]).unwrap(); // again: a no-op
                                                      // The star model comes after the core: the core ranks without it, with no predicted stars.
    assert_eq!(early.model().mf.explicit, None);
    assert!(!early.model().has_stars());
    let full = Recommender::from_bytes(&bytes).unwrap();
    let ratings = user_ratings(7);
    let ids = |r: &Recommender, method| {
        let opts = RecommendOptions { method, ..RecommendOptions::default() };
        r.recommend(&ratings, &opts).unwrap().items.iter().map(|i| i.movie.movie_id).collect::<Vec<_>>()
    };
    let stars_of = |r: &Recommender| {
        let opts = RecommendOptions { method: Method::Mf, ..RecommendOptions::default() };
        r.recommend(&ratings, &opts).unwrap().items.iter().map(|i| i.predicted_rating).collect::<Vec<_>>()
    };
    assert_eq!(ids(&early, Method::Mf), ids(&full, Method::Mf));
    assert!(stars_of(&early).iter().all(Option::is_none), "no stars before the star model");
    assert!(matches!(early.attach_stars(&bytes[..stars_len - 1]), Err(Error::Truncated { .. })));
    assert!(!early.model().has_stars(), "left as it was");
    early.attach_stars(&bytes[..stars_len]).unwrap();
    assert_eq!(early.model().mf.explicit, model.mf.explicit);
    assert_eq!(ids(&early, Method::Mf), ids(&full, Method::Mf), "the stars do not change the ranking");
    assert!(stars_of(&early).iter().all(|s| s.is_some_and(|s| (0.5..=5.0).contains(&s))), "{:?}", stars_of(&early));
    early.attach_stars(&bytes[..stars_len]).unwrap(); // again: a no-op
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
fn the_titles_of_movies_the_core_cannot_rank_come_with_the_links() {
    // The shipped layout (int4 factors, stars after the core), with the three most popular movies
    // given no implicit factors, as the trainer leaves a movie with too few ratings.
    let mut model = common::model_stored(FactorStorage::Int4);
    model.mf.implicit.as_mut().unwrap().explicit_weight = 0.0;
    let full = Recommender::new(model.clone());
    let late: Vec<u32> = full.popular(3).iter().map(|m| m.movie_id).collect();
    let rows: Vec<usize> = late.iter().map(|&id| model.catalogue.movies.iter().position(|m| m.id.0 == id).unwrap()).collect();
    let y = &model.mf.implicit.as_ref().unwrap().item_factors;
    let (n, k) = (y.rows(), y.cols());
    let mut data = y.to_vec();
    for &r in &rows {
        data[r * k..(r + 1) * k].iter_mut().for_each(|v| *v = 0.0);
        model.catalogue.movies[r].year = Some(1901);
    }
    model.mf.implicit.as_mut().unwrap().item_factors =
        movie_recs::factors::FactorMatrix::new(n, k, data, FactorStorage::F32).unwrap().with_storage(FactorStorage::Int4);
    let bytes = model.to_bytes().unwrap();
    let [core, links, ..] = model.sections().unwrap();
    let title = model.catalogue.movies[rows[0]].title.clone();
    assert!(!core.windows(title.len()).any(|w| w == title.as_bytes()), "{title:?} is not in the core");
    assert!(links.windows(title.len()).any(|w| w == title.as_bytes()), "{title:?} is in the links section");

    let core_len = Model::core_length(&bytes).unwrap().unwrap();
    let mut early = Recommender::from_core_bytes(&bytes[..core_len]).unwrap();
    for (row, m) in early.model().catalogue.movies.iter().enumerate() {
        assert_eq!(m.title.is_empty(), rows.contains(&row), "row {row}");
        assert_eq!(early.model().has_title(row), !rows.contains(&row), "row {row}");
    }
    // Until the links are in, no list, search or question holds a movie without its title; a
    // lookup (a visitor's own rating of it) gives it with an empty title.
    let in_1901 = RecommendOptions { year_min: Some(1901), year_max: Some(1901), ..RecommendOptions::default() };
    let listed = |r: &Recommender, ratings: &[movie_recs::RawRating]| -> Vec<u32> {
        r.recommend(ratings, &in_1901).unwrap().items.iter().map(|i| i.movie.movie_id).collect()
    };
    let ratings = user_ratings(7);
    for r in [&ratings[..], &[]] {
        assert!(listed(&early, r).is_empty(), "{:?}", listed(&early, r));
    }
    assert!(early.search(&title, 10).iter().all(|m| m.movie_id != late[0]));
    assert!(early.search("1901", 10).is_empty());
    assert!(early.popular(20).iter().all(|m| !late.contains(&m.movie_id)));
    let visitor = early.fold_in(&[]);
    assert!(early.questions(&visitor, &[], 20).unwrap().iter().all(|m| !late.contains(&m.movie_id)));
    assert_eq!(early.movie(movie_recs::MovieId(late[0])).unwrap().title, "");

    let links_len = Model::links_length(&bytes).unwrap().unwrap();
    early.attach_links(&bytes[..links_len]).unwrap();
    assert_eq!(early.model().catalogue.movies, model.catalogue.movies, "every title is back");
    let whole = Recommender::from_bytes(&bytes).unwrap();
    assert_eq!(whole.model(), &model);
    for r in [&early, &whole] {
        let mut got = listed(r, &[]);
        got.sort_unstable();
        let mut want = late.clone();
        want.sort_unstable();
        assert_eq!(got, want);
        assert!(r.search(&title, 10).iter().any(|m| m.movie_id == late[0]));
        assert_eq!(r.popular(3).iter().map(|m| m.movie_id).collect::<Vec<_>>(), late);
        assert_eq!(r.questions(&r.fold_in(&[]), &[], 3).unwrap().iter().map(|m| m.movie_id).collect::<Vec<_>>(), late);
    }
}

#[test]
fn movie_metadata_round_trips_through_the_column_layout() {
    let mut model = common::model();
    model.catalogue.movies[0].year = None;
    model.catalogue.movies[1].imdb_id = None;
    model.catalogue.movies[2].tmdb_id = Some(0);
    model.catalogue.movies[3].imdb_id = Some(u32::MAX);
    model.catalogue.movies[4].title = "Amélie (Le Fabuleux Destin d'Amélie Poulain)".into();
    model.catalogue.movies[5].rating_mean = movie_recs::catalogue::round_mean(3.27183);
    model.catalogue.movies.swap(6, 7); // ids need not ascend
    let n = model.catalogue.movies.len();
    model.mf.explicit.as_mut().unwrap().item_bias.truncate(n);
    assert_eq!(Model::from_bytes(&model.to_bytes().unwrap()).unwrap().catalogue.movies, model.catalogue.movies);
}

#[test]
fn int4_storage_keeps_half_a_byte_a_value_and_one_bit_for_an_empty_row() {
    let f32_model = common::model();
    let mut int4 = common::model_stored(FactorStorage::Int4);
    let (a, b) = (f32_model.mf.explicit.as_ref().unwrap().item_factors.to_vec(), int4.mf.explicit.as_ref().unwrap().item_factors.to_vec());
    let k = f32_model.mf.explicit.as_ref().unwrap().item_factors.cols();
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
    let rows = int4.catalogue.movies.len();
    let values = rows * (k + int4.mf.implicit.as_ref().unwrap().item_factors.cols());
    assert!(size8 - size4 >= values / 2 + 2 * rows * 2 - 64, "int4 saved {} bytes on {values} values", size8 - size4);

    // Rows of zeros cost one bit, score 0, and come back as zeros.
    let before = int4.to_bytes().unwrap().len();
    let m = &int4.mf.explicit.as_ref().unwrap().item_factors;
    let (rows, cols) = (m.rows(), m.cols());
    let mut data = m.to_vec();
    data[..10 * cols].iter_mut().for_each(|v| *v = 0.0);
    int4.mf.explicit.as_mut().unwrap().item_factors =
        movie_recs::factors::FactorMatrix::new(rows, cols, data, FactorStorage::F32).unwrap().with_storage(FactorStorage::Int4);
    let after = int4.to_bytes().unwrap().len();
    assert_eq!(before - after, 10 * (cols.div_ceil(2) + 2), "ten empty rows save their values and scales");
    let reloaded = Model::from_bytes(&int4.to_bytes().unwrap()).unwrap();
    assert!(reloaded.mf.explicit.as_ref().unwrap().item_factors.to_vec()[..10 * cols].iter().all(|&v| v == 0.0));
    let v: Vec<f32> = (0..cols).map(|i| (i as f32).cos()).collect();
    let scores = reloaded.mf.explicit.as_ref().unwrap().item_factors.dot_all(&v);
    assert!(scores[..10].iter().all(|&s| s == 0.0));
    let m = &reloaded.mf.explicit.as_ref().unwrap().item_factors;
    for (r, score) in scores.iter().enumerate().skip(10) {
        let exact = movie_recs::kernels::dot(m.row(r), &v);
        assert!((score - exact).abs() <= 1e-3 * exact.abs().max(1.0), "row {r}: {score} vs {exact}");
    }
}
