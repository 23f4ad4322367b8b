//! The offline trainer (native only, `train` feature): alternating least squares for the biased
//! explicit model and the confidence-weighted implicit model, then packing with metadata.
//!
//! Every row solve is the function the browser's fold-in calls ([`crate::fold_in`]), so a
//! visitor folded in is treated exactly like a training user. Rows are solved in parallel with
//! rayon; each row's solve is independent of thread scheduling, so results are deterministic
//! for a seed.

pub mod content;
pub mod neural;
pub mod report;
pub mod spark;

use std::collections::HashMap;
use std::time::Instant;

use rayon::prelude::*;

use crate::data::MovieRecord;
use crate::data::TagRecord;
use crate::error::{Error, Result};
use crate::eval::RatingRecord;
use crate::fold_in::{explicit_row_equations, implicit_row_equations};
use crate::model::{
    confidence, BlendWeights, ExplicitFactors, FactorMatrix, FactorStorage, HybridWeights, ImplicitFactors, ItemNeighbours, Model,
    ModelInfo, Movie, MovieId, RegRule,
};
use crate::recommender::top_k;
use crate::user_knn::UserPool;
use content::{build_content, ContentSettings};
use neural::{fit_autoencoder, NeuralSettings};

/// Settings of the biased explicit model.
#[derive(Clone, Debug, PartialEq)]
pub struct ExplicitSettings {
    /// Latent factors `k`.
    pub factors: usize,
    /// ALS sweeps (each solves all users, then all items).
    pub iterations: usize,
    /// Ridge on factors.
    pub reg_factors: f32,
    /// Ridge on biases.
    pub reg_bias: f32,
    /// Seed of the initial item factors.
    pub seed: u64,
    /// Row solves: `Some(0)` solves the normal equations exactly (Cholesky); `Some(N)` takes N
    /// conjugate-gradient steps from the row's previous value; `None` chooses by the data's size
    /// ([`cg_steps_for`]).
    pub cg_steps: Option<usize>,
}

/// Settings of the implicit ranking model.
#[derive(Clone, Debug, PartialEq)]
pub struct ImplicitSettings {
    /// Latent factors.
    pub factors: usize,
    /// ALS sweeps.
    pub iterations: usize,
    /// Ridge on factors.
    pub reg: f32,
    /// Confidence slope: `c = 1 + alpha * max(r - rating_offset, 0)`.
    pub alpha: f32,
    /// See `alpha`.
    pub rating_offset: f32,
    /// Weight of the explicit centred prediction in the ranking score.
    pub explicit_weight: f32,
    /// Confidence half-life, in ratings, applied at fold-in (0: no decay); see
    /// [`ImplicitFactors`]. Training weighs every rating alike: decaying training users' older
    /// ratings too was measured and hurt (validation NDCG@10 0.062 against 0.122).
    pub recency_half_life: f32,
    /// Seed of the initial item factors.
    pub seed: u64,
    /// Row solves, as [`ExplicitSettings::cg_steps`].
    pub cg_steps: Option<usize>,
}

/// Settings of the item-based neighbourhood model and the hybrid blend.
#[derive(Clone, Debug, PartialEq)]
pub struct NeighbourSettings {
    /// Neighbours kept per movie.
    pub k: usize,
    /// Shrinkage of similarities by co-rater count `n / (n + shrink)`.
    pub shrink: f32,
    /// Weight of the neighbourhood correction of predicted stars.
    pub rating_weight: f32,
    /// Shrinkage of that correction.
    pub rating_shrink: f32,
}

/// Settings of the user pool for user-based kNN.
#[derive(Clone, Debug, PartialEq)]
pub struct UserPoolSettings {
    /// Neighbours kept for a visitor.
    pub k: u32,
    /// Shrinkage of user similarities by co-rating count.
    pub shrink: f32,
    /// Most users shipped; beyond it the most active users are kept (they cover the catalogue
    /// best per byte). None ships every training user.
    pub max_users: Option<usize>,
}

/// Everything the packer needs; validated once by [`TrainSettings::validate`].
#[derive(Clone, Debug, PartialEq)]
pub struct TrainSettings {
    /// Rating model.
    pub explicit: ExplicitSettings,
    /// Ranking model (None ranks by predicted rating).
    pub implicit: Option<ImplicitSettings>,
    /// Item neighbours (None: no item-kNN method).
    pub neighbours: Option<NeighbourSettings>,
    /// Attribute vectors (None: no content method).
    pub content: Option<ContentSettings>,
    /// User pool (None: no user-kNN method).
    pub users: Option<UserPoolSettings>,
    /// The neural method's autoencoder (None: no neural method).
    pub neural: Option<NeuralSettings>,
    /// The hybrid's blend weights by rating-count bucket.
    pub hybrid: HybridWeights,
    /// How the factor models' item factors are stored in the file.
    pub storage: FactorStorage,
    /// How the autoencoder's weights are stored (int4 cost it 1% NDCG@10, int8 nothing).
    pub neural_storage: FactorStorage,
    /// Movies with fewer training ratings keep no factors (their rows are zero: they score by
    /// their bias, and int4 storage spends one bit on them). Their fitted factors are mostly the
    /// prior; dropping them under 5 ratings cost nothing measurable and halves the rows stored.
    pub factor_min_ratings: u32,
    /// Print progress to stderr.
    pub progress: bool,
}

