//! The evaluation protocol of `../shared/EVAL.md`, as pure functions: the deterministic splits
//! (the main strong-generalisation split and its variants, [`split`]), and metrics computed by
//! folding each held-out user in through the very [`Recommender`] calls the browser makes.

pub mod discovery;
pub mod elicitation;
pub mod group;
pub mod seen;
mod split;

pub use split::{
    carve_validation, future_split, hidden_count, holdout, past_split, shorten, split, validation_fold, validation_split, year_of,
    FoldSplit, TestUser, Variant, FUTURE_CUTS, PAST_CUT, VARIANTS,
};

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::catalogue::MovieId;
use crate::methods::Method;
use crate::rank::top_k;
use crate::recommender::Recommender;

/// One rating event of a data set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RatingRecord {
    /// MovieLens user id.
    pub user: u32,
    /// MovieLens movie id.
    pub movie: MovieId,
    /// Stars.
    pub rating: f32,
    /// Unix seconds.
    pub timestamp: i64,
}

/// Ratings at or above this are relevant for the ranking metrics.
pub const RELEVANT_AT: f32 = 3.5;
/// The cut-off of the headline ranking metrics.
pub const K: usize = 10;
/// Curves (NDCG@k, recall@k) go up to this k.
pub const K_MAX: usize = 50;

/// Metrics of one model on one fold (or their mean over folds).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Root mean squared error on hidden ratings in the catalogue.
    pub rmse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Mean squared error.
    pub mse: f64,
    /// Precision at 10.
    #[serde(rename = "p@10")]
    pub precision: f64,
    /// Recall at 10 (denominator `min(10, |relevant|)`).
    #[serde(rename = "r@10")]
    pub recall: f64,
    /// NDCG at 10, binary gains.
    #[serde(rename = "ndcg@10")]
    pub ndcg: f64,
    /// Share of the catalogue in any test user's top 10.
    #[serde(rename = "coverage@10")]
    pub coverage: f64,
    /// Users counted in the ranking metrics.
    pub users: usize,
    /// Hidden ratings counted in the rating metrics.
    pub ratings: usize,
    /// NDCG@k for k = 1..=K_MAX.
    pub ndcg_curve: Vec<f64>,
    /// Recall@k for k = 1..=K_MAX.
    pub recall_curve: Vec<f64>,
    /// Mean wall time of fold-in + ranking one user, milliseconds.
    pub foldin_rank_ms: f64,
    /// NDCG@10 of each user counted, grouped by fold (or cut): what the bootstrap resamples.
    #[serde(skip)]
    pub per_user_ndcg: Vec<Vec<f64>>,
}

