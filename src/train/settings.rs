//! Training settings: one type per method's training, gathered in [`TrainSettings`], and
//! [`Checked`], the settings after validation, which is what [`super::build_model`] takes (the
//! unfitted-settings / checked-settings split of linfa's `ParamGuard`).

use crate::error::{Error, Result};
use crate::factors::FactorStorage;
use crate::methods::hybrid::{BlendWeights, HybridWeights};
use crate::methods::Method;
use crate::model::Learned;

use super::content::ContentSettings;
use super::ease::EaseSettings;
use super::item_knn::ItemKnnSettings;
use super::neural::NeuralSettings;
use super::user_knn::UserKnnSettings;

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
    /// [`crate::methods::mf::ImplicitFactors`]. Training weighs every rating alike: decaying
    /// training users' older ratings too was measured and hurt (validation NDCG@10 0.062
    /// against 0.122).
    pub recency_half_life: f32,
    /// The order-coherence a long history needs for the decay to apply (0: it always does);
    /// see [`crate::methods::mf::ImplicitFactors::order_says_enough`].
    pub recency_coherence: f32,
    /// Seed of the initial item factors.
    pub seed: u64,
    /// Row solves, as [`ExplicitSettings::cg_steps`].
    pub cg_steps: Option<usize>,
}

/// Everything the trainer needs; [`TrainSettings::check`] validates it once.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainSettings {
    /// Rating model.
    pub explicit: ExplicitSettings,
    /// Ranking model (None ranks by predicted rating).
    pub implicit: Option<ImplicitSettings>,
    /// Item neighbours (None: no item_knn method).
    pub item_knn: Option<ItemKnnSettings>,
    /// Attribute vectors (None: no content method).
    pub content: Option<ContentSettings>,
    /// User pool (None: no user_knn method).
    pub user_knn: Option<UserKnnSettings>,
    /// The neural method's autoencoder (None: no neural method).
    pub neural: Option<NeuralSettings>,
    /// EASE's weights (None: no ease method).
    pub ease: Option<EaseSettings>,
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
    /// Whether the trainer learns its choices on validation users first ([`Learn`]).
    pub learn: Learn,
    /// Print progress to stderr.
    pub progress: bool,
    /// When the whole command should be done (`--time-budget`): the search gets a share of
    /// what is left ([`SEARCH_SHARE`]) and the autoencoder, trained last, stops starting epochs
    /// when the pace says the next would end after it. The parts with a fixed cost (the factor
    /// models, neighbours, EASE) always run in full, so a budget below their cost is overrun,
    /// and said. None: every setting runs as given.
    pub deadline: Option<std::time::Instant>,
}

/// Share of the time left that `--time-budget` gives the search.
pub const SEARCH_SHARE: f64 = 0.35;

/// How the trainer makes the choices that depend on the visitors (the hybrid's weights, the
/// recency half-life, the explicit blend, the confidence slope): see [`super::search`].
#[derive(Clone, Debug, PartialEq)]
pub enum Learn {
    /// Search them on validation users carved from the training users, for at most about
    /// `budget_s` seconds (the last search step finishes), starting from these settings.
    Search {
        /// Seconds.
        budget_s: f64,
    },
    /// Use the choices of an earlier search as they are (to rebuild a model exactly).
    Replay(Learned),
    /// Use these settings as they are.
    Off,
}

impl Default for TrainSettings {
    /// The shipped configuration; the search that chose it is recorded in `tuning/`.
    fn default() -> Self {
        let blend = |mf, item_knn, content, user_knn, neural, ease| {
            use Method::*;
            BlendWeights::from_pairs(&[
                (Mf, mf),
                (ItemKnn, item_knn),
                (Content, content),
                (UserKnn, user_knn),
                (Neural, neural),
                (Ease, ease),
            ])
        };
        Self {
            explicit: ExplicitSettings { factors: 64, iterations: 12, reg_factors: 8.0, reg_bias: 2.0, seed: 42, cg_steps: None },
            implicit: Some(ImplicitSettings {
                factors: 64,
                iterations: 12,
                reg: 20.0,
                alpha: 1.0,
                rating_offset: 0.0,
                explicit_weight: 0.0,
                recency_half_life: 2.0,
                // The search's start (tuning/README.md): on ml-latest-small, 0.015 drops the
                // decay for a quarter of the 1990s' histories of 30+ ratings and 3-5% of today's.
                recency_coherence: 0.015,
                seed: 43,
                cg_steps: None,
            }),
            item_knn: Some(ItemKnnSettings { k: 30, shrink: 0.0, rating_weight: 0.6, rating_shrink: 1.0 }),
            content: Some(ContentSettings::default()),
            // Every training user of a small data set; the 1,000 most active of a large one (all of
            // ML-25M would be tens of MB; see tuning/README.md for the pool-size trade-off).
            user_knn: Some(UserKnnSettings { k: 50, shrink: 10.0, max_users: Some(1000) }),
            neural: Some(NeuralSettings::default()),
            ease: Some(EaseSettings::default()),
            // The search's starting point (the trainer learns the weights it ships, moving only
            // where no kind of visitor loses): the three strong parts alike, with a little
            // content, in every bucket. Measured with every choice fixed (tuning/README.md), it
            // is the blend whose worst variant is best (within 4% of the best row on each of
            // main, short-5, short-20, future and past visitors), where the blend learned for
            // today's users alone lost 11% for the earlier ones.
            hybrid: HybridWeights::uniform(blend(1.0, 0.0, 0.3, 0.0, 1.0, 1.0)),
            storage: FactorStorage::Int4,
            neural_storage: FactorStorage::Int8,
            factor_min_ratings: 5,
            learn: Learn::Search { budget_s: 300.0 },
            progress: false,
            deadline: None,
        }
    }
}

