//! Movie night, measured (issue 16): synthetic groups of held-out users, random or of similar
//! taste, get one list through [`Recommender::recommend_group`]; a pick is a hit when it is
//! relevant (a hidden rating >= [`RELEVANT_AT`](super::RELEVANT_AT)) to every member, or to a majority; and each
//! member's own NDCG@10 of the group's list, averaged and at its lowest. Candidates
//! exclude every member's given movies, as in the main protocol.

use std::collections::{HashMap, HashSet};

use super::{ndcg_at_k, relevant_rows, TestUser, K};
use crate::catalogue::MovieId;
use crate::group::Aggregation;
use crate::rank::RecommendOptions;
use crate::recommender::Recommender;
use crate::synthetic::xorshift64;

/// How the members of a synthetic group are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    /// Seeded shuffle of the held-out users, cut into groups.
    Random,
    /// Each group: the first user left and the most similar others left (cosine of their
    /// folded-in star-model vectors).
    Similar,
}

impl Grouping {
    /// Name in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Grouping::Random => "random",
            Grouping::Similar => "similar taste",
        }
    }
}

/// One aggregation on one kind and size of group: per-group NDCG@10 lists.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupPoint {
    /// The aggregation.
    pub aggregation: Aggregation,
    /// How groups were formed.
    pub grouping: Grouping,
    /// Members per group.
    pub size: usize,
    /// NDCG@10 with hits relevant to every member (groups with such a movie hidden).
    pub all: Vec<f64>,
    /// NDCG@10 with hits relevant to more than half the members.
    pub majority: Vec<f64>,
    /// Per group, the mean over members of each member's own NDCG@10 of the group's list
    /// (members with a relevant hidden movie): how well it serves the average member.
    pub member_mean: Vec<f64>,
    /// Per group, the lowest member's NDCG@10: how well it serves the least served.
    pub member_min: Vec<f64>,
}

/// The groups of `size` from `test`.
pub fn groups(rec: &Recommender, test: &[TestUser], size: usize, grouping: Grouping) -> Vec<Vec<usize>> {
    let mut left: Vec<usize> = (0..test.len()).collect();
    match grouping {
        Grouping::Random => {
            let mut state = 0x2545_f491_4f6c_dd1du64 ^ size as u64;
            for i in (1..left.len()).rev() {
                left.swap(i, (xorshift64(&mut state) % (i as u64 + 1)) as usize);
            }
            left.chunks_exact(size).map(|c| c.to_vec()).collect()
        }
        Grouping::Similar => {
            let vectors: Vec<Vec<f32>> =
                test.iter().map(|u| rec.fold_in(&u.given).explicit_factors().unwrap_or_default().to_vec()).collect();
            let cosine = |a: &[f32], b: &[f32]| {
                let (mut d, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
                for (x, y) in a.iter().zip(b) {
                    d += (*x as f64) * (*y as f64);
                    na += (*x as f64).powi(2);
                    nb += (*y as f64).powi(2);
                }
                if na > 0.0 && nb > 0.0 {
                    d / (na.sqrt() * nb.sqrt())
                } else {
                    -1.0
                }
            };
            let mut out = Vec::new();
            while left.len() >= size {
                let seed = left.remove(0);
                let mut near: Vec<(usize, f64)> = left.iter().enumerate().map(|(i, &u)| (i, cosine(&vectors[seed], &vectors[u]))).collect();
                near.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                let mut picked: Vec<usize> = near.iter().take(size - 1).map(|&(i, _)| i).collect();
                picked.sort_unstable_by(|a, b| b.cmp(a));
                let mut group = vec![seed];
                for i in picked {
                    group.push(left.remove(i));
                }
                out.push(group);
            }
            out
        }
    }
}

/// Every aggregation on groups of each of `sizes`, random and similar.
pub fn evaluate_groups(rec: &Recommender, test: &[TestUser], sizes: &[usize]) -> crate::Result<Vec<GroupPoint>> {
    let mut points = Vec::new();
    for &size in sizes {
        for grouping in [Grouping::Random, Grouping::Similar] {
            let gs = groups(rec, test, size, grouping);
            for aggregation in Aggregation::ALL {
                let mut point = GroupPoint {
                    aggregation,
                    grouping,
                    size,
                    all: Vec::new(),
                    majority: Vec::new(),
                    member_mean: Vec::new(),
                    member_min: Vec::new(),
                };
                for g in &gs {
                    let members: Vec<Vec<crate::ratings::RawRating>> = g.iter().map(|&u| test[u].given.clone()).collect();
                    let list = rec.recommend_group(&members, &RecommendOptions { count: K, ..Default::default() }, aggregation)?;
                    let rows: Vec<Option<usize>> = list.items.iter().map(|p| rec.row(MovieId(p.movie.movie_id))).collect();
                    let ndcg = |relevant: &HashSet<usize>| {
                        ndcg_at_k(rows.iter().map(|r| r.is_some_and(|r| relevant.contains(&r))), relevant.len())
                    };
                    let mut liked: HashMap<usize, usize> = HashMap::new();
                    let mut each = Vec::new();
                    for &u in g {
                        let mine = relevant_rows(rec, &test[u]);
                        if !mine.is_empty() {
                            each.push(ndcg(&mine));
                        }
                        for m in mine {
                            *liked.entry(m).or_default() += 1;
                        }
                    }
                    if !each.is_empty() {
                        point.member_mean.push(each.iter().sum::<f64>() / each.len() as f64);
                        point.member_min.push(each.iter().copied().fold(f64::INFINITY, f64::min));
                    }
                    for (need, into) in [(size, &mut point.all), (size / 2 + 1, &mut point.majority)] {
                        let relevant: HashSet<usize> = liked.iter().filter(|&(_, &n)| n >= need).map(|(&m, _)| m).collect();
                        if relevant.is_empty() {
                            continue;
                        }
                        into.push(ndcg(&relevant));
                    }
                }
                points.push(point);
            }
        }
    }
    Ok(points)
}
