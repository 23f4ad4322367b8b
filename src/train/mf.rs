//! Fits the factor models by alternating least squares: the biased explicit model (stars) and
//! the confidence-weighted implicit one (ranking). Every row solve is the function the
//! browser's fold-in calls ([`crate::fold_in`]) or, on large data, a few conjugate-gradient
//! steps towards it, so a visitor folded in is treated exactly like a training user. Rows are
//! solved in parallel with rayon; each row's solve is independent of thread scheduling, so
//! results are deterministic for a seed.

use std::time::Instant;

use rayon::prelude::*;

use super::interactions::Slices;
use super::progress::{duration, Progress};
use super::settings::{cg_steps_for, ExplicitSettings, ImplicitSettings};
use super::{Interactions, SplitMix};
use crate::factors::{FactorMatrix, FactorStorage};
use crate::fold_in::{explicit_row_equations, implicit_row_equations};
use crate::methods::mf::confidence;

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
    let mut bar = Progress::new("explicit ALS", s.iterations, progress);
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
        bar.step(it + 1, || {
            let fit = ExplicitFit {
                global_mean: mu,
                user_bias: user_bias.clone(),
                user_factors: user_factors.clone(),
                item_bias: item_bias.clone(),
                item_factors: item_factors.clone(),
            };
            format!("train RMSE {:.4}, {} an iteration", train_rmse(data, &fit), duration(t.elapsed()))
        });
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
                + crate::kernels::dot(fit.user_factors.row(u), fit.item_factors.row(i));
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
    let mut bar = Progress::new("implicit ALS", s.iterations, progress);
    for it in 0..s.iterations {
        let t = Instant::now();
        user_factors = implicit_half_step(data.users.len(), &|u| data.by_user.slices(u), &item_factors, &user_factors, s);
        item_factors = implicit_half_step(data.items.len(), &|i| data.by_item.slices(i), &user_factors, &item_factors, s);
        bar.step(it + 1, || format!("{} an iteration", duration(t.elapsed())));
    }
    ImplicitFit { user_factors, item_factors }
}
