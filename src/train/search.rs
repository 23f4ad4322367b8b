//! The choices the trainer learns on the data it trains on: the hybrid's weights, the recency
//! half-life, the explicit blend in the ranking, and the implicit model's confidence slope.
//!
//! Validation users are carved from the training users, a fifth at a time by a hash of their
//! id ([`validation_fold`]), five inner folds in all, so every training user validates once; a
//! model is fitted on the rest of each, and every candidate is scored by folding the
//! validation users in as visitors of several kinds (every given rating, the latest 20, 5 and
//! 2): the protocol's short histories, and the page's first minute. A candidate's figure on each kind is its NDCG@10
//! relative to the starting point's, and the search keeps the candidate with the best *worst*
//! kind, so that a choice is kept only if it holds for visitors unlike the ones it was fitted
//! on. A change is kept only when it gains more than [`MIN_GAIN`] (with a few hundred users,
//! smaller gains are noise: a search that chased them lost on held-out users). Each
//! rating-count bucket of the hybrid sees only its own visitors (under 5 ratings: the
//! latest 2; 5 to 19: the latest 5; 20 and more: the rest), so its weights are searched apart.
//! A weight that does not help its bucket is set to 0.

use std::collections::HashSet;
use std::time::Instant;

use rayon::prelude::*;

use super::pack::build_model;
use super::settings::{Checked, Learn, TrainSettings};
use crate::data::{MovieRecord, TagRecord};
use crate::error::Result;
use crate::eval::{holdout, shorten, validation_fold, FoldSplit, RatingRecord, TestUser, RELEVANT_AT};
use crate::methods::hybrid::{standardise, BlendWeights, HybridWeights};
use crate::methods::{Method, REGISTRY};
use crate::model::{Learned, Model};
use crate::rank::top_k;
use crate::recommender::Recommender;

/// `settings` with the `learned` choices in place (and no further search).
pub fn apply(learned: &Learned, settings: &TrainSettings) -> TrainSettings {
    let mut s = settings.clone();
    if let Some(i) = s.implicit.as_mut() {
        i.recency_half_life = learned.recency_half_life;
        i.explicit_weight = learned.explicit_weight;
        i.alpha = learned.alpha;
    }
    s.hybrid = learned.hybrid;
    s.learn = Learn::Off;
    s
}

/// The kinds of validation visitor: a name and how many of the latest given ratings they keep.
const KINDS: [(&str, usize); 4] = [("all given", usize::MAX), ("latest 20", 20), ("latest 5", 5), ("latest 2", 2)];
/// Inner folds of the training users.
const INNER_FOLDS: u32 = 5;
/// Half-lives, explicit weights and confidence slopes tried.
const HALF_LIVES: [f32; 5] = [0.0, 2.0, 5.0, 10.0, 30.0];
const EXPLICIT_WEIGHTS: [f32; 4] = [0.0, 0.02, 0.05, 0.1];
const ALPHAS: [f32; 4] = [0.25, 0.5, 1.0, 2.0];
/// Multipliers a weight is tried at, in each pass of the coordinate search.
const STEPS: [f32; 4] = [0.0, 0.5, 1.5, 2.5];
/// The smallest relative gain of the worst-case figure that moves a choice.
pub const MIN_GAIN: f64 = 0.005;
/// Rows of each part's top kept for a case: the blend's top 10 lies among them (a movie
/// outside every part's top few hundred cannot outscore the movies inside), so candidates are
/// scored over these shortlists instead of the whole catalogue.
const SHORTLIST: usize = 300;

/// One validation visitor of one kind: what the page would fold in, what they went on to like.
struct Case {
    fold: usize,
    kind: usize,
    bucket: usize,
    given: Vec<crate::ratings::RawRating>,
    /// Rows the list may hold (in the catalogue, not given).
    candidates: Vec<usize>,
    relevant: HashSet<usize>,
}

/// Every case's shortlist and each blended part's standardised scores on it.
struct Scored {
    /// Blend slots of the parts present.
    slots: Vec<usize>,
    /// Per case: shortlisted rows, and per part (in `slots` order) their scores.
    cases: Vec<(Vec<usize>, Vec<Vec<f32>>)>,
}

/// One inner fold: its split, and its model at each confidence slope fitted so far.
struct Inner {
    split: FoldSplit,
    models: Vec<(f32, Model)>,
}

