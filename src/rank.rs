//! What a recommend call takes and gives: its options and filters, the streaming top-k, the
//! reasons chosen for each movie, and the result types the binding hands to JavaScript as
//! they are.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::catalogue::{Catalogue, MovieId, MovieSummary};
use crate::error::{Error, Result};
use crate::methods::{popular, Contributions, Folded, Method, Ratings, Reason};
use crate::ratings::SkippedRating;

/// Largest `count` a caller may ask for: the whole list is built as JS objects.
pub const MAX_COUNT: usize = 1000;
/// Most ids `exclude` may hold: every mark a visitor could make, and then some.
pub const MAX_EXCLUDE: usize = 100_000;
/// Most reasons given for one recommendation.
const MAX_REASONS: usize = 2;

/// Options of [`crate::Recommender::recommend`]; every field has a default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct RecommendOptions {
    /// How many recommendations, 1..=[`MAX_COUNT`].
    pub count: usize,
    /// Keep movies having any of these genres (names as in the model); empty keeps all.
    pub genres: Vec<String>,
    /// Keep movies released in or after this year.
    pub year_min: Option<u16>,
    /// Keep movies released in or before this year.
    pub year_max: Option<u16>,
    /// Ranking method.
    pub method: Method,
    /// Movie ids never to recommend: those the visitor marked seen, not interested or want to
    /// watch (ids not in the catalogue are ignored). At most [`MAX_EXCLUDE`].
    pub exclude: Vec<u32>,
    /// Familiar (0, the default: the method's own ranking) to discover (1): how far the list
    /// leans toward less popular movies ([`discover`]).
    pub discover: f32,
}

impl RecommendOptions {
    /// Option names as callers spell them, for checking untyped input (JS objects).
    pub const FIELDS: [&'static str; 7] = ["count", "genres", "yearMin", "yearMax", "method", "exclude", "discover"];
}

impl Default for RecommendOptions {
    fn default() -> Self {
        Self { count: 10, genres: Vec::new(), year_min: None, year_max: None, method: Method::Hybrid, exclude: Vec::new(), discover: 0.0 }
    }
}

/// The options checked against a catalogue: which movies a list may hold.
pub struct Filter {
    genre_mask: u32,
    year_min: Option<u16>,
    year_max: Option<u16>,
    /// Rows of the excluded movies, sorted.
    excluded: Vec<usize>,
}

impl Filter {
    /// Checks `count`, the genre names and the year range.
    pub fn new(options: &RecommendOptions, catalogue: &Catalogue) -> Result<Self> {
        let count = options.count;
        if count == 0 || count > MAX_COUNT {
            return Err(Error::InvalidOption { name: "count", reason: format!("{count} is not in 1..={MAX_COUNT}") });
        }
        let genre_mask = catalogue.genre_mask(&options.genres)?;
        if let (Some(lo), Some(hi)) = (options.year_min, options.year_max) {
            if lo > hi {
                return Err(Error::InvalidOption { name: "yearMin", reason: format!("{lo} is after yearMax {hi}") });
            }
        }
        if !(0.0..=1.0).contains(&options.discover) {
            return Err(Error::InvalidOption { name: "discover", reason: format!("{} is not in 0..=1", options.discover) });
        }
        if options.exclude.len() > MAX_EXCLUDE {
            return Err(Error::InvalidOption { name: "exclude", reason: format!("{} ids, at most {MAX_EXCLUDE}", options.exclude.len()) });
        }
        // Rows are in ascending id order, so an id's row is a binary search away.
        let mut excluded: Vec<usize> =
            options.exclude.iter().filter_map(|&id| catalogue.movies.binary_search_by_key(&id, |m| m.id.0).ok()).collect();
        excluded.sort_unstable();
        excluded.dedup();
        Ok(Self { genre_mask, year_min: options.year_min, year_max: options.year_max, excluded })
    }

    /// Whether `row` passes the genre and year filters.
    pub fn keeps(&self, catalogue: &Catalogue, row: usize) -> bool {
        let m = &catalogue.movies[row];
        (self.excluded.is_empty() || self.excluded.binary_search(&row).is_err())
            && (self.genre_mask == 0 || m.genres & self.genre_mask != 0)
            && self.year_min.is_none_or(|lo| m.year.is_some_and(|y| y >= lo))
            && self.year_max.is_none_or(|hi| m.year.is_some_and(|y| y <= hi))
    }
}

/// One recommended movie, ready to render: the movie as every list shows it, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recommendation {
    /// The movie (its fields sit beside the others in JSON).
    #[serde(flatten)]
    pub movie: MovieSummary,
    /// Ranking score (higher first; comparable within one list only).
    pub score: f32,
    /// Predicted stars, clipped to the rating scale; absent while the model's star section has
    /// not arrived (the list itself does not wait for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_rating: Option<f32>,
    /// Why, best first; never empty. The first [`crate::recommender::MAX_EXPLAINED`] of a
    /// list cite the visitor's ratings where the method can.
    pub reasons: Vec<Reason>,
}

