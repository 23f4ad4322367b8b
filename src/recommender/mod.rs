//! The runtime recommender: a validated [`Model`] plus the catalogue's lookups, and the calls the
//! page makes: fold in, rank, explain, predict, search, "more like this".

use std::sync::OnceLock;

use serde::Serialize;

use crate::catalogue::{CatalogueIndex, MovieId};
use crate::error::{Error, Result};
use crate::fold_in::ExplicitUser;
use crate::format::FORMAT_VERSION;
use crate::group::{aggregate, Aggregation, MAX_MEMBERS};
use crate::matching::Matcher;
use crate::methods::{hybrid, popular, predicted_stars, Context, Contributions, Folded, Method, Ratings, REGISTRY};
use crate::model::{Model, ModelInfo};
use crate::rank::{
    discover, discover_pool, explain, top_k, Filter, GroupPick, GroupRecommendations, RecommendOptions, Recommendation, Recommendations,
    Similar, SimilarMovies, DISCOVER_DIVERSITY,
};
use crate::ratings::{check_ratings, RawRating, SkippedRating};

mod lookup;

/// Skipped ratings reported one by one; beyond these only the count (a pasted list of a million
/// bad rows must not come back as a million objects).
pub const MAX_REPORTED_SKIPS: usize = 100;

/// Places of a list whose reasons cite the visitor's ratings; beyond them a movie gets its
/// method's own kind of reason. Citing ratings costs a pass over every rating for each movie
/// (5,000 ratings and a list of 1,000 took 0.57 s natively); no page shows more than 100.
pub const MAX_EXPLAINED: usize = 100;

/// A visitor folded into the model: the result of [`Recommender::fold_in`]. Each method's own
/// state is computed when that method is asked for.
#[derive(Clone, Debug)]
pub struct Visitor {
    ratings: Ratings,
    /// `excluded[row]`: the visitor rated the movie (even with an unusable value).
    excluded: Vec<bool>,
    /// The first [`MAX_REPORTED_SKIPS`] ratings left out.
    skipped: Vec<SkippedRating>,
    /// How many were left out in all.
    skipped_count: usize,
    /// The visitor in the explicit model: predicted stars, for every method (`None` while the
    /// model's star section has not arrived).
    stars: Option<ExplicitUser>,
}

impl Visitor {
    /// Ratings folded in.
    pub fn used_ratings(&self) -> usize {
        self.ratings.all.len() - self.ratings.seen.len()
    }

    /// Ratings left out, with reasons (the first [`MAX_REPORTED_SKIPS`]).
    pub fn skipped(&self) -> &[SkippedRating] {
        &self.skipped
    }

    /// How many ratings were left out in all.
    pub fn skipped_count(&self) -> usize {
        self.skipped_count
    }

    /// The visitor's vector in the explicit (star) model, once the model has it.
    pub fn explicit_factors(&self) -> Option<&[f32]> {
        self.stars.as_ref().map(|s| &s.factors[..])
    }

    /// The ratings in the forms the methods read.
    pub fn ratings(&self) -> &Ratings {
        &self.ratings
    }
}

/// Provenance, catalogue size and rating scale, as `info()` gives them.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Info {
    /// Where the model came from.
    #[serde(flatten)]
    pub model: ModelInfo,
    /// Movies in the catalogue.
    pub movies: usize,
    /// The file format this build reads.
    pub format_version: u32,
}

/// A method as the page lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MethodInfo {
    /// The name callers pass as `method`.
    pub name: Method,
    /// A label for people.
    pub label: &'static str,
}

/// A loaded model with its indexes; cheap to query many times.
#[derive(Clone, Debug)]
pub struct Recommender {
    model: Model,
    index: CatalogueIndex,
    /// Built on the first import, not at load: most visits never import a file.
    matcher: OnceLock<Matcher>,
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

    /// Adds the movies' IMDb and TMDB ids (links, and matching an import by id) and the titles
    /// the core leaves out (search finds those movies, lists may hold them) from the file's
    /// first [`Model::links_length`] bytes; a no-op once they are in. On error the
    /// recommender keeps working as it was.
    pub fn attach_links(&mut self, bytes: &[u8]) -> Result<()> {
        self.model.attach_links(bytes)
    }

    /// Adds the star model from the file's first [`Model::stars_length`] bytes (predicted
    /// stars), and the links if they are not in yet; a no-op once both are in. On error the
    /// recommender keeps working as it was, with the links if they came.
    pub fn attach_stars(&mut self, bytes: &[u8]) -> Result<()> {
        self.model.attach_stars(bytes)
    }

