//! The evaluation command's engine: per fold, train on the training users, pack, reload the
//! bytes exactly as the browser does, fold each held-out user in, and collect the metrics of
//! every model row; then the table, the JSON and the SVG chart.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::error::Result;
use crate::eval::{evaluate, mean, split, Metrics, K_MAX};
use crate::factors::FactorStorage;
use crate::methods::Method;
use crate::recommender::Recommender;
use crate::train::{build_model, TrainSettings};

/// One row of the evaluation table.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelRow {
    /// Row name.
    pub name: String,
    /// True for the model the page uses by default.
    pub shipped: bool,
    /// What it was trained on and how.
    pub trained: String,
    /// Mean over folds.
    #[serde(flatten)]
    pub metrics: Metrics,
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

/// The model rows, each derived from one trained model so that they share the training run.
#[derive(Clone, Copy)]
enum Variant {
    Popularity,
    Explicit,
    Implicit,
    Mf,
    MfF32,
    MfInt8,
    ItemKnn,
    UserKnn,
    Content,
    Neural,
    NeuralF32,
    Hybrid,
    HybridF32,
}

const VARIANTS: [(Variant, &str); 13] = [
    (Variant::Popularity, "popularity"),
    (Variant::Explicit, "mf-explicit (biased ALS, ranks by predicted stars)"),
    (Variant::Implicit, "mf-implicit (confidence-weighted ALS, recency fold-in)"),
    (Variant::Mf, "mf (implicit rank + explicit stars)"),
    (Variant::MfF32, "mf with f32 factors (what quantisation costs)"),
    (Variant::MfInt8, "mf with int8 factors"),
    (Variant::ItemKnn, "item-knn (shrunk cosine, top-k neighbours)"),
    (Variant::UserKnn, "user-knn (mean-centred cosine, shrunk, k neighbours)"),
    (Variant::Content, "content (genres, tags, TMDB keywords/words, TF-IDF)"),
    (Variant::Neural, "neural (Mult-DAE autoencoder, tied weights)"),
    (Variant::NeuralF32, "neural with f32 weights (what quantisation costs)"),
    (Variant::Hybrid, "hybrid (mf + item-knn + content + user-knn + neural, per-bucket weights)"),
    (Variant::HybridF32, "hybrid with f32 factors and weights (what quantisation costs)"),
];