impl Default for TrainSettings {
    /// The shipped configuration; the search that chose it is recorded in `tuning/`.
    fn default() -> Self {
        Self {
            explicit: ExplicitSettings { factors: 64, iterations: 12, reg_factors: 8.0, reg_bias: 2.0, seed: 42, cg_steps: None },
            implicit: Some(ImplicitSettings {
                factors: 64,
                iterations: 12,
                reg: 20.0,
                alpha: 0.5,
                rating_offset: 0.0,
                explicit_weight: 0.05,
                recency_half_life: 5.0,
                seed: 43,
                cg_steps: None,
            }),
            neighbours: Some(NeighbourSettings { k: 30, shrink: 0.0, rating_weight: 0.6, rating_shrink: 1.0 }),
            content: Some(ContentSettings::default()),
            // Every training user of a small data set; the 1,000 most active of a large one (all of
            // ML-25M would be tens of MB; see tuning/README.md for the pool-size trade-off).
            users: Some(UserPoolSettings { k: 50, shrink: 10.0, max_users: Some(1000) }),
            neural: Some(NeuralSettings::default()),
            // Buckets 1 and 2 were chosen on validation users (tuning/README.md). No MovieLens user
            // has under 5 given ratings in the protocol, so bucket 0 leans on content by design.
            hybrid: HybridWeights {
                buckets: [
                    BlendWeights { factor: 0.5, neighbour: 0.05, content: 0.4, user: 0.05, neural: 0.0 },
                    BlendWeights { factor: 0.4, neighbour: 0.1, content: 0.5, user: 0.1, neural: 0.8 },
                    BlendWeights { factor: 0.4, neighbour: 0.1, content: 0.5, user: 0.1, neural: 0.8 },
                ],
            },
            storage: FactorStorage::Int4,
            neural_storage: FactorStorage::Int8,
            factor_min_ratings: 5,
            progress: false,
        }
    }
}

fn setting_error(name: &'static str, value: impl ToString, reason: &str) -> Error {
    Error::InvalidSetting { name, value: value.to_string(), reason: reason.into() }
}

impl TrainSettings {
    /// These settings with the row solver chosen for `ratings` ratings (see [`cg_steps_for`]).
    pub fn for_ratings(&self, ratings: usize) -> Self {
        let mut s = self.clone();
        s.explicit.cg_steps = Some(cg_steps_for(s.explicit.cg_steps, ratings));
        if let Some(i) = s.implicit.as_mut() {
            i.cg_steps = Some(cg_steps_for(i.cg_steps, ratings));
        }
        s
    }

    /// Checks every setting's domain.
    pub fn validate(&self) -> Result<()> {
        let e = &self.explicit;
        if !(1..=512).contains(&e.factors) {
            return Err(setting_error("factors", e.factors, "must be in 1..=512"));
        }
        if !(1..=200).contains(&e.iterations) {
            return Err(setting_error("iterations", e.iterations, "must be in 1..=200"));
        }
        for (name, v) in [("reg_factors", e.reg_factors), ("reg_bias", e.reg_bias)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(setting_error(name, v, "must be finite and > 0"));
            }
        }
        if let Some(i) = &self.implicit {
            if !(1..=512).contains(&i.factors) {
                return Err(setting_error("implicit_factors", i.factors, "must be in 1..=512"));
            }
            if !(1..=200).contains(&i.iterations) {
                return Err(setting_error("implicit_iterations", i.iterations, "must be in 1..=200"));
            }
            if !(i.reg.is_finite() && i.reg > 0.0) {
                return Err(setting_error("implicit_reg", i.reg, "must be finite and > 0"));
            }
            if !(i.alpha.is_finite() && i.alpha >= 0.0) {
                return Err(setting_error("alpha", i.alpha, "must be finite and >= 0"));
            }
            if !(i.recency_half_life.is_finite() && i.recency_half_life >= 0.0) {
                return Err(setting_error("recency_half_life", i.recency_half_life, "must be finite and >= 0"));
            }
            if !i.rating_offset.is_finite() || !i.explicit_weight.is_finite() {
                return Err(setting_error(
                    "rating_offset/explicit_weight",
                    format!("{}/{}", i.rating_offset, i.explicit_weight),
                    "must be finite",
                ));
            }
        }
        if let Some(nb) = &self.neighbours {
            if !(1..=1000).contains(&nb.k) {
                return Err(setting_error("neighbours", nb.k, "must be in 1..=1000"));
            }
            if !(nb.shrink.is_finite() && nb.shrink >= 0.0) {
                return Err(setting_error("shrink", nb.shrink, "must be finite and >= 0"));
            }
            if !(nb.rating_weight.is_finite() && nb.rating_weight >= 0.0 && nb.rating_shrink.is_finite() && nb.rating_shrink > 0.0) {
                return Err(setting_error("knn_rating", format!("{}/{}", nb.rating_weight, nb.rating_shrink), "weight >= 0, shrink > 0"));
            }
        }
        if let Some(n) = &self.neural {
            let ok = (1..=1024).contains(&n.hidden)
                && (1..=1000).contains(&n.epochs)
                && n.batch >= 1
                && n.learning_rate.is_finite()
                && n.learning_rate > 0.0
                && n.weight_decay.is_finite()
                && n.weight_decay >= 0.0
                && (0.0..1.0).contains(&n.dropout)
                && n.liked_from.is_finite()
                && n.disliked_weight.is_finite()
                && n.disliked_weight >= 0.0;
            if !ok {
                return Err(setting_error(
                    "neural",
                    format!("{n:?}"),
                    "hidden 1..=1024, epochs 1..=1000, batch >= 1, learning rate > 0, decay >= 0, dropout in [0, 1), liked threshold finite, disliked weight >= 0",
                ));
            }
        }
        for b in &self.hybrid.buckets {
            let w = b.as_array();
            if w.iter().any(|w| !(w.is_finite() && *w >= 0.0)) || w.iter().sum::<f32>() <= 0.0 {
                return Err(setting_error("blend", format!("{w:?}"), "weights must be >= 0 and not all 0"));
            }
        }
        if let Some(u) = &self.users {
            if u.k == 0 || !(u.shrink.is_finite() && u.shrink >= 0.0) || u.max_users == Some(0) {
                return Err(setting_error("user_pool", format!("{u:?}"), "k and pool size >= 1, shrink finite and >= 0"));
            }
        }
        if let Some(c) = &self.content {
            if c.max_features == 0 {
                return Err(setting_error("content_features", c.max_features, "must be >= 1"));
            }
        }
        Ok(())
    }

    /// One line describing the settings, stored in the model.
    pub fn describe(&self) -> String {
        let e = &self.explicit;
        let mut s = format!("explicit ALS k={} iters={} reg={}/{} seed={}", e.factors, e.iterations, e.reg_factors, e.reg_bias, e.seed);
        if let Some(steps @ 1..) = e.cg_steps {
            s += &format!(" cg_steps={steps}");
        }
        if let Some(i) = &self.implicit {
            s += &format!(
                "; implicit ALS k={} iters={} reg={} alpha={} offset={} explicit_weight={} half_life={} seed={}",
                i.factors, i.iterations, i.reg, i.alpha, i.rating_offset, i.explicit_weight, i.recency_half_life, i.seed
            );
            if let Some(steps @ 1..) = i.cg_steps {
                s += &format!(" cg_steps={steps}");
            }
        }
        if let Some(nb) = &self.neighbours {
            s += &format!("; item kNN k={} shrink={} star correction {}/{}", nb.k, nb.shrink, nb.rating_weight, nb.rating_shrink);
        }
        if let Some(c) = &self.content {
            s += &format!("; content features<={} min movies={}", c.max_features, c.min_movies);
        }
        if let Some(u) = &self.users {
            s += &format!("; user kNN k={} shrink={} pool={}", u.k, u.shrink, u.max_users.map_or("all".into(), |m| m.to_string()));
        }
        if let Some(n) = &self.neural {
            s += &format!(
                "; autoencoder hidden={} epochs={} lr={} decay={} dropout={} batch={} min ratings={} liked>={} disliked weight={} seed={}",
                n.hidden,
                n.epochs,
                n.learning_rate,
                n.weight_decay,
                n.dropout,
                n.batch,
                n.min_ratings,
                n.liked_from,
                n.disliked_weight,
                n.seed
            );
        }
        let b = |w: &BlendWeights| format!("{}:{}:{}:{}:{}", w.factor, w.neighbour, w.content, w.user, w.neural);
        s += &format!("; hybrid blend {}", self.hybrid.buckets.iter().map(b).collect::<Vec<_>>().join("/"));
        s + &format!(
            "; storage={:?} (autoencoder {:?}); factors for movies with >= {} ratings",
            self.storage, self.neural_storage, self.factor_min_ratings
        )
    }
}

