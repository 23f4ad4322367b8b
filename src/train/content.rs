//! Builds the content method's attribute vectors ([`Content`]) from movie metadata and user tags.

use std::collections::HashMap;

use super::settings::setting_error;
use crate::data::MovieRecord;
use crate::error::Result;
use crate::methods::content::Content;

/// Settings of the attribute vectors.
#[derive(Clone, Debug, PartialEq)]
pub struct ContentSettings {
    /// Strongest tags, keywords and overview words kept per movie, each (genres, decade and
    /// runtime are always kept).
    pub max_features: usize,
    /// Tags, keywords and words must occur on at least this many movies to count.
    pub min_movies: usize,
}

impl ContentSettings {
    /// Checks the domains.
    pub fn check(&self) -> Result<()> {
        if self.max_features == 0 {
            return Err(setting_error("content_features", self.max_features, "must be >= 1"));
        }
        Ok(())
    }

    /// The settings in the model's provenance line.
    pub fn describe(&self) -> String {
        format!("content features<={} min movies={}", self.max_features, self.min_movies)
    }
}

impl Default for ContentSettings {
    fn default() -> Self {
        Self { max_features: 8, min_movies: 2 }
    }
}

/// Common English words that say nothing about a movie.
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "with", "his", "her", "their", "they", "from", "that", "this", "who", "when", "into", "after", "but", "are",
    "has", "have", "was", "were", "will", "one", "two", "about", "while", "its", "it's", "him", "she", "he", "them", "out", "new", "must",
    "life", "find", "finds", "where", "what", "which", "over", "can", "more", "been", "being", "also", "than", "then", "all", "only",
    "own", "other", "most", "some", "such", "up", "down", "an", "a", "of", "to", "in", "on", "at", "by", "is", "as", "be", "not", "no",
    "so", "if", "or", "before", "between", "through", "during", "under", "again", "just", "very", "even", "year", "years", "young", "man",
    "woman", "world", "story", "film", "movie", "becomes", "get", "gets", "take", "takes", "make", "makes", "back",
];

/// Field weights: how much one attribute of each kind counts before TF-IDF.
const GENRE: f32 = 1.0;
const DECADE: f32 = 0.5;
const TAG: f32 = 1.0;
const KEYWORD: f32 = 1.0;
const WORD: f32 = 0.35;
const RUNTIME: f32 = 0.3;

fn raw_terms(movie: Option<&MovieRecord>, tags: &[String]) -> HashMap<String, f32> {
    let mut terms: HashMap<String, f32> = HashMap::new();
    let mut add = |name: String, w: f32| *terms.entry(name).or_default() += w;
    for tag in tags {
        let t = tag.trim().to_lowercase();
        if !t.is_empty() && t.len() <= 40 {
            add(format!("tag:{t}"), TAG);
        }
    }
    if let Some(m) = movie {
        for g in &m.genres {
            add(format!("genre:{g}"), GENRE);
        }
        if let Some(y) = m.year {
            add(format!("decade:{}s", y / 10 * 10), DECADE);
        }
        for k in &m.keywords {
            add(format!("keyword:{}", k.to_lowercase()), KEYWORD);
        }
        for w in m.overview.split(|c: char| !c.is_alphanumeric() && c != '\'').map(str::to_lowercase) {
            if w.chars().count() >= 4 && !STOPWORDS.contains(&w.as_str()) && !w.chars().all(|c| c.is_ascii_digit()) {
                add(format!("word:{w}"), WORD);
            }
        }
        match m.runtime {
            Some(r) if r < 90 => add("runtime:short (under 90 min)".into(), RUNTIME),
            Some(r) if r > 150 => add("runtime:long (over 150 min)".into(), RUNTIME),
            _ => {}
        }
    }
    // Repeats (a tag many users gave, a word used twice) count sub-linearly.
    for w in terms.values_mut() {
        *w = 1.0 + w.ln().max(0.0);
    }
    terms
}

/// TF-IDF vectors, one per catalogue row, each cut to its strongest features and scaled to unit
/// length. `movies[row]` is the row's metadata (None for a rated id missing from it) and
/// `tags[row]` its user tags.
pub fn build_content(movies: &[Option<&MovieRecord>], tags: &[Vec<String>], s: &ContentSettings) -> Content {
    let rows: Vec<HashMap<String, f32>> = movies.iter().zip(tags).map(|(m, t)| raw_terms(*m, t)).collect();
    let mut df: HashMap<&str, usize> = HashMap::new();
    for r in &rows {
        for name in r.keys() {
            *df.entry(name.as_str()).or_default() += 1;
        }
    }
    let n = rows.len() as f32;
    let keep = |name: &str, df: usize| df >= s.min_movies || name.starts_with("genre:") || name.starts_with("decade:");
    let mut vocabulary: Vec<&str> = df.iter().filter(|(name, &d)| keep(name, d)).map(|(name, _)| *name).collect();
    vocabulary.sort_unstable();
    let index: HashMap<&str, u32> = vocabulary.iter().enumerate().map(|(i, &name)| (name, i as u32)).collect();
    let mut offsets = vec![0u32];
    let (mut feature, mut weight) = (Vec::new(), Vec::new());
    for r in &rows {
        let mut v: Vec<(u32, f32)> = r
            .iter()
            .filter_map(|(name, tf)| {
                index.get(name.as_str()).map(|&f| (f, tf * ((n + 1.0) / (df[name.as_str()] as f32 + 1.0)).ln().max(0.0) + tf * 0.01))
            })
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        // Per kind, the strongest `max_features` (fewer overview words: they are the noisiest).
        let mut per_kind: HashMap<&str, usize> = HashMap::new();
        v.retain(|&(f, _)| {
            let kind = vocabulary[f as usize].split_once(':').map_or("", |(k, _)| k);
            let cap = match kind {
                "tag" | "keyword" => s.max_features,
                "word" => s.max_features / 2,
                _ => usize::MAX,
            };
            let seen = per_kind.entry(kind).or_default();
            *seen += 1;
            *seen <= cap
        });
        let norm = v.iter().map(|x| x.1 * x.1).sum::<f32>().sqrt();
        v.sort_by_key(|x| x.0);
        for (f, w) in v {
            let q = if norm > 0.0 { (w / norm * 255.0).round() as u8 } else { 0 };
            if q > 0 {
                feature.push(f);
                weight.push(q);
            }
        }
        offsets.push(feature.len() as u32);
    }
    Content { names: vocabulary.into_iter().map(String::from).collect(), offsets, feature, weight }
}
