//! The neural method: a denoising autoencoder over the visitor's rated movies with a multinomial
//! likelihood (Mult-DAE, Liang et al. 2018, "Variational Autoencoders for Collaborative
//! Filtering"), its encoder and decoder sharing one weight matrix.
//!
//! A visitor is folded in by one forward pass, with no retraining: their rated movies, as a
//! vector `x` scaled to unit length, are encoded as `h = tanh(W^T x + b_h)` and decoded into one
//! logit per movie, `W h + b_o`; ranking by the logits is ranking by the softmax. The trainer
//! (`train::neural`) fits `W`, `b_h`, `b_o` on training users: the input is every movie they
//! rated, half of them dropped at random (the denoising); the target is the movies they liked.
//!
//! Why these choices (measured, recorded in `tuning/README.md`): tying the decoder to the
//! encoder halves the bytes *and* scored better than two matrices (less to fit from a few
//! hundred training users); movies with fewer than a handful of training ratings are left out
//! of the vocabulary, which also scored better and shrinks the matrix to about a third; the
//! liked-only target and, at fold-in, a reduced input weight for movies the visitor did not like
//! each added about 7% NDCG@10.

use serde::{Deserialize, Serialize};

use super::{Context, Contributions, Folded, Part};
use crate::error::{Error, Result};
use crate::factors::FactorMatrix;
use crate::table::{check_all, check_range};

/// The trained autoencoder as shipped in the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Neural {
    /// Catalogue row of each vocabulary entry, strictly ascending. Movies outside the vocabulary
    /// are neither read from the visitor's ratings nor scored (they rank after every other).
    pub rows: Vec<u32>,
    /// One row per vocabulary entry, one column per hidden unit: the encoder's input weights and,
    /// transposed, the decoder's output weights.
    pub weights: FactorMatrix,
    /// Hidden units' bias `b_h`.
    pub hidden_bias: Vec<f32>,
    /// Output bias `b_o`, one per vocabulary entry.
    pub output_bias: Vec<f32>,
    /// Ratings at or above this are "liked" (the training target).
    pub liked_from: f32,
    /// Input weight at fold-in of a movie rated below `liked_from` (liked movies weigh 1).
    pub disliked_weight: f32,
}

/// A visitor encoded by [`Neural::encode`].
#[derive(Clone, Debug, PartialEq)]
pub struct Encoded {
    /// `h = tanh(W^T x + b_h)`.
    pub hidden: Vec<f32>,
    /// Vocabulary entries of the rated movies that entered `x`, with their value in `x`.
    inputs: Vec<(usize, f32)>,
}

impl Neural {
    /// Hidden units.
    pub fn hidden(&self) -> usize {
        self.weights.cols()
    }

    /// Vocabulary entry of catalogue row `row`, if it has one.
    pub fn entry(&self, row: usize) -> Option<usize> {
        u32::try_from(row).ok().and_then(|r| self.rows.binary_search(&r).ok())
    }

    /// The forward pass's first half for a visitor's `(catalogue row, rating, weight)` triples,
    /// each input scaled by its weight (the recency share of [`crate::methods::RECENCY_FLOOR`]);
    /// rows outside the vocabulary are ignored, each row is read at most once.
    pub fn encode(&self, rated: impl IntoIterator<Item = (usize, f32, f32)>) -> Encoded {
        let mut inputs: Vec<(usize, f32)> = rated
            .into_iter()
            .filter_map(|(r, stars, a)| self.entry(r).map(|e| (e, a * if stars >= self.liked_from { 1.0 } else { self.disliked_weight })))
            .filter(|&(_, x)| x > 0.0)
            .collect();
        inputs.sort_unstable_by_key(|&(e, _)| e);
        inputs.dedup_by_key(|&mut (e, _)| e);
        let norm = inputs.iter().map(|&(_, x)| x * x).sum::<f32>().sqrt();
        inputs.iter_mut().for_each(|(_, x)| *x /= norm);
        let mut pre = self.hidden_bias.clone();
        for &(e, x) in &inputs {
            for (p, w) in pre.iter_mut().zip(self.weights.row(e)) {
                *p += x * w;
            }
        }
        Encoded { hidden: pre.into_iter().map(f32::tanh).collect(), inputs }
    }

    /// The decoder's logit of every catalogue row (`movies` of them); rows outside the
    /// vocabulary get one less than the lowest logit, so they rank last.
    pub fn scores(&self, encoded: &Encoded, movies: usize) -> Vec<f32> {
        let logits = self.weights.dot_all(&encoded.hidden);
        let floor = logits.iter().zip(&self.output_bias).map(|(l, b)| l + b).fold(f32::INFINITY, f32::min);
        let mut scores = vec![if floor.is_finite() { floor - 1.0 } else { 0.0 }; movies];
        for ((&row, l), b) in self.rows.iter().zip(logits).zip(&self.output_bias) {
            scores[row as usize] = l + b;
        }
        scores
    }

    /// How much each rated movie adds to catalogue row `row`'s logit, to first order: the
    /// logit's gradient with respect to that movie's input times the input,
    /// `x_j * sum_k W_rk (1 - h_k^2) W_jk`. Returns `(catalogue row, contribution)`.
    pub fn contributions(&self, encoded: &Encoded, row: usize) -> Vec<(usize, f64)> {
        let Some(target) = self.entry(row) else { return Vec::new() };
        let gate: Vec<f32> = self.weights.row(target).iter().zip(&encoded.hidden).map(|(w, h)| w * (1.0 - h * h)).collect();
        encoded.inputs.iter().map(|&(e, x)| (self.rows[e] as usize, (x * crate::kernels::dot(self.weights.row(e), &gate)) as f64)).collect()
    }
}

