//! Content-based filtering on movie attributes: genres, decade, user tags, TMDB keywords,
//! overview words and runtime, as sparse TF-IDF vectors (one per movie, unit length). It needs no
//! rating of the movie itself, so it covers movies nobody has rated yet, and its reasons name
//! attributes ("Sci-Fi, time travel").

use serde::{Deserialize, Serialize};

use super::{Context, Folded, Part, Reason};
use crate::error::Result;
use crate::table::validate_csr;

/// Prior weight (in ratings) of the global mean in the visitor's mean for the profile.
const CENTRE_PRIOR: f32 = 3.0;

/// Per-movie attribute vectors. Feature names carry their kind as a prefix ("genre:Sci-Fi",
/// "tag:time travel", "keyword:dystopia", "word:robot", "decade:1990s", "runtime:long").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Content {
    /// Feature vocabulary.
    pub names: Vec<String>,
    /// Row `i`'s features are `feature[offsets[i]..offsets[i + 1]]`.
    pub offsets: Vec<u32>,
    /// Feature indices.
    pub feature: Vec<u32>,
    /// Weights as `q / 255` of a unit-length row.
    pub weight: Vec<u8>,
}

/// Largest number of attributes named in one reason.
const MAX_NAMED: usize = 3;

impl Content {
    /// Features of `row` as `(feature, weight)`.
    pub fn of(&self, row: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let span = self.offsets[row] as usize..self.offsets[row + 1] as usize;
        self.feature[span.clone()].iter().zip(&self.weight[span]).map(|(&f, &w)| (f as usize, w as f32 / 255.0))
    }

    /// The visitor's taste over features: the sum of rated movies' vectors weighted by the
    /// rating minus `centre` (liked movies push their attributes up, disliked ones down).
    pub fn profile(&self, rated: &[(usize, f32)], centre: f32) -> Vec<f32> {
        let mut p = vec![0.0f32; self.names.len()];
        for &(row, r) in rated {
            for (f, w) in self.of(row) {
                p[f] += (r - centre) * w;
            }
        }
        p
    }

    /// Cosine of the profile with each movie's vector (rows are unit length).
    pub fn scores(&self, profile: &[f32]) -> Vec<f32> {
        let norm = profile.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        (0..self.offsets.len() - 1).map(|row| self.of(row).map(|(f, w)| profile[f] * w).sum::<f32>() / norm).collect()
    }

    /// The attributes of `row` that match the profile best, by display name.
    pub fn matching(&self, profile: &[f32], row: usize) -> Vec<String> {
        let mut parts: Vec<(usize, f32)> = self.of(row).map(|(f, w)| (f, profile[f] * w)).filter(|&(_, c)| c > 0.0).collect();
        parts.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        parts.into_iter().take(MAX_NAMED).map(|(f, _)| self.display_name(f).to_string()).collect()
    }

    /// A feature's name without its kind prefix.
    pub fn display_name(&self, feature: usize) -> &str {
        let name = &self.names[feature];
        name.split_once(':').map_or(name.as_str(), |(_, n)| n)
    }

    /// Movies most similar to `row` by attribute cosine, best first, `row` excluded.
    pub fn similar(&self, row: usize, count: usize) -> Vec<(usize, f32)> {
        let mut dense = vec![0.0f32; self.names.len()];
        for (f, w) in self.of(row) {
            dense[f] = w;
        }
        let mut sims: Vec<(usize, f32)> = (0..self.offsets.len() - 1)
            .filter(|&r| r != row)
            .map(|r| (r, self.of(r).map(|(f, w)| dense[f] * w).sum::<f32>()))
            .filter(|&(_, s)| s > 0.0)
            .collect();
        sims.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        sims.truncate(count);
        sims
    }
}

struct FoldedContent<'a> {
    table: &'a Content,
    profile: Vec<f32>,
}

impl Part for Content {
    /// The visitor's profile, ratings centred on their mean shrunk towards the global mean (so
    /// that one 5-star rating still says "more like this").
    fn fold_in<'a>(&'a self, cx: &Context<'a>) -> Box<dyn Folded + 'a> {
        let rated = &cx.ratings.all;
        let n = rated.len() as f32;
        let centre = (rated.iter().map(|r| r.1).sum::<f32>() + CENTRE_PRIOR * cx.global_mean) / (n + CENTRE_PRIOR);
        Box::new(FoldedContent { table: self, profile: self.profile(rated, centre) })
    }

    fn validate(&self, n: usize) -> Result<()> {
        validate_csr("content", &self.offsets, Some(n), &self.feature, self.weight.len(), self.names.len())
    }
}

impl Folded for FoldedContent<'_> {
    fn scores(&self) -> Vec<f32> {
        self.table.scores(&self.profile)
    }

    /// "Because you like Sci-Fi, time travel".
    fn reason(&self, row: usize) -> Option<Reason> {
        Some(self.table.matching(&self.profile, row)).filter(|names| !names.is_empty()).map(|names| Reason::Attributes { names })
    }
}
