//! One error type for the whole crate. Every variant names the bad value, so the message that
//! reaches a visitor (as a JS `Error`) or a trainer log says what was wrong and where.

use thiserror::Error;

/// Everything that can go wrong in the recommender core, the readers and the trainer.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// The bytes are shorter than the fixed header, or shorter than the header says.
    #[error("model file is truncated: {found} bytes, expected {expected}")]
    Truncated {
        /// Bytes present.
        found: usize,
        /// Bytes the header promised (or the header size).
        expected: usize,
    },
    /// The bytes are longer than the header says: two files joined, or junk appended.
    #[error("model file is {found} bytes, longer than the {expected} its header gives (junk appended, or two files joined)")]
    TooLong {
        /// Bytes present.
        found: usize,
        /// Bytes the header gives.
        expected: u64,
    },
    /// Extras from another model file than the core they are attached to.
    #[error(
        "these extras belong to another model (core checksum {found:016x}, this model's is {expected:016x}); load both from the same file"
    )]
    OtherModel {
        /// Core checksum the extras' file gives.
        found: u64,
        /// Checksum of the core loaded.
        expected: u64,
    },
    /// The first bytes are not the model magic: not a model file at all (an HTML 404 page, say).
    #[error("not a movie-recs model file (starts with {found:?})")]
    BadMagic {
        /// The first bytes found, lossily decoded.
        found: String,
    },
    /// A model written by a newer or older format than this build reads.
    #[error("model format version {found} is not supported (this build reads version {supported}); rebuild it with `./build.sh model`")]
    UnsupportedVersion {
        /// Version in the file.
        found: u32,
        /// Version this build reads and writes.
        supported: u32,
    },
    /// The body does not match its checksum: bytes changed in transit or on disk.
    #[error("model file is corrupt: checksum {found:016x} does not match {expected:016x}")]
    Checksum {
        /// Checksum computed over the body.
        found: u64,
        /// Checksum stored in the header.
        expected: u64,
    },
    /// The body could not be decoded although its checksum matched (a writer bug).
    #[error("model file could not be decoded: {0}")]
    Decode(String),
    /// The decoded model breaks an invariant (mismatched lengths, non-finite factors, ...).
    #[error("model is inconsistent: {0}")]
    InvalidModel(String),
    /// A call that needs a section of the model file that has not been attached yet (a page
    /// that loads the core first attaches the rest as it arrives).
    #[error("{what} needs the model's {section} section, which has not arrived yet; try again once it has been attached")]
    NotYetLoaded {
        /// The call.
        what: &'static str,
        /// The section it needs.
        section: &'static str,
    },
    /// A movie id that is not in the model's catalogue.
    #[error("unknown movie id {0}")]
    UnknownMovie(u32),
    /// A recommend/search option out of its domain.
    #[error("invalid option {name}: {reason}")]
    InvalidOption {
        /// Option name as the caller spells it.
        name: &'static str,
        /// What was wrong, with the value.
        reason: String,
    },
    /// A training or evaluation setting out of its domain.
    #[error("invalid setting {name} = {value}: {reason}")]
    InvalidSetting {
        /// Setting name.
        name: &'static str,
        /// The offending value, formatted.
        value: String,
        /// The allowed domain.
        reason: String,
    },
    /// A data file line that cannot be read.
    #[error("{path}:{line}: {reason}")]
    Parse {
        /// File path as given.
        path: String,
        /// 1-based line (or record) number.
        line: u64,
        /// What was wrong, with the offending text.
        reason: String,
    },
    /// A file that cannot be opened, read or written.
    #[error("{path}: {reason}")]
    Io {
        /// File path as given.
        path: String,
        /// The operating system's message.
        reason: String,
    },
    /// Data that is readable but cannot train or evaluate anything.
    #[error("not enough data: {0}")]
    NotEnoughData(String),
}

/// Result with the crate's [`Error`](enum@Error).
pub type Result<T, E = Error> = std::result::Result<T, E>;
