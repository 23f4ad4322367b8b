//! The choices the trainer learns on the data it trains on: the hybrid's weights, the recency
//! half-life and the order-coherence a history needs for it, the explicit blend in the ranking,
//! and the implicit model's confidence slope.
//!
//! Validation users are carved from the training users, a fifth at a time by a hash of their
//! id ([`validation_fold`]), five inner folds in all, so every training user validates once; a
//! model is fitted on the rest of each, and every candidate is scored by folding the
//! validation users in as visitors of several kinds (every given rating, the latest 20, 5 and
//! 2): the protocol's short histories, and the page's first minute.
//!
//! A candidate replaces the current choice only when it is clearly better, case by case
//! (`better`): its mean gain over the current choice, paired on the same validation
//! visitors, clears [`Z`] standard errors, and no kind of visitor is clearly worse. With a few
//! hundred validation users a mean moves by several percent from noise alone; the first
//! searches here compared means (the best worst kind, with a 0.5% margin) and their choices
//! lost on held-out users (tuning/README.md). A blend weight whose removal costs nothing is set
//! to 0. Each rating-count bucket of the hybrid has its own weights, searched in turn, each
//! move judged on every case.

use std::time::Instant;

use rayon::prelude::*;

use super::interactions::user_sample;
use super::neural::epochs_for;
use super::pack::build_model;
use super::settings::{Checked, Learn, TrainSettings};
use crate::data::{MovieRecord, TagRecord};
use crate::error::Result;
use crate::eval::{holdout, past_split, validation_fold, FoldSplit, RatingRecord, TestUser, PAST_CUT};
use crate::methods::hybrid::{BlendWeights, HybridWeights};
use crate::methods::Method;
use crate::model::{Learned, Model};
use crate::recommender::Recommender;

mod blend;
pub use blend::Z;
use blend::{better, cases_of, gain, kind_means, per_case, score, search_blend, Case};

/// The most training users the search fits its inner folds on: a larger log is sampled (by a
/// hash of the user id, so the same users every time), since each candidate is scored on at
/// most `MAX_USERS_PER_FOLD` validation users anyway and five inner fits of a whole ML-25M
/// log would take longer and more memory than the final fit. ml-latest-small is never sampled.
pub const SEARCH_USERS: usize = 20_000;

/// The ratings of a hash sample of about [`SEARCH_USERS`] users, with the sample's and the
/// log's user counts, when the log has more users than that.
fn search_sample(train: &[RatingRecord]) -> Option<(Vec<RatingRecord>, usize, usize)> {
    // Salted, so the sample is independent of the inner folds' own hash of the same ids.
    user_sample(train, SEARCH_USERS, 0x5eed_5a1d)
}

/// `settings` with the `learned` choices in place (and no further search).
pub fn apply(learned: &Learned, settings: &TrainSettings) -> TrainSettings {
    let mut s = settings.clone();
    if let Some(i) = s.implicit.as_mut() {
        i.recency_half_life = learned.recency_half_life;
        i.recency_coherence = learned.recency_coherence;
        i.explicit_weight = learned.explicit_weight;
        i.alpha = learned.alpha;
    }
    s.hybrid = learned.hybrid;
    s.learn = Learn::Off;
    s
}

/// The kinds of validation visitor: a name, how many of the latest given ratings they keep, and
/// whether they are the earlier visitors of the era fold (the training users who arrived first,
/// against a model fitted on those who came after them: [`past_split`]) rather than users of the
/// hash folds. The era kinds are what make the search see a population unlike the one it fits:
/// visitors of another time, whose order of rating and whose catalogue differ (on ml-latest-small
/// a recency half-life of 2 ratings gains 8% for today's users and loses 10% for those of the
/// 1990s; tuning/README.md).
const KINDS: [(&str, usize, bool); 7] = [
    ("all given", usize::MAX, false),
    ("latest 20", 20, false),
    ("latest 5", 5, false),
    ("latest 2", 2, false),
    ("earlier visitors", usize::MAX, true),
    ("earlier, latest 5", 5, true),
    ("earlier, latest 2", 2, true),
];
/// Inner folds of the training users by a hash of their id.
const INNER_FOLDS: u32 = 5;
/// All inner fits: the hash folds and the era fold (the last one).
const INNER_FITS: u32 = INNER_FOLDS + 1;
/// Validation users scored per inner fold (ml-latest-small has about 120; a large log is
/// sampled, so scoring costs the same at any size).
const MAX_USERS_PER_FOLD: usize = 1000;
/// Catalogue size up to which [`MAX_USERS_PER_FOLD`] users are scored; a larger catalogue gets
/// proportionally fewer (each case scores every part over the whole catalogue, so a case at
/// ML-25M's 62,000 movies costs six of ml-latest-small's), never under [`MIN_USERS_PER_FOLD`].
const FULL_CASES_UP_TO: usize = 10_000;
const MIN_USERS_PER_FOLD: usize = 200;

