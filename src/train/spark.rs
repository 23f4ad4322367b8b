//! Imports item factors trained by Apache Spark MLlib's ALS (`scripts/spark_als.py`) into the
//! packed model, with the fold-in rule Spark trained with ([`RegRule::PerRating`]: no biases,
//! ridge `regParam` times the visitor's rating count; implicit mode: confidence `1 + alpha r`),
//! so that folding a visitor in is the least-squares step Spark itself takes for a user.
//!
//! Spark writes `ALSModel.itemFactors` as a directory of Parquet part files with columns `id`
//! (int) and `features` (array of float); the job writes its settings beside them as JSON.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde::Deserialize;

use super::interactions::user_sample;
use super::settings::Checked;
use super::{catalogue_matrix, fit_extras, model_info, CatalogueRows, Interactions};
use crate::catalogue::MovieId;
use crate::data::{MovieRecord, TagRecord};
use crate::error::{Error, Result};
use crate::eval::RatingRecord;
use crate::factors::FactorStorage;
use crate::methods::hybrid::{BlendWeights, HybridWeights};
use crate::methods::mf::{ExplicitFactors, ImplicitFactors, Mf, RegRule};
use crate::methods::{Extras, Method};
use crate::model::Model;

/// The settings the Spark job trained with (`settings.json`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SparkSettings {
    /// Factors per movie.
    pub rank: usize,
    /// Spark's `regParam` (scaled by each row's rating count inside Spark).
    pub reg_param: f32,
    /// Spark's `implicitPrefs`.
    pub implicit_prefs: bool,
    /// Spark's `alpha` (implicit mode's confidence slope).
    pub alpha: f32,
    /// Spark's `maxIter`.
    pub max_iter: u32,
    /// Spark's `seed`.
    pub seed: i64,
    /// Spark's version, as reported by the job.
    #[serde(default)]
    pub spark: String,
}

/// One Spark ALS run: its settings and item factors by movie id.
#[derive(Clone, Debug)]
pub struct SparkFactors {
    /// How Spark trained.
    pub settings: SparkSettings,
    /// Item factors, by MovieLens id.
    pub factors: HashMap<MovieId, Vec<f32>>,
}

fn io(path: &Path, reason: impl ToString) -> Error {
    Error::Io { path: path.display().to_string(), reason: reason.to_string() }
}

/// Reads `dir/settings.json` and every Parquet part file under `dir/item_factors/`.
pub fn read_spark_dir(dir: &Path) -> Result<SparkFactors> {
    let settings_path = dir.join("settings.json");
    let text = std::fs::read_to_string(&settings_path).map_err(|e| io(&settings_path, e))?;
    let settings: SparkSettings =
        serde_json::from_str(&text).map_err(|e| io(&settings_path, format!("not the Spark job's settings: {e}")))?;
    let mut factors = HashMap::new();
    for (id, features) in read_factor_table(&dir.join("item_factors"))? {
        if features.len() != settings.rank {
            return Err(io(dir, format!("movie {id} has {} factors, settings.json says rank {}", features.len(), settings.rank)));
        }
        factors.insert(MovieId(id), features);
    }
    Ok(SparkFactors { settings, factors })
}

/// Reads a factor table Spark wrote (`itemFactors` or `userFactors`): every Parquet part file
/// in `dir`, rows `(id, features)`, ascending by id; a repeated id is an error.
pub fn read_factor_table(dir: &Path) -> Result<Vec<(u32, Vec<f32>)>> {
    let mut parts: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    parts.sort();
    if parts.is_empty() {
        return Err(io(dir, "no .parquet part files (did the Spark job finish?)"));
    }
    let mut table = Vec::new();
    for part in &parts {
        let file = File::open(part).map_err(|e| io(part, e))?;
        let reader = SerializedFileReader::new(file).map_err(|e| io(part, format!("not a Parquet file: {e}")))?;
        let rows = reader.get_row_iter(None).map_err(|e| io(part, e))?;
        for (n, row) in rows.enumerate() {
            let bad = |reason: String| Error::Parse { path: part.display().to_string(), line: n as u64 + 1, reason };
            let row = row.map_err(|e| bad(e.to_string()))?;
            let (mut id, mut features) = (None, None);
            for (name, field) in row.get_column_iter() {
                match (name.as_str(), field) {
                    ("id", Field::Int(v)) if *v >= 0 => id = Some(*v as u32),
                    ("features", Field::ListInternal(list)) => {
                        let values: Option<Vec<f32>> = list
                            .elements()
                            .iter()
                            .map(|f| match f {
                                Field::Float(x) if x.is_finite() => Some(*x),
                                Field::Double(x) if x.is_finite() => Some(*x as f32),
                                _ => None,
                            })
                            .collect();
                        features = Some(values.ok_or_else(|| bad("features hold a value that is not a finite number".into()))?);
                    }
                    _ => {}
                }
            }
            let (Some(id), Some(features)) = (id, features) else {
                return Err(bad("expected columns id (int >= 0) and features (array<float>)".into()));
            };
            table.push((id, features));
        }
    }
    table.sort_by_key(|r| r.0);
    if let Some(w) = table.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(io(dir, format!("id {} appears twice", w[0].0)));
    }
    Ok(table)
}

