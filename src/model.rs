//! The packed model: everything the browser needs, in one versioned, checksummed file.
//!
//! Layout of the bytes: `MAGIC` (8) | format version (u32 LE) | core length, core FNV-1a 64
//! checksum, extras length, extras checksum (u64 LE each) | core | extras (postcard each). The
//! core is what the first recommendations need (catalogue, factor models, blend weights); the
//! extras are the other methods' tables (item and user neighbours, attributes, autoencoder).
//! A page reads the core as soon as its bytes have arrived and attaches the extras when the rest
//! has ([`Model::core_length`], [`Model::core_from_bytes`], [`Model::attach_extras`]): on a slow
//! connection the first recommendations wait for a fifth of the file, not all of it.
//! The fixed header is read before anything is decoded, so a truncated download, an HTML error
//! page or a newer format is a clear [`Error`], never a panic; decoded parts are validated field
//! by field.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// First bytes of every model file.
pub const MAGIC: &[u8; 8] = b"MOVRECS\0";
/// Format version this build reads and writes. Bump on any change to the body's shape.
pub const FORMAT_VERSION: u32 = 7;
/// Bytes before the core section.
pub const HEADER_LEN: usize = 8 + 4 + 4 * 8;

/// A MovieLens movie id, kept apart from dense row indices into the factor matrices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MovieId(pub u32);

/// Metadata of one movie in the catalogue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Movie {
    /// MovieLens id.
    pub id: MovieId,
    /// Display title, without the year ("The American President").
    pub title: String,
    /// Release year parsed from the MovieLens title, when present.
    pub year: Option<u16>,
    /// Bit `g` set when the movie has genre `Model::genre_names[g]`.
    pub genres: u32,
    /// IMDb numeric id (links.csv), when known.
    pub imdb_id: Option<u32>,
    /// TMDB id (links.csv), when known.
    pub tmdb_id: Option<u32>,
    /// Number of training ratings.
    pub rating_count: u32,
    /// Mean training rating (0 when unrated).
    pub rating_mean: f32,
}

/// `mean` as the file keeps it (thousandths of a star), so that a model built in memory equals
/// the same model read back.
pub fn round_mean(mean: f32) -> f32 {
    (mean * 1000.0).round() / 1000.0
}

/// The catalogue on disk as columns rather than one record a movie: like values sit together,
/// so the file compresses better (the metadata's gzip size fell by about a third); ids are
/// stored as steps from the previous id, optional values as `value + 1` with 0 for none.
mod movie_columns {
    use serde::{de::Error as _, Deserialize, Deserializer, Serialize, Serializer};

    use super::{Movie, MovieId};

    #[derive(Serialize, Deserialize)]
    struct Columns {
        id_steps: Vec<i64>,
        titles: Vec<String>,
        years: Vec<u32>,
        genres: Vec<u32>,
        imdb_ids: Vec<u64>,
        tmdb_ids: Vec<u64>,
        rating_counts: Vec<u32>,
        /// Thousandths of a star.
        rating_means: Vec<i32>,
    }

    fn some_plus_one(v: Option<u32>) -> u64 {
        v.map_or(0, |v| v as u64 + 1)
    }

    fn minus_one(v: u64) -> Option<u32> {
        v.checked_sub(1).map(|v| v as u32)
    }

