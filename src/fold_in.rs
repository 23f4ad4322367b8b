//! Fold-in: a visitor's ratings become a user bias and vectors, by the very least-squares step
//! the trainer takes for each training user ([`explicit_row_equations`],
//! [`implicit_row_equations`] are called by both).

use std::collections::HashMap;

use nalgebra::{Cholesky, DVector, Dyn};
use serde::{Deserialize, Serialize};

use crate::model::{ExplicitFactors, FactorMatrix, ImplicitFactors, Model, MovieId, RegRule};
use crate::solve::NormalEquations;

/// A rating as it arrives from the page or a file, before any check: ids and values may be
/// anything a number can be.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawRating {
    /// MovieLens movie id.
    #[serde(rename = "movieId")]
    pub movie_id: f64,
    /// Stars.
    pub rating: f64,
}

/// Why a rating was not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SkipReason {
    /// The id is not a whole number in `u32` range.
    InvalidId,
    /// The movie is not in the model's catalogue.
    UnknownMovie,
    /// The rating is NaN or infinite.
    NotFinite,
    /// The rating lies outside the model's scale.
    OutOfRange,
    /// A later rating of the same movie replaced this one.
    Duplicate,
}

/// A rating that fold-in left out, with the reason, reported back to the caller.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkippedRating {
    /// The id as given.
    pub movie_id: f64,
    /// The rating as given.
    pub rating: f64,
    /// Why it was left out.
    pub reason: SkipReason,
}

/// Checked ratings: catalogue rows with their stars, oldest first (input order; a repeated movie
/// takes the place and value of its last rating).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckedRatings {
    /// `(row, rating)` pairs, one per distinct movie.
    pub rated: Vec<(usize, f32)>,
    /// What was left out and why.
    pub skipped: Vec<SkippedRating>,
}

/// Validates raw ratings against the model: unknown ids, non-finite or out-of-range values are
/// skipped and reported; of duplicates the last one wins.
pub fn check_ratings(model: &Model, index: &HashMap<MovieId, usize>, raw: &[RawRating]) -> CheckedRatings {
    let (lo, hi) = (model.info.rating_min as f64, model.info.rating_max as f64);
    let mut out = CheckedRatings::default();
    let mut position: HashMap<usize, usize> = HashMap::new();
    for r in raw {
        let skip = |reason| SkippedRating { movie_id: r.movie_id, rating: r.rating, reason };
        let id = r.movie_id;
        if !(id.is_finite() && id >= 0.0 && id <= u32::MAX as f64 && id.fract() == 0.0) {
            out.skipped.push(skip(SkipReason::InvalidId));
            continue;
        }
        let Some(&row) = index.get(&MovieId(id as u32)) else {
            out.skipped.push(skip(SkipReason::UnknownMovie));
            continue;
        };
        if !r.rating.is_finite() {
            out.skipped.push(skip(SkipReason::NotFinite));
            continue;
        }
        if r.rating < lo || r.rating > hi {
            out.skipped.push(skip(SkipReason::OutOfRange));
            continue;
        }
        if let Some(at) = position.insert(row, out.rated.len()) {
            let (_, old) = out.rated[at];
            out.skipped.push(SkippedRating { movie_id: id, rating: old as f64, reason: SkipReason::Duplicate });
            out.rated[at].0 = usize::MAX; // superseded; removed below
        }
        out.rated.push((row, r.rating as f32));
    }
    out.rated.retain(|&(row, _)| row != usize::MAX);
    out
}

/// Normal equations of one user of the explicit model: observations `(row, rating)` against the
/// item side `(item_bias, item_factors)`, targets `r - mu - b_i`, unknowns `[b_u, p_u]`.
/// The trainer's item step is the same with the roles swapped.
pub fn explicit_row_equations(
    global_mean: f32,
    other_bias: &[f32],
    other_factors: &FactorMatrix,
    rated: impl IntoIterator<Item = (usize, f32)>,
) -> NormalEquations {
    explicit_equations(global_mean, other_bias, other_factors, rated, true)
}

fn explicit_equations(
    global_mean: f32,
    other_bias: &[f32],
    other_factors: &FactorMatrix,
    rated: impl IntoIterator<Item = (usize, f32)>,
    with_bias: bool,
) -> NormalEquations {
    let mut eq = NormalEquations::new(other_factors.cols(), with_bias);
    for (row, r) in rated {
        let target = (r - global_mean - other_bias[row]) as f64;
        eq.add(other_factors.row(row), 1.0, target);
    }
    eq
}

/// Normal equations of one user of the implicit model: `(Y^T Y + Y^T (C - I) Y) x = Y^T C p`.
pub fn implicit_row_equations(
    gram: &[f64],
    other_factors: &FactorMatrix,
    confidences: impl IntoIterator<Item = (usize, f32)>,
) -> NormalEquations {
    let mut eq = NormalEquations::from_gram(gram, other_factors.cols());
    for (row, c) in confidences {
        eq.add(other_factors.row(row), (c - 1.0) as f64, c as f64);
    }
    eq
}

/// The visitor in the explicit model, with what is needed to explain a prediction.
#[derive(Clone, Debug)]
pub struct ExplicitUser {
    /// User bias `b_u`.
    pub bias: f32,
    /// User factors `p_u`.
    pub factors: Vec<f32>,
    chol: Option<Cholesky<f64, Dyn>>,
    /// `(row, r - mu - b_i)` of each rating folded in.
    targets: Vec<(usize, f64)>,
    /// Whether the solve had the bias unknown (absent under [`RegRule::PerRating`]).
    with_bias: bool,
}

