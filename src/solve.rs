//! The regularised least-squares step shared by the trainer and the browser.
//!
//! Alternating least squares solves, for one user (or one item), a small ridge regression over
//! the other side's fixed factors. Fold-in is exactly that step for a visitor, so both call the
//! same code: a visitor folded in gets what the trainer would have given them.

use nalgebra::{Cholesky, DMatrix, DVector, Dyn};

/// Normal equations `A x = b` for one row, accumulated one observation at a time.
///
/// With `with_bias`, every observed vector `q` is treated as `[1, q...]`, so `x[0]` is the row's
/// bias and `x[1..]` its factors.
#[derive(Clone, Debug)]
pub struct NormalEquations {
    dim: usize,
    with_bias: bool,
    a: Vec<f64>,
    b: Vec<f64>,
    count: usize,
}

impl NormalEquations {
    /// Empty equations for `factors` latent factors (plus a bias column when `with_bias`).
    pub fn new(factors: usize, with_bias: bool) -> Self {
        let dim = factors + with_bias as usize;
        Self { dim, with_bias, a: vec![0.0; dim * dim], b: vec![0.0; dim], count: 0 }
    }

    /// Equations that start from a precomputed Gram matrix `base` (`factors x factors`, row-major),
    /// as implicit ALS does with `Y^T Y`.
    pub fn from_gram(base: &[f64], factors: usize) -> Self {
        debug_assert_eq!(base.len(), factors * factors);
        Self { dim: factors, with_bias: false, a: base.to_vec(), b: vec![0.0; factors], count: 0 }
    }

    /// Number of observations added.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Adds `weight * z z^T` to `A` and `rhs * z` to `b`, where `z = [1, q]` with a bias column
    /// and `z = q` without. Only the upper triangle of `A` is updated; `solve` mirrors it.
    pub fn add(&mut self, q: &[f32], weight: f64, rhs: f64) {
        let dim = self.dim;
        debug_assert_eq!(q.len() + self.with_bias as usize, dim);
        // z in f64 once, so the inner loop is a plain f64 multiply-add over two slices (it
        // vectorises; converting inside it did not). The same products as term by term.
        let z: Vec<f64> = if self.with_bias {
            std::iter::once(1.0).chain(q.iter().map(|&v| v as f64)).collect()
        } else {
            q.iter().map(|&v| v as f64).collect()
        };
        for (i, &zi) in z.iter().enumerate() {
            let wi = weight * zi;
            crate::kernels::axpy_f64(&mut self.a[i * dim + i..(i + 1) * dim], wi, &z[i..]);
            self.b[i] += rhs * zi;
        }
        self.count += 1;
    }

    /// Solves `(A + diag(reg)) x = b` by Cholesky. `reg_bias` applies to the bias entry,
    /// `reg_factors` to the factor entries. Returns `None` when the system is not positive
    /// definite (only possible with zero regularisation and too few observations).
    pub fn solve(&self, reg_factors: f64, reg_bias: f64) -> Option<Vec<f64>> {
        let chol = self.factorise(reg_factors, reg_bias)?;
        let x = chol.solve(&DVector::from_column_slice(&self.b));
        x.iter().all(|v| v.is_finite()).then(|| x.iter().copied().collect())
    }

    /// The Cholesky factor of `A + diag(reg)`, kept to explain a score afterwards
    /// (`z^T (A + reg)^-1 z_j` is how much observation `j` moved the score of `z`).
    pub fn factorise(&self, reg_factors: f64, reg_bias: f64) -> Option<Cholesky<f64, Dyn>> {
        let dim = self.dim;
        let off = self.with_bias as usize;
        let mut m = DMatrix::<f64>::zeros(dim, dim);
        for i in 0..dim {
            for j in i..dim {
                let v = self.a[i * dim + j];
                m[(i, j)] = v;
                m[(j, i)] = v;
            }
            m[(i, i)] += if i < off { reg_bias } else { reg_factors };
        }
        m.cholesky()
    }

    /// The right-hand side `b`.
    pub fn rhs(&self) -> &[f64] {
        &self.b
    }
}

