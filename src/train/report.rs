//! The evaluation command's engine: per fold (and per future-visitors cut), train on the
//! training users, pack, reload the bytes exactly as the browser does, fold each held-out user
//! in, and collect every row's metrics on the main split and on each variant of
//! `../shared/EVAL.md`. [`render`](super::render) turns the report into a table, JSON and SVG.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::error::Result;
use crate::eval::{
    bootstrap_interval, evaluate, future_split, mean, past_split, shorten, split, Metrics, RatingRecord, Variant, FUTURE_CUTS, PAST_CUT,
};
use crate::factors::FactorStorage;
use crate::methods::{Method, REGISTRY};
use crate::model::Model;
use crate::recommender::Recommender;
use crate::train::{build_model, TrainSettings};

/// One row's figures on one variant.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VariantFigures {
    /// NDCG@10, the mean over folds (or cuts).
    #[serde(rename = "ndcg@10")]
    pub ndcg: f64,
    /// Precision at 10.
    #[serde(rename = "p@10")]
    pub precision: f64,
    /// Recall at 10.
    #[serde(rename = "r@10")]
    pub recall: f64,
    /// RMSE of predicted stars on the hidden ratings (absent for rankers without stars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rmse: Option<f64>,
    /// Users counted, summed over folds (or cuts).
    pub users: usize,
    /// 95% bootstrap interval of NDCG@10 over users.
    pub ndcg_ci95: [f64; 2],
}

impl VariantFigures {
    /// The figures of `m`, with its bootstrap interval.
    pub fn of(m: &Metrics) -> Self {
        let (lo, hi) = bootstrap_interval(&m.per_user_ndcg, 1000);
        Self { ndcg: m.ndcg, precision: m.precision, recall: m.recall, rmse: Some(m.rmse), users: m.users, ndcg_ci95: [lo, hi] }
    }
}

/// One row of the evaluation table.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelRow {
    /// Row name.
    pub name: String,
    /// True for the model the page uses by default.
    pub shipped: bool,
    /// What it was trained on and how.
    pub trained: String,
    /// Mean over the main split's folds.
    #[serde(flatten)]
    pub metrics: Metrics,
    /// The same model on each variant (`short-5`, `short-20`, `future`).
    #[serde(default)]
    pub variants: BTreeMap<String, VariantFigures>,
    /// Mean training wall time per fold, seconds.
    pub train_s: f64,
}

/// The whole report, as written with `--json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvalReport {
    /// Data set name.
    pub dataset: String,
    /// Folds evaluated.
    pub folds: Vec<u32>,
    /// One row per model.
    pub models: Vec<ModelRow>,
}

/// Which build of a fold's model a row reads.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Build {
    /// As shipped (the settings' storages).
    Shipped,
    /// The same training run with f32 factors and weights.
    Exact,
    /// The same with int8 factors.
    Int8,
    /// The factor models without the implicit one (ranks by predicted stars).
    ExplicitOnly,
    /// The implicit model without the explicit blend.
    ImplicitOnly,
}

/// A row: a method of one build.
struct RowSpec {
    name: String,
    method: Method,
    build: Build,
}

/// The rows for a model that has `methods`: every method as shipped, the factor models'
/// parts, and what quantisation costs. The hybrid comes last.
fn row_specs(settings: &TrainSettings, methods: &[Method]) -> Vec<RowSpec> {
    let quantised = settings.storage != FactorStorage::F32;
    let mut specs = Vec::new();
    let mut order: Vec<&crate::methods::Entry> = REGISTRY.iter().filter(|e| methods.contains(&e.method)).collect();
    order.sort_by_key(|e| match e.method {
        Method::Popular => 0,
        Method::Hybrid => 2,
        _ => 1,
    });
    for e in order {
        let row = |suffix: &str, build| RowSpec { name: format!("{} ({}){suffix}", e.name, e.technique), method: e.method, build };
        specs.push(row("", Build::Shipped));
        match e.method {
            Method::Mf => {
                specs.push(RowSpec {
                    name: "mf-explicit (biased ALS, ranks by predicted stars)".into(),
                    method: Method::Mf,
                    build: Build::ExplicitOnly,
                });
                specs.push(RowSpec {
                    name: "mf-implicit (confidence-weighted ALS alone)".into(),
                    method: Method::Mf,
                    build: Build::ImplicitOnly,
                });
                if quantised {
                    specs.push(row(" with f32 factors (what quantisation costs)", Build::Exact));
                }
                if quantised && settings.storage != FactorStorage::Int8 {
                    specs.push(row(" with int8 factors", Build::Int8));
                }
            }
            Method::Neural if settings.neural_storage != FactorStorage::F32 => specs.push(row(" with f32 weights", Build::Exact)),
            Method::Hybrid if quantised || settings.neural_storage != FactorStorage::F32 => {
                specs.push(row(" with f32 factors and weights", Build::Exact))
            }
            _ => {}
        }
    }
    specs
}

