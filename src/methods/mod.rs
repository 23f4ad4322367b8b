//! The recommendation methods, each in one file behind one small contract, and the one list of
//! them ([`REGISTRY`]).
//!
//! A method's table lives in the model ([`Parts`] and [`Extras`]) and implements [`Part`]: it
//! validates itself against the catalogue and folds a visitor in, giving a [`Folded`] state (in
//! the spirit of sbr-rs's user representation) that scores the whole catalogue and explains a
//! movie. A state is computed only when its method is used. The hybrid ([`hybrid`]) blends the
//! others' standardised scores.
//!
//! Adding a method: a file here with its table and `Part`, a file in `train/` that fits the
//! table, a row in [`REGISTRY`], a field in [`Extras`].

pub mod content;
pub mod ease;
pub mod hybrid;
pub mod item_knn;
pub mod mf;
pub mod neural;
pub mod popular;
pub mod user_knn;
mod why;

pub use why::{Contributions, Reason};

use serde::{Deserialize, Serialize};

use crate::catalogue::Catalogue;
use crate::error::{Error, Result};
use crate::fold_in::ExplicitUser;

/// Which ranking to use. Predicted stars always come from the explicit factor model (the item's
/// mean for `Popular`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Method {
    /// The other methods' standardised scores blended, with weights learned on validation users
    /// per rating-count bucket; `Mf` when the model has no other part.
    #[default]
    Hybrid,
    /// The folded-in factor models (implicit ranking blended with the explicit prediction).
    Mf,
    /// Item-based collaborative filtering: movies similar to the ones the visitor rated.
    ItemKnn,
    /// The neural autoencoder (Mult-DAE): one forward pass over the movies the visitor liked.
    Neural,
    /// User-based collaborative filtering: what the visitor's most similar viewers rated highly.
    UserKnn,
    /// Content-based: movies whose attributes (genres, tags, keywords, ...) match the visitor's.
    Content,
    /// EASE: a linear item-to-item model over the movies the visitor liked, solved in closed form.
    Ease,
    /// Most rated first, the same for everyone: the evaluation's floor.
    Popular,
}

/// One method: its names and how the runtime reaches its table.
pub struct Entry {
    /// The method.
    pub method: Method,
    /// The name callers use (the JSON and JS spelling of [`Method`]).
    pub name: &'static str,
    /// A label for people (the page's method list).
    pub label: &'static str,
    /// How it works, in a few words (the evaluation table).
    pub technique: &'static str,
    /// Its slot in the hybrid's weights, when the hybrid blends it.
    pub blend: Option<usize>,
    /// Whether it ranks movies no training user rated (only their attributes know them).
    pub ranks_unrated: bool,
    /// What a model must have for it, in words (for the error when it has not).
    pub needs: &'static str,
    /// Whether its reasons are exact: a movie's score minus its score for a visitor with no
    /// ratings is the sum of the rated movies' contributions (the contract tests hold it to
    /// that).
    pub decomposes: bool,
    /// Its table in a loaded model; `None` when the model has none (and always for the hybrid,
    /// which is the blend of the others).
    pub part: for<'a> fn(&Parts<'a>) -> Option<&'a dyn Part>,
}

