//! Trains the neural method's autoencoder ([`Neural`]): Mult-DAE with tied
//! weights, multinomial log-likelihood, input dropout, L2 weight decay, Adam.
//!
//! Each mini-batch is three dense products (`W h`, its gradient with respect to `W`, and
//! with respect to `h`) run by nalgebra on matrixmultiply's kernels, with matrixmultiply's own
//! threads on both cores; the sparse encoder side walks each user's movies. The batch order and
//! the dropout masks come from one seeded generator and every sum runs in a fixed order, so a
//! seed gives the same weights on any number of threads.

use std::time::Instant;

use nalgebra::DMatrix;
use rayon::prelude::*;

use super::progress::{duration, Progress};
use super::settings::setting_error;
use super::{Interactions, SplitMix};
use crate::error::Result;
use crate::factors::{FactorMatrix, FactorStorage};
use crate::methods::neural::Neural;

/// Settings of the autoencoder.
#[derive(Clone, Debug, PartialEq)]
pub struct NeuralSettings {
    /// Hidden units.
    pub hidden: usize,
    /// Passes over the training users.
    pub epochs: usize,
    /// Adam's step size.
    pub learning_rate: f32,
    /// L2 weight decay added to each batch's gradient (`decay * W`).
    pub weight_decay: f32,
    /// Share of a user's movies dropped from the input in training.
    pub dropout: f32,
    /// Users per mini-batch.
    pub batch: usize,
    /// Movies need this many training ratings to enter the vocabulary.
    pub min_ratings: u32,
    /// Most movies in the vocabulary (the most rated first). Every epoch costs
    /// `3 · users · vocabulary · hidden` multiply-adds in the dense decoder, so the vocabulary
    /// is what a large catalogue must cap: ML-25M has 59,000 rated movies, ml-latest-small's
    /// vocabulary is about 3,200 and never reaches the cap. Movies outside it are not scored by
    /// this method (the other parts of the hybrid cover them).
    pub max_movies: usize,
    /// Most user passes (users × epochs) in all: a large log runs fewer epochs, since each
    /// epoch already holds many more updates. ml-latest-small's 120 epochs of about 490
    /// training users (59,000 passes) never reach it; ML-25M's 162,000 users get 12 epochs.
    pub max_passes: usize,
    /// Ratings at or above this are the target ("liked").
    pub liked_from: f32,
    /// Input weight at fold-in of a movie rated below `liked_from`.
    pub disliked_weight: f32,
    /// Seed of the initial weights, the batch order and the dropout masks.
    pub seed: u64,
}

impl Default for NeuralSettings {
    /// The shipped configuration (tuning/README.md).
    fn default() -> Self {
        Self {
            hidden: 200,
            epochs: 120,
            learning_rate: 1e-3,
            weight_decay: 0.01,
            dropout: 0.5,
            batch: 64,
            min_ratings: 5,
            max_movies: 10_000,
            max_passes: 2_000_000,
            liked_from: 3.5,
            disliked_weight: 0.0,
            seed: 44,
        }
    }
}

impl NeuralSettings {
    /// Checks the domains.
    pub fn check(&self) -> Result<()> {
        let n = self;
        let ok = (1..=1024).contains(&n.hidden)
            && (1..=1000).contains(&n.epochs)
            && n.batch >= 1
            && n.max_movies >= 1
            && n.max_passes >= 1
            && n.learning_rate.is_finite()
            && n.learning_rate > 0.0
            && n.weight_decay.is_finite()
            && n.weight_decay >= 0.0
            && (0.0..1.0).contains(&n.dropout)
            && n.liked_from.is_finite()
            && n.disliked_weight.is_finite()
            && n.disliked_weight >= 0.0;
        if !ok {
            return Err(setting_error(
                "neural",
                format!("{n:?}"),
                "hidden 1..=1024, epochs 1..=1000, batch, vocabulary and passes >= 1, learning rate > 0, decay >= 0, dropout in [0, 1), liked threshold finite, disliked weight >= 0",
            ));
        }
        Ok(())
    }

    /// The settings in the model's provenance line.
    pub fn describe(&self) -> String {
        let n = self;
        format!(
            "autoencoder hidden={} epochs={} lr={} decay={} dropout={} batch={} min ratings={} vocabulary<={} passes<={} liked>={} disliked weight={} seed={}",
            n.hidden,
            n.epochs,
            n.learning_rate,
            n.weight_decay,
            n.dropout,
            n.batch,
            n.min_ratings,
            n.max_movies,
            n.max_passes,
            n.liked_from,
            n.disliked_weight,
            n.seed
        )
    }
}

/// A fitted autoencoder over item indices of the [`Interactions`].
#[derive(Clone, Debug)]
pub struct NeuralFit {
    /// Item index (into `Interactions::items`) of each vocabulary entry, ascending.
    pub items: Vec<usize>,
    /// Vocabulary x hidden weights, row-major.
    pub weights: Vec<f32>,
    /// Hidden bias.
    pub hidden_bias: Vec<f32>,
    /// Output bias per vocabulary entry.
    pub output_bias: Vec<f32>,
}

