//! The catalogue: every movie's id, title, year, genres, external ids and training statistics,
//! stored column by column; and the indexes built on it at load (id to row, folded titles for
//! search, the cold-start order).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::text::fold;

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

/// An optional value as the file keeps it: `value + 1`, 0 for none.
fn some_plus_one(v: Option<u32>) -> u64 {
    v.map_or(0, |v| v as u64 + 1)
}

/// The catalogue on disk as columns rather than one record a movie: like values sit together,
/// so the file compresses better (the metadata's gzip size fell by about a third); ids are
/// stored as steps from the previous id, optional values as `value + 1` with 0 for none.
mod movie_columns {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{some_plus_one, Movie, MovieId};

    #[derive(Serialize, Deserialize)]
    struct Columns {
        id_steps: Vec<i64>,
        titles: Vec<String>,
        years: Vec<u32>,
        genres: Vec<u32>,
        rating_counts: Vec<u32>,
        /// Thousandths of a star.
        rating_means: Vec<i32>,
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
            rating_counts: movies.iter().map(|m| m.rating_count).collect(),
            rating_means: movies.iter().map(|m| (m.rating_mean * 1000.0).round() as i32).collect(),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Movie>, D::Error> {
        let c = Columns::deserialize(d)?;
        // Through keep_detail: postcard would replace the message with a vague one.
        let bad = |msg: String| -> D::Error { crate::format::keep_detail(crate::error::Error::InvalidModel(msg)) };
        let n = c.id_steps.len();
        let lengths = [c.titles.len(), c.years.len(), c.genres.len(), c.rating_counts.len(), c.rating_means.len()];
        if lengths.iter().any(|&l| l != n) {
            return Err(bad(format!("movie columns have different lengths: {n} ids, then {lengths:?}")));
        }
        let mut id = 0i64;
        let mut movies = Vec::with_capacity(n);
        for (i, title) in c.titles.into_iter().enumerate() {
            id = id.checked_add(c.id_steps[i]).ok_or_else(|| bad(format!("movie {i}: id step {} overflows", c.id_steps[i])))?;
            let too_big = |what: &str, v: u64| bad(format!("movie {i}: {what} {v} is out of range"));
            let id32 = u32::try_from(id).map_err(|_| bad(format!("movie {i}: id {id} is out of range")))?;
            let year = match minus_one(c.years[i] as u64) {
                Some(y) => Some(u16::try_from(y).map_err(|_| too_big("year", y as u64))?),
                None => None,
            };
            movies.push(Movie {
                id: MovieId(id32),
                title,
                year,
                genres: c.genres[i],
                // From the links section ([`super::Links`]), which comes after the core.
                imdb_id: None,
                tmdb_id: None,
                rating_count: c.rating_counts[i],
                rating_mean: c.rating_means[i] as f32 / 1000.0,
            });
        }
        Ok(movies)
    }
}

/// The movies' IMDb and TMDB ids and the late titles, the file's links section: what the page
/// links to and what imports and exports match on, and the titles of the movies no list can
/// hold before it (those the core's ranking model has no factors for: 6,092 of ml-latest-small's
/// 9,742, two thirds of the titles' compressed bytes), none of which the first list needs. Kept
/// out of the core, the ids alone would be a sixth of its compressed bytes (random-looking
/// numbers that compress poorly), and at a large site's size (ML-32M: 87,585 movies) far more
/// than that. The ids are one column each, in catalogue row order, `id + 1` with 0 for none;
/// the late titles one per late row, in row order (the core holds an empty title there).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Links {
    imdb_ids: Vec<u64>,
    tmdb_ids: Vec<u64>,
    late_titles: Vec<String>,
}