/// Every method, in the order the page lists them, default first. The hybrid blends the others
/// in this order.
pub const REGISTRY: [Entry; 8] = [
    Entry {
        method: Method::Hybrid,
        name: "hybrid",
        label: "Hybrid (best)",
        technique: "standardised parts blended, per-bucket weights learned on validation users",
        blend: None,
        ranks_unrated: false,
        needs: "",
        decomposes: false,
        part: |_| None,
    },
    Entry {
        method: Method::Mf,
        name: "mf",
        label: "Matrix factorisation",
        technique: "implicit ALS ranking + biased explicit ALS stars, folded in",
        blend: Some(0),
        ranks_unrated: false,
        needs: "",
        decomposes: true,
        part: |p| Some(p.mf),
    },
    Entry {
        method: Method::ItemKnn,
        name: "itemKnn",
        label: "Similar movies (item-based)",
        technique: "shrunk cosine, top-k neighbours",
        blend: Some(1),
        ranks_unrated: false,
        needs: "a neighbour table",
        decomposes: true,
        part: |p| p.extras.item_knn.as_ref().map(|t| t as &dyn Part),
    },
    Entry {
        method: Method::Neural,
        name: "neural",
        label: "Neural network (autoencoder)",
        technique: "Mult-DAE autoencoder, tied weights",
        blend: Some(4),
        ranks_unrated: false,
        needs: "an autoencoder",
        decomposes: false,
        part: |p| p.extras.neural.as_ref().map(|t| t as &dyn Part),
    },
    Entry {
        method: Method::UserKnn,
        name: "userKnn",
        label: "Viewers like you (user-based)",
        technique: "mean-centred cosine, shrunk, k neighbours",
        blend: Some(3),
        ranks_unrated: false,
        needs: "a user pool",
        decomposes: false,
        part: |p| p.extras.user_knn.as_ref().map(|t| t as &dyn Part),
    },
    Entry {
        method: Method::Content,
        name: "content",
        label: "Similar attributes (content)",
        technique: "genres, tags, TMDB keywords/words, TF-IDF",
        blend: Some(2),
        ranks_unrated: true,
        needs: "movie attributes",
        decomposes: false,
        part: |p| p.extras.content.as_ref().map(|t| t as &dyn Part),
    },
    Entry {
        method: Method::Ease,
        name: "ease",
        label: "Liked together (EASE)",
        technique: "EASE on liked movies, closed form, top-k weights",
        blend: Some(5),
        ranks_unrated: false,
        needs: "EASE weights",
        decomposes: true,
        part: |p| p.extras.ease.as_ref().map(|t| t as &dyn Part),
    },
    Entry {
        method: Method::Popular,
        name: "popular",
        label: "Most popular",
        technique: "most rated first",
        blend: None,
        ranks_unrated: false,
        needs: "",
        decomposes: false,
        part: |_| Some(&popular::Popular),
    },
];

/// Number of weights in each of the hybrid's buckets (the highest [`Entry::blend`] slot + 1).
pub const BLENDED: usize = 6;

impl Method {
    /// Every method, in the registry's order.
    pub const ALL: [Method; 8] =
        [Method::Hybrid, Method::Mf, Method::ItemKnn, Method::Neural, Method::UserKnn, Method::Content, Method::Ease, Method::Popular];

    /// The method's registry row.
    pub fn entry(self) -> &'static Entry {
        REGISTRY.iter().find(|e| e.method == self).expect("every method has a registry row")
    }

    /// The name callers use (`"hybrid"`, `"mf"`, `"itemKnn"`, ...).
    pub fn name(self) -> &'static str {
        self.entry().name
    }

    /// The error for a model without this method's table.
    pub fn missing(self) -> Error {
        let e = self.entry();
        Error::InvalidOption { name: "method", reason: format!("{} needs a model with {}; this one has none", e.name, e.needs) }
    }

    /// The method called `name`, or an error listing the names.
    pub fn from_name(name: &str) -> Result<Method> {
        REGISTRY.iter().find(|e| e.name == name).map(|e| e.method).ok_or_else(|| Error::InvalidOption {
            name: "method",
            reason: format!("unknown method {name:?} (known: {})", REGISTRY.map(|e| e.name).join(", ")),
        })
    }
}

/// The tables of the methods beyond the factor models: the model file's second section, which
/// a page attaches when it has arrived. Field order is the file's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Extras {
    /// Item-based kNN's neighbour table.
    pub item_knn: Option<item_knn::ItemKnn>,
    /// Content-based filtering's attribute vectors.
    pub content: Option<content::Content>,
    /// User-based kNN's pool of training users.
    pub user_knn: Option<user_knn::UserKnn>,
    /// The neural method's autoencoder.
    pub neural: Option<neural::Neural>,
    /// EASE's pruned weights.
    pub ease: Option<ease::Ease>,
}

