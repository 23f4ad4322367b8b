//! Finding the catalogue's movie for a row of another service's export (Letterboxd, IMDb, a
//! MovieLens export): by IMDb or TMDB id where the row has one, else by title and year.
//!
//! Titles are compared folded (case, accents and punctuation ignored, see [`fold`]), with the
//! article in front ("Matrix, The" is "The Matrix") and then dropped, and "and"/"&" ignored.
//! A catalogue title is found by its main title and by each alternative title MovieLens gives
//! in parentheses ("Amélie (Fabuleux destin d'Amélie Poulain, Le)", "Seven (a.k.a. Se7en)");
//! failing those, by the part before a colon ("Star Wars: Episode IV - A New Hope" is the
//! "Star Wars" of 1977 that Letterboxd lists). Years may differ by one (festival and release
//! years): the nearest wins, then the most rated. A title without a year matches only when it
//! names one movie; an ambiguous one is reported, never guessed.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::catalogue::Catalogue;
use crate::text::{article_in_front, fold};

/// Most rows matched in one call: a 10,000-row export is common, ten times that is not a person.
pub const MAX_WANTED: usize = 200_000;
/// Years a release may differ by and still be the same movie.
pub const YEAR_TOLERANCE: u16 = 1;
/// Characters of a title that count (a pasted essay must not cost more than a title).
const MAX_TITLE_CHARS: usize = 300;

/// One row of an import file, as much as it says about the movie.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Wanted {
    /// IMDb numeric id (`tt0133093` is 133093).
    pub imdb_id: Option<u32>,
    /// TMDB movie id.
    pub tmdb_id: Option<u32>,
    /// Title as the file gives it.
    pub title: Option<String>,
    /// A second title (IMDb's "Original Title"), tried after `title`.
    pub original_title: Option<String>,
    /// Release year.
    pub year: Option<u16>,
}

/// How a row was matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MatchedBy {
    /// The row's IMDb id.
    Imdb,
    /// The row's TMDB id.
    Tmdb,
    /// Title and year.
    Title,
}

/// The answer for one row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum Match {
    /// The movie was found.
    #[serde(rename_all = "camelCase")]
    Matched {
        /// Its MovieLens id.
        movie_id: u32,
        /// By what.
        by: MatchedBy,
    },
    /// It was not, and why, in words for the visitor.
    Unmatched {
        /// "no movie titled “…” in this catalogue", "… only as 1999, not 2003", ...
        reason: String,
    },
}

/// The catalogue indexed by external ids and title keys; built on the first import.
#[derive(Clone, Debug, Default)]
pub struct Matcher {
    by_imdb: HashMap<u32, usize>,
    by_tmdb: HashMap<u32, usize>,
    /// Main and alternative titles, as written ("The Heat" is not "Heat").
    titles: HashMap<String, Vec<usize>>,
    /// The same without a leading article ("Matrix" finds "The Matrix").
    loose_titles: HashMap<String, Vec<usize>>,
    /// The part before a colon, tried when no title matches.
    short_titles: HashMap<String, Vec<usize>>,
}

/// Leading articles dropped from a key (folded): "The Matrix" and "Matrix" are one key.
const LEADING: [&str; 17] = ["the", "a", "an", "les", "la", "le", "il", "die", "das", "der", "el", "los", "las", "lo", "un", "une", "den"];

/// The lookup key of a title: article in front, folded, every "and" dropped ("&" folds away as
/// punctuation); `loose` also drops a leading article.
pub fn title_key(title: &str, loose: bool) -> String {
    let (exact, without_article) = title_keys(title);
    if loose {
        without_article
    } else {
        exact
    }
}

/// Both keys of a title (as written, and without a leading article), folding it once.
fn title_keys(title: &str) -> (String, String) {
    let end = title.char_indices().nth(MAX_TITLE_CHARS).map_or(title.len(), |(i, _)| i);
    let folded = fold(&article_in_front(&title[..end]));
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty() && *w != "and").collect();
    let start = usize::from(words.len() > 1 && LEADING.contains(&words[0]));
    (words.join(" "), words[start..].join(" "))
}

