//! The model file's container: `MAGIC` (8) | format version (u32 LE) | for each of the four
//! sections its length and FNV-1a 64 checksum (u64 LE each) | core | links | stars | extras,
//! each section postcard-encoded. What goes in each section is [`crate::model`]'s business; this
//! module knows only the bytes around them. The order is the order a page needs them in: the
//! core ranks, the links section gives the movies' IMDb and TMDB ids (links, imports, exports)
//! and the titles of the movies the core's ranking has no factors for (search, older ratings),
//! the stars section predicts stars, the extras hold the other methods.
//!
//! The fixed header is read before anything is decoded, so a truncated download, an HTML error
//! page or a newer format is a clear [`Error`], never a panic; and a page can tell from the
//! first [`HEADER_LEN`] bytes how many it needs before each section can be read.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// First bytes of every model file.
pub const MAGIC: &[u8; 8] = b"MOVRECS\0";
/// Format version this build reads and writes. Bump on any change to the body's shape.
/// (8: the provenance records the choices the trainer learned on validation users; 9: EASE's
/// table in the extras, a sixth blend weight; 11: the star model in a section of its own after
/// the core, so that the first list waits for the ranking model only; 12: the movies' IMDb and
/// TMDB ids in a section of their own after the core, a sixth of the core's compressed bytes; 13:
/// the titles of the movies the core cannot rank in that section too, two thirds of the titles.)
pub const FORMAT_VERSION: u32 = 13;
/// The file's sections, in file order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// What the first recommendations need: provenance, catalogue, the ranking factor model,
    /// blend weights.
    Core = 0,
    /// The movies' IMDb and TMDB ids (what links, imports and exports match on), and the
    /// titles of the movies the core's ranking model has no factors for.
    Links = 1,
    /// The star model (predicted stars), unless the core needs it to rank.
    Stars = 2,
    /// The other methods' tables.
    Extras = 3,
}
impl Section {
    /// The section's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Section::Core => "core",
            Section::Links => "links",
            Section::Stars => "stars",
            Section::Extras => "extras",
        }
    }
}
/// How many sections a file has.
pub const SECTIONS: usize = 4;
/// Bytes before the core section.
pub const HEADER_LEN: usize = 8 + 4 + SECTIONS * 2 * 8;

/// FNV-1a, 64 bit: a small checksum that catches truncation and bit flips (not tampering).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn read_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

/// A truncation error for a file of `found` bytes that needed `expected`.
fn truncated(found: usize, expected: u64) -> Error {
    Error::Truncated { found, expected: usize::try_from(expected).unwrap_or(usize::MAX) }
}

/// The whole file: header, then the sections, in [`Section`] order.
pub fn write(sections: [&[u8]; SECTIONS]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + sections.iter().map(|s| s.len()).sum::<usize>());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    for section in sections {
        out.extend_from_slice(&(section.len() as u64).to_le_bytes());
        out.extend_from_slice(&fnv1a64(section).to_le_bytes());
    }
    for section in sections {
        out.extend_from_slice(section);
    }
    out
}

/// The fixed header, checked: each section's `(length, checksum)`.
pub struct Header {
    sections: [(u64, u64); SECTIONS],
}

impl Header {
    /// Reads the header of `bytes`; `Ok(None)` when fewer than [`HEADER_LEN`] bytes have arrived
    /// and those are a model's so far.
    pub fn read(bytes: &[u8]) -> Result<Option<Self>> {
        let magic = &bytes[..bytes.len().min(MAGIC.len())];
        if magic != &MAGIC[..magic.len()] {
            let shown: String = String::from_utf8_lossy(magic).chars().filter(|c| !c.is_control()).collect();
            return Err(Error::BadMagic { found: shown });
        }
        if bytes.len() < HEADER_LEN {
            return Ok(None);
        }
        let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if version != FORMAT_VERSION {
            return Err(Error::UnsupportedVersion { found: version, supported: FORMAT_VERSION });
        }
        let at = |i: usize| read_u64(&bytes[12 + 8 * i..]);
        Ok(Some(Self { sections: std::array::from_fn(|s| (at(2 * s), at(2 * s + 1))) }))
    }