    /// Adds the extras of the whole file (the methods beyond the factor models), and the links
    /// and the star model if they are not in yet. On error the recommender keeps working as it
    /// was, with the links and the stars if they came.
    pub fn attach_extras(&mut self, bytes: &[u8]) -> Result<()> {
        self.model.attach_extras(bytes)?;
        self.model.parts().prepare(self.model.catalogue.len());
        Ok(())
    }

    /// Indexes a model (assumed valid, as [`Model::from_bytes`] leaves it).
    pub fn new(model: Model) -> Self {
        model.parts().prepare(model.catalogue.len());
        let index = CatalogueIndex::new(&model.catalogue, model.mf.global_mean);
        Self { model, index, matcher: OnceLock::new() }
    }

    /// The model behind this recommender.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Row of a movie id, if it is in the catalogue.
    pub fn row(&self, id: MovieId) -> Option<usize> {
        self.index.row(id)
    }

    /// Folds raw ratings in: checks them, then solves for the visitor's star-model bias and
    /// vector (the methods' own states come when a method is asked for).
    pub fn fold_in(&self, raw: &[RawRating]) -> Visitor {
        let info = &self.model.info;
        let checked = check_ratings(self.index.rows(), (info.rating_min, info.rating_max), raw);
        let mut excluded = vec![false; self.model.catalogue.len()];
        for r in raw.iter().filter(|r| r.movie_id.is_finite() && r.movie_id >= 0.0 && r.movie_id <= u32::MAX as f64) {
            if let Some(row) = self.row(MovieId(r.movie_id as u32)) {
                excluded[row] = true;
            }
        }
        let mf = &self.model.mf;
        let ratings = Ratings::new(checked.rated, checked.seen, &self.model.catalogue, |collaborative| mf.rating_weights(collaborative));
        let stars = mf.fold_in_stars(&ratings);
        let skipped_count = checked.skipped.len();
        let mut skipped = checked.skipped;
        skipped.truncate(MAX_REPORTED_SKIPS);
        Visitor { ratings, excluded, skipped, skipped_count, stars }
    }

    fn context<'a>(&'a self, visitor: &'a Visitor) -> Context<'a> {
        Context {
            ratings: &visitor.ratings,
            stars: visitor.stars.as_ref(),
            catalogue: &self.model.catalogue,
            global_mean: self.model.mf.global_mean,
        }
    }

    /// The visitor folded into `method` (resolved).
    fn folded<'a>(&'a self, cx: &Context<'a>, method: Method) -> Result<Box<dyn Folded + 'a>> {
        let parts = self.model.parts();
        Ok(match self.resolve(method)? {
            Method::Hybrid => hybrid::fold_in(&self.model.hybrid, &parts, cx),
            m => parts.get(m).ok_or_else(|| m.missing())?.fold_in(cx),
        })
    }

    /// Folds the ratings in and ranks the catalogue: see [`Recommender::recommend_for`].
    pub fn recommend(&self, raw: &[RawRating], options: &RecommendOptions) -> Result<Recommendations> {
        self.recommend_for(&self.fold_in(raw), options)
    }

    /// Ranks every movie the visitor has not rated, keeps those passing the filters, and returns
    /// the best `count` with predicted stars and reasons. With no usable rating, the personal
    /// method falls back to popular, well-rated movies (Bayesian average), flagged `cold_start`.
    pub fn recommend_for(&self, visitor: &Visitor, options: &RecommendOptions) -> Result<Recommendations> {
        let catalogue = &self.model.catalogue;
        let filter = Filter::new(options, catalogue)?;
        let method = self.resolve(options.method)?;
        let ranks_unrated = method.entry().ranks_unrated;
        let keep = |row: usize| !visitor.excluded[row] && self.listable(&filter, ranks_unrated, row);
        let liked_from = visitor.ratings.liked_from(self.model.info.rating_min, self.model.info.rating_max);
        let cx = self.context(visitor);
        let cold_start = visitor.ratings.all.is_empty() && method != Method::Popular;
        let folded = if cold_start { None } else { Some(self.folded(&cx, method)?) };
        // The discover control re-ranks a deeper pool; at 0 the pool is the list.
        let depth = if options.discover > 0.0 { discover_pool(options.count) } else { options.count };
        let ranked: Vec<(usize, f32)> = match &folded {
            None => {
                let order = self.index.cold_start_order();
                let n = order.len() as f32;
                order.iter().copied().filter(|&r| keep(r)).take(depth).enumerate().map(|(i, r)| (r, 1.0 - i as f32 / n)).collect()
            }
            Some(folded) => {
                let scores = folded.scores();
                top_k((0..scores.len()).filter(|&r| keep(r)).map(|r| (r, scores[r])), depth, |r| catalogue.movies[r].id)
            }
        };
        let ranked = discover(&ranked, options.count, options.discover, DISCOVER_DIVERSITY, catalogue, self.model.info.users);
        let items = ranked
            .into_iter()
            .enumerate()
            .map(|(place, (row, score))| Recommendation {
                movie: catalogue.summary(row),
                score,
                predicted_rating: self.predict_row(&cx, row, method),
                reasons: match &folded {
                    Some(f) if place < MAX_EXPLAINED => explain(f.as_ref(), &visitor.ratings, liked_from, catalogue, row),
                    Some(f) => vec![f.reason(row).unwrap_or_else(|| popular::reason(catalogue, row))],
                    None => vec![popular::reason(catalogue, row)],
                },
            })
            .collect();
        Ok(Recommendations {
            items,
            cold_start,
            used_ratings: visitor.used_ratings(),
            skipped: visitor.skipped.clone(),
            skipped_count: visitor.skipped_count,
        })
    }