    pub fn serialize<S: Serializer>(movies: &[Movie], s: S) -> Result<S::Ok, S::Error> {
        let mut previous = 0i64;
        Columns {
            id_steps: movies
                .iter()
                .map(|m| {
                    let step = m.id.0 as i64 - previous;
                    previous = m.id.0 as i64;
                    step
                })
                .collect(),
            titles: movies.iter().map(|m| m.title.clone()).collect(),
            years: movies.iter().map(|m| some_plus_one(m.year.map(u32::from)) as u32).collect(),
            genres: movies.iter().map(|m| m.genres).collect(),
            imdb_ids: movies.iter().map(|m| some_plus_one(m.imdb_id)).collect(),
            tmdb_ids: movies.iter().map(|m| some_plus_one(m.tmdb_id)).collect(),
            rating_counts: movies.iter().map(|m| m.rating_count).collect(),
            rating_means: movies.iter().map(|m| (m.rating_mean * 1000.0).round() as i32).collect(),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Movie>, D::Error> {
        let c = Columns::deserialize(d)?;
        let n = c.id_steps.len();
        let lengths = [
            c.titles.len(),
            c.years.len(),
            c.genres.len(),
            c.imdb_ids.len(),
            c.tmdb_ids.len(),
            c.rating_counts.len(),
            c.rating_means.len(),
        ];
        if lengths.iter().any(|&l| l != n) {
            return Err(D::Error::custom(format!("movie columns have different lengths: {n} ids, then {lengths:?}")));
        }
        let mut id = 0i64;
        let mut movies = Vec::with_capacity(n);
        for (i, title) in c.titles.into_iter().enumerate() {
            id += c.id_steps[i];
            let too_big = |what: &str, v: u64| D::Error::custom(format!("movie {i}: {what} {v} is out of range"));
            let id32 = u32::try_from(id).map_err(|_| D::Error::custom(format!("movie {i}: id {id} is out of range")))?;
            let year = match minus_one(c.years[i] as u64) {
                Some(y) => Some(u16::try_from(y).map_err(|_| too_big("year", y as u64))?),
                None => None,
            };
            let id_of = |what: &str, v: u64| if v > u32::MAX as u64 + 1 { Err(too_big(what, v)) } else { Ok(minus_one(v)) };
            movies.push(Movie {
                id: MovieId(id32),
                title,
                year,
                genres: c.genres[i],
                imdb_id: id_of("IMDb id", c.imdb_ids[i])?,
                tmdb_id: id_of("TMDB id", c.tmdb_ids[i])?,
                rating_count: c.rating_counts[i],
                rating_mean: c.rating_means[i] as f32 / 1000.0,
            });
        }
        Ok(movies)
    }
}

/// How a factor matrix is stored in the file; in memory it is always `f32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FactorStorage {
    /// Four bytes a value, exact.
    F32,
    /// One byte a value with one `f32` scale per row (symmetric, round to nearest).
    Int8,
    /// Half a byte a value (-7..=7) with one bf16 scale per row; a row of zeros (a movie the
    /// model has nothing for) costs one bit. Chosen by measurement for the shipped factors: on
    /// ml-latest-small it scores the same as f32 (tuning/README.md) at an eighth of the bytes.
    Int4,
}

/// A dense row-major `rows x cols` matrix of `f32`, one row per movie.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "StoredFactors", try_from = "StoredFactors")]
pub struct FactorMatrix {
    rows: usize,
    cols: usize,
    data: Vec<f32>,
    storage: FactorStorage,
    /// For int8 and int4 storage, the stored values (one byte each) and row scales, kept for
    /// scoring the whole catalogue (a quarter of the memory traffic of `data`).
    int8: Option<Int8Rows>,
}

/// The quantised rows that are not all zero: `rows[j]`'s values are `values[j * cols..][..cols]`
/// times `scales[j]`; every other row scores 0 without being read.
#[derive(Clone, Debug, PartialEq)]
struct Int8Rows {
    rows: Vec<u32>,
    values: Vec<i8>,
    scales: Vec<f32>,
}

impl FactorMatrix {
    /// Wraps row-major `data`; fails unless `data.len() == rows * cols` and every value is finite.
    pub fn new(rows: usize, cols: usize, data: Vec<f32>, storage: FactorStorage) -> Result<Self> {
        if data.len() != rows * cols {
            return Err(Error::InvalidModel(format!("factor matrix has {} values, expected {rows} x {cols}", data.len())));
        }
        if let Some(pos) = data.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidModel(format!(
                "factor matrix value at row {} column {} is {}",
                pos / cols.max(1),
                pos % cols.max(1),
                data[pos]
            )));
        }
        Ok(Self { rows, cols, data, storage, int8: None })
    }

    /// Number of rows (movies).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (latent factors).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i` as a slice. Panics when `i >= rows` (an internal index, never visitor input).
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// All values, row-major.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// How the matrix is written to the file.
    pub fn storage(&self) -> FactorStorage {
        self.storage
    }

    /// The same values written with another storage; re-reading applies its rounding.
    pub fn with_storage(mut self, storage: FactorStorage) -> Self {
        self.storage = storage;
        if storage != FactorStorage::F32 {
            // Apply the rounding now so that the in-memory model equals a reloaded one.
            let stored = StoredFactors::from(self.clone());
            self = FactorMatrix::try_from(stored).expect("re-quantised values stay finite");
        }
        self
    }

    /// `row . v` for every row, best-effort fast: with int8 storage the rows are read as stored
    /// and `v` is quantised to int16 (relative error about 1e-4), else plain f32 dot products.
    pub fn dot_all(&self, v: &[f32]) -> Vec<f32> {
        debug_assert_eq!(v.len(), self.cols);
        let Some(q) = &self.int8 else {
            return (0..self.rows).map(|r| crate::kernels::dot(self.row(r), v)).collect();
        };
        let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let mut out = vec![0.0; self.rows];
        if max == 0.0 || self.cols == 0 {
            return out;
        }
        let v_scale = max / i16::MAX as f32;
        let qv: Vec<i16> = v.iter().map(|x| (x / v_scale).round() as i16).collect();
        for ((&row, values), &s) in q.rows.iter().zip(q.values.chunks_exact(self.cols)).zip(&q.scales) {
            out[row as usize] = crate::kernels::dot_i8_i16(values, &qv) as f32 * s * v_scale;
        }
        out
    }

    /// `self^T self`, the Gram matrix (`cols x cols`, row-major, f64) used by implicit fold-in.
    pub fn gram(&self) -> Vec<f64> {
        let k = self.cols;
        let mut g = vec![0.0f64; k * k];
        for r in 0..self.rows {
            let row = self.row(r);
            for a in 0..k {
                let ra = row[a] as f64;
                for b in a..k {
                    g[a * k + b] += ra * row[b] as f64;
                }
            }
        }
        for a in 0..k {
            for b in 0..a {
                g[a * k + b] = g[b * k + a];
            }
        }
        g
    }
}

