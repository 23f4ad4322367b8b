//! Movies seen but not rated (issue 15): a Letterboxd `watched.csv` or a "seen it" mark says the
//! visitor watched a movie, not what they thought of it. Should it only leave their lists, or
//! also count as a mild positive? Measured on held-out users: half of each user's given
//! ratings (by a hash of user and movie, the same half in every treatment) lose their stars and
//! become "seen"; the other half stay rated. Every treatment excludes all the given movies from
//! the list, as the page does, and scores it against the same hidden ratings.

use super::{evaluate, validation_fold, Metrics, TestUser};
use crate::methods::Method;
use crate::ratings::RawRating;
use crate::recommender::Recommender;

/// How the seen movies reach the recommender.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Seen {
    /// The reference: nothing is lost, every given rating is folded in with its stars.
    AllRated,
    /// Excluded from the list and nothing else: what the page does with a "seen" mark.
    Excluded,
    /// Folded in as a rating of this many stars.
    AsStars(f32),
    /// As the page folds them in: entries marked `seen` in their places ([`RawRating::seen`]).
    Marked,
}

impl Seen {
    /// Every treatment the report compares.
    pub const COMPARED: [Seen; 7] =
        [Seen::AllRated, Seen::Excluded, Seen::AsStars(2.5), Seen::AsStars(3.0), Seen::AsStars(3.5), Seen::AsStars(4.0), Seen::Marked];

    /// A label for tables.
    pub fn name(self) -> String {
        match self {
            Seen::AllRated => "every given movie rated (reference)".into(),
            Seen::Excluded => "seen half excluded only".into(),
            Seen::AsStars(s) => format!("seen half as {s} stars"),
            Seen::Marked => "seen half marked seen (shipped)".into(),
        }
    }
}

/// Whether `user`'s given rating of `movie` falls in the half that becomes "seen".
pub fn in_seen_half(user: u32, movie: u32) -> bool {
    validation_fold(user.wrapping_mul(0x0100_0193) ^ movie, 2) == 0
}

/// `test` with half of every user's given ratings treated as `seen` says. A rating with a NaN
/// value is how "excluded only" is expressed: fold-in skips it (its stars are not usable) and
/// still keeps the movie out of the list, exactly as for the page's marks.
pub fn with_seen(test: &[TestUser], seen: Seen) -> Vec<TestUser> {
    test.iter()
        .map(|u| {
            let given = u
                .given
                .iter()
                .map(|g| match seen {
                    Seen::AllRated => *g,
                    _ if !in_seen_half(u.user, g.movie_id as u32) => *g,
                    Seen::Excluded => RawRating { rating: f64::NAN, ..*g },
                    Seen::AsStars(s) => RawRating { rating: s as f64, ..*g },
                    Seen::Marked => RawRating { rating: f64::NAN, seen: true, ..*g },
                })
                .collect();
            TestUser { given, ..u.clone() }
        })
        .collect()
}

/// The hybrid's metrics on `test` under each of [`Seen::COMPARED`].
pub fn compare(rec: &Recommender, test: &[TestUser]) -> crate::Result<Vec<(Seen, Metrics)>> {
    let clock = || 0.0;
    Seen::COMPARED.into_iter().map(|seen| Ok((seen, evaluate(rec, Method::Hybrid, &with_seen(test, seen), &clock)?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::MovieId;

    #[test]
    fn about_half_of_the_given_ratings_become_seen_and_every_movie_stays_given() {
        let given: Vec<RawRating> = (0..400).map(|m| RawRating { movie_id: m as f64, rating: 4.0, seen: false }).collect();
        let user = TestUser { user: 7, given: given.clone(), hidden: vec![(MovieId(1000), 5.0)], released_by: None };
        let excluded = &with_seen(std::slice::from_ref(&user), Seen::Excluded)[0];
        let seen = excluded.given.iter().filter(|g| g.rating.is_nan()).count();
        assert!((150..=250).contains(&seen), "{seen} of 400");
        let ids = |u: &TestUser| u.given.iter().map(|g| g.movie_id).collect::<Vec<_>>();
        assert_eq!(ids(excluded), ids(&user));
        let as_three = &with_seen(std::slice::from_ref(&user), Seen::AsStars(3.0))[0];
        // The same half in every treatment.
        for (a, b) in excluded.given.iter().zip(&as_three.given) {
            assert_eq!(a.rating.is_nan(), b.rating == 3.0);
        }
        assert_eq!(with_seen(std::slice::from_ref(&user), Seen::AllRated)[0], user);
    }
}
