//! The runtime recommender: a validated [`Model`] plus the indexes built once at load (id to row,
//! folded titles, `Y^T Y`, the cold-start order), and the calls the page makes: fold in, rank,
//! explain, predict, search.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fold_in::{check_ratings, fold_in_explicit, fold_in_implicit, ExplicitUser, ImplicitUser, RawRating, SkippedRating};
use crate::model::{Model, Movie, MovieId};
use crate::text::fold;
use crate::user_knn::{Neighbours, UserIndex};

/// Largest `count` a caller may ask for: the whole list is built as JS objects.
pub const MAX_COUNT: usize = 1000;
/// Prior weight (in ratings) of the global mean in the cold-start Bayesian average.
const COLD_START_PRIOR: f32 = 25.0;
/// Prior weight (in ratings) of the global mean in the visitor's mean for the content profile.
const CENTRE_PRIOR: f32 = 3.0;
/// Most reasons given for one recommendation.
const MAX_REASONS: usize = 2;

/// Which ranking to use. Predicted stars always come from the explicit factor model (the item's
/// mean for `Popular`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Method {
    /// Factor scores and item neighbours blended, with weights learned on validation users per
    /// rating-count bucket; the factor model alone when the model has no neighbour table.
    #[default]
    Hybrid,
    /// The folded-in factor models (implicit ranking blended with the explicit prediction).
    Mf,
    /// Item-based collaborative filtering: movies similar to the ones the visitor rated.
    ItemKnn,
    /// User-based collaborative filtering: what the visitor's most similar viewers rated highly.
    UserKnn,
    /// Content-based: movies whose attributes (genres, tags, keywords, ...) match the visitor's.
    Content,
    /// The neural autoencoder (Mult-DAE): one forward pass over the movies the visitor liked.
    Neural,
    /// Most rated first, the same for everyone: the evaluation's floor.
    Popular,
}

impl Method {
    /// Every method, in the order the page lists them.
    pub const ALL: [Method; 7] =
        [Method::Hybrid, Method::Mf, Method::ItemKnn, Method::UserKnn, Method::Content, Method::Neural, Method::Popular];

    /// The name callers use (`"hybrid"`, `"mf"`, `"itemKnn"`, `"popular"`).
    pub fn name(self) -> &'static str {
        match self {
            Method::Hybrid => "hybrid",
            Method::Mf => "mf",
            Method::ItemKnn => "itemKnn",
            Method::UserKnn => "userKnn",
            Method::Content => "content",
            Method::Neural => "neural",
            Method::Popular => "popular",
        }
    }
}

/// Options of [`Recommender::recommend`]; every field has a default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct RecommendOptions {
    /// How many recommendations, 1..=[`MAX_COUNT`].
    pub count: usize,
    /// Keep movies having any of these genres (names as in the model); empty keeps all.
    pub genres: Vec<String>,
    /// Keep movies released in or after this year.
    pub year_min: Option<u16>,
    /// Keep movies released in or before this year.
    pub year_max: Option<u16>,
    /// Ranking method.
    pub method: Method,
}

impl RecommendOptions {
    /// Option names as callers spell them, for checking untyped input (JS objects).
    pub const FIELDS: [&'static str; 5] = ["count", "genres", "yearMin", "yearMax", "method"];
}

impl Default for RecommendOptions {
    fn default() -> Self {
        Self { count: 10, genres: Vec::new(), year_min: None, year_max: None, method: Method::Hybrid }
    }
}

/// Why a movie is recommended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Reason {
    /// "Because you rated <title> <rating>": a rating that adds much to this movie's score.
    #[serde(rename_all = "camelCase")]
    Rated {
        /// The rated movie.
        movie_id: u32,
        /// Its title.
        title: String,
        /// The visitor's stars.
        rating: f32,
    },
    /// "Because you like Sci-Fi, time travel": attributes shared with movies the visitor liked.
    #[serde(rename_all = "camelCase")]
    Attributes {
        /// Attribute names, best match first.
        names: Vec<String>,
    },
    /// "12 viewers with taste like yours rated it, 9 above their average".
    #[serde(rename_all = "camelCase")]
    SimilarViewers {
        /// Similar viewers who rated the movie.
        rated: u32,
        /// Of those, how many rated it above their own mean.
        liked: u32,
    },
    /// Popular and well rated by everyone (cold start, or the popularity method).
    #[serde(rename_all = "camelCase")]
    Popular {
        /// Training ratings of the movie.
        rating_count: u32,
        /// Their mean.
        rating_mean: f32,
    },
}

