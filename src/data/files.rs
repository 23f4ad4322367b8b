//! The per-file readers of every layout: ratings line by line from a buffered stream, movies,
//! links and tags, each error naming the file and line.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::{parse_title, MovieRecord, ReadOptions, TagRecord};
use crate::catalogue::MovieId;
use crate::error::{Error, Result};
use crate::eval::RatingRecord;

pub(super) fn open(path: &Path) -> Result<BufReader<File>> {
    File::open(path)
        .map(|f| BufReader::with_capacity(1 << 20, f))
        .map_err(|e| Error::Io { path: path.display().to_string(), reason: e.to_string() })
}

/// Reads lines as text: UTF-8 when valid, else Latin-1 (ml-100k and ml-1m are Latin-1).
/// Calls `f(line_number, line)` with the line ending (LF or CRLF) removed.
pub(super) fn for_each_line(path: &Path, mut f: impl FnMut(u64, &str) -> Result<()>) -> Result<()> {
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

pub(super) fn parse_error(path: &Path, line: u64, reason: impl Into<String>) -> Error {
    Error::Parse { path: path.display().to_string(), line, reason: reason.into() }
}

pub(super) fn split_n(line: &str, sep: char, n: usize) -> Option<Vec<&str>> {
    let parts: Vec<&str> = line.split(sep).collect();
    (parts.len() == n).then_some(parts)
}

pub(super) fn split_str<'a>(line: &'a str, sep: &str, n: usize) -> Option<Vec<&'a str>> {
    let parts: Vec<&str> = line.split(sep).collect();
    (parts.len() == n).then_some(parts)
}

/// Parses every non-empty line (after an optional header) with `parse`; a line it rejects is an
/// error naming file and line, or is counted in `skipped` when reading leniently.
pub(super) fn parse_lines<T>(
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

pub(super) fn read_ratings(
    path: &Path,
    has_header: bool,
    options: ReadOptions,
    skipped: &mut u64,
    split: impl Fn(&str) -> Option<Vec<&str>>,
) -> Result<Vec<RatingRecord>> {
    parse_lines(path, has_header, options, skipped, |line| parse_rating(line, &split))
}

pub(super) fn parse_rating(line: &str, split: &impl Fn(&str) -> Option<Vec<&str>>) -> std::result::Result<RatingRecord, String> {
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

pub(super) fn movie_record(id: u32, raw_title: &str, genres: impl Iterator<Item = String>) -> MovieRecord {
    let (title, year) = parse_title(raw_title);
    let genres = genres
        .map(|g| if g == "Children's" { "Children".to_string() } else { g })
        .filter(|g| !g.is_empty() && g != "(no genres listed)" && g != "unknown")
        .collect();
    MovieRecord { id: MovieId(id), title, year, genres, ..Default::default() }
}

pub(super) fn csv_reader(path: &Path) -> Result<csv::Reader<BufReader<File>>> {
    Ok(csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(open(path)?))
}

pub(super) fn csv_records(
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

pub(super) fn read_movies_csv(path: &Path, options: ReadOptions, skipped: &mut u64) -> Result<Vec<MovieRecord>> {
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

pub(super) fn apply_links(path: &Path, movies: &mut [MovieRecord], options: ReadOptions, skipped: &mut u64) -> Result<()> {
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

pub(super) fn read_movies_dat(path: &Path, options: ReadOptions, skipped: &mut u64) -> Result<Vec<MovieRecord>> {
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

pub(super) fn read_u_item(path: &Path, options: ReadOptions, skipped: &mut u64) -> Result<Vec<MovieRecord>> {
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

pub(super) fn read_tags_csv(path: &Path, options: ReadOptions, skipped: &mut u64) -> Result<Vec<TagRecord>> {
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

pub(super) fn read_tags_dat(path: &Path, options: ReadOptions, skipped: &mut u64) -> Result<Vec<TagRecord>> {
    parse_lines(path, false, options, skipped, |line| {
        let f = split_str(line, "::", 4).ok_or_else(|| format!("expected 4 fields (UserID::MovieID::Tag::Timestamp), got {line:?}"))?;
        let user = f[0].trim().parse::<u32>().map_err(|_| format!("user id {:?} is not a whole number", f[0]))?;
        let movie = f[1].trim().parse::<u32>().map_err(|_| format!("movie id {:?} is not a whole number", f[1]))?;
        Ok(TagRecord { user, movie: MovieId(movie), tag: f[2].trim().to_string() })
    })
}
