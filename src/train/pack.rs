//! Trains every method on the ratings and packs the tables with the movie metadata into a
//! [`Model`]: the catalogue is every movie of the metadata plus any rated id missing from it.

use std::collections::HashMap;
use std::time::Instant;

use super::content::build_content;
use super::ease::fit_ease;
use super::item_knn::{fit_item_knn, to_catalogue_rows};
use super::mf::{fit_explicit, fit_implicit};
use super::neural::fit_neural;
use super::search::{apply, learn};
use super::settings::{Checked, Learn, TrainSettings, SEARCH_SHARE};
use super::user_knn::fit_user_knn;
use super::Interactions;
use crate::catalogue::{round_mean, Catalogue, Movie, MovieId};
use crate::data::{MovieRecord, TagRecord};
use crate::error::{Error, Result};
use crate::eval::RatingRecord;
use crate::factors::{FactorMatrix, FactorStorage};
use crate::methods::mf::{ExplicitFactors, ImplicitFactors, Mf, RegRule};
use crate::methods::Extras;
use crate::model::{Model, ModelInfo};

/// Trains every model on `ratings` and packs them with the metadata of `movies`. Movies without
/// ratings get zero factors and no neighbours, and are reached by the content method only.
/// Tags count only when their author is a training user (a held-out user's tags would leak what
/// they watched).
pub fn build_model(
    dataset: &str,
    movies: &[MovieRecord],
    tags: &[TagRecord],
    ratings: &[RatingRecord],
    settings: &Checked,
) -> Result<Model> {
    let learned = match &settings.learn {
        Learn::Off => return fit(dataset, movies, tags, ratings, settings),
        Learn::Replay(learned) => learned.clone(),
        Learn::Search { budget_s } => {
            let left = settings.deadline.map_or(f64::INFINITY, |d| d.saturating_duration_since(Instant::now()).as_secs_f64());
            learn(dataset, movies, tags, ratings, settings, budget_s.min(SEARCH_SHARE * left))?
        }
    };
    let mut model = fit(dataset, movies, tags, ratings, &apply(&learned, settings).check()?)?;
    if settings.progress {
        eprintln!("  {}", learned.describe());
    }
    model.info.learned = Some(learned);
    Ok(model)
}

/// Trains every model with `settings` as they are.
fn fit(dataset: &str, movies: &[MovieRecord], tags: &[TagRecord], ratings: &[RatingRecord], settings: &Checked) -> Result<Model> {
    let data = Interactions::new(ratings)?;
    let settings = &settings.for_ratings(data.len());
    let progress = settings.progress;
    if progress {
        eprintln!("training on {} ratings, {} users, {} movies: {}", data.len(), data.users.len(), data.items.len(), settings.describe());
    }
    let explicit = fit_explicit(&data, &settings.explicit, progress);
    let implicit = settings.implicit.as_ref().map(|s| (s, fit_implicit(&data, s, progress)));
    let rows = CatalogueRows::new(movies, &data)?;
    let extras = fit_extras(&data, &rows, movies, tags, settings)?;
    let CatalogueRows { rated_row, catalogue, .. } = rows;
    let n = catalogue.len();
    let supported = |i: usize| data.by_item.slices(i).0.len() >= settings.factor_min_ratings as usize;
    let spread = |m: &FactorMatrix| {
        let filled = rated_row.iter().enumerate().filter(|&(i, _)| supported(i)).map(|(i, &r)| (r, m.row(i)));
        catalogue_matrix(n, m.cols(), filled, settings.storage).expect("copied finite values")
    };
    let mut item_bias = vec![0.0f32; n];
    for (i, &r) in rated_row.iter().enumerate() {
        item_bias[r] = explicit.item_bias[i];
    }
    let model = Model {
        info: model_info(dataset, &data, ratings, settings.describe()),
        catalogue,
        mf: Mf {
            global_mean: explicit.global_mean,
            explicit: Some(ExplicitFactors {
                item_bias,
                item_factors: spread(&explicit.item_factors),
                reg_factors: settings.explicit.reg_factors,
                reg_bias: settings.explicit.reg_bias,
                rule: RegRule::Constant,
            }),
            implicit: implicit.map(|(s, fit)| ImplicitFactors {
                item_factors: spread(&fit.item_factors),
                reg: s.reg,
                alpha: s.alpha,
                rating_offset: s.rating_offset,
                explicit_weight: s.explicit_weight,
                recency_half_life: s.recency_half_life,
                recency_coherence: s.recency_coherence,
                rule: RegRule::Constant,
                gram: Default::default(),
            }),
        },
        hybrid: settings.hybrid,
        extras,
        has_links: true,
        core_checksum: Default::default(),
    };
    model.validate()?;
    Ok(model)
}