    /// Like [`Header::read`], with too few bytes an error.
    pub fn require(bytes: &[u8]) -> Result<Self> {
        Self::read(bytes)?.ok_or(Error::Truncated { found: bytes.len(), expected: HEADER_LEN })
    }

    /// Bytes from the file's start to the end of `section`.
    pub fn end(&self, section: Section) -> u64 {
        self.sections[..=section as usize].iter().fold(HEADER_LEN as u64, |end, &(len, _)| end.saturating_add(len))
    }

    /// The core section's checksum: what a model's other sections are matched to.
    pub fn core_checksum(&self) -> u64 {
        self.sections[Section::Core as usize].1
    }

    /// The whole file's length.
    pub fn total(&self) -> u64 {
        self.end(Section::Extras)
    }

    /// `section` of `bytes` (the file's first [`Header::end`] bytes suffice, except for the
    /// extras: the file must then be exactly as long as the header says), its checksum verified.
    pub fn section<'b>(&self, bytes: &'b [u8], section: Section) -> Result<&'b [u8]> {
        if section == Section::Extras && bytes.len() as u64 > self.total() {
            return Err(Error::TooLong { found: bytes.len(), expected: self.total() });
        }
        let end = self.end(section);
        if (bytes.len() as u64) < end {
            return Err(truncated(bytes.len(), end));
        }
        let (len, sum) = self.sections[section as usize];
        let body = &bytes[(end - len) as usize..end as usize];
        let found = fnv1a64(body);
        if found != sum {
            return Err(Error::Checksum { found, expected: sum });
        }
        Ok(body)
    }

    /// An error unless `bytes` holds the whole file.
    pub fn require_whole(&self, bytes: &[u8]) -> Result<()> {
        if (bytes.len() as u64) < self.total() {
            return Err(truncated(bytes.len(), self.total()));
        }
        Ok(())
    }
}

thread_local! {
    /// The message of the last check that failed inside a decode (see [`keep_detail`]).
    static DETAIL: std::cell::RefCell<Option<Error>> = const { std::cell::RefCell::new(None) };
}

/// Turns a check that fails while a section is decoded into the decoder's error, keeping the
/// check's own error for [`decode`] to report: postcard replaces every custom message with
/// "Serde Deserialization Error", which says nothing about what was wrong.
pub(crate) fn keep_detail<E: serde::de::Error>(e: Error) -> E {
    let message = e.to_string();
    DETAIL.with(|d| *d.borrow_mut() = Some(e));
    E::custom(message)
}

/// Decodes one section (`what` names it in errors), which must be consumed exactly: bytes after
/// its content mean a writer this build does not know, or tampering.
pub fn decode<'de, T: Deserialize<'de>>(what: &str, body: &'de [u8]) -> Result<T> {
    DETAIL.with(|d| d.borrow_mut().take());
    match postcard::take_from_bytes(body) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => {
            Err(Error::Decode(format!("the {what} section has {} bytes after its content ({} in all)", rest.len(), body.len())))
        }
        Err(e) => Err(DETAIL.with(|d| d.borrow_mut().take()).unwrap_or_else(|| {
            let why = match e {
                // serde's own checks (an enum tag beyond its variants, a wrong tuple length)
                // reach postcard as custom errors, whose messages it drops.
                postcard::Error::SerdeDeCustom => "a value its field cannot take (an unknown variant tag, say)".to_string(),
                other => other.to_string(),
            };
            Error::Decode(format!("the {what} section: {why}"))
        })),
    }
}

/// Encodes one section.
pub fn encode<T: Serialize>(part: &T) -> Result<Vec<u8>> {
    postcard::to_allocvec(part).map_err(|e| Error::Decode(e.to_string()))
}