#[derive(Serialize, Deserialize)]
enum StoredFactors {
    F32 {
        rows: u32,
        cols: u32,
        values: Vec<f32>,
    },
    Int8 {
        rows: u32,
        cols: u32,
        scales: Vec<f32>,
        values: Vec<i8>,
    },
    /// `present`: one bit a row (LSB first), set for the rows stored; `scales`: bf16, little
    /// endian, one per stored row; `values`: two a byte (low nibble first), each `q + 8`.
    Int4 {
        rows: u32,
        cols: u32,
        present: Vec<u8>,
        scales: Vec<u8>,
        values: Vec<u8>,
    },
}

/// `x` rounded to the nearest bfloat16 (the top 16 bits of an `f32`), as those bits.
pub(crate) fn bf16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    ((b + 0x7fff + ((b >> 16) & 1)) >> 16) as u16
}

/// The `f32` a bfloat16 stands for.
pub(crate) fn from_bf16(bits: u16) -> f32 {
    f32::from_bits((bits as u32) << 16)
}

/// Largest int4 level: symmetric -7..=7, so that negation is exact.
const INT4_MAX: f32 = 7.0;

impl From<FactorMatrix> for StoredFactors {
    fn from(m: FactorMatrix) -> Self {
        let (rows, cols) = (m.rows as u32, m.cols as u32);
        match m.storage {
            FactorStorage::F32 => StoredFactors::F32 { rows, cols, values: m.data },
            FactorStorage::Int8 => {
                let mut scales = Vec::with_capacity(m.rows);
                let mut values = Vec::with_capacity(m.data.len());
                for r in 0..m.rows {
                    let row = m.row(r);
                    let max = row.iter().fold(0.0f32, |a, v| a.max(v.abs()));
                    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
                    scales.push(scale);
                    values.extend(row.iter().map(|v| (v / scale).round().clamp(-127.0, 127.0) as i8));
                }
                StoredFactors::Int8 { rows, cols, scales, values }
            }
            FactorStorage::Int4 => {
                let mut present = vec![0u8; m.rows.div_ceil(8)];
                let (mut scales, mut values) = (Vec::new(), Vec::new());
                for r in 0..m.rows {
                    let row = m.row(r);
                    let max = row.iter().fold(0.0f32, |a, v| a.max(v.abs()));
                    if max == 0.0 {
                        continue;
                    }
                    present[r / 8] |= 1 << (r % 8);
                    let bits = bf16_bits(max / INT4_MAX);
                    scales.extend_from_slice(&bits.to_le_bytes());
                    let scale = from_bf16(bits);
                    let level = |v: f32| ((v / scale).round().clamp(-INT4_MAX, INT4_MAX) as i8 + 8) as u8;
                    values.extend(row.chunks(2).map(|p| level(p[0]) | p.get(1).map_or(0, |&v| level(v) << 4)));
                }
                StoredFactors::Int4 { rows, cols, present, scales, values }
            }
        }
    }
}

