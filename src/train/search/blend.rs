//! The search's validation cases and how a choice is judged on them: each case's shortlist
//! scored by every blended part ([`score`]), a blend's NDCG@10 per case, the paired rule that
//! says a candidate is clearly better (`better`), and the coordinate search of the hybrid's
//! per-bucket weights ([`search_blend`]).

use std::collections::HashSet;

use rayon::prelude::*;

use super::{Choice, Inner, ALPHA, COHERENCE, EXPLICIT_WEIGHT, HALF_LIFE, KINDS};
use crate::error::Result;
use crate::eval::{candidate_rows, given_rows, relevant_rows, shorten, TestUser};
use crate::methods::hybrid::{standardise, BlendWeights, HybridWeights};
use crate::methods::{Method, REGISTRY};
use crate::rank::top_k;
use crate::recommender::Recommender;

/// Rows of each part's top kept for a case: the blend's top 10 lies among them (a movie
/// outside every part's top few hundred cannot outscore the movies inside), so candidates are
/// scored over these shortlists instead of the whole catalogue.
const SHORTLIST: usize = 300;

/// Multipliers a weight is tried at, in each pass of the coordinate search.
const STEPS: [f32; 4] = [0.0, 0.5, 1.5, 2.5];
/// How many standard errors of the paired per-case differences a gain must clear to move a
/// choice (`better`).
pub const Z: f64 = 2.0;

/// One validation visitor of one kind: what the page would fold in, what they went on to like.
pub(super) struct Case {
    fold: usize,
    kind: usize,
    bucket: usize,
    given: Vec<crate::ratings::RawRating>,
    /// Catalogue rows of the given ratings: the list may hold any rated row but these (a set,
    /// not the candidate list itself: 20,000 cases of a 62,000-movie catalogue would hold 10 GB).
    given_rows: HashSet<usize>,
    /// For an earlier visitor, the last year whose movies the list may hold.
    released_by: Option<u16>,
    relevant: HashSet<usize>,
}

/// Every case's shortlist and each blended part's standardised scores on it.
pub(super) struct Scored {
    /// Blend slots of the parts present.
    slots: Vec<usize>,
    /// Per case: shortlisted rows, and per part (in `slots` order) their scores.
    cases: Vec<(Vec<usize>, Vec<Vec<f32>>)>,
}