    /// Whether a list may hold `row`, whoever it is for: a movie training users rated (or any,
    /// for a method that ranks unrated movies) that passes the filters and whose title is in.
    fn listable(&self, filter: &Filter, ranks_unrated: bool, row: usize) -> bool {
        let catalogue = &self.model.catalogue;
        (catalogue.movies[row].rating_count > 0 || ranks_unrated) && filter.keeps(catalogue, row) && self.model.has_title(row)
    }

    /// Movie night: one list for every member's ratings ([`crate::group`]). Never a movie any
    /// member rated or `options.exclude` names; each pick lists the members it serves and
    /// every member's predicted stars. A group of one is that visitor's own ranking.
    pub fn recommend_group(
        &self,
        members: &[Vec<RawRating>],
        options: &RecommendOptions,
        aggregation: Aggregation,
    ) -> Result<GroupRecommendations> {
        if members.is_empty() || members.len() > MAX_MEMBERS {
            return Err(Error::InvalidOption {
                name: "members",
                reason: format!("{} members, a group has 1 to {MAX_MEMBERS}", members.len()),
            });
        }
        let catalogue = &self.model.catalogue;
        let filter = Filter::new(options, catalogue)?;
        let method = self.resolve(options.method)?;
        let ranks_unrated = method.entry().ranks_unrated;
        let visitors: Vec<Visitor> = members.iter().map(|m| self.fold_in(m)).collect();
        let candidates: Vec<usize> =
            (0..catalogue.len()).filter(|&r| visitors.iter().all(|v| !v.excluded[r]) && self.listable(&filter, ranks_unrated, r)).collect();
        let mut scores = Vec::with_capacity(visitors.len());
        for v in &visitors {
            scores.push(if v.ratings.all.is_empty() && method != Method::Popular {
                // No ratings: the cold-start order, as a single visitor gets it.
                let order = self.index.cold_start_order();
                let mut s = vec![f32::NEG_INFINITY; catalogue.len()];
                let n = order.len() as f32;
                for (i, &r) in order.iter().enumerate() {
                    s[r] = 1.0 - i as f32 / n;
                }
                s
            } else {
                self.folded(&self.context(v), method)?.scores()
            });
        }
        // A member without ratings ranks unrated movies last; keep the scores finite for the z-scores.
        for s in &mut scores {
            let floor = candidates.iter().map(|&r| s[r]).filter(|x| x.is_finite()).fold(f32::INFINITY, f32::min);
            for &r in &candidates {
                if !s[r].is_finite() {
                    s[r] = if floor.is_finite() { floor - 1.0 } else { 0.0 };
                }
            }
        }
        let picks = aggregate(&scores, &candidates, options.count, aggregation, |r| catalogue.movies[r].id.0);
        let items = picks
            .into_iter()
            .map(|(row, score, serves)| GroupPick {
                movie: catalogue.summary(row),
                score,
                predicted_ratings: visitors
                    .iter()
                    .map(|v| self.predict_row(&self.context(v), row, method))
                    .collect::<Option<_>>()
                    .unwrap_or_default(),
                serves,
            })
            .collect();
        Ok(GroupRecommendations { items, aggregation, members: members.len() })
    }

