//! The packed model: everything the browser needs, in one versioned, checksummed file
//! ([`crate::format`] has the container).
//!
//! The file's core section holds what the first recommendations need (provenance, catalogue,
//! the ranking factor model, blend weights); its stars section the star model, which predicts
//! the stars shown beside them (in the core instead when the ranking reads it,
//! [`Mf::ranks_by_stars`]); its extras section the other methods' tables ([`Extras`]). A page
//! reads the core as soon as its bytes have arrived and attaches the others as they arrive
//! ([`Model::core_length`], [`Model::core_from_bytes`], [`Model::attach_stars`],
//! [`Model::attach_extras`]): on a slow connection the first recommendations wait for about a
//! tenth of the file, not all of it. Decoded parts are validated field by field.

use serde::{Deserialize, Serialize};

use crate::catalogue::{Catalogue, Links};
use crate::error::{Error, Result};
use crate::format::{self, Header, Section};
use crate::methods::hybrid::HybridWeights;
use crate::methods::mf::{ExplicitFactors, ImplicitFactors, Mf};
use crate::methods::{Extras, Parts};

/// Where the model came from, for the page's footer and the evaluation table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    /// Data set name, e.g. "ml-latest-small".
    pub dataset: String,
    /// Training users.
    pub users: u32,
    /// Training ratings.
    pub ratings: u64,
    /// Lowest rating on the scale.
    pub rating_min: f32,
    /// Highest rating on the scale.
    pub rating_max: f32,
    /// Trainer settings, human-readable.
    pub trainer: String,
    /// The choices the trainer learned on its own training data, when it searched.
    pub learned: Option<Learned>,
}

/// What the trainer's search chose on validation users carved from its training users, and
/// what it measured (`train::search`), kept in the model's provenance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Learned {
    /// Recency half-life of the implicit model's fold-in (0: off).
    pub recency_half_life: f32,
    /// The order-coherence a long history needs for the decay to apply (0: it always does).
    pub recency_coherence: f32,
    /// Weight of the explicit prediction in the factor models' ranking.
    pub explicit_weight: f32,
    /// Confidence slope of the implicit model.
    pub alpha: f32,
    /// The hybrid's weights by bucket.
    pub hybrid: HybridWeights,
    /// Validation NDCG@10 per kind of visitor: `(kind, starting point, chosen)`.
    pub validation: Vec<(String, f64, f64)>,
    /// Validation users.
    pub users: usize,
    /// Seconds the search took.
    pub seconds: f64,
}

impl Learned {
    /// One line for the model's provenance.
    pub fn describe(&self) -> String {
        let figures: Vec<String> = self.validation.iter().map(|(k, a, b)| format!("{k} {a:.4}->{b:.4}")).collect();
        format!(
            "learned on {} validation users in {:.0} s: half-life {}, recency coherence {}, explicit weight {}, alpha {}; validation NDCG@10 {}",
            self.users,
            self.seconds,
            self.recency_half_life,
            self.recency_coherence,
            self.explicit_weight,
            self.alpha,
            figures.join(", ")
        )
    }
}

/// The whole recommender model as shipped to the browser. The file's core holds the first four
/// fields (the catalogue without its IMDb and TMDB ids and without the titles of the movies its
/// ranking has no factors for, which the links section holds); the stars section the star
/// model, unless the ranking reads it; the extras section the rest.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Provenance and rating scale.
    pub info: ModelInfo,
    /// The movies, one per row of every table.
    pub catalogue: Catalogue,
    /// The factor models: predicted stars, and the ranking every other method falls back to.
    pub mf: Mf,
    /// Blend weights of the hybrid method.
    pub hybrid: HybridWeights,
    /// The other methods' tables (each absent in a model built without it, and all of them
    /// until [`Model::attach_extras`] for a model read by [`Model::core_from_bytes`]).
    pub extras: Extras,
    /// Whether the movies' IMDb and TMDB ids, and every title, are in: false only for a model
    /// read by [`Model::core_from_bytes`] until [`Model::attach_links`].
    pub has_links: bool,
    /// The checksum of the core section this model was read from, if it was read from a file:
    /// extras are attached only from the same file.
    pub core_checksum: CoreChecksum,
}

/// The checksum of the core section a model was read from. Not part of the model's equality (a
/// model built in memory equals itself written and read back).
#[derive(Clone, Copy, Debug, Default)]
pub struct CoreChecksum(pub Option<u64>);

impl PartialEq for CoreChecksum {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The core section as written and read: the model without its extras, and without its star
/// model unless the ranking reads it.
#[derive(Serialize)]
struct CoreRef<'a> {
    info: &'a ModelInfo,
    catalogue: &'a Catalogue,
    mf: MfRef<'a>,
    hybrid: &'a HybridWeights,
}

