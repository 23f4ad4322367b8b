//! EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"): a linear
//! item-to-item model over the movies the visitor liked, its weights in closed form from the
//! training users' Gram matrix, `B = I - P diag(1 / diag(P))` with `P = (X^T X + lambda I)^-1`
//! and a zero diagonal. A movie scores `sum over liked j of a_j B[j][i]`, `a_j` the liked
//! movie's recency weight (the latest most, an old one [`super::RECENCY_FLOOR`]: today's
//! visitors' next movies are most like their last ones).
//!
//! Why it is here: it has no per-user parameters and no tuned blend of its own, so what it
//! learns about movies carries to visitors unlike the training users; on visitors from another
//! MovieLens population it beat the factor model and the old hybrid (issue 13). Its weights may
//! be negative (liking `j` says `i` is less likely), unlike a similarity. The file keeps each
//! movie's `k` largest weights by size, one byte each on that row's own scale.

use serde::{Deserialize, Serialize};

use super::{Context, Contributions, Folded, Part};
use crate::error::{Error, Result};
use crate::table::{check_all, check_range, validate_csr};

/// The pruned weight matrix, one compressed row per catalogue row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ease {
    /// Row `j`'s weights are `targets[offsets[j]..offsets[j + 1]]`: the movies a like of `j`
    /// adds to (or takes from).
    pub offsets: Vec<u32>,
    /// Target rows.
    pub targets: Vec<u32>,
    /// Each weight as `q / 127 * scale[j]`.
    pub weights: Vec<i8>,
    /// Per row: the largest weight's size.
    pub scale: Vec<f32>,
    /// Ratings at or above this are "liked": the training input, and the visitor's.
    pub liked_from: f32,
}

impl Ease {
    /// Row `j`'s weights as `(target row, weight)`.
    pub fn of(&self, j: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let span = self.offsets[j] as usize..self.offsets[j + 1] as usize;
        let unit = self.scale[j] / 127.0;
        self.targets[span.clone()].iter().zip(&self.weights[span]).map(move |(&i, &q)| (i as usize, q as f32 * unit))
    }
}

struct FoldedEase<'a> {
    table: &'a Ease,
    /// `(row, input weight)` of each liked movie.
    liked: Vec<(usize, f32)>,
    movies: usize,
}

impl Part for Ease {
    fn fold_in<'a>(&'a self, cx: &Context<'a>) -> Box<dyn Folded + 'a> {
        let liked =
            cx.ratings.with_recency().filter(|&(_, stars, _)| stars >= self.liked_from).map(|(row, _, weight)| (row, weight)).collect();
        Box::new(FoldedEase { table: self, liked, movies: cx.catalogue.len() })
    }

    fn validate(&self, movies: usize) -> Result<()> {
        validate_csr("ease", &self.offsets, Some(movies), &self.targets, self.weights.len(), movies)?;
        if self.scale.len() != movies {
            return Err(Error::InvalidModel(format!("ease table has {} row scales for {movies} rows", self.scale.len())));
        }
        check_all("ease row scale", &self.scale, 0.0, 1e3)?;
        check_range("ease liked threshold", self.liked_from, -1e3, 1e3)
    }
}

impl Folded for FoldedEase<'_> {
    fn scores(&self) -> Vec<f32> {
        let mut scores = vec![0.0f32; self.movies];
        for &(j, a) in &self.liked {
            for (i, w) in self.table.of(j) {
                scores[i] += a * w;
            }
        }
        scores
    }

    /// A liked movie's weight towards `row` is exactly its share of the score.
    fn contributions(&self, row: usize, into: &mut Contributions, scale: f64) -> bool {
        for &(j, a) in &self.liked {
            if let Some((_, w)) = self.table.of(j).find(|&(i, _)| i == row) {
                into.add(j, scale * (a * w) as f64);
            }
        }
        true
    }
}
