//! MovieLens titles: "American President, The (1995)" becomes ("The American President", 1995).

use crate::text::article_in_front;

/// Splits the trailing "(year)" off and moves a trailing article back to the front, also when an
/// alternative title in parentheses follows ("City of Lost Children, The (Cité des ...)").
pub fn parse_title(raw: &str) -> (String, Option<u16>) {
    let raw = raw.trim();
    let (mut title, year) = match raw.rfind('(') {
        Some(open) if raw.ends_with(')') => {
            let inner = &raw[open + 1..raw.len() - 1];
            // "(1995)" or "(2007-2013)" for series: take the first year.
            let first = inner.split(['-', '–']).next().unwrap_or("");
            match (first.len() == 4).then(|| first.parse::<u16>().ok()).flatten() {
                Some(y) if (1870..=2100).contains(&y) => (raw[..open].trim_end().to_string(), Some(y)),
                _ => (raw.to_string(), None),
            }
        }
        _ => (raw.to_string(), None),
    };
    let head_end = title.find(" (").unwrap_or(title.len());
    let (head, tail) = title.split_at(head_end);
    title = format!("{}{tail}", article_in_front(head));
    (title, year)
}

#[cfg(test)]
mod tests {
    use super::parse_title;

    #[test]
    fn moves_articles_and_splits_year() {
        assert_eq!(parse_title("American President, The (1995)"), ("The American President".into(), Some(1995)));
        assert_eq!(parse_title("Toy Story (1995)"), ("Toy Story".into(), Some(1995)));
        assert_eq!(
            parse_title("City of Lost Children, The (Cité des enfants perdus, La) (1995)"),
            ("The City of Lost Children (Cité des enfants perdus, La)".into(), Some(1995))
        );
        assert_eq!(parse_title("Auberge espagnole, L' (2002)"), ("L'Auberge espagnole".into(), Some(2002)));
        assert_eq!(parse_title("Babylon 5"), ("Babylon 5".into(), None));
        assert_eq!(parse_title("Sherlock (2010-2017) "), ("Sherlock".into(), Some(2010)));
        assert_eq!(parse_title("1900 (Novecento) (1976)"), ("1900 (Novecento)".into(), Some(1976)));
        assert_eq!(parse_title("Big Lebowski, The (1998)").0, "The Big Lebowski");
    }
}
