//! # movie-recs
//!
//! A movie recommender that runs in the visitor's browser. Item factors are trained offline on
//! MovieLens ([`train`], native only), packed into one versioned blob ([`model`], [`format`](mod@format)),
//! and loaded by a WebAssembly module that folds the visitor's ratings into each method's state
//! ([`methods`], [`fold_in`]) and ranks the catalogue ([`recommender`], [`rank`]) on every
//! change. Nothing leaves the browser.
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
//! let ratings = [RawRating { movie_id: 318.0, rating: 5.0, seen: false }, RawRating { movie_id: 6.0, rating: 4.5, seen: false }];
//! for item in rec.recommend(&ratings, &RecommendOptions::default())?.items {
//!     println!("{} ({:?}) {:.1} stars", item.movie.title, item.movie.year, item.predicted_rating.unwrap_or(f32::NAN));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod catalogue;
pub mod elicit;
pub mod error;
pub mod eval;
pub mod factors;
pub mod fold_in;
pub mod format;
pub mod group;
pub mod kernels;
pub mod matching;
pub mod methods;
pub mod model;
pub mod rank;
pub mod ratings;
pub mod recommender;
pub mod solve;
pub mod synthetic;
pub mod table;
pub mod text;

#[cfg(feature = "train")]
pub mod data;
#[cfg(feature = "train")]
pub mod train;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use catalogue::{Movie, MovieId, MovieSummary};
pub use error::{Error, Result};
pub use factors::FactorStorage;
pub use format::FORMAT_VERSION;
pub use methods::{Method, Reason};
pub use model::Model;
pub use rank::{RecommendOptions, Recommendation, Recommendations};
pub use ratings::{RawRating, SkipReason, SkippedRating};
pub use recommender::Recommender;