impl Links {
    /// The ids of `movies`, and the titles of the rows `late` names.
    pub fn of(movies: &[Movie], late: impl Fn(usize) -> bool) -> Self {
        Self {
            imdb_ids: movies.iter().map(|m| some_plus_one(m.imdb_id)).collect(),
            tmdb_ids: movies.iter().map(|m| some_plus_one(m.tmdb_id)).collect(),
            late_titles: (0..movies.len()).filter(|&r| late(r)).map(|r| movies[r].title.clone()).collect(),
        }
    }

    /// Writes the ids, and the titles of the rows `late` names, into `movies` (the catalogue
    /// they were taken from, `late` the same rule); on any error `movies` is left as it was.
    pub fn apply(&self, movies: &mut [Movie], late: impl Fn(usize) -> bool) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidModel(msg));
        if self.imdb_ids.len() != movies.len() || self.tmdb_ids.len() != movies.len() {
            return bad(format!(
                "the links section has {} IMDb and {} TMDB ids for {} movies",
                self.imdb_ids.len(),
                self.tmdb_ids.len(),
                movies.len()
            ));
        }
        let late_rows: Vec<usize> = (0..movies.len()).filter(|&r| late(r)).collect();
        if late_rows.len() != self.late_titles.len() {
            return bad(format!(
                "the links section has {} titles for the {} movies the core leaves untitled",
                self.late_titles.len(),
                late_rows.len()
            ));
        }
        let id = |what: &str, row: usize, v: u64| match v.checked_sub(1) {
            None => Ok(None),
            Some(v) => u32::try_from(v).map(Some).map_err(|_| Error::InvalidModel(format!("movie {row}: {what} id {v} is out of range"))),
        };
        let mut ids = Vec::with_capacity(movies.len());
        for row in 0..movies.len() {
            ids.push((id("IMDb", row, self.imdb_ids[row])?, id("TMDB", row, self.tmdb_ids[row])?));
        }
        for (m, (imdb, tmdb)) in movies.iter_mut().zip(ids) {
            m.imdb_id = imdb;
            m.tmdb_id = tmdb;
        }
        for (&row, title) in late_rows.iter().zip(&self.late_titles) {
            movies[row].title.clone_from(title);
        }
        Ok(())
    }
}

/// The characters of a search query that count (a title is rarely a tenth of this); the rest
/// of a paste is ignored.
pub const MAX_QUERY_CHARS: usize = 200;

/// Prior weight (in ratings) of the global mean in the cold-start Bayesian average.
const COLD_START_PRIOR: f32 = 25.0;

/// The movies of a model, one per catalogue row, and the genre names their bit masks refer to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Catalogue {
    /// Genre names; bit `g` of [`Movie::genres`] refers to `genre_names[g]`.
    pub genre_names: Vec<String>,
    /// One entry per catalogue row, in row order (ascending ids).
    #[serde(with = "movie_columns")]
    pub movies: Vec<Movie>,
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

impl Catalogue {
    /// Number of movies.
    pub fn len(&self) -> usize {
        self.movies.len()
    }

    /// True for a catalogue without movies.
    pub fn is_empty(&self) -> bool {
        self.movies.is_empty()
    }

