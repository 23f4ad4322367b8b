//! TMDB 5000 metadata for the content method, joined through the movies' TMDB ids.

use std::path::Path;

use super::files::{csv_reader, parse_error};
use super::{MovieRecord, ReadOptions};
use crate::error::Result;

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
