//! Small deterministic fixtures shared by the native integration tests.
#![allow(dead_code)]

use movie_recs::data::MovieRecord;
use movie_recs::data::TagRecord;
use movie_recs::eval::RatingRecord;
use movie_recs::methods::hybrid::{BlendWeights, HybridWeights};
use movie_recs::synthetic::{generate, SyntheticSpec};
use movie_recs::train::content::ContentSettings;
use movie_recs::train::ease::EaseSettings;
use movie_recs::train::item_knn::ItemKnnSettings;
use movie_recs::train::neural::NeuralSettings;
use movie_recs::train::user_knn::UserKnnSettings;
use movie_recs::train::{ExplicitSettings, ImplicitSettings, Learn, TrainSettings};
use movie_recs::{FactorStorage, Method, Model, MovieId, RawRating};

pub const GENRES: [&str; 5] = ["Action", "Comedy", "Drama", "Horror", "Sci-Fi"];

/// 300 users, 200 movies, about 40 ratings each, with hidden structure.
pub fn ratings() -> Vec<RatingRecord> {
    generate(&SyntheticSpec { users: 300, movies: 200, ratings_per_user: 40, dims: 4, seed: 11 })
}

/// Metadata for movies 1..=200: genre `id % 5` (and `id % 3` for a second), years 1950..2019.
pub fn movies() -> Vec<MovieRecord> {
    (1..=200u32)
        .map(|id| MovieRecord {
            id: MovieId(id),
            title: format!("Movie number {id}"),
            year: Some(1950 + (id % 70) as u16),
            genres: {
                let mut g = vec![GENRES[id as usize % 5].to_string()];
                let second = GENRES[id as usize % 3].to_string();
                if !g.contains(&second) {
                    g.push(second);
                }
                g
            },
            imdb_id: Some(100_000 + id),
            keywords: vec![format!("theme {}", id % 7)],
            ..Default::default()
        })
        .collect()
}

/// A tag on every movie ("mood 0".."mood 3"), by training users.
pub fn tags() -> Vec<TagRecord> {
    (1..=200u32).map(|id| TagRecord { user: id % 300 + 1, movie: MovieId(id), tag: format!("mood {}", id % 4) }).collect()
}

/// Hybrid weights of mf, item_knn, content, user_knn and neural.
pub fn blend(mf: f32, item_knn: f32, content: f32, user_knn: f32, neural: f32) -> BlendWeights {
    use Method::*;
    BlendWeights::from_pairs(&[(Mf, mf), (ItemKnn, item_knn), (Content, content), (UserKnn, user_knn), (Neural, neural)])
}

pub fn settings(storage: FactorStorage) -> TrainSettings {
    TrainSettings {
        explicit: ExplicitSettings { factors: 8, iterations: 10, reg_factors: 2.0, reg_bias: 2.0, seed: 3, cg_steps: None },
        implicit: Some(ImplicitSettings {
            factors: 8,
            iterations: 8,
            reg: 5.0,
            alpha: 2.0,
            rating_offset: 0.0,
            explicit_weight: 0.1,
            recency_half_life: 0.0,
            recency_coherence: 0.0,
            seed: 4,
            cg_steps: None,
        }),
        item_knn: Some(ItemKnnSettings { k: 15, shrink: 5.0, rating_weight: 0.5, rating_shrink: 1.0 }),
        content: Some(ContentSettings::default()),
        user_knn: Some(UserKnnSettings { k: 20, shrink: 5.0, max_users: None }),
        neural: Some(NeuralSettings { hidden: 16, epochs: 30, min_ratings: 2, ..NeuralSettings::default() }),
        ease: Some(EaseSettings { lambda: 10.0, k: 20, min_liked: 2, ..EaseSettings::default() }),
        hybrid: HybridWeights { buckets: [blend(0.3, 0.2, 0.5, 0.1, 0.0), blend(0.6, 0.2, 0.2, 0.1, 0.0), blend(0.8, 0.1, 0.1, 0.1, 0.2)] },
        storage,
        neural_storage: storage,
        factor_min_ratings: 1,
        learn: Learn::Off,
        progress: false,
        deadline: None,
    }
}

pub fn model() -> Model {
    model_stored(FactorStorage::F32)
}

/// The fixture model with its factors stored as `storage`.
pub fn model_stored(storage: FactorStorage) -> Model {
    train(&ratings(), &settings(storage))
}

/// The fixture's movies and tags trained on `ratings` with `settings`.
pub fn train(ratings: &[RatingRecord], settings: &TrainSettings) -> Model {
    movie_recs::train::build_model("synthetic", &movies(), &tags(), ratings, &settings.check().expect("valid settings"))
        .expect("fixture trains")
}

pub fn raw(pairs: &[(u32, f32)]) -> Vec<RawRating> {
    pairs.iter().map(|&(m, r)| RawRating { movie_id: m as f64, rating: r as f64, seen: false }).collect()
}

/// A training user's ratings of the fixture, in file order.
pub fn user_ratings(user: u32) -> Vec<RawRating> {
    ratings()
        .iter()
        .filter(|r| r.user == user)
        .map(|r| RawRating { movie_id: r.movie.0 as f64, rating: r.rating as f64, seen: false })
        .collect()
}
