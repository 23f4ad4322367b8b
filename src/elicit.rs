//! Which movies to ask a new visitor to rate first (active elicitation; Rashid et al. 2002,
//! Elahi, Ricci and Rubens 2016).
//!
//! A question is only useful if it is answered, and a visitor can only rate a movie they have
//! seen. Every strategy here trades how likely a movie is to have been seen against how much
//! its answer would teach the model. "Haven't seen it" is an answer too: the visitor is folded
//! into the implicit model with those movies as observed zeros, so the next questions move
//! away from what they resemble.
//!
//! The strategies are compared by simulation in `./build.sh first-minute` (see
//! [`crate::eval::elicitation`]); [`Strategy::SHIPPED`] is the one the page uses.

use serde::{Deserialize, Serialize};

use crate::catalogue::Catalogue;
use crate::fold_in::fold_in_implicit_with_zeros;
use crate::kernels::dot;
use crate::methods::mf::{ImplicitFactors, RegRule};
use crate::synthetic::xorshift64;

/// Questions considered at each step by the factor-space strategies: the most rated movies
/// not asked yet. A movie outside the few hundred most rated is rarely one a new visitor has
/// seen, and the bound keeps a step to a few hundred `k x k` solves (under 5 ms in wasm).
pub const POOL: usize = 400;
/// Prior weight (in ratings) of the global mean in [`Strategy::LikedAndSeen`]'s Bayesian
/// average, as in the cold-start list.
const QUALITY_PRIOR: f32 = 25.0;
/// How steeply [`Strategy::LikedAndSeen`] prefers well-rated movies: a movie half a star above
/// the mean counts `e^1` times one at the mean.
const QUALITY_SLOPE: f32 = 2.0;
/// How far down the popular, well-rated list [`Strategy::PopularLikelySeen`] looks.
pub const POPULAR_POOL: usize = 40;
/// Most questions asked for at once.
pub const MAX_QUESTIONS: usize = 100;
/// Extra confidence on a "haven't seen it" answer: an observed zero, as strong as a liked
/// rating is for a one.
const UNSEEN_CONFIDENCE: f32 = 2.0;

/// How the next question is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Strategy {
    /// The cold-start list (popular and well rated), the same for everyone: the page until now.
    Popular,
    /// Uniformly at random among rated movies (seeded): the floor.
    Random(u64),
    /// Popularity times the entropy of the movie's ratings (Rashid et al. 2002), from a table
    /// the caller computes on training data (`log(count) * entropy` per row).
    PopularityEntropy,
    /// The movie whose implicit score the model is least sure of, weighted by the share of
    /// training users who rated it: `pop_i * y_i^T W^-1 y_i` (posterior variance under the
    /// implicit model, Golbandi et al.'s factor-space view).
    Variance,
    /// The movie the visitor has most likely seen, given their answers: the share of training
    /// users who rated it plus the implicit model's score for the visitor (which is fitted to
    /// predict "rated it"). Asking what they can answer gives the most answers.
    LikelySeen,
    /// [`Strategy::LikelySeen`] times the square root of [`Strategy::Variance`]'s uncertainty:
    /// likely to be answered, and not already known.
    LikelySeenUncertain,
    /// [`Strategy::LikelySeen`] times how well the movie is rated (its Bayesian average over
    /// the global mean, as the cold-start list orders): likely answered, and likely liked, so
    /// the answer tells the ranking what the visitor enjoys.
    LikedAndSeen,
    /// The popular, well-rated list's next [`POPULAR_POOL`] movies, the one the visitor has most
    /// likely seen first ([`Strategy::LikelySeen`]'s estimate): the answers of popular-first,
    /// asked in the order the visitor can answer them.
    PopularLikelySeen,
}

impl Strategy {
    /// The strategy the page ships, chosen by the elicitation simulation (README, "First
    /// minute"): none of the personalised ones beat the popular, well-rated list after 5
    /// questions on ml-latest-small (they get more answers, of movies that say less), so the
    /// page asks that list, skipping what was rated or answered "haven't seen it".
    pub const SHIPPED: Strategy = Strategy::Popular;

    /// Every strategy the simulation compares, the page's old list first.
    pub const COMPARED: [Strategy; 8] = [
        Strategy::Popular,
        Strategy::Random(7),
        Strategy::PopularityEntropy,
        Strategy::Variance,
        Strategy::LikelySeen,
        Strategy::LikelySeenUncertain,
        Strategy::LikedAndSeen,
        Strategy::PopularLikelySeen,
    ];

    /// Name in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Popular => "popular-first",
            Strategy::Random(_) => "random",
            Strategy::PopularityEntropy => "popularity x entropy",
            Strategy::Variance => "posterior variance",
            Strategy::LikelySeen => "likely seen",
            Strategy::LikelySeenUncertain => "likely seen x uncertainty",
            Strategy::LikedAndSeen => "liked and seen",
            Strategy::PopularLikelySeen => "popular, likely seen first",
        }
    }
}

/// What the visitor has answered so far: rated `(row, stars)` (as folded in, with their
/// confidences) and the rows they have not seen.
pub struct Answers<'a> {
    /// `(row, confidence)` of each rating, as the implicit model weighs it.
    pub rated: &'a [(usize, f32)],
    /// Rows answered "haven't seen it".
    pub unseen: &'a [usize],
    /// Whether a row may be asked at all (before the model's links section is in, only the
    /// movies whose titles the core holds: [`crate::model::Model::has_title`]).
    pub askable: &'a dyn Fn(usize) -> bool,
}