/// Validation users scored per inner fold for a catalogue of `movies`.
fn users_per_fold(movies: usize) -> usize {
    (MAX_USERS_PER_FOLD * FULL_CASES_UP_TO / movies.max(1)).clamp(MIN_USERS_PER_FOLD, MAX_USERS_PER_FOLD)
}
/// The scalars searched, one per axis of [`AXES`], indexed by [`HALF_LIFE`], [`EXPLICIT_WEIGHT`],
/// [`ALPHA`] and [`COHERENCE`].
type Choice = [f32; 4];
const HALF_LIFE: usize = 0;
const EXPLICIT_WEIGHT: usize = 1;
const ALPHA: usize = 2;
const COHERENCE: usize = 3;
/// Each scalar's name and the values tried, searched in this order. On ml-latest-small's users
/// a long history's order-coherence has a median of about 0.05 (0.025 for those who arrived
/// before 2000); 0 keeps the decay for everyone.
const AXES: [(&str, &[f32]); 4] = [
    ("half-life", &[0.0, 2.0, 5.0, 10.0, 30.0]),
    ("explicit weight", &[0.0, 0.02, 0.05, 0.1]),
    ("alpha", &[0.25, 0.5, 1.0, 2.0]),
    ("recency coherence", &[0.0, 0.015, 0.03]),
];

