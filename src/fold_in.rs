//! Fold-in: a visitor's ratings become a user bias and vector, by the very least-squares step
//! the trainer takes for each training user ([`explicit_row_equations`],
//! [`implicit_row_equations`] are called by both), solved exactly by Cholesky. The factor
//! cache the solve leaves behind also explains a score: `z_i^T A^-1 z_j t_j` is how much
//! rating `j` adds to the score of movie `i`.

use nalgebra::{Cholesky, DVector, Dyn};

use crate::factors::FactorMatrix;
use crate::kernels::dot;
use crate::solve::NormalEquations;

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

/// The ridge of an explicit fold-in: on the factors, and on the bias when there is one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ridge {
    /// Added to the factors' diagonal.
    pub factors: f64,
    /// Added to the bias entry; `None` solves without a user bias.
    pub bias: Option<f64>,
}

/// A visitor in an explicit (star) model, with what is needed to explain a prediction.
#[derive(Clone, Debug)]
pub struct ExplicitUser {
    /// User bias `b_u`.
    pub bias: f32,
    /// User factors `p_u`.
    pub factors: Vec<f32>,
    chol: Option<Cholesky<f64, Dyn>>,
    /// `(row, r - mu - b_i)` of each rating folded in.
    targets: Vec<(usize, f64)>,
    with_bias: bool,
}

/// A visitor in an implicit (ranking) model.
#[derive(Clone, Debug)]
pub struct ImplicitUser {
    /// User factors `x_u`.
    pub factors: Vec<f32>,
    chol: Option<Cholesky<f64, Dyn>>,
    /// `(row, confidence)` of each rating folded in.
    confidences: Vec<(usize, f64)>,
}

/// Folds checked `(row, stars)` ratings into an explicit model `mu + b_i + b_u + p_u . q_i`.
/// No ratings gives the zero user (bias 0).
pub fn fold_in_explicit(
    global_mean: f32,
    item_bias: &[f32],
    item_factors: &FactorMatrix,
    ridge: Ridge,
    rated: &[(usize, f32)],
) -> ExplicitUser {
    let with_bias = ridge.bias.is_some();
    let eq = explicit_equations(global_mean, item_bias, item_factors, rated.iter().copied(), with_bias);
    let chol = if rated.is_empty() && !with_bias { None } else { eq.factorise(ridge.factors, ridge.bias.unwrap_or(0.0)) };
    let (bias, factors) = match &chol {
        Some(c) => {
            let x = c.solve(&DVector::from_column_slice(eq.rhs()));
            let skip = usize::from(with_bias);
            (if with_bias { x[0] as f32 } else { 0.0 }, x.iter().skip(skip).map(|&v| v as f32).collect())
        }
        None => (0.0, vec![0.0; item_factors.cols()]),
    };
    let targets = rated.iter().map(|&(row, r)| (row, (r - global_mean - item_bias[row]) as f64)).collect();
    ExplicitUser { bias, factors, chol, targets, with_bias }
}

/// Folds `(row, confidence)` pairs into an implicit model with item factors `Y`, given
/// `gram = Y^T Y` and the ridge `reg` (no solve, the zero vector, when `reg` is not positive).
pub fn fold_in_implicit(item_factors: &FactorMatrix, gram: &[f64], reg: f64, confidences: Vec<(usize, f32)>) -> ImplicitUser {
    fold_in_implicit_with_zeros(item_factors, gram, reg, confidences, &[])
}

/// [`fold_in_implicit`] with some rows also observed as zeros (a "haven't seen it" answer):
/// `(row, c)` adds `(c - 1) y y^T` to the left side and nothing to the right, as a training
/// user's unrated movie would with confidence `c` instead of 1.
pub fn fold_in_implicit_with_zeros(
    item_factors: &FactorMatrix,
    gram: &[f64],
    reg: f64,
    confidences: Vec<(usize, f32)>,
    zeros: &[(usize, f32)],
) -> ImplicitUser {
    let mut eq = implicit_row_equations(gram, item_factors, confidences.iter().copied());
    for &(row, c) in zeros {
        eq.add(item_factors.row(row), (c - 1.0) as f64, 0.0);
    }
    let chol = if reg > 0.0 { eq.factorise(reg, 0.0) } else { None };
    let factors = match (&chol, confidences.is_empty()) {
        (Some(c), false) => c.solve(&DVector::from_column_slice(eq.rhs())).iter().map(|&v| v as f32).collect(),
        _ => vec![0.0; item_factors.cols()],
    };
    ImplicitUser { factors, chol, confidences: confidences.into_iter().map(|(r, c)| (r, c as f64)).collect() }
}

impl ExplicitUser {
    /// Centred prediction `b_i + b_u + p_u . q_i` (add the global mean for stars).
    pub fn centred_score(&self, item_bias: &[f32], item_factors: &FactorMatrix, row: usize) -> f32 {
        item_bias[row] + self.bias + dot(&self.factors, item_factors.row(row))
    }

    /// How much each folded-in rating adds to the user part of the prediction of `row`:
    /// `z_i^T A^-1 z_j t_j`, in the order of the ratings. Sums to `b_u + p_u . q_i`.
    pub fn contributions(&self, item_factors: &FactorMatrix, row: usize) -> Vec<(usize, f64)> {
        let Some(chol) = &self.chol else { return Vec::new() };
        let q = item_factors.row(row);
        let z = if self.with_bias {
            DVector::from_iterator(q.len() + 1, std::iter::once(1.0).chain(q.iter().map(|&v| v as f64)))
        } else {
            DVector::from_iterator(q.len(), q.iter().map(|&v| v as f64))
        };
        let w = chol.solve(&z);
        let (w0, skip) = if self.with_bias { (w[0], 1) } else { (0.0, 0) };
        // w . [1, q_j] without building [1, q_j]: this runs for every rated movie of every item
        // shown, so through the f32 dot kernel (the values only order the reasons).
        let w32: Vec<f32> = w.iter().skip(skip).map(|&v| v as f32).collect();
        self.targets.iter().map(|&(j, t)| (j, t * (w0 + dot(&w32, item_factors.row(j)) as f64))).collect()
    }
}

impl ImplicitUser {
    /// `y_i^T W^-1 y_i`: how unsure the visitor's posterior is of their score for `row` (the
    /// solve's matrix is the posterior precision of the user vector); 0 without a solve.
    pub fn variance(&self, item_factors: &FactorMatrix, row: usize) -> f64 {
        let Some(chol) = &self.chol else { return 0.0 };
        let y = DVector::from_iterator(item_factors.cols(), item_factors.row(row).iter().map(|&v| v as f64));
        // One triangular solve: y^T (L L^T)^-1 y = |L^-1 y|^2 (only L's lower part is read).
        chol.l_dirty().solve_lower_triangular(&y).map_or(0.0, |z| z.norm_squared())
    }

    /// How much each folded-in rating adds to the score of `row`: `c_j y_i^T W^-1 y_j`.
    pub fn contributions(&self, item_factors: &FactorMatrix, row: usize) -> Vec<(usize, f64)> {
        let Some(chol) = &self.chol else { return Vec::new() };
        let y = DVector::from_iterator(item_factors.cols(), item_factors.row(row).iter().map(|&v| v as f64));
        let w: Vec<f32> = chol.solve(&y).iter().map(|&v| v as f32).collect();
        self.confidences.iter().map(|&(j, c)| (j, c * dot(&w, item_factors.row(j)) as f64)).collect()
    }
}
