//! Fits EASE's weights ([`Ease`]) in closed form: the Gram matrix of who liked what over a
//! vocabulary of well-liked movies, regularised and inverted once.
//!
//! The inverse is dense, `m^2` for `m` vocabulary movies and about `m^3` to compute, so the
//! vocabulary is capped ([`EaseSettings::max_movies`], the most liked first): 2,000 movies take
//! 32 MB and 1.4 s, 3,000 take 72 MB and 3.5 s (2 cores); ML-25M's 59,000 rated movies would
//! take 28 GB. On fold 0's validation users 2,000 and 4,000 scored the same (tuning/README.md).
//! Movies outside it are neither read nor scored by this method (the other parts cover them in
//! the hybrid).

use nalgebra::DMatrix;
use rayon::prelude::*;

use super::settings::setting_error;
use super::Interactions;
use crate::error::{Error, Result};
use crate::methods::ease::Ease;

/// Settings of EASE's fit.
#[derive(Clone, Debug, PartialEq)]
pub struct EaseSettings {
    /// Ridge `lambda` added to the Gram matrix's diagonal.
    pub lambda: f32,
    /// Weights kept per movie (the largest by size).
    pub k: usize,
    /// A movie enters the vocabulary with at least this many likes.
    pub min_liked: u32,
    /// Most movies in the vocabulary (the most liked first).
    pub max_movies: usize,
    /// Ratings at or above this are likes.
    pub liked_from: f32,
}

impl Default for EaseSettings {
    fn default() -> Self {
        Self { lambda: 100.0, k: 100, min_liked: 3, max_movies: 2000, liked_from: 3.5 }
    }
}

impl EaseSettings {
    /// Checks the domains.
    pub fn check(&self) -> Result<()> {
        if !(self.lambda.is_finite() && self.lambda > 0.0) {
            return Err(setting_error("ease_lambda", self.lambda, "must be finite and > 0"));
        }
        if !(1..=1000).contains(&self.k) {
            return Err(setting_error("ease_k", self.k, "must be in 1..=1000"));
        }
        if !(1..=20_000).contains(&self.max_movies) {
            return Err(setting_error("ease_movies", self.max_movies, "must be in 1..=20000 (the inverse is dense)"));
        }
        if !self.liked_from.is_finite() {
            return Err(setting_error("ease_liked_from", self.liked_from, "must be finite"));
        }
        Ok(())
    }

    /// The settings in the model's provenance line.
    pub fn describe(&self) -> String {
        format!(
            "EASE lambda={} k={} vocabulary<={} movies with >={} likes (>= {} stars)",
            self.lambda, self.k, self.max_movies, self.min_liked, self.liked_from
        )
    }
}

/// Below this size [`spd_inverse`] inverts by Cholesky directly.
const DIRECT: usize = 192;

/// The inverse of a symmetric positive definite matrix by block inversion: with
/// `X = A11^-1 A12` and the Schur complement `S = A22 - A12^T X`, `P22 = S^-1`,
/// `P12 = -X S^-1` and `P11 = A11^-1 - P12 X^T`. Every step is a matrix product (matrixmultiply,
/// on every core), where nalgebra's Cholesky inverse solves column by column: 3,000 movies took
/// 40 s that way. `S` is positive definite when `A` is, so the halves recurse. None if `A` is not.
fn spd_inverse(a: DMatrix<f64>) -> Option<DMatrix<f64>> {
    let n = a.nrows();
    if n <= DIRECT {
        return a.cholesky().map(|c| c.inverse());
    }
    let h = n / 2;
    let a12 = a.view((0, h), (h, n - h)).into_owned();
    let i11 = spd_inverse(a.view((0, 0), (h, h)).into_owned())?;
    let x = &i11 * &a12;
    let s = a.view((h, h), (n - h, n - h)) - a12.transpose() * &x;
    let p22 = spd_inverse(s)?;
    let p12 = -(&x * &p22);
    let p11 = i11 - &p12 * x.transpose();
    let mut p = DMatrix::zeros(n, n);
    p.view_mut((0, 0), (h, h)).copy_from(&p11);
    p.view_mut((0, h), (h, n - h)).copy_from(&p12);
    p.view_mut((h, 0), (n - h, h)).copy_from(&p12.transpose());
    p.view_mut((h, h), (n - h, n - h)).copy_from(&p22);
    Some(p)
}

