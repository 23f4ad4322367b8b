//! The hybrid: the other methods' scores, each standardised over the catalogue, blended with
//! weights that depend on how many ratings the visitor has. Its reasons are the rated movies
//! that add most across the parts that decompose by rating, else the reason of the part that
//! weighs most.

use std::cell::OnceCell;

use serde::{Deserialize, Serialize};

use super::{Context, Contributions, Folded, Method, Parts, Reason, BLENDED, REGISTRY};
use crate::error::{Error, Result};

/// One bucket's weights, indexed by each method's [`super::Entry::blend`] slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BlendWeights(pub [f32; BLENDED]);

impl BlendWeights {
    /// The weight of `method` (0 for a method the hybrid does not blend).
    pub fn of(&self, method: Method) -> f32 {
        method.entry().blend.map_or(0.0, |slot| self.0[slot])
    }

    /// Weights from `(method, weight)` pairs, 0 for the methods not named.
    pub fn from_pairs(pairs: &[(Method, f32)]) -> Self {
        pairs.iter().fold(Self::default(), |w, &(m, x)| w.with(m, x))
    }

    /// These weights with `method`'s set to `weight`. Panics for a method the hybrid does not
    /// blend (a programming error: the registry says which do).
    pub fn with(mut self, method: Method, weight: f32) -> Self {
        self.0[method.entry().blend.expect("a blended method")] = weight;
        self
    }

    /// `(method, weight)` of every blended method, in the registry's order.
    pub fn iter(&self) -> impl Iterator<Item = (Method, f32)> + '_ {
        REGISTRY.iter().filter_map(|e| e.blend.map(|slot| (e.method, self.0[slot])))
    }
}

/// The hybrid's weights by how many ratings the visitor has: few ratings lean on content and
/// popularity, many on collaborative signals. Learned on validation users.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HybridWeights {
    /// Weights for under 5 ratings, 5 to 19, and 20 or more.
    pub buckets: [BlendWeights; 3],
}

impl HybridWeights {
    /// The same weights for every bucket.
    pub fn uniform(w: BlendWeights) -> Self {
        Self { buckets: [w; 3] }
    }

    /// Weights for a visitor with `ratings` ratings.
    pub fn for_ratings(&self, ratings: usize) -> BlendWeights {
        self.buckets[match ratings {
            0..=4 => 0,
            5..=19 => 1,
            _ => 2,
        }]
    }

    /// Every weight finite and >= 0, and not all 0 in a bucket.
    pub fn validate(&self) -> Result<()> {
        let weights = self.buckets.iter().flat_map(|b| b.0);
        if weights.clone().any(|w| !(0.0..=MAX_WEIGHT).contains(&w)) || self.buckets.iter().any(|b| b.0.iter().sum::<f32>() <= 0.0) {
            return Err(Error::InvalidModel(format!(
                "hybrid weights {:?} must be within 0..={MAX_WEIGHT}, and not all 0 in a bucket",
                self.buckets
            )));
        }
        Ok(())
    }
}

/// The largest blend weight a file may hold: the parts' scores are standardised, so weights
/// are relative and no writer needs more.
pub const MAX_WEIGHT: f32 = 1000.0;

/// The visitor folded into every part with a weight, blended on first use.
struct FoldedHybrid<'a> {
    parts: Vec<(f32, Box<dyn Folded + 'a>)>,
    movies: usize,
    /// Each part's weight over its standard deviation: how its raw score enters the blend.
    scales: OnceCell<Vec<f64>>,
}

/// Folds the visitor into every part of `parts` that the weights for their rating count blend.
pub fn fold_in<'a>(weights: &HybridWeights, parts: &Parts<'a>, cx: &Context<'a>) -> Box<dyn Folded + 'a> {
    let w = weights.for_ratings(cx.ratings.all.len());
    let parts = w
        .iter()
        .filter(|&(_, weight)| weight != 0.0)
        .filter_map(|(method, weight)| parts.get(method).map(|part| (weight, part.fold_in(cx))))
        .collect();
    Box::new(FoldedHybrid { parts, movies: cx.catalogue.len(), scales: OnceCell::new() })
}

impl FoldedHybrid<'_> {
    fn blend(&self) -> (Vec<f32>, Vec<f64>) {
        let mut scores = vec![0.0f32; self.movies];
        let mut scales = Vec::with_capacity(self.parts.len());
        for (weight, part) in &self.parts {
            let (z, sd) = standardise(part.scores());
            scores.iter_mut().zip(&z).for_each(|(s, z)| *s += weight * z);
            scales.push((weight / sd) as f64);
        }
        (scores, scales)
    }
}

impl Folded for FoldedHybrid<'_> {
    fn scores(&self) -> Vec<f32> {
        let (scores, scales) = self.blend();
        let _ = self.scales.set(scales);
        scores
    }

    /// Each part's contributions scaled as the part enters the score, so they add up as they
    /// rank.
    fn contributions(&self, row: usize, into: &mut Contributions, scale: f64) -> bool {
        let scales = self.scales.get_or_init(|| self.blend().1);
        let mut any = false;
        for ((_, part), &s) in self.parts.iter().zip(scales) {
            any |= part.contributions(row, into, scale * s);
        }
        any
    }

    /// The reason of the heaviest part that has one.
    fn reason(&self, row: usize) -> Option<Reason> {
        let mut by_weight: Vec<&(f32, Box<dyn Folded + '_>)> = self.parts.iter().collect();
        by_weight.sort_by(|a, b| b.0.total_cmp(&a.0));
        by_weight.into_iter().find_map(|(_, part)| part.reason(row))
    }
}

/// Scores minus their mean, divided by their standard deviation (returned; 1 when flat), so that
/// methods on different scales can be blended.
pub fn standardise(mut scores: Vec<f32>) -> (Vec<f32>, f32) {
    let n = scores.len().max(1) as f64;
    let mean = scores.iter().map(|&s| s as f64).sum::<f64>() / n;
    let var = scores.iter().map(|&s| (s as f64 - mean).powi(2)).sum::<f64>() / n;
    let sd = if var > 1e-24 { var.sqrt() } else { 1.0 };
    for s in &mut scores {
        *s = ((*s as f64 - mean) / sd) as f32;
    }
    (scores, sd as f32)
}