/// Evaluates `method` of a recommender trained on the fold's training users. Fold-in, exclusion
/// of given movies and ranking are those of [`Recommender::recommend_for`]; `now` is a clock
/// in milliseconds (native or browser), so the core stays free of platform calls.
pub fn evaluate(rec: &Recommender, method: Method, test: &[TestUser], now: &dyn Fn() -> f64) -> crate::Result<Metrics> {
    let (mut se, mut ae, mut n_ratings) = (0.0f64, 0.0f64, 0usize);
    let (mut p_sum, mut r_sum, mut ndcg_sum, mut users) = (0.0, 0.0, 0.0, 0usize);
    let mut ndcg_curve = vec![0.0; K_MAX];
    let mut recall_curve = vec![0.0; K_MAX];
    let mut covered: HashSet<usize> = HashSet::new();
    let mut elapsed = 0.0;
    let mut per_user_ndcg = Vec::new();
    let movies = &rec.model().catalogue.movies;
    // The protocol's catalogue: movies rated by at least one training user (the model may also
    // carry unrated movies for content-based recommendations).
    let in_catalogue = |row: usize| movies[row].rating_count > 0;
    let catalogue_size = movies.iter().filter(|m| m.rating_count > 0).count();
    for user in test {
        let start = now();
        let visitor = rec.fold_in(&user.given);
        let scores = rec.scores(&visitor, method)?;
        let given = given_rows(rec, user);
        let candidates = candidate_rows(rec, &given, user.released_by);
        let top: Vec<usize> = top_k(candidates.map(|r| (r, scores[r])), K_MAX, |r| movies[r].id).into_iter().map(|(r, _)| r).collect();
        elapsed += now() - start;
        covered.extend(top.iter().take(K));

        let hidden: Vec<(usize, f32)> =
            user.hidden.iter().filter_map(|&(m, r)| rec.row(m).filter(|&row| in_catalogue(row)).map(|row| (row, r))).collect();
        let ids: Vec<MovieId> = hidden.iter().map(|&(row, _)| movies[row].id).collect();
        for (pred, &(_, actual)) in rec.predict(&visitor, &ids, method).into_iter().zip(&hidden) {
            let err = (pred.expect("hidden rows are in the catalogue") - actual) as f64;
            se += err * err;
            ae += err.abs();
            n_ratings += 1;
        }
        let relevant: HashSet<usize> = hidden.iter().filter(|&&(_, r)| r >= RELEVANT_AT).map(|&(row, _)| row).collect();
        if relevant.is_empty() {
            continue;
        }
        users += 1;
        let (mut hits, mut dcg) = (0usize, 0.0f64);
        for k in 1..=K_MAX {
            if top.get(k - 1).is_some_and(|r| relevant.contains(r)) {
                hits += 1;
                dcg += 1.0 / ((k + 1) as f64).log2();
            }
            let ideal: f64 = (1..=k.min(relevant.len())).map(|i| 1.0 / ((i + 1) as f64).log2()).sum();
            ndcg_curve[k - 1] += dcg / ideal;
            recall_curve[k - 1] += hits as f64 / k.min(relevant.len()) as f64;
            if k == K {
                p_sum += hits as f64 / K as f64;
                r_sum += hits as f64 / K.min(relevant.len()) as f64;
                ndcg_sum += dcg / ideal;
                per_user_ndcg.push(dcg / ideal);
            }
        }
    }
    let per_user = |s: f64| if users > 0 { s / users as f64 } else { 0.0 };
    let mse = if n_ratings > 0 { se / n_ratings as f64 } else { 0.0 };
    Ok(Metrics {
        rmse: mse.sqrt(),
        mae: if n_ratings > 0 { ae / n_ratings as f64 } else { 0.0 },
        mse,
        precision: per_user(p_sum),
        recall: per_user(r_sum),
        ndcg: per_user(ndcg_sum),
        coverage: covered.len() as f64 / catalogue_size.max(1) as f64,
        users,
        ratings: n_ratings,
        ndcg_curve: ndcg_curve.into_iter().map(per_user).collect(),
        recall_curve: recall_curve.into_iter().map(per_user).collect(),
        foldin_rank_ms: if test.is_empty() { 0.0 } else { elapsed / test.len() as f64 },
        per_user_ndcg: vec![per_user_ndcg],
    })
}

/// NDCG@[`K`] of a list with binary gains: `hits` says, place by place, whether the movie is
/// relevant; `relevant` is how many relevant movies there are (at least one).
pub fn ndcg_at_k(hits: impl IntoIterator<Item = bool>, relevant: usize) -> f64 {
    let dcg: f64 = hits.into_iter().take(K).enumerate().filter(|&(_, hit)| hit).map(|(i, _)| 1.0 / ((i + 2) as f64).log2()).sum();
    dcg / (1..=K.min(relevant)).map(|i| 1.0 / ((i + 1) as f64).log2()).sum::<f64>()
}

/// Rows of `user`'s given movies: never in their list.
pub fn given_rows(rec: &Recommender, user: &TestUser) -> HashSet<usize> {
    user.given.iter().filter_map(|g| rec.row(MovieId(g.movie_id as u32))).collect()
}

