//! Readers for MovieLens releases in their own layouts (native only, `train` feature):
//!
//! | layout | ratings | movies | separator, encoding |
//! |---|---|---|---|
//! | ml-latest(-small), ml-20m/25m/32m | `ratings.csv` | `movies.csv` (+ `links.csv`) | CSV with quoted titles, UTF-8, LF or CRLF |
//! | ml-1m, ml-10m | `ratings.dat` | `movies.dat` | `::`, Latin-1 (ml-1m) or UTF-8 (ml-10m) |
//! | ml-100k | `u.data` | `u.item` | tab; `|` with 19 genre flags, Latin-1 |
//!
//! Ratings are parsed line by line from a buffered stream; no file is held whole as text.

mod files;
mod title;
mod tmdb;

use std::path::{Path, PathBuf};

use files::{apply_links, read_movies_csv, read_movies_dat, read_ratings, read_tags_csv, read_tags_dat, read_u_item, split_n, split_str};
pub use title::parse_title;
pub use tmdb::join_tmdb;

use crate::catalogue::MovieId;
use crate::error::{Error, Result};
pub use crate::eval::RatingRecord;

/// One movie's metadata as read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MovieRecord {
    /// MovieLens id.
    pub id: MovieId,
    /// Display title ("The American President").
    pub title: String,
    /// Year from the title.
    pub year: Option<u16>,
    /// Genre names ("(no genres listed)" and "unknown" are dropped).
    pub genres: Vec<String>,
    /// IMDb id.
    pub imdb_id: Option<u32>,
    /// TMDB id.
    pub tmdb_id: Option<u32>,
    /// TMDB keywords, when joined with [`join_tmdb`].
    pub keywords: Vec<String>,
    /// TMDB overview text, when joined.
    pub overview: String,
    /// TMDB runtime in minutes, when joined and known.
    pub runtime: Option<u16>,
}

/// A free-text tag a user put on a movie (`tags.csv`, `tags.dat`).
#[derive(Clone, Debug, PartialEq)]
pub struct TagRecord {
    /// User id.
    pub user: u32,
    /// Movie id.
    pub movie: MovieId,
    /// The tag as typed.
    pub tag: String,
}

/// Which release layout a folder holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `ratings.csv` + `movies.csv` (ml-latest, ml-20m and later).
    Csv,
    /// `ratings.dat` + `movies.dat` with `::` (ml-1m, ml-10m).
    DoubleColon,
    /// `u.data` + `u.item` (ml-100k).
    Ml100k,
}

/// How strictly to read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Skip malformed lines (counted in [`Dataset::skipped_lines`]) instead of failing.
    pub lenient: bool,
}

/// A whole release: ratings in file order, movies sorted by id.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Folder name, e.g. "ml-latest-small".
    pub name: String,
    /// Which layout it was read from.
    pub layout: Layout,
    /// Every rating.
    pub ratings: Vec<RatingRecord>,
    /// Every movie, sorted by id.
    pub movies: Vec<MovieRecord>,
    /// User tags, when the release has them.
    pub tags: Vec<TagRecord>,
    /// Malformed lines skipped (lenient reading only).
    pub skipped_lines: u64,
}

/// Recognises the layout from the files present.
pub fn detect_layout(dir: &Path) -> Result<Layout> {
    if dir.join("ratings.csv").is_file() {
        Ok(Layout::Csv)
    } else if dir.join("ratings.dat").is_file() {
        Ok(Layout::DoubleColon)
    } else if dir.join("u.data").is_file() {
        Ok(Layout::Ml100k)
    } else {
        Err(Error::Io {
            path: dir.display().to_string(),
            reason: "no MovieLens ratings here (looked for ratings.csv, ratings.dat, u.data)".into(),
        })
    }
}

/// Reads a MovieLens release from `dir`, whatever its layout.
pub fn read_dataset(dir: &Path, options: ReadOptions) -> Result<Dataset> {
    let layout = detect_layout(dir)?;
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| dir.display().to_string());
    let mut skipped = 0u64;
    let (ratings, mut movies) = match layout {
        Layout::Csv => {
            let ratings = read_ratings(&dir.join("ratings.csv"), true, options, &mut skipped, |l| split_n(l, ',', 4))?;
            let mut movies = read_movies_csv(&dir.join("movies.csv"), options, &mut skipped)?;
            let links = dir.join("links.csv");
            if links.is_file() {
                apply_links(&links, &mut movies, options, &mut skipped)?;
            }
            (ratings, movies)
        }
        Layout::DoubleColon => {
            let ratings = read_ratings(&dir.join("ratings.dat"), false, options, &mut skipped, |l| split_str(l, "::", 4))?;
            let movies = read_movies_dat(&dir.join("movies.dat"), options, &mut skipped)?;
            (ratings, movies)
        }
        Layout::Ml100k => {
            let ratings = read_ratings(&dir.join("u.data"), false, options, &mut skipped, |l| split_n(l, '\t', 4))?;
            let movies = read_u_item(&dir.join("u.item"), options, &mut skipped)?;
            (ratings, movies)
        }
    };
    movies.sort_by_key(|m| m.id);
    if let Some(w) = movies.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(Error::NotEnoughData(format!("movie id {} is listed twice", w[0].id.0)));
    }
    let tags = match layout {
        Layout::Csv if dir.join("tags.csv").is_file() => read_tags_csv(&dir.join("tags.csv"), options, &mut skipped)?,
        Layout::DoubleColon if dir.join("tags.dat").is_file() => read_tags_dat(&dir.join("tags.dat"), options, &mut skipped)?,
        _ => Vec::new(),
    };
    Ok(Dataset { name, layout, ratings, movies, tags, skipped_lines: skipped })
}

/// Path of the TMDB 5000 movies table beside the project, for the content model.
pub fn shared_tmdb() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/tmdb-5000/tmdb_5000_movies.csv")
}

/// Path of the real ml-latest-small copy beside the project, for tests and the default model.
pub fn shared_ml_latest_small() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/ml-latest-small")
}