    /// The method actually used: every method but the hybrid needs its table; the hybrid with
    /// nothing to blend beyond the factor models is `Mf`.
    pub fn resolve(&self, method: Method) -> Result<Method> {
        let parts = self.model.parts();
        match method {
            Method::Hybrid if !parts.has_extras() => Ok(Method::Mf),
            Method::Hybrid => Ok(Method::Hybrid),
            m if parts.get(m).is_some() => Ok(m),
            m => Err(m.missing()),
        }
    }

    /// The methods this model supports, default first.
    pub fn methods(&self) -> Vec<MethodInfo> {
        REGISTRY.iter().filter(|e| self.resolve(e.method) == Ok(e.method)).map(|e| MethodInfo { name: e.method, label: e.label }).collect()
    }

    /// Ranking scores of every row for a folded-in visitor (rated rows included).
    pub fn scores(&self, visitor: &Visitor, method: Method) -> Result<Vec<f32>> {
        Ok(self.folded(&self.context(visitor), method)?.scores())
    }

    /// How much each of the visitor's rated movies adds to `movie`'s score under `method`, as
    /// the reasons see it; `None` when the method's score is not a sum over rated movies.
    pub fn contributions(&self, visitor: &Visitor, method: Method, movie: MovieId) -> Result<Option<Vec<(MovieId, f64)>>> {
        let row = self.row(movie).ok_or(Error::UnknownMovie(movie.0))?;
        let folded = self.folded(&self.context(visitor), method)?;
        let mut total = Contributions::new(&visitor.ratings);
        let movies = &self.model.catalogue.movies;
        Ok(folded.contributions(row, &mut total, 1.0).then(|| total.iter().map(|(j, _, c)| (movies[j].id, c)).collect()))
    }

    /// Predicted stars for `movies` (None for ids outside the catalogue), clipped to the scale.
    pub fn predict(&self, visitor: &Visitor, movies: &[MovieId], method: Method) -> Vec<Option<f32>> {
        let cx = self.context(visitor);
        movies.iter().map(|&id| self.row(id).and_then(|row| self.predict_row(&cx, row, method))).collect()
    }

    /// `None` until the model's star section is in (the popular method's mean needs none).
    fn predict_row(&self, cx: &Context, row: usize, method: Method) -> Option<f32> {
        let info = &self.model.info;
        match method {
            Method::Popular => {
                let m = &self.model.catalogue.movies[row];
                let stars = if m.rating_count > 0 { m.rating_mean } else { cx.global_mean };
                Some(stars.clamp(info.rating_min, info.rating_max))
            }
            _ => predicted_stars(&self.model.parts(), cx, row, (info.rating_min, info.rating_max)),
        }
    }

    /// "More like this": movies most similar to `id`, best first, with the method used.
    /// `method` `ItemKnn` (rated alike by the same viewers) or `Content` (similar attributes);
    /// `None` chooses item neighbours when the movie has any, else attributes, so it works for a
    /// movie nobody has rated.
    pub fn similar_movies(&self, id: MovieId, count: usize, method: Option<Method>) -> Result<SimilarMovies> {
        let row = self.row(id).ok_or(Error::UnknownMovie(id.0))?;
        let extras = &self.model.extras;
        let no_such = |reason: String| Err(Error::InvalidOption { name: "method", reason });
        let (method, rows) = match (method, &extras.item_knn, &extras.content) {
            (Some(Method::ItemKnn), Some(nb), _) => (Method::ItemKnn, nb.similar(row, count)),
            (Some(Method::Content), _, Some(content)) => (Method::Content, content.similar(row, count)),
            (Some(m @ (Method::ItemKnn | Method::Content)), _, _) => return Err(m.missing()),
            (Some(other), _, _) => return no_such(format!("{} has no \"more like this\"; use itemKnn or content", other.name())),
            (None, Some(nb), _) if nb.of(row).next().is_some() => (Method::ItemKnn, nb.similar(row, count)),
            (None, _, Some(content)) => (Method::Content, content.similar(row, count)),
            (None, _, None) => return no_such(format!("movie {} has no neighbours and this model has no attributes", id.0)),
        };
        let items = rows.into_iter().map(|(i, similarity)| Similar { movie: self.model.catalogue.summary(i), similarity }).collect();
        Ok(SimilarMovies { method, items })
    }

    /// Provenance, catalogue size and rating scale.
    pub fn info(&self) -> Info {
        Info { model: self.model.info.clone(), movies: self.model.catalogue.len(), format_version: FORMAT_VERSION }
    }
}