impl TryFrom<StoredFactors> for FactorMatrix {
    type Error = Error;
    fn try_from(s: StoredFactors) -> Result<Self> {
        match s {
            StoredFactors::F32 { rows, cols, values } => FactorMatrix::new(rows as usize, cols as usize, values, FactorStorage::F32),
            StoredFactors::Int8 { rows, cols, scales, values } => {
                let (rows, cols) = (rows as usize, cols as usize);
                if scales.len() != rows || values.len() != rows * cols {
                    return Err(Error::InvalidModel(format!(
                        "int8 factors have {} scales and {} values for {rows} x {cols}",
                        scales.len(),
                        values.len()
                    )));
                }
                let data = values
                    .chunks_exact(cols.max(1))
                    .zip(&scales)
                    .flat_map(|(row, &s)| row.iter().map(move |&v| v as f32 * s))
                    .collect::<Vec<_>>();
                let mut m = FactorMatrix::new(rows, cols, if cols == 0 { Vec::new() } else { data }, FactorStorage::Int8)?;
                if scales.iter().any(|s| !s.is_finite()) {
                    return Err(Error::InvalidModel("int8 factor scales are not finite".into()));
                }
                m.int8 = Some(Int8Rows { rows: (0..rows as u32).collect(), values, scales });
                Ok(m)
            }
            StoredFactors::Int4 { rows, cols, present, scales, values } => {
                let (rows, cols) = (rows as usize, cols as usize);
                let stored: Vec<u32> =
                    (0..rows as u32).filter(|&r| present.get(r as usize / 8).is_some_and(|b| b >> (r % 8) & 1 == 1)).collect();
                let row_bytes = cols.div_ceil(2);
                if present.len() != rows.div_ceil(8) || scales.len() != 2 * stored.len() || values.len() != stored.len() * row_bytes {
                    return Err(Error::InvalidModel(format!(
                        "int4 factors have a {}-byte row mask, {} scale bytes and {} value bytes for {rows} x {cols} ({} rows stored)",
                        present.len(),
                        scales.len(),
                        values.len(),
                        stored.len()
                    )));
                }
                let scales: Vec<f32> = scales.chunks_exact(2).map(|b| from_bf16(u16::from_le_bytes([b[0], b[1]]))).collect();
                if scales.iter().any(|s| !s.is_finite()) {
                    return Err(Error::InvalidModel("int4 factor scales are not finite".into()));
                }
                let levels: Vec<i8> = values
                    .chunks_exact(row_bytes.max(1))
                    .flat_map(|row| row.iter().flat_map(|&b| [(b & 15) as i8 - 8, (b >> 4) as i8 - 8]).take(cols))
                    .collect();
                let mut data = vec![0.0f32; rows * cols];
                for ((&r, q), &s) in stored.iter().zip(levels.chunks_exact(cols.max(1))).zip(&scales) {
                    for (d, &v) in data[r as usize * cols..][..cols].iter_mut().zip(q) {
                        *d = v as f32 * s;
                    }
                }
                let mut m = FactorMatrix::new(rows, cols, data, FactorStorage::Int4)?;
                m.int8 = Some(Int8Rows { rows: stored, values: levels, scales });
                Ok(m)
            }
        }
    }
}

/// How fold-in sets a visitor's ridge: the rule the item factors were trained with, so that a
/// visitor is solved exactly as a training user was.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegRule {
    /// This project's trainer: a constant ridge, and (explicit model) a user bias.
    #[default]
    Constant,
    /// Spark MLlib's ALS (imported factors): no biases, and the ridge is `reg` times the number
    /// of ratings folded in (implicit mode: of positive ratings), Zhou et al.'s ALS-WR scaling.
    PerRating,
}

/// Biased matrix factorisation on explicit ratings: `r_ui ~ mu + b_i + b_u + p_u . q_i`.
/// Predicts stars; the visitor's `b_u, p_u` come from [`crate::fold_in`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExplicitFactors {
    /// Global mean rating `mu` of the training data.
    pub global_mean: f32,
    /// Item biases `b_i`, one per movie row.
    pub item_bias: Vec<f32>,
    /// Item factors `q_i`, one row per movie.
    pub item_factors: FactorMatrix,
    /// Regularisation of the user factors, as the trainer used it.
    pub reg_factors: f32,
    /// Regularisation of the user bias, as the trainer used it.
    pub reg_bias: f32,
    /// How the ridge scales; [`RegRule::PerRating`] also drops the user bias.
    pub rule: RegRule,
}

/// Confidence-weighted implicit factors (Hu, Koren and Volinsky 2008): rank what the visitor is
/// likely to watch and like next. A rating `r` that is `age` ratings older than the visitor's
/// latest counts as a positive with confidence
/// `(1 + alpha * max(r - rating_offset, 0)) * 0.5^(age / recency_half_life)`: recent ratings say
/// more about what comes next.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImplicitFactors {
    /// Item factors `y_i`, one row per movie.
    pub item_factors: FactorMatrix,
    /// Ridge regularisation of the user vector.
    pub reg: f32,
    /// Confidence slope.
    pub alpha: f32,
    /// Ratings at or below this add no confidence beyond the base 1.
    pub rating_offset: f32,
    /// Weight of the explicit model's centred predicted rating in the ranking score.
    pub explicit_weight: f32,
    /// Half-life of a rating's confidence, in ratings made since; 0 disables the decay.
    pub recency_half_life: f32,
    /// How the ridge scales with the visitor's ratings.
    pub rule: RegRule,
}

impl ImplicitFactors {
    /// Confidence of a rating made `age` ratings before the latest one (age 0 is the latest).
    pub fn confidence(&self, rating: f32, age: usize) -> f32 {
        confidence(self.alpha, self.rating_offset, self.recency_half_life, rating, age)
    }
}

