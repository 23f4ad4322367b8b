//! Small deterministic fixtures shared by the native integration tests.
#![allow(dead_code)]

use movie_recs::data::MovieRecord;
use movie_recs::data::TagRecord;
use movie_recs::eval::RatingRecord;
use movie_recs::model::{BlendWeights, HybridWeights};
use movie_recs::synthetic::{generate, SyntheticSpec};
use movie_recs::train::content::ContentSettings;
use movie_recs::train::neural::NeuralSettings;
use movie_recs::train::{ExplicitSettings, ImplicitSettings, NeighbourSettings, TrainSettings, UserPoolSettings};
use movie_recs::{FactorStorage, Model, MovieId};

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
            seed: 4,
            cg_steps: None,
        }),
        neighbours: Some(NeighbourSettings { k: 15, shrink: 5.0, rating_weight: 0.5, rating_shrink: 1.0 }),
        content: Some(ContentSettings::default()),
        users: Some(UserPoolSettings { k: 20, shrink: 5.0, max_users: None }),
        neural: Some(NeuralSettings { hidden: 16, epochs: 30, min_ratings: 2, ..NeuralSettings::default() }),
        hybrid: HybridWeights {
            buckets: [
                BlendWeights { factor: 0.3, neighbour: 0.2, content: 0.5, user: 0.1, neural: 0.0 },
                BlendWeights { factor: 0.6, neighbour: 0.2, content: 0.2, user: 0.1, neural: 0.0 },
                BlendWeights { factor: 0.8, neighbour: 0.1, content: 0.1, user: 0.1, neural: 0.2 },
            ],
        },
        storage,
        neural_storage: storage,
        factor_min_ratings: 1,
        progress: false,
    }
}

pub fn model() -> Model {
    model_stored(FactorStorage::F32)
}

/// The fixture model with its factors stored as `storage`.
pub fn model_stored(storage: FactorStorage) -> Model {
    movie_recs::train::build_model("synthetic", &movies(), &tags(), &ratings(), &settings(storage)).expect("fixture trains")
}
