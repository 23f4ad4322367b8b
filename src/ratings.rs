//! The visitor's ratings as they arrive (anything a number can be), and their check against the
//! catalogue and the rating scale: what is unusable is skipped and reported, never thrown.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::catalogue::MovieId;

/// A rating as it arrives from the page or a file, before any check: ids and values may be
/// anything a number can be.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawRating {
    /// MovieLens movie id.
    #[serde(rename = "movieId")]
    pub movie_id: f64,
    /// Stars (ignored when `seen`).
    pub rating: f64,
    /// Watched without a rating (a "Seen it" mark, a Letterboxd `watched.csv` row): folded in
    /// as a mild positive, [`SEEN_SHARE`] of the scale's top, in its place among the ratings.
    #[serde(default)]
    pub seen: bool,
}

/// A movie seen but not rated counts as a rating of this share of the scale's top: 3.5 stars on
/// a 5-star scale, the liked threshold of EASE and the autoencoder. Measured against leaving it
/// out (`./build.sh first-minute`, tuning/README.md "Seen but not rated"): with half of each
/// held-out user's movies seen but not rated, in their places, NDCG@10 0.1305 -> 0.1394 on the
/// main split and 0.0963 -> 0.1005 for future visitors.
pub const SEEN_SHARE: f64 = 0.7;

/// Why a rating was not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SkipReason {
    /// The id is not a whole number in `u32` range.
    InvalidId,
    /// The movie is not in the model's catalogue.
    UnknownMovie,
    /// The rating is NaN or infinite.
    NotFinite,
    /// The rating lies outside the model's scale.
    OutOfRange,
    /// A later rating of the same movie replaced this one.
    Duplicate,
}

/// A rating that fold-in left out, with the reason, reported back to the caller.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkippedRating {
    /// The id as given.
    pub movie_id: f64,
    /// The rating as given.
    pub rating: f64,
    /// Why it was left out.
    pub reason: SkipReason,
}

/// Checked ratings: catalogue rows with their stars, oldest first (input order; a repeated movie
/// takes the place and value of its last rating).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckedRatings {
    /// `(row, rating)` pairs, one per distinct movie.
    pub rated: Vec<(usize, f32)>,
    /// Rows of `rated` that were seen, not rated (their rating is [`SEEN_SHARE`] of the top).
    pub seen: Vec<usize>,
    /// What was left out and why.
    pub skipped: Vec<SkippedRating>,
}

/// Validates raw ratings against the model: unknown ids, non-finite or out-of-range values are
/// skipped and reported; of duplicates the last one wins. A `seen` entry's stars are not read: it
/// counts as [`SEEN_SHARE`] of the top and is listed in `seen`.
pub fn check_ratings(index: &HashMap<MovieId, usize>, scale: (f32, f32), raw: &[RawRating]) -> CheckedRatings {
    let (lo, hi) = (scale.0 as f64, scale.1 as f64);
    let mut out = CheckedRatings::default();
    let mut position: HashMap<usize, usize> = HashMap::new();
    // Rows whose last entry was seen, not rated.
    let mut seen: HashSet<usize> = HashSet::new();
    for r in raw {
        let skip = |reason| SkippedRating { movie_id: r.movie_id, rating: r.rating, reason };
        let id = r.movie_id;
        if !(id.is_finite() && id >= 0.0 && id <= u32::MAX as f64 && id.fract() == 0.0) {
            out.skipped.push(skip(SkipReason::InvalidId));
            continue;
        }
        let Some(&row) = index.get(&MovieId(id as u32)) else {
            out.skipped.push(skip(SkipReason::UnknownMovie));
            continue;
        };
        let rating = if r.seen { (SEEN_SHARE * hi).clamp(lo, hi) } else { r.rating };
        if !rating.is_finite() {
            out.skipped.push(skip(SkipReason::NotFinite));
            continue;
        }
        if rating < lo || rating > hi {
            out.skipped.push(skip(SkipReason::OutOfRange));
            continue;
        }
        if let Some(at) = position.insert(row, out.rated.len()) {
            let (_, old) = out.rated[at];
            out.skipped.push(SkippedRating { movie_id: id, rating: old as f64, reason: SkipReason::Duplicate });
            out.rated[at].0 = usize::MAX; // superseded; removed below
        }
        out.rated.push((row, rating as f32));
        if r.seen {
            seen.insert(row);
        } else {
            seen.remove(&row);
        }
    }
    out.seen = seen.into_iter().collect();
    out.seen.sort_unstable();
    out.rated.retain(|&(row, _)| row != usize::MAX);
    out
}