    /// Checks ids (unique), genre bits (within the names) and means (finite).
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidModel(msg));
        if self.movies.len() > crate::factors::MAX_ROWS {
            return bad(format!("{} movies, at most {} are supported", self.movies.len(), crate::factors::MAX_ROWS));
        }
        if self.genre_names.len() > 32 {
            return bad(format!("{} genres, at most 32 are supported", self.genre_names.len()));
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
            if !(-1e3..=1e3).contains(&m.rating_mean) {
                return bad(format!("movie {} has mean rating {}", m.id.0, m.rating_mean));
            }
        }
        Ok(())
    }

    /// Names of the genres set in `mask`, in table order.
    pub fn genre_list(&self, mask: u32) -> Vec<&str> {
        self.genre_names.iter().enumerate().filter(|(g, _)| mask & (1 << g) != 0).map(|(_, s)| s.as_str()).collect()
    }

    /// The bit mask of genre `names` (any case); an unknown name is an error listing the known.
    pub fn genre_mask(&self, names: &[String]) -> Result<u32> {
        names.iter().try_fold(0u32, |mask, name| match self.genre_names.iter().position(|g| g.eq_ignore_ascii_case(name)) {
            Some(g) => Ok(mask | 1 << g),
            None => Err(Error::InvalidOption {
                name: "genres",
                reason: format!("unknown genre {name:?} (known: {})", self.genre_names.join(", ")),
            }),
        })
    }

    /// Row `row` as the page lists it.
    pub fn summary(&self, row: usize) -> MovieSummary {
        let m = &self.movies[row];
        MovieSummary {
            movie_id: m.id.0,
            title: m.title.clone(),
            year: m.year,
            genres: self.genre_list(m.genres).into_iter().map(String::from).collect(),
            rating_count: m.rating_count,
            rating_mean: m.rating_mean,
            imdb_id: m.imdb_id,
            tmdb_id: m.tmdb_id,
        }
    }
}

/// Lookups built once: id to row and the cold-start order at load, the folded titles on the
/// first search.
#[derive(Clone, Debug, Default)]
pub struct CatalogueIndex {
    row: HashMap<MovieId, usize>,
    /// Folding every title is a third of a model core's load, and the first list needs none
    /// of it (about 20 ms of a cold first load on a slow phone); a visitor's first search pays
    /// it instead.
    folded_titles: OnceLock<Vec<String>>,
    cold_start_order: Vec<usize>,
}

impl CatalogueIndex {
    /// Indexes `catalogue`; `global_mean` is the prior of the cold-start Bayesian average.
    pub fn new(catalogue: &Catalogue, global_mean: f32) -> Self {
        let movies = &catalogue.movies;
        let row = movies.iter().enumerate().map(|(row, m)| (m.id, row)).collect();
        let bayes = |m: &Movie| {
            (COLD_START_PRIOR * global_mean + m.rating_count as f32 * m.rating_mean) / (COLD_START_PRIOR + m.rating_count as f32)
        };
        let mut cold_start_order: Vec<usize> = (0..movies.len()).filter(|&r| movies[r].rating_count > 0).collect();
        cold_start_order.sort_unstable_by(|&a, &b| {
            let (ma, mb) = (&movies[a], &movies[b]);
            bayes(mb).total_cmp(&bayes(ma)).then(ma.id.cmp(&mb.id))
        });
        Self { row, folded_titles: OnceLock::new(), cold_start_order }
    }

    /// Row of a movie id, if it is in the catalogue.
    pub fn row(&self, id: MovieId) -> Option<usize> {
        self.row.get(&id).copied()
    }

    /// The id-to-row map.
    pub fn rows(&self) -> &HashMap<MovieId, usize> {
        &self.row
    }

    /// Rated movies, popular and well rated first (a Bayesian average towards the global mean).
    pub fn cold_start_order(&self) -> &[usize] {
        &self.cold_start_order
    }