/// Which splits an evaluation trains models for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Splits {
    /// The main folds, and the short histories on their models.
    pub main: bool,
    /// The future-visitors cuts.
    pub future: bool,
    /// The past-visitors cut.
    pub past: bool,
}

impl Splits {
    /// Every split: the report of `./build.sh eval`.
    pub const ALL: Splits = Splits { main: true, future: true, past: true };

    /// From a comma-separated list of `main`, `future`, `past`.
    pub fn parse(list: &str) -> Result<Self> {
        let mut s = Splits { main: false, future: false, past: false };
        for name in list.split(',').map(str::trim) {
            match name {
                "main" => s.main = true,
                "future" => s.future = true,
                "past" => s.past = true,
                _ => {
                    return Err(crate::Error::InvalidSetting {
                        name: "splits",
                        value: list.into(),
                        reason: "a comma-separated list of main, future, past".into(),
                    })
                }
            }
        }
        Ok(s)
    }
}

/// The builds of one training run.
struct Builds {
    shipped: Recommender,
    exact: Recommender,
    int8: Recommender,
    explicit_only: Recommender,
    implicit_only: Recommender,
}

impl Builds {
    /// Trains on `train` once, with f32 storage, and stores the result each way.
    fn train(data: &Dataset, train: &[RatingRecord], settings: &TrainSettings) -> Result<Self> {
        let exact_settings =
            TrainSettings { storage: FactorStorage::F32, neural_storage: FactorStorage::F32, ..settings.clone() }.check()?;
        let exact = build_model(&data.name, &data.movies, &data.tags, train, &exact_settings)?;
        let stored = |factors: FactorStorage| {
            let mut model = exact.clone();
            if let Some(ex) = model.mf.explicit.as_mut() {
                ex.item_factors = ex.item_factors.clone().with_storage(factors);
            }
            if let Some(imp) = model.mf.implicit.as_mut() {
                imp.item_factors = imp.item_factors.clone().with_storage(factors);
            }
            if let Some(ae) = model.extras.neural.as_mut() {
                ae.weights = ae.weights.clone().with_storage(settings.neural_storage);
            }
            model
        };
        let reload = |model: &Model| -> Result<Recommender> { Recommender::from_bytes(&model.to_bytes()?) };
        let shipped = reload(&stored(settings.storage))?;
        let mut explicit_only = shipped.model().clone();
        explicit_only.mf.implicit = None;
        let mut implicit_only = shipped.model().clone();
        if let Some(imp) = implicit_only.mf.implicit.as_mut() {
            imp.explicit_weight = 0.0;
        }
        Ok(Self {
            int8: Recommender::new(stored(FactorStorage::Int8)),
            exact: reload(&exact)?,
            explicit_only: Recommender::new(explicit_only),
            implicit_only: Recommender::new(implicit_only),
            shipped,
        })
    }

    fn get(&self, build: Build) -> &Recommender {
        match build {
            Build::Shipped => &self.shipped,
            Build::Exact => &self.exact,
            Build::Int8 => &self.int8,
            Build::ExplicitOnly => &self.explicit_only,
            Build::ImplicitOnly => &self.implicit_only,
        }
    }
}

