//! Matrix factorisation: biased explicit factors predict stars, confidence-weighted implicit
//! factors rank, and a visitor is folded into both by the trainer's own row solve
//! ([`crate::fold_in`]). Reasons are exact: a folded-in score is a sum over the ratings.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::{Context, Contributions, Folded, Part, Ratings};
use crate::error::{Error, Result};
use crate::factors::FactorMatrix;
use crate::fold_in::{fold_in_explicit, fold_in_implicit, ExplicitUser, ImplicitUser, Ridge};
use crate::kernels::dot;
use crate::table::{check_all, check_range, Derived};

/// The most latent factors a model may have. Fold-in solves a `k x k` system on every change
/// of the visitor's ratings (`k^3 / 3` operations: 5.6 million at 256, a few milliseconds in
/// wasm); a file cannot make that a hang.
pub const MAX_FACTORS: usize = 256;

/// How fold-in sets a visitor's ridge: the rule the item factors were trained with, so that a
/// visitor is solved exactly as a training user was.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegRule {
    /// This project's trainer: a constant ridge, and (explicit model) a user bias.
    #[default]
    Constant,
    /// Spark MLlib's ALS (imported factors): no biases, and the ridge is `reg` times the number
    /// of ratings folded in (implicit mode: of positive ratings), Zhou et al.'s ALS-WR scaling.
    PerRating,
}

/// Biased matrix factorisation on explicit ratings: `r_ui ~ mu + b_i + b_u + p_u . q_i`.
/// Predicts stars; the visitor's `b_u, p_u` come from [`Mf::fold_in_stars`], `mu` is
/// [`Mf::global_mean`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExplicitFactors {
    /// Item biases `b_i`, one per movie row.
    pub item_bias: Vec<f32>,
    /// Item factors `q_i`, one row per movie.
    pub item_factors: FactorMatrix,
    /// Regularisation of the user factors, as the trainer used it.
    pub reg_factors: f32,
    /// Regularisation of the user bias, as the trainer used it.
    pub reg_bias: f32,
    /// How the ridge scales; [`RegRule::PerRating`] also drops the user bias.
    pub rule: RegRule,
}

impl ExplicitFactors {
    /// Checks the table's shape (`n` movies) and values.
    pub fn validate(&self, n: usize) -> Result<()> {
        if self.item_bias.len() != n || self.item_factors.rows() != n {
            return Err(Error::InvalidModel(format!(
                "{n} movies but {} item biases and {} explicit factor rows",
                self.item_bias.len(),
                self.item_factors.rows()
            )));
        }
        if self.item_factors.cols() > MAX_FACTORS {
            return Err(Error::InvalidModel(format!(
                "explicit factors have {} columns, at most {MAX_FACTORS} are supported",
                self.item_factors.cols()
            )));
        }
        check_range("explicit factor regularisation", self.reg_factors, 0.0, 1e6)?;
        check_range("explicit bias regularisation", self.reg_bias, 0.0, 1e6)?;
        check_all("item bias of row", &self.item_bias, -1e3, 1e3)
    }
}

/// Confidence-weighted implicit factors (Hu, Koren and Volinsky 2008): rank what the visitor is
/// likely to watch and like next. A rating `r` that is `age` ratings older than the visitor's
/// latest counts as a positive with confidence
/// `(1 + alpha * max(r - rating_offset, 0)) * 0.5^(age / recency_half_life)`: recent ratings say
/// more about what comes next, for visitors whose order of rating says something at all
/// ([`ImplicitFactors::order_says_enough`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImplicitFactors {
    /// Item factors `y_i`, one row per movie.
    pub item_factors: FactorMatrix,
    /// Ridge regularisation of the user vector.
    pub reg: f32,
    /// Confidence slope.
    pub alpha: f32,
    /// Ratings at or below this add no confidence beyond the base 1.
    pub rating_offset: f32,
    /// Weight of the explicit model's centred predicted rating in the ranking score.
    pub explicit_weight: f32,
    /// Half-life of a rating's confidence, in ratings made since; 0 disables the decay.
    pub recency_half_life: f32,
    /// The order-coherence a long history needs for the decay to apply (0: it always applies);
    /// see [`ImplicitFactors::order_says_enough`].
    pub recency_coherence: f32,
    /// How the ridge scales with the visitor's ratings.
    pub rule: RegRule,
    /// `Y^T Y`, computed at load.
    #[serde(skip)]
    pub gram: Derived<Vec<f64>>,
}