/// Ratings as two compressed sparse row tables over dense user and item indices.
#[derive(Clone, Debug)]
pub struct Interactions {
    /// User ids in row order.
    pub users: Vec<u32>,
    /// Movie ids in row order (ascending).
    pub items: Vec<MovieId>,
    by_user: Csr,
    by_item: Csr,
}

/// One row of ratings: the other side's rows and the ratings, parallel.
type Slices<'a> = (&'a [u32], &'a [f32]);

#[derive(Clone, Debug, Default)]
struct Csr {
    offsets: Vec<usize>,
    index: Vec<u32>,
    rating: Vec<f32>,
}

impl Csr {
    fn build(rows: usize, triples: &[(u32, u32, f32)]) -> Self {
        let mut offsets = vec![0usize; rows + 1];
        for &(r, _, _) in triples {
            offsets[r as usize + 1] += 1;
        }
        for i in 0..rows {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut index = vec![0u32; triples.len()];
        let mut rating = vec![0f32; triples.len()];
        for &(r, c, v) in triples {
            let at = fill[r as usize];
            index[at] = c;
            rating[at] = v;
            fill[r as usize] += 1;
        }
        Self { offsets, index, rating }
    }

    fn row(&self, r: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let (index, rating) = self.slices(r);
        index.iter().map(|&i| i as usize).zip(rating.iter().copied())
    }

    /// Row `r` as `(other-side rows, ratings)`.
    fn slices(&self, r: usize) -> Slices<'_> {
        let span = self.offsets[r]..self.offsets[r + 1];
        (&self.index[span.clone()], &self.rating[span])
    }
}

/// A hasher for the integer ids of training data (Fx-style multiply-rotate). The default SipHash
/// resists adversarial keys, which a trainer's own input is not, at several times the cost: the
/// (user, movie) map of 25M ratings is the largest table the trainer builds.
#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

type IdMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<IdHasher>>;