/// Adam's moment estimates for one parameter array.
struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
}

impl Adam {
    fn new(n: usize) -> Self {
        Self { m: vec![0.0; n], v: vec![0.0; n] }
    }

    /// One step; element by element, so splitting the arrays over threads (as large
    /// vocabularies are) gives the same values.
    fn step(&mut self, params: &mut [f32], grad: &[f32], lr: f32, t: i32) {
        let (b1, b2) = (0.9f32, 0.999f32);
        let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
        let run = |params: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]| {
            for ((p, g), (m, v)) in params.iter_mut().zip(grad).zip(m.iter_mut().zip(v.iter_mut())) {
                *m = b1 * *m + (1.0 - b1) * g;
                *v = b2 * *v + (1.0 - b2) * g * g;
                *p -= lr * (*m / c1) / ((*v / c2).sqrt() + 1e-8);
            }
        };
        const CHUNK: usize = 1 << 16;
        if params.len() < 2 * CHUNK {
            return run(params, grad, &mut self.m, &mut self.v);
        }
        params
            .par_chunks_mut(CHUNK)
            .zip(grad.par_chunks(CHUNK))
            .zip(self.m.par_chunks_mut(CHUNK).zip(self.v.par_chunks_mut(CHUNK)))
            .for_each(|((p, g), (m, v))| run(p, g, m, v));
    }
}

impl SplitMix {
    fn below(&mut self, n: usize) -> usize {
        ((self.next_f32() as f64 * n as f64) as usize).min(n - 1)
    }
}

/// The vocabulary: item indices with at least `min_ratings` ratings, at most `max_movies` of
/// them (the most rated first, ties by index), ascending.
fn vocabulary(data: &Interactions, s: &NeuralSettings) -> Vec<usize> {
    let count = |i: usize| data.by_item.slices(i).0.len();
    let mut items: Vec<usize> = (0..data.items.len()).filter(|&i| count(i) >= s.min_ratings as usize).collect();
    if items.len() > s.max_movies {
        items.sort_by_key(|&i| (std::cmp::Reverse(count(i)), i));
        items.truncate(s.max_movies);
        items.sort_unstable();
    }
    items
}

/// Epochs run for `users` training users: `epochs`, or fewer when they would exceed
/// `max_passes` user passes (at least one).
pub fn epochs_for(s: &NeuralSettings, users: usize) -> usize {
    (s.max_passes / users.max(1)).clamp(1, s.epochs)
}