/// One inner fold: its split, and its model at each confidence slope fitted so far.
struct Inner {
    split: FoldSplit,
    models: Vec<(f32, Model)>,
    /// Validation users scored.
    users: usize,
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
    let mut start = TrainSettings { learn: Learn::Off, progress: false, ..(**settings).clone() };
    let sample;
    let train = match search_sample(train) {
        Some((ratings, users, of)) => {
            // The sample's autoencoder runs as many epochs as the full fit will, so that the
            // blend is learned on a part trained the same way.
            if let Some(n) = start.neural.as_mut() {
                n.epochs = epochs_for(n, of);
            }
            if settings.progress {
                eprintln!("  search: on a sample of {users} of the {of} training users ({} ratings)", ratings.len());
            }
            sample = ratings;
            &sample[..]
        }
        None => train,
    };
    // The five inner autoencoders together train no more user passes than the final one: a log
    // just under the sample size (16,000 users, 120 epochs) would otherwise spend five final
    // fits on them. ml-latest-small's inner folds (47,000 passes each) never reach it.
    if let Some(n) = start.neural.as_mut() {
        n.max_passes = (n.max_passes / INNER_FITS as usize).max(1);
    }
    // Under a time budget the inner folds' autoencoders get half the search's time.
    start.deadline = settings.deadline.map(|_| started + std::time::Duration::from_secs_f64(budget_s / 2.0));
    let checked = start.check()?;
    let progress = |what: &str| {
        if settings.progress {
            eprintln!("  search: {what} ({:.0} s)", started.elapsed().as_secs_f64());
        }
    };
    // The inner folds are fitted side by side: the neural and user kNN parts train on one
    // thread each, so this is where the cores pay off. Each fit is seeded, so the result
    // does not depend on the order they finish in.
    let per_fold = users_per_fold(movies.len());
    progress(&format!("fitting {INNER_FOLDS} inner folds of {} ratings each and the era fold, side by side", train.len() * 4 / 5));
    let fitted: Vec<(Inner, Vec<Case>)> = (0..INNER_FITS)
        .into_par_iter()
        .map(|k| {
            let era = k == INNER_FOLDS;
            let split = if era { past_split(train, PAST_CUT) } else { holdout(train, |u| validation_fold(u, INNER_FOLDS) == k) };
            let model = build_model(dataset, movies, tags, &split.train, &checked)?;
            // A bounded sample of the validation users: enough to see a clear gain, and the
            // scoring cost stays the same whatever the log's size.
            // Every n-th user, so that the sample spans the log's eras.
            let users: Vec<TestUser> = split.test.iter().step_by(split.test.len().div_ceil(per_fold).max(1)).cloned().collect();
            let cases = cases_of(&Recommender::new(model.clone()), &users, k as usize, era);
            progress(&format!("inner fit {} of {INNER_FITS} done ({} validation users)", k + 1, users.len()));
            let alpha = model.mf.implicit.as_ref().map_or(0.0, |i| i.alpha);
            Ok((Inner { split, models: vec![(alpha, model)], users: users.len() }, cases))
        })
        .collect::<Result<_>>()?;
    let (inner, cases): (Vec<Inner>, Vec<Vec<Case>>) = fitted.into_iter().unzip();
    let cases: Vec<Case> = cases.into_iter().flatten().collect();
    progress(&format!("{INNER_FITS} inner fits done"));
    let mut inner = inner;
    let implicit = inner[0].models[0].1.mf.implicit.clone();
    let mut choice: Choice = implicit.as_ref().map_or([0.0; 4], |i| [i.recency_half_life, i.explicit_weight, i.alpha, i.recency_coherence]);
    let scoring = Instant::now();
    let reference = kind_means(&per_case(&score(&inner, &cases, choice)?, &cases, &start.hybrid), &cases);
    // What one candidate costs to score, so that no axis starts that would end past the budget.
    let score_s = scoring.elapsed().as_secs_f64();
    let mut hybrid = start.hybrid;
    if implicit.is_some() {
        // The scalars one at a time, each value with the blend re-searched, then the blend
        // once more; a value replaces the current one only if it is clearly better.
        for (axis, &(name, values)) in AXES.iter().enumerate() {
            if started.elapsed().as_secs_f64() + values.len() as f64 * score_s > budget_s {
                progress(&format!(
                    "out of time (a candidate takes {score_s:.0} s to score): the {name} and later choices keep their starting values"
                ));
                break;
            }
            let mut tried = Vec::new();
            for &v in values {
                let mut c = choice;
                c[axis] = v;
                fit_alpha(&mut inner, dataset, movies, &start, c[ALPHA])?;
                let scored = score(&inner, &cases, c)?;
                let weights = search_blend(&scored, &cases, hybrid, 1);
                tried.push((c, weights, per_case(&scored, &cases, &weights)));
            }
            let current = tried.iter().position(|t| t.0 == choice).expect("the current value is among those tried");
            // The value whose gain over the current one is clearest, if any is clear at all.
            let best = (0..tried.len())
                .filter(|&i| better(&tried[i].2, &tried[current].2, &cases))
                .max_by(|&i, &j| gain(&tried[i].2, &tried[current].2).total_cmp(&gain(&tried[j].2, &tried[current].2)))
                .unwrap_or(current);
            (choice, hybrid) = (tried[best].0, tried[best].1);
            progress(&format!(
                "{name} -> {:?} (NDCG@10 by kind: {:?})",
                choice,
                tried
                    .iter()
                    .map(|t| (t.0, kind_means(&t.2, &cases).iter().map(|m| (m * 1e4).round() / 1e4).collect::<Vec<_>>()))
                    .collect::<Vec<_>>()
            ));
        }
    }
    let scored = score(&inner, &cases, choice)?;
    hybrid = search_blend(&scored, &cases, hybrid, 3);
    let chosen = kind_means(&per_case(&scored, &cases, &hybrid), &cases);
    Ok(Learned {
        recency_half_life: choice[HALF_LIFE],
        explicit_weight: choice[EXPLICIT_WEIGHT],
        alpha: choice[ALPHA],
        recency_coherence: choice[COHERENCE],
        hybrid,
        validation: KINDS.iter().zip(reference.iter().zip(&chosen)).map(|((k, _, _), (&a, &b))| (k.to_string(), a, b)).collect(),
        // The era fold's users are also among the hash folds' (as visitors of the other kinds).
        users: inner[..INNER_FOLDS as usize].iter().map(|f| f.users).sum(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Fits every inner fold's implicit model at confidence slope `alpha`, if not yet (the other
/// tables do not depend on it).
fn fit_alpha(inner: &mut [Inner], dataset: &str, movies: &[MovieRecord], start: &TrainSettings, alpha: f32) -> Result<()> {
    let mut s = TrainSettings { item_knn: None, content: None, user_knn: None, neural: None, ease: None, ..start.clone() };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_log_is_searched_on_a_fixed_hash_sample_independent_of_the_inner_folds() {
        let rating = |user: u32| RatingRecord { user, movie: crate::MovieId(1), rating: 4.0, timestamp: 0 };
        let small: Vec<RatingRecord> = (0..SEARCH_USERS as u32).map(rating).collect();
        assert!(search_sample(&small).is_none(), "a log of {SEARCH_USERS} users is searched whole");
        let large: Vec<RatingRecord> = (0..50_000).map(rating).collect();
        let (sample, users, of) = search_sample(&large).unwrap();
        assert_eq!((sample.len(), of), (users, 50_000));
        assert!((15_000..=18_500).contains(&users), "about a third of 50,000: {users}");
        assert_eq!(search_sample(&large).unwrap().0, sample, "the same users every time");
        for k in 0..INNER_FOLDS {
            let n = sample.iter().filter(|r| validation_fold(r.user, INNER_FOLDS) == k).count() as f64;
            assert!((n / users as f64 - 0.2).abs() < 0.02, "inner fold {k} holds {n} of {users}");
        }
    }
}