impl ImplicitFactors {
    /// Confidence of a rating made `age` ratings before the latest one (age 0 is the latest).
    pub fn confidence(&self, rating: f32, age: usize) -> f32 {
        confidence(self.alpha, self.rating_offset, self.recency_half_life, rating, age)
    }

    /// Whether the order of a visitor's collaborative ratings (oldest first) says what they
    /// watch next, so that the recency decay should apply. Today's MovieLens users rate related
    /// movies in a row and a half-life of 2 ratings gains them 8%; the 1990s' users rated in
    /// one sitting, in no telling order, and the same decay costs them 10% (tuning/README.md).
    /// The visitor's own history tells them apart: the mean cosine similarity (implicit factors)
    /// of consecutive movies, less that of any two of their movies. The decay applies unless
    /// that is below [`recency_coherence`](Self::recency_coherence) on at least
    /// [`ORDER_EVIDENCE`] ratings (fewer cannot tell, and the default stands). The latest
    /// [`ORDER_WINDOW`] ratings are read, so the cost is bounded for any history.
    pub fn order_says_enough(&self, rows: &[usize]) -> bool {
        if self.recency_coherence <= 0.0 || self.recency_half_life <= 0.0 || rows.len() < ORDER_EVIDENCE {
            return true;
        }
        order_coherence(&self.item_factors, &rows[rows.len().saturating_sub(ORDER_WINDOW)..]) >= self.recency_coherence
    }

    /// `Y^T Y`, computed once.
    pub fn gram(&self) -> &[f64] {
        self.gram.get_or_init(|| self.item_factors.gram())
    }
}

/// Ratings a history needs before its order is judged ([`ImplicitFactors::order_says_enough`]).
pub const ORDER_EVIDENCE: usize = 30;
/// The latest ratings whose order is judged.
pub const ORDER_WINDOW: usize = 200;

/// The mean cosine similarity of consecutive rows of `rows` in `factors`, less the mean over
/// every pair of them (the sum of unit vectors gives all pairs at once). At least 2 rows.
pub fn order_coherence(factors: &FactorMatrix, rows: &[usize]) -> f32 {
    let unit: Vec<Vec<f32>> = rows
        .iter()
        .map(|&r| {
            let v = factors.row(r);
            let norm = dot(v, v).sqrt();
            v.iter().map(|x| if norm > 0.0 { x / norm } else { 0.0 }).collect()
        })
        .collect();
    let n = unit.len() as f32;
    let consecutive = unit.windows(2).map(|w| dot(&w[0], &w[1])).sum::<f32>() / (n - 1.0);
    let mut sum = vec![0.0f32; factors.cols()];
    let mut self_dots = 0.0;
    for u in &unit {
        sum.iter_mut().zip(u).for_each(|(s, x)| *s += x);
        self_dots += dot(u, u);
    }
    let any_two = (dot(&sum, &sum) - self_dots) / (n * (n - 1.0));
    consecutive - any_two
}

/// The confidence rule shared by the trainer and fold-in; see [`ImplicitFactors`].
pub fn confidence(alpha: f32, rating_offset: f32, half_life: f32, rating: f32, age: usize) -> f32 {
    let base = 1.0 + alpha * (rating - rating_offset).max(0.0);
    if half_life > 0.0 {
        base * recency_decay(half_life, age)
    } else {
        base
    }
}

