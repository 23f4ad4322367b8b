//! Deterministic synthetic MovieLens-like data: users and movies with hidden tastes, a
//! heavy-tailed popularity, ratings on the 0.5..=5 half-star scale. Used by the contract tests
//! and the benchmarks at sizes the real data does not reach.

use crate::catalogue::MovieId;
use crate::eval::RatingRecord;

/// Shape of a synthetic data set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SyntheticSpec {
    /// Users.
    pub users: u32,
    /// Movies.
    pub movies: u32,
    /// Mean ratings per user (each user gets at least 5).
    pub ratings_per_user: u32,
    /// Hidden taste dimensions.
    pub dims: usize,
    /// Seed.
    pub seed: u64,
}

/// One step of Marsaglia's xorshift64 (13, 7, 17): the small seeded stream the bootstrap, the
/// random elicitation strategy and the random synthetic groups share. `state` must not be 0.
pub fn xorshift64(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform().max(1e-12), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// Generates ratings: movie `m` is drawn with probability proportional to `1 / (m + 10)`
/// (Zipf-like), and rated `3.5 + taste . features + movie quality + noise`, rounded to half stars.
/// Movie ids are `1..=movies`, user ids `1..=users`, timestamps increase per user.
pub fn generate(spec: &SyntheticSpec) -> Vec<RatingRecord> {
    let mut rng = Rng(spec.seed);
    let d = spec.dims;
    let movie_features: Vec<f64> = (0..spec.movies as usize * d).map(|_| rng.normal() * 0.6).collect();
    let quality: Vec<f64> = (0..spec.movies).map(|_| rng.normal() * 0.4).collect();
    // Cumulative Zipf-like weights for popularity sampling.
    let mut cumulative = Vec::with_capacity(spec.movies as usize);
    let mut total = 0.0;
    for m in 0..spec.movies {
        total += 1.0 / (m as f64 + 10.0);
        cumulative.push(total);
    }
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for user in 1..=spec.users {
        let taste: Vec<f64> = (0..d).map(|_| rng.normal() * 0.6).collect();
        let bias = rng.normal() * 0.3;
        let n = ((spec.ratings_per_user as f64) * (0.3 + 1.4 * rng.uniform())).max(5.0) as usize;
        let n = n.min(spec.movies as usize);
        seen.clear();
        let mut ts = 1_000_000_000i64 + rng.next_u64() as i64 % 100_000_000;
        while seen.len() < n {
            let x = rng.uniform() * total;
            let m = cumulative.partition_point(|&c| c < x).min(spec.movies as usize - 1);
            if !seen.insert(m) {
                continue;
            }
            let f = &movie_features[m * d..(m + 1) * d];
            let score = 3.5 + bias + quality[m] + taste.iter().zip(f).map(|(a, b)| a * b).sum::<f64>() + rng.normal() * 0.3;
            let rating = ((score * 2.0).round() / 2.0).clamp(0.5, 5.0) as f32;
            ts += 1 + (rng.next_u64() % 5000) as i64;
            out.push(RatingRecord { user, movie: MovieId(m as u32 + 1), rating, timestamp: ts });
        }
    }
    out
}

/// A random factor model of `movies` movies with `factors` latent factors (explicit and
/// implicit), for timing the browser and native calls at catalogue sizes the real data does not
/// reach. Its recommendations mean nothing; its cost is that of a trained model of that shape.
pub fn factor_model(movies: usize, factors: usize, seed: u64) -> crate::model::Model {
    use crate::catalogue::{Catalogue, Movie};
    use crate::factors::{FactorMatrix, FactorStorage};
    use crate::methods::hybrid::{BlendWeights, HybridWeights};
    use crate::methods::mf::{ExplicitFactors, ImplicitFactors, Mf, RegRule};
    use crate::methods::{Extras, Method};
    use crate::model::{Model, ModelInfo};
    let mut rng = Rng(seed);
    let mut matrix = |scale: f64| {
        let data = (0..movies * factors).map(|_| (rng.normal() * scale) as f32).collect();
        FactorMatrix::new(movies, factors, data, FactorStorage::F32).expect("finite").with_storage(FactorStorage::Int8)
    };
    let (explicit, implicit) = (matrix(0.3), matrix(0.1));
    let catalogue = (0..movies)
        .map(|i| Movie {
            id: MovieId(i as u32 + 1),
            title: format!("Synthetic movie {}", i + 1),
            year: Some(1950 + (i % 70) as u16),
            genres: 1 << (i % 4),
            imdb_id: None,
            tmdb_id: None,
            rating_count: (1_000_000 / (i + 10)) as u32,
            rating_mean: 3.5,
        })
        .collect();
    Model {
        info: ModelInfo {
            dataset: format!("synthetic-{movies}x{factors}"),
            users: 0,
            ratings: 0,
            rating_min: 0.5,
            rating_max: 5.0,
            trainer: "random factors (benchmark only)".into(),
            learned: None,
        },
        catalogue: Catalogue { genre_names: vec!["Action".into(), "Comedy".into(), "Drama".into(), "Sci-Fi".into()], movies: catalogue },
        mf: Mf {
            global_mean: 3.5,
            explicit: Some(ExplicitFactors {
                item_bias: vec![0.0; movies],
                item_factors: explicit,
                reg_factors: 8.0,
                reg_bias: 2.0,
                rule: RegRule::Constant,
            }),
            implicit: Some(ImplicitFactors {
                item_factors: implicit,
                reg: 20.0,
                alpha: 0.5,
                rating_offset: 0.0,
                explicit_weight: 0.05,
                recency_half_life: 5.0,
                recency_coherence: 0.0,
                rule: RegRule::Constant,
                gram: Default::default(),
            }),
        },
        hybrid: HybridWeights::uniform(BlendWeights::default().with(Method::Mf, 1.0)),
        extras: Extras::default(),
        has_links: true,
        core_checksum: Default::default(),
    }
}

/// A visitor for timing: the first `n` of `movie_ids`, rated 0.5 to 5 stars in turn.
pub fn sample_ratings(movie_ids: &[u32], n: usize) -> Vec<crate::ratings::RawRating> {
    movie_ids
        .iter()
        .take(n)
        .enumerate()
        .map(|(i, &m)| crate::ratings::RawRating { movie_id: m as f64, rating: 0.5 + (i % 10) as f64 / 2.0, seen: false })
        .collect()
}