impl Interactions {
    /// Indexes ratings; a repeated (user, movie) keeps the latest by timestamp.
    pub fn new(ratings: &[RatingRecord]) -> Result<Self> {
        if ratings.is_empty() {
            return Err(Error::NotEnoughData("no ratings to train on".into()));
        }
        let mut latest: IdMap<(u32, MovieId), (i64, f32)> = IdMap::with_capacity_and_hasher(ratings.len(), Default::default());
        for r in ratings {
            let e = latest.entry((r.user, r.movie)).or_insert((r.timestamp, r.rating));
            if r.timestamp >= e.0 {
                *e = (r.timestamp, r.rating);
            }
        }
        let mut users: Vec<u32> = latest.keys().map(|k| k.0).collect();
        users.sort_unstable();
        users.dedup();
        let mut items: Vec<MovieId> = latest.keys().map(|k| k.1).collect();
        items.sort_unstable();
        items.dedup();
        let user_row: IdMap<u32, u32> = users.iter().enumerate().map(|(i, &u)| (u, i as u32)).collect();
        let item_row: IdMap<MovieId, u32> = items.iter().enumerate().map(|(i, &m)| (m, i as u32)).collect();
        let mut triples: Vec<(u32, u32, f32)> = latest.into_iter().map(|((u, m), (_, r))| (user_row[&u], item_row[&m], r)).collect();
        triples.sort_unstable_by_key(|t| (t.0, t.1));
        let by_user = Csr::build(users.len(), &triples);
        let swapped: Vec<(u32, u32, f32)> = triples.iter().map(|&(u, i, r)| (i, u, r)).collect();
        let by_item = Csr::build(items.len(), &swapped);
        Ok(Self { users, items, by_user, by_item })
    }

    /// Number of distinct (user, movie) ratings.
    pub fn len(&self) -> usize {
        self.by_user.index.len()
    }

    /// True when there is no rating.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Ratings of user row `u` as `(item row, rating)`.
    pub fn user_ratings(&self, u: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        self.by_user.row(u)
    }

    /// Ratings of item row `i` as `(user row, rating)`.
    pub fn item_ratings(&self, i: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        self.by_item.row(i)
    }

    fn mean(&self) -> f32 {
        (self.by_user.rating.iter().map(|&r| r as f64).sum::<f64>() / self.len() as f64) as f32
    }
}

/// A trained explicit model, both sides.
#[derive(Clone, Debug)]
pub struct ExplicitFit {
    /// Global mean.
    pub global_mean: f32,
    /// User biases by user row.
    pub user_bias: Vec<f32>,
    /// User factors.
    pub user_factors: FactorMatrix,
    /// Item biases by item row.
    pub item_bias: Vec<f32>,
    /// Item factors.
    pub item_factors: FactorMatrix,
}

/// A trained implicit model, both sides.
#[derive(Clone, Debug)]
pub struct ImplicitFit {
    /// User factors.
    pub user_factors: FactorMatrix,
    /// Item factors.
    pub item_factors: FactorMatrix,
}

/// splitmix64: a tiny, well-mixed, seedable generator for deterministic initialisation.
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn next_f32(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 40) as f32 / (1u64 << 24) as f32
    }
}

fn random_factors(rows: usize, k: usize, seed: u64) -> FactorMatrix {
    let mut rng = SplitMix(seed);
    let scale = 1.0 / (k as f32).sqrt();
    let data = (0..rows * k).map(|_| (rng.next_f32() - 0.5) * scale).collect();
    FactorMatrix::new(rows, k, data, FactorStorage::F32).expect("finite by construction")
}

fn to_matrix(rows: Vec<Vec<f32>>, k: usize) -> FactorMatrix {
    let n = rows.len();
    FactorMatrix::new(n, k, rows.into_iter().flatten().collect(), FactorStorage::F32).expect("solver returns finite values")
}

/// Solves every row of one side of the explicit model against the other side.
fn explicit_half_step<'d>(
    n: usize,
    ratings_of: &(dyn Fn(usize) -> Slices<'d> + Sync),
    mu: f32,
    other_bias: &[f32],
    other_factors: &FactorMatrix,
    previous: (&[f32], &FactorMatrix),
    s: &ExplicitSettings,
) -> (Vec<f32>, FactorMatrix) {
    let k = other_factors.cols();
    let steps = s.cg_steps.unwrap_or(0);
    let solved: Vec<(f32, Vec<f32>)> = (0..n)
        .into_par_iter()
        .map(|row| {
            if steps > 0 {
                // Unknowns [b, p]; observations z_j = [1, q_j] with targets r - mu - b_j.
                let (rated, ratings) = ratings_of(row);
                let block = Gathered::new(other_factors, rated);
                let targets: Vec<f32> = rated.iter().zip(ratings).map(|(&j, &r)| r - mu - other_bias[j as usize]).collect();
                let mut b = vec![0.0f64; k + 1];
                b[0] = targets.iter().map(|&t| t as f64).sum();
                block.add_weighted_rows(&targets, &mut b[1..]);
                let apply = |v: &[f64], out: &mut [f64]| {
                    let v32: Vec<f32> = v[1..].iter().map(|&x| x as f32).collect();
                    // (z_j . v) for z_j = [1, q_j], then sum_j (z_j . v) z_j.
                    let d: Vec<f32> = block.rows().map(|q| v[0] as f32 + crate::kernels::dot(q, &v32)).collect();
                    out[0] = s.reg_bias as f64 * v[0] + d.iter().map(|&x| x as f64).sum::<f64>();
                    out[1..].iter_mut().zip(&v[1..]).for_each(|(o, v)| *o = s.reg_factors as f64 * v);
                    block.add_weighted_rows(&d, &mut out[1..]);
                };
                let mut x: Vec<f64> =
                    std::iter::once(previous.0[row] as f64).chain(previous.1.row(row).iter().map(|&v| v as f64)).collect();
                crate::solve::conjugate_gradient(apply, &b, &mut x, steps);
                return (x[0] as f32, x[1..].iter().map(|&v| v as f32).collect());
            }
            let (rated, ratings) = ratings_of(row);
            let eq = explicit_row_equations(mu, other_bias, other_factors, rated.iter().map(|&j| j as usize).zip(ratings.iter().copied()));
            match eq.solve(s.reg_factors as f64, s.reg_bias as f64) {
                Some(x) => (x[0] as f32, x[1..].iter().map(|&v| v as f32).collect()),
                None => (0.0, vec![0.0; k]),
            }
        })
        .collect();
    let (bias, factors): (Vec<f32>, Vec<Vec<f32>>) = solved.into_iter().unzip();
    (bias, to_matrix(factors, k))
}