/// The share of its weight a rating keeps `age` ratings before the latest: halved every
/// `half_life` ratings; 1 without a half-life.
pub fn recency_decay(half_life: f32, age: usize) -> f32 {
    if half_life > 0.0 {
        0.5f32.powf(age as f32 / half_life)
    } else {
        1.0
    }
}

/// The factor models: the star predictor, and the ranking model (without it, ranking is by
/// predicted stars).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mf {
    /// Mean training rating `mu`: the star model's centre, and the prior of the cold-start
    /// average (0 for imported factors, which have no biases).
    pub global_mean: f32,
    /// Rating predictor. Every model has one, but a file keeps it in a section after the core
    /// when the ranking does not read it ([`Mf::ranks_by_stars`]); until that section has
    /// arrived it is `None`, and there are no predicted stars yet.
    pub explicit: Option<ExplicitFactors>,
    /// Ranking model.
    pub implicit: Option<ImplicitFactors>,
}

impl Mf {
    /// Whether the ranking reads the star model (no implicit model, or one that blends the
    /// predicted stars in): then the file keeps it in the core.
    pub fn ranks_by_stars(&self) -> bool {
        self.implicit.as_ref().is_none_or(|imp| imp.explicit_weight != 0.0)
    }

    /// Whether a factor model the file's core keeps has a row for movie `row`: the movies a
    /// list can hold before the links section is in, and so the ones whose titles the core
    /// carries ([`crate::catalogue::Links`] brings the others'). Panics when `row` is not a
    /// catalogue row.
    pub fn core_ranks(&self, row: usize) -> bool {
        self.implicit.as_ref().is_some_and(|imp| imp.item_factors.holds(row))
            || (self.ranks_by_stars() && self.explicit.as_ref().is_some_and(|e| e.item_factors.holds(row)))
    }

    /// The visitor in the explicit model, from their collaborative ratings; `None` until the
    /// star model is in.
    pub fn fold_in_stars(&self, ratings: &Ratings) -> Option<ExplicitUser> {
        let e = self.explicit.as_ref()?;
        // A movie seen but not rated says nothing of the stars the visitor gives.
        let rated: Cow<[(usize, f32)]> = if ratings.seen.is_empty() {
            Cow::Borrowed(&ratings.collaborative)
        } else {
            Cow::Owned(ratings.collaborative.iter().copied().filter(|&(row, _)| !ratings.is_seen(row)).collect())
        };
        let rated = &rated[..];
        let ridge = match e.rule {
            RegRule::Constant => Ridge { factors: e.reg_factors as f64, bias: Some(e.reg_bias as f64) },
            RegRule::PerRating => Ridge { factors: e.reg_factors as f64 * rated.len() as f64, bias: None },
        };
        Some(fold_in_explicit(self.global_mean, &e.item_bias, &e.item_factors, ridge, rated))
    }

    /// Each of a visitor's collaborative ratings (oldest first) as `(weight, recency)`:
    /// `recency` is the share of its weight it keeps for its age (the implicit model's decay
    /// where the visitor's order says enough, else 1), `weight` the implicit model's confidence
    /// with that decay. Both 1 without that model.
    pub fn rating_weights(&self, collaborative: &[(usize, f32)]) -> Vec<(f32, f32)> {
        let Some(imp) = &self.implicit else { return vec![(1.0, 1.0); collaborative.len()] };
        let rows: Vec<usize> = collaborative.iter().map(|&(row, _)| row).collect();
        let decays = imp.order_says_enough(&rows);
        let n = collaborative.len();
        collaborative
            .iter()
            .enumerate()
            .map(|(i, &(_, r))| {
                let age = if decays { n - 1 - i } else { 0 };
                (imp.confidence(r, age), recency_decay(imp.recency_half_life, age))
            })
            .collect()
    }
}