/// The confidence rule shared by the trainer and fold-in; see [`ImplicitFactors`].
pub fn confidence(alpha: f32, rating_offset: f32, half_life: f32, rating: f32, age: usize) -> f32 {
    let base = 1.0 + alpha * (rating - rating_offset).max(0.0);
    if half_life > 0.0 {
        base * 0.5f32.powf(age as f32 / half_life)
    } else {
        base
    }
}

/// Where the model came from, for the page's footer and the evaluation table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Data set name, e.g. "ml-latest-small".
    pub dataset: String,
    /// Training users.
    pub users: u32,
    /// Training ratings.
    pub ratings: u64,
    /// Lowest rating on the scale.
    pub rating_min: f32,
    /// Highest rating on the scale.
    pub rating_max: f32,
    /// Trainer settings, human-readable.
    pub trainer: String,
}

/// The whole recommender model as shipped to the browser.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Provenance and rating scale.
    pub info: ModelInfo,
    /// Genre names; bit `g` of [`Movie::genres`] refers to `genre_names[g]`.
    pub genre_names: Vec<String>,
    /// The catalogue, one entry per factor row, in row order.
    pub movies: Vec<Movie>,
    /// Rating predictor.
    pub explicit: ExplicitFactors,
    /// Ranking model; absent, ranking falls back to the explicit prediction.
    pub implicit: Option<ImplicitFactors>,
    /// Item-based neighbourhood model and the hybrid's blend weights; absent in factor-only models.
    pub neighbours: Option<ItemNeighbours>,
    /// Attribute vectors for content-based filtering; absent when built without metadata.
    pub content: Option<crate::content::ContentFeatures>,
    /// Training users for user-based filtering; absent in models built without it.
    pub users: Option<crate::user_knn::UserPool>,
    /// The neural method's autoencoder; absent in models built without it.
    pub neural: Option<crate::neural::Autoencoder>,
    /// Blend weights of the hybrid method.
    pub hybrid: HybridWeights,
}

/// For every movie its most similar movies (item-based collaborative filtering): shrunk cosine
/// similarity of who rated them, top `k` per movie, similarities quantised to one byte.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemNeighbours {
    /// Row `i`'s neighbours are `neighbour[offsets[i]..offsets[i + 1]]`, most similar first.
    pub offsets: Vec<u32>,
    /// Neighbour rows.
    pub neighbour: Vec<u32>,
    /// Similarity of each neighbour as `q / 255 * max_similarity`.
    pub similarity: Vec<u8>,
    /// Scale of `similarity`.
    pub max_similarity: f32,
    /// How many co-raters a similarity needs to count fully (`n / (n + shrink)`).
    pub shrink: f32,
    /// Weight of the neighbourhood correction of predicted stars (0 turns it off).
    pub rating_weight: f32,
    /// Shrinkage of that correction towards 0 when few neighbours were rated.
    pub rating_shrink: f32,
}

/// Weights of the hybrid's standardised parts (factor models, item neighbours, content).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlendWeights {
    /// Factor models' score.
    pub factor: f32,
    /// Item neighbours' score.
    pub neighbour: f32,
    /// Content score.
    pub content: f32,
    /// User neighbours' score.
    pub user: f32,
    /// The neural autoencoder's score.
    pub neural: f32,
}

impl BlendWeights {
    /// The weights in field order (factor, neighbour, content, user, neural).
    pub fn as_array(&self) -> [f32; 5] {
        [self.factor, self.neighbour, self.content, self.user, self.neural]
    }
}

/// The hybrid's weights by how many ratings the visitor has: few ratings lean on content and
/// popularity, many on collaborative signals. Learned on validation users.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HybridWeights {
    /// Weights for under 5 ratings, 5 to 19, and 20 or more.
    pub buckets: [BlendWeights; 3],
}

impl HybridWeights {
    /// The same weights for every bucket.
    pub fn uniform(w: BlendWeights) -> Self {
        Self { buckets: [w; 3] }
    }

    /// Weights for a visitor with `ratings` ratings.
    pub fn for_ratings(&self, ratings: usize) -> BlendWeights {
        self.buckets[match ratings {
            0..=4 => 0,
            5..=19 => 1,
            _ => 2,
        }]
    }
}

impl ItemNeighbours {
    /// Neighbours of `row` as `(row, similarity)`, most similar first.
    pub fn of(&self, row: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let span = self.offsets[row] as usize..self.offsets[row + 1] as usize;
        let scale = self.max_similarity / 255.0;
        self.neighbour[span.clone()].iter().zip(&self.similarity[span]).map(move |(&n, &q)| (n as usize, q as f32 * scale))
    }

