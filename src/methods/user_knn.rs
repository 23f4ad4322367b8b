//! User-based collaborative filtering: the visitor's nearest viewers among a pool of training
//! users, by mean-centred cosine on co-rated movies shrunk by the number of co-ratings; a movie
//! scores by how strongly those similar viewers rated it above their own mean.

use serde::{Deserialize, Serialize};

use super::{Context, Folded, Part, Reason};
use crate::error::{Error, Result};
use crate::table::{check_range, validate_csr, Derived};

/// The training users the browser compares the visitor with (every training user for a small
/// data set; a pool chosen to cover the catalogue for a large one).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserKnn {
    /// User `v`'s ratings are `rows[offsets[v]..offsets[v + 1]]`.
    pub offsets: Vec<u32>,
    /// Catalogue rows rated.
    pub rows: Vec<u32>,
    /// Ratings in half stars (`rating * 2`).
    pub half_stars: Vec<u8>,
    /// Neighbours kept for a visitor.
    pub k: u32,
    /// Co-ratings a similarity needs to count fully (`n / (n + shrink)`).
    pub shrink: f32,
    /// The pool inverted by movie, built at load.
    #[serde(skip)]
    pub by_movie: Derived<UserIndex>,
}

/// The inverted pool, built once at load: for each catalogue row, who rated it and how far from
/// their mean.
#[derive(Clone, Debug, Default)]
pub struct UserIndex {
    offsets: Vec<u32>,
    user: Vec<u32>,
    deviation: Vec<f32>,
    /// Each pool user's mean rating.
    means: Vec<f32>,
}

/// The visitor's neighbours: `(pool user, similarity)`, most similar first.
pub type Neighbours = Vec<(usize, f32)>;

impl UserKnn {
    /// Number of users in the pool.
    pub fn users(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// The inverted index over `n` catalogue rows (built on first use).
    pub fn by_movie(&self, n: usize) -> &UserIndex {
        self.by_movie.get_or_init(|| self.build_index(n))
    }

    fn build_index(&self, n: usize) -> UserIndex {
        let mut count = vec![0u32; n + 1];
        for &r in &self.rows {
            count[r as usize + 1] += 1;
        }
        for i in 0..n {
            count[i + 1] += count[i];
        }
        let mut fill = count.clone();
        let total = self.rows.len();
        let (mut user, mut deviation) = (vec![0u32; total], vec![0f32; total]);
        let mut means = Vec::with_capacity(self.users());
        for v in 0..self.users() {
            let span = self.offsets[v] as usize..self.offsets[v + 1] as usize;
            let mean = self.half_stars[span.clone()].iter().map(|&h| h as f32 / 2.0).sum::<f32>() / span.len().max(1) as f32;
            means.push(mean);
            for at in span {
                let r = self.rows[at] as usize;
                let to = fill[r] as usize;
                user[to] = v as u32;
                deviation[to] = self.half_stars[at] as f32 / 2.0 - mean;
                fill[r] += 1;
            }
        }
        UserIndex { offsets: count, user, deviation, means }
    }

    /// The `k` pool users most similar to a visitor with ratings `rated` (`(row, stars)`).
    pub fn neighbours(&self, index: &UserIndex, rated: &[(usize, f32)]) -> Neighbours {
        if rated.is_empty() {
            return Vec::new();
        }
        let mean = rated.iter().map(|r| r.1).sum::<f32>() / rated.len() as f32;
        let users = self.users();
        let (mut dot, mut own, mut theirs, mut co) = (vec![0f32; users], vec![0f32; users], vec![0f32; users], vec![0u32; users]);
        let mut touched = Vec::new();
        for &(row, r) in rated {
            let du = r - mean;
            for (v, dv) in index.raters(row) {
                if co[v] == 0 {
                    touched.push(v);
                }
                co[v] += 1;
                dot[v] += du * dv;
                own[v] += du * du;
                theirs[v] += dv * dv;
            }
        }
        let mut sims: Vec<(usize, f32)> = touched
            .into_iter()
            .filter_map(|v| {
                let denom = (own[v] * theirs[v]).sqrt();
                let c = co[v] as f32;
                let s = if denom > 0.0 { dot[v] / denom * c / (c + self.shrink) } else { 0.0 };
                (s > 0.0).then_some((v, s))
            })
            .collect();
        sims.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        sims.truncate(self.k as usize);
        sims
    }

    /// Scores of all `n` rows: the similarity-weighted sum of the neighbours' deviations from
    /// their mean, plus a small bonus for having been rated at all (what similar viewers watch).
    pub fn scores(&self, index: &UserIndex, neighbours: &Neighbours, n: usize) -> Vec<f32> {
        let mut scores = vec![0f32; n];
        for &(v, sim) in neighbours {
            let mean = index.means[v];
            for at in self.offsets[v] as usize..self.offsets[v + 1] as usize {
                scores[self.rows[at] as usize] += sim * (1.0 + (self.half_stars[at] as f32 / 2.0 - mean));
            }
        }
        scores
    }

    /// How many of the neighbours rated `row`, and how many of those above their own mean.
    pub fn support(&self, index: &UserIndex, neighbours: &Neighbours, row: usize) -> (u32, u32) {
        let mut rated = 0;
        let mut liked = 0;
        for (v, dev) in index.raters(row) {
            if neighbours.iter().any(|&(n, _)| n == v) {
                rated += 1;
                liked += (dev > 0.0) as u32;
            }
        }
        (rated, liked)
    }
}

impl UserIndex {
    /// `(pool user, deviation from their mean)` of everyone in the pool who rated `row`.
    pub fn raters(&self, row: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let span = self.offsets[row] as usize..self.offsets[row + 1] as usize;
        self.user[span.clone()].iter().map(|&u| u as usize).zip(self.deviation[span].iter().copied())
    }
}

struct FoldedUserKnn<'a> {
    table: &'a UserKnn,
    index: &'a UserIndex,
    neighbours: Neighbours,
    movies: usize,
}

impl Part for UserKnn {
    fn fold_in<'a>(&'a self, cx: &Context<'a>) -> Box<dyn Folded + 'a> {
        let index = self.by_movie(cx.catalogue.len());
        Box::new(FoldedUserKnn { table: self, index, neighbours: self.neighbours(index, &cx.ratings.by_row), movies: cx.catalogue.len() })
    }

    fn validate(&self, n: usize) -> Result<()> {
        validate_csr("user_knn pool", &self.offsets, None, &self.rows, self.half_stars.len(), n)?;
        if let Some(h) = self.half_stars.iter().find(|&&h| h > 20) {
            return Err(Error::InvalidModel(format!("user_knn pool rating of {h} half-stars is above 20")));
        }
        if self.k == 0 || self.k > 100_000 {
            return Err(Error::InvalidModel(format!("user_knn k is {}, outside 1..=100000", self.k)));
        }
        check_range("user_knn shrinkage", self.shrink, 0.0, 1e6)
    }

    fn prepare(&self, movies: usize) {
        self.by_movie(movies);
    }
}

impl Folded for FoldedUserKnn<'_> {
    fn scores(&self) -> Vec<f32> {
        self.table.scores(self.index, &self.neighbours, self.movies)
    }

    /// "12 viewers with taste like yours rated it, 9 above their average".
    fn reason(&self, row: usize) -> Option<Reason> {
        let (rated, liked) = self.table.support(self.index, &self.neighbours, row);
        (rated > 0).then_some(Reason::SimilarViewers { rated, liked })
    }
}
