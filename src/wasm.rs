//! The JavaScript binding: translation only. Each method parses its arguments, calls one core
//! function and maps the error to a JS `Error` carrying the core's message. The TypeScript
//! below types every argument and result as the core's serde types serialise them.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::catalogue::MovieId;
use crate::matching::Wanted;
use crate::rank::RecommendOptions;
use crate::ratings::RawRating;
use crate::recommender::Recommender as Core;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A ranking method; `methods()` lists those a model has. */
export type Method = "hybrid" | "mf" | "itemKnn" | "neural" | "userKnn" | "content" | "ease" | "popular";
/** A rating as the page stores it; anything unusable is skipped and reported, not thrown.
 *  `seen: true` is a movie watched without a rating (its `rating` is ignored): it is folded in,
 *  in its place among the ratings, as a mild positive (3.5 stars on a 5-star scale), left out
 *  of predicted stars, and cited as watched, never as a rating. */
export interface RawRating { movieId: number; rating?: number; seen?: boolean; }
/** Options of `recommend`; all optional. */
export interface RecommendOptions {
  count?: number; genres?: string[]; yearMin?: number; yearMax?: number; method?: Method;
  /** Movie ids never to recommend (seen, not interested, want to watch); at most 100,000. */
  exclude?: number[];
  /** Familiar (0, the default) to discover (1): leans the list toward less popular movies of
   *  genres not yet in it. */
  discover?: number;
}
/** How movie night combines its members' tastes. */
export type Aggregation = "fair" | "average" | "leastMisery";
/** One pick of a movie-night list: whose taste it serves (member indexes) and each member's predicted stars (empty until the model's star section is in: `hasStars`). */
export interface GroupPick extends MovieSummary { score: number; predictedRatings: number[]; serves: number[]; }
export interface GroupRecommendations { items: GroupPick[]; aggregation: Aggregation; members: number; }
/** One row of an import file: whatever it says about the movie (all optional). */
export interface WantedMovie { imdbId?: number; tmdbId?: number; title?: string; originalTitle?: string; year?: number; }
/** The catalogue movie of a row, or why there is none. */
export type MovieMatch =
  | { status: "matched"; movieId: number; by: "imdb" | "tmdb" | "title" }
  | { status: "unmatched"; reason: string };
/** Why a movie is recommended. */
export type Reason =
  | { kind: "rated"; movieId: number; title: string; rating: number }
  | { kind: "seen"; movieId: number; title: string }
  | { kind: "attributes"; names: string[] }
  | { kind: "similarViewers"; rated: number; liked: number }
  | { kind: "popular"; ratingCount: number; ratingMean: number };
/** A recommended movie: the movie's summary, its score, predicted stars (absent until the model's star section is in: `hasStars`) and reasons. */
export interface Recommendation extends MovieSummary { score: number; predictedRating?: number; reasons: Reason[]; }
export interface SkippedRating {
  movieId: number; rating: number;
  reason: "invalidId" | "unknownMovie" | "notFinite" | "outOfRange" | "duplicate";
}
/** `skipped` lists the first 100 ratings left out; `skippedCount` counts them all. */
export interface Recommendations { items: Recommendation[]; coldStart: boolean; usedRatings: number; skipped: SkippedRating[]; skippedCount: number; }
export interface MovieSummary {
  /** "" until the model's links section is in (`hasLinks`) for a movie the core's ranking has no
   *  factors for (such a movie is never listed before that, but a visitor may have rated it). */
  movieId: number; title: string; year: number | null; genres: string[];
  ratingCount: number; ratingMean: number;
  /** null when the movie has none, and for every movie until the model's links section is in (`hasLinks`). */
  imdbId: number | null; tmdbId: number | null;
}
export interface SimilarMovies { method: "itemKnn" | "content"; items: { movie: MovieSummary; similarity: number }[]; }
export interface MethodInfo { name: Method; label: string; }
/** The weights the trainer learned for the hybrid, one object per rating-count bucket. */
export interface LearnedChoices {
  recencyHalfLife: number; recencyCoherence: number; explicitWeight: number; alpha: number;
  hybrid: { buckets: [number[], number[], number[]] };
  /** Validation NDCG@10 by kind of visitor: [kind, starting point, chosen]. */
  validation: [string, number, number][];
  users: number; seconds: number;
}
export interface ModelInfo {
  dataset: string; users: number; ratings: number; ratingMin: number; ratingMax: number;
  trainer: string; learned: LearnedChoices | null; movies: number; formatVersion: number;
}
"#;