/// Trains the biased explicit model by ALS.
pub fn fit_explicit(data: &Interactions, s: &ExplicitSettings, progress: bool) -> ExplicitFit {
    let s = &ExplicitSettings { cg_steps: Some(cg_steps_for(s.cg_steps, data.len())), ..s.clone() };
    let mu = data.mean();
    let k = s.factors;
    let mut item_factors = random_factors(data.items.len(), k, s.seed);
    let mut item_bias = vec![0.0f32; data.items.len()];
    let mut user_bias = vec![0.0f32; data.users.len()];
    let mut user_factors = random_factors(data.users.len(), k, s.seed ^ 0x5555);
    for it in 0..s.iterations {
        let t = Instant::now();
        (user_bias, user_factors) = explicit_half_step(
            data.users.len(),
            &|u| data.by_user.slices(u),
            mu,
            &item_bias,
            &item_factors,
            (&user_bias, &user_factors),
            s,
        );
        (item_bias, item_factors) = explicit_half_step(
            data.items.len(),
            &|i| data.by_item.slices(i),
            mu,
            &user_bias,
            &user_factors,
            (&item_bias, &item_factors),
            s,
        );
        if progress {
            let fit = ExplicitFit {
                global_mean: mu,
                user_bias: user_bias.clone(),
                user_factors: user_factors.clone(),
                item_bias: item_bias.clone(),
                item_factors: item_factors.clone(),
            };
            eprintln!(
                "  explicit ALS {}/{}: train RMSE {:.4} ({:.2} s)",
                it + 1,
                s.iterations,
                train_rmse(data, &fit),
                t.elapsed().as_secs_f64()
            );
        }
    }
    ExplicitFit { global_mean: mu, user_bias, user_factors, item_bias, item_factors }
}

/// RMSE of the fit on its own training ratings.
pub fn train_rmse(data: &Interactions, fit: &ExplicitFit) -> f64 {
    let mut se = 0.0f64;
    for u in 0..data.users.len() {
        for (i, r) in data.user_ratings(u) {
            let p = fit.global_mean
                + fit.user_bias[u]
                + fit.item_bias[i]
                + crate::fold_in::dot(fit.user_factors.row(u), fit.item_factors.row(i));
            se += ((p - r) as f64).powi(2);
        }
    }
    (se / data.len() as f64).sqrt()
}

fn implicit_half_step<'d>(
    n: usize,
    ratings_of: &(dyn Fn(usize) -> Slices<'d> + Sync),
    other_factors: &FactorMatrix,
    previous: &FactorMatrix,
    s: &ImplicitSettings,
) -> FactorMatrix {
    let k = other_factors.cols();
    let steps = s.cg_steps.unwrap_or(0);
    let gram = other_factors.gram();
    // Age 0 for every rating: training does not decay (see `recency_half_life`).
    let confidence = |r: f32| confidence(s.alpha, s.rating_offset, 0.0, r, 0);
    let rows: Vec<Vec<f32>> = (0..n)
        .into_par_iter()
        .map(|row| {
            let (rated, ratings) = ratings_of(row);
            let confidences: Vec<f32> = ratings.iter().map(|&r| confidence(r)).collect();
            if steps > 0 {
                // (Y^T Y + reg I + sum (c_j - 1) y_j y_j^T) x = sum c_j y_j, matrix-free.
                let block = Gathered::new(other_factors, rated);
                let mut b = vec![0.0f64; k];
                block.add_weighted_rows(&confidences, &mut b);
                let apply = |v: &[f64], out: &mut [f64]| {
                    for (a, o) in out.iter_mut().enumerate() {
                        *o = s.reg as f64 * v[a] + gram[a * k..(a + 1) * k].iter().zip(v).map(|(g, v)| g * v).sum::<f64>();
                    }
                    let v32: Vec<f32> = v.iter().map(|&x| x as f32).collect();
                    let d: Vec<f32> = block.rows().zip(&confidences).map(|(y, &c)| (c - 1.0) * crate::kernels::dot(y, &v32)).collect();
                    block.add_weighted_rows(&d, out);
                };
                let mut x: Vec<f64> = previous.row(row).iter().map(|&v| v as f64).collect();
                crate::solve::conjugate_gradient(apply, &b, &mut x, steps);
                return x.iter().map(|&v| v as f32).collect();
            }
            let eq = implicit_row_equations(&gram, other_factors, rated.iter().map(|&j| j as usize).zip(confidences));
            match eq.solve(s.reg as f64, 0.0) {
                Some(x) => x.iter().map(|&v| v as f32).collect(),
                None => vec![0.0; k],
            }
        })
        .collect();
    to_matrix(rows, k)
}

/// Above this many ratings, ALS rows are solved by conjugate gradient unless the settings say.
pub const LARGE_RATINGS: usize = 2_000_000;

/// The conjugate-gradient steps a sweep for `ratings` ratings: the setting when given, else exact
/// solves (0) up to [`LARGE_RATINGS`] and 3 steps above. Exact row solves cost `k^2` a rating;
/// 3 steps gave the same quality on ml-latest-small (tuning/README.md) at a fraction of it.
pub fn cg_steps_for(setting: Option<usize>, ratings: usize) -> usize {
    setting.unwrap_or(if ratings > LARGE_RATINGS { 3 } else { 0 })
}

