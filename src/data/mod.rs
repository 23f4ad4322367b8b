//! Readers for MovieLens releases in their own layouts (native only, `train` feature):
//!
//! | layout | ratings | movies | separator, encoding |
//! |---|---|---|---|
//! | ml-latest(-small), ml-20m/25m/32m | `ratings.csv` | `movies.csv` (+ `links.csv`) | CSV with quoted titles, UTF-8, LF or CRLF |
//! | ml-1m, ml-10m | `ratings.dat` | `movies.dat` | `::`, Latin-1 (ml-1m) or UTF-8 (ml-10m) |
//! | ml-100k | `u.data` | `u.item` | tab; `|` with 19 genre flags, Latin-1 |
//!
//! Ratings are parsed line by line from a buffered stream; no file is held whole as text.

mod title;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

pub use title::parse_title;

use crate::error::{Error, Result};
pub use crate::eval::RatingRecord;
use crate::model::MovieId;

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

fn open(path: &Path) -> Result<BufReader<File>> {
    File::open(path)
        .map(|f| BufReader::with_capacity(1 << 20, f))
        .map_err(|e| Error::Io { path: path.display().to_string(), reason: e.to_string() })
}

/// Reads lines as text: UTF-8 when valid, else Latin-1 (ml-100k and ml-1m are Latin-1).
/// Calls `f(line_number, line)` with the line ending (LF or CRLF) removed.
fn for_each_line(path: &Path, mut f: impl FnMut(u64, &str) -> Result<()>) -> Result<()> {
    let mut reader = open(path)?;
    let mut buf = Vec::with_capacity(256);
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(|e| Error::Io { path: path.display().to_string(), reason: e.to_string() })?;
        if n == 0 {
            return Ok(());
        }
        line_no += 1;
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        match std::str::from_utf8(&buf) {
            Ok(s) => f(line_no, s)?,
            Err(_) => {
                let s: String = buf.iter().map(|&b| b as char).collect();
                f(line_no, &s)?
            }
        }
    }
}

fn parse_error(path: &Path, line: u64, reason: impl Into<String>) -> Error {
    Error::Parse { path: path.display().to_string(), line, reason: reason.into() }
}

fn split_n(line: &str, sep: char, n: usize) -> Option<Vec<&str>> {
    let parts: Vec<&str> = line.split(sep).collect();
    (parts.len() == n).then_some(parts)
}

fn split_str<'a>(line: &'a str, sep: &str, n: usize) -> Option<Vec<&'a str>> {
    let parts: Vec<&str> = line.split(sep).collect();
    (parts.len() == n).then_some(parts)
}

/// Parses every non-empty line (after an optional header) with `parse`; a line it rejects is an
/// error naming file and line, or is counted in `skipped` when reading leniently.
fn parse_lines<T>(
    path: &Path,
    has_header: bool,
    options: ReadOptions,
    skipped: &mut u64,
    parse: impl Fn(&str) -> std::result::Result<T, String>,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for_each_line(path, |no, line| {
        if (has_header && no == 1) || line.is_empty() {
            return Ok(());
        }
        match parse(line) {
            Ok(v) => out.push(v),
            Err(_) if options.lenient => *skipped += 1,
            Err(reason) => return Err(parse_error(path, no, reason)),
        }
        Ok(())
    })?;
    Ok(out)
}

fn read_ratings(
    path: &Path,
    has_header: bool,
    options: ReadOptions,
    skipped: &mut u64,
    split: impl Fn(&str) -> Option<Vec<&str>>,
) -> Result<Vec<RatingRecord>> {
    parse_lines(path, has_header, options, skipped, |line| parse_rating(line, &split))
}

fn parse_rating(line: &str, split: &impl Fn(&str) -> Option<Vec<&str>>) -> std::result::Result<RatingRecord, String> {
    let f = split(line).ok_or_else(|| format!("expected 4 fields (user, movie, rating, timestamp), got {line:?}"))?;
    let user = f[0].trim().parse::<u32>().map_err(|_| format!("user id {:?} is not a whole number", f[0]))?;
    let movie = f[1].trim().parse::<u32>().map_err(|_| format!("movie id {:?} is not a whole number", f[1]))?;
    let rating = f[2].trim().parse::<f32>().map_err(|_| format!("rating {:?} is not a number", f[2]))?;
    if !rating.is_finite() || !(0.0..=10.0).contains(&rating) {
        return Err(format!("rating {rating} is outside 0..=10"));
    }
    let timestamp = f[3].trim().parse::<i64>().map_err(|_| format!("timestamp {:?} is not a whole number", f[3]))?;
    Ok(RatingRecord { user, movie: MovieId(movie), rating, timestamp })
}

