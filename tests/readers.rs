//! The readers on fixtures written in each MovieLens release's own layout (per the GroupLens
//! READMEs): ml-latest / ml-20m+ CSV (CRLF, quoted titles), ml-1m / ml-10m `::` (Latin-1),
//! ml-100k tab + `|` with genre flags (Latin-1).
#![cfg(feature = "train")]

use std::path::PathBuf;

use movie_recs::data::{read_dataset, Layout, ReadOptions};
use movie_recs::train::{build_model, Learn, TrainSettings};
use movie_recs::{Error, MovieId, Recommender};

fn fixture_dir(name: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("movie-recs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, bytes) in files {
        std::fs::write(dir.join(file), bytes).unwrap();
    }
    dir
}

fn latin1(s: &str) -> Vec<u8> {
    s.chars().map(|c| u8::try_from(c as u32).expect("latin-1 text")).collect()
}

const LATEST_RATINGS: &str =
    "userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,3,4.5,964981247\r\n2,1,3.5,1445714835\r\n2,6,5.0,1445714900\r\n";
const LATEST_MOVIES: &str = "movieId,title,genres\r\n1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\r\n3,\"American President, The (1995)\",Comedy|Drama|Romance\r\n6,\"Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)\",Comedy|Romance\r\n7,Unrated (2001),(no genres listed)\r\n";
const LATEST_LINKS: &str = "movieId,imdbId,tmdbId\r\n1,0114709,862\r\n3,0112346,\r\n6,0211915,194\r\n";

#[test]
fn reads_ml_latest_csv_with_crlf_quotes_and_links() {
    let dir = fixture_dir(
        "latest",
        &[("ratings.csv", LATEST_RATINGS.as_bytes()), ("movies.csv", LATEST_MOVIES.as_bytes()), ("links.csv", LATEST_LINKS.as_bytes())],
    );
    let ds = read_dataset(&dir, ReadOptions::default()).unwrap();
    assert_eq!(ds.layout, Layout::Csv);
    assert_eq!(ds.ratings.len(), 4);
    assert_eq!(ds.ratings[1].rating, 4.5);
    assert_eq!(ds.ratings[1].timestamp, 964981247);
    assert_eq!(ds.movies.len(), 4);
    let president = &ds.movies[1];
    assert_eq!((president.title.as_str(), president.year), ("The American President", Some(1995)));
    assert_eq!((president.imdb_id, president.tmdb_id), (Some(112346), None));
    assert_eq!(ds.movies[2].title, "Amélie (Fabuleux destin d'Amélie Poulain, Le)");
    assert_eq!(ds.movies[2].tmdb_id, Some(194));
    assert!(ds.movies[3].genres.is_empty(), "(no genres listed) is no genre");
}

#[test]
fn reads_ml_1m_double_colon_latin1() {
    let movies = latin1("1::Toy Story (1995)::Animation|Children's|Comedy\n2::Città delle donne, La (1980)::Drama\n");
    let ratings = b"1::1::5::978300760\n1::2::3::978302109\n2::1::4::978301968\n";
    let dir = fixture_dir("1m", &[("ratings.dat", ratings), ("movies.dat", &movies)]);
    let ds = read_dataset(&dir, ReadOptions::default()).unwrap();
    assert_eq!(ds.layout, Layout::DoubleColon);
    assert_eq!(ds.ratings.len(), 3);
    assert_eq!(ds.movies[1].title, "La Città delle donne");
    assert_eq!(ds.movies[0].genres, vec!["Animation", "Children", "Comedy"]);
}

#[test]
fn reads_ml_100k_tab_and_genre_flags() {
    let items = latin1("1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n2|Misérables, Les (1995)|01-Jan-1995||http://x|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|1|0\n");
    let data = b"196\t1\t3\t881250949\n186\t2\t5\t891717742\n22\t1\t1\t878887116\n";
    let dir = fixture_dir("100k", &[("u.data", data), ("u.item", &items)]);
    let ds = read_dataset(&dir, ReadOptions::default()).unwrap();
    assert_eq!(ds.layout, Layout::Ml100k);
    assert_eq!(ds.ratings.len(), 3);
    assert_eq!(ds.movies[0].genres, vec!["Animation", "Children", "Comedy"]);
    assert_eq!((ds.movies[1].title.as_str(), ds.movies[1].year), ("Les Misérables", Some(1995)));
    assert_eq!(ds.movies[1].genres, vec!["Drama", "War"]);
    // The whole path works on this layout: train, pack, load, recommend.
    let model = build_model(
        &ds.name,
        &ds.movies,
        &ds.tags,
        &ds.ratings,
        &TrainSettings { learn: Learn::Off, ..Default::default() }.check().unwrap(),
    )
    .unwrap();
    assert_eq!((model.info.rating_min, model.info.rating_max), (1.0, 5.0));
    let rec = Recommender::from_bytes(&model.to_bytes().unwrap()).unwrap();
    assert_eq!(rec.search("miserables", 5)[0].movie_id, 2);
    assert!(rec.movie(MovieId(1)).is_some());
}

#[test]
fn a_malformed_line_names_file_and_line_or_is_counted_when_lenient() {
    let ratings = "userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,x,4.0,964982703\r\n1,3,4.0\r\n2,1,3.5,1445714835\r\n";
    let dir = fixture_dir("bad", &[("ratings.csv", ratings.as_bytes()), ("movies.csv", LATEST_MOVIES.as_bytes())]);
    let err = read_dataset(&dir, ReadOptions::default()).unwrap_err();
    match &err {
        Error::Parse { path, line, reason } => {
            assert!(path.ends_with("ratings.csv"));
            assert_eq!(*line, 3);
            assert!(reason.contains("\"x\""), "{reason}");
        }
        other => panic!("expected a parse error, got {other}"),
    }
    let ds = read_dataset(&dir, ReadOptions { lenient: true }).unwrap();
    assert_eq!((ds.ratings.len(), ds.skipped_lines), (2, 2));
}

#[test]
fn a_folder_without_ratings_is_a_clear_error() {
    let dir = fixture_dir("empty", &[("README.txt", b"nothing")]);
    let err = read_dataset(&dir, ReadOptions::default()).unwrap_err().to_string();
    assert!(err.contains("no MovieLens ratings"), "{err}");
}