/// The tables of every method beyond the factor models (item neighbours, EASE, the autoencoder,
/// content, the user pool), trained on `data` and laid out over the catalogue rows of `rows`.
/// `data` may be a sample of the log `rows` was built from (the Spark path trains them on one
/// machine beside factors trained on the whole log): every movie it rates has a row there.
/// Tags count only when their author is one of `data`'s users (a held-out user's tags would
/// leak what they watched). `settings` are checked, and scaled to `data` ([`TrainSettings::for_ratings`]).
pub fn fit_extras(
    data: &Interactions,
    rows: &CatalogueRows,
    movies: &[MovieRecord],
    tags: &[TagRecord],
    settings: &TrainSettings,
) -> Result<Extras> {
    let progress = settings.progress;
    let timed = |what: &str, t: Instant| {
        if progress {
            eprintln!("  {what}: {:.2} s", t.elapsed().as_secs_f64());
        }
    };
    let n = rows.ids.len();
    let rated_row = rows.rows_of(&data.items)?;
    let t = Instant::now();
    let item_knn = settings.item_knn.as_ref().map(|s| fit_item_knn(data, s, progress));
    timed("item neighbours", t);
    let t = Instant::now();
    let ease = settings.ease.as_ref().map(|s| fit_ease(data, &rated_row, n, s)).transpose()?.flatten();
    timed("EASE", t);
    // Last, since it is the one step whose length a time budget can shorten; what follows
    // (content, packing) takes seconds.
    let t = Instant::now();
    let neural_deadline = settings.deadline.map(|d| d - (d.saturating_duration_since(t) / 20));
    let neural = settings.neural.as_ref().and_then(|s| fit_neural(data, s, progress, neural_deadline).map(|fit| (s, fit)));
    timed("autoencoder", t);
    let meta: HashMap<MovieId, &MovieRecord> = movies.iter().map(|m| (m.id, m)).collect();
    let content = settings.content.as_ref().map(|s| {
        let training_users: std::collections::HashSet<u32> = data.users.iter().copied().collect();
        let mut tags_by_row = vec![Vec::new(); n];
        for t in tags.iter().filter(|t| training_users.contains(&t.user)) {
            if let Some(&r) = rows.row_of.get(&t.movie) {
                tags_by_row[r].push(t.tag.clone());
            }
        }
        let metadata: Vec<Option<&MovieRecord>> = rows.ids.iter().map(|id| meta.get(id).copied()).collect();
        build_content(&metadata, &tags_by_row, s)
    });
    Ok(Extras {
        item_knn: item_knn.map(|nb| to_catalogue_rows(nb, &rated_row, n)),
        content,
        user_knn: settings.user_knn.as_ref().map(|s| fit_user_knn(data, &rated_row, s)),
        neural: neural.map(|(s, fit)| fit.to_table(&rated_row, s, settings.neural_storage)),
        ease,
    })
}

/// The catalogue rows of a model: metadata ids and rated ids, ascending.
pub struct CatalogueRows {
    /// Movie id of each row.
    pub ids: Vec<MovieId>,
    /// Row of each id.
    pub row_of: HashMap<MovieId, usize>,
    /// `rated_row[i]`: the row of `Interactions::items[i]`.
    pub rated_row: Vec<usize>,
    /// Each row's metadata and training rating statistics; genre names sorted.
    pub catalogue: Catalogue,
}

