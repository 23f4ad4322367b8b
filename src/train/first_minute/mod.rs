//! The first-minute report (issue 16): on every main fold and every future-visitors cut, a
//! model trained on the training users with the committed model's learned choices (replayed,
//! so the run takes minutes, not a search per fold), then the elicitation simulation
//! ([`crate::eval::elicitation`]) for every strategy, and the familiar-to-discover curve
//! ([`crate::eval::discovery`]) for the popularity penalty alone and for it with genre
//! diversity, movie night's aggregations on synthetic groups ([`crate::eval::group`]), and
//! what a movie seen but not rated is worth ([`crate::eval::seen`]).
//! `./build.sh eval` writes it beside the main report.

use serde::Serialize;

mod report;

use crate::data::Dataset;
use crate::elicit::{popularity_entropy, Strategy};
use crate::error::Result;
use crate::eval::elicitation::Stop;
use crate::eval::{bootstrap_interval, discovery, elicitation, future_split, group, seen, split, TestUser, FUTURE_CUTS};
use crate::methods::Method;
use crate::recommender::Recommender;
use crate::train::{build_model, TrainSettings};

/// One strategy after some questions, on one split.
#[derive(Clone, Debug, Serialize)]
pub struct ElicitationRow {
    /// Strategy name.
    pub strategy: String,
    /// `main` (the folds) or `future` (the cuts).
    pub split: String,
    /// When the list was scored: after some questions, or once some were answered.
    pub stop: Stop,
    /// Mean questions asked.
    pub asked: f64,
    /// Mean NDCG@10 over folds (or cuts) of the hybrid folded in with the answers.
    #[serde(rename = "ndcg@10")]
    pub ndcg: f64,
    /// 95% bootstrap interval over users.
    pub ndcg_ci95: [f64; 2],
    /// Mean questions answered with a rating.
    pub answered: f64,
    /// Users counted (with a relevant hidden movie).
    pub users: usize,
    /// NDCG@10 less popular-first's at the same stop, user by user, and its 95% bootstrap
    /// interval (`[difference, low, high]`; `None` for popular-first itself). The strategies
    /// score the same users, so the paired interval is far narrower than the two intervals
    /// side by side: a strategy is clearly better only where its low end is above zero.
    pub vs_popular_first: Option<[f64; 3]>,
}

/// Five of the visitor's own movies picked by a rule as the answers (a reference point for the
/// strategies: [`elicitation::FiveOf`]), on one split.
#[derive(Clone, Debug, Serialize)]
pub struct FiveOfRow {
    /// The rule's name.
    pub rule: String,
    /// `main` or `future`.
    pub split: String,
    /// Mean NDCG@10 over folds (or cuts).
    #[serde(rename = "ndcg@10")]
    pub ndcg: f64,
    /// 95% bootstrap interval over users.
    pub ndcg_ci95: [f64; 2],
    /// Users counted.
    pub users: usize,
    /// NDCG@10 less popular-first's once 5 questions were answered, user by user, and its 95%
    /// bootstrap interval (`[difference, low, high]`).
    pub vs_popular_first: Option<[f64; 3]>,
}

/// One setting of the discover control, on one split.
#[derive(Clone, Debug, Serialize)]
pub struct DiscoveryRow {
    /// `popularity penalty` or `penalty + genre diversity`.
    pub form: String,
    /// `main` or `future`.
    pub split: String,
    /// The control's setting.
    pub discover: f32,
    /// Mean NDCG@10.
    #[serde(rename = "ndcg@10")]
    pub ndcg: f64,
    /// 95% bootstrap interval over users.
    pub ndcg_ci95: [f64; 2],
    /// Mean recall@10.
    #[serde(rename = "r@10")]
    pub recall: f64,
    /// Catalogue coverage@10.
    #[serde(rename = "coverage@10")]
    pub coverage: f64,
    /// Mean self-information of a recommended movie, bits.
    pub novelty: f64,
    /// Mean pairwise genre Jaccard distance within a list.
    pub diversity: f64,
}

