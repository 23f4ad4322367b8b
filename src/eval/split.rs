//! The protocol's splits: the main one (test users by id, their latest ratings hidden), its
//! variants for visitors unlike the training users (short histories, future visitors), and the
//! validation splits carved from a fold's training users.

use std::collections::BTreeMap;

use super::RatingRecord;
use crate::catalogue::MovieId;
use crate::ratings::RawRating;

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

/// Holds out the users `is_test` picks (their latest ratings hidden, as in the main split); the
/// others' ratings are the training data.
pub fn holdout(ratings: &[RatingRecord], is_test: impl Fn(u32) -> bool) -> FoldSplit {
    split_by(ratings, 0, is_test)
}

/// The inner fold (of `folds`) a trainer puts a training user in to validate its choices: by a
/// hash of the user id, not `id % 5` (how the protocol picks its test folds), so that a fold's
/// training users still split evenly.
pub fn validation_fold(user: u32, folds: u32) -> u32 {
    let mut z = (user as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((z ^ (z >> 31)) % folds as u64) as u32
}

/// Inner fold `k` (of 5) of a trainer's validation: those users held out (their latest ratings
/// hidden), the others' ratings to fit on.
pub fn carve_validation(train: &[RatingRecord], k: u32) -> FoldSplit {
    holdout(train, |u| validation_fold(u, 5) == k)
}

/// A variant of the protocol: visitors unlike the training users (`../shared/EVAL.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// The main split: every given rating is folded in.
    Main,
    /// Only each test user's latest `n` given ratings are folded in; the hidden ones are the same.
    Short(usize),
    /// Global temporal cuts at [`FUTURE_CUTS`]: a model trained once, visitors who arrive later.
    Future,
}

/// Every variant, main first.
pub const VARIANTS: [Variant; 4] = [Variant::Main, Variant::Short(5), Variant::Short(20), Variant::Future];

/// The quantiles of the future-visitors cuts.
pub const FUTURE_CUTS: [f64; 3] = [0.6, 0.7, 0.8];

impl Variant {
    /// The variant's name in tables and JSON: `main`, `short-5`, `short-20`, `future`.
    pub fn name(self) -> String {
        match self {
            Variant::Main => "main".into(),
            Variant::Short(n) => format!("short-{n}"),
            Variant::Future => "future".into(),
        }
    }
}

/// The test users with only their latest `n` given ratings (given ratings are in time order).
pub fn shorten(test: &[TestUser], n: usize) -> Vec<TestUser> {
    test.iter().map(|u| TestUser { given: u.given[u.given.len().saturating_sub(n)..].to_vec(), ..u.clone() }).collect()
}

/// The future-visitors split at quantile `q`: `T` is the timestamp at position `floor(q R)` of
/// all `R` ratings by time; training data is every rating before `T`; test users are those
/// whose first rating is at or after `T`, split into given and hidden as in the main split.
pub fn future_split(ratings: &[RatingRecord], q: f64) -> FoldSplit {
    let mut times: Vec<i64> = ratings.iter().map(|r| r.timestamp).collect();
    times.sort_unstable();
    let Some(&cut) = times.get(((q * times.len() as f64).floor() as usize).min(times.len().saturating_sub(1))) else {
        return FoldSplit { fold: 0, train: Vec::new(), test: Vec::new() };
    };
    let mut first: BTreeMap<u32, i64> = BTreeMap::new();
    for r in ratings {
        let f = first.entry(r.user).or_insert(r.timestamp);
        *f = (*f).min(r.timestamp);
    }
    let arrives_later = |user: u32| first[&user] >= cut;
    let kept: Vec<RatingRecord> = ratings.iter().filter(|r| r.timestamp < cut || arrives_later(r.user)).copied().collect();
    split_by(&kept, (q * 100.0).round() as u32, arrives_later)
}

fn split_by(ratings: &[RatingRecord], fold: u32, is_test: impl Fn(u32) -> bool) -> FoldSplit {
    let mut train = Vec::new();
    let mut by_user: BTreeMap<u32, Vec<RatingRecord>> = Default::default();
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
    fn short_histories_keep_the_latest_given_ratings_and_every_hidden_one() {
        let r = |user, movie, ts| RatingRecord { user, movie: MovieId(movie), rating: 4.0, timestamp: ts };
        // User 5 (fold 0): 10 ratings, 2 hidden, 8 given; N = 5 keeps the given ones at times 4..=8.
        let data: Vec<RatingRecord> = (1..=10).map(|t| r(5, t as u32, t)).chain([r(1, 1, 1)]).collect();
        let s = split(&data, 0, 5);
        let short = shorten(&s.test, 5);
        let given: Vec<u32> = short[0].given.iter().map(|g| g.movie_id as u32).collect();
        assert_eq!(given, vec![4, 5, 6, 7, 8]);
        assert_eq!(short[0].hidden, s.test[0].hidden);
        assert_eq!(shorten(&s.test, 20)[0].given.len(), 8, "fewer than N given: all of them");
    }

    #[test]
    fn future_visitors_arrive_after_the_cut_and_training_stops_before_it() {
        let r = |user, movie, ts| RatingRecord { user, movie: MovieId(movie), rating: 4.0, timestamp: ts };
        // 10 ratings at times 0..=9: q = 0.6 puts the cut at position 6, time 6.
        // User 1 rates at 0..=4 and again at 8 (dropped: after the cut, not a new visitor);
        // user 2 arrives at 5 (before the cut: training, and its rating at 7 is dropped);
        // user 3 arrives at 6 and user 4 at 9: the future visitors.
        let data =
            vec![r(1, 1, 0), r(1, 2, 1), r(1, 3, 2), r(1, 4, 3), r(1, 5, 4), r(2, 1, 5), r(3, 1, 6), r(2, 2, 7), r(1, 6, 8), r(4, 2, 9)];
        let s = future_split(&data, 0.6);
        assert_eq!(s.train.iter().map(|r| r.timestamp).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(s.test.iter().map(|u| u.user).collect::<Vec<_>>(), vec![3, 4]);
        assert!(s.test.iter().all(|u| u.hidden.len() == 1));
        assert_eq!(future_split(&data, 0.8).test.iter().map(|u| u.user).collect::<Vec<_>>(), vec![4]);
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