/// The methods beyond the factor models, trained natively to go in one file with Spark's
/// factors: a log too large for one machine's factor training still gives item neighbours,
/// EASE, the autoencoder, content and the user pool from a sample of its users.
#[derive(Clone, Copy, Debug)]
pub struct NativeExtras<'a> {
    /// Tags (only the sampled users' count, as in [`super::fit_extras`]).
    pub tags: &'a [TagRecord],
    /// The methods' settings; their hybrid weights become the file's blend, with Spark's
    /// implicit factors as its `mf` part.
    pub settings: &'a Checked,
    /// Train on a hash sample of about this many users (the same users every time); `None`:
    /// every user.
    pub max_users: Option<usize>,
}

/// The salt of [`NativeExtras::max_users`]'s sample (not the search's, so the two are
/// independent).
const EXTRAS_SALT: u32 = 0x5a4b_e7a5;

/// Packs Spark's factors with the movie metadata and the training ratings' statistics: the
/// explicit run predicts stars, the implicit run (when given) ranks. Movies Spark has no
/// factors for get zero rows (no collaborative signal, like an unrated movie). With `extras`,
/// the other methods are trained natively and packed in the same file, under the same core
/// checksum; without, the file has the factor methods only.
pub fn build_spark_model(
    dataset: &str,
    movies: &[MovieRecord],
    ratings: &[RatingRecord],
    explicit: &SparkFactors,
    implicit: Option<&SparkFactors>,
    storage: FactorStorage,
    extras: Option<NativeExtras>,
) -> Result<Model> {
    if explicit.settings.implicit_prefs {
        return Err(Error::InvalidSetting {
            name: "spark explicit run",
            value: "implicitPrefs = true".into(),
            reason: "the star predictor needs a run with implicitPrefs false".into(),
        });
    }
    if let Some(run) = implicit.filter(|r| !r.settings.implicit_prefs) {
        return Err(Error::InvalidSetting {
            name: "spark implicit run",
            value: format!("implicitPrefs = false (rank {})", run.settings.rank),
            reason: "the ranking run needs implicitPrefs true".into(),
        });
    }
    let data = Interactions::new(ratings)?;
    let rows = CatalogueRows::new(movies, &data)?;
    let n = rows.ids.len();
    let matrix = |run: &SparkFactors| {
        let filled = rows.ids.iter().enumerate().filter_map(|(row, id)| run.factors.get(id).map(|f| (row, f.as_slice())));
        catalogue_matrix(n, run.settings.rank, filled, storage)
    };
    let describe = |run: &SparkFactors| {
        let s = &run.settings;
        format!(
            "Spark {} MLlib ALS rank={} regParam={} maxIter={} implicitPrefs={} alpha={} seed={}",
            s.spark, s.rank, s.reg_param, s.max_iter, s.implicit_prefs, s.alpha, s.seed
        )
    };
    let mut trainer = std::iter::once(explicit).chain(implicit).map(describe).collect::<Vec<_>>().join("; ");
    let (hybrid, extras) = match extras {
        None => (HybridWeights::uniform(BlendWeights::default().with(Method::Mf, 1.0)), Extras::default()),
        Some(native) => {
            // The whole log's index is reused when there is no sample (at ML-25M size it is
            // hundreds of MB).
            let sampled;
            let (part, users) = match native.max_users.and_then(|m| user_sample(ratings, m, EXTRAS_SALT)) {
                Some((kept, users, of)) => {
                    sampled = Interactions::new(&kept)?;
                    (&sampled, format!("a sample of {users} of {of} users"))
                }
                None => (&data, format!("all {} users", data.users.len())),
            };
            let settings = native.settings.for_ratings(part.len());
            if settings.progress {
                eprintln!("training the other methods natively on {users} ({} ratings)", part.len());
            }
            let extras = fit_extras(part, &rows, movies, native.tags, &settings)?;
            trainer += &format!("; other methods native on {users}: {}", settings.describe_extras());
            (settings.hybrid, extras)
        }
    };
    let model = Model {
        info: model_info(dataset, &data, ratings, trainer),
        catalogue: rows.catalogue,
        mf: Mf {
            global_mean: 0.0,
            explicit: Some(ExplicitFactors {
                item_bias: vec![0.0; n],
                item_factors: matrix(explicit)?,
                reg_factors: explicit.settings.reg_param,
                reg_bias: 0.0,
                rule: RegRule::PerRating,
            }),
            implicit: implicit
                .map(|run| -> Result<ImplicitFactors> {
                    Ok(ImplicitFactors {
                        item_factors: matrix(run)?,
                        reg: run.settings.reg_param,
                        alpha: run.settings.alpha,
                        rating_offset: 0.0,
                        explicit_weight: 0.0,
                        recency_half_life: 0.0,
                        recency_coherence: 0.0,
                        rule: RegRule::PerRating,
                        gram: Default::default(),
                    })
                })
                .transpose()?,
        },
        hybrid,
        extras,
        has_links: true,
        core_checksum: Default::default(),
    };
    model.validate()?;
    Ok(model)
}