/// Runs the protocol on `folds` of `data` with `settings`, and its variants: short histories on
/// the same folds' models, future visitors on a model per cut, past visitors on one. Progress goes
/// to stderr.
///
/// `splits` says which kinds of model to train: the main folds (which also serve the short
/// histories), the future cuts, the past cut; a report for fewer is quicker (a check of one
/// choice on one variant).
pub fn evaluate_dataset(data: &Dataset, folds: &[u32], settings: &TrainSettings, splits: Splits) -> Result<EvalReport> {
    let clock = Instant::now();
    let now = move || clock.elapsed().as_secs_f64() * 1000.0;
    let mut specs: Option<Vec<RowSpec>> = None;
    let mut figures: Vec<BTreeMap<String, Vec<Metrics>>> = Vec::new();
    let mut train_seconds = Vec::new();
    let folds = if splits.main { folds } else { &[] };
    // Each training run with the variant its test users are: a main fold (whose model also
    // serves the short histories), a future cut or the past cut.
    let cuts: Vec<(String, Variant, Vec<RatingRecord>, Vec<crate::eval::TestUser>)> = folds
        .iter()
        .map(|&f| {
            let s = split(&data.ratings, f, 5);
            (format!("fold {f}"), Variant::Main, s.train, s.test)
        })
        .chain(FUTURE_CUTS.iter().filter(|_| splits.future).map(|&q| {
            let s = future_split(&data.ratings, q);
            (format!("future {q}"), Variant::Future, s.train, s.test)
        }))
        .chain(
            std::iter::once_with(|| {
                let s = past_split(&data.ratings, PAST_CUT);
                (format!("past {PAST_CUT}"), Variant::Past, s.train, s.test)
            })
            .filter(|_| splits.past),
        )
        .collect();
    for (label, variant, train, test) in &cuts {
        let t = Instant::now();
        let builds = Builds::train(data, train, settings)?;
        if *variant == Variant::Main {
            train_seconds.push(t.elapsed().as_secs_f64());
        }
        let specs = specs.get_or_insert_with(|| {
            let methods: Vec<Method> = Method::ALL.into_iter().filter(|&m| builds.shipped.resolve(m) == Ok(m)).collect();
            row_specs(settings, &methods)
        });
        figures.resize_with(specs.len(), BTreeMap::new);
        let mut sets: Vec<(Variant, Vec<crate::eval::TestUser>)> = vec![(*variant, test.clone())];
        if *variant == Variant::Main {
            sets.extend([5, 20].map(|n| (Variant::Short(n), shorten(test, n))));
        }
        for (spec, slot) in specs.iter().zip(figures.iter_mut()) {
            for (variant, users) in &sets {
                let m = evaluate(builds.get(spec.build), spec.method, users, &now)?;
                eprintln!(
                    "{label} {:<9} {:<64} RMSE {:.4}  P@10 {:.4}  NDCG@10 {:.4}  users {}",
                    variant.name(),
                    spec.name,
                    m.rmse,
                    m.precision,
                    m.ndcg,
                    m.users
                );
                slot.entry(variant.name()).or_default().push(m);
            }
        }
    }
    let specs = specs.unwrap_or_default();
    let train_s = train_seconds.iter().sum::<f64>() / train_seconds.len().max(1) as f64;
    let trained = format!("{} training users of each fold; {}", data.name, settings.describe());
    let shipped = if specs.iter().any(|s| s.method == Method::Hybrid) { Method::Hybrid } else { Method::Mf };
    let models = specs
        .iter()
        .zip(figures)
        .map(|(spec, by_variant)| {
            let main = by_variant.get("main").map(|f| mean(f)).unwrap_or_default();
            let variants =
                by_variant.iter().filter(|(v, _)| *v != "main").map(|(v, f)| (v.clone(), VariantFigures::of(&mean(f)))).collect();
            let popular = spec.method == Method::Popular;
            ModelRow {
                name: spec.name.clone(),
                shipped: spec.method == shipped && spec.build == Build::Shipped,
                trained: if popular { format!("{}: rating counts of the training users", data.name) } else { trained.clone() },
                metrics: main,
                variants,
                train_s: if popular { 0.0 } else { train_s },
            }
        })
        .collect();
    Ok(EvalReport { dataset: data.name.clone(), folds: folds.to_vec(), models })
}