struct FoldedNeural<'a> {
    table: &'a Neural,
    encoded: Encoded,
    movies: usize,
}

impl Part for Neural {
    fn fold_in<'a>(&'a self, cx: &Context<'a>) -> Box<dyn Folded + 'a> {
        Box::new(FoldedNeural { table: self, encoded: self.encode(cx.ratings.with_recency()), movies: cx.catalogue.len() })
    }

    /// Checks shapes and values against a catalogue of `movies` rows.
    fn validate(&self, movies: usize) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidModel(msg));
        let v = self.rows.len();
        if self.weights.rows() != v || self.output_bias.len() != v || self.hidden_bias.len() != self.weights.cols() {
            return bad(format!(
                "autoencoder has {v} vocabulary rows, {} weight rows, {} output biases, {} hidden biases for {} hidden units",
                self.weights.rows(),
                self.output_bias.len(),
                self.hidden_bias.len(),
                self.weights.cols()
            ));
        }
        if self.rows.windows(2).any(|w| w[0] >= w[1]) || self.rows.last().is_some_and(|&r| r as usize >= movies) {
            return bad(format!("autoencoder vocabulary is not ascending catalogue rows below {movies}"));
        }
        check_all("autoencoder hidden bias", &self.hidden_bias, -1e4, 1e4)?;
        check_all("autoencoder output bias", &self.output_bias, -1e4, 1e4)?;
        check_range("autoencoder liked threshold", self.liked_from, -1e3, 1e3)?;
        check_range("autoencoder disliked weight", self.disliked_weight, 0.0, 1e3)
    }
}

impl Folded for FoldedNeural<'_> {
    fn scores(&self) -> Vec<f32> {
        self.table.scores(&self.encoded, self.movies)
    }

    /// First-order: see [`Neural::contributions`].
    fn contributions(&self, row: usize, into: &mut Contributions, scale: f64) -> bool {
        for (j, c) in self.table.contributions(&self.encoded, row) {
            into.add(j, scale * c);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::factors::FactorStorage;

    fn tiny() -> Neural {
        // Three vocabulary movies at catalogue rows 0, 2, 3 (row 1 is outside), two hidden units.
        let w = vec![1.0, 0.0, 0.9, 0.1, -1.0, 0.5];
        Neural {
            rows: vec![0, 2, 3],
            weights: FactorMatrix::new(3, 2, w, FactorStorage::F32).unwrap(),
            hidden_bias: vec![0.0, 0.1],
            output_bias: vec![0.0, 0.2, -0.1],
            liked_from: 3.5,
            disliked_weight: 0.5,
        }
    }

    #[test]
    fn forward_pass_matches_the_formula_and_ranks_outside_rows_last() {
        let ae = tiny();
        let enc = ae.encode([(0, 4.0, 1.0), (1, 5.0, 1.0), (0, 4.0, 1.0)]);
        // Only row 0 is in the vocabulary: x = e_0 with value 1.
        let h = [1.0f32.tanh(), 0.1f32.tanh()];
        assert!((enc.hidden[0] - h[0]).abs() < 1e-6 && (enc.hidden[1] - h[1]).abs() < 1e-6);
        let s = ae.scores(&enc, 4);
        let expect2 = 0.9 * h[0] + 0.1 * h[1] + 0.2;
        assert!((s[2] - expect2).abs() < 1e-5, "{s:?}");
        assert!(s[1] < s[0] && s[1] < s[2] && s[1] < s[3], "row outside the vocabulary must rank last: {s:?}");
    }

    #[test]
    fn contributions_are_the_first_order_change_of_the_logit() {
        let ae = tiny();
        // Movie 2 was not liked: half the input weight of movie 0, then both scaled to unit length.
        let enc = ae.encode([(2, 2.0, 1.0), (0, 4.5, 1.0)]);
        let (x0, x2) = (1.0 / 1.25f32.sqrt(), 0.5 / 1.25f32.sqrt());
        assert_eq!(enc.inputs, vec![(0, x0), (1, x2)]);
        let c = ae.contributions(&enc, 3);
        assert_eq!(c.iter().map(|x| x.0).collect::<Vec<_>>(), vec![0, 2]);
        // Check against a finite difference on the input of movie 0.
        let logit = |x0: f32, x2: f32| {
            let pre: Vec<f32> = (0..2).map(|k| ae.hidden_bias[k] + x0 * ae.weights.row(0)[k] + x2 * ae.weights.row(1)[k]).collect();
            ae.weights.row(2).iter().zip(&pre).map(|(w, p)| w * p.tanh()).sum::<f32>()
        };
        let eps = 1e-3;
        let numeric = (logit(x0 + eps, x2) - logit(x0 - eps, x2)) / (2.0 * eps) * x0;
        assert!((c[0].1 as f32 - numeric).abs() < 1e-3, "{} vs {numeric}", c[0].1);
    }

    #[test]
    fn bad_shapes_and_vocabularies_are_rejected() {
        let mut ae = tiny();
        ae.rows = vec![0, 3, 2];
        assert!(ae.validate(4).is_err());
        let mut ae = tiny();
        assert!(ae.validate(3).is_err(), "row 3 is beyond a 3-movie catalogue");
        ae.output_bias.pop();
        assert!(ae.validate(4).is_err());
        let mut ae = tiny();
        ae.hidden_bias[0] = f32::NAN;
        assert!(ae.validate(4).is_err());
        assert!(tiny().validate(4).is_ok());
    }
}
