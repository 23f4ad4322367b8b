//! The evaluation protocol of `../shared/EVAL.md`, as pure functions: the deterministic
//! strong-generalisation split, and metrics computed by folding each held-out user in through
//! the very [`Recommender`] calls the browser makes.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::catalogue::MovieId;
use crate::methods::Method;
use crate::rank::top_k;
use crate::ratings::RawRating;
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

/// A held-out user: the earlier ratings are folded in, the last ones are to be predicted.
#[derive(Clone, Debug, PartialEq)]
pub struct TestUser {
    /// MovieLens user id.
    pub user: u32,
    /// Folded-in ratings, oldest first.
    pub given: Vec<RawRating>,
    /// Hidden `(movie, rating)`, oldest first.
    pub hidden: Vec<(MovieId, f32)>,
}

/// Training ratings and held-out users of one fold.
#[derive(Clone, Debug, PartialEq)]
pub struct FoldSplit {
    /// Fold number in `0..folds`.
    pub fold: u32,
    /// Every rating of every user with `user % folds != fold`.
    pub train: Vec<RatingRecord>,
    /// Users with `user % folds == fold`, sorted by id.
    pub test: Vec<TestUser>,
}

/// Number of hidden ratings out of `n`: `max(1, round(0.2 n))`, half away from zero.
pub fn hidden_count(n: usize) -> usize {
    ((2 * n + 5) / 10).max(1)
}

/// Splits by user id: test users are `user % folds == fold`; each one's ratings are ordered by
/// (timestamp, movie id) and the last [`hidden_count`] hidden.
pub fn split(ratings: &[RatingRecord], fold: u32, folds: u32) -> FoldSplit {
    split_by(ratings, fold, |user| user % folds == fold)
}

/// A validation split for choosing hyperparameters without touching fold `fold`'s test users:
/// its test users are dropped entirely, and the users of fold `inner` (another fold) are held
/// out the same way (last ratings hidden). Running every `inner != fold` validates on every
/// training user of `fold` once.
pub fn validation_split(ratings: &[RatingRecord], fold: u32, inner: u32, folds: u32) -> FoldSplit {
    assert_ne!(fold, inner, "the validation fold must differ from the test fold");
    let kept: Vec<RatingRecord> = ratings.iter().filter(|r| r.user % folds != fold).copied().collect();
    split_by(&kept, inner, |user| user % folds == inner)
}

fn split_by(ratings: &[RatingRecord], fold: u32, is_test: impl Fn(u32) -> bool) -> FoldSplit {
    let mut train = Vec::new();
    let mut by_user: std::collections::BTreeMap<u32, Vec<RatingRecord>> = Default::default();
    for r in ratings {
        if is_test(r.user) {
            by_user.entry(r.user).or_default().push(*r);
        } else {
            train.push(*r);
        }
    }
    let test = by_user
        .into_iter()
        .map(|(user, mut rs)| {
            rs.sort_by_key(|r| (r.timestamp, r.movie));
            let cut = rs.len() - hidden_count(rs.len());
            TestUser {
                user,
                given: rs[..cut].iter().map(|r| RawRating { movie_id: r.movie.0 as f64, rating: r.rating as f64 }).collect(),
                hidden: rs[cut..].iter().map(|r| (r.movie, r.rating)).collect(),
            }
        })
        .collect();
    FoldSplit { fold, train, test }
}

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
    let movies = &rec.model().catalogue.movies;
    // The protocol's catalogue: movies rated by at least one training user (the model may also
    // carry unrated movies for content-based recommendations).
    let in_catalogue = |row: usize| movies[row].rating_count > 0;
    let catalogue_size = movies.iter().filter(|m| m.rating_count > 0).count();
    for user in test {
        let start = now();
        let visitor = rec.fold_in(&user.given);
        let scores = rec.scores(&visitor, method)?;
        let given: HashSet<usize> = user.given.iter().filter_map(|g| rec.row(MovieId(g.movie_id as u32))).collect();
        let candidates = (0..scores.len()).filter(|&r| in_catalogue(r) && !given.contains(&r));
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
    })
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_count_rounds_half_away_from_zero() {
        assert_eq!(hidden_count(1), 1);
        assert_eq!(hidden_count(2), 1);
        assert_eq!(hidden_count(7), 1); // 1.4
        assert_eq!(hidden_count(8), 2); // 1.6
        assert_eq!(hidden_count(10), 2);
        assert_eq!(hidden_count(13), 3); // 2.6
        assert_eq!(hidden_count(20), 4);
    }

    #[test]
    fn split_hides_the_latest_ratings_of_test_users() {
        let r = |user, movie, ts| RatingRecord { user, movie: MovieId(movie), rating: 4.0, timestamp: ts };
        // user 5 is in fold 0: ratings out of time order, with a timestamp tie broken by movie id.
        let data = vec![r(5, 30, 3), r(5, 10, 1), r(5, 20, 3), r(5, 40, 2), r(5, 50, 5), r(1, 10, 1), r(2, 20, 1)];
        let s = split(&data, 0, 5);
        assert_eq!(s.train.len(), 2);
        assert_eq!(s.test.len(), 1);
        let u = &s.test[0];
        let given: Vec<u32> = u.given.iter().map(|g| g.movie_id as u32).collect();
        assert_eq!(given, vec![10, 40, 20, 30]);
        assert_eq!(u.hidden, vec![(MovieId(50), 4.0)]);
    }
}