/// Every case scored by its inner fold's model with the scalars of `choice`.
pub(super) fn score(inner: &[Inner], cases: &[Case], choice: Choice) -> Result<Scored> {
    let recs: Vec<Recommender> = inner
        .iter()
        .map(|f| {
            let mut m = f.models.iter().find(|(a, _)| *a == choice[ALPHA]).unwrap_or(&f.models[0]).1.clone();
            if let Some(i) = m.mf.implicit.as_mut() {
                (i.recency_half_life, i.explicit_weight, i.recency_coherence) =
                    (choice[HALF_LIFE], choice[EXPLICIT_WEIGHT], choice[COHERENCE]);
            }
            Recommender::new(m)
        })
        .collect();
    let parts: Vec<(usize, Method)> = REGISTRY
        .iter()
        .filter_map(|e| e.blend.filter(|_| recs[0].model().parts().get(e.method).is_some()).map(|slot| (slot, e.method)))
        .collect();
    let out = cases
        .par_iter()
        .map(|c| {
            let rec = &recs[c.fold];
            let visitor = rec.fold_in(&c.given);
            let full: Vec<Vec<f32>> = parts.iter().map(|&(_, m)| Ok(standardise(rec.scores(&visitor, m)?).0)).collect::<Result<_>>()?;
            // Built while the case is scored, once for all its parts, and dropped with it.
            let candidates: Vec<usize> = candidate_rows(rec, &c.given_rows, c.released_by).collect();
            let mut rows: Vec<usize> = full
                .iter()
                .flat_map(|z| {
                    top_k(candidates.iter().map(|&r| (r, z[r])), SHORTLIST, |r| crate::MovieId(r as u32)).into_iter().map(|(r, _)| r)
                })
                .collect();
            rows.sort_unstable();
            rows.dedup();
            let on_list = full.iter().map(|z| rows.iter().map(|&r| z[r]).collect()).collect();
            Ok((rows, on_list))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Scored { slots: parts.iter().map(|p| p.0).collect(), cases: out })
}

/// The cases of one inner fit's validation users: the history kinds for a hash fold, the era
/// kinds for the era fold.
pub(super) fn cases_of(rec: &Recommender, users: &[TestUser], fold: usize, era: bool) -> Vec<Case> {
    let mut out = Vec::new();
    for (kind, &(_, keep, of_era)) in KINDS.iter().enumerate() {
        if of_era != era {
            continue;
        }
        for user in shorten(users, keep) {
            let given = given_rows(rec, &user);
            let relevant: HashSet<usize> = relevant_rows(rec, &user).into_iter().filter(|r| !given.contains(r)).collect();
            if relevant.is_empty() || user.given.is_empty() {
                continue;
            }
            let bucket = match rec.fold_in(&user.given).used_ratings() {
                0..=4 => 0,
                5..=19 => 1,
                _ => 2,
            };
            out.push(Case { fold, kind, bucket, given: user.given, given_rows: given, relevant, released_by: user.released_by });
        }
    }
    out
}

/// NDCG@10 of case `at` under blend `w` (the hybrid's blend, as the runtime computes it, over
/// the case's shortlist).
fn case_ndcg(scored: &Scored, at: usize, case: &Case, w: &BlendWeights) -> f64 {
    let (rows, parts) = &scored.cases[at];
    let mut blend = vec![0.0f32; rows.len()];
    for (slot, z) in scored.slots.iter().zip(parts) {
        let weight = w.0[*slot];
        if weight != 0.0 {
            blend.iter_mut().zip(z).for_each(|(b, z)| *b += weight * z);
        }
    }
    let top = top_k(rows.iter().copied().zip(blend), 10, |r| crate::MovieId(r as u32));
    let dcg: f64 = top.iter().enumerate().filter(|(_, (r, _))| case.relevant.contains(r)).map(|(i, _)| 1.0 / ((i + 2) as f64).log2()).sum();
    let ideal: f64 = (0..case.relevant.len().min(10)).map(|i| 1.0 / ((i + 2) as f64).log2()).sum();
    dcg / ideal
}

/// Each case's NDCG@10 under `hybrid`.
pub(super) fn per_case(scored: &Scored, cases: &[Case], hybrid: &HybridWeights) -> Vec<f64> {
    cases.iter().enumerate().map(|(i, c)| case_ndcg(scored, i, c, &hybrid.buckets[c.bucket])).collect()
}

/// Mean NDCG@10 per kind of visitor.
pub(super) fn kind_means(per_case: &[f64], cases: &[Case]) -> Vec<f64> {
    let mut sums = vec![(0.0, 0usize); KINDS.len()];
    for (x, c) in per_case.iter().zip(cases) {
        sums[c.kind].0 += x;
        sums[c.kind].1 += 1;
    }
    sums.into_iter().map(|(s, n)| s / n.max(1) as f64).collect()
}

/// Mean and standard error of the paired differences `a - b` over the cases `pick` keeps.
fn paired(a: &[f64], b: &[f64], pick: impl Fn(usize) -> bool) -> (f64, f64) {
    let d: Vec<f64> = (0..a.len()).filter(|&i| pick(i)).map(|i| a[i] - b[i]).collect();
    let n = d.len().max(1) as f64;
    let mean = d.iter().sum::<f64>() / n;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, (var / n).sqrt())
}

/// The mean per-case gain of `a` over `b`.
pub(super) fn gain(a: &[f64], b: &[f64]) -> f64 {
    paired(a, b, |_| true).0
}

/// Whether `a` is clearly better than `b` on the same cases: its mean gain over all cases is
/// more than [`Z`] standard errors of the paired differences, and it holds for every kind of
/// visitor (no kind's mean is lower). With a few hundred validation users a figure moves by
/// several percent from noise alone; a paired test sees through that, where comparing means
/// (the first searches here) chased noise and lost on held-out users. Requiring every kind to
/// hold is `../shared/EVAL.md`'s rule ("a choice is kept only if it holds on all of them"): a
/// move that wins for today's users by what loses for another era's (the earlier rule let a
/// kind lose up to two standard errors, and the era kinds, with fewer users, never stopped
/// anything) is not taken.
pub(super) fn better(a: &[f64], b: &[f64], cases: &[Case]) -> bool {
    let (mean, se) = paired(a, b, |_| true);
    mean > Z * se && mean > 0.0 && no_kind_worse(a, b, cases)
}

/// Whether no kind of visitor is worse under `a` than under `b`.
fn no_kind_worse(a: &[f64], b: &[f64], cases: &[Case]) -> bool {
    (0..KINDS.len()).all(|k| paired(a, b, |i| cases[i].kind == k).0 >= 0.0)
}