/// The visitor in the implicit model.
#[derive(Clone, Debug)]
pub struct ImplicitUser {
    /// User factors `x_u`.
    pub factors: Vec<f32>,
    chol: Option<Cholesky<f64, Dyn>>,
    /// `(row, confidence)` of each rating folded in.
    confidences: Vec<(usize, f64)>,
}

/// Folds checked ratings into the explicit model. No ratings gives the zero user (bias 0).
pub fn fold_in_explicit(model: &ExplicitFactors, rated: &[(usize, f32)]) -> ExplicitUser {
    let with_bias = model.rule == RegRule::Constant;
    let eq = explicit_equations(model.global_mean, &model.item_bias, &model.item_factors, rated.iter().copied(), with_bias);
    let k = model.item_factors.cols();
    let reg = match model.rule {
        RegRule::Constant => model.reg_factors as f64,
        RegRule::PerRating => model.reg_factors as f64 * rated.len() as f64,
    };
    let chol = if rated.is_empty() && !with_bias { None } else { eq.factorise(reg, model.reg_bias as f64) };
    let (bias, factors) = match &chol {
        Some(c) => {
            let x = c.solve(&DVector::from_column_slice(eq.rhs()));
            let skip = usize::from(with_bias);
            (if with_bias { x[0] as f32 } else { 0.0 }, x.iter().skip(skip).map(|&v| v as f32).collect())
        }
        None => (0.0, vec![0.0; k]),
    };
    let targets = rated.iter().map(|&(row, r)| (row, (r - model.global_mean - model.item_bias[row]) as f64)).collect();
    ExplicitUser { bias, factors, chol, targets, with_bias }
}

/// Folds checked ratings into the implicit model, given `gram = Y^T Y`.
pub fn fold_in_implicit(model: &ImplicitFactors, gram: &[f64], rated: &[(usize, f32)]) -> ImplicitUser {
    let n = rated.len();
    let confidences: Vec<(usize, f32)> = rated.iter().enumerate().map(|(i, &(row, r))| (row, model.confidence(r, n - 1 - i))).collect();
    let eq = implicit_row_equations(gram, &model.item_factors, confidences.iter().copied());
    let k = model.item_factors.cols();
    let reg = match model.rule {
        RegRule::Constant => model.reg as f64,
        // Spark counts the positive ratings (`numExplicits`); every rating on a star scale is one.
        RegRule::PerRating => model.reg as f64 * rated.iter().filter(|r| r.1 > 0.0).count() as f64,
    };
    let chol = if reg > 0.0 { eq.factorise(reg, 0.0) } else { None };
    let factors = match (&chol, rated.is_empty()) {
        (Some(c), false) => c.solve(&DVector::from_column_slice(eq.rhs())).iter().map(|&v| v as f32).collect(),
        _ => vec![0.0; k],
    };
    ImplicitUser { factors, chol, confidences: confidences.into_iter().map(|(r, c)| (r, c as f64)).collect() }
}

impl ExplicitUser {
    /// Centred prediction `b_i + b_u + p_u . q_i` (add the global mean for stars).
    pub fn centred_score(&self, model: &ExplicitFactors, row: usize) -> f32 {
        model.item_bias[row] + self.bias + dot(&self.factors, model.item_factors.row(row))
    }

    /// How much each folded-in rating adds to the user part of the prediction of `row`:
    /// `z_i^T A^-1 z_j t_j`, in the order of the ratings. Sums to `b_u + p_u . q_i`.
    pub fn contributions(&self, model: &ExplicitFactors, row: usize) -> Vec<(usize, f64)> {
        let Some(chol) = &self.chol else { return Vec::new() };
        let q = model.item_factors.row(row);
        let z = if self.with_bias { with_bias(q) } else { DVector::from_iterator(q.len(), q.iter().map(|&v| v as f64)) };
        let w = chol.solve(&z);
        let (w0, skip) = if self.with_bias { (w[0], 1) } else { (0.0, 0) };
        // w . [1, q_j] without building [1, q_j]: this runs for every rated movie of every item
        // shown, so through the f32 dot kernel (the values only order the reasons).
        let w32: Vec<f32> = w.iter().skip(skip).map(|&v| v as f32).collect();
        self.targets.iter().map(|&(j, t)| (j, t * (w0 + dot(&w32, model.item_factors.row(j)) as f64))).collect()
    }
}

impl ImplicitUser {
    /// How much each folded-in rating adds to the score of `row`: `c_j y_i^T W^-1 y_j`.
    pub fn contributions(&self, model: &ImplicitFactors, row: usize) -> Vec<(usize, f64)> {
        let Some(chol) = &self.chol else { return Vec::new() };
        let y = DVector::from_iterator(model.item_factors.cols(), model.item_factors.row(row).iter().map(|&v| v as f64));
        let w: Vec<f32> = chol.solve(&y).iter().map(|&v| v as f32).collect();
        self.confidences.iter().map(|&(j, c)| (j, c * dot(&w, model.item_factors.row(j)) as f64)).collect()
    }
}

fn with_bias(q: &[f32]) -> DVector<f64> {
    DVector::from_iterator(q.len() + 1, std::iter::once(1.0).chain(q.iter().map(|&v| v as f64)))
}

pub use crate::kernels::dot;