/// The rows the protocol lets a list hold for a user who gave `given`: movies some training
/// user rated (the model may also carry unrated ones, for content-based recommendations), none
/// of the given ones, and, for a user of another era ([`TestUser::released_by`]), none released
/// after it.
pub fn candidate_rows<'a>(rec: &'a Recommender, given: &'a HashSet<usize>, released_by: Option<u16>) -> impl Iterator<Item = usize> + 'a {
    let movies = &rec.model().catalogue.movies;
    let in_era = move |r: usize| match (released_by, movies[r].year) {
        (Some(by), Some(year)) => year <= by,
        _ => true,
    };
    (0..movies.len()).filter(move |&r| movies[r].rating_count > 0 && !given.contains(&r) && in_era(r))
}

/// Rows of `user`'s hidden movies rated at least [`RELEVANT_AT`] that training users rated (the
/// protocol's catalogue): what a list is scored against.
pub fn relevant_rows(rec: &Recommender, user: &TestUser) -> HashSet<usize> {
    let movies = &rec.model().catalogue.movies;
    user.hidden
        .iter()
        .filter(|&&(_, r)| r >= RELEVANT_AT)
        .filter_map(|&(m, _)| rec.row(m))
        .filter(|&row| movies[row].rating_count > 0)
        .collect()
}

/// Mean of per-fold metrics (counts are summed).
pub fn mean(folds: &[Metrics]) -> Metrics {
    let n = folds.len().max(1) as f64;
    let avg = |f: &dyn Fn(&Metrics) -> f64| folds.iter().map(f).sum::<f64>() / n;
    let curve = |f: &dyn Fn(&Metrics) -> &Vec<f64>| {
        (0..K_MAX).map(|k| folds.iter().map(|m| f(m).get(k).copied().unwrap_or(0.0)).sum::<f64>() / n).collect()
    };
    Metrics {
        rmse: avg(&|m| m.rmse),
        mae: avg(&|m| m.mae),
        mse: avg(&|m| m.mse),
        precision: avg(&|m| m.precision),
        recall: avg(&|m| m.recall),
        ndcg: avg(&|m| m.ndcg),
        coverage: avg(&|m| m.coverage),
        users: folds.iter().map(|m| m.users).sum(),
        ratings: folds.iter().map(|m| m.ratings).sum(),
        ndcg_curve: curve(&|m| &m.ndcg_curve),
        recall_curve: curve(&|m| &m.recall_curve),
        foldin_rank_ms: avg(&|m| m.foldin_rank_ms),
        per_user_ndcg: folds.iter().flat_map(|m| m.per_user_ndcg.iter().cloned()).collect(),
    }
}

/// A 95% bootstrap interval of the mean over groups (folds or cuts) of each group's mean
/// NDCG@10: users are resampled with replacement within each group, `resamples` times, from a
/// fixed seed (the same data gives the same interval).
pub fn bootstrap_interval(groups: &[Vec<f64>], resamples: usize) -> (f64, f64) {
    let groups: Vec<&Vec<f64>> = groups.iter().filter(|g| !g.is_empty()).collect();
    if groups.is_empty() || resamples == 0 {
        return (0.0, 0.0);
    }
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut below = |n: usize| (crate::synthetic::xorshift64(&mut state) % n as u64) as usize;
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| {
            groups.iter().map(|g| (0..g.len()).map(|_| g[below(g.len())]).sum::<f64>() / g.len() as f64).sum::<f64>() / groups.len() as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let at = |q: f64| means[((q * resamples as f64) as usize).min(resamples - 1)];
    (at(0.025), at(0.975))
}

#[cfg(test)]
mod tests {
    use super::bootstrap_interval;

    #[test]
    fn the_bootstrap_interval_brackets_the_mean_and_is_a_point_without_spread() {
        assert_eq!(bootstrap_interval(&[vec![0.25; 40]], 200), (0.25, 0.25));
        let spread: Vec<f64> = (0..100).map(|i| (i % 10) as f64 / 10.0).collect(); // mean 0.45
        let (lo, hi) = bootstrap_interval(&[spread.clone(), vec![0.45; 10]], 1000);
        assert!(lo < 0.45 && 0.45 < hi && hi - lo < 0.2, "{lo}..{hi}");
        assert_eq!(bootstrap_interval(std::slice::from_ref(&spread), 1000), bootstrap_interval(&[spread], 1000), "seeded");
    }
}