/// One aggregation on one kind and size of synthetic group (main split).
#[derive(Clone, Debug, Serialize)]
pub struct GroupRow {
    /// `average`, `least misery` or `fair`.
    pub aggregation: String,
    /// `random` or `similar taste`.
    pub grouping: String,
    /// Members per group.
    pub size: usize,
    /// Mean NDCG@10, a hit relevant to every member.
    #[serde(rename = "ndcg@10_all")]
    pub all: f64,
    /// Its 95% bootstrap interval over groups.
    pub all_ci95: [f64; 2],
    /// Groups with a movie relevant to every member.
    pub all_groups: usize,
    /// Mean NDCG@10, a hit relevant to a majority.
    #[serde(rename = "ndcg@10_majority")]
    pub majority: f64,
    /// Its 95% bootstrap interval over groups.
    pub majority_ci95: [f64; 2],
    /// Groups with a movie relevant to a majority.
    pub majority_groups: usize,
    /// Mean over groups of the members' mean own NDCG@10 of the group's list.
    #[serde(rename = "member_ndcg@10_mean")]
    pub member_mean: f64,
    /// Its 95% bootstrap interval over groups.
    pub member_mean_ci95: [f64; 2],
    /// Mean over groups of the least served member's NDCG@10.
    #[serde(rename = "member_ndcg@10_min")]
    pub member_min: f64,
    /// Groups counted for the member figures.
    pub groups: usize,
}