/// Coordinate search of each bucket's weights, `passes` times over the parts: each weight
/// tried at [`STEPS`] times itself (a zero weight at a tenth and a third of the bucket's
/// total). A bucket's weights change only its own cases' lists; a move is judged on every case
/// (a kind of visitor spans buckets), paired against the weights found so far: kept when
/// [`better`]; a weight is set to 0 when that costs nothing (no loss overall, no kind clearly
/// worse): a part earns its place in the blend.
pub(super) fn search_blend(scored: &Scored, cases: &[Case], start: HybridWeights, passes: usize) -> HybridWeights {
    let mut out = start;
    let mut current = per_case(scored, cases, &out);
    for bucket in 0..3 {
        let mine: Vec<usize> = (0..cases.len()).filter(|&i| cases[i].bucket == bucket).collect();
        if mine.is_empty() {
            continue;
        }
        let with = |w: &BlendWeights, base: &[f64]| {
            let mut v = base.to_vec();
            for &i in &mine {
                v[i] = case_ndcg(scored, i, &cases[i], w);
            }
            v
        };
        let mut w = out.buckets[bucket];
        for _ in 0..passes {
            let mut moved = false;
            for &slot in &scored.slots {
                let total: f32 = w.0.iter().sum::<f32>().max(1e-3);
                let value = w.0[slot];
                let tries: Vec<f32> =
                    if value == 0.0 { vec![0.1 * total, 0.33 * total] } else { STEPS.iter().map(|m| m * value).collect() };
                for v in tries {
                    let mut candidate = w;
                    candidate.0[slot] = v;
                    if candidate.0.iter().sum::<f32>() <= 0.0 {
                        continue;
                    }
                    let figures = with(&candidate, &current);
                    let free = v == 0.0 && gain(&figures, &current) >= 0.0 && no_kind_worse(&figures, &current, cases);
                    if better(&figures, &current, cases) || free {
                        (w, current, moved) = (candidate, figures, true);
                    }
                }
            }
            if !moved {
                break;
            }
        }
        out.buckets[bucket] = w;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` cases of the 20+ bucket, of kinds 0, 1, 2 in turn, with `relevant` rows.
    fn cases_of_kinds(n: usize, relevant: HashSet<usize>) -> Vec<Case> {
        (0..n)
            .map(|i| Case {
                fold: 0,
                kind: i % 3,
                bucket: 2,
                given: Vec::new(),
                given_rows: HashSet::new(),
                relevant: relevant.clone(),
                released_by: None,
            })
            .collect()
    }

    /// Cases whose relevant movies are rows 0..3, scored by a part that puts them first and a
    /// part of pure noise.
    fn fixture() -> (Scored, Vec<Case>) {
        let n = 50;
        let mut seed = 7u64;
        let mut noise = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        let cases = cases_of_kinds(12, (0..3).collect());
        let good: Vec<Vec<f32>> = cases.iter().map(|_| (0..n).map(|r| if r < 3 { 1.0 } else { 0.0 } + 0.3 * noise()).collect()).collect();
        let bad: Vec<Vec<f32>> = cases.iter().map(|_| (0..n).map(|_| 3.0 * noise()).collect()).collect();
        let rows: Vec<usize> = (0..n).collect();
        (Scored { slots: vec![0, 1], cases: good.into_iter().zip(bad).map(|(g, b)| (rows.clone(), vec![g, b])).collect() }, cases)
    }

    #[test]
    fn a_move_must_hold_for_every_kind_of_visitor() {
        // 60 cases of three kinds; the candidate gains 0.1 on every case of kinds 0 and 1 (a
        // gain far beyond two standard errors overall) and loses a little on kind 2.
        let cases = cases_of_kinds(60, HashSet::new());
        let base: Vec<f64> = (0..60).map(|i| 0.2 + 0.001 * (i % 7) as f64).collect();
        let gains_but_one_kind_loses: Vec<f64> =
            base.iter().enumerate().map(|(i, b)| if i % 3 == 2 { b - 0.002 } else { b + 0.1 }).collect();
        assert!(gain(&gains_but_one_kind_loses, &base) > 0.05);
        assert!(!better(&gains_but_one_kind_loses, &base, &cases), "a loss for one kind of visitor vetoes the move");
        let holds_for_all: Vec<f64> = base.iter().enumerate().map(|(i, b)| if i % 3 == 2 { *b } else { b + 0.1 }).collect();
        assert!(better(&holds_for_all, &base, &cases), "a gain that costs no kind anything is taken");
    }

    #[test]
    fn a_weight_that_hurts_on_validation_is_dropped_and_one_that_helps_is_kept() {
        let (scored, cases) = fixture();
        let start = HybridWeights::uniform(BlendWeights::from_pairs(&[(Method::Mf, 1.0), (Method::ItemKnn, 1.0)]));
        let before = per_case(&scored, &cases, &start);
        let learned = search_blend(&scored, &cases, start, 3);
        let w = learned.buckets[2];
        assert_eq!(w.of(Method::ItemKnn), 0.0, "the noise part is dropped: {w:?}");
        assert!(w.of(Method::Mf) > 0.0, "the useful part stays: {w:?}");
        let after = per_case(&scored, &cases, &learned);
        assert!(better(&after, &before, &cases), "and the result is clearly better on validation");
        assert!(kind_means(&after, &cases).iter().zip(kind_means(&before, &cases)).all(|(a, b)| *a >= b), "and no kind is worse");
        assert_eq!(learned.buckets[0], start.buckets[0], "buckets without cases keep their weights");
    }
}
