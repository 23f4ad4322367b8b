//! The first-minute simulation of issue 16: a held-out user meets the page with nothing rated;
//! a strategy asks one movie at a time; the user answers with their rating when the movie is
//! among their given ratings, else "haven't seen it". After `k` questions, and once `n` were
//! answered, the answered ones are folded in (through [`Recommender::recommend_for`], as the page does) and the top 10 is
//! scored against the user's hidden ratings. Candidates exclude every given movie, as in the
//! main protocol, so strategies differ only by what they learned.

use std::collections::{HashMap, HashSet};

use super::{ndcg_at_k, relevant_rows, TestUser, K};
use crate::catalogue::MovieId;
use crate::elicit::Strategy;
use crate::methods::Method;
use crate::rank::RecommendOptions;
use crate::ratings::RawRating;
use crate::recommender::{Recommender, Visitor};

/// The list a simulated visitor is shown: the hybrid's top [`K`], every given movie excluded
/// from the candidates (as in the main protocol), so what was learned is all that differs.
fn list_options(user: &TestUser) -> RecommendOptions {
    RecommendOptions {
        count: K,
        method: Method::Hybrid,
        exclude: user.given.iter().map(|g| g.movie_id as u32).collect(),
        ..Default::default()
    }
}

/// NDCG@10 of the list `visitor` is shown, against the hidden `relevant` rows.
fn list_ndcg(rec: &Recommender, visitor: &Visitor, options: &RecommendOptions, relevant: &HashSet<usize>) -> crate::Result<f64> {
    let list = rec.recommend_for(visitor, options)?;
    let hits = list.items.iter().map(|item| rec.row(MovieId(item.movie.movie_id)).is_some_and(|r| relevant.contains(&r)));
    Ok(ndcg_at_k(hits, relevant.len()))
}

/// When the simulation scores the list: after a number of questions asked, or once a number
/// of them were answered with a rating (the visitor's view: "I rated five movies").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Stop {
    /// After this many questions, answered or not.
    Asked(usize),
    /// Once this many were answered (or at [`MAX_ASKED`] questions, for a visitor who had seen too
    /// few of the movies asked).
    Answered(usize),
}

/// The points at which the simulation scores the list.
pub const STOPS: [Stop; 7] =
    [Stop::Asked(3), Stop::Asked(5), Stop::Asked(10), Stop::Asked(20), Stop::Answered(3), Stop::Answered(5), Stop::Answered(10)];

/// The most questions one simulated visitor is asked.
pub const MAX_ASKED: usize = 60;

/// One strategy's result at one stop, on one split.
#[derive(Clone, Debug, PartialEq)]
pub struct ElicitationPoint {
    /// When the list was scored.
    pub stop: Stop,
    /// NDCG@10 of each user with a relevant hidden movie.
    pub ndcg: Vec<f64>,
    /// Mean questions answered (with a rating) per user.
    pub answered: f64,
    /// Mean questions asked per user.
    pub asked: f64,
}

/// Runs `strategy` for every user of `test` against `rec` (the shipped method ranks); one
/// point per entry of [`STOPS`].
pub fn simulate(rec: &Recommender, strategy: Strategy, test: &[TestUser], table: Option<&[f32]>) -> crate::Result<Vec<ElicitationPoint>> {
    let mut points: Vec<ElicitationPoint> =
        STOPS.iter().map(|&stop| ElicitationPoint { stop, ndcg: Vec::new(), answered: 0.0, asked: 0.0 }).collect();
    let movies = &rec.model().catalogue.movies;
    let share = 1.0 / test.len().max(1) as f64;
    for user in test {
        let known: HashMap<u32, f64> = user.given.iter().map(|g| (g.movie_id as u32, g.rating)).collect();
        let relevant = relevant_rows(rec, user);
        let options = list_options(user);
        let (mut answered, mut unseen): (Vec<RawRating>, Vec<u32>) = (Vec::new(), Vec::new());
        // Folded in once per rating answered; it asks the next question and scores the list.
        let mut visitor = rec.fold_in(&answered);
        let mut done = [false; STOPS.len()];
        let mut asked = 0;
        let record = |point: &mut ElicitationPoint, visitor: &Visitor, answered: usize, asked: usize| -> crate::Result<()> {
            point.answered += answered as f64 * share;
            point.asked += asked as f64 * share;
            if !relevant.is_empty() {
                point.ndcg.push(list_ndcg(rec, visitor, &options, &relevant)?);
            }
            Ok(())
        };
        while asked < MAX_ASKED && !done.iter().all(|&d| d) {
            let Some(&row) = rec.questions_with(strategy, &visitor, &unseen, 1, table)?.first() else { break };
            asked += 1;
            let id = movies[row].id.0;
            match known.get(&id) {
                Some(&rating) => {
                    answered.push(RawRating { movie_id: id as f64, rating, seen: false });
                    visitor = rec.fold_in(&answered);
                }
                None => unseen.push(id),
            }
            for (i, point) in points.iter_mut().enumerate() {
                let reached = match point.stop {
                    Stop::Asked(k) => asked == k,
                    Stop::Answered(n) => answered.len() == n,
                };
                if reached && !done[i] {
                    done[i] = true;
                    record(point, &visitor, answered.len(), asked)?;
                }
            }
        }
        // A stop not reached (the strategy ran out of movies, or the visitor out of answers)
        // counts with what was learned by then.
        for (i, point) in points.iter_mut().enumerate() {
            if !done[i] {
                record(point, &visitor, answered.len(), asked)?;
            }
        }
    }
    Ok(points)
}