/// One recommended movie, ready to render.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recommendation {
    /// MovieLens id.
    pub movie_id: u32,
    /// Display title.
    pub title: String,
    /// Release year.
    pub year: Option<u16>,
    /// Genre names.
    pub genres: Vec<String>,
    /// Ranking score (higher first; comparable within one list only).
    pub score: f32,
    /// Predicted stars, clipped to the rating scale.
    pub predicted_rating: f32,
    /// Why, best first; never empty.
    pub reasons: Vec<Reason>,
}

/// The answer of [`Recommender::recommend`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recommendations {
    /// Best first, unique, never a movie the visitor rated.
    pub items: Vec<Recommendation>,
    /// True when no usable rating was given and the list is the popular, well-rated default.
    pub cold_start: bool,
    /// Ratings folded in.
    pub used_ratings: usize,
    /// Ratings left out, with reasons.
    pub skipped: Vec<SkippedRating>,
}

/// A movie as the page lists it (search results, the starting grid, lookups).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MovieSummary {
    /// MovieLens id.
    pub movie_id: u32,
    /// Display title.
    pub title: String,
    /// Release year.
    pub year: Option<u16>,
    /// Genre names.
    pub genres: Vec<String>,
    /// Training ratings.
    pub rating_count: u32,
    /// Their mean.
    pub rating_mean: f32,
    /// IMDb id.
    pub imdb_id: Option<u32>,
    /// TMDB id.
    pub tmdb_id: Option<u32>,
}

/// A visitor folded into the model: the result of [`Recommender::fold_in`].
#[derive(Clone, Debug)]
pub struct Visitor {
    rated: Vec<(usize, f32)>,
    /// `excluded[row]`: the visitor rated the movie (even with an unusable value).
    excluded: Vec<bool>,
    skipped: Vec<SkippedRating>,
    explicit: ExplicitUser,
    implicit: Option<ImplicitUser>,
    /// `(row, weight)` of each rating for the neighbourhood score: the implicit model's
    /// confidence (recency included), or 1.
    weights: Vec<(usize, f32)>,
    /// The visitor's most similar pool users, found on first use (only the user-based and
    /// hybrid methods need them).
    similar_users: std::cell::OnceCell<Neighbours>,
    /// The collaborative ratings sorted by row, for lookups.
    rated_by_row: Vec<(usize, f32)>,
    /// The visitor through the autoencoder's encoder, computed on first use.
    encoded: std::cell::OnceCell<Option<crate::neural::Encoded>>,
}

impl Visitor {
    /// Ratings folded in.
    pub fn used_ratings(&self) -> usize {
        self.rated.len()
    }

    /// Ratings left out, with reasons.
    pub fn skipped(&self) -> &[SkippedRating] {
        &self.skipped
    }

    /// The visitor's vector in the explicit (star) model.
    pub fn explicit_factors(&self) -> &[f32] {
        &self.explicit.factors
    }
}

/// A loaded model with its indexes; cheap to query many times.
#[derive(Clone, Debug)]
pub struct Recommender {
    model: Model,
    index: HashMap<MovieId, usize>,
    gram: Option<Vec<f64>>,
    folded_titles: Vec<String>,
    cold_start_order: Vec<usize>,
    user_index: Option<UserIndex>,
}

/// How much each of the visitor's collaborative ratings adds to one score, by their position in
/// `Visitor::rated_by_row` (a binary search, no hashing: this runs for every movie explained).
struct Contributions<'v> {
    rows: &'v [(usize, f32)],
    values: Vec<f64>,
}

impl<'v> Contributions<'v> {
    fn new(visitor: &'v Visitor) -> Self {
        Self { rows: &visitor.rated_by_row, values: vec![0.0; visitor.rated_by_row.len()] }
    }

    /// Adds `c` to rated row `j` (rows the visitor did not rate are not reasons: ignored).
    fn add(&mut self, j: usize, c: f64) {
        if let Ok(at) = self.rows.binary_search_by_key(&j, |&(r, _)| r) {
            self.values[at] += c;
        }
    }

    fn add_scaled(&mut self, other: &Contributions, scale: f64) {
        self.values.iter_mut().zip(&other.values).for_each(|(v, o)| *v += scale * o);
    }

    /// `(row, rating, contribution)` of every rated row.
    fn iter(&self) -> impl Iterator<Item = (usize, f32, f64)> + '_ {
        self.rows.iter().zip(&self.values).map(|(&(r, rating), &v)| (r, rating, v))
    }
}

/// The user pool inverted for lookups by movie, when the model has a pool.
fn user_index(model: &Model) -> Option<UserIndex> {
    model.users.as_ref().map(|pool| pool.index(model.movies.len()))
}