/// A visitor folded into the factor models.
struct FoldedMf<'a> {
    mf: &'a Mf,
    /// The star model and the visitor in it, when the ranking reads them (both are there
    /// whenever [`Mf::ranks_by_stars`]: [`Mf::validate`] holds a core to it).
    explicit: Option<(&'a ExplicitFactors, &'a ExplicitUser)>,
    implicit: Option<ImplicitUser>,
}

impl Part for Mf {
    fn fold_in<'a>(&'a self, cx: &Context<'a>) -> Box<dyn Folded + 'a> {
        let implicit = self.implicit.as_ref().map(|imp| {
            let reg = match imp.rule {
                RegRule::Constant => imp.reg as f64,
                // Spark counts the positive ratings (`numExplicits`); every rating on a star scale is one.
                RegRule::PerRating => imp.reg as f64 * cx.ratings.collaborative.iter().filter(|r| r.1 > 0.0).count() as f64,
            };
            fold_in_implicit(&imp.item_factors, imp.gram(), reg, cx.ratings.weights.clone())
        });
        let explicit = self.explicit.as_ref().zip(cx.stars);
        Box::new(FoldedMf { mf: self, explicit, implicit })
    }

    fn validate(&self, n: usize) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidModel(msg));
        check_range("explicit global mean", self.global_mean, -1e3, 1e3)?;
        match &self.explicit {
            Some(e) => e.validate(n)?,
            None if self.ranks_by_stars() => {
                return bad("the ranking reads the star model, which is not in the core section".to_string());
            }
            None => {}
        }
        if let Some(imp) = &self.implicit {
            if imp.item_factors.cols() > MAX_FACTORS {
                return bad(format!("implicit factors have {} columns, at most {MAX_FACTORS} are supported", imp.item_factors.cols()));
            }
            if imp.item_factors.rows() != n {
                return bad(format!("{n} movies but {} implicit factor rows", imp.item_factors.rows()));
            }
            if imp.reg.is_nan() || imp.reg <= 0.0 {
                return bad(format!("implicit regularisation is {}, it must be above 0", imp.reg));
            }
            check_range("implicit regularisation", imp.reg, 0.0, 1e6)?;
            check_range("implicit alpha", imp.alpha, 0.0, 1e4)?;
            check_range("implicit rating offset", imp.rating_offset, -1e3, 1e3)?;
            check_range("implicit explicit weight", imp.explicit_weight, -1e3, 1e3)?;
            check_range("implicit recency half-life", imp.recency_half_life, 0.0, 1e6)?;
            check_range("implicit recency coherence", imp.recency_coherence, 0.0, 2.0)?;
        }
        Ok(())
    }

    fn prepare(&self, _movies: usize) {
        if let Some(imp) = &self.implicit {
            imp.gram();
        }
    }
}