/// Settings that passed [`TrainSettings::check`]; read through `Deref`.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked(TrainSettings);

impl std::ops::Deref for Checked {
    type Target = TrainSettings;
    fn deref(&self) -> &TrainSettings {
        &self.0
    }
}

/// The error for setting `name` with `value` outside `reason`'s domain.
pub fn setting_error(name: &'static str, value: impl ToString, reason: &str) -> Error {
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

    /// Checks every setting's domain, once.
    pub fn check(&self) -> Result<Checked> {
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
            if !(0.0..=2.0).contains(&i.recency_coherence) {
                return Err(setting_error("recency_coherence", i.recency_coherence, "must be between 0 and 2"));
            }
            if !i.rating_offset.is_finite() || !i.explicit_weight.is_finite() {
                return Err(setting_error(
                    "rating_offset/explicit_weight",
                    format!("{}/{}", i.rating_offset, i.explicit_weight),
                    "must be finite",
                ));
            }
        }
        self.item_knn.as_ref().map_or(Ok(()), ItemKnnSettings::check)?;
        self.neural.as_ref().map_or(Ok(()), NeuralSettings::check)?;
        self.user_knn.as_ref().map_or(Ok(()), UserKnnSettings::check)?;
        self.content.as_ref().map_or(Ok(()), ContentSettings::check)?;
        self.ease.as_ref().map_or(Ok(()), EaseSettings::check)?;
        for b in &self.hybrid.buckets {
            if b.0.iter().any(|w| !(w.is_finite() && *w >= 0.0)) || b.0.iter().sum::<f32>() <= 0.0 {
                return Err(setting_error("blend", format!("{:?}", b.0), "weights must be >= 0 and not all 0"));
            }
        }
        if let Learn::Search { budget_s } = self.learn {
            if !(budget_s.is_finite() && budget_s >= 0.0) {
                return Err(setting_error("search_budget", budget_s, "must be a finite number of seconds >= 0"));
            }
        }
        Ok(Checked(self.clone()))
    }

    /// The methods beyond the factor models and the blend, in one line ([`Self::describe`]'s
    /// tail; alone in a file whose factors Spark trained).
    pub fn describe_extras(&self) -> String {
        let mut parts: Vec<String> = [
            self.item_knn.as_ref().map(ItemKnnSettings::describe),
            self.content.as_ref().map(ContentSettings::describe),
            self.user_knn.as_ref().map(UserKnnSettings::describe),
            self.neural.as_ref().map(NeuralSettings::describe),
            self.ease.as_ref().map(EaseSettings::describe),
        ]
        .into_iter()
        .flatten()
        .collect();
        let b = |w: &BlendWeights| w.0.map(|x| x.to_string()).join(":");
        parts.push(format!("hybrid blend {}", self.hybrid.buckets.iter().map(b).collect::<Vec<_>>().join("/")));
        parts.join("; ")
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
            if i.recency_coherence > 0.0 {
                s += &format!(" recency_coherence={}", i.recency_coherence);
            }
            if let Some(steps @ 1..) = i.cg_steps {
                s += &format!(" cg_steps={steps}");
            }
        }
        s += "; ";
        s += &self.describe_extras();
        s + &format!(
            "; storage={:?} (autoencoder {:?}); factors for movies with >= {} ratings",
            self.storage, self.neural_storage, self.factor_min_ratings
        )
    }
}

/// Above this many ratings, ALS rows are solved by conjugate gradient unless the settings say.
pub const LARGE_RATINGS: usize = 2_000_000;

/// The conjugate-gradient steps a sweep for `ratings` ratings: the setting when given, else exact
/// solves (0) up to [`LARGE_RATINGS`] and 3 steps above. Exact row solves cost `k^2` a rating;
/// 3 steps gave the same quality on ml-latest-small (tuning/README.md) at a fraction of it.
pub fn cg_steps_for(setting: Option<usize>, ratings: usize) -> usize {
    setting.unwrap_or(if ratings > LARGE_RATINGS { 3 } else { 0 })
}