    fn validate(&self, n: usize) -> Result<()> {
        validate_table("neighbour", &self.offsets, Some(n), &self.neighbour, self.similarity.len(), n)?;
        let nonneg = |v: f32| v.is_finite() && v >= 0.0;
        if !(nonneg(self.max_similarity)
            && nonneg(self.shrink)
            && nonneg(self.rating_weight)
            && self.rating_shrink.is_finite()
            && self.rating_shrink > 0.0)
        {
            return Err(Error::InvalidModel("neighbour similarity scale or shrinkage is not finite".into()));
        }
        Ok(())
    }
}

/// Checks a compressed-row table: `offsets` start at 0, never decrease and end at
/// `entries.len()` (with `rows + 1` of them when `rows` is given), every entry is below `bound`,
/// and the parallel value array has one value per entry.
pub(crate) fn validate_table(what: &str, offsets: &[u32], rows: Option<usize>, entries: &[u32], values: usize, bound: usize) -> Result<()> {
    let bad = |msg: String| Err(Error::InvalidModel(msg));
    if rows.is_some_and(|n| offsets.len() != n + 1) || offsets.first() != Some(&0) {
        return bad(format!("{what} table has {} offsets for {} rows", offsets.len(), rows.map_or("its".into(), |n| n.to_string())));
    }
    if offsets.windows(2).any(|w| w[0] > w[1]) || offsets.last().map(|&o| o as usize) != Some(entries.len()) {
        return bad(format!("{what} offsets are not increasing to the table's end"));
    }
    if values != entries.len() {
        return bad(format!("{what} table has {} entries but {values} values", entries.len()));
    }
    if let Some(&e) = entries.iter().find(|&&e| e as usize >= bound) {
        return bad(format!("{what} entry {e} is beyond {bound}"));
    }
    Ok(())
}

/// FNV-1a, 64 bit: a small checksum that catches truncation and bit flips (not tampering).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn read_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn read_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

/// The core section as written (borrowing the model).
#[derive(Serialize)]
struct CoreRef<'a> {
    info: &'a ModelInfo,
    genre_names: &'a [String],
    #[serde(serialize_with = "movie_columns::serialize")]
    movies: &'a [Movie],
    explicit: &'a ExplicitFactors,
    implicit: &'a Option<ImplicitFactors>,
    hybrid: &'a HybridWeights,
}

/// The core section as read; fields in the order of [`CoreRef`].
#[derive(Deserialize)]
struct Core {
    info: ModelInfo,
    genre_names: Vec<String>,
    #[serde(deserialize_with = "movie_columns::deserialize")]
    movies: Vec<Movie>,
    explicit: ExplicitFactors,
    implicit: Option<ImplicitFactors>,
    hybrid: HybridWeights,
}

/// The extras section as written.
#[derive(Serialize)]
struct ExtrasRef<'a> {
    neighbours: &'a Option<ItemNeighbours>,
    content: &'a Option<crate::content::ContentFeatures>,
    users: &'a Option<crate::user_knn::UserPool>,
    neural: &'a Option<crate::neural::Autoencoder>,
}

/// The extras section as read; fields in the order of [`ExtrasRef`].
#[derive(Deserialize)]
struct Extras {
    neighbours: Option<ItemNeighbours>,
    content: Option<crate::content::ContentFeatures>,
    users: Option<crate::user_knn::UserPool>,
    neural: Option<crate::neural::Autoencoder>,
}

impl Extras {
    fn as_ref(&self) -> ExtrasRef<'_> {
        ExtrasRef { neighbours: &self.neighbours, content: &self.content, users: &self.users, neural: &self.neural }
    }
}

impl ExtrasRef<'_> {
    /// Bounds-checks every side table against a catalogue of `n` movies.
    fn validate(&self, n: usize) -> Result<()> {
        if let Some(nb) = self.neighbours {
            nb.validate(n)?;
        }
        if let Some(c) = self.content {
            c.validate(n)?;
        }
        if let Some(u) = self.users {
            u.validate(n)?;
        }
        if let Some(ae) = self.neural {
            ae.validate(n)?;
        }
        Ok(())
    }
}

/// A truncation error for a file of `found` bytes that needed `expected`.
fn truncated(found: usize, expected: u64) -> Error {
    Error::Truncated { found, expected: usize::try_from(expected).unwrap_or(usize::MAX) }
}

/// The fixed header, checked.
struct Header {
    core_len: u64,
    core_sum: u64,
    extras_len: u64,
    extras_sum: u64,
}

