//! The offline trainer (native only, `train` feature), one file per job: settings
//! ([`settings`]), the training interactions ([`interactions`]), each method's fitting
//! ([`mf`], [`item_knn`], [`user_knn`], [`content`], [`neural`], [`ease`]), packing ([`pack`]), progress
//! lines with an ETA ([`progress`]), the
//! evaluation report ([`report`]), hyperparameter search ([`tune`]), benchmarks ([`bench`](mod@bench)) and
//! Spark's factors ([`spark`]).

pub mod bench;
pub mod content;
pub mod ease;
pub mod first_minute;
pub mod interactions;
pub mod item_knn;
pub mod mf;
pub mod neural;
pub mod pack;
pub mod progress;
pub mod render;
pub mod report;
pub mod search;
pub mod settings;
pub mod spark;
pub mod tune;
pub mod user_knn;

pub use interactions::Interactions;
pub use mf::{fit_explicit, fit_implicit, train_rmse, ExplicitFit, ImplicitFit};
pub use pack::{build_model, catalogue_matrix, fit_extras, model_info, CatalogueRows};
pub use settings::{cg_steps_for, Checked, ExplicitSettings, ImplicitSettings, Learn, TrainSettings, LARGE_RATINGS};

/// splitmix64: a tiny, well-mixed, seedable generator for deterministic initialisation.
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn next_f32(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 40) as f32 / (1u64 << 24) as f32
    }
}
