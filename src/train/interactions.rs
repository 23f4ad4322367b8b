//! The training ratings indexed both ways: by user and by movie, as compressed sparse rows over
//! dense indices.

use std::collections::HashMap;

use crate::catalogue::MovieId;
use crate::error::{Error, Result};
use crate::eval::{validation_fold, RatingRecord};

/// Ratings as two compressed sparse row tables over dense user and item indices.
#[derive(Clone, Debug)]
pub struct Interactions {
    /// User ids in row order.
    pub users: Vec<u32>,
    /// Movie ids in row order (ascending).
    pub items: Vec<MovieId>,
    pub(crate) by_user: Csr,
    pub(crate) by_item: Csr,
}

/// One row of ratings: the other side's rows and the ratings, parallel.
pub(crate) type Slices<'a> = (&'a [u32], &'a [f32]);

#[derive(Clone, Debug, Default)]
pub(crate) struct Csr {
    pub(crate) offsets: Vec<usize>,
    pub(crate) index: Vec<u32>,
    pub(crate) rating: Vec<f32>,
}

impl Csr {
    fn build(rows: usize, triples: &[(u32, u32, f32)]) -> Self {
        let mut offsets = vec![0usize; rows + 1];
        for &(r, _, _) in triples {
            offsets[r as usize + 1] += 1;
        }
        for i in 0..rows {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut index = vec![0u32; triples.len()];
        let mut rating = vec![0f32; triples.len()];
        for &(r, c, v) in triples {
            let at = fill[r as usize];
            index[at] = c;
            rating[at] = v;
            fill[r as usize] += 1;
        }
        Self { offsets, index, rating }
    }

    fn row(&self, r: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let (index, rating) = self.slices(r);
        index.iter().map(|&i| i as usize).zip(rating.iter().copied())
    }

    /// Row `r` as `(other-side rows, ratings)`.
    pub(crate) fn slices(&self, r: usize) -> Slices<'_> {
        let span = self.offsets[r]..self.offsets[r + 1];
        (&self.index[span.clone()], &self.rating[span])
    }
}

/// A hasher for the integer ids of training data (Fx-style multiply-rotate). The default SipHash
/// resists adversarial keys, which a trainer's own input is not, at several times the cost: the
/// (user, movie) map of 25M ratings is the largest table the trainer builds.
#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

type IdMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<IdHasher>>;

impl Interactions {
    /// Indexes ratings; a repeated (user, movie) keeps the latest by timestamp.
    pub fn new(ratings: &[RatingRecord]) -> Result<Self> {
        if ratings.is_empty() {
            return Err(Error::NotEnoughData("no ratings to train on".into()));
        }
        let mut latest: IdMap<(u32, MovieId), (i64, f32)> = IdMap::with_capacity_and_hasher(ratings.len(), Default::default());
        for r in ratings {
            let e = latest.entry((r.user, r.movie)).or_insert((r.timestamp, r.rating));
            if r.timestamp >= e.0 {
                *e = (r.timestamp, r.rating);
            }
        }
        let mut users: Vec<u32> = latest.keys().map(|k| k.0).collect();
        users.sort_unstable();
        users.dedup();
        let mut items: Vec<MovieId> = latest.keys().map(|k| k.1).collect();
        items.sort_unstable();
        items.dedup();
        let user_row: IdMap<u32, u32> = users.iter().enumerate().map(|(i, &u)| (u, i as u32)).collect();
        let item_row: IdMap<MovieId, u32> = items.iter().enumerate().map(|(i, &m)| (m, i as u32)).collect();
        let mut triples: Vec<(u32, u32, f32)> = latest.into_iter().map(|((u, m), (_, r))| (user_row[&u], item_row[&m], r)).collect();
        triples.sort_unstable_by_key(|t| (t.0, t.1));
        let by_user = Csr::build(users.len(), &triples);
        let swapped: Vec<(u32, u32, f32)> = triples.iter().map(|&(u, i, r)| (i, u, r)).collect();
        let by_item = Csr::build(items.len(), &swapped);
        Ok(Self { users, items, by_user, by_item })
    }

    /// Number of distinct (user, movie) ratings.
    pub fn len(&self) -> usize {
        self.by_user.index.len()
    }

    /// True when there is no rating.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Ratings of user row `u` as `(item row, rating)`.
    pub fn user_ratings(&self, u: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        self.by_user.row(u)
    }

    /// Ratings of item row `i` as `(user row, rating)`.
    pub fn item_ratings(&self, i: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        self.by_item.row(i)
    }

    pub(crate) fn mean(&self) -> f32 {
        (self.by_user.rating.iter().map(|&r| r as f64).sum::<f64>() / self.len() as f64) as f32
    }
}

/// The ratings of a hash sample of about `max_users` users (the same users every time, for the
/// same `salt`), with the sample's and the log's user counts; `None` when the log has no more
/// users than that. A user is kept or left whole, so every kept history is complete.
pub fn user_sample(ratings: &[RatingRecord], max_users: usize, salt: u32) -> Option<(Vec<RatingRecord>, usize, usize)> {
    let users: std::collections::HashSet<u32> = ratings.iter().map(|r| r.user).collect();
    let max_users = max_users.max(1);
    if users.len() <= max_users {
        return None;
    }
    let every = users.len().div_ceil(max_users) as u32;
    let kept = |u: u32| validation_fold(u ^ salt, every) == 0;
    let sample: Vec<RatingRecord> = ratings.iter().filter(|r| kept(r.user)).cloned().collect();
    let sampled = users.iter().filter(|&&u| kept(u)).count();
    Some((sample, sampled, users.len()))
}