/// Learns the choices on validation users carved from `train`, starting from `settings`,
/// within about `budget_s` seconds (the step under way finishes; later steps keep their
/// starting values).
pub fn learn(
    dataset: &str,
    movies: &[MovieRecord],
    tags: &[TagRecord],
    train: &[RatingRecord],
    settings: &Checked,
    budget_s: f64,
) -> Result<Learned> {
    let started = Instant::now();
    let start = TrainSettings { learn: Learn::Off, progress: false, ..(**settings).clone() };
    let checked = start.check()?;
    let progress = |what: &str| {
        if settings.progress {
            eprintln!("  search: {what} ({:.0} s)", started.elapsed().as_secs_f64());
        }
    };
    // The inner folds are fitted side by side: the neural and user kNN parts train on one
    // thread each, so this is where the cores pay off. Each fit is seeded, so the result
    // does not depend on the order they finish in.
    let fitted: Vec<(Inner, Vec<Case>)> = (0..INNER_FOLDS)
        .into_par_iter()
        .map(|k| {
            let split = holdout(train, |u| validation_fold(u, INNER_FOLDS) == k);
            let model = build_model(dataset, movies, tags, &split.train, &checked)?;
            let cases = cases_of(&Recommender::new(model.clone()), &split.test, k as usize);
            let alpha = model.mf.implicit.as_ref().map_or(0.0, |i| i.alpha);
            Ok((Inner { split, models: vec![(alpha, model)] }, cases))
        })
        .collect::<Result<_>>()?;
    let (inner, cases): (Vec<Inner>, Vec<Vec<Case>>) = fitted.into_iter().unzip();
    let cases: Vec<Case> = cases.into_iter().flatten().collect();
    progress(&format!("{INNER_FOLDS} inner folds fitted"));
    let mut inner = inner;
    let implicit = inner[0].models[0].1.mf.implicit.clone();
    let mut choice = (
        implicit.as_ref().map_or(0.0, |i| i.recency_half_life),
        implicit.as_ref().map_or(0.0, |i| i.explicit_weight),
        implicit.as_ref().map_or(0.0, |i| i.alpha),
    );
    let reference = kind_ndcg(&score(&inner, &cases, choice)?, &cases, &start.hybrid);
    let mut hybrid = start.hybrid;
    if implicit.is_some() {
        // The scalars one at a time, each value with the blend re-searched, then the blend
        // once more; a value replaces the current one only if it gains MIN_GAIN.
        for axis in 0..3 {
            if started.elapsed().as_secs_f64() > budget_s {
                progress("out of time: the remaining choices keep their starting values");
                break;
            }
            let values: &[f32] = [&HALF_LIVES[..], &EXPLICIT_WEIGHTS[..], &ALPHAS[..]][axis];
            let at = |v: f32| match axis {
                0 => (v, choice.1, choice.2),
                1 => (choice.0, v, choice.2),
                _ => (choice.0, choice.1, v),
            };
            let mut tried = Vec::new();
            for &v in values {
                let c = at(v);
                fit_alpha(&mut inner, dataset, movies, &start, c.2)?;
                let scored = score(&inner, &cases, c)?;
                let weights = search_blend(&scored, &cases, &reference, hybrid, 1);
                tried.push((worst_case(&kind_ndcg(&scored, &cases, &weights), &reference), c, weights));
            }
            let current = tried.iter().find(|t| t.1 == choice).map_or(f64::NEG_INFINITY, |t| t.0);
            let best = tried.iter().cloned().fold(None::<(f64, (f32, f32, f32), HybridWeights)>, |b, t| match b {
                Some(b) if b.0 >= t.0 => Some(b),
                _ => Some(t),
            });
            if let Some((objective, c, weights)) = best {
                if objective > current * (1.0 + MIN_GAIN) || current == f64::NEG_INFINITY {
                    (choice, hybrid) = (c, weights);
                } else if let Some(t) = tried.iter().find(|t| t.1 == choice) {
                    hybrid = t.2;
                }
            }
            progress(&format!(
                "{} -> {:?} (worst-case ratios {:?})",
                ["half-life", "explicit weight", "alpha"][axis],
                choice,
                tried.iter().map(|t| (t.1, (t.0 * 1000.0).round() / 1000.0)).collect::<Vec<_>>()
            ));
        }
    }
    let scored = score(&inner, &cases, choice)?;
    hybrid = search_blend(&scored, &cases, &reference, hybrid, 3);
    let chosen = kind_ndcg(&scored, &cases, &hybrid);
    Ok(Learned {
        recency_half_life: choice.0,
        explicit_weight: choice.1,
        alpha: choice.2,
        hybrid,
        validation: KINDS.iter().zip(reference.iter().zip(&chosen)).map(|((k, _), (&a, &b))| (k.to_string(), a, b)).collect(),
        users: inner.iter().map(|f| f.split.test.len()).sum(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Fits every inner fold's implicit model at confidence slope `alpha`, if not yet (the other
/// tables do not depend on it).
fn fit_alpha(inner: &mut [Inner], dataset: &str, movies: &[MovieRecord], start: &TrainSettings, alpha: f32) -> Result<()> {
    let mut s = TrainSettings { item_knn: None, content: None, user_knn: None, neural: None, ..start.clone() };
    s.hybrid = HybridWeights::uniform(BlendWeights::from_pairs(&[(Method::Mf, 1.0)]));
    if let Some(i) = s.implicit.as_mut() {
        i.alpha = alpha;
    }
    let s = s.check()?;
    inner.par_iter_mut().filter(|f| !f.models.iter().any(|(a, _)| *a == alpha)).try_for_each(|fold| {
        let refit = build_model(dataset, movies, &[], &fold.split.train, &s)?;
        let mut model = fold.models[0].1.clone();
        model.mf.implicit = refit.mf.implicit;
        fold.models.push((alpha, model));
        Ok(())
    })
}

/// Every case scored by its inner fold's model with `(half-life, explicit weight, alpha)`.
fn score(inner: &[Inner], cases: &[Case], choice: (f32, f32, f32)) -> Result<Scored> {
    let recs: Vec<Recommender> = inner
        .iter()
        .map(|f| {
            let mut m = f.models.iter().find(|(a, _)| *a == choice.2).unwrap_or(&f.models[0]).1.clone();
            if let Some(i) = m.mf.implicit.as_mut() {
                (i.recency_half_life, i.explicit_weight) = (choice.0, choice.1);
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
            let mut rows: Vec<usize> = full
                .iter()
                .flat_map(|z| {
                    top_k(c.candidates.iter().map(|&r| (r, z[r])), SHORTLIST, |r| crate::MovieId(r as u32)).into_iter().map(|(r, _)| r)
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

fn cases_of(rec: &Recommender, users: &[TestUser], fold: usize) -> Vec<Case> {
    let movies = &rec.model().catalogue.movies;
    let mut out = Vec::new();
    for (kind, &(_, keep)) in KINDS.iter().enumerate() {
        for user in shorten(users, keep) {
            let given: HashSet<usize> = user.given.iter().filter_map(|g| rec.row(crate::MovieId(g.movie_id as u32))).collect();
            let relevant: HashSet<usize> = user
                .hidden
                .iter()
                .filter(|&&(_, r)| r >= RELEVANT_AT)
                .filter_map(|&(m, _)| rec.row(m))
                .filter(|&r| movies[r].rating_count > 0 && !given.contains(&r))
                .collect();
            if relevant.is_empty() || user.given.is_empty() {
                continue;
            }
            let candidates = (0..movies.len()).filter(|&r| movies[r].rating_count > 0 && !given.contains(&r)).collect();
            let bucket = match rec.fold_in(&user.given).used_ratings() {
                0..=4 => 0,
                5..=19 => 1,
                _ => 2,
            };
            out.push(Case { fold, kind, bucket, given: user.given, candidates, relevant });
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

/// Mean NDCG@10 per kind of visitor under `hybrid`.
fn kind_ndcg(scored: &Scored, cases: &[Case], hybrid: &HybridWeights) -> Vec<f64> {
    let mut sums = vec![(0.0, 0usize); KINDS.len()];
    for (i, c) in cases.iter().enumerate() {
        sums[c.kind].0 += case_ndcg(scored, i, c, &hybrid.buckets[c.bucket]);
        sums[c.kind].1 += 1;
    }
    sums.into_iter().map(|(s, n)| s / n.max(1) as f64).collect()
}

/// The smallest ratio of a kind's NDCG@10 to the reference's.
fn worst_case(ndcg: &[f64], reference: &[f64]) -> f64 {
    ndcg.iter().zip(reference).filter(|(_, &r)| r > 0.0).map(|(n, r)| n / r).fold(f64::INFINITY, f64::min)
}

/// Coordinate search of each bucket's weights, `passes` times over the parts: each weight
/// tried at [`STEPS`] times itself (a zero weight at a tenth and a third of the bucket's
/// total). A bucket's weights change only its own cases' lists, but a kind of visitor spans
/// buckets (a full history of 12 ratings is in the middle one), so every move is judged on the
/// worst-case figure over all cases, the others scored under the weights found so far: a
/// move that gains [`MIN_GAIN`] of it is kept; a weight whose removal costs nothing is set
/// to 0.
fn search_blend(scored: &Scored, cases: &[Case], reference: &[f64], start: HybridWeights, passes: usize) -> HybridWeights {
    let mut out = start;
    let mut per_case: Vec<f64> = cases.iter().enumerate().map(|(i, c)| case_ndcg(scored, i, c, &out.buckets[c.bucket])).collect();
    for bucket in 0..3 {
        let mine: Vec<usize> = (0..cases.len()).filter(|&i| cases[i].bucket == bucket).collect();
        if mine.is_empty() {
            continue;
        }
        // Kind sums of the other buckets' cases, fixed while this bucket is searched.
        let mut others = vec![(0.0, 0usize); KINDS.len()];
        for (i, c) in cases.iter().enumerate().filter(|(_, c)| c.bucket != bucket) {
            others[c.kind].0 += per_case[i];
            others[c.kind].1 += 1;
        }
        let objective = |w: &BlendWeights| {
            let mut sums = others.clone();
            for &i in &mine {
                sums[cases[i].kind].0 += case_ndcg(scored, i, &cases[i], w);
                sums[cases[i].kind].1 += 1;
            }
            let means: Vec<f64> = sums.iter().map(|&(s, n)| s / n.max(1) as f64).collect();
            worst_case(&means, reference)
        };
        let mut w = out.buckets[bucket];
        let mut best = objective(&w);
        for _ in 0..passes {
            let mut moved = false;
            for &slot in &scored.slots {
                let total: f32 = w.0.iter().sum::<f32>().max(1e-3);
                let current = w.0[slot];
                let tries: Vec<f32> =
                    if current == 0.0 { vec![0.1 * total, 0.33 * total] } else { STEPS.iter().map(|m| m * current).collect() };
                for value in tries {
                    let mut candidate = w;
                    candidate.0[slot] = value;
                    if candidate.0.iter().sum::<f32>() <= 0.0 {
                        continue;
                    }
                    let o = objective(&candidate);
                    // A real gain, or no loss without this part: fewer parts for the same result.
                    if o > best * (1.0 + MIN_GAIN) || (value == 0.0 && o >= best) {
                        (w, best, moved) = (candidate, o, true);
                    }
                }
            }
            if !moved {
                break;
            }
        }
        out.buckets[bucket] = w;
        for &i in &mine {
            per_case[i] = case_ndcg(scored, i, &cases[i], &w);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cases whose relevant movies are rows 0..3, scored by a part that puts them first and a
    /// part of pure noise.
    fn fixture() -> (Scored, Vec<Case>) {
        let n = 50;
        let mut seed = 7u64;
        let mut noise = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        let cases: Vec<Case> = (0..12)
            .map(|i| Case { fold: 0, kind: i % 3, bucket: 2, given: Vec::new(), candidates: (0..n).collect(), relevant: (0..3).collect() })
            .collect();
        let good: Vec<Vec<f32>> = cases.iter().map(|_| (0..n).map(|r| if r < 3 { 1.0 } else { 0.0 } + 0.3 * noise()).collect()).collect();
        let bad: Vec<Vec<f32>> = cases.iter().map(|_| (0..n).map(|_| 3.0 * noise()).collect()).collect();
        let rows: Vec<usize> = (0..n).collect();
        (Scored { slots: vec![0, 1], cases: good.into_iter().zip(bad).map(|(g, b)| (rows.clone(), vec![g, b])).collect() }, cases)
    }

    #[test]
    fn a_weight_that_hurts_on_validation_is_dropped_and_one_that_helps_is_kept() {
        let (scored, cases) = fixture();
        let start = HybridWeights::uniform(BlendWeights::from_pairs(&[(Method::Mf, 1.0), (Method::ItemKnn, 1.0)]));
        let reference = kind_ndcg(&scored, &cases, &start);
        let learned = search_blend(&scored, &cases, &reference, start, 3);
        let w = learned.buckets[2];
        assert_eq!(w.of(Method::ItemKnn), 0.0, "the noise part is dropped: {w:?}");
        assert!(w.of(Method::Mf) > 0.0, "the useful part stays: {w:?}");
        assert!(worst_case(&kind_ndcg(&scored, &cases, &learned), &reference) > 1.0, "and the worst kind improves");
        assert_eq!(learned.buckets[0], start.buckets[0], "buckets without cases keep their weights");
    }
}