impl Recommender {
    /// Reads, validates and indexes a packed model.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Ok(Self::new(Model::from_bytes(bytes)?))
    }

    /// Reads, validates and indexes the core of a packed model from its first bytes (see
    /// [`Model::core_from_bytes`]); [`Recommender::attach_extras`] adds the rest.
    pub fn from_core_bytes(bytes: &[u8]) -> Result<Self> {
        Ok(Self::new(Model::core_from_bytes(bytes)?))
    }

    /// Adds the extras of the whole file (the methods beyond the factor models). On error the
    /// recommender keeps working as it was.
    pub fn attach_extras(&mut self, bytes: &[u8]) -> Result<()> {
        self.model.attach_extras(bytes)?;
        self.user_index = user_index(&self.model);
        Ok(())
    }

    /// Indexes a model (assumed valid, as [`Model::from_bytes`] leaves it).
    pub fn new(model: Model) -> Self {
        let index = model.movies.iter().enumerate().map(|(row, m)| (m.id, row)).collect();
        let gram = model.implicit.as_ref().map(|imp| imp.item_factors.gram());
        let folded_titles = model
            .movies
            .iter()
            .map(|m| match m.year {
                Some(y) => format!("{} {y}", fold(&m.title)),
                None => fold(&m.title),
            })
            .collect();
        let mean = model.explicit.global_mean;
        let bayes =
            |m: &Movie| (COLD_START_PRIOR * mean + m.rating_count as f32 * m.rating_mean) / (COLD_START_PRIOR + m.rating_count as f32);
        let mut cold_start_order: Vec<usize> = (0..model.movies.len()).filter(|&r| model.movies[r].rating_count > 0).collect();
        cold_start_order.sort_by(|&a, &b| {
            let (ma, mb) = (&model.movies[a], &model.movies[b]);
            bayes(mb).total_cmp(&bayes(ma)).then(ma.id.cmp(&mb.id))
        });
        let user_index = user_index(&model);
        Self { model, index, gram, folded_titles, cold_start_order, user_index }
    }

    /// The model behind this recommender.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Row of a movie id, if it is in the catalogue.
    pub fn row(&self, id: MovieId) -> Option<usize> {
        self.index.get(&id).copied()
    }

    /// Folds raw ratings in: checks them, then solves for the visitor's bias and vectors.
    pub fn fold_in(&self, raw: &[RawRating]) -> Visitor {
        let checked = check_ratings(&self.model, &self.index, raw);
        let mut excluded = vec![false; self.model.movies.len()];
        for r in raw.iter().filter(|r| r.movie_id.is_finite() && r.movie_id >= 0.0 && r.movie_id <= u32::MAX as f64) {
            if let Some(row) = self.row(MovieId(r.movie_id as u32)) {
                excluded[row] = true;
            }
        }
        // Movies no training user rated carry no collaborative signal (zero factors, no
        // neighbours): the collaborative models ignore them, the content model uses them.
        let collaborative: Vec<(usize, f32)> =
            checked.rated.iter().copied().filter(|&(row, _)| self.model.movies[row].rating_count > 0).collect();
        let explicit = fold_in_explicit(&self.model.explicit, &collaborative);
        let implicit = match (&self.model.implicit, &self.gram) {
            (Some(imp), Some(gram)) => Some(fold_in_implicit(imp, gram, &collaborative)),
            _ => None,
        };
        let n = collaborative.len();
        let weights = collaborative
            .iter()
            .enumerate()
            .map(|(i, &(row, r))| (row, self.model.implicit.as_ref().map_or(1.0, |imp| imp.confidence(r, n - 1 - i))))
            .collect();
        let mut rated_by_row = collaborative;
        rated_by_row.sort_unstable_by_key(|&(row, _)| row);
        Visitor {
            rated: checked.rated,
            excluded,
            skipped: checked.skipped,
            explicit,
            implicit,
            weights,
            similar_users: std::cell::OnceCell::new(),
            rated_by_row,
            encoded: std::cell::OnceCell::new(),
        }
    }

    /// Folds the ratings in and ranks the catalogue: see [`Recommender::recommend_for`].
    pub fn recommend(&self, raw: &[RawRating], options: &RecommendOptions) -> Result<Recommendations> {
        self.recommend_for(&self.fold_in(raw), options)
    }

    /// Ranks every movie the visitor has not rated, keeps those passing the filters, and returns
    /// the best `count` with predicted stars and reasons. With no usable rating, the personal
    /// method falls back to popular, well-rated movies (Bayesian average), flagged `cold_start`.
    pub fn recommend_for(&self, visitor: &Visitor, options: &RecommendOptions) -> Result<Recommendations> {
        let count = options.count;
        if count == 0 || count > MAX_COUNT {
            return Err(Error::InvalidOption { name: "count", reason: format!("{count} is not in 1..={MAX_COUNT}") });
        }
        let genre_mask = self.genre_mask(&options.genres)?;
        let method = self.resolve(options.method)?;
        if let (Some(lo), Some(hi)) = (options.year_min, options.year_max) {
            if lo > hi {
                return Err(Error::InvalidOption { name: "yearMin", reason: format!("{lo} is after yearMax {hi}") });
            }
        }
        let keep = |row: usize| {
            let m = &self.model.movies[row];
            !visitor.excluded[row]
                && (m.rating_count > 0 || method == Method::Content)
                && (genre_mask == 0 || m.genres & genre_mask != 0)
                && options.year_min.is_none_or(|lo| m.year.is_some_and(|y| y >= lo))
                && options.year_max.is_none_or(|hi| m.year.is_some_and(|y| y <= hi))
        };
        let cold_start = visitor.rated.is_empty() && method != Method::Popular;
        let ranking = if cold_start { None } else { Some(self.rank_all(visitor, method)?) };
        let ranked: Vec<(usize, f32)> = if cold_start {
            let n = self.cold_start_order.len() as f32;
            self.cold_start_order
                .iter()
                .copied()
                .filter(|&r| keep(r))
                .take(count)
                .enumerate()
                .map(|(i, r)| (r, 1.0 - i as f32 / n))
                .collect()
        } else {
            let scores = &ranking.as_ref().expect("computed when not cold").scores;
            top_k((0..scores.len()).filter(|&r| keep(r)).map(|r| (r, scores[r])), count, |r| self.model.movies[r].id)
        };
        let items = ranked
            .into_iter()
            .map(|(row, score)| {
                let m = &self.model.movies[row];
                let reasons = match &ranking {
                    Some(ranking) if method != Method::Popular => self.explain(visitor, row, method, ranking),
                    _ => vec![self.popular_reason(row)],
                };
                Recommendation {
                    movie_id: m.id.0,
                    title: m.title.clone(),
                    year: m.year,
                    genres: self.model.genre_list(m.genres).into_iter().map(String::from).collect(),
                    score,
                    predicted_rating: self.predict_row(visitor, row, method),
                    reasons,
                }
            })
            .collect();
        Ok(Recommendations { items, cold_start, used_ratings: visitor.rated.len(), skipped: visitor.skipped.clone() })
    }

    /// The method actually used: `ItemKnn` and `Content` need their tables; `Hybrid` with
    /// neither is `Mf`.
    pub fn resolve(&self, method: Method) -> Result<Method> {
        let (neighbours, content, users) = (self.model.neighbours.is_some(), self.model.content.is_some(), self.model.users.is_some());
        let neural = self.model.neural.is_some();
        match method {
            Method::Neural if !neural => {
                Err(Error::InvalidOption { name: "method", reason: "neural needs a model with an autoencoder; this one has none".into() })
            }
            Method::UserKnn if !users => {
                Err(Error::InvalidOption { name: "method", reason: "userKnn needs a model with a user pool; this one has none".into() })
            }
            Method::ItemKnn if !neighbours => Err(Error::InvalidOption {
                name: "method",
                reason: "itemKnn needs a model with a neighbour table; this one has none".into(),
            }),
            Method::Content if !content => Err(Error::InvalidOption {
                name: "method",
                reason: "content needs a model with movie attributes; this one has none".into(),
            }),
            Method::Hybrid if !neighbours && !content && !users && !neural => Ok(Method::Mf),
            m => Ok(m),
        }
    }

    /// Ranking scores of every row for a folded-in visitor (rated rows included).
    pub fn scores(&self, visitor: &Visitor, method: Method) -> Result<Vec<f32>> {
        Ok(self.rank_all(visitor, method)?.scores)
    }

    fn rank_all(&self, visitor: &Visitor, method: Method) -> Result<Ranking> {
        let movies = &self.model.movies;
        let plain = |scores| Ranking { scores, factor_scale: 1.0, neighbour_scale: 1.0, neural_scale: 1.0, content_profile: None };
        Ok(match self.resolve(method)? {
            Method::Popular => plain(movies.iter().map(|m| m.rating_count as f32 + m.rating_mean * 1e-3).collect()),
            Method::Mf => plain(self.factor_scores(visitor)),
            Method::ItemKnn => plain(self.neighbour_scores(visitor)),
            Method::UserKnn => plain(self.user_scores(visitor)),
            Method::Neural => plain(self.neural_scores(visitor)),
            Method::Content => {
                let profile = self.content_profile(visitor);
                let scores = self.model.content.as_ref().expect("resolved").scores(&profile);
                Ranking { content_profile: Some(profile), ..plain(scores) }
            }
            Method::Hybrid => {
                let w = self.model.hybrid.for_ratings(visitor.rated.len());
                let (mut scores, fs) = standardise(self.factor_scores(visitor));
                scores.iter_mut().for_each(|s| *s *= w.factor);
                let mut ranking = Ranking {
                    scores,
                    factor_scale: (w.factor / fs) as f64,
                    neighbour_scale: 0.0,
                    neural_scale: 0.0,
                    content_profile: None,
                };
                if self.model.neighbours.is_some() {
                    let (k, ks) = standardise(self.neighbour_scores(visitor));
                    ranking.scores.iter_mut().zip(&k).for_each(|(s, k)| *s += w.neighbour * k);
                    ranking.neighbour_scale = (w.neighbour / ks) as f64;
                }
                if self.model.neural.is_some() && w.neural > 0.0 {
                    let (a, s) = standardise(self.neural_scores(visitor));
                    ranking.scores.iter_mut().zip(&a).for_each(|(s, a)| *s += w.neural * a);
                    ranking.neural_scale = (w.neural / s) as f64;
                }
                if self.model.users.is_some() {
                    let (u, _) = standardise(self.user_scores(visitor));
                    ranking.scores.iter_mut().zip(&u).for_each(|(s, u)| *s += w.user * u);
                }
                if let Some(content) = &self.model.content {
                    let profile = self.content_profile(visitor);
                    let (c, _) = standardise(content.scores(&profile));
                    ranking.scores.iter_mut().zip(&c).for_each(|(s, c)| *s += w.content * c);
                    ranking.content_profile = Some(profile);
                }
                ranking
            }
        })
    }

    fn user_scores(&self, visitor: &Visitor) -> Vec<f32> {
        match (&self.model.users, &self.user_index) {
            (Some(pool), Some(index)) => pool.scores(index, self.similar_users(visitor), self.model.movies.len()),
            _ => vec![0.0; self.model.movies.len()],
        }
    }

    /// The visitor's nearest pool users (computed once per visitor; empty without a pool).
    fn similar_users<'v>(&self, visitor: &'v Visitor) -> &'v Neighbours {
        visitor.similar_users.get_or_init(|| match (&self.model.users, &self.user_index) {
            (Some(pool), Some(index)) => pool.neighbours(index, &visitor.rated_by_row),
            _ => Vec::new(),
        })
    }

    /// The autoencoder's logits for the visitor (zeros without an autoencoder).
    fn neural_scores(&self, visitor: &Visitor) -> Vec<f32> {
        match (&self.model.neural, self.encoded(visitor)) {
            (Some(ae), Some(encoded)) => ae.scores(encoded, self.model.movies.len()),
            _ => vec![0.0; self.model.movies.len()],
        }
    }

    /// The visitor through the autoencoder's encoder (computed once per visitor).
    fn encoded<'v>(&self, visitor: &'v Visitor) -> Option<&'v crate::neural::Encoded> {
        visitor.encoded.get_or_init(|| self.model.neural.as_ref().map(|ae| ae.encode(visitor.rated_by_row.iter().copied()))).as_ref()
    }

    /// The visitor's attribute profile, ratings centred on their mean shrunk towards the global
    /// mean (so that one 5-star rating still says "more like this").
    fn content_profile(&self, visitor: &Visitor) -> Vec<f32> {
        let content = self.model.content.as_ref().expect("called with content only");
        let n = visitor.rated.len() as f32;
        let mu = self.model.explicit.global_mean;
        let centre = (visitor.rated.iter().map(|r| r.1).sum::<f32>() + CENTRE_PRIOR * mu) / (n + CENTRE_PRIOR);
        content.profile(&visitor.rated, centre)
    }

    /// The factor model's score: implicit `x_u . y_i` plus a little of the explicit prediction.
    fn factor_scores(&self, visitor: &Visitor) -> Vec<f32> {
        let ex = &self.model.explicit;
        // The hot loop: whole-catalogue dot products through the stored (int8) rows.
        let centred = |w: f32, into: &mut [f32]| {
            let dots = ex.item_factors.dot_all(&visitor.explicit.factors);
            for ((s, d), b) in into.iter_mut().zip(dots).zip(&ex.item_bias) {
                *s += w * (b + visitor.explicit.bias + d);
            }
        };
        match (&self.model.implicit, &visitor.implicit) {
            (Some(imp), Some(user)) => {
                let mut scores = imp.item_factors.dot_all(&user.factors);
                if imp.explicit_weight != 0.0 {
                    centred(imp.explicit_weight, &mut scores);
                }
                scores
            }
            _ => {
                let mut scores = vec![0.0; self.model.movies.len()];
                centred(1.0, &mut scores);
                scores
            }
        }
    }

    /// Item-based score: for each rated movie `j`, each neighbour `i` of `j` gains
    /// `weight_j * similarity(j, i)`.
    fn neighbour_scores(&self, visitor: &Visitor) -> Vec<f32> {
        let mut scores = vec![0.0f32; self.model.movies.len()];
        if let Some(nb) = &self.model.neighbours {
            for &(j, w) in &visitor.weights {
                for (i, sim) in nb.of(j) {
                    scores[i] += w * sim;
                }
            }
        }
        scores
    }

    /// Predicted stars for `movies` (None for ids outside the catalogue), clipped to the scale.
    pub fn predict(&self, visitor: &Visitor, movies: &[MovieId], method: Method) -> Vec<Option<f32>> {
        movies.iter().map(|&id| self.row(id).map(|row| self.predict_row(visitor, row, method))).collect()
    }

    fn predict_row(&self, visitor: &Visitor, row: usize, method: Method) -> f32 {
        let info = &self.model.info;
        let ex = &self.model.explicit;
        let raw = match method {
            Method::Hybrid | Method::Mf | Method::ItemKnn | Method::UserKnn | Method::Content | Method::Neural => {
                let mf = ex.global_mean + visitor.explicit.centred_score(ex, row);
                mf + self.neighbour_correction(visitor, row)
            }
            Method::Popular => {
                let m = &self.model.movies[row];
                if m.rating_count > 0 {
                    m.rating_mean
                } else {
                    ex.global_mean
                }
            }
        };
        raw.clamp(info.rating_min, info.rating_max)
    }

    /// How much each rated movie adds to `row`'s factor score (exact decomposition).
    fn factor_contributions<'v>(&self, visitor: &'v Visitor, row: usize) -> Contributions<'v> {
        let mut total = Contributions::new(visitor);
        let ex = &self.model.explicit;
        match (&self.model.implicit, &visitor.implicit) {
            (Some(imp), Some(user)) => {
                for (j, c) in user.contributions(imp, row) {
                    total.add(j, c);
                }
                if imp.explicit_weight != 0.0 {
                    for (j, c) in visitor.explicit.contributions(ex, row) {
                        total.add(j, imp.explicit_weight as f64 * c);
                    }
                }
            }
            _ => {
                for (j, c) in visitor.explicit.contributions(ex, row) {
                    total.add(j, c);
                }
            }
        }
        total
    }

    /// How much each rated movie adds to `row`'s neighbourhood score.
    fn neighbour_contributions<'v>(&self, visitor: &'v Visitor, row: usize) -> Contributions<'v> {
        let mut total = Contributions::new(visitor);
        if let Some(nb) = &self.model.neighbours {
            for &(j, w) in &visitor.weights {
                if let Some((_, sim)) = nb.of(j).find(|&(i, _)| i == row) {
                    total.add(j, (w * sim) as f64);
                }
            }
        }
        total
    }

    /// Item-neighbourhood correction of the predicted stars: how the visitor rated `row`'s
    /// neighbours relative to what the factor model predicts for them,
    /// `weight * sum(s_ij (r_j - pred_j)) / (sum(s_ij) + shrink)` (Koren's neighbourhood model on
    /// the factor model's residuals). Zero without a neighbour table or rated neighbours.
    fn neighbour_correction(&self, visitor: &Visitor, row: usize) -> f32 {
        let Some(nb) = self.model.neighbours.as_ref().filter(|nb| nb.rating_weight > 0.0) else { return 0.0 };
        let ex = &self.model.explicit;
        let (mut num, mut den) = (0.0f32, 0.0f32);
        for (j, sim) in nb.of(row) {
            if let Ok(at) = visitor.rated_by_row.binary_search_by_key(&j, |&(r, _)| r) {
                let r = visitor.rated_by_row[at].1;
                num += sim * (r - ex.global_mean - visitor.explicit.centred_score(ex, j));
                den += sim;
            }
        }
        nb.rating_weight * num / (den + nb.rating_shrink)
    }

    /// The rated movies that add most to `row`'s score under `method`, as reasons.
    fn explain(&self, visitor: &Visitor, row: usize, method: Method, ranking: &Ranking) -> Vec<Reason> {
        // Each part is scaled as it enters the score, so the contributions add up as they rank.
        let mut total = Contributions::new(visitor);
        if matches!(method, Method::Mf | Method::Hybrid) {
            total.add_scaled(&self.factor_contributions(visitor, row), ranking.factor_scale);
        }
        if matches!(method, Method::ItemKnn | Method::Hybrid) {
            total.add_scaled(&self.neighbour_contributions(visitor, row), ranking.neighbour_scale);
        }
        if matches!(method, Method::Neural | Method::Hybrid) {
            if let (Some(ae), Some(encoded)) = (&self.model.neural, self.encoded(visitor)) {
                for (j, c) in ae.contributions(encoded, row) {
                    total.add(j, ranking.neural_scale * c);
                }
            }
        }
        let attributes = || match (&self.model.content, &ranking.content_profile) {
            (Some(content), Some(profile)) => Some(content.matching(profile, row)).filter(|names| !names.is_empty()),
            _ => None,
        };
        if method == Method::UserKnn {
            if let (Some(pool), Some(index)) = (&self.model.users, &self.user_index) {
                let (rated, liked) = pool.support(index, self.similar_users(visitor), row);
                if rated > 0 {
                    return vec![Reason::SimilarViewers { rated, liked }];
                }
            }
            return vec![self.popular_reason(row)];
        }
        if method == Method::Content {
            return match attributes() {
                Some(names) => vec![Reason::Attributes { names }],
                None => vec![self.popular_reason(row)],
            };
        }
        let mut best: Vec<(usize, f32, f64)> = total.iter().filter(|&(_, _, c)| c > 0.0).collect();
        best.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
        let reasons: Vec<Reason> = best
            .into_iter()
            .take(MAX_REASONS)
            .map(|(j, rating, _)| {
                let m = &self.model.movies[j];
                Reason::Rated { movie_id: m.id.0, title: m.title.clone(), rating }
            })
            .collect();
        if !reasons.is_empty() {
            reasons
        } else if let Some(names) = attributes() {
            vec![Reason::Attributes { names }]
        } else {
            vec![self.popular_reason(row)]
        }
    }

    /// "More like this": movies most similar to `id`, best first, with the method used.
    /// `method` `ItemKnn` (rated alike by the same viewers) or `Content` (similar attributes);
    /// `None` chooses item neighbours when the movie has any, else attributes, so it works for a
    /// movie nobody has rated.
    pub fn similar_movies(&self, id: MovieId, count: usize, method: Option<Method>) -> Result<(Method, Vec<(MovieSummary, f32)>)> {
        let row = self.row(id).ok_or(Error::UnknownMovie(id.0))?;
        let method = match method {
            Some(m @ (Method::ItemKnn | Method::Content)) => self.resolve(m)?,
            Some(other) => {
                return Err(Error::InvalidOption {
                    name: "method",
                    reason: format!("{} has no \"more like this\"; use itemKnn or content", other.name()),
                })
            }
            None if self.model.neighbours.as_ref().is_some_and(|nb| nb.of(row).next().is_some()) => Method::ItemKnn,
            None => self.resolve(Method::Content).map_err(|_| Error::InvalidOption {
                name: "method",
                reason: format!("movie {} has no neighbours and this model has no attributes", id.0),
            })?,
        };
        let list: Vec<(usize, f32)> = match method {
            Method::ItemKnn => self.model.neighbours.as_ref().expect("resolved").of(row).take(count).collect(),
            _ => self.model.content.as_ref().expect("resolved").similar(row, count),
        };
        Ok((method, list.into_iter().map(|(i, sim)| (self.summary(i), sim)).collect()))
    }

    fn popular_reason(&self, row: usize) -> Reason {
        let m = &self.model.movies[row];
        Reason::Popular { rating_count: m.rating_count, rating_mean: m.rating_mean }
    }

    fn genre_mask(&self, names: &[String]) -> Result<u32> {
        names.iter().try_fold(0u32, |mask, name| match self.model.genre_names.iter().position(|g| g.eq_ignore_ascii_case(name)) {
            Some(g) => Ok(mask | 1 << g),
            None => Err(Error::InvalidOption {
                name: "genres",
                reason: format!("unknown genre {name:?} (known: {})", self.model.genre_names.join(", ")),
            }),
        })
    }

    /// Movies whose folded title (with year) contains every word of the folded query; titles
    /// starting with the query first, then word-prefix matches, then by rating count.
    pub fn search(&self, query: &str, limit: usize) -> Vec<MovieSummary> {
        let q = fold(query);
        let words: Vec<&str> = q.split(' ').filter(|w| !w.is_empty()).collect();
        if words.is_empty() || limit == 0 {
            return Vec::new();
        }
        let mut hits: Vec<(u8, usize)> = self
            .folded_titles
            .iter()
            .enumerate()
            .filter(|(_, t)| words.iter().all(|w| t.contains(w)))
            .map(|(row, t)| {
                let rank = if t.starts_with(q.as_str()) {
                    0
                } else if t.split(' ').any(|tw| tw.starts_with(words[0])) {
                    1
                } else {
                    2
                };
                (rank, row)
            })
            .collect();
        let movies = &self.model.movies;
        hits.sort_by(|a, b| {
            a.0.cmp(&b.0).then(movies[b.1].rating_count.cmp(&movies[a.1].rating_count)).then(movies[a.1].id.cmp(&movies[b.1].id))
        });
        hits.into_iter().take(limit).map(|(_, row)| self.summary(row)).collect()
    }

    /// A movie by id, or `None` when it is not in the catalogue.
    pub fn movie(&self, id: MovieId) -> Option<MovieSummary> {
        self.row(id).map(|row| self.summary(row))
    }

    /// The starting grid: popular, well-rated movies (the cold-start order).
    pub fn popular(&self, limit: usize) -> Vec<MovieSummary> {
        self.cold_start_order.iter().take(limit).map(|&row| self.summary(row)).collect()
    }

    fn summary(&self, row: usize) -> MovieSummary {
        let m = &self.model.movies[row];
        MovieSummary {
            movie_id: m.id.0,
            title: m.title.clone(),
            year: m.year,
            genres: self.model.genre_list(m.genres).into_iter().map(String::from).collect(),
            rating_count: m.rating_count,
            rating_mean: m.rating_mean,
            imdb_id: m.imdb_id,
            tmdb_id: m.tmdb_id,
        }
    }
}