/// A model's method tables, borrowed: the factor models (always present) and the extras.
pub struct Parts<'a> {
    /// The factor models.
    pub mf: &'a mf::Mf,
    /// Everything else.
    pub extras: &'a Extras,
}

impl<'a> Parts<'a> {
    /// The table of `method`, if this model has it.
    pub fn get(&self, method: Method) -> Option<&'a dyn Part> {
        (method.entry().part)(self)
    }

    /// Whether the model has any table beyond the factor models.
    pub fn has_extras(&self) -> bool {
        REGISTRY.iter().filter(|e| !matches!(e.method, Method::Mf | Method::Popular)).any(|e| (e.part)(self).is_some())
    }

    /// Validates every table against a catalogue of `movies` rows.
    pub fn validate(&self, movies: usize) -> Result<()> {
        REGISTRY.iter().filter_map(|e| (e.part)(self)).try_for_each(|part| part.validate(movies))
    }

    /// Computes what every table derives at load (validated tables only).
    pub fn prepare(&self, movies: usize) {
        REGISTRY.iter().filter_map(|e| (e.part)(self)).for_each(|part| part.prepare(movies));
    }
}

/// A visitor's checked ratings, in the forms the methods read.
#[derive(Clone, Debug, Default)]
pub struct Ratings {
    /// Every usable rating as `(row, stars)`, oldest first (content reads the movies nobody
    /// else rated too).
    pub all: Vec<(usize, f32)>,
    /// The ratings of movies training users rated (the collaborative signal), oldest first.
    pub collaborative: Vec<(usize, f32)>,
    /// `collaborative` sorted by row, for lookups.
    pub by_row: Vec<(usize, f32)>,
    /// `(row, weight)` of each collaborative rating: how much it says about what the visitor
    /// watches next (the implicit model's confidence, recency included; 1 without that model).
    pub weights: Vec<(usize, f32)>,
    /// Per collaborative rating (same order): the share of its weight it keeps for its age,
    /// 1 for the latest (the implicit model's decay where the visitor's order says enough).
    pub recency: Vec<f32>,
    /// Rows among `all` that the visitor watched without rating (folded in at
    /// [`crate::ratings::SEEN_SHARE`] of the scale), sorted: reasons name them as watched, and
    /// the star model leaves them out.
    pub seen: Vec<usize>,
}

impl Ratings {
    /// The least rating a reason may cite as something the visitor liked: their own mean, but
    /// at least the middle of the scale (a visitor whose only rating is 1 star liked nothing)
    /// and at most four fifths of it (4 stars is liked, even by a visitor who rates generously).
    pub fn liked_from(&self, scale_min: f32, scale_max: f32) -> f32 {
        let (sum, n) =
            self.all.iter().filter(|&&(row, _)| !self.is_seen(row)).fold((0.0f64, 0usize), |(s, n), &(_, r)| (s + r as f64, n + 1));
        let mean = if n == 0 { 0.0 } else { sum / n as f64 };
        (mean as f32).clamp((scale_min + scale_max) / 2.0, 0.8 * scale_max)
    }

    /// Sorts `all` (checked, oldest first; `seen` the rows among them watched without a rating,
    /// sorted) into the forms above; `weights(collaborative)` gives the `(weight, recency)` of
    /// each collaborative rating, oldest first.
    pub fn new(
        all: Vec<(usize, f32)>,
        seen: Vec<usize>,
        catalogue: &Catalogue,
        weights: impl Fn(&[(usize, f32)]) -> Vec<(f32, f32)>,
    ) -> Self {
        // Movies no training user rated carry no collaborative signal (zero factors, no
        // neighbours): the collaborative models ignore them, the content model uses them.
        let collaborative: Vec<(usize, f32)> = all.iter().copied().filter(|&(row, _)| catalogue.movies[row].rating_count > 0).collect();
        let (weights, recency) = collaborative.iter().zip(weights(&collaborative)).map(|(&(row, _), (w, r))| ((row, w), r)).unzip();
        let mut by_row = collaborative.clone();
        by_row.sort_unstable_by_key(|&(row, _)| row);
        Self { all, collaborative, by_row, weights, recency, seen }
    }