fn movie_record(id: u32, raw_title: &str, genres: impl Iterator<Item = String>) -> MovieRecord {
    let (title, year) = parse_title(raw_title);
    let genres = genres
        .map(|g| if g == "Children's" { "Children".to_string() } else { g })
        .filter(|g| !g.is_empty() && g != "(no genres listed)" && g != "unknown")
        .collect();
    MovieRecord { id: MovieId(id), title, year, genres, ..Default::default() }
}

fn csv_reader(path: &Path) -> Result<csv::Reader<BufReader<File>>> {
    Ok(csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(open(path)?))
}

fn csv_records(
    path: &Path,
    mut f: impl FnMut(u64, &csv::StringRecord) -> std::result::Result<(), String>,
    options: ReadOptions,
    skipped: &mut u64,
) -> Result<()> {
    let mut reader = csv_reader(path)?;
    for (i, rec) in reader.records().enumerate() {
        let line = rec.as_ref().ok().and_then(|r| r.position()).map(|p| p.line()).unwrap_or(i as u64 + 2);
        let outcome = match rec {
            Ok(rec) => f(line, &rec),
            Err(e) => Err(e.to_string()),
        };
        match outcome {
            Ok(()) => {}
            Err(_) if options.lenient => *skipped += 1,
            Err(reason) => return Err(parse_error(path, line, reason)),
        }
    }
    Ok(())
}

fn read_movies_csv(path: &Path, options: ReadOptions, skipped: &mut u64) -> Result<Vec<MovieRecord>> {
    let mut out = Vec::new();
    csv_records(
        path,
        |_, rec| {
            if rec.len() != 3 {
                return Err(format!("expected 3 fields (movieId, title, genres), got {}", rec.len()));
            }
            let id = rec[0].trim().parse::<u32>().map_err(|_| format!("movie id {:?} is not a whole number", &rec[0]))?;
            out.push(movie_record(id, &rec[1], rec[2].split('|').map(String::from)));
            Ok(())
        },
        options,
        skipped,
    )?;
    Ok(out)
}

fn apply_links(path: &Path, movies: &mut [MovieRecord], options: ReadOptions, skipped: &mut u64) -> Result<()> {
    movies.sort_by_key(|m| m.id);
    csv_records(
        path,
        |_, rec| {
            if rec.len() != 3 {
                return Err(format!("expected 3 fields (movieId, imdbId, tmdbId), got {}", rec.len()));
            }
            let id = rec[0].trim().parse::<u32>().map_err(|_| format!("movie id {:?} is not a whole number", &rec[0]))?;
            let opt = |s: &str| {
                if s.trim().is_empty() {
                    Ok(None)
                } else {
                    s.trim().parse::<u32>().map(Some).map_err(|_| format!("id {s:?} is not a whole number"))
                }
            };
            let (imdb, tmdb) = (opt(&rec[1])?, opt(&rec[2])?);
            if let Ok(i) = movies.binary_search_by_key(&MovieId(id), |m| m.id) {
                movies[i].imdb_id = imdb;
                movies[i].tmdb_id = tmdb;
            }
            Ok(())
        },
        options,
        skipped,
    )
}

fn read_movies_dat(path: &Path, options: ReadOptions, skipped: &mut u64) -> Result<Vec<MovieRecord>> {
    parse_lines(path, false, options, skipped, |line| {
        let f = split_str(line, "::", 3).ok_or_else(|| format!("expected 3 fields (MovieID::Title::Genres), got {line:?}"))?;
        let id = f[0].trim().parse::<u32>().map_err(|_| format!("movie id {:?} is not a whole number", f[0]))?;
        Ok(movie_record(id, f[1], f[2].split('|').map(String::from)))
    })
}

/// ml-100k's genre columns, in the order of `u.genre`.
const ML100K_GENRES: [&str; 19] = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
];

fn read_u_item(path: &Path, options: ReadOptions, skipped: &mut u64) -> Result<Vec<MovieRecord>> {
    parse_lines(path, false, options, skipped, |line| {
        let f = split_n(line, '|', 5 + ML100K_GENRES.len())
            .ok_or_else(|| format!("expected {} |-separated fields, got {line:?}", 5 + ML100K_GENRES.len()))?;
        let id = f[0].trim().parse::<u32>().map_err(|_| format!("movie id {:?} is not a whole number", f[0]))?;
        let mut genres = Vec::new();
        for (g, flag) in ML100K_GENRES.iter().zip(&f[5..]) {
            match flag.trim() {
                "1" => genres.push(g.to_string()),
                "0" => {}
                other => return Err(format!("genre flag {other:?} for {g} is not 0 or 1")),
            }
        }
        Ok(movie_record(id, f[1], genres.into_iter()))
    })
}

