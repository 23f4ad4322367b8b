//! The recommender's catalogue calls: title search, matching import rows, a movie by id, the
//! starting grid and the first-minute questions. Kept apart from ranking because none of them
//! scores the catalogue for a visitor.

use super::{Recommender, Visitor};
use crate::catalogue::{MovieId, MovieSummary};
use crate::elicit::{next_questions, Answers, Strategy, MAX_QUESTIONS};
use crate::error::{Error, Result};
use crate::matching::{Match, Matcher, Wanted, MAX_WANTED};
use crate::rank::MAX_EXCLUDE;

impl Recommender {
    /// Movies whose title contains every word of the query (case, accents, punctuation
    /// ignored), best first.
    pub fn search(&self, query: &str, limit: usize) -> Vec<MovieSummary> {
        let catalogue = &self.model.catalogue;
        self.index.search(catalogue, query, limit, self.model.has_links).into_iter().map(|row| catalogue.summary(row)).collect()
    }

    /// The catalogue movie of each row of an import file (Letterboxd, IMDb, MovieLens), in
    /// order: by id where the row has one, else by title and year ([`crate::matching`]). Needs
    /// the links section: without the ids an IMDb row would be matched by title alone.
    pub fn match_movies(&self, wanted: &[Wanted]) -> Result<Vec<Match>> {
        if !self.model.has_links {
            return Err(Error::NotYetLoaded { what: "matching import rows", section: "links" });
        }
        if wanted.len() > MAX_WANTED {
            return Err(Error::InvalidOption {
                name: "rows",
                reason: format!("{} rows, at most {MAX_WANTED} are matched at once", wanted.len()),
            });
        }
        let matcher = self.matcher.get_or_init(|| Matcher::new(&self.model.catalogue));
        Ok(wanted.iter().map(|w| matcher.find(&self.model.catalogue, w)).collect())
    }

    /// A movie by id, or `None` when it is not in the catalogue.
    pub fn movie(&self, id: MovieId) -> Option<MovieSummary> {
        self.row(id).map(|row| self.model.catalogue.summary(row))
    }

    /// The next `count` movies to ask the visitor to rate ([`crate::elicit`], the shipped
    /// strategy): never one they rated or answered "haven't seen it" (`unseen`, ids outside
    /// the catalogue ignored), refreshed after every answer.
    pub fn questions(&self, visitor: &Visitor, unseen: &[u32], count: usize) -> Result<Vec<MovieSummary>> {
        Ok(self
            .questions_with(Strategy::SHIPPED, visitor, unseen, count, None)?
            .into_iter()
            .map(|r| self.model.catalogue.summary(r))
            .collect())
    }

    /// Rows of the next questions under `strategy` (the simulation compares them; `table` is
    /// [`Strategy::PopularityEntropy`]'s per-row score).
    pub fn questions_with(
        &self,
        strategy: Strategy,
        visitor: &Visitor,
        unseen: &[u32],
        count: usize,
        table: Option<&[f32]>,
    ) -> Result<Vec<usize>> {
        if count == 0 || count > MAX_QUESTIONS {
            return Err(Error::InvalidOption { name: "count", reason: format!("{count} is not in 1..={MAX_QUESTIONS}") });
        }
        if unseen.len() > MAX_EXCLUDE {
            return Err(Error::InvalidOption { name: "unseen", reason: format!("{} ids, at most {MAX_EXCLUDE}", unseen.len()) });
        }
        let mut unseen_rows: Vec<usize> = unseen.iter().filter_map(|&id| self.row(MovieId(id))).collect();
        unseen_rows.sort_unstable();
        unseen_rows.dedup();
        // A movie given with an unusable rating is still one not to ask again.
        let by_row = &visitor.ratings.by_row;
        unseen_rows
            .extend((0..visitor.excluded.len()).filter(|&r| visitor.excluded[r] && by_row.binary_search_by_key(&r, |p| p.0).is_err()));
        // A movie whose title is not in yet cannot be asked.
        let askable = |row: usize| self.model.has_title(row);
        let answers = Answers { rated: &visitor.ratings.weights, unseen: &unseen_rows, askable: &askable };
        Ok(next_questions(
            strategy,
            &self.model.catalogue,
            self.model.info.users,
            self.model.mf.implicit.as_ref(),
            self.index.cold_start_order(),
            table,
            &answers,
            count,
        ))
    }

    /// The starting grid: popular, well-rated movies (the cold-start order) whose titles are in.
    pub fn popular(&self, limit: usize) -> Vec<MovieSummary> {
        let order = self.index.cold_start_order().iter().filter(|&&row| self.model.has_title(row));
        order.take(limit).map(|&row| self.model.catalogue.summary(row)).collect()
    }
}