/// The next `count` questions: rows rated by training users and neither rated nor answered
/// unseen by the visitor, best first. `cold_start_order` is the catalogue's popular list, `table` the per-row score of
/// [`Strategy::PopularityEntropy`] (ignored by the others).
#[allow(clippy::too_many_arguments)]
pub fn next_questions(
    strategy: Strategy,
    catalogue: &Catalogue,
    users: u32,
    implicit: Option<&ImplicitFactors>,
    cold_start_order: &[usize],
    table: Option<&[f32]>,
    answers: &Answers,
    count: usize,
) -> Vec<usize> {
    let movies = &catalogue.movies;
    let n = movies.len();
    let count = count.min(MAX_QUESTIONS);
    let mut asked = vec![false; n];
    for &(row, _) in answers.rated {
        asked[row] = true;
    }
    for &row in answers.unseen {
        asked[row] = true;
    }
    let open = |row: &usize| !asked[*row] && movies[*row].rating_count > 0 && (answers.askable)(*row);
    let best = |scored: Vec<(usize, f32)>| -> Vec<usize> {
        let mut scored = scored;
        scored.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(movies[a.0].id.cmp(&movies[b.0].id)));
        scored.into_iter().take(count).map(|(r, _)| r).collect()
    };
    // The cold-start list's Bayesian average, in stars over the global mean, as a weight; the
    // mean is a pass over the catalogue, made only for the strategy that reads it.
    let mean = if strategy == Strategy::LikedAndSeen {
        catalogue.movies.iter().map(|m| m.rating_mean as f64 * m.rating_count as f64).sum::<f64>()
            / catalogue.movies.iter().map(|m| m.rating_count as f64).sum::<f64>().max(1.0)
    } else {
        0.0
    };
    let quality = |row: usize| {
        let m = &movies[row];
        let bayes = (QUALITY_PRIOR * mean as f32 + m.rating_count as f32 * m.rating_mean) / (QUALITY_PRIOR + m.rating_count as f32);
        (QUALITY_SLOPE * (bayes - mean as f32)).exp()
    };
    let share = |row: usize| movies[row].rating_count as f32 / users.max(1) as f32;
    match (strategy, implicit) {
        (Strategy::Popular, _)
        | (
            Strategy::Variance
            | Strategy::LikelySeen
            | Strategy::LikelySeenUncertain
            | Strategy::LikedAndSeen
            | Strategy::PopularLikelySeen,
            None,
        ) => cold_start_order.iter().copied().filter(open).take(count).collect(),
        (Strategy::Random(seed), _) => {
            let mut state = seed ^ (answers.rated.len() as u64 * 0x9e37_79b9) ^ ((answers.unseen.len() as u64) << 32) | 1;
            best((0..n).filter(open).map(|r| (r, (xorshift64(&mut state) >> 40) as f32)).collect())
        }
        (Strategy::PopularityEntropy, _) => match table {
            Some(t) => best((0..n).filter(open).map(|r| (r, t[r])).collect()),
            None => cold_start_order.iter().copied().filter(open).take(count).collect(),
        },
        (s, Some(imp)) => {
            let pool: Vec<usize> = if s == Strategy::PopularLikelySeen {
                cold_start_order.iter().copied().filter(open).take(POPULAR_POOL.max(count)).collect()
            } else {
                let mut pool: Vec<usize> = (0..n).filter(open).collect();
                pool.sort_unstable_by(|&a, &b| movies[b].rating_count.cmp(&movies[a].rating_count).then(a.cmp(&b)));
                pool.truncate(POOL.max(count));
                pool
            };
            let y = &imp.item_factors;
            let reg = match imp.rule {
                RegRule::Constant => imp.reg as f64,
                RegRule::PerRating => imp.reg as f64 * answers.rated.len().max(1) as f64,
            };
            // Unseen answers are observed zeros: confidence on the left, nothing on the right.
            let unseen: Vec<(usize, f32)> = answers.unseen.iter().map(|&r| (r, UNSEEN_CONFIDENCE)).collect();
            let visitor = fold_in_implicit_with_zeros(y, imp.gram(), reg, answers.rated.to_vec(), &unseen);
            let scored = pool
                .into_iter()
                .map(|r| {
                    let seen = share(r) + dot(&visitor.factors, y.row(r)).max(0.0);
                    let score = match s {
                        Strategy::Variance => share(r) * visitor.variance(y, r) as f32,
                        Strategy::LikelySeen | Strategy::PopularLikelySeen => seen,
                        Strategy::LikedAndSeen => seen * quality(r),
                        _ => seen * (visitor.variance(y, r) as f32).sqrt(),
                    };
                    (r, score)
                })
                .collect();
            best(scored)
        }
    }
}

/// Popularity times entropy (Rashid et al.) of each row from `(row, stars)` training ratings,
/// the table [`Strategy::PopularityEntropy`] reads: `log2(count) * H(stars)`, with half-star
/// values as the entropy's outcomes.
pub fn popularity_entropy(rows: usize, ratings: impl Iterator<Item = (usize, f32)>) -> Vec<f32> {
    let mut hist = vec![[0u32; 11]; rows];
    for (row, r) in ratings {
        let bin = ((r * 2.0).round() as i64).clamp(0, 10) as usize;
        hist[row][bin] += 1;
    }
    hist.iter()
        .map(|h| {
            let total: u32 = h.iter().sum();
            if total == 0 {
                return 0.0;
            }
            let t = total as f64;
            let entropy: f64 = h.iter().filter(|&&c| c > 0).map(|&c| -(c as f64 / t) * (c as f64 / t).log2()).sum();
            ((1.0 + t).log2() * entropy) as f32
        })
        .collect()
}