/// The main title and the alternative titles in parentheses of a catalogue title.
fn alternatives(title: &str) -> Vec<String> {
    let mut out = Vec::new();
    let head_end = title.find(" (").unwrap_or(title.len());
    out.push(title[..head_end].to_string());
    let mut rest = &title[head_end..];
    while let Some(open) = rest.find('(') {
        let Some(len) = rest[open + 1..].find(')') else { break };
        let inner = rest[open + 1..open + 1 + len].trim();
        let inner = ["a.k.a. ", "a.k.a ", "aka "].iter().find_map(|p| inner.strip_prefix(p)).unwrap_or(inner);
        if !inner.is_empty() {
            out.push(inner.to_string());
        }
        rest = &rest[open + 1 + len + 1..];
    }
    out
}

impl Matcher {
    /// Indexes every movie of `catalogue`.
    pub fn new(catalogue: &Catalogue) -> Self {
        let mut m = Self::default();
        for (row, movie) in catalogue.movies.iter().enumerate() {
            if let Some(id) = movie.imdb_id {
                m.by_imdb.insert(id, row);
            }
            if let Some(id) = movie.tmdb_id {
                m.by_tmdb.insert(id, row);
            }
            let names = alternatives(&movie.title);
            for name in &names {
                for (index, loose) in [(&mut m.titles, false), (&mut m.loose_titles, true)] {
                    let key = title_key(name, loose);
                    if !key.is_empty() {
                        let rows = index.entry(key).or_default();
                        if rows.last() != Some(&row) {
                            rows.push(row);
                        }
                    }
                }
            }
            if let Some((short, _)) = names[0].split_once(':') {
                let key = title_key(short, true);
                if !key.is_empty() {
                    m.short_titles.entry(key).or_default().push(row);
                }
            }
        }
        m
    }