/// One treatment of movies seen but not rated, on one split.
#[derive(Clone, Debug, Serialize)]
pub struct SeenRow {
    /// What the seen half of the given movies becomes.
    pub treatment: String,
    /// `main` or `future`.
    pub split: String,
    /// Mean NDCG@10 of the hybrid over folds (or cuts).
    #[serde(rename = "ndcg@10")]
    pub ndcg: f64,
    /// 95% bootstrap interval over users.
    pub ndcg_ci95: [f64; 2],
    /// Users counted.
    pub users: usize,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct FirstMinute {
    /// Data set.
    pub dataset: String,
    /// Folds of the main split.
    pub folds: Vec<u32>,
    /// The elicitation curves.
    pub elicitation: Vec<ElicitationRow>,
    /// Five of each visitor's own movies as the answers: how far the choice of five moves the
    /// list at all.
    pub five_of: Vec<FiveOfRow>,
    /// The trade-off curves.
    pub discovery: Vec<DiscoveryRow>,
    /// Movie night.
    pub groups: Vec<GroupRow>,
    /// Movies seen but not rated.
    pub seen: Vec<SeenRow>,
}

/// The two forms of the control the curve compares: genre diversity's weight beside novelty.
pub const FORMS: [(&str, f32); 2] = [("popularity penalty", 0.0), ("penalty + genre diversity", 0.5)];

/// The value under `key` in a list kept in first-seen order (the tables' row order), added
/// empty the first time.
fn entry<K: PartialEq, V: Default>(list: &mut Vec<(K, V)>, key: K) -> &mut V {
    let at = match list.iter().position(|(k, _)| *k == key) {
        Some(at) => at,
        None => {
            list.push((key, V::default()));
            list.len() - 1
        }
    };
    &mut list[at].1
}

/// `a - b` user by user within each cut, when both scored the same users (same counts per cut:
/// the users with a relevant hidden movie, in the test users' order, whatever the strategy).
fn paired_differences(a: &[Vec<f64>], b: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    if a.len() != b.len() || a.iter().zip(b).any(|(x, y)| x.len() != y.len()) {
        return None;
    }
    Some(a.iter().zip(b).map(|(x, y)| x.iter().zip(y).map(|(p, q)| p - q).collect()).collect())
}

/// Runs the report on `folds` and the future cuts of `data`.
pub fn first_minute(data: &Dataset, folds: &[u32], settings: &TrainSettings) -> Result<FirstMinute> {
    let cuts: Vec<(&str, Vec<crate::eval::RatingRecord>, Vec<TestUser>)> = folds
        .iter()
        .map(|&f| {
            let s = split(&data.ratings, f, 5);
            ("main", s.train, s.test)
        })
        .chain(FUTURE_CUTS.iter().map(|&q| {
            let s = future_split(&data.ratings, q);
            ("future", s.train, s.test)
        }))
        .collect();
    // Per (split, strategy, stop): per-cut NDCG lists and (answered, asked) means.
    type Acc = (Vec<Vec<f64>>, Vec<(f64, f64)>);
    type Curve = (Vec<Vec<f64>>, Vec<discovery::DiscoveryPoint>);
    let mut elicit: Vec<((String, &'static str, Stop), Acc)> = Vec::new();
    let mut disc: Vec<((String, &'static str, u32), Curve)> = Vec::new();
    let mut group_points: Vec<Vec<group::GroupPoint>> = Vec::new();
    // Per key: one list of per-user NDCG@10 per cut.
    type PerCut<K> = Vec<(K, Vec<Vec<f64>>)>;
    let mut seen_points: PerCut<(String, String)> = Vec::new();
    let mut five_points: PerCut<(String, &'static str)> = Vec::new();
    for (split_name, train, test) in &cuts {
        let model = build_model(&data.name, &data.movies, &data.tags, train, &settings.check()?)?;
        let rec = Recommender::from_bytes(&model.to_bytes()?)?;
        let table =
            popularity_entropy(rec.model().catalogue.len(), train.iter().filter_map(|r| rec.row(r.movie).map(|row| (row, r.rating))));
        for strategy in Strategy::COMPARED {
            for p in elicitation::simulate(&rec, strategy, test, Some(&table))? {
                let mean = p.ndcg.iter().sum::<f64>() / p.ndcg.len().max(1) as f64;
                eprintln!(
                    "{split_name} {:<28} {:?}: NDCG@10 {mean:.4}, answered {:.2}, asked {:.1}",
                    strategy.name(),
                    p.stop,
                    p.answered,
                    p.asked
                );
                let key = (split_name.to_string(), strategy.name(), p.stop);
                let slot = entry(&mut elicit, key);
                slot.0.push(p.ndcg);
                slot.1.push((p.answered, p.asked));
            }
        }
        for rule in elicitation::FiveOf::ALL {
            let ndcg = elicitation::five_of(&rec, rule, test)?;
            eprintln!("{split_name} {:<28} NDCG@10 {:.4}", rule.name(), ndcg.iter().sum::<f64>() / ndcg.len().max(1) as f64);
            entry(&mut five_points, (split_name.to_string(), rule.name())).push(ndcg);
        }
        if *split_name == "main" {
            group_points.push(group::evaluate_groups(&rec, test, &[2, 4])?);
        }
        for (treatment, m) in seen::compare(&rec, test)? {
            eprintln!("{split_name} {:<40} NDCG@10 {:.4}", treatment.name(), m.ndcg);
            entry(&mut seen_points, (split_name.to_string(), treatment.name())).extend(m.per_user_ndcg);
        }
        for (form, w) in FORMS {
            for p in discovery::curve(&rec, Method::Hybrid, test, w)? {
                let key = (split_name.to_string(), form, (p.discover * 100.0).round() as u32);
                let slot = entry(&mut disc, key);
                slot.0.push(p.ndcg.clone());
                slot.1.push(p);
            }
        }
    }
    let mean_of_means = |groups: &[Vec<f64>]| {
        // `+ 0.0`: an empty sum is -0.0, which would print as "-0.0000".
        groups.iter().map(|g| g.iter().sum::<f64>() / g.len().max(1) as f64).sum::<f64>() / groups.len().max(1) as f64 + 0.0
    };
    let avg = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len().max(1) as f64;
    let baseline = |split: &str, stop: Stop| {
        elicit.iter().find(|((sp, st, at), _)| sp == split && *st == Strategy::Popular.name() && *at == stop).map(|(_, (g, _))| g)
    };
    // `[difference, low, high]` of per-cut, per-user NDCG@10 against popular-first's.
    let against = |groups: &[Vec<f64>], base: &[Vec<f64>]| -> Option<[f64; 3]> {
        let diffs = paired_differences(groups, base)?;
        let (lo, hi) = bootstrap_interval(&diffs, 1000);
        Some([mean_of_means(&diffs), lo, hi])
    };
    let paired: Vec<Option<[f64; 3]>> = elicit
        .iter()
        .map(|((split, strategy, stop), (groups, _))| {
            against(groups, baseline(split, *stop).filter(|_| *strategy != Strategy::Popular.name())?)
        })
        .collect();
    let five_of = five_points
        .into_iter()
        .map(|((split, rule), groups)| {
            let (lo, hi) = bootstrap_interval(&groups, 1000);
            let vs_popular_first = baseline(&split, Stop::Answered(elicitation::FIVE)).and_then(|base| against(&groups, base));
            FiveOfRow {
                rule: rule.into(),
                split,
                ndcg: mean_of_means(&groups),
                ndcg_ci95: [lo, hi],
                users: groups.iter().map(Vec::len).sum(),
                vs_popular_first,
            }
        })
        .collect();
    let elicitation = elicit
        .into_iter()
        .zip(paired)
        .map(|(((split, strategy, stop), (groups, counts)), vs_popular_first)| {
            let (lo, hi) = bootstrap_interval(&groups, 1000);
            let (answered, asked): (Vec<f64>, Vec<f64>) = counts.into_iter().unzip();
            ElicitationRow {
                strategy: strategy.into(),
                split,
                stop,
                asked: avg(&asked),
                ndcg: mean_of_means(&groups),
                ndcg_ci95: [lo, hi],
                answered: avg(&answered),
                users: groups.iter().map(Vec::len).sum(),
                vs_popular_first,
            }
        })
        .collect();
    let discovery = disc
        .into_iter()
        .map(|((split, form, _), (groups, points))| {
            let (lo, hi) = bootstrap_interval(&groups, 1000);
            let of = |f: &dyn Fn(&discovery::DiscoveryPoint) -> f64| avg(&points.iter().map(f).collect::<Vec<_>>());
            DiscoveryRow {
                form: form.into(),
                split,
                discover: points[0].discover,
                ndcg: mean_of_means(&groups),
                ndcg_ci95: [lo, hi],
                recall: of(&|p| p.recall),
                coverage: of(&|p| p.coverage),
                novelty: of(&|p| p.novelty),
                diversity: of(&|p| p.diversity),
            }
        })
        .collect();
    let groups = match group_points.first() {
        None => Vec::new(),
        Some(first) => (0..first.len())
            .map(|i| {
                let p = &first[i];
                // Groups pooled over folds (a fold may have no group with a movie relevant to all).
                let pooled = |f: &dyn Fn(&group::GroupPoint) -> &Vec<f64>| -> Vec<Vec<f64>> {
                    vec![group_points.iter().flat_map(|fold| f(&fold[i]).iter().copied()).collect()]
                };
                let (all, majority, member_mean, member_min) =
                    (pooled(&|p| &p.all), pooled(&|p| &p.majority), pooled(&|p| &p.member_mean), pooled(&|p| &p.member_min));
                let (a, b, c) =
                    (bootstrap_interval(&all, 1000), bootstrap_interval(&majority, 1000), bootstrap_interval(&member_mean, 1000));
                GroupRow {
                    aggregation: p.aggregation.name().into(),
                    grouping: p.grouping.name().into(),
                    size: p.size,
                    all: mean_of_means(&all),
                    all_ci95: [a.0, a.1],
                    all_groups: all[0].len(),
                    majority: mean_of_means(&majority),
                    majority_ci95: [b.0, b.1],
                    majority_groups: majority[0].len(),
                    member_mean: mean_of_means(&member_mean),
                    member_mean_ci95: [c.0, c.1],
                    member_min: mean_of_means(&member_min),
                    groups: member_mean[0].len(),
                }
            })
            .collect(),
    };
    let seen = seen_points
        .into_iter()
        .map(|((split, treatment), groups)| {
            let (lo, hi) = bootstrap_interval(&groups, 1000);
            SeenRow { treatment, split, ndcg: mean_of_means(&groups), ndcg_ci95: [lo, hi], users: groups.iter().map(Vec::len).sum() }
        })
        .collect();
    Ok(FirstMinute { dataset: data.name.clone(), folds: folds.to_vec(), elicitation, five_of, discovery, groups, seen })
}

#[cfg(test)]
mod tests {
    use super::paired_differences;

    #[test]
    fn differences_pair_users_within_each_cut_and_refuse_unequal_cuts() {
        let a = vec![vec![0.5, 0.25], vec![1.0]];
        let b = vec![vec![0.25, 0.5], vec![0.0]];
        assert_eq!(paired_differences(&a, &b), Some(vec![vec![0.25, -0.25], vec![1.0]]));
        assert_eq!(paired_differences(&a, &b[..1]), None, "a cut missing");
        assert_eq!(paired_differences(&a, &[vec![0.25], vec![0.0]]), None, "a user missing");
    }
}