impl Folded for FoldedMf<'_> {
    /// The implicit score `x_u . y_i` plus a little of the explicit prediction; the explicit
    /// prediction alone without an implicit model.
    fn scores(&self) -> Vec<f32> {
        // The hot loop: whole-catalogue dot products through the stored (int8/int4) rows.
        let centred = |w: f32, into: &mut [f32]| {
            if let Some((ex, user)) = self.explicit {
                let dots = ex.item_factors.dot_all(&user.factors);
                for ((s, d), b) in into.iter_mut().zip(dots).zip(&ex.item_bias) {
                    *s += w * (b + user.bias + d);
                }
            }
        };
        match (&self.mf.implicit, &self.implicit) {
            (Some(imp), Some(user)) => {
                let mut scores = imp.item_factors.dot_all(&user.factors);
                if imp.explicit_weight != 0.0 {
                    centred(imp.explicit_weight, &mut scores);
                }
                scores
            }
            _ => {
                let mut scores = vec![0.0; self.explicit.map_or(0, |(ex, _)| ex.item_bias.len())];
                centred(1.0, &mut scores);
                scores
            }
        }
    }

    fn contributions(&self, row: usize, into: &mut Contributions, scale: f64) -> bool {
        let mut total = into.like();
        let explicit = |weight: f64, total: &mut Contributions| {
            if let Some((ex, user)) = self.explicit {
                for (j, c) in user.contributions(&ex.item_factors, row) {
                    total.add(j, weight * c);
                }
            }
        };
        match (&self.mf.implicit, &self.implicit) {
            (Some(imp), Some(user)) => {
                for (j, c) in user.contributions(&imp.item_factors, row) {
                    total.add(j, c);
                }
                if imp.explicit_weight != 0.0 {
                    explicit(imp.explicit_weight as f64, &mut total);
                }
            }
            _ => explicit(1.0, &mut total),
        }
        into.add_scaled(&total, scale);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::factors::FactorStorage;

    /// Movies 0..10 point one way, 10..20 another: a visitor who rates within one group at a
    /// time rates in a telling order, one who alternates does not.
    fn two_groups(recency_coherence: f32) -> ImplicitFactors {
        let data: Vec<f32> =
            (0..20).flat_map(|m| if m < 10 { [1.0, 0.1 * (m as f32 % 3.0)] } else { [0.1 * (m as f32 % 3.0), 1.0] }).collect();
        ImplicitFactors {
            item_factors: FactorMatrix::new(20, 2, data, FactorStorage::F32).unwrap(),
            reg: 1.0,
            alpha: 1.0,
            rating_offset: 0.0,
            explicit_weight: 0.0,
            recency_half_life: 2.0,
            recency_coherence,
            rule: RegRule::Constant,
            gram: Default::default(),
        }
    }

    #[test]
    fn the_decay_applies_only_where_the_order_of_a_long_history_tells() {
        let grouped: Vec<usize> = (0..40).map(|i| if i < 20 { i % 10 } else { 10 + i % 10 }).collect();
        let alternating: Vec<usize> = (0..40).map(|i| if i % 2 == 0 { i % 10 } else { 10 + i % 10 }).collect();
        let f = &two_groups(0.0).item_factors;
        assert!(order_coherence(f, &grouped) > 0.3, "{}", order_coherence(f, &grouped));
        assert!(order_coherence(f, &alternating) < -0.3, "{}", order_coherence(f, &alternating));
        let gated = two_groups(0.015);
        assert!(gated.order_says_enough(&grouped));
        assert!(!gated.order_says_enough(&alternating));
        // Too short to tell: the decay stands.
        assert!(gated.order_says_enough(&alternating[..ORDER_EVIDENCE - 1]));
        // 0 keeps the decay for everyone.
        assert!(two_groups(0.0).order_says_enough(&alternating));

        // Without the decay, equal ratings weigh alike whatever their age.
        let mf = |imp| Mf {
            global_mean: 3.0,
            explicit: Some(ExplicitFactors {
                item_bias: vec![0.0; 20],
                item_factors: FactorMatrix::new(20, 2, vec![0.0; 40], FactorStorage::F32).unwrap(),
                reg_factors: 1.0,
                reg_bias: 1.0,
                rule: RegRule::Constant,
            }),
            implicit: Some(imp),
        };
        let rated = |rows: &[usize]| rows.iter().map(|&r| (r, 4.0)).collect::<Vec<_>>();
        let off = mf(two_groups(0.015)).rating_weights(&rated(&alternating));
        assert!(off.iter().all(|&w| w == off[0] && w.1 == 1.0), "{off:?}");
        let on = mf(two_groups(0.015)).rating_weights(&rated(&grouped));
        assert!(on.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1), "the latest weighs most: {on:?}");
        assert_eq!(on[39], off[0]);
        // The recency is the confidence's decay: the latest keeps all of it, two ratings back half.
        assert_eq!((on[39].1, on[37].1), (1.0, 0.5));
        assert!((on[37].0 - on[39].0 / 2.0).abs() < 1e-6);
    }
}
