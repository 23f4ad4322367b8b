//! Validation for choosing settings without touching a fold's test users: the fold's training
//! users are held out one inner fold at a time ([`crate::eval::validation_split`]), a model is
//! trained on the rest, reloaded from its bytes and evaluated as the browser would run it.

use std::time::Instant;

use super::build_model;
use super::settings::Checked;
use crate::data::Dataset;
use crate::error::Result;
use crate::eval::{evaluate, mean, validation_split, FoldSplit, Metrics};
use crate::methods::Method;
use crate::recommender::Recommender;

/// The four inner splits of `fold`'s training users (every other fold held out in turn).
pub fn inner_splits(ds: &Dataset, fold: u32) -> Vec<FoldSplit> {
    (0..5).filter(|&g| g != fold).map(|g| validation_split(&ds.ratings, fold, g, 5)).collect()
}

/// Mean metrics of `method` over `splits`, each trained with `settings`.
pub fn validate(ds: &Dataset, splits: &[FoldSplit], settings: &Checked, method: Method) -> Result<Metrics> {
    let clock = Instant::now();
    let now = move || clock.elapsed().as_secs_f64() * 1000.0;
    let mut per_split = Vec::with_capacity(splits.len());
    for split in splits {
        let model = build_model(&ds.name, &ds.movies, &ds.tags, &split.train, settings)?;
        let rec = Recommender::from_bytes(&model.to_bytes()?)?;
        per_split.push(evaluate(&rec, method, &split.test, &now)?);
    }
    Ok(mean(&per_split))
}