/// The answer of [`crate::Recommender::recommend`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recommendations {
    /// Best first, unique, never a movie the visitor rated.
    pub items: Vec<Recommendation>,
    /// True when no usable rating was given and the list is the popular, well-rated default.
    pub cold_start: bool,
    /// Ratings folded in.
    pub used_ratings: usize,
    /// Ratings left out, with reasons: the first [`crate::recommender::MAX_REPORTED_SKIPS`].
    pub skipped: Vec<SkippedRating>,
    /// How many ratings were left out in all.
    pub skipped_count: usize,
}

/// One pick of a movie-night list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupPick {
    /// The movie (its fields sit beside the others in JSON).
    #[serde(flatten)]
    pub movie: MovieSummary,
    /// The group's score (comparable within one list only).
    pub score: f32,
    /// Each member's predicted stars, in the order the members were given; empty while the
    /// model's star section has not arrived.
    pub predicted_ratings: Vec<f32>,
    /// The members (indexes) whose own best candidates include it: whose taste it serves.
    pub serves: Vec<usize>,
}

/// The answer of [`crate::Recommender::recommend_group`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRecommendations {
    /// Best first; never a movie any member rated.
    pub items: Vec<GroupPick>,
    /// How the members' scores were combined.
    pub aggregation: crate::group::Aggregation,
    /// Members in the group.
    pub members: usize,
}

/// One movie of a "more like this" list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Similar {
    /// The movie.
    pub movie: MovieSummary,
    /// Its similarity to the one asked about (the method's own scale).
    pub similarity: f32,
}

/// The answer of [`crate::Recommender::similar_movies`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimilarMovies {
    /// The method that found them (`itemKnn` or `content`).
    pub method: Method,
    /// Most similar first, never the movie itself.
    pub items: Vec<Similar>,
}

/// The reasons for `row` under one folded method: the liked movies (rated at least
/// `liked_from`, see [`Ratings::liked_from`]) that add most to its score, else the method's own
/// kind of reason, else its popularity. A disliked movie is never cited as a cause for liking,
/// even when the model's arithmetic gives it a positive share.
pub fn explain(folded: &dyn Folded, ratings: &Ratings, liked_from: f32, catalogue: &Catalogue, row: usize) -> Vec<Reason> {
    let mut total = Contributions::new(ratings);
    if folded.contributions(row, &mut total, 1.0) {
        let mut best: Vec<(usize, f32, f64)> = total.iter().filter(|&(_, rating, c)| c > 0.0 && rating >= liked_from).collect();
        best.sort_unstable_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
        let reasons: Vec<Reason> = best
            .into_iter()
            .take(MAX_REASONS)
            .map(|(j, rating, _)| {
                let m = &catalogue.movies[j];
                if ratings.is_seen(j) {
                    Reason::Seen { movie_id: m.id.0, title: m.title.clone() }
                } else {
                    Reason::Rated { movie_id: m.id.0, title: m.title.clone(), rating }
                }
            })
            .collect();
        if !reasons.is_empty() {
            return reasons;
        }
    }
    vec![folded.reason(row).unwrap_or_else(|| popular::reason(catalogue, row))]
}

/// How many of the best candidates the discover control re-ranks for a list of `count`: deep
/// enough to reach past the blockbusters, shallow enough that every pick is still one the
/// method ranks well.
pub fn discover_pool(count: usize) -> usize {
    (count * 5).max(100)
}

/// Weight of genre diversity beside novelty in [`discover`], chosen on the trade-off curve of
/// `./build.sh first-minute` (README, "Familiar or new"): the popularity penalty alone buys
/// more novelty and coverage for the same NDCG than mixing in genre diversity, which costs
/// accuracy sooner, so it is 0 (the diversity term stays for the comparison).
pub const DISCOVER_DIVERSITY: f32 = 0.0;

