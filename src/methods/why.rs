//! Why a movie is recommended: each rated movie's share of a score ([`Contributions`]) and the
//! reasons shown beside a recommendation ([`Reason`]).

use serde::{Deserialize, Serialize};

use super::Ratings;

/// How much each of the visitor's collaborative ratings adds to one score, by their position in
/// [`Ratings::by_row`] (a binary search, no hashing: this runs for every movie explained).
pub struct Contributions<'v> {
    rows: &'v [(usize, f32)],
    values: Vec<f64>,
}

impl<'v> Contributions<'v> {
    /// All zero.
    pub fn new(ratings: &'v Ratings) -> Self {
        Self { rows: &ratings.by_row, values: vec![0.0; ratings.by_row.len()] }
    }

    /// Adds `c` to rated row `j` (rows the visitor did not rate are not reasons: ignored).
    pub fn add(&mut self, j: usize, c: f64) {
        if let Ok(at) = self.rows.binary_search_by_key(&j, |&(r, _)| r) {
            self.values[at] += c;
        }
    }

    /// All zero, over the same rated rows (a part's own sum, before it is scaled in).
    pub fn like(&self) -> Contributions<'v> {
        Contributions { rows: self.rows, values: vec![0.0; self.values.len()] }
    }

    /// Adds `scale` times `other` (over the same rated rows).
    pub fn add_scaled(&mut self, other: &Contributions, scale: f64) {
        self.values.iter_mut().zip(&other.values).for_each(|(v, o)| *v += scale * o);
    }

    /// `(row, rating, contribution)` of every rated row.
    pub fn iter(&self) -> impl Iterator<Item = (usize, f32, f64)> + '_ {
        self.rows.iter().zip(&self.values).map(|(&(r, rating), &v)| (r, rating, v))
    }
}

/// Why a movie is recommended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Reason {
    /// "Because you rated *title* *rating*": a rating that adds much to this movie's score.
    #[serde(rename_all = "camelCase")]
    Rated {
        /// The rated movie.
        movie_id: u32,
        /// Its title.
        title: String,
        /// The visitor's stars.
        rating: f32,
    },
    /// "Because you watched *title*": a movie the visitor saw without rating it, which counts as
    /// a mild positive ([`crate::ratings::SEEN_SHARE`]).
    #[serde(rename_all = "camelCase")]
    Seen {
        /// The movie.
        movie_id: u32,
        /// Its title.
        title: String,
    },
    /// "Because you like Sci-Fi, time travel": attributes shared with movies the visitor liked.
    #[serde(rename_all = "camelCase")]
    Attributes {
        /// Attribute names, best match first.
        names: Vec<String>,
    },
    /// "12 viewers with taste like yours rated it, 9 above their average".
    #[serde(rename_all = "camelCase")]
    SimilarViewers {
        /// Similar viewers who rated the movie.
        rated: u32,
        /// Of those, how many rated it above their own mean.
        liked: u32,
    },
    /// Popular and well rated by everyone (cold start, or the popularity method).
    #[serde(rename_all = "camelCase")]
    Popular {
        /// Training ratings of the movie.
        rating_count: u32,
        /// Their mean.
        rating_mean: f32,
    },
}
