//! # movie-recs
//!
//! A movie recommender that runs in the visitor's browser. Item factors are trained offline on
//! MovieLens ([`train`], native only), packed into one versioned blob ([`model`]), and loaded by
//! a WebAssembly module that folds the visitor's ratings into a user vector ([`fold_in`]) and
//! ranks the catalogue ([`recommender`]) on every change. Nothing leaves the browser.
//!
//! The core here knows nothing of JavaScript: it compiles and is tested natively. The only
//! wasm-specific code is the binding module, compiled for `wasm32` alone.
//!
//! ```
//! use movie_recs::{Error, Recommender};
//!
//! // A model file is validated before use: an HTML error page is a clear error, not a panic.
//! let err = Recommender::from_bytes(b"<!doctype html><title>404</title>").unwrap_err();
//! assert!(matches!(err, Error::BadMagic { .. }));
//! assert!(err.to_string().contains("not a movie-recs model"));
//! ```
//!
//! With a real model (`./build.sh model` writes `www/model.bin`):
//!
//! ```no_run
//! use movie_recs::{RawRating, RecommendOptions, Recommender};
//!
//! let rec = Recommender::from_bytes(&std::fs::read("www/model.bin")?)?;
//! let ratings = [RawRating { movie_id: 318.0, rating: 5.0 }, RawRating { movie_id: 6.0, rating: 4.5 }];
//! for item in rec.recommend(&ratings, &RecommendOptions::default())?.items {
//!     println!("{} ({:?}) {:.1} stars", item.title, item.year, item.predicted_rating);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod content;
pub mod error;
pub mod eval;
pub mod fold_in;
pub mod kernels;
pub mod model;
pub mod neural;
pub mod recommender;
pub mod solve;
pub mod synthetic;
pub mod text;
pub mod user_knn;

#[cfg(feature = "train")]
pub mod data;
#[cfg(feature = "train")]
pub mod train;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{Error, Result};
pub use fold_in::{RawRating, SkipReason, SkippedRating};
pub use model::{FactorStorage, Model, Movie, MovieId, FORMAT_VERSION};
pub use recommender::{Method, MovieSummary, Reason, RecommendOptions, Recommendation, Recommendations, Recommender};