    /// The catalogue movie of one row (see the module docs for the rules).
    pub fn find(&self, catalogue: &Catalogue, wanted: &Wanted) -> Match {
        let movies = &catalogue.movies;
        let matched = |row: usize, by| Match::Matched { movie_id: movies[row].id.0, by };
        if let Some(&row) = wanted.imdb_id.and_then(|id| self.by_imdb.get(&id)) {
            return matched(row, MatchedBy::Imdb);
        }
        if let Some(&row) = wanted.tmdb_id.and_then(|id| self.by_tmdb.get(&id)) {
            return matched(row, MatchedBy::Tmdb);
        }
        let titles: Vec<&str> =
            [&wanted.title, &wanted.original_title].into_iter().flatten().map(|t| t.trim()).filter(|t| !t.is_empty()).collect();
        let Some(&shown) = titles.first() else {
            return Match::Unmatched {
                reason: match (wanted.imdb_id, wanted.tmdb_id) {
                    (Some(id), _) => format!("IMDb id tt{id:07} is not in this catalogue, and the row has no title"),
                    (None, Some(id)) => format!("TMDB id {id} is not in this catalogue, and the row has no title"),
                    (None, None) => "the row has no title and no id".into(),
                },
            };
        };
        // A movie found by title whose own IMDb/TMDB id differs from the row's is another
        // movie of the same name (a series, a remake): never taken.
        let same_ids = |row: usize| {
            let m = &movies[row];
            wanted.imdb_id.is_none_or(|id| m.imdb_id.is_none_or(|own| own == id))
                && wanted.tmdb_id.is_none_or(|id| m.tmdb_id.is_none_or(|own| own == id))
        };
        let mut found_other_years: Vec<u16> = Vec::new();
        let mut other_ids = false;
        // As written first, then without the article, then the part before a colon: "Heat"
        // is the 1995 film, not "The Heat" of 2013, unless its year says otherwise.
        // Each title's two keys, computed once (folding is the cost of a row).
        let (exact, loose): (Vec<String>, Vec<String>) = titles.iter().map(|t| title_keys(t)).unzip();
        for (index, keys) in [(&self.titles, &exact), (&self.loose_titles, &loose), (&self.short_titles, &loose)] {
            let mut candidates: Vec<usize> = keys.iter().filter_map(|k| index.get(k)).flatten().copied().collect();
            let named = candidates.len();
            candidates.retain(|&row| same_ids(row));
            other_ids |= candidates.len() < named;
            candidates.sort_unstable();
            candidates.dedup();
            if candidates.is_empty() {
                continue;
            }
            match wanted.year {
                Some(year) => {
                    // Nearest year within the tolerance, then the most rated, then the lowest id.
                    let distance = |row: usize| movies[row].year.map_or(YEAR_TOLERANCE + 1, |y| y.abs_diff(year));
                    let best = candidates.iter().copied().filter(|&r| distance(r) <= YEAR_TOLERANCE).min_by(|&a, &b| {
                        distance(a).cmp(&distance(b)).then(movies[b].rating_count.cmp(&movies[a].rating_count)).then(a.cmp(&b))
                    });
                    match best {
                        Some(row) => return matched(row, MatchedBy::Title),
                        None => found_other_years.extend(candidates.iter().filter_map(|&r| movies[r].year)),
                    }
                }
                None if candidates.len() == 1 => return matched(candidates[0], MatchedBy::Title),
                None => {
                    // Missing years last (u16::MAX is no release year).
                    let mut years: Vec<u16> = candidates.iter().map(|&r| movies[r].year.unwrap_or(u16::MAX)).collect();
                    years.sort_unstable();
                    let years: Vec<String> =
                        years.iter().take(5).map(|&y| if y == u16::MAX { "no year".into() } else { y.to_string() }).collect();
                    return Match::Unmatched {
                        reason: format!(
                            "{} movies are titled “{shown}” ({}); the row gives no year to tell them apart",
                            candidates.len(),
                            years.join(", ")
                        ),
                    };
                }
            }
        }
        found_other_years.sort_unstable();
        found_other_years.dedup();
        let year = wanted.year.map_or(String::new(), |y| y.to_string());
        Match::Unmatched {
            reason: if found_other_years.is_empty() && other_ids {
                format!("the “{shown}” in this catalogue is another movie (its IMDb or TMDB id differs from the row's)")
            } else if found_other_years.is_empty() {
                format!("no movie titled “{shown}” in this catalogue")
            } else {
                let years: Vec<String> = found_other_years.iter().take(5).map(|y| y.to_string()).collect();
                format!("“{shown}” is in this catalogue only as {}, not {year}", years.join(", "))
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{Movie, MovieId};

    fn movie(id: u32, title: &str, year: Option<u16>, imdb: Option<u32>, count: u32) -> Movie {
        Movie { id: MovieId(id), title: title.into(), year, genres: 0, imdb_id: imdb, tmdb_id: None, rating_count: count, rating_mean: 3.5 }
    }

    fn catalogue() -> Catalogue {
        Catalogue {
            genre_names: vec![],
            movies: vec![
                movie(1, "The Matrix", Some(1999), Some(133093), 200),
                movie(2, "Amélie (Fabuleux destin d'Amélie Poulain, Le)", Some(2001), None, 100),
                movie(3, "Seven (a.k.a. Se7en)", Some(1995), None, 150),
                movie(4, "Star Wars: Episode IV - A New Hope", Some(1977), None, 250),
                movie(5, "Hamlet", Some(1990), None, 10),
                movie(6, "Hamlet", Some(1996), None, 30),
                movie(7, "Fast & Furious", Some(2009), None, 20),
                movie(8, "Alien", Some(1979), None, 90),
                movie(9, "Alien: Resurrection", Some(1997), None, 40),
                movie(10, "Crash", Some(2004), Some(375679), 50),
                movie(11, "Heat", Some(1995), None, 80),
                movie(12, "The Heat", Some(2013), None, 30),
            ],
        }
    }

    fn title(t: &str, year: Option<u16>) -> Wanted {
        Wanted { title: Some(t.into()), year, ..Wanted::default() }
    }

    fn id_of(m: Match) -> Option<u32> {
        match m {
            Match::Matched { movie_id, .. } => Some(movie_id),
            Match::Unmatched { .. } => None,
        }
    }

    #[test]
    fn matches_by_id_then_by_folded_title_and_year() {
        let c = catalogue();
        let m = Matcher::new(&c);
        assert_eq!(m.find(&c, &Wanted { imdb_id: Some(133093), ..Wanted::default() }), Match::Matched { movie_id: 1, by: MatchedBy::Imdb });
        assert_eq!(m.find(&c, &title("Matrix, The", Some(1999))), Match::Matched { movie_id: 1, by: MatchedBy::Title });
        assert_eq!(id_of(m.find(&c, &title("the matrix", Some(2000)))), Some(1), "a year off by one");
        assert_eq!(id_of(m.find(&c, &title("AMELIE", Some(2001)))), Some(2));
        assert_eq!(id_of(m.find(&c, &title("Le Fabuleux Destin d'Amélie Poulain", Some(2001)))), Some(2), "the alternative title");
        assert_eq!(id_of(m.find(&c, &title("Se7en", Some(1995)))), Some(3), "an a.k.a. form");
        assert_eq!(id_of(m.find(&c, &title("Star Wars", Some(1977)))), Some(4), "the part before the colon");
        assert_eq!(id_of(m.find(&c, &title("Fast and Furious", Some(2009)))), Some(7));
        assert_eq!(id_of(m.find(&c, &title("Alien", Some(1979)))), Some(8), "the exact title before the part before a colon");
        assert_eq!(id_of(m.find(&c, &title("Hamlet", Some(1996)))), Some(6));
        assert_eq!(id_of(m.find(&c, &title("Hamlet", Some(1991)))), Some(5), "the nearest year");
        assert_eq!(id_of(m.find(&c, &title("Heat", None))), Some(11), "as written before without the article");
        assert_eq!(id_of(m.find(&c, &title("The Heat", None))), Some(12));
        assert_eq!(id_of(m.find(&c, &title("Heat", Some(2013)))), Some(12), "the year decides");
    }

    #[test]
    fn never_guesses() {
        let c = catalogue();
        let m = Matcher::new(&c);
        let reason = |w: &Wanted| match m.find(&c, w) {
            Match::Unmatched { reason } => reason,
            other => panic!("matched {other:?}"),
        };
        assert!(reason(&title("Hamlet", None)).contains("2 movies are titled “Hamlet” (1990, 1996)"));
        assert!(reason(&title("The Matrix", Some(2003))).contains("only as 1999, not 2003"));
        assert!(reason(&title("Heat", Some(1970))).contains("only as 1995, 2013, not 1970"));
        assert!(reason(&title("Ran", Some(1985))).contains("no movie titled “Ran”"));
        assert!(reason(&Wanted::default()).contains("no title and no id"));
        assert!(reason(&Wanted { imdb_id: Some(1), ..Wanted::default() }).contains("tt0000001 is not in this catalogue"));
        // Same title, another IMDb id: a different "Crash" (1996), not ours.
        assert!(reason(&Wanted { imdb_id: Some(115964), ..title("Crash", Some(2004)) }).contains("is another movie"));
        assert_eq!(id_of(m.find(&c, &title("Crash", None))), Some(10), "one movie of that title");
        // A huge title costs no more than its first characters.
        assert!(reason(&title(&"x".repeat(1_000_000), None)).contains("no movie titled"));
    }

    #[test]
    fn keys_fold_articles_and_punctuation() {
        assert_eq!(title_key("Matrix, The", true), "matrix");
        assert_eq!(title_key("The Matrix", true), "matrix");
        assert_eq!(title_key("Matrix, The", false), "the matrix");
        assert_eq!(title_key("  WALL·E ", false), "wall e");
        assert_eq!(title_key("The", true), "the", "a title that is only an article keeps it");
        assert_eq!(title_key("Fast & Furious", false), title_key("Fast and Furious", false));
    }
}