/// Scores of one method for one visitor, with the factors that scaled each part into them.
struct Ranking {
    scores: Vec<f32>,
    factor_scale: f64,
    neighbour_scale: f64,
    neural_scale: f64,
    content_profile: Option<Vec<f32>>,
}

/// Scores minus their mean, divided by their standard deviation (returned; 1 when flat), so that
/// methods on different scales can be blended.
fn standardise(mut scores: Vec<f32>) -> (Vec<f32>, f32) {
    let n = scores.len().max(1) as f64;
    let mean = scores.iter().map(|&s| s as f64).sum::<f64>() / n;
    let var = scores.iter().map(|&s| (s as f64 - mean).powi(2)).sum::<f64>() / n;
    let sd = if var > 1e-24 { var.sqrt() } else { 1.0 };
    for s in &mut scores {
        *s = ((*s as f64 - mean) / sd) as f32;
    }
    (scores, sd as f32)
}

/// The `k` best `(row, score)` pairs, best first; ties broken by ascending movie id so results
/// are deterministic.
///
/// Streams: candidates below the current k-th best score are dropped on a single comparison,
/// and the kept set is cut back to k whenever it doubles, so memory stays O(k).
pub fn top_k(candidates: impl Iterator<Item = (usize, f32)>, k: usize, id: impl Fn(usize) -> MovieId) -> Vec<(usize, f32)> {
    let order = |a: &(usize, f32), b: &(usize, f32)| -> Ordering { b.1.total_cmp(&a.1).then_with(|| id(a.0).cmp(&id(b.0))) };
    if k == 0 {
        return Vec::new();
    }
    let mut best: Vec<(usize, f32)> = Vec::with_capacity(2 * k);
    let mut threshold = f32::NEG_INFINITY;
    for c in candidates {
        // Equal scores may still win on the id tie-break, so only strictly lower ones are dropped.
        if c.1 < threshold {
            continue;
        }
        best.push(c);
        if best.len() == 2 * k {
            best.select_nth_unstable_by(k - 1, order);
            best.truncate(k);
            threshold = best[k - 1].1;
        }
    }
    if best.len() > k {
        best.select_nth_unstable_by(k - 1, order);
        best.truncate(k);
    }
    best.sort_by(order);
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_top_k_equals_a_full_sort_with_ties() {
        let mut seed = 12345u64;
        for n in [0usize, 1, 5, 10, 11, 57, 1000] {
            for k in [1usize, 3, 10, 64] {
                let scores: Vec<(usize, f32)> = (0..n)
                    .map(|r| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        (r, ((seed >> 33) % 17) as f32) // few distinct values: many ties
                    })
                    .collect();
                let id = |r: usize| MovieId(1000 - r as u32);
                let mut expected = scores.clone();
                expected.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| id(a.0).cmp(&id(b.0))));
                expected.truncate(k);
                assert_eq!(top_k(scores.into_iter(), k, id), expected, "n {n} k {k}");
            }
        }
    }
}