/// Installs the panic hook once, so a bug shows a Rust message in the console, not "unreachable".
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The core's error as a JS `Error` with its message.
fn js_error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| js_error(format!("could not convert the result: {e}")))
}

fn from_js<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| js_error(format!("invalid {what}: {e}")))
}

/// A JS number that must be a whole number in `0..=u32::MAX` (an id, a count): never wrapped,
/// truncated or clamped the way a `u32` parameter would be (`2**32 + 318` is not movie 318, and
/// `-1` is not "everything").
fn whole(name: &str, value: f64) -> Result<u32, JsError> {
    if value.is_finite() && value >= 0.0 && value <= u32::MAX as f64 && value.fract() == 0.0 {
        Ok(value as u32)
    } else {
        Err(js_error(format!("invalid {name}: {value} is not a whole number from 0 to {}", u32::MAX)))
    }
}

/// A JS value that must be a number, for [`whole`].
fn number(name: &str, value: &JsValue) -> Result<u32, JsError> {
    match value.as_f64() {
        Some(v) => whole(name, v),
        None => Err(js_error(format!("invalid {name}: expected a number, got {}", type_name(value)))),
    }
}

/// What kind of JS value this is, for messages.
fn type_name(value: &JsValue) -> String {
    value.js_typeof().as_string().unwrap_or_else(|| "value".into())
}

/// One element of the ratings array as a [`RawRating`]: a field that is not a number (a
/// string, `null`, missing) becomes NaN, which the core skips and reports like any unusable
/// value, so one bad element never rejects the rest.
fn raw_rating(value: &JsValue) -> RawRating {
    let field = |name: &str| {
        if value.is_object() {
            js_sys::Reflect::get(value, &JsValue::from_str(name)).ok().and_then(|v| v.as_f64()).unwrap_or(f64::NAN)
        } else {
            f64::NAN
        }
    };
    let seen = value.is_object() && js_sys::Reflect::get(value, &JsValue::from_str("seen")).ok().is_some_and(|v| v.as_bool() == Some(true));
    RawRating { movie_id: field("movieId"), rating: field("rating"), seen }
}

/// One element of the rows array as a [`Wanted`]: a field of the wrong type counts as absent
/// (the row may still match by its other fields, or is reported unmatched).
fn wanted(value: &JsValue) -> Wanted {
    let field = |name: &str| if value.is_object() { js_sys::Reflect::get(value, &JsValue::from_str(name)).ok() } else { None };
    let id = |name: &str| field(name).and_then(|v| v.as_f64()).and_then(|v| whole(name, v).ok());
    let text = |name: &str| field(name).and_then(|v| v.as_string());
    let year = field("year").and_then(|v| v.as_f64()).filter(|y| y.fract() == 0.0 && (0.0..=u16::MAX as f64).contains(y)).map(|y| y as u16);
    Wanted { imdb_id: id("imdbId"), tmdb_id: id("tmdbId"), title: text("title"), original_title: text("originalTitle"), year }
}

/// The bytes of a `Uint8Array` (or `ArrayBuffer`); anything else is an error naming its type
/// (a number passed as bytes would otherwise be read as an address by the generated glue).
fn bytes(what: &str, value: &JsValue) -> Result<Vec<u8>, JsError> {
    if let Some(a) = value.dyn_ref::<js_sys::Uint8Array>() {
        Ok(a.to_vec())
    } else if let Some(b) = value.dyn_ref::<js_sys::ArrayBuffer>() {
        Ok(js_sys::Uint8Array::new(b).to_vec())
    } else {
        Err(js_error(format!("invalid {what}: expected a Uint8Array, got {}", type_name(value))))
    }
}

/// How many leading bytes of a model file a section needs (`end` reads it from the header in
/// `prefix`), as a number JS can hold; `too_large` when it is beyond 4 GB.
fn prefix_length(prefix: &JsValue, end: fn(&[u8]) -> crate::Result<Option<usize>>, too_large: &str) -> Result<Option<u32>, JsError> {
    match end(&bytes("prefix", prefix)?).map_err(js_error)? {
        Some(n) => u32::try_from(n).map(Some).map_err(|_| js_error(too_large)),
        None => Ok(None),
    }
}

