//! The JavaScript binding: translation only. Each method parses its arguments, calls one core
//! function and maps the error to a JS `Error` carrying the core's message.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::fold_in::RawRating;
use crate::model::MovieId;
use crate::recommender::{RecommendOptions, Recommender as Core};

/// Installs the panic hook once, so a bug shows a Rust message in the console, not "unreachable".
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&format!("could not convert the result: {e}")))
}

fn from_js<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| JsError::new(&format!("invalid {what}: {e}")))
}

fn options(value: JsValue) -> Result<RecommendOptions, JsError> {
    if value.is_undefined() || value.is_null() {
        Ok(RecommendOptions::default())
    } else {
        // serde_wasm_bindgen reads only the known fields: name a misspelt one instead of ignoring it.
        if let Some(obj) = value.dyn_ref::<js_sys::Object>() {
            for key in js_sys::Object::keys(obj).iter().filter_map(|k| k.as_string()) {
                if !RecommendOptions::FIELDS.contains(&key.as_str()) {
                    return Err(JsError::new(&format!(
                        "invalid options: unknown option {key:?} (known: {})",
                        RecommendOptions::FIELDS.join(", ")
                    )));
                }
            }
        }
        from_js(value, "options")
    }
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
    pub fn new(bytes: &[u8]) -> Result<Recommender, JsError> {
        Core::from_bytes(bytes).map(|core| Recommender { core }).map_err(|e| JsError::new(&e.to_string()))
    }

    /// How many leading bytes of a model file `fromCore` needs, once `prefix` holds the header
    /// (`undefined` before that). Throws as soon as the bytes cannot be a model this build reads.
    #[wasm_bindgen(js_name = coreLength)]
    pub fn core_length(prefix: &[u8]) -> Result<Option<u32>, JsError> {
        match crate::Model::core_length(prefix) {
            Ok(n) => n.map(|n| u32::try_from(n).map_err(|_| JsError::new("model core is larger than 4 GB"))).transpose(),
            Err(e) => Err(JsError::new(&e.to_string())),
        }
    }

    /// Loads the core of a model (catalogue and factor models) from the file's first
    /// `coreLength` bytes, so the page can recommend while the rest downloads.
    #[wasm_bindgen(js_name = fromCore)]
    pub fn from_core(bytes: &[u8]) -> Result<Recommender, JsError> {
        Core::from_core_bytes(bytes).map(|core| Recommender { core }).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Adds the other methods' tables from the whole file; on error (truncated, corrupt) this
    /// recommender keeps working with what it has.
    #[wasm_bindgen(js_name = attachExtras)]
    pub fn attach_extras(&mut self, bytes: &[u8]) -> Result<(), JsError> {
        self.core.attach_extras(bytes).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Whether the model's extras are loaded (always, for one made by `new`).
    #[wasm_bindgen(getter, js_name = hasExtras)]
    pub fn has_extras(&self) -> bool {
        self.core.model().has_extras()
    }

    /// Recommendations for `ratings` (`[{movieId, rating}]`) with `options`
    /// (`{count, genres, yearMin, yearMax, method}`, all optional). Returns
    /// `{items, coldStart, usedRatings, skipped}`; bad ratings are skipped and listed, not thrown.
    pub fn recommend(&self, ratings: JsValue, options: JsValue) -> Result<JsValue, JsError> {
        if !js_sys::Array::is_array(&ratings) {
            return Err(JsError::new("invalid ratings: expected an array of {movieId, rating}"));
        }
        let ratings: Vec<RawRating> = from_js(ratings, "ratings")?;
        let options = self::options(options)?;
        let result = self.core.recommend(&ratings, &options).map_err(|e| JsError::new(&e.to_string()))?;
        to_js(&result)
    }

    /// Movies whose title contains every word of `query` (case and accents ignored), best first.
    pub fn search(&self, query: &str, limit: usize) -> Result<JsValue, JsError> {
        to_js(&self.core.search(query, limit))
    }

    /// One movie by MovieLens id, or `null` when it is not in the catalogue.
    pub fn movie(&self, movie_id: u32) -> Result<JsValue, JsError> {
        match self.core.movie(MovieId(movie_id)) {
            Some(m) => to_js(&m),
            None => Ok(JsValue::NULL),
        }
    }

    /// "More like this": `{method, items: [{movie, similarity}]}`. `method` is "itemKnn" or
    /// "content"; left out, item neighbours for a rated movie and attributes for one nobody has
    /// rated. Throws for an unknown id or method.
    #[wasm_bindgen(js_name = similarMovies)]
    pub fn similar_movies(&self, movie_id: u32, count: usize, method: JsValue) -> Result<JsValue, JsError> {
        let method: Option<crate::Method> = if method.is_undefined() || method.is_null() { None } else { Some(from_js(method, "method")?) };
        #[derive(Serialize)]
        struct Similar {
            movie: crate::recommender::MovieSummary,
            similarity: f32,
        }
        #[derive(Serialize)]
        struct Answer {
            method: &'static str,
            items: Vec<Similar>,
        }
        let (method, list) = self.core.similar_movies(MovieId(movie_id), count, method).map_err(|e| JsError::new(&e.to_string()))?;
        to_js(&Answer { method: method.name(), items: list.into_iter().map(|(movie, similarity)| Similar { movie, similarity }).collect() })
    }

    /// The ranking methods this model supports, default first.
    pub fn methods(&self) -> Result<JsValue, JsError> {
        let names: Vec<&str> = crate::Method::ALL.iter().filter(|m| self.core.resolve(**m) == Ok(**m)).map(|m| m.name()).collect();
        to_js(&names)
    }

    /// Popular, well-rated movies for the starting grid.
    pub fn popular(&self, limit: usize) -> Result<JsValue, JsError> {
        to_js(&self.core.popular(limit))
    }

    /// Genre names known to the model.
    pub fn genres(&self) -> Result<JsValue, JsError> {
        to_js(&self.core.model().genre_names)
    }

    /// Provenance, catalogue size and rating scale: `{dataset, users, ratings, ratingMin, ratingMax, trainer, movies, formatVersion}`.
    pub fn info(&self) -> Result<JsValue, JsError> {
        let m = self.core.model();
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Info<'a> {
            dataset: &'a str,
            users: u32,
            ratings: u64,
            rating_min: f32,
            rating_max: f32,
            trainer: &'a str,
            movies: usize,
            format_version: u32,
        }
        to_js(&Info {
            dataset: &m.info.dataset,
            users: m.info.users,
            ratings: m.info.ratings,
            rating_min: m.info.rating_min,
            rating_max: m.info.rating_max,
            trainer: &m.info.trainer,
            movies: m.movies.len(),
            format_version: crate::FORMAT_VERSION,
        })
    }
}