fn read_tags_csv(path: &Path, options: ReadOptions, skipped: &mut u64) -> Result<Vec<TagRecord>> {
    let mut out = Vec::new();
    csv_records(
        path,
        |_, rec| {
            if rec.len() != 4 {
                return Err(format!("expected 4 fields (userId, movieId, tag, timestamp), got {}", rec.len()));
            }
            let user = rec[0].trim().parse::<u32>().map_err(|_| format!("user id {:?} is not a whole number", &rec[0]))?;
            let movie = rec[1].trim().parse::<u32>().map_err(|_| format!("movie id {:?} is not a whole number", &rec[1]))?;
            out.push(TagRecord { user, movie: MovieId(movie), tag: rec[2].trim().to_string() });
            Ok(())
        },
        options,
        skipped,
    )?;
    Ok(out)
}

fn read_tags_dat(path: &Path, options: ReadOptions, skipped: &mut u64) -> Result<Vec<TagRecord>> {
    parse_lines(path, false, options, skipped, |line| {
        let f = split_str(line, "::", 4).ok_or_else(|| format!("expected 4 fields (UserID::MovieID::Tag::Timestamp), got {line:?}"))?;
        let user = f[0].trim().parse::<u32>().map_err(|_| format!("user id {:?} is not a whole number", f[0]))?;
        let movie = f[1].trim().parse::<u32>().map_err(|_| format!("movie id {:?} is not a whole number", f[1]))?;
        Ok(TagRecord { user, movie: MovieId(movie), tag: f[2].trim().to_string() })
    })
}

/// Joins TMDB 5000 metadata (`tmdb_5000_movies.csv`: keywords, overview, runtime) onto movies
/// through their TMDB id. Returns how many movies matched.
pub fn join_tmdb(path: &Path, movies: &mut [MovieRecord], options: ReadOptions) -> Result<usize> {
    #[derive(serde::Deserialize)]
    struct Named {
        name: String,
    }
    let mut by_tmdb: std::collections::HashMap<u32, usize> = Default::default();
    for (i, m) in movies.iter().enumerate() {
        if let Some(t) = m.tmdb_id {
            by_tmdb.insert(t, i);
        }
    }
    let mut reader = csv_reader(path)?;
    let headers = reader.headers().map_err(|e| parse_error(path, 1, e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name).ok_or_else(|| parse_error(path, 1, format!("no {name} column")));
    let (id_col, kw_col, ov_col, rt_col) = (col("id")?, col("keywords")?, col("overview")?, col("runtime")?);
    let mut matched = 0;
    let mut skipped = 0u64;
    for (i, rec) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let parsed = rec.map_err(|e| e.to_string()).and_then(|rec| {
            let id = rec[id_col].trim().parse::<u32>().map_err(|_| format!("TMDB id {:?} is not a whole number", &rec[id_col]))?;
            let keywords: Vec<Named> = serde_json::from_str(&rec[kw_col]).map_err(|e| format!("keywords are not a JSON list: {e}"))?;
            let runtime = rec[rt_col].trim().parse::<f32>().ok().filter(|r| *r > 0.0 && *r < 2000.0).map(|r| r as u16);
            Ok((id, keywords.into_iter().map(|k| k.name).collect::<Vec<_>>(), rec[ov_col].to_string(), runtime))
        });
        match parsed {
            Ok((id, keywords, overview, runtime)) => {
                if let Some(&m) = by_tmdb.get(&id) {
                    let movie = &mut movies[m];
                    (movie.keywords, movie.overview, movie.runtime) = (keywords, overview, runtime);
                    matched += 1;
                }
            }
            Err(_) if options.lenient => skipped += 1,
            Err(reason) => return Err(parse_error(path, line, reason)),
        }
    }
    let _ = skipped;
    Ok(matched)
}

/// Path of the TMDB 5000 movies table beside the project, for the content model.
pub fn shared_tmdb() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/tmdb-5000/tmdb_5000_movies.csv")
}

/// Path of the real ml-latest-small copy beside the project, for tests and the default model.
pub fn shared_ml_latest_small() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/ml-latest-small")
}