impl Header {
    /// Reads the header of `bytes`; `Ok(None)` when fewer than [`HEADER_LEN`] bytes have arrived
    /// and those are a model's so far.
    fn read(bytes: &[u8]) -> Result<Option<Self>> {
        let magic = &bytes[..bytes.len().min(MAGIC.len())];
        if magic != &MAGIC[..magic.len()] {
            let shown: String = String::from_utf8_lossy(magic).chars().filter(|c| !c.is_control()).collect();
            return Err(Error::BadMagic { found: shown });
        }
        if bytes.len() < HEADER_LEN {
            return Ok(None);
        }
        let version = read_u32(&bytes[8..12]);
        if version != FORMAT_VERSION {
            return Err(Error::UnsupportedVersion { found: version, supported: FORMAT_VERSION });
        }
        let at = |i: usize| read_u64(&bytes[12 + 8 * i..]);
        Ok(Some(Self { core_len: at(0), core_sum: at(1), extras_len: at(2), extras_sum: at(3) }))
    }

    /// Like [`Header::read`], with too few bytes an error.
    fn require(bytes: &[u8]) -> Result<Self> {
        Self::read(bytes)?.ok_or(Error::Truncated { found: bytes.len(), expected: HEADER_LEN })
    }

    fn core_end(&self) -> u64 {
        (HEADER_LEN as u64).saturating_add(self.core_len)
    }

    fn total(&self) -> u64 {
        self.core_end().saturating_add(self.extras_len)
    }

    /// The section `start..start + len` of `bytes`, its checksum verified.
    fn section(bytes: &[u8], start: u64, len: u64, sum: u64) -> Result<&[u8]> {
        let end = start.saturating_add(len);
        if (bytes.len() as u64) < end {
            return Err(truncated(bytes.len(), end));
        }
        let body = &bytes[start as usize..end as usize];
        let found = fnv1a64(body);
        if found != sum {
            return Err(Error::Checksum { found, expected: sum });
        }
        Ok(body)
    }

    fn core<'b>(&self, bytes: &'b [u8]) -> Result<&'b [u8]> {
        Self::section(bytes, HEADER_LEN as u64, self.core_len, self.core_sum)
    }

    /// The extras section of a whole file (which must be exactly as long as the header says).
    fn extras<'b>(&self, bytes: &'b [u8]) -> Result<&'b [u8]> {
        if bytes.len() as u64 != self.total() {
            return Err(truncated(bytes.len(), self.total()));
        }
        Self::section(bytes, self.core_end(), self.extras_len, self.extras_sum)
    }
}

fn decode<'de, T: Deserialize<'de>>(body: &'de [u8]) -> Result<T> {
    postcard::from_bytes(body).map_err(|e| Error::Decode(e.to_string()))
}

fn encode<T: Serialize>(part: &T) -> Result<Vec<u8>> {
    postcard::to_allocvec(part).map_err(|e| Error::Decode(e.to_string()))
}

impl Model {
    /// Serialises the model: header, core, extras.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let (core, extras) = self.sections()?;
        let mut out = Vec::with_capacity(HEADER_LEN + core.len() + extras.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        for section in [&core, &extras] {
            out.extend_from_slice(&(section.len() as u64).to_le_bytes());
            out.extend_from_slice(&fnv1a64(section).to_le_bytes());
        }
        out.extend_from_slice(&core);
        out.extend_from_slice(&extras);
        Ok(out)
    }

    /// The encoded core and extras sections (for size reports).
    pub fn sections(&self) -> Result<(Vec<u8>, Vec<u8>)> {
        let core = encode(&CoreRef {
            info: &self.info,
            genre_names: &self.genre_names,
            movies: &self.movies,
            explicit: &self.explicit,
            implicit: &self.implicit,
            hybrid: &self.hybrid,
        })?;
        let extras = encode(&self.extras())?;
        Ok((core, extras))
    }

    /// How many leading bytes of the file [`Model::core_from_bytes`] needs, once `prefix` holds
    /// the header (`Ok(None)` before that). Fails as soon as the bytes cannot be a model this
    /// build reads (an HTML error page, another format version).
    pub fn core_length(prefix: &[u8]) -> Result<Option<usize>> {
        match Header::read(prefix)? {
            None => Ok(None),
            Some(h) => usize::try_from(h.core_end())
                .map(Some)
                .map_err(|_| Error::InvalidModel(format!("core section of {} bytes is too large", h.core_len))),
        }
    }

    /// Reads and validates the core of a model from the file's first bytes (at least
    /// [`Model::core_length`] of them; more are ignored): every part but the extras, which stay
    /// `None` until [`Model::attach_extras`].
    pub fn core_from_bytes(bytes: &[u8]) -> Result<Self> {
        let header = Header::require(bytes)?;
        let core: Core = decode(header.core(bytes)?)?;
        let model = Model {
            info: core.info,
            genre_names: core.genre_names,
            movies: core.movies,
            explicit: core.explicit,
            implicit: core.implicit,
            neighbours: None,
            content: None,
            users: None,
            neural: None,
            hybrid: core.hybrid,
        };
        model.validate()?;
        Ok(model)
    }

