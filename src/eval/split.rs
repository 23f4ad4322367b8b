//! The protocol's splits: the main one (test users by id, their latest ratings hidden), its
//! variants for visitors unlike the training users (short histories, future visitors, past
//! visitors), and the validation splits carved from a fold's training users.

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
    /// The last year whose movies this user could have rated, when their lists are limited to
    /// them (past visitors: a movie released after their last rating is not a candidate).
    pub released_by: Option<u16>,
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
    /// The users who arrived before the cut at [`PAST_CUT`], against a model trained on everyone
    /// who arrived after: visitors of another era, as the outside check's users of an older
    /// MovieLens release are (see [`past_split`]).
    Past,
}

/// Every variant, main first.
pub const VARIANTS: [Variant; 5] = [Variant::Main, Variant::Short(5), Variant::Short(20), Variant::Future, Variant::Past];

/// The quantile of the past-visitors cut: the users whose first rating falls in the first 10% of
/// the log (on ml-latest-small, the 150 who arrived before November 1999).
pub const PAST_CUT: f64 = 0.1;

/// The quantiles of the future-visitors cuts.
pub const FUTURE_CUTS: [f64; 3] = [0.6, 0.7, 0.8];

impl Variant {
    /// The variant's name in tables and JSON: `main`, `short-5`, `short-20`, `future`.
    pub fn name(self) -> String {
        match self {
            Variant::Main => "main".into(),
            Variant::Short(n) => format!("short-{n}"),
            Variant::Future => "future".into(),
            Variant::Past => "past".into(),
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
    let Some(cut) = time_cut(ratings, q) else {
        return FoldSplit { fold: 0, train: Vec::new(), test: Vec::new() };
    };
    let span = spans(ratings);
    let arrives_later = |user: u32| span[&user].0 >= cut;
    let kept: Vec<RatingRecord> = ratings.iter().filter(|r| r.timestamp < cut || arrives_later(r.user)).copied().collect();
    split_by(&kept, (q * 100.0).round() as u32, arrives_later)
}

/// The past-visitors split at quantile `q`: `T` is the timestamp at position `floor(q R)` of all
/// `R` ratings by time; test users are those whose first rating is before `T`, every rating of
/// theirs split into given and hidden as in the main split; training data is every rating of
/// every other user (they all arrived at or after `T`). Each test user's lists are limited to
/// movies released by the year of their last rating: the movies they could have rated. This is
/// the mirror of [`future_split`]: a visitor from another era, whose taste and whose catalogue
/// the training users' data does not describe.
pub fn past_split(ratings: &[RatingRecord], q: f64) -> FoldSplit {
    let Some(cut) = time_cut(ratings, q) else {
        return FoldSplit { fold: 0, train: Vec::new(), test: Vec::new() };
    };
    let span = spans(ratings);
    let mut s = split_by(ratings, (q * 100.0).round() as u32, |user| span[&user].0 < cut);
    for u in &mut s.test {
        u.released_by = Some(year_of(span[&u.user].1));
    }
    s
}

/// The timestamp at position `floor(q R)` of all `R` ratings by time (none for no ratings): where
/// the future and past visitors' splits cut the log.
fn time_cut(ratings: &[RatingRecord], q: f64) -> Option<i64> {
    let mut times: Vec<i64> = ratings.iter().map(|r| r.timestamp).collect();
    times.sort_unstable();
    times.get(((q * times.len() as f64).floor() as usize).min(times.len().saturating_sub(1))).copied()
}

/// Each user's first and last rating time.
fn spans(ratings: &[RatingRecord]) -> BTreeMap<u32, (i64, i64)> {
    let mut span: BTreeMap<u32, (i64, i64)> = BTreeMap::new();
    for r in ratings {
        let s = span.entry(r.user).or_insert((r.timestamp, r.timestamp));
        *s = (s.0.min(r.timestamp), s.1.max(r.timestamp));
    }
    span
}

/// The calendar year (UTC) of a Unix timestamp in seconds (Hinnant's civil-from-days).
pub fn year_of(timestamp: i64) -> u16 {
    let z = timestamp.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let year = yoe + era * 400 + i64::from(mp >= 10);
    year.clamp(0, u16::MAX as i64) as u16
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
                given: rs[..cut].iter().map(|r| RawRating { movie_id: r.movie.0 as f64, rating: r.rating as f64, seen: false }).collect(),
                hidden: rs[cut..].iter().map(|r| (r.movie, r.rating)).collect(),
                released_by: None,
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
    fn past_visitors_arrived_before_the_cut_and_are_limited_to_their_era() {
        let r = |user, movie, ts| RatingRecord { user, movie: MovieId(movie), rating: 4.0, timestamp: ts };
        let y = |year: i64| (year - 1970) * 31_557_600 + 15_000_000; // mid-year
                                                                     // 10 ratings; q = 0.2 puts the cut at position 2. User 1 arrives first (1996, last rating
                                                                     // 1998); user 2 arrives at position 1 (1997) and rates on into 2005; users 3 and 4 later.
        let data = vec![
            r(1, 1, y(1996)),
            r(2, 1, y(1997)),
            r(1, 2, y(1998)),
            r(3, 1, y(2001)),
            r(3, 2, y(2002)),
            r(2, 3, y(2005)),
            r(4, 1, y(2006)),
            r(4, 3, y(2007)),
            r(3, 3, y(2008)),
            r(4, 2, y(2009)),
        ];
        let s = past_split(&data, 0.2);
        assert_eq!(s.test.iter().map(|u| u.user).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(s.test.iter().map(|u| u.released_by).collect::<Vec<_>>(), vec![Some(1998), Some(2005)]);
        assert!(s.train.iter().all(|r| r.user >= 3), "only later arrivals train: {:?}", s.train);
        assert_eq!(s.train.len(), 6);
        assert_eq!(s.test[0].hidden, vec![(MovieId(2), 4.0)]);
    }

    #[test]
    fn year_of_is_the_utc_calendar_year() {
        assert_eq!(year_of(0), 1970);
        assert_eq!(year_of(946_684_799), 1999); // 1999-12-31 23:59:59
        assert_eq!(year_of(946_684_800), 2000);
        assert_eq!(year_of(951_782_400), 2000); // 2000-02-29
        assert_eq!(year_of(1_537_799_250), 2018);
        assert_eq!(year_of(-1), 1969);
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