/// One row's observed factor rows copied into a contiguous block, so that the conjugate-gradient
/// steps stream through them from cache instead of gathering from the whole matrix each step.
struct Gathered {
    k: usize,
    values: Vec<f32>,
}

impl Gathered {
    fn new(m: &FactorMatrix, rows: &[u32]) -> Self {
        /// Rows requested ahead of the one copied: at ML-25M size the copies are cache misses
        /// into matrices far larger than the cache, and asking early lets them overlap (sweeps
        /// 3.0 -> 2.4 s there; results unchanged).
        const AHEAD: usize = 16;
        let k = m.cols();
        let mut values = Vec::with_capacity(rows.len() * k);
        for (i, &r) in rows.iter().enumerate() {
            if let Some(&next) = rows.get(i + AHEAD) {
                prefetch(m.row(next as usize));
            }
            values.extend_from_slice(m.row(r as usize));
        }
        Self { k, values }
    }

    fn rows(&self) -> impl Iterator<Item = &[f32]> {
        self.values.chunks_exact(self.k.max(1))
    }

    /// `out += sum_j w_j row_j`, accumulated in f32 then added in f64. Four rows go into the
    /// accumulator at once: a quarter of its loads and stores (sweeps 2.4 -> 2.2 s at ML-25M size).
    fn add_weighted_rows(&self, weights: &[f32], out: &mut [f64]) {
        let k = self.k;
        let mut acc = vec![0.0f32; k];
        let mut quads = self.values.chunks_exact(4 * k.max(1)).zip(weights.chunks_exact(4));
        for (rows, w) in &mut quads {
            let (r0, rest) = rows.split_at(k);
            let (r1, rest) = rest.split_at(k);
            let (r2, r3) = rest.split_at(k);
            for ((((a, &y0), &y1), &y2), &y3) in acc.iter_mut().zip(r0).zip(r1).zip(r2).zip(r3) {
                *a += (w[0] * y0 + w[1] * y1) + (w[2] * y2 + w[3] * y3);
            }
        }
        let done = weights.len() - weights.len() % 4;
        for (row, &w) in self.rows().skip(done).zip(&weights[done..]) {
            acc.iter_mut().zip(row).for_each(|(a, &y)| *a += w * y);
        }
        out.iter_mut().zip(acc).for_each(|(o, a)| *o += a as f64);
    }
}

