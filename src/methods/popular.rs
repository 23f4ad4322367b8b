//! Popularity: the most rated movies first, the same for everyone. It needs no table (the
//! catalogue's counts are enough) and is the floor every personal method must beat.

use super::{Context, Folded, Part, Reason};
use crate::catalogue::Catalogue;
use crate::error::Result;

/// The method's (empty) table.
pub struct Popular;

struct FoldedPopular<'a> {
    catalogue: &'a Catalogue,
}

/// Why a movie is popular: its training count and mean.
pub fn reason(catalogue: &Catalogue, row: usize) -> Reason {
    let m = &catalogue.movies[row];
    Reason::Popular { rating_count: m.rating_count, rating_mean: m.rating_mean }
}

impl Part for Popular {
    fn fold_in<'a>(&'a self, cx: &Context<'a>) -> Box<dyn Folded + 'a> {
        Box::new(FoldedPopular { catalogue: cx.catalogue })
    }

    fn validate(&self, _movies: usize) -> Result<()> {
        Ok(())
    }
}

impl Folded for FoldedPopular<'_> {
    /// The rating count, ties broken by the mean.
    fn scores(&self) -> Vec<f32> {
        self.catalogue.movies.iter().map(|m| m.rating_count as f32 + m.rating_mean * 1e-3).collect()
    }

    fn reason(&self, row: usize) -> Option<Reason> {
        Some(reason(self.catalogue, row))
    }
}
