//! Item-based collaborative filtering: for every movie its most similar movies (shrunk cosine
//! similarity of who rated them, top `k` kept, similarities in one byte). A movie scores by how
//! similar it is to the movies the visitor rated, each weighted as the factor model weighs it;
//! the same neighbours correct predicted stars (Koren's neighbourhood model on the factor
//! model's residuals) and answer "more like this".

use serde::{Deserialize, Serialize};

use super::{Context, Contributions, Folded, Part, Ratings};
use crate::error::Result;
use crate::table::{check_range, validate_csr};

/// The neighbour table and the star correction's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemKnn {
    /// Row `i`'s neighbours are `neighbours[offsets[i]..offsets[i + 1]]`, most similar first.
    pub offsets: Vec<u32>,
    /// Neighbour rows.
    pub neighbours: Vec<u32>,
    /// Similarity of each neighbour as `q / 255 * max_similarity`.
    pub similarity: Vec<u8>,
    /// Scale of `similarity`.
    pub max_similarity: f32,
    /// How many co-raters a similarity needs to count fully (`n / (n + shrink)`).
    pub shrink: f32,
    /// Weight of the neighbourhood correction of predicted stars (0 turns it off).
    pub rating_weight: f32,
    /// Shrinkage of that correction towards 0 when few neighbours were rated.
    pub rating_shrink: f32,
}

impl ItemKnn {
    /// Neighbours of `row` as `(row, similarity)`, most similar first.
    pub fn of(&self, row: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let span = self.offsets[row] as usize..self.offsets[row + 1] as usize;
        let scale = self.max_similarity / 255.0;
        self.neighbours[span.clone()].iter().zip(&self.similarity[span]).map(move |(&n, &q)| (n as usize, q as f32 * scale))
    }

    /// Movies most similar to `row`, best first (at most `count`).
    pub fn similar(&self, row: usize, count: usize) -> Vec<(usize, f32)> {
        self.of(row).take(count).collect()
    }

    /// The neighbourhood correction of `row`'s predicted stars: how the visitor rated its
    /// neighbours relative to what the factor model predicts for them,
    /// `weight * sum(s_ij (r_j - pred_j)) / (sum(s_ij) + shrink)`, where
    /// `pred_j = global_mean + centred(j)`. Zero when off or without rated neighbours.
    pub fn star_correction(&self, ratings: &Ratings, global_mean: f32, centred: impl Fn(usize) -> f32, row: usize) -> f32 {
        if self.rating_weight <= 0.0 {
            return 0.0;
        }
        let (mut num, mut den) = (0.0f32, 0.0f32);
        for (j, sim) in self.of(row) {
            if let Some(r) = ratings.stars(j) {
                num += sim * (r - global_mean - centred(j));
                den += sim;
            }
        }
        self.rating_weight * num / (den + self.rating_shrink)
    }
}

struct FoldedItemKnn<'a> {
    table: &'a ItemKnn,
    weights: &'a [(usize, f32)],
}

impl Part for ItemKnn {
    fn fold_in<'a>(&'a self, cx: &Context<'a>) -> Box<dyn Folded + 'a> {
        Box::new(FoldedItemKnn { table: self, weights: &cx.ratings.weights })
    }

    fn validate(&self, n: usize) -> Result<()> {
        validate_csr("item_knn", &self.offsets, Some(n), &self.neighbours, self.similarity.len(), n)?;
        check_range("item_knn similarity scale", self.max_similarity, 0.0, 1e3)?;
        check_range("item_knn shrinkage", self.shrink, 0.0, 1e6)?;
        check_range("item_knn star correction weight", self.rating_weight, 0.0, 1e3)?;
        check_range("item_knn star correction shrinkage", self.rating_shrink, f32::MIN_POSITIVE, 1e6)
    }
}

impl Folded for FoldedItemKnn<'_> {
    /// For each rated movie `j`, each neighbour `i` of `j` gains `weight_j * similarity(j, i)`.
    fn scores(&self) -> Vec<f32> {
        let mut scores = vec![0.0f32; self.table.offsets.len() - 1];
        for &(j, w) in self.weights {
            for (i, sim) in self.table.of(j) {
                scores[i] += w * sim;
            }
        }
        scores
    }

    fn contributions(&self, row: usize, into: &mut Contributions, scale: f64) -> bool {
        for &(j, w) in self.weights {
            if let Some((_, sim)) = self.table.of(j).find(|&(i, _)| i == row) {
                into.add(j, scale * (w * sim) as f64);
            }
        }
        true
    }
}