/// Asks the CPU to start loading `values` into cache (a hint: no effect on results).
fn prefetch(values: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    for line in values.chunks(16) {
        // SAFETY: a prefetch is a hint that never faults, and the pointer is into a live slice.
        unsafe { core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(line.as_ptr() as *const i8) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = values;
}

/// Trains the confidence-weighted implicit model by ALS.
pub fn fit_implicit(data: &Interactions, s: &ImplicitSettings, progress: bool) -> ImplicitFit {
    let s = &ImplicitSettings { cg_steps: Some(cg_steps_for(s.cg_steps, data.len())), ..s.clone() };
    let mut item_factors = random_factors(data.items.len(), s.factors, s.seed);
    let mut user_factors = random_factors(data.users.len(), s.factors, s.seed ^ 0x5555);
    for it in 0..s.iterations {
        let t = Instant::now();
        user_factors = implicit_half_step(data.users.len(), &|u| data.by_user.slices(u), &item_factors, &user_factors, s);
        item_factors = implicit_half_step(data.items.len(), &|i| data.by_item.slices(i), &user_factors, &item_factors, s);
        if progress {
            eprintln!("  implicit ALS {}/{} ({:.2} s)", it + 1, s.iterations, t.elapsed().as_secs_f64());
        }
    }
    ImplicitFit { user_factors, item_factors }
}

/// Trains every model on `ratings` and packs them with the metadata of `movies`. The catalogue
/// is every movie in the metadata plus any rated id missing from it (with a placeholder title);
/// movies without ratings get zero factors and no neighbours, and are reached by the content
/// method only. Tags count only when their author is a training user (a held-out user's tags
/// would leak what they watched).
pub fn build_model(
    dataset: &str,
    movies: &[MovieRecord],
    tags: &[TagRecord],
    ratings: &[RatingRecord],
    settings: &TrainSettings,
) -> Result<Model> {
    settings.validate()?;
    let data = Interactions::new(ratings)?;
    let settings = &settings.for_ratings(data.len());
    let progress = settings.progress;
    if progress {
        eprintln!("training on {} ratings, {} users, {} movies: {}", data.len(), data.users.len(), data.items.len(), settings.describe());
    }
    let explicit = fit_explicit(&data, &settings.explicit, progress);
    let implicit = settings.implicit.as_ref().map(|s| (s, fit_implicit(&data, s, progress)));
    let neural = settings.neural.as_ref().and_then(|s| {
        let t = Instant::now();
        let fit = fit_autoencoder(&data, s, progress);
        if progress {
            eprintln!("  autoencoder: {:.2} s", t.elapsed().as_secs_f64());
        }
        fit
    });
    let neighbours = settings.neighbours.as_ref().map(|s| {
        let t = Instant::now();
        let nb = item_neighbours(&data, s);
        if progress {
            eprintln!("  item neighbours: {} pairs in {:.2} s", nb.neighbour.len(), t.elapsed().as_secs_f64());
        }
        nb
    });

    let Catalogue { ids, row_of, rated_row, genre_names, movies: catalogue } = Catalogue::new(movies, &data)?;
    let n = ids.len();
    let supported = |i: usize| data.by_item.slices(i).0.len() >= settings.factor_min_ratings as usize;
    let spread = |m: &FactorMatrix| {
        let filled = rated_row.iter().enumerate().filter(|&(i, _)| supported(i)).map(|(i, &r)| (r, m.row(i)));
        catalogue_matrix(n, m.cols(), filled, settings.storage).expect("copied finite values")
    };
    let mut item_bias = vec![0.0f32; n];
    for (i, &r) in rated_row.iter().enumerate() {
        item_bias[r] = explicit.item_bias[i];
    }
    let neighbours = neighbours.map(|nb| remap_neighbours(nb, &rated_row, n));
    let meta: HashMap<MovieId, &MovieRecord> = movies.iter().map(|m| (m.id, m)).collect();
    let content = settings.content.as_ref().map(|s| {
        let training_users: std::collections::HashSet<u32> = data.users.iter().copied().collect();
        let mut tags_by_row = vec![Vec::new(); n];
        for t in tags.iter().filter(|t| training_users.contains(&t.user)) {
            if let Some(&r) = row_of.get(&t.movie) {
                tags_by_row[r].push(t.tag.clone());
            }
        }
        let metadata: Vec<Option<&MovieRecord>> = ids.iter().map(|id| meta.get(id).copied()).collect();
        build_content(&metadata, &tags_by_row, s)
    });
    let model = Model {
        info: model_info(dataset, &data, ratings, settings.describe()),
        genre_names,
        movies: catalogue,
        explicit: ExplicitFactors {
            global_mean: explicit.global_mean,
            item_bias,
            item_factors: spread(&explicit.item_factors),
            reg_factors: settings.explicit.reg_factors,
            reg_bias: settings.explicit.reg_bias,
            rule: RegRule::Constant,
        },
        implicit: implicit.map(|(s, fit)| ImplicitFactors {
            item_factors: spread(&fit.item_factors),
            reg: s.reg,
            alpha: s.alpha,
            rating_offset: s.rating_offset,
            explicit_weight: s.explicit_weight,
            recency_half_life: s.recency_half_life,
            rule: RegRule::Constant,
        }),
        neighbours,
        content,
        users: settings.users.as_ref().map(|s| user_pool(&data, &rated_row, s)),
        neural: neural.map(|fit| crate::neural::Autoencoder {
            rows: fit.items.iter().map(|&i| rated_row[i] as u32).collect(),
            weights: FactorMatrix::new(fit.items.len(), fit.hidden_bias.len(), fit.weights, FactorStorage::F32)
                .expect("trained weights are finite")
                .with_storage(settings.neural_storage),
            hidden_bias: fit.hidden_bias,
            output_bias: fit.output_bias,
            liked_from: settings.neural.as_ref().map_or(0.0, |n| n.liked_from),
            disliked_weight: settings.neural.as_ref().map_or(1.0, |n| n.disliked_weight),
        }),
        hybrid: settings.hybrid,
    };
    model.validate()?;
    Ok(model)
}

/// The catalogue rows of a model: metadata ids and rated ids, ascending.
pub struct Catalogue {
    /// Movie id of each row.
    pub ids: Vec<MovieId>,
    /// Row of each id.
    pub row_of: HashMap<MovieId, usize>,
    /// `rated_row[i]`: the row of `Interactions::items[i]`.
    pub rated_row: Vec<usize>,
    /// Genre names, sorted; bit `g` of a movie's genres is `genre_names[g]`.
    pub genre_names: Vec<String>,
    /// Each row's metadata and training rating statistics.
    pub movies: Vec<Movie>,
}

impl Catalogue {
    /// Joins metadata with the training ratings' statistics.
    pub fn new(movies: &[MovieRecord], data: &Interactions) -> Result<Self> {
        let mut ids: Vec<MovieId> = movies.iter().map(|m| m.id).chain(data.items.iter().copied()).collect();
        ids.sort_unstable();
        ids.dedup();
        let row_of: HashMap<MovieId, usize> = ids.iter().enumerate().map(|(r, &id)| (id, r)).collect();
        let rated_row: Vec<usize> = data.items.iter().map(|id| row_of[id]).collect();
        let mut genre_names: Vec<String> = movies.iter().flat_map(|m| m.genres.iter().cloned()).collect();
        genre_names.sort();
        genre_names.dedup();
        if genre_names.len() > 32 {
            return Err(Error::NotEnoughData(format!("{} genres, at most 32 are supported", genre_names.len())));
        }
        let meta: HashMap<MovieId, &MovieRecord> = movies.iter().map(|m| (m.id, m)).collect();
        let mut stats = vec![(0u32, 0f64); ids.len()];
        for (i, &r) in rated_row.iter().enumerate() {
            stats[r] = data.item_ratings(i).fold((0u32, 0f64), |(c, s), (_, x)| (c + 1, s + x as f64));
        }
        let movies = ids
            .iter()
            .zip(&stats)
            .map(|(&id, &(count, sum))| {
                let rec = meta.get(&id);
                Movie {
                    id,
                    title: rec.map(|m| m.title.clone()).unwrap_or_else(|| format!("Movie {}", id.0)),
                    year: rec.and_then(|m| m.year),
                    genres: rec
                        .map(|m| {
                            m.genres.iter().map(|g| 1u32 << genre_names.binary_search(g).expect("collected above")).fold(0, |a, b| a | b)
                        })
                        .unwrap_or(0),
                    imdb_id: rec.and_then(|m| m.imdb_id),
                    tmdb_id: rec.and_then(|m| m.tmdb_id),
                    rating_count: count,
                    rating_mean: crate::model::round_mean((sum / count.max(1) as f64) as f32),
                }
            })
            .collect();
        Ok(Self { ids, row_of, rated_row, genre_names, movies })
    }
}

/// A `rows x k` matrix over catalogue rows, `filled` with `(row, values)` and zero elsewhere
/// (movies a factor model has nothing for), stored as `storage`.
pub fn catalogue_matrix<'a>(
    rows: usize,
    k: usize,
    filled: impl IntoIterator<Item = (usize, &'a [f32])>,
    storage: FactorStorage,
) -> Result<FactorMatrix> {
    let mut values = vec![0.0f32; rows * k];
    for (row, v) in filled {
        values[row * k..(row + 1) * k].copy_from_slice(v);
    }
    Ok(FactorMatrix::new(rows, k, values, FactorStorage::F32)?.with_storage(storage))
}

/// Provenance of a model trained (by us or by Spark) on `ratings`: counts and rating scale.
pub fn model_info(dataset: &str, data: &Interactions, ratings: &[RatingRecord], trainer: String) -> ModelInfo {
    let (rating_min, rating_max) = ratings.iter().fold((f32::MAX, f32::MIN), |(lo, hi), r| (lo.min(r.rating), hi.max(r.rating)));
    ModelInfo { dataset: dataset.to_string(), users: data.users.len() as u32, ratings: data.len() as u64, rating_min, rating_max, trainer }
}

/// The training users shipped for user-based kNN, their ratings on catalogue rows.
fn user_pool(data: &Interactions, rated_row: &[usize], s: &UserPoolSettings) -> UserPool {
    let mut users: Vec<usize> = (0..data.users.len()).collect();
    if let Some(max) = s.max_users.filter(|&m| m < users.len()) {
        users.sort_by_key(|&u| (std::cmp::Reverse(data.user_ratings(u).count()), u));
        users.truncate(max);
        users.sort_unstable();
    }
    let mut offsets = vec![0u32];
    let (mut rows, mut half_stars) = (Vec::new(), Vec::new());
    for u in users {
        for (i, r) in data.user_ratings(u) {
            rows.push(rated_row[i] as u32);
            half_stars.push((r * 2.0).round().clamp(0.0, 20.0) as u8);
        }
        offsets.push(rows.len() as u32);
    }
    UserPool { offsets, rows, half_stars, k: s.k, shrink: s.shrink }
}

/// Re-indexes a neighbour table from rated-item rows to catalogue rows (unrated rows get none).
fn remap_neighbours(nb: ItemNeighbours, rated_row: &[usize], n: usize) -> ItemNeighbours {
    let mut lists: Vec<Vec<(u32, u8)>> = vec![Vec::new(); n];
    for (i, &r) in rated_row.iter().enumerate() {
        let span = nb.offsets[i] as usize..nb.offsets[i + 1] as usize;
        lists[r] = nb.neighbour[span.clone()].iter().zip(&nb.similarity[span]).map(|(&j, &q)| (rated_row[j as usize] as u32, q)).collect();
    }
    let mut offsets = vec![0u32];
    let (mut neighbour, mut similarity) = (Vec::new(), Vec::new());
    for list in lists {
        for (j, q) in list {
            neighbour.push(j);
            similarity.push(q);
        }
        offsets.push(neighbour.len() as u32);
    }
    ItemNeighbours { offsets, neighbour, similarity, ..nb }
}

/// For every item its `k` most similar items by shrunk cosine similarity of their raters:
/// `c_ij / sqrt(n_i n_j) * c_ij / (c_ij + shrink)`, with `c_ij` users who rated both.
/// Each item's co-rater counts are gathered in a dense scratch row (one per thread), so the
/// cost is the sum over users of their rating count squared, and memory stays linear.
pub fn item_neighbours(data: &Interactions, s: &NeighbourSettings) -> ItemNeighbours {
    let n = data.items.len();
    let counts: Vec<f32> = (0..n).map(|i| data.item_ratings(i).count() as f32).collect();
    let lists: Vec<Vec<(usize, f32)>> = (0..n)
        .into_par_iter()
        .map_init(
            || (vec![0u32; n], Vec::new()),
            |(co, touched), i| {
                for (u, _) in data.item_ratings(i) {
                    for (j, _) in data.user_ratings(u) {
                        if j != i {
                            if co[j] == 0 {
                                touched.push(j);
                            }
                            co[j] += 1;
                        }
                    }
                }
                let sims: Vec<(usize, f32)> = touched
                    .iter()
                    .map(|&j| {
                        let c = co[j] as f32;
                        (j, c / (counts[i] * counts[j]).sqrt() * c / (c + s.shrink))
                    })
                    .collect();
                for &j in touched.iter() {
                    co[j] = 0;
                }
                touched.clear();
                // Most similar first, ties by row (rows ascend with movie ids).
                top_k(sims.into_iter(), s.k, |j| MovieId(j as u32))
            },
        )
        .collect();
    let max_similarity = lists.iter().flatten().fold(0.0f32, |m, &(_, v)| m.max(v));
    let mut offsets = Vec::with_capacity(n + 1);
    let (mut neighbour, mut similarity) = (Vec::new(), Vec::new());
    offsets.push(0u32);
    for list in lists {
        for (j, v) in list {
            let q = if max_similarity > 0.0 { (v / max_similarity * 255.0).round() as u8 } else { 0 };
            if q > 0 {
                neighbour.push(j as u32);
                similarity.push(q);
            }
        }
        offsets.push(neighbour.len() as u32);
    }
    ItemNeighbours {
        offsets,
        neighbour,
        similarity,
        max_similarity,
        shrink: s.shrink,
        rating_weight: s.rating_weight,
        rating_shrink: s.rating_shrink,
    }
}