    /// The extras' parts, borrowed.
    fn extras(&self) -> ExtrasRef<'_> {
        ExtrasRef { neighbours: &self.neighbours, content: &self.content, users: &self.users, neural: &self.neural }
    }

    /// Adds the extras of the whole file `bytes` to a model read by [`Model::core_from_bytes`]
    /// from the same file (whose core checksum that read verified). On any error the model is
    /// left as it was.
    pub fn attach_extras(&mut self, bytes: &[u8]) -> Result<()> {
        let header = Header::require(bytes)?;
        let extras: Extras = decode(header.extras(bytes)?)?;
        extras.as_ref().validate(self.movies.len())?;
        self.neighbours = extras.neighbours;
        self.content = extras.content;
        self.users = extras.users;
        self.neural = extras.neural;
        Ok(())
    }

    /// Whether the model holds any of the extras' parts.
    pub fn has_extras(&self) -> bool {
        self.neighbours.is_some() || self.content.is_some() || self.users.is_some() || self.neural.is_some()
    }

    /// Reads and validates a whole model written by [`Model::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let header = Header::require(bytes)?;
        if (bytes.len() as u64) < header.total() {
            return Err(truncated(bytes.len(), header.total()));
        }
        let mut model = Self::core_from_bytes(bytes)?;
        model.attach_extras(bytes)?;
        Ok(model)
    }

    /// Checks the invariants that the rest of the crate relies on.
    pub fn validate(&self) -> Result<()> {
        let n = self.movies.len();
        let bad = |msg: String| Err(Error::InvalidModel(msg));
        let (lo, hi) = (self.info.rating_min, self.info.rating_max);
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return bad(format!("rating scale {lo}..={hi} is empty or not finite"));
        }
        if self.genre_names.len() > 32 {
            return bad(format!("{} genres, at most 32 are supported", self.genre_names.len()));
        }
        let e = &self.explicit;
        if e.item_bias.len() != n || e.item_factors.rows() != n {
            return bad(format!("{n} movies but {} item biases and {} explicit factor rows", e.item_bias.len(), e.item_factors.rows()));
        }
        let finite_nonneg = |v: f32| v.is_finite() && v >= 0.0;
        if !e.global_mean.is_finite() || !finite_nonneg(e.reg_factors) || !finite_nonneg(e.reg_bias) {
            return bad("explicit model has a non-finite mean or a negative regularisation".into());
        }
        if let Some(i) = e.item_bias.iter().position(|b| !b.is_finite()) {
            return bad(format!("item bias of row {i} is {}", e.item_bias[i]));
        }
        if let Some(imp) = &self.implicit {
            if imp.item_factors.rows() != n {
                return bad(format!("{n} movies but {} implicit factor rows", imp.item_factors.rows()));
            }
            let settings_ok = imp.reg.is_finite()
                && imp.reg > 0.0
                && finite_nonneg(imp.alpha)
                && imp.rating_offset.is_finite()
                && imp.explicit_weight.is_finite()
                && finite_nonneg(imp.recency_half_life);
            if !settings_ok {
                return bad("implicit model settings are not finite and positive".into());
            }
        }
        self.extras().validate(n)?;
        let weights = self.hybrid.buckets.iter().flat_map(|b| b.as_array());
        if weights.clone().any(|w| !(w.is_finite() && w >= 0.0))
            || self.hybrid.buckets.iter().any(|b| b.as_array().iter().sum::<f32>() <= 0.0)
        {
            return bad(format!("hybrid weights {:?} must be finite, >= 0, and not all 0 in a bucket", self.hybrid.buckets));
        }
        let mut ids: Vec<u32> = self.movies.iter().map(|m| m.id.0).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            return bad(format!("movie id {} appears twice", w[0]));
        }
        let genre_mask = if self.genre_names.len() == 32 { u32::MAX } else { (1u32 << self.genre_names.len()) - 1 };
        for m in &self.movies {
            if m.genres & !genre_mask != 0 {
                return bad(format!("movie {} has a genre bit beyond the {} genres", m.id.0, self.genre_names.len()));
            }
            if !m.rating_mean.is_finite() {
                return bad(format!("movie {} has mean rating {}", m.id.0, m.rating_mean));
            }
        }
        Ok(())
    }

    /// Names of the genres set in `mask`, in table order.
    pub fn genre_list(&self, mask: u32) -> Vec<&str> {
        self.genre_names.iter().enumerate().filter(|(g, _)| mask & (1 << g) != 0).map(|(_, s)| s.as_str()).collect()
    }
}