/// [`Mf`] as the core writes it (the same fields, so it reads back as an [`Mf`]).
#[derive(Serialize)]
struct MfRef<'a> {
    global_mean: f32,
    explicit: Option<&'a ExplicitFactors>,
    implicit: &'a Option<ImplicitFactors>,
}

#[derive(Deserialize)]
struct Core {
    info: ModelInfo,
    catalogue: Catalogue,
    mf: Mf,
    hybrid: HybridWeights,
}

impl Model {
    /// The method tables, borrowed.
    pub fn parts(&self) -> Parts<'_> {
        Parts { mf: &self.mf, extras: &self.extras }
    }

    /// Serialises the model: header, core, links, stars, extras.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let sections = self.sections()?;
        Ok(format::write(sections.each_ref().map(Vec::as_slice)))
    }

    /// The encoded core, links, stars and extras sections (for size reports). A model read
    /// without its links or star section cannot be written.
    pub fn sections(&self) -> Result<[Vec<u8>; format::SECTIONS]> {
        let (Some(explicit), true) = (&self.mf.explicit, self.has_links) else {
            return Err(Error::InvalidModel("the model has not been read whole yet; only a whole model can be written".to_string()));
        };
        let in_core = self.mf.ranks_by_stars();
        let mf = MfRef { global_mean: self.mf.global_mean, explicit: in_core.then_some(explicit), implicit: &self.mf.implicit };
        let late = |row: usize| !self.mf.core_ranks(row);
        // The late titles travel in the links section; the core keeps an empty one in their place.
        let mut catalogue = self.catalogue.clone();
        for (row, movie) in catalogue.movies.iter_mut().enumerate() {
            if late(row) {
                movie.title.clear();
            }
        }
        let core = format::encode(&CoreRef { info: &self.info, catalogue: &catalogue, mf, hybrid: &self.hybrid })?;
        let stars: Option<&ExplicitFactors> = (!in_core).then_some(explicit);
        let links = format::encode(&Links::of(&self.catalogue.movies, late))?;
        Ok([core, links, format::encode(&stars)?, format::encode(&self.extras)?])
    }

    /// How many leading bytes of the file [`Model::core_from_bytes`] needs, once `prefix` holds
    /// the header (`Ok(None)` before that). Fails as soon as the bytes cannot be a model this
    /// build reads (an HTML error page, another format version).
    pub fn core_length(prefix: &[u8]) -> Result<Option<usize>> {
        Self::section_end(prefix, Section::Core)
    }

    /// How many leading bytes of the file [`Model::attach_links`] needs, once `prefix` holds the
    /// header (`Ok(None)` before that).
    pub fn links_length(prefix: &[u8]) -> Result<Option<usize>> {
        Self::section_end(prefix, Section::Links)
    }

    /// How many leading bytes of the file [`Model::attach_stars`] needs, once `prefix` holds the
    /// header (`Ok(None)` before that).
    pub fn stars_length(prefix: &[u8]) -> Result<Option<usize>> {
        Self::section_end(prefix, Section::Stars)
    }

    /// The bytes from the file's start to the end of `section`, once `prefix` holds the header.
    fn section_end(prefix: &[u8], section: Section) -> Result<Option<usize>> {
        match Header::read(prefix)? {
            None => Ok(None),
            Some(h) => usize::try_from(h.end(section))
                .map(Some)
                .map_err(|_| Error::InvalidModel(format!("{} section ending at byte {} is too large", section.name(), h.end(section)))),
        }
    }

    /// How many bytes the whole file has, once `prefix` holds the header (None before): a page
    /// that stopped its download after the core asks for the rest only if it lacks some.
    pub fn file_length(prefix: &[u8]) -> Result<Option<u64>> {
        Ok(Header::read(prefix)?.map(|h| h.total()))
    }

    /// Reads and validates the core of a model from the file's first bytes (at least
    /// [`Model::core_length`] of them; more are ignored): every part but the extras, which stay
    /// empty until [`Model::attach_extras`], the movies' IMDb and TMDB ids (until
    /// [`Model::attach_links`]), and the star model where the file keeps it after the core
    /// (until [`Model::attach_stars`]).
    pub fn core_from_bytes(bytes: &[u8]) -> Result<Self> {
        let header = Header::require(bytes)?;
        let core: Core = format::decode("core", header.section(bytes, Section::Core)?)?;
        let model = Model {
            info: core.info,
            catalogue: core.catalogue,
            mf: core.mf,
            hybrid: core.hybrid,
            extras: Extras::default(),
            has_links: false,
            core_checksum: CoreChecksum(Some(header.core_checksum())),
        };
        model.validate()?;
        Ok(model)
    }

    /// The header of `bytes`, which must be the file this model's core was read from (another
    /// file's sections are an [`Error::OtherModel`]).
    fn same_file(&self, bytes: &[u8]) -> Result<Header> {
        let header = Header::require(bytes)?;
        if let Some(expected) = self.core_checksum.0 {
            if header.core_checksum() != expected {
                return Err(Error::OtherModel { found: header.core_checksum(), expected });
            }
        }
        Ok(header)
    }

    /// Adds the movies' IMDb and TMDB ids, and the titles the core leaves out ([`Links`]), from
    /// the file's first [`Model::links_length`] bytes to a model read by
    /// [`Model::core_from_bytes`] from the same file; a no-op once they are in. On any error
    /// the model is left as it was.
    pub fn attach_links(&mut self, bytes: &[u8]) -> Result<()> {
        let header = self.same_file(bytes)?;
        if self.has_links {
            return Ok(());
        }
        let links: Links = format::decode("links", header.section(bytes, Section::Links)?)?;
        let mf = &self.mf;
        links.apply(&mut self.catalogue.movies, |row| !mf.core_ranks(row))?;
        self.has_links = true;
        Ok(())
    }

    /// Adds the links, if they are not in yet, and the star model from the file's first
    /// [`Model::stars_length`] bytes to a model read by [`Model::core_from_bytes`] from the
    /// same file; a no-op once both are in. On an error in the stars the model keeps the links
    /// but is otherwise left as it was.
    pub fn attach_stars(&mut self, bytes: &[u8]) -> Result<()> {
        let header = self.same_file(bytes)?;
        self.attach_links(bytes)?;
        if self.has_stars() && !self.mf.ranks_by_stars() {
            // Attached from this section already: not decoded again (attach_extras calls this).
            return Ok(());
        }
        let stars: Option<ExplicitFactors> = format::decode("stars", header.section(bytes, Section::Stars)?)?;
        let bad = |msg: &str| Err(Error::InvalidModel(msg.to_string()));
        match (&self.mf.explicit, stars) {
            (None, Some(explicit)) => {
                explicit.validate(self.catalogue.len())?;
                self.mf.explicit = Some(explicit);
                Ok(())
            }
            (None, None) => bad("the file has no star model (neither its core nor its stars section holds one)"),
            (Some(_), Some(_)) => bad("the file has a star model in both its core and its stars section"),
            (Some(_), None) => Ok(()),
        }
    }

    /// Whether movie `row`'s title is in: always once the links section is, before that only
    /// for the movies the core's ranking model has factors for (see [`Links`]). A list holds
    /// only movies with their title.
    pub fn has_title(&self, row: usize) -> bool {
        self.has_links || self.mf.core_ranks(row)
    }

    /// Whether the star model is in (predicted stars can be given).
    pub fn has_stars(&self) -> bool {
        self.mf.explicit.is_some()
    }

    /// Adds the links and the star model, if they are not in yet, and the extras of the whole
    /// file `bytes` to a model read by [`Model::core_from_bytes`] from the same file. On an
    /// error in the extras the model keeps the links and the star model but is otherwise left
    /// as it was.
    pub fn attach_extras(&mut self, bytes: &[u8]) -> Result<()> {
        let header = self.same_file(bytes)?;
        self.attach_stars(bytes)?;
        let extras: Extras = format::decode("extras", header.section(bytes, Section::Extras)?)?;
        Parts { mf: &self.mf, extras: &extras }.validate(self.catalogue.len())?;
        self.extras = extras;
        Ok(())
    }

    /// The checksum of the core section this model was read from: the same for every load of
    /// the same file, different for another file (None for a model built in memory).
    pub fn core_checksum(&self) -> Option<u64> {
        self.core_checksum.0
    }

    /// Whether the model holds any of the extras' tables.
    pub fn has_extras(&self) -> bool {
        self.parts().has_extras()
    }

    /// Reads and validates a whole model written by [`Model::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Header::require(bytes)?.require_whole(bytes)?;
        let mut model = Self::core_from_bytes(bytes)?;
        model.attach_extras(bytes)?;
        Ok(model)
    }

    /// Checks the invariants that the rest of the crate relies on.
    pub fn validate(&self) -> Result<()> {
        let (lo, hi) = (self.info.rating_min, self.info.rating_max);
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(Error::InvalidModel(format!("rating scale {lo}..={hi} is empty or not finite")));
        }
        self.catalogue.validate()?;
        self.hybrid.validate()?;
        self.parts().validate(self.catalogue.len())
    }
}