/// Runs the protocol on `folds` of `data` with `settings`, printing progress to stderr.
pub fn evaluate_dataset(data: &Dataset, folds: &[u32], settings: &TrainSettings) -> Result<EvalReport> {
    let mut per_variant: Vec<Vec<Metrics>> = vec![Vec::new(); VARIANTS.len()];
    let mut train_seconds = Vec::new();
    let clock = Instant::now();
    let now = move || clock.elapsed().as_secs_f64() * 1000.0;
    let has_hybrid = settings.item_knn.is_some() || settings.content.is_some() || settings.user_knn.is_some() || settings.neural.is_some();
    let has_neural = settings.neural.is_some();
    let shipped_method = if has_hybrid { Method::Hybrid } else { Method::Mf };
    for &fold in folds {
        let s = split(&data.ratings, fold, 5);
        let t = Instant::now();
        // Trained with exact f32 factors, then stored as the settings say: the same training run
        // gives the shipped row and the f32 and int8 rows, so the table shows what quantisation costs.
        let exact_settings =
            TrainSettings { storage: FactorStorage::F32, neural_storage: FactorStorage::F32, ..settings.clone() }.check()?;
        let exact = build_model(&data.name, &data.movies, &data.tags, &s.train, &exact_settings)?;
        let stored = |factors: FactorStorage| {
            let mut model = exact.clone();
            model.mf.explicit.item_factors = model.mf.explicit.item_factors.with_storage(factors);
            if let Some(imp) = model.mf.implicit.as_mut() {
                imp.item_factors = imp.item_factors.clone().with_storage(factors);
            }
            if let Some(ae) = model.extras.neural.as_mut() {
                ae.weights = ae.weights.clone().with_storage(settings.neural_storage);
            }
            model
        };
        let bytes = stored(settings.storage).to_bytes()?;
        train_seconds.push(t.elapsed().as_secs_f64());
        let full = Recommender::from_bytes(&bytes)?;
        let exact = Recommender::from_bytes(&exact.to_bytes()?)?;
        let quantised = settings.storage != FactorStorage::F32;
        let int8 = (quantised && settings.storage != FactorStorage::Int8).then(|| Recommender::new(stored(FactorStorage::Int8)));
        let mut explicit_only = full.model().clone();
        explicit_only.mf.implicit = None;
        let explicit_only = Recommender::new(explicit_only);
        let mut implicit_only = full.model().clone();
        if let Some(imp) = implicit_only.mf.implicit.as_mut() {
            imp.explicit_weight = 0.0;
        }
        let implicit_only = Recommender::new(implicit_only);
        for (slot, (variant, name)) in per_variant.iter_mut().zip(VARIANTS) {
            let m = match variant {
                Variant::Popularity => evaluate(&full, Method::Popular, &s.test, &now)?,
                Variant::Explicit => evaluate(&explicit_only, Method::Mf, &s.test, &now)?,
                Variant::Implicit => evaluate(&implicit_only, Method::Mf, &s.test, &now)?,
                Variant::Mf => evaluate(&full, Method::Mf, &s.test, &now)?,
                Variant::MfF32 if quantised => evaluate(&exact, Method::Mf, &s.test, &now)?,
                Variant::MfInt8 if int8.is_some() => evaluate(int8.as_ref().expect("checked"), Method::Mf, &s.test, &now)?,
                Variant::ItemKnn if settings.item_knn.is_some() => evaluate(&full, Method::ItemKnn, &s.test, &now)?,
                Variant::UserKnn if settings.user_knn.is_some() => evaluate(&full, Method::UserKnn, &s.test, &now)?,
                Variant::Content if settings.content.is_some() => evaluate(&full, Method::Content, &s.test, &now)?,
                Variant::Neural if has_neural => evaluate(&full, Method::Neural, &s.test, &now)?,
                Variant::NeuralF32 if has_neural && settings.neural_storage != FactorStorage::F32 => {
                    evaluate(&exact, Method::Neural, &s.test, &now)?
                }
                Variant::Hybrid if has_hybrid => evaluate(&full, Method::Hybrid, &s.test, &now)?,
                Variant::HybridF32 if has_hybrid && (quantised || settings.neural_storage != FactorStorage::F32) => {
                    evaluate(&exact, Method::Hybrid, &s.test, &now)?
                }
                Variant::MfF32
                | Variant::MfInt8
                | Variant::ItemKnn
                | Variant::UserKnn
                | Variant::Content
                | Variant::Neural
                | Variant::NeuralF32
                | Variant::Hybrid
                | Variant::HybridF32 => continue,
            };
            eprintln!(
                "fold {fold} {name:<56} RMSE {:.4}  P@10 {:.4}  R@10 {:.4}  NDCG@10 {:.4}  users {}",
                m.rmse, m.precision, m.recall, m.ndcg, m.users
            );
            slot.push(m);
        }
    }
    let train_s = train_seconds.iter().sum::<f64>() / train_seconds.len().max(1) as f64;
    let trained = format!("{} training users of each fold; {}", data.name, settings.describe());
    let models = VARIANTS
        .iter()
        .zip(per_variant)
        .filter(|(_, folds)| !folds.is_empty())
        .map(|(&(variant, name), folds)| ModelRow {
            name: name.to_string(),
            shipped: match variant {
                Variant::Hybrid => shipped_method == Method::Hybrid,
                Variant::Mf => shipped_method == Method::Mf,
                _ => false,
            },
            trained: match variant {
                Variant::Popularity => format!("{}: rating counts of the training users", data.name),
                _ => trained.clone(),
            },
            metrics: mean(&folds),
            train_s: if matches!(variant, Variant::Popularity) { 0.0 } else { train_s },
        })
        .collect();
    Ok(EvalReport { dataset: data.name.clone(), folds: folds.to_vec(), models })
}