/// Conjugate gradient on `A x = b` (`A` symmetric positive definite, given as the product
/// `apply(v, out)`: `out = A v`), `steps` iterations from the warm start in `x`. The trainer's
/// inexact row solve (Takács, Pilászy and Tikk 2011; what the `implicit` library does): started
/// from the row's previous value, a few steps per ALS sweep cost about `steps * 2 n k` for `n`
/// observations instead of the `n k^2` of building the normal equations.
pub fn conjugate_gradient(apply: impl Fn(&[f64], &mut [f64]), b: &[f64], x: &mut [f64], steps: usize) {
    let dim = b.len();
    let mut ap = vec![0.0; dim];
    apply(x, &mut ap);
    let mut r: Vec<f64> = b.iter().zip(&ap).map(|(b, a)| b - a).collect();
    let mut p = r.clone();
    let mut rs: f64 = r.iter().map(|v| v * v).sum();
    for _ in 0..steps {
        if rs <= 1e-20 {
            break;
        }
        apply(&p, &mut ap);
        let pap: f64 = p.iter().zip(&ap).map(|(a, b)| a * b).sum();
        if pap <= 0.0 {
            break;
        }
        let alpha = rs / pap;
        for i in 0..dim {
            x[i] += alpha * p[i];
            r[i] -= alpha * ap[i];
        }
        let rs_new: f64 = r.iter().map(|v| v * v).sum();
        let beta = rs_new / rs;
        for i in 0..dim {
            p[i] = r[i] + beta * p[i];
        }
        rs = rs_new;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conjugate_gradient_reaches_the_cholesky_solution() {
        let obs: [[f32; 3]; 6] = [[1.0, 0.2, 0.0], [0.0, 1.0, 0.5], [1.0, 1.0, 1.0], [2.0, -1.0, 0.3], [0.5, 0.3, -0.7], [0.1, 0.1, 0.9]];
        let mut eq = NormalEquations::new(3, false);
        for (i, q) in obs.iter().enumerate() {
            eq.add(q, 1.0, i as f64 - 2.0);
        }
        let exact = eq.solve(0.5, 0.0).unwrap();
        let apply = |v: &[f64], out: &mut [f64]| {
            out.iter_mut().zip(v).for_each(|(o, v)| *o = 0.5 * v);
            for q in &obs {
                let d: f64 = q.iter().zip(v).map(|(a, b)| *a as f64 * b).sum();
                out.iter_mut().zip(q).for_each(|(o, a)| *o += d * *a as f64);
            }
        };
        let mut x = vec![0.0; 3];
        conjugate_gradient(apply, eq.rhs(), &mut x, 3);
        assert!(x.iter().zip(&exact).all(|(a, b)| (a - b).abs() < 1e-9), "{x:?} vs {exact:?}");
        let mut one_step = vec![0.0; 3];
        conjugate_gradient(apply, eq.rhs(), &mut one_step, 1);
        assert!(one_step.iter().zip(&exact).any(|(a, b)| (a - b).abs() > 1e-3), "one step is not yet exact");
    }

    #[test]
    fn recovers_exact_solution_with_bias() {
        // y = 2 + 1*q0 - 3*q1, observed without noise; tiny regularisation.
        let obs: [[f32; 2]; 5] = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, -1.0], [0.5, 0.3]];
        let mut eq = NormalEquations::new(2, true);
        for q in &obs {
            let y = 2.0 + q[0] as f64 - 3.0 * q[1] as f64;
            eq.add(q, 1.0, y);
        }
        let x = eq.solve(1e-9, 1e-9).unwrap();
        assert!((x[0] - 2.0).abs() < 1e-6 && (x[1] - 1.0).abs() < 1e-6 && (x[2] + 3.0).abs() < 1e-6, "{x:?}");
    }

    #[test]
    fn regularisation_shrinks_towards_zero() {
        let mut eq = NormalEquations::new(1, false);
        eq.add(&[1.0], 1.0, 4.0);
        let loose = eq.solve(0.0, 0.0).unwrap()[0];
        let tight = eq.solve(3.0, 0.0).unwrap()[0];
        assert!((loose - 4.0).abs() < 1e-12);
        assert!((tight - 1.0).abs() < 1e-12);
    }

    #[test]
    fn singular_without_regularisation_is_none() {
        let eq = NormalEquations::new(3, false);
        assert!(eq.solve(0.0, 0.0).is_none());
    }
}
