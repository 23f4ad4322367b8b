//! Small pieces the methods' tables share: the check of a compressed-row table, and a slot for
//! data derived from a table at load (not stored in the file, not part of equality).

use std::sync::OnceLock;

use crate::error::{Error, Result};

/// Checks a compressed-row table: `offsets` start at 0, never decrease and end at
/// `entries.len()` (with `rows + 1` of them when `rows` is given), every entry is below `bound`,
/// and the parallel value array has one value per entry.
pub fn validate_csr(what: &str, offsets: &[u32], rows: Option<usize>, entries: &[u32], values: usize, bound: usize) -> Result<()> {
    let bad = |msg: String| Err(Error::InvalidModel(msg));
    if rows.is_some_and(|n| offsets.len() != n + 1) || offsets.first() != Some(&0) {
        return bad(format!("{what} table has {} offsets for {} rows", offsets.len(), rows.map_or("its".into(), |n| n.to_string())));
    }
    if offsets.windows(2).any(|w| w[0] > w[1]) || offsets.last().map(|&o| o as usize) != Some(entries.len()) {
        return bad(format!("{what} offsets are not increasing to the table's end"));
    }
    if values != entries.len() {
        return bad(format!("{what} table has {} entries but {values} values", entries.len()));
    }
    if let Some(&e) = entries.iter().find(|&&e| e as usize >= bound) {
        return bad(format!("{what} entry {e} is beyond {bound}"));
    }
    Ok(())
}

/// An error unless `lo <= v <= hi` (so also finite). A finite value far outside what its
/// meaning allows (a blend weight of 3e38) would make every score infinite: a crafted file
/// gets an error naming the field, not a list in id order.
pub fn check_range(what: &str, v: f32, lo: f32, hi: f32) -> Result<()> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(Error::InvalidModel(format!("{what} is {v}, outside {lo}..={hi}")))
    }
}

/// Every value of `values` within `lo..=hi` ([`check_range`] for the first that is not).
pub fn check_all(what: &str, values: &[f32], lo: f32, hi: f32) -> Result<()> {
    match values.iter().position(|v| !(lo..=hi).contains(v)) {
        None => Ok(()),
        Some(i) => check_range(&format!("{what} {i}"), values[i], lo, hi),
    }
}

/// Data computed from a table once (at load, or on first use): a Gram matrix, an inverted
/// index. Not written to the file, and two tables that differ only here are equal. A clone
/// starts empty, so a table copied and then changed never carries data derived from the old
/// values.
#[derive(Default)]
pub struct Derived<T>(OnceLock<T>);

impl<T> Clone for Derived<T> {
    fn clone(&self) -> Self {
        Self(OnceLock::new())
    }
}

impl<T> Derived<T> {
    /// The value, computed by `make` the first time.
    pub fn get_or_init(&self, make: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(make)
    }
}

impl<T> PartialEq for Derived<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> std::fmt::Debug for Derived<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() { "Derived(computed)" } else { "Derived(pending)" })
    }
}
