//! Fits item-based kNN's table ([`ItemKnn`]): each movie's most similar movies by the shrunk
//! cosine similarity of their raters, over the training interactions.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;

use super::progress::Progress;

use super::settings::setting_error;
use super::Interactions;
use crate::catalogue::MovieId;
use crate::error::Result;
use crate::methods::item_knn::ItemKnn;
use crate::rank::top_k;

/// Settings of the item-based neighbourhood model and its star correction.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemKnnSettings {
    /// Neighbours kept per movie.
    pub k: usize,
    /// Shrinkage of similarities by co-rater count `n / (n + shrink)`.
    pub shrink: f32,
    /// Weight of the neighbourhood correction of predicted stars.
    pub rating_weight: f32,
    /// Shrinkage of that correction.
    pub rating_shrink: f32,
}

impl ItemKnnSettings {
    /// Checks the domains.
    pub fn check(&self) -> Result<()> {
        if !(1..=1000).contains(&self.k) {
            return Err(setting_error("item_knn_k", self.k, "must be in 1..=1000"));
        }
        if !(self.shrink.is_finite() && self.shrink >= 0.0) {
            return Err(setting_error("item_knn_shrink", self.shrink, "must be finite and >= 0"));
        }
        if !(self.rating_weight.is_finite() && self.rating_weight >= 0.0 && self.rating_shrink.is_finite() && self.rating_shrink > 0.0) {
            return Err(setting_error(
                "item_knn_rating",
                format!("{}/{}", self.rating_weight, self.rating_shrink),
                "weight >= 0, shrink > 0",
            ));
        }
        Ok(())
    }

    /// The settings in the model's provenance line.
    pub fn describe(&self) -> String {
        format!("item kNN k={} shrink={} star correction {}/{}", self.k, self.shrink, self.rating_weight, self.rating_shrink)
    }
}

/// For every item its `k` most similar items by shrunk cosine similarity of their raters:
/// `c_ij / sqrt(n_i n_j) * c_ij / (c_ij + shrink)`, with `c_ij` users who rated both.
/// Each item's co-rater counts are gathered in a dense scratch row (one per thread), so the
/// cost is the sum over users of their rating count squared, and memory stays linear.
pub fn fit_item_knn(data: &Interactions, s: &ItemKnnSettings, progress: bool) -> ItemKnn {
    let n = data.items.len();
    let counts: Vec<f32> = (0..n).map(|i| data.item_ratings(i).count() as f32).collect();
    let bar = Mutex::new(Progress::new("item neighbours, movie", n, progress));
    let done = AtomicUsize::new(0);
    let lists: Vec<Vec<(usize, f32)>> = (0..n)
        .into_par_iter()
        .map_init(
            || (vec![0u32; n], Vec::new()),
            |(co, touched), i| {
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                if d % 1024 == 0 || d == n {
                    bar.lock().expect("no panic while printing").step(d, String::new);
                }
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
    ItemKnn {
        offsets,
        neighbours: neighbour,
        similarity,
        max_similarity,
        shrink: s.shrink,
        rating_weight: s.rating_weight,
        rating_shrink: s.rating_shrink,
    }
}

/// Re-indexes a neighbour table from rated-item rows to catalogue rows (unrated rows get none).
pub fn to_catalogue_rows(nb: ItemKnn, rated_row: &[usize], n: usize) -> ItemKnn {
    let mut lists: Vec<Vec<(u32, u8)>> = vec![Vec::new(); n];
    for (i, &r) in rated_row.iter().enumerate() {
        let span = nb.offsets[i] as usize..nb.offsets[i + 1] as usize;
        lists[r] = nb.neighbours[span.clone()].iter().zip(&nb.similarity[span]).map(|(&j, &q)| (rated_row[j as usize] as u32, q)).collect();
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
    ItemKnn { offsets, neighbours: neighbour, similarity, ..nb }
}