    /// Each collaborative rating (oldest first) as `(row, stars, input weight)` for the
    /// item-to-item parts (EASE, the autoencoder): see [`RECENCY_FLOOR`].
    pub fn with_recency(&self) -> impl Iterator<Item = (usize, f32, f32)> + '_ {
        self.collaborative.iter().zip(&self.recency).map(|(&(row, stars), &r)| (row, stars, RECENCY_FLOOR + (1.0 - RECENCY_FLOOR) * r))
    }

    /// Whether `row` was folded in as seen rather than rated.
    pub fn is_seen(&self, row: usize) -> bool {
        self.seen.binary_search(&row).is_ok()
    }

    /// The visitor's stars for `row`, if they rated it (collaborative ratings only; a movie
    /// seen but not rated has none).
    pub fn stars(&self, row: usize) -> Option<f32> {
        self.by_row.binary_search_by_key(&row, |&(r, _)| r).ok().filter(|_| !self.is_seen(row)).map(|at| self.by_row[at].1)
    }
}

/// How much of its weight an old rating keeps in the item-to-item parts (EASE and the
/// autoencoder), whose input is `RECENCY_FLOOR + (1 - RECENCY_FLOOR) * recency`: the movies a
/// visitor liked last count most, as in the factor model, but an old one is not forgotten.
/// Without a floor the factor model's decay (a half-life of 2 ratings) costs EASE a fifth of
/// its NDCG@10 (it keeps only the last few movies); with 0.3 EASE alone gains 5% on the main
/// split and the hybrid gains on every variant (tuning/README.md, "Recency in EASE and the
/// autoencoder").
pub const RECENCY_FLOOR: f32 = 0.3;

/// What a part folds a visitor in from.
pub struct Context<'a> {
    /// The visitor's ratings.
    pub ratings: &'a Ratings,
    /// The visitor in the explicit (star) model, solved once for every method; `None` until
    /// the model's star section is in.
    pub stars: Option<&'a ExplicitUser>,
    /// The catalogue.
    pub catalogue: &'a Catalogue,
    /// The training ratings' mean.
    pub global_mean: f32,
}

/// One method's table in the model.
pub trait Part: Sync {
    /// The visitor's state under this method.
    fn fold_in<'a>(&'a self, cx: &Context<'a>) -> Box<dyn Folded + 'a>;

    /// Checks the table against a catalogue of `movies` rows: every index in range, every
    /// value usable. Runs before any other call.
    fn validate(&self, movies: usize) -> Result<()>;

    /// Computes what the table derives at load (a Gram matrix, an inverted index).
    fn prepare(&self, _movies: usize) {}
}

/// A visitor folded into one method.
pub trait Folded {
    /// A score for every catalogue row, higher first (rated rows included).
    fn scores(&self) -> Vec<f32>;

    /// Adds `scale` times each rated movie's share of `row`'s score to `into`; false when the
    /// method's score is not a sum over the rated movies.
    fn contributions(&self, _row: usize, _into: &mut Contributions, _scale: f64) -> bool {
        false
    }

    /// A reason for `row` that is not one rated movie (shared attributes, similar viewers).
    fn reason(&self, _row: usize) -> Option<Reason> {
        None
    }
}

/// Predicted stars for `row`: the explicit model's prediction, corrected by how the visitor
/// rated the movie's neighbours (when the model has item neighbours), clipped to the scale;
/// `None` until the star model is in.
pub fn predicted_stars(parts: &Parts, cx: &Context, row: usize, scale: (f32, f32)) -> Option<f32> {
    let (ex, stars) = parts.mf.explicit.as_ref().zip(cx.stars)?;
    let mf = cx.global_mean + stars.centred_score(&ex.item_bias, &ex.item_factors, row);
    let correction =
        parts.extras.item_knn.as_ref().map_or(0.0, |nb| {
            nb.star_correction(cx.ratings, cx.global_mean, |j| stars.centred_score(&ex.item_bias, &ex.item_factors, j), row)
        });
    Some((mf + correction).clamp(scale.0, scale.1))
}