/// Fits the autoencoder; `None` when no movie reaches `min_ratings`. With a `deadline`, no epoch
/// starts that the pace so far says would end after it (the first always runs).
pub fn fit_neural(data: &Interactions, s: &NeuralSettings, progress: bool, deadline: Option<Instant>) -> Option<NeuralFit> {
    let items = vocabulary(data, s);
    if items.is_empty() {
        return None;
    }
    let mut entry_of = vec![usize::MAX; data.items.len()];
    for (e, &i) in items.iter().enumerate() {
        entry_of[i] = e;
    }
    // Each training user's (input: every movie rated, target: the movies liked), vocabulary
    // entries ascending; users who liked nothing in the vocabulary teach nothing here.
    let users: Vec<(Vec<usize>, Vec<usize>)> = (0..data.users.len())
        .map(|u| {
            let rated: Vec<(usize, f32)> =
                data.user_ratings(u).filter(|&(i, _)| entry_of[i] != usize::MAX).map(|(i, r)| (entry_of[i], r)).collect();
            (rated.iter().map(|r| r.0).collect(), rated.iter().filter(|r| r.1 >= s.liked_from).map(|r| r.0).collect())
        })
        .filter(|(_, liked): &(Vec<usize>, Vec<usize>)| !liked.is_empty())
        .collect();
    if users.is_empty() {
        return None;
    }
    let (v, h) = (items.len(), s.hidden);
    let mut rng = SplitMix(s.seed);
    let limit = (6.0 / (v + h) as f32).sqrt();
    // Column-major v x h, as nalgebra keeps it.
    let mut w = DMatrix::<f32>::from_fn(v, h, |_, _| (2.0 * rng.next_f32() - 1.0) * limit);
    let mut hidden_bias = vec![0.0f32; h];
    let mut output_bias = vec![0.0f32; v];
    let (mut adam_w, mut adam_bh, mut adam_bo) = (Adam::new(v * h), Adam::new(h), Adam::new(v));
    let mut order: Vec<usize> = (0..users.len()).collect();
    let mut t = 0;
    let epochs = epochs_for(s, users.len());
    let mut bar = Progress::new(format!("autoencoder ({} users, {v} movies) epoch", users.len()), epochs, progress);
    let begun = Instant::now();
    for epoch in 0..epochs {
        let started = Instant::now();
        if let Some(d) = deadline.filter(|_| epoch > 0) {
            if started + begun.elapsed() / epoch as u32 > d {
                if progress {
                    eprintln!("  autoencoder: stopped after {epoch} of {epochs} epochs, at the time budget");
                }
                break;
            }
        }
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let mut loss = 0.0f64;
        for batch in order.chunks(s.batch) {
            let b = batch.len();
            // Every column below is one user, computed on its own and in a fixed order, so the
            // columns run in parallel and a seed still gives the same weights.
            // Encoder, sparse: each user's kept movies (the dropout drawn in batch order),
            // scaled to unit length.
            let kept: Vec<(Vec<usize>, f32)> = batch
                .iter()
                .map(|&u| {
                    let inputs: Vec<usize> = users[u].0.iter().copied().filter(|_| rng.next_f32() >= s.dropout).collect();
                    let value = if inputs.is_empty() { 0.0 } else { 1.0 / (inputs.len() as f32).sqrt() };
                    (inputs, value)
                })
                .collect();
            let mut hidden = DMatrix::<f32>::zeros(h, b);
            hidden.as_mut_slice().par_chunks_mut(h).zip(&kept).for_each(|(column, (inputs, value))| {
                for (k, out) in column.iter_mut().enumerate() {
                    let mut pre = hidden_bias[k];
                    for &e in inputs {
                        pre += value * w[(e, k)];
                    }
                    *out = pre.tanh();
                }
            });
            // Decoder, dense: logits v x b, then the softmax's gradient in place.
            let mut grad = &w * &hidden;
            let losses: Vec<f64> = grad
                .as_mut_slice()
                .par_chunks_mut(v)
                .zip(batch)
                .map(|(column, &u)| {
                    for (x, bo) in column.iter_mut().zip(&output_bias) {
                        *x += bo;
                    }
                    let max = column.iter().fold(f32::NEG_INFINITY, |a, &x| a.max(x));
                    let sum: f64 = column.iter().map(|&x| ((x - max) as f64).exp()).sum();
                    let log_sum = sum.ln() as f32 + max;
                    let n = users[u].1.len() as f32;
                    for x in column.iter_mut() {
                        *x = n * (*x - log_sum).exp() / b as f32;
                    }
                    let mut loss = 0.0f64;
                    for &e in &users[u].1 {
                        loss -= (column[e] * b as f32 / n).ln() as f64;
                        column[e] -= 1.0 / b as f32;
                    }
                    loss
                })
                .collect();
            loss += losses.iter().sum::<f64>();
            // Gradients: W (decoder side now, encoder side and decay below), output bias, hidden.
            let mut grad_w = &grad * hidden.transpose();
            let grad_hidden = (grad.transpose() * &w).transpose();
            let mut grad_bo = vec![0.0f32; v];
            for column in grad.as_slice().chunks(v) {
                for (o, g) in grad_bo.iter_mut().zip(column) {
                    *o += g;
                }
            }
            // Column k of W gathers hidden unit k's gradient from every user, in user order.
            let grad_bh: Vec<f32> = grad_w
                .as_mut_slice()
                .par_chunks_mut(v)
                .zip(w.as_slice().par_chunks(v))
                .enumerate()
                .map(|(k, (gw, wk))| {
                    let mut bh = 0.0f32;
                    for (col, (inputs, value)) in kept.iter().enumerate() {
                        let a = hidden[(k, col)];
                        let d = grad_hidden[(k, col)] * (1.0 - a * a);
                        bh += d;
                        for &e in inputs {
                            gw[e] += value * d;
                        }
                    }
                    for (g, x) in gw.iter_mut().zip(wk) {
                        *g += x * s.weight_decay;
                    }
                    bh
                })
                .collect();
            t += 1;
            adam_w.step(w.as_mut_slice(), grad_w.as_slice(), s.learning_rate, t);
            adam_bh.step(&mut hidden_bias, &grad_bh, s.learning_rate, t);
            adam_bo.step(&mut output_bias, &grad_bo, s.learning_rate, t);
        }
        bar.step(epoch + 1, || format!("loss {:.2} a user, {} an epoch", loss / users.len() as f64, duration(started.elapsed())));
    }
    let weights = (0..v).flat_map(|e| (0..h).map(move |k| (e, k))).map(|(e, k)| w[(e, k)]).collect();
    Some(NeuralFit { items, weights, hidden_bias, output_bias })
}

impl NeuralFit {
    /// The table the browser runs: vocabulary as catalogue rows (`rated_row[i]` is the row of
    /// item index `i`), weights stored as `storage`.
    pub fn to_table(self, rated_row: &[usize], s: &NeuralSettings, storage: FactorStorage) -> Neural {
        Neural {
            rows: self.items.iter().map(|&i| rated_row[i] as u32).collect(),
            weights: FactorMatrix::new(self.items.len(), self.hidden_bias.len(), self.weights, FactorStorage::F32)
                .expect("trained weights are finite")
                .with_storage(storage),
            hidden_bias: self.hidden_bias,
            output_bias: self.output_bias,
            liked_from: s.liked_from,
            disliked_weight: s.disliked_weight,
        }
    }
}
