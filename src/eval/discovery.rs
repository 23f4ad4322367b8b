//! The familiar-to-discover trade-off (issue 16): each held-out user's list at a few settings of
//! [`crate::RecommendOptions::discover`], through [`Recommender::recommend_for`] as the page calls it,
//! scored for accuracy (NDCG@10, recall@10) and for what the control is for: catalogue
//! coverage@10, mean novelty (self-information of popularity, bits) and intra-list diversity
//! (mean pairwise genre Jaccard distance).

use std::collections::HashSet;

use super::{candidate_rows, given_rows, ndcg_at_k, relevant_rows, TestUser, K};
use crate::methods::Method;
use crate::rank::{discover, discover_pool, genre_overlap, top_k};
use crate::recommender::Recommender;

/// Settings of the control the curve visits.
pub const SETTINGS: [f32; 6] = [0.0, 0.1, 0.2, 0.3, 0.5, 0.8];

/// One point of the curve.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiscoveryPoint {
    /// The control's setting.
    pub discover: f32,
    /// Weight of genre diversity beside novelty.
    pub diversity_weight: f32,
    /// NDCG@10 of each user with a relevant hidden movie.
    pub ndcg: Vec<f64>,
    /// Mean recall@10.
    pub recall: f64,
    /// Share of the catalogue in any user's top 10.
    pub coverage: f64,
    /// Mean self-information of a recommended movie, bits.
    pub novelty: f64,
    /// Mean pairwise genre Jaccard distance within a list.
    pub diversity: f64,
}

/// The curve for `test` at every setting of [`SETTINGS`], genre diversity weighted
/// `diversity_weight` beside novelty.
pub fn curve(rec: &Recommender, method: Method, test: &[TestUser], diversity_weight: f32) -> crate::Result<Vec<DiscoveryPoint>> {
    let catalogue = &rec.model().catalogue;
    let movies = &catalogue.movies;
    let users = rec.model().info.users;
    let in_catalogue = movies.iter().filter(|m| m.rating_count > 0).count().max(1);
    let mut points: Vec<(DiscoveryPoint, HashSet<usize>, f64, usize)> = SETTINGS
        .iter()
        .map(|&d| (DiscoveryPoint { discover: d, diversity_weight, ..Default::default() }, HashSet::new(), 0.0, 0))
        .collect();
    for user in test {
        let visitor = rec.fold_in(&user.given);
        let given = given_rows(rec, user);
        // The list recommend_for gives at each setting: the method's top pool, re-ranked. The
        // scores are computed once per user here (recommend_for would fold in six times).
        let scores = rec.scores(&visitor, method)?;
        let pool = top_k(candidate_rows(rec, &given, user.released_by).map(|r| (r, scores[r])), discover_pool(K), |r| movies[r].id);
        let relevant = relevant_rows(rec, user);
        for (point, covered, recall, counted) in points.iter_mut() {
            let list: Vec<usize> =
                discover(&pool, K, point.discover, diversity_weight, catalogue, users).into_iter().map(|(r, _)| r).collect();
            covered.extend(list.iter().copied());
            let info = |r: usize| -((movies[r].rating_count.max(1) as f64) / users.max(1) as f64).log2();
            point.novelty += list.iter().map(|&r| info(r)).sum::<f64>() / list.len().max(1) as f64 / test.len() as f64;
            let (mut pairs, mut distance) = (0usize, 0.0f64);
            for (i, &a) in list.iter().enumerate() {
                for &b in &list[i + 1..] {
                    distance += 1.0 - genre_overlap(movies[a].genres, movies[b].genres);
                    pairs += 1;
                }
            }
            point.diversity += distance / pairs.max(1) as f64 / test.len() as f64;
            if relevant.is_empty() {
                continue;
            }
            let hits: Vec<bool> = list.iter().map(|r| relevant.contains(r)).collect();
            point.ndcg.push(ndcg_at_k(hits.iter().copied(), relevant.len()));
            *recall += hits.iter().filter(|&&h| h).count() as f64 / K.min(relevant.len()) as f64;
            *counted += 1;
        }
    }
    Ok(points
        .into_iter()
        .map(|(mut p, covered, recall, counted)| {
            p.recall = recall / counted.max(1) as f64;
            p.coverage = covered.len() as f64 / in_catalogue as f64;
            p
        })
        .collect())
}