/// Re-ranks `ranked` (best first) into the best `count` by
/// `(1 - d) * relevance + d * ((1 - w) * novelty + w * diversity)` greedily (maximal marginal
/// relevance, Carbonell and Goldstein 1998): relevance is the place in `ranked` scaled to
/// 1..0, novelty the movie's self-information `-log2(count / users)` over that of a movie one
/// training user rated, diversity one minus the highest genre overlap (Jaccard) with a movie
/// already picked. `d` 0 keeps `ranked`'s order.
pub fn discover(ranked: &[(usize, f32)], count: usize, d: f32, w: f32, catalogue: &Catalogue, users: u32) -> Vec<(usize, f32)> {
    if d <= 0.0 || ranked.len() <= 1 {
        return ranked.iter().copied().take(count).collect();
    }
    let movies = &catalogue.movies;
    let n = ranked.len() as f32;
    let max_info = (users.max(2) as f32).log2();
    let novelty = |row: usize| (-((movies[row].rating_count.max(1) as f32) / users.max(1) as f32).log2() / max_info).clamp(0.0, 1.0);
    let mut left: Vec<(usize, f32, f32, f32)> =
        ranked.iter().enumerate().map(|(i, &(row, score))| (row, score, 1.0 - i as f32 / n, novelty(row))).collect();
    let mut picked: Vec<(usize, f32)> = Vec::with_capacity(count);
    let mut overlap = vec![0.0f32; left.len()];
    while picked.len() < count && !left.is_empty() {
        let value = |i: usize| {
            let (_, _, rel, nov) = left[i];
            (1.0 - d) * rel + d * ((1.0 - w) * nov + w * (1.0 - overlap[i]))
        };
        let best = (0..left.len()).max_by(|&a, &b| value(a).total_cmp(&value(b)).then(b.cmp(&a))).expect("not empty");
        let (row, score, _, _) = left.swap_remove(best);
        overlap.swap_remove(best);
        for (o, l) in overlap.iter_mut().zip(&left) {
            *o = o.max(genre_overlap(movies[row].genres, movies[l.0].genres) as f32);
        }
        picked.push((row, score));
    }
    picked
}

/// How alike two genre sets are (bit masks): the Jaccard index, 1 for two movies without any
/// genre. The discover control's diversity term and the evaluation's intra-list diversity.
pub fn genre_overlap(a: u32, b: u32) -> f64 {
    if a | b == 0 {
        1.0
    } else {
        (a & b).count_ones() as f64 / (a | b).count_ones() as f64
    }
}

/// The `k` best `(row, score)` pairs, best first; ties broken by ascending movie id so results
/// are deterministic.
///
/// Streams: candidates below the current k-th best score are dropped on a single comparison,
/// and the kept set is cut back to k whenever it doubles, so memory stays O(k).
pub fn top_k(candidates: impl Iterator<Item = (usize, f32)>, k: usize, id: impl Fn(usize) -> MovieId) -> Vec<(usize, f32)> {
    let order = |a: &(usize, f32), b: &(usize, f32)| -> Ordering { b.1.total_cmp(&a.1).then_with(|| id(a.0).cmp(&id(b.0))) };
    if k == 0 {
        return Vec::new();
    }
    let mut best: Vec<(usize, f32)> = Vec::with_capacity(2 * k);
    let mut threshold = f32::NEG_INFINITY;
    for c in candidates {
        // Equal scores may still win on the id tie-break, so only strictly lower ones are dropped.
        if c.1 < threshold {
            continue;
        }
        best.push(c);
        if best.len() == 2 * k {
            best.select_nth_unstable_by(k - 1, order);
            best.truncate(k);
            threshold = best[k - 1].1;
        }
    }
    if best.len() > k {
        best.select_nth_unstable_by(k - 1, order);
        best.truncate(k);
    }
    best.sort_unstable_by(order);
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_top_k_equals_a_full_sort_with_ties() {
        let mut seed = 12345u64;
        for n in [0usize, 1, 5, 10, 11, 57, 1000] {
            for k in [1usize, 3, 10, 64] {
                let scores: Vec<(usize, f32)> = (0..n)
                    .map(|r| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        (r, ((seed >> 33) % 17) as f32) // few distinct values: many ties
                    })
                    .collect();
                let id = |r: usize| MovieId(1000 - r as u32);
                let mut expected = scores.clone();
                expected.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then_with(|| id(a.0).cmp(&id(b.0))));
                expected.truncate(k);
                assert_eq!(top_k(scores.into_iter(), k, id), expected, "n {n} k {k}");
            }
        }
    }
}