    /// Rows whose folded title (with year) contains every word of the folded query; titles
    /// starting with the query first, then word-prefix matches, then by rating count.
    ///
    /// Only the first [`MAX_QUERY_CHARS`] characters count, and each word once, so the cost is
    /// at most that many passes over the titles whatever is pasted into the box. `catalogue`
    /// is the one this index was built from; `complete` says whether every title is in (see
    /// [`Links`]): only then are the folded titles kept for the next search. A movie without
    /// its title is never found.
    pub fn search(&self, catalogue: &Catalogue, query: &str, limit: usize, complete: bool) -> Vec<usize> {
        let end = query.char_indices().nth(MAX_QUERY_CHARS).map_or(query.len(), |(i, _)| i);
        let q = fold(&query[..end]);
        let mut words: Vec<&str> = q.split(' ').filter(|w| !w.is_empty()).collect();
        let first = words.first().copied().unwrap_or_default();
        // Longest first: the rarest words reject most titles soonest.
        words.sort_unstable_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        words.dedup();
        if words.is_empty() || limit == 0 {
            return Vec::new();
        }
        let fold_all = || -> Vec<String> {
            catalogue
                .movies
                .iter()
                .map(|m| match m.year {
                    _ if m.title.is_empty() => String::new(),
                    Some(y) => format!("{} {y}", fold(&m.title)),
                    None => fold(&m.title),
                })
                .collect()
        };
        let partial;
        let folded_titles = if complete {
            self.folded_titles.get_or_init(fold_all)
        } else {
            partial = fold_all();
            &partial
        };
        let mut hits: Vec<(u8, usize)> = folded_titles
            .iter()
            .enumerate()
            .filter(|(_, t)| words.iter().all(|w| t.contains(w)))
            .map(|(row, t)| {
                let rank = if t.starts_with(q.as_str()) {
                    0
                } else if t.split(' ').any(|tw| tw.starts_with(first)) {
                    1
                } else {
                    2
                };
                (rank, row)
            })
            .collect();
        let movies = &catalogue.movies;
        hits.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0).then(movies[b.1].rating_count.cmp(&movies[a.1].rating_count)).then(movies[a.1].id.cmp(&movies[b.1].id))
        });
        hits.into_iter().take(limit).map(|(_, row)| row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn movie(id: u32, imdb: Option<u32>, tmdb: Option<u32>) -> Movie {
        Movie {
            id: MovieId(id),
            title: format!("Movie {id}"),
            year: None,
            genres: 0,
            imdb_id: imdb,
            tmdb_id: tmdb,
            rating_count: 1,
            rating_mean: 3.0,
        }
    }

    #[test]
    fn links_round_trip_and_a_wrong_section_leaves_the_movies_as_they_were() {
        let movies = vec![movie(1, Some(114709), Some(862)), movie(2, None, Some(8844)), movie(3, Some(0), None)];
        let late = |row: usize| row == 1;
        let links = Links::of(&movies, late);
        assert_eq!(links.late_titles, ["Movie 2"]);
        let mut bare: Vec<Movie> = movies.iter().cloned().map(|m| Movie { imdb_id: None, tmdb_id: None, ..m }).collect();
        bare[1].title.clear();
        links.apply(&mut bare, late).unwrap();
        assert_eq!(bare, movies, "tt0000000 is an id, not none; the late title is back");

        let before = bare.clone();
        let short = Links::of(&movies[..2], late);
        let e = short.apply(&mut bare, late).unwrap_err().to_string();
        assert!(e.contains("2 IMDb and 2 TMDB ids for 3 movies"), "{e}");
        let mut huge = Links::of(&movies, late);
        huge.tmdb_ids[2] = u32::MAX as u64 + 2;
        let e = huge.apply(&mut bare, late).unwrap_err().to_string();
        assert!(e.contains("movie 2: TMDB id 4294967296 is out of range"), "{e}");
        let e = links.apply(&mut bare, |row| row != 0).unwrap_err().to_string();
        assert!(e.contains("1 titles for the 2 movies the core leaves untitled"), "{e}");
        assert_eq!(bare, before, "left as it was");
    }

    #[test]
    fn a_movie_without_its_title_is_never_found_and_a_partial_search_is_not_kept() {
        let mut catalogue = Catalogue { genre_names: vec![], movies: vec![movie(1, None, None), movie(2, None, None)] };
        catalogue.movies[1].year = Some(1995);
        let index = CatalogueIndex::new(&catalogue, 3.0);
        let mut early = catalogue.clone();
        early.movies[1].title.clear();
        assert_eq!(index.search(&early, "movie", 10, false), [0]);
        assert!(index.search(&early, "1995", 10, false).is_empty(), "a year alone does not find an untitled movie");
        assert_eq!(index.search(&catalogue, "movie", 10, true), [0, 1], "the titles folded before are not the ones kept");
    }
}