fn options(value: JsValue) -> Result<RecommendOptions, JsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(RecommendOptions::default());
    }
    // serde_wasm_bindgen reads only the known fields: name a misspelt one instead of ignoring it.
    if let Some(obj) = value.dyn_ref::<js_sys::Object>() {
        for key in js_sys::Object::keys(obj).iter().filter_map(|k| k.as_string()) {
            if !RecommendOptions::FIELDS.contains(&key.as_str()) {
                return Err(js_error(format!("invalid options: unknown option {key:?} (known: {})", RecommendOptions::FIELDS.join(", "))));
            }
        }
    }
    from_js(value, "options")
}

/// A loaded model, ready to recommend. Construct with `new Recommender(bytes)`.
#[wasm_bindgen]
pub struct Recommender {
    core: Core,
}

#[wasm_bindgen]
impl Recommender {
    /// Validates and loads a packed model (`Uint8Array`). Throws an `Error` naming what is wrong
    /// (truncated, not a model, unsupported version, corrupt).
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue) -> Result<Recommender, JsError> {
        Core::from_bytes(&self::bytes("model", &bytes)?).map(|core| Recommender { core }).map_err(js_error)
    }

    /// How many leading bytes of a model file `fromCore` needs, once `prefix` holds the header
    /// (`undefined` before that). Throws as soon as the bytes cannot be a model this build reads.
    #[wasm_bindgen(js_name = coreLength)]
    pub fn core_length(#[wasm_bindgen(unchecked_param_type = "Uint8Array")] prefix: JsValue) -> Result<Option<u32>, JsError> {
        prefix_length(&prefix, crate::Model::core_length, "model core is larger than 4 GB")
    }

    /// How many leading bytes of a model file `attachLinks` needs, once `prefix` holds the
    /// header (`undefined` before that). Throws as soon as the bytes cannot be a model this
    /// build reads.
    #[wasm_bindgen(js_name = linksLength)]
    pub fn links_length(#[wasm_bindgen(unchecked_param_type = "Uint8Array")] prefix: JsValue) -> Result<Option<u32>, JsError> {
        prefix_length(&prefix, crate::Model::links_length, "model core and links are larger than 4 GB")
    }

    /// How many leading bytes of a model file `attachStars` needs, once `prefix` holds the
    /// header (`undefined` before that). Throws as soon as the bytes cannot be a model this
    /// build reads.
    #[wasm_bindgen(js_name = starsLength)]
    pub fn stars_length(#[wasm_bindgen(unchecked_param_type = "Uint8Array")] prefix: JsValue) -> Result<Option<u32>, JsError> {
        prefix_length(&prefix, crate::Model::stars_length, "model core and stars are larger than 4 GB")
    }

    /// How many bytes the whole model file has, once `prefix` holds the header (`undefined`
    /// before that). Throws as soon as the bytes cannot be a model this build reads.
    #[wasm_bindgen(js_name = fileLength)]
    pub fn file_length(#[wasm_bindgen(unchecked_param_type = "Uint8Array")] prefix: JsValue) -> Result<Option<f64>, JsError> {
        Ok(crate::Model::file_length(&bytes("prefix", &prefix)?).map_err(js_error)?.map(|n| n as f64))
    }

    /// Loads the core of a model (catalogue and the ranking factor model) from the file's first
    /// `coreLength` bytes, so the page can recommend while the rest downloads; the movies'
    /// IMDb and TMDB ids (links, matching imports) and the titles of the movies the core cannot
    /// rank (search finds them, lists hold them only then) come with `attachLinks`, predicted
    /// stars with `attachStars`.
    #[wasm_bindgen(js_name = fromCore)]
    pub fn from_core(#[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue) -> Result<Recommender, JsError> {
        Core::from_core_bytes(&self::bytes("model", &bytes)?).map(|core| Recommender { core }).map_err(js_error)
    }

    /// Adds the movies' IMDb and TMDB ids, and the titles the core leaves out, from the file's
    /// first `linksLength` bytes; a no-op
    /// once they are in. On error (truncated, corrupt, another file) this recommender keeps
    /// working with what it has.
    #[wasm_bindgen(js_name = attachLinks)]
    pub fn attach_links(&mut self, #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue) -> Result<(), JsError> {
        self.core.attach_links(&self::bytes("model", &bytes)?).map_err(js_error)
    }

    /// Whether the movies' IMDb and TMDB ids and every title are in, so that movies carry them
    /// and import rows can be matched (always, for one made by `new`).
    #[wasm_bindgen(getter, js_name = hasLinks)]
    pub fn has_links(&self) -> bool {
        self.core.model().has_links
    }

    /// Adds the star model (predicted stars) from the file's first `starsLength` bytes, and the
    /// links if they are not in yet; a no-op once both are in. On error (truncated, corrupt,
    /// another file) this recommender keeps working with what it has.
    #[wasm_bindgen(js_name = attachStars)]
    pub fn attach_stars(&mut self, #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue) -> Result<(), JsError> {
        self.core.attach_stars(&self::bytes("model", &bytes)?).map_err(js_error)
    }

    /// Whether the star model is in, so that recommendations carry predicted stars (always,
    /// for one made by `new`).
    #[wasm_bindgen(getter, js_name = hasStars)]
    pub fn has_stars(&self) -> bool {
        self.core.model().has_stars()
    }

    /// Adds the other methods' tables (and the links and the star model, if they are not in
    /// yet) from the whole file; on error (truncated, corrupt) this recommender keeps working
    /// with what it has.
    #[wasm_bindgen(js_name = attachExtras)]
    pub fn attach_extras(&mut self, #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue) -> Result<(), JsError> {
        self.core.attach_extras(&self::bytes("model", &bytes)?).map_err(js_error)
    }

    /// Whether the model's extras are loaded (always, for one made by `new`).
    #[wasm_bindgen(getter, js_name = hasExtras)]
    pub fn has_extras(&self) -> bool {
        self.core.model().has_extras()
    }

    /// Recommendations for `ratings` with `options` (all optional); bad ratings are skipped and
    /// listed in `skipped`, not thrown.
    #[wasm_bindgen(unchecked_return_type = "Recommendations")]
    pub fn recommend(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RawRating[]")] ratings: JsValue,
        #[wasm_bindgen(unchecked_param_type = "RecommendOptions | undefined")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        if !js_sys::Array::is_array(&ratings) {
            return Err(js_error("invalid ratings: expected an array of {movieId, rating}"));
        }
        let ratings: Vec<RawRating> = js_sys::Array::from(&ratings).iter().map(|r| raw_rating(&r)).collect();
        to_js(&self.core.recommend(&ratings, &self::options(options)?).map_err(js_error)?)
    }

    /// Movies whose title contains every word of `query` (case and accents ignored), best first.
    /// Only the first 200 characters of `query` count. Throws unless `query` is a string.
    #[wasm_bindgen(unchecked_return_type = "MovieSummary[]")]
    pub fn search(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] query: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] limit: JsValue,
    ) -> Result<JsValue, JsError> {
        let Some(query) = query.as_string() else {
            return Err(js_error(format!("invalid query: expected a string, got {}", type_name(&query))));
        };
        to_js(&self.core.search(&query, number("limit", &limit)? as usize))
    }

    /// The catalogue movie of each row of an import file, in order: by IMDb or TMDB id where the
    /// row has one, else by title and year (a year off by one still matches). At most 200,000 rows.
    /// Throws until the links are in (`hasLinks`).
    #[wasm_bindgen(js_name = matchMovies, unchecked_return_type = "MovieMatch[]")]
    pub fn match_movies(&self, #[wasm_bindgen(unchecked_param_type = "WantedMovie[]")] rows: JsValue) -> Result<JsValue, JsError> {
        if !js_sys::Array::is_array(&rows) {
            return Err(js_error("invalid rows: expected an array of {imdbId, tmdbId, title, year}"));
        }
        let rows: Vec<Wanted> = js_sys::Array::from(&rows).iter().map(|r| wanted(&r)).collect();
        to_js(&self.core.match_movies(&rows).map_err(js_error)?)
    }

    /// One movie by MovieLens id, or `null` when it is not in the catalogue.
    #[wasm_bindgen(unchecked_return_type = "MovieSummary | null")]
    pub fn movie(&self, #[wasm_bindgen(unchecked_param_type = "number")] movie_id: JsValue) -> Result<JsValue, JsError> {
        to_js(&self.core.movie(MovieId(number("movie id", &movie_id)?)))
    }

    /// "More like this": `method` "itemKnn" or "content"; left out, item neighbours for a rated
    /// movie and attributes for one nobody has rated. Throws for an unknown id or method.
    #[wasm_bindgen(js_name = similarMovies, unchecked_return_type = "SimilarMovies")]
    pub fn similar_movies(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] movie_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] count: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Method | undefined")] method: JsValue,
    ) -> Result<JsValue, JsError> {
        let (movie_id, count) = (number("movie id", &movie_id)?, number("count", &count)?);
        let method = if method.is_undefined() || method.is_null() { None } else { Some(from_js(method, "method")?) };
        to_js(&self.core.similar_movies(MovieId(movie_id), count as usize, method).map_err(js_error)?)
    }

    /// The ranking methods this model supports, default first.
    #[wasm_bindgen(unchecked_return_type = "MethodInfo[]")]
    pub fn methods(&self) -> Result<JsValue, JsError> {
        to_js(&self.core.methods())
    }

    /// Movie night: one list for several people's ratings (`members`: one `RawRating[]` each,
    /// 1 to 8), combined by `aggregation` ("fair" by default, "average", "leastMisery"). Never
    /// a movie any member rated; each pick says whose taste it serves (`serves`: member
    /// indexes) and every member's predicted stars.
    #[wasm_bindgen(js_name = recommendGroup, unchecked_return_type = "GroupRecommendations")]
    pub fn recommend_group(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RawRating[][]")] members: JsValue,
        #[wasm_bindgen(unchecked_param_type = "RecommendOptions | undefined")] options: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Aggregation | undefined")] aggregation: JsValue,
    ) -> Result<JsValue, JsError> {
        if !js_sys::Array::is_array(&members) {
            return Err(js_error("invalid members: expected an array of rating arrays"));
        }
        let mut lists = Vec::new();
        for m in js_sys::Array::from(&members).iter() {
            if !js_sys::Array::is_array(&m) {
                return Err(js_error("invalid members: each member is an array of {movieId, rating}"));
            }
            lists.push(js_sys::Array::from(&m).iter().map(|r| raw_rating(&r)).collect::<Vec<RawRating>>());
        }
        let aggregation =
            if aggregation.is_undefined() || aggregation.is_null() { Default::default() } else { from_js(aggregation, "aggregation")? };
        to_js(&self.core.recommend_group(&lists, &self::options(options)?, aggregation).map_err(js_error)?)
    }

    /// The next `count` movies (1..=100) to ask the visitor to rate, given their `ratings` and
    /// the ids they answered "haven't seen it" (`unseen`; unknown ids ignored, bad elements
    /// skipped); never one already rated or answered. Call again after every answer.
    #[wasm_bindgen(unchecked_return_type = "MovieSummary[]")]
    pub fn questions(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RawRating[]")] ratings: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number[]")] unseen: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] count: JsValue,
    ) -> Result<JsValue, JsError> {
        if !js_sys::Array::is_array(&ratings) || !js_sys::Array::is_array(&unseen) {
            return Err(js_error("invalid questions: expected an array of ratings and an array of unseen ids"));
        }
        let ratings: Vec<RawRating> = js_sys::Array::from(&ratings).iter().map(|r| raw_rating(&r)).collect();
        let unseen: Vec<u32> = js_sys::Array::from(&unseen).iter().filter_map(|v| v.as_f64().and_then(|v| whole("id", v).ok())).collect();
        let visitor = self.core.fold_in(&ratings);
        to_js(&self.core.questions(&visitor, &unseen, number("count", &count)? as usize).map_err(js_error)?)
    }

    /// Popular, well-rated movies for the starting grid.
    #[wasm_bindgen(unchecked_return_type = "MovieSummary[]")]
    pub fn popular(&self, #[wasm_bindgen(unchecked_param_type = "number")] limit: JsValue) -> Result<JsValue, JsError> {
        to_js(&self.core.popular(number("limit", &limit)? as usize))
    }

    /// Genre names known to the model.
    #[wasm_bindgen(unchecked_return_type = "string[]")]
    pub fn genres(&self) -> Result<JsValue, JsError> {
        to_js(&self.core.model().catalogue.genre_names)
    }

    /// The model file's identity: its core's checksum in hex, the same for every load of the
    /// same file. The page keeps its last list under it (`www/js/kept.js`), so that a deploy of
    /// another model never shows a list the new one did not compute.
    #[wasm_bindgen(js_name = modelId)]
    pub fn model_id(&self) -> String {
        self.core.model().core_checksum().map(|c| format!("{c:016x}")).unwrap_or_default()
    }

    /// Provenance, catalogue size and rating scale.
    #[wasm_bindgen(unchecked_return_type = "ModelInfo")]
    pub fn info(&self) -> Result<JsValue, JsError> {
        to_js(&self.core.info())
    }
}
