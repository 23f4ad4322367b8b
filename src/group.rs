//! Movie night: one list for two to four people (Masthoff's group aggregation strategies; the
//! fairness-aware one after Lin et al. 2017).
//!
//! Each member is folded in alone and ranked by the chosen method; their scores are
//! standardised over the movies the group may be shown (none any member rated or excluded), so
//! a member whose method gives large numbers does not outvote the others. The aggregation then
//! decides: the mean of the members' standardised scores, their minimum (least misery), or a
//! greedy fair pick that favours, at each place, the members the list so far serves least. A
//! pick "serves" a member when it is in that member's own top [`SERVES_DEPTH`] of the
//! candidates; the list says whose taste each pick serves.

use serde::{Deserialize, Serialize};

/// Most members of a group.
pub const MAX_MEMBERS: usize = 8;
/// A pick serves a member when it is within their own best this many candidates.
pub const SERVES_DEPTH: usize = 50;
/// How much more the fair aggregation weighs a member the list has not served yet: a member
/// served `n` times so far weighs `1 / (1 + FAIRNESS * n)`.
const FAIRNESS: f64 = 1.0;
/// The fair aggregation chooses among the best `FAIR_POOL_PER_PICK * count` by the plain mean,
/// and at least [`FAIR_POOL_MIN`].
const FAIR_POOL_PER_PICK: usize = 4;
/// See [`FAIR_POOL_PER_PICK`].
const FAIR_POOL_MIN: usize = 200;

/// How the members' scores become the group's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Aggregation {
    /// The mean of the members' standardised scores.
    Average,
    /// The lowest of them: nobody is made miserable.
    LeastMisery,
    /// Greedy: each place goes to the best weighted mean, members served less so far weighing more.
    #[default]
    Fair,
}

impl Aggregation {
    /// Every aggregation, as the evaluation lists them.
    pub const ALL: [Aggregation; 3] = [Aggregation::Average, Aggregation::LeastMisery, Aggregation::Fair];

    /// Name in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Aggregation::Average => "average",
            Aggregation::LeastMisery => "least misery",
            Aggregation::Fair => "fair",
        }
    }
}

/// Ranks `candidates` (rows) for a group: `scores[m][row]` is member `m`'s score. Returns up to
/// `count` `(row, group score, members served)`, best first; ties by ascending `id(row)`.
pub fn aggregate(
    scores: &[Vec<f32>],
    candidates: &[usize],
    count: usize,
    aggregation: Aggregation,
    id: impl Fn(usize) -> u32,
) -> Vec<(usize, f32, Vec<usize>)> {
    if scores.is_empty() || candidates.is_empty() {
        return Vec::new();
    }
    let members = scores.len();
    // Standardised scores, candidate-major: z[c * members + m].
    let mut z = vec![0.0f64; candidates.len() * members];
    let mut serves = vec![false; candidates.len() * members];
    for (m, s) in scores.iter().enumerate() {
        let n = candidates.len() as f64;
        let mean = candidates.iter().map(|&r| s[r] as f64).sum::<f64>() / n;
        let var = candidates.iter().map(|&r| (s[r] as f64 - mean).powi(2)).sum::<f64>() / n;
        let sd = if var > 0.0 { var.sqrt() } else { 1.0 };
        for (c, &r) in candidates.iter().enumerate() {
            z[c * members + m] = (s[r] as f64 - mean) / sd;
        }
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        order.sort_unstable_by(|&a, &b| s[candidates[b]].total_cmp(&s[candidates[a]]).then(id(candidates[a]).cmp(&id(candidates[b]))));
        for &c in order.iter().take(SERVES_DEPTH) {
            serves[c * members + m] = true;
        }
    }
    let served_by = |c: usize| (0..members).filter(|&m| serves[c * members + m]).collect::<Vec<usize>>();
    let better = |a: (usize, f64), b: (usize, f64)| a.1.total_cmp(&b.1).then(id(candidates[b.0]).cmp(&id(candidates[a.0])));
    match aggregation {
        Aggregation::Average | Aggregation::LeastMisery => {
            let value = |c: usize| {
                let row = &z[c * members..(c + 1) * members];
                match aggregation {
                    Aggregation::Average => row.iter().sum::<f64>() / members as f64,
                    _ => row.iter().copied().fold(f64::INFINITY, f64::min),
                }
            };
            let mut all: Vec<(usize, f64)> = (0..candidates.len()).map(|c| (c, value(c))).collect();
            all.sort_unstable_by(|&a, &b| better(b, a));
            all.into_iter().take(count).map(|(c, v)| (candidates[c], v as f32, served_by(c))).collect()
        }
        Aggregation::Fair => {
            // The greedy pass is count x pool x members: the pool is the best by the plain mean,
            // deep enough that a member the list under-serves still finds their movies in it.
            let mut pool: Vec<(usize, f64)> =
                (0..candidates.len()).map(|c| (c, z[c * members..(c + 1) * members].iter().sum::<f64>())).collect();
            pool.sort_unstable_by(|&a, &b| better(b, a));
            pool.truncate((FAIR_POOL_PER_PICK * count).max(FAIR_POOL_MIN));
            let pool: Vec<usize> = pool.into_iter().map(|(c, _)| c).collect();
            let mut served = vec![0usize; members];
            let mut taken = vec![false; candidates.len()];
            let mut out = Vec::with_capacity(count);
            while out.len() < count.min(pool.len()) {
                let weights: Vec<f64> = served.iter().map(|&n| 1.0 / (1.0 + FAIRNESS * n as f64)).collect();
                let total: f64 = weights.iter().sum();
                let best = pool
                    .iter()
                    .copied()
                    .filter(|&c| !taken[c])
                    .map(|c| (c, (0..members).map(|m| weights[m] * z[c * members + m]).sum::<f64>() / total))
                    .reduce(|a, b| if better(b, a).is_gt() { b } else { a })
                    .expect("a candidate is left");
                taken[best.0] = true;
                let who = served_by(best.0);
                for &m in &who {
                    served[m] += 1;
                }
                out.push((candidates[best.0], best.1 as f32, who));
            }
            out
        }
    }
}