/// Answers counted by [`five_of`]: the stop the target reads ([`Stop::Answered`]`(5)`).
pub const FIVE: usize = 5;

/// A rule that picks five of a held-out visitor's own given movies, as the answers of a
/// first minute: reference points for the strategies, not strategies (most need what no
/// page can know, the visitor's history).
///
/// The list after five answers depends only on which five of the visitor's movies were
/// answered (and, through the recency decay, their order): a "haven't seen it" changes no
/// list, and every given movie is excluded from the candidates. So every strategy, static or
/// adaptive, lands on some five of the visitor's movies, and these rules show how far the
/// choice of five can move the list at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FiveOf {
    /// Five at random (seeded): what a strategy that knows nothing would get, without the
    /// wasted questions.
    Random(u64),
    /// The five most rated by training users: what a static most-rated-first order gets once
    /// five were answered (the static orders' family, popular-first's Bayesian average among
    /// them, is this with another sort key).
    MostRated,
    /// The five the visitor rated last: what a strategy that knew their recent watching would
    /// get.
    Latest,
    /// The five the visitor rated highest (ties: the more rated): what a strategy that knew
    /// their favourites would get.
    BestRated,
}

impl FiveOf {
    /// Every rule, in the report's order.
    pub const ALL: [FiveOf; 4] = [FiveOf::Random(11), FiveOf::MostRated, FiveOf::Latest, FiveOf::BestRated];

    /// Name in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            FiveOf::Random(_) => "five at random",
            FiveOf::MostRated => "the five most rated",
            FiveOf::Latest => "the five rated last",
            FiveOf::BestRated => "the five rated highest",
        }
    }
}

/// NDCG@10 of each user of `test` with a relevant hidden movie (the users and order of
/// [`simulate`]'s points, so the two pair) when the five of their given movies that `rule`
/// picks are folded in, in the visitor's own order. Only movies a question could ask count:
/// in the catalogue and rated by training users.
pub fn five_of(rec: &Recommender, rule: FiveOf, test: &[TestUser]) -> crate::Result<Vec<f64>> {
    let movies = &rec.model().catalogue.movies;
    let mut ndcg = Vec::new();
    let mut state = match rule {
        FiveOf::Random(seed) => seed | 1,
        _ => 1,
    };
    let count = |g: &RawRating| rec.row(MovieId(g.movie_id as u32)).map_or(0, |row| movies[row].rating_count);
    for user in test {
        let relevant = relevant_rows(rec, user);
        if relevant.is_empty() {
            continue;
        }
        // (position in the visitor's order, rating), askable movies only.
        let mut pick: Vec<(usize, &RawRating)> = user.given.iter().enumerate().filter(|(_, g)| count(g) > 0).collect();
        match rule {
            FiveOf::Random(_) => {
                for j in (1..pick.len()).rev() {
                    pick.swap(j, (crate::synthetic::xorshift64(&mut state) % (j as u64 + 1)) as usize);
                }
            }
            FiveOf::MostRated => pick.sort_by(|a, b| count(b.1).cmp(&count(a.1)).then(a.1.movie_id.total_cmp(&b.1.movie_id))),
            FiveOf::Latest => pick.reverse(),
            FiveOf::BestRated => pick.sort_by(|a, b| b.1.rating.total_cmp(&a.1.rating).then(count(b.1).cmp(&count(a.1)))),
        }
        pick.truncate(FIVE);
        pick.sort_by_key(|&(at, _)| at);
        let answers: Vec<RawRating> = pick.into_iter().map(|(_, g)| *g).collect();
        let options = list_options(user);
        ndcg.push(list_ndcg(rec, &rec.fold_in(&answers), &options, &relevant)?);
    }
    Ok(ndcg)
}