impl EvalReport {
    /// A Markdown table, one row per model.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{} — folds {:?} (mean)\n\n| model | RMSE | MAE | P@10 | R@10 | NDCG@10 | coverage@10 | users | train s | fold-in+rank ms |\n|---|---|---|---|---|---|---|---|---|---|\n",
            self.dataset, self.folds
        );
        for m in &self.models {
            let x = &m.metrics;
            s += &format!(
                "| {}{} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.3} | {} | {:.1} | {:.3} |\n",
                m.name,
                if m.shipped { " **(shipped)**" } else { "" },
                x.rmse,
                x.mae,
                x.precision,
                x.recall,
                x.ndcg,
                x.coverage,
                x.users,
                m.train_s,
                x.foldin_rank_ms
            );
        }
        s
    }

    /// The report as pretty JSON.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data serialises")
    }

    /// An SVG chart: NDCG@k and recall@k for k = 1..=50, one line per model.
    pub fn svg(&self) -> String {
        const COLOURS: [&str; 8] = ["#888888", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"];
        let (w, h, pad) = (460.0, 300.0, 44.0);
        let panel = |title: &str, x0: f64, curve: &dyn Fn(&ModelRow) -> &Vec<f64>| {
            let ymax = self.models.iter().flat_map(|m| curve(m).iter().copied()).fold(0.0f64, f64::max).max(1e-9) * 1.1;
            let px = |k: usize| x0 + pad + (k as f64 - 1.0) / (K_MAX as f64 - 1.0) * (w - 2.0 * pad);
            let py = |v: f64| h - pad - v / ymax * (h - 2.0 * pad);
            let mut g = format!(
                "<text x=\"{}\" y=\"20\" font-size=\"14\" text-anchor=\"middle\">{title}</text>\n<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#000\"/>\n<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#000\"/>\n",
                x0 + w / 2.0, px(1), py(0.0), px(K_MAX), py(0.0), px(1), py(0.0), px(1), py(ymax)
            );
            for k in [1, 10, 20, 30, 40, 50] {
                g += &format!("<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{k}</text>\n", px(k), py(0.0) + 14.0);
            }
            for i in 0..=4 {
                let v = ymax * i as f64 / 4.0;
                g += &format!(
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{v:.2}</text>\n",
                    px(1) - 4.0,
                    py(v) + 3.0
                );
            }
            g += &format!("<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">k</text>\n", x0 + w / 2.0, h - 8.0);
            for (i, m) in self.models.iter().enumerate() {
                let pts: Vec<String> = curve(m).iter().enumerate().map(|(k, &v)| format!("{:.1},{:.1}", px(k + 1), py(v))).collect();
                g += &format!(
                    "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" points=\"{}\"/>\n",
                    COLOURS[i % COLOURS.len()],
                    if m.shipped { 2.5 } else { 1.5 },
                    pts.join(" ")
                );
            }
            g
        };
        let mut svg = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n", 2.0 * w, h + 20.0 * self.models.len() as f64 + 10.0);
        svg += &panel(&format!("NDCG@k — {}", xml_escape(&self.dataset)), 0.0, &|m| &m.metrics.ndcg_curve);
        svg += &panel(&format!("Recall@k — {}", xml_escape(&self.dataset)), w, &|m| &m.metrics.recall_curve);
        for (i, m) in self.models.iter().enumerate() {
            let y = h + 14.0 + 20.0 * i as f64;
            svg += &format!(
                "<line x1=\"{pad}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{}\" stroke-width=\"3\"/><text x=\"{}\" y=\"{}\" font-size=\"12\">{}{}</text>\n",
                pad + 24.0, COLOURS[i % COLOURS.len()], pad + 30.0, y + 4.0, xml_escape(&m.name), if m.shipped { " (shipped)" } else { "" }
            );
        }
        svg + "</svg>\n"
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
