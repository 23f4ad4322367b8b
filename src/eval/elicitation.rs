//! The first-minute simulation of issue 16: a held-out user meets the page with nothing rated;
//! a strategy asks one movie at a time; the user answers with their rating when the movie is
//! among their given ratings, else "haven't seen it". After `k` questions the answered ones
//! are folded in (through [`Recommender::recommend_for`], as the page does) and the top 10 is
//! scored against the user's hidden ratings. Candidates exclude every given movie, as in the
//! main protocol, so strategies differ only by what they learned.

use std::collections::HashMap;

use super::{ndcg_at_k, relevant_rows, TestUser, K};
use crate::catalogue::MovieId;
use crate::elicit::Strategy;
use crate::methods::Method;
use crate::rank::RecommendOptions;
use crate::ratings::RawRating;
use crate::recommender::Recommender;

/// Numbers of questions after which the simulation scores the list.
pub const QUESTIONS: [usize; 4] = [3, 5, 10, 20];

/// One strategy's result at one number of questions, on one split.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ElicitationPoint {
    /// Questions asked.
    pub asked: usize,
    /// NDCG@10 of each user with a relevant hidden movie.
    pub ndcg: Vec<f64>,
    /// Mean questions answered (with a rating) per user.
    pub answered: f64,
}

/// Runs `strategy` for every user of `test` against `rec` (the shipped method ranks); one
/// point per entry of [`QUESTIONS`].
pub fn simulate(rec: &Recommender, strategy: Strategy, test: &[TestUser], table: Option<&[f32]>) -> crate::Result<Vec<ElicitationPoint>> {
    let mut points: Vec<ElicitationPoint> = QUESTIONS.iter().map(|&asked| ElicitationPoint { asked, ..Default::default() }).collect();
    let movies = &rec.model().catalogue.movies;
    let last = *QUESTIONS.last().expect("questions");
    for user in test {
        let known: HashMap<u32, f64> = user.given.iter().map(|g| (g.movie_id as u32, g.rating)).collect();
        let relevant = relevant_rows(rec, user);
        let options = RecommendOptions {
            count: K,
            method: Method::Hybrid,
            exclude: user.given.iter().map(|g| g.movie_id as u32).collect(),
            ..Default::default()
        };
        let (mut answered, mut unseen): (Vec<RawRating>, Vec<u32>) = (Vec::new(), Vec::new());
        // Folded in once per rating answered; it asks the next question and scores the list.
        let mut visitor = rec.fold_in(&answered);
        for step in 1..=last {
            let Some(&row) = rec.questions_with(strategy, &visitor, &unseen, 1, table)?.first() else { break };
            let id = movies[row].id.0;
            match known.get(&id) {
                Some(&rating) => {
                    answered.push(RawRating { movie_id: id as f64, rating, seen: false });
                    visitor = rec.fold_in(&answered);
                }
                None => unseen.push(id),
            }
            if let Some(point) = points.iter_mut().find(|p| p.asked == step) {
                point.answered += answered.len() as f64 / test.len().max(1) as f64;
                if relevant.is_empty() {
                    continue;
                }
                let list = rec.recommend_for(&visitor, &options)?;
                let hits = list.items.iter().map(|item| rec.row(MovieId(item.movie.movie_id)).is_some_and(|r| relevant.contains(&r)));
                point.ndcg.push(ndcg_at_k(hits, relevant.len()));
            }
        }
    }
    Ok(points)
}