impl CatalogueRows {
    /// Joins metadata with the training ratings' statistics.
    pub fn new(movies: &[MovieRecord], data: &Interactions) -> Result<Self> {
        let mut ids: Vec<MovieId> = movies.iter().map(|m| m.id).chain(data.items.iter().copied()).collect();
        ids.sort_unstable();
        ids.dedup();
        let row_of: HashMap<MovieId, usize> = ids.iter().enumerate().map(|(r, &id)| (id, r)).collect();
        let rated_row = rows_of(&row_of, &data.items)?;
        let mut genre_names: Vec<String> = movies.iter().flat_map(|m| m.genres.iter().cloned()).collect();
        genre_names.sort();
        genre_names.dedup();
        if genre_names.len() > 32 {
            return Err(Error::NotEnoughData(format!("{} genres, at most 32 are supported", genre_names.len())));
        }
        let meta: HashMap<MovieId, &MovieRecord> = movies.iter().map(|m| (m.id, m)).collect();
        let mut stats = vec![(0u32, 0f64); ids.len()];
        for (i, &r) in rated_row.iter().enumerate() {
            stats[r] = data.item_ratings(i).fold((0u32, 0f64), |(c, s), (_, x)| (c + 1, s + x as f64));
        }
        let movies = ids
            .iter()
            .zip(&stats)
            .map(|(&id, &(count, sum))| {
                let rec = meta.get(&id);
                Movie {
                    id,
                    title: rec.map(|m| m.title.clone()).unwrap_or_else(|| format!("Movie {}", id.0)),
                    year: rec.and_then(|m| m.year),
                    genres: rec
                        .map(|m| {
                            m.genres.iter().map(|g| 1u32 << genre_names.binary_search(g).expect("collected above")).fold(0, |a, b| a | b)
                        })
                        .unwrap_or(0),
                    imdb_id: rec.and_then(|m| m.imdb_id),
                    tmdb_id: rec.and_then(|m| m.tmdb_id),
                    rating_count: count,
                    rating_mean: round_mean((sum / count.max(1) as f64) as f32),
                }
            })
            .collect();
        Ok(Self { ids, row_of, rated_row, catalogue: Catalogue { genre_names, movies } })
    }

    /// The row of each of `items` (a log's or a sample's rated movies).
    pub fn rows_of(&self, items: &[MovieId]) -> Result<Vec<usize>> {
        rows_of(&self.row_of, items)
    }
}

/// The row of each of `items` in `row_of`; a movie without one is an error.
fn rows_of(row_of: &HashMap<MovieId, usize>, items: &[MovieId]) -> Result<Vec<usize>> {
    items
        .iter()
        .map(|id| row_of.get(id).copied().ok_or_else(|| Error::NotEnoughData(format!("movie {} has no catalogue row", id.0))))
        .collect()
}

/// A `rows x k` matrix over catalogue rows, `filled` with `(row, values)` and zero elsewhere
/// (movies a factor model has nothing for), stored as `storage`.
pub fn catalogue_matrix<'a>(
    rows: usize,
    k: usize,
    filled: impl IntoIterator<Item = (usize, &'a [f32])>,
    storage: FactorStorage,
) -> Result<FactorMatrix> {
    let mut values = vec![0.0f32; rows * k];
    for (row, v) in filled {
        values[row * k..(row + 1) * k].copy_from_slice(v);
    }
    Ok(FactorMatrix::new(rows, k, values, FactorStorage::F32)?.with_storage(storage))
}

/// Provenance of a model trained (by us or by Spark) on `ratings`: counts and rating scale.
pub fn model_info(dataset: &str, data: &Interactions, ratings: &[RatingRecord], trainer: String) -> ModelInfo {
    let (rating_min, rating_max) = ratings.iter().fold((f32::MAX, f32::MIN), |(lo, hi), r| (lo.min(r.rating), hi.max(r.rating)));
    ModelInfo {
        dataset: dataset.to_string(),
        users: data.users.len() as u32,
        ratings: data.len() as u64,
        rating_min,
        rating_max,
        trainer,
        learned: None,
    }
}