/// EASE's weights over the training interactions, as catalogue rows (`rated_row[i]` is item
/// `i`'s row, of `n`). `B = I - P diag(1 / diag(P))`, `P = (G + lambda I)^-1`, so
/// `B[j][i] = -P[j][i] / P[i][i]` off the diagonal. None without two vocabulary movies.
pub fn fit_ease(data: &Interactions, rated_row: &[usize], n: usize, s: &EaseSettings) -> Result<Option<Ease>> {
    let liked_by = |i: usize| data.item_ratings(i).filter(|&(_, r)| r >= s.liked_from).count();
    let mut vocab: Vec<(usize, usize)> =
        (0..data.items.len()).map(|i| (i, liked_by(i))).filter(|&(_, c)| c >= s.min_liked.max(1) as usize).collect();
    vocab.sort_by_key(|&(i, c)| (std::cmp::Reverse(c), i));
    vocab.truncate(s.max_movies);
    vocab.sort_unstable();
    let m = vocab.len();
    if m < 2 {
        return Ok(None);
    }
    let mut at = vec![usize::MAX; data.items.len()];
    for (a, &(i, _)) in vocab.iter().enumerate() {
        at[i] = a;
    }
    // Counts are integers, so the threads' partial sums add up to the same matrix in any order.
    let gram = (0..data.users.len())
        .into_par_iter()
        .fold(
            || vec![0.0f64; m * m],
            |mut g, u| {
                let liked: Vec<usize> =
                    data.user_ratings(u).filter(|&(i, r)| r >= s.liked_from && at[i] != usize::MAX).map(|(i, _)| at[i]).collect();
                for &a in &liked {
                    let col = &mut g[a * m..(a + 1) * m];
                    for &b in &liked {
                        col[b] += 1.0;
                    }
                }
                g
            },
        )
        .reduce(
            || vec![0.0f64; m * m],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                a
            },
        );
    let mut g = DMatrix::from_vec(m, m, gram);
    for a in 0..m {
        g[(a, a)] += s.lambda as f64;
    }
    let p = spd_inverse(g).ok_or_else(|| Error::InvalidSetting {
        name: "ease_lambda",
        value: s.lambda.to_string(),
        reason: "the regularised Gram matrix is not positive definite".into(),
    })?;
    // Row j of the table: B[j][i] over targets i (P is symmetric: read column j).
    let lists: Vec<Vec<(usize, f32)>> = (0..m)
        .into_par_iter()
        .map(|j| {
            let col = p.column(j);
            let mut w: Vec<(usize, f32)> =
                (0..m).filter(|&i| i != j).map(|i| (i, (-col[i] / p[(i, i)]) as f32)).filter(|&(_, w)| w != 0.0).collect();
            // Largest first, ties by target (deterministic).
            w.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
            w.truncate(s.k);
            w
        })
        .collect();
    let mut rows: Vec<Vec<(u32, i8)>> = vec![Vec::new(); n];
    let mut scale = vec![0.0f32; n];
    for (j, list) in lists.into_iter().enumerate() {
        let row = rated_row[vocab[j].0];
        let top = list.first().map_or(0.0, |&(_, w)| w.abs());
        if top > 0.0 {
            scale[row] = top;
            rows[row] = list
                .into_iter()
                .map(|(i, w)| (rated_row[vocab[i].0] as u32, (w / top * 127.0).round() as i8))
                .filter(|&(_, q)| q != 0)
                .collect();
        }
    }
    let mut offsets = vec![0u32];
    let (mut targets, mut weights) = (Vec::new(), Vec::new());
    for list in rows {
        for (i, q) in list {
            targets.push(i);
            weights.push(q);
        }
        offsets.push(targets.len() as u32);
    }
    Ok(Some(Ease { offsets, targets, weights, scale, liked_from: s.liked_from }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_inversion_inverts() {
        // A random Gram matrix plus a ridge, larger than the direct size so that it recurses
        // twice (odd halves included).
        let (n, mut seed) = (2 * DIRECT + 77, 7u64);
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1u64 << 31) as f64
        };
        let x = DMatrix::<f64>::from_fn(n + 50, n, |_, _| if next() < 0.1 { 1.0 } else { 0.0 });
        let a = x.transpose() * &x + DMatrix::<f64>::identity(n, n) * 5.0;
        let p = spd_inverse(a.clone()).unwrap();
        let err = (&a * &p - DMatrix::<f64>::identity(n, n)).abs().max();
        assert!(err < 1e-9, "|AP - I| = {err}");
        assert!(spd_inverse(-DMatrix::<f64>::identity(n, n)).is_none(), "not positive definite");
    }
}
