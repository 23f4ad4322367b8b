//! Factor matrices: one row of `f32` per movie in memory, stored in the file as `f32`, int8 or
//! int4 rows, and the whole-catalogue dot products that score them.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How a factor matrix is stored in the file; in memory it is always `f32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FactorStorage {
    /// Four bytes a value, exact.
    F32,
    /// One byte a value with one `f32` scale per row (symmetric, round to nearest).
    Int8,
    /// Half a byte a value (-7..=7) with one bf16 scale per row; a row of zeros (a movie the
    /// model has nothing for) costs one bit. Chosen by measurement for the shipped factors: on
    /// ml-latest-small it scores the same as f32 (tuning/README.md) at an eighth of the bytes.
    Int4,
}

/// The widest factor matrix a file may hold. Scoring costs `rows x cols`, which the file pays
/// for in bytes, but the factor models' fold-in solves a `cols x cols` system on every change
/// (see [`crate::methods::mf`] for the tighter bound there), and int4 rows of zeros cost one
/// bit each, so the width is what a crafted file could otherwise inflate.
pub const MAX_COLS: usize = 1024;
/// The most rows (movies) a matrix may have: far above any public catalogue (ML-32M has
/// 87,585), low enough that a header lie cannot ask for gigabytes.
pub const MAX_ROWS: usize = 4_000_000;

/// The largest factor value a file may hold (trained factors stay below 10): a finite value
/// near `f32::MAX` would make every score infinite.
pub const MAX_ABS_VALUE: f32 = 1e4;

/// A row-major `rows x cols` matrix of `f32`, one row per movie.
///
/// The rows a file stores are held densely; int4 rows of zeros (a movie the model has nothing
/// for, one bit in the file) are not held at all, so memory stays proportional to the file:
/// at most `4 x cols + 4` bytes a stored row and 4 bytes a row of zeros.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(into = "StoredFactors")]
pub struct FactorMatrix {
    rows: usize,
    cols: usize,
    /// The stored rows' values, row-major, in row order.
    data: Vec<f32>,
    /// Where each row's values start in `data` divided by `cols`, or [`ZERO_ROW`]; `None` when
    /// every row is stored (row `i` at `i`).
    slots: Option<Vec<u32>>,
    /// One row of zeros, for the rows not stored.
    zeros: Vec<f32>,
    storage: FactorStorage,
    /// For int8 and int4 storage, the stored values (one byte each) and row scales, kept for
    /// scoring the whole catalogue (a quarter of the memory traffic of `data`).
    int8: Option<Int8Rows>,
}

/// The slot of a row of zeros.
const ZERO_ROW: u32 = u32::MAX;

impl<'de> Deserialize<'de> for FactorMatrix {
    /// Decodes the stored form and checks it, keeping the check's message (postcard would
    /// otherwise replace it with "Serde Deserialization Error").
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let stored = StoredFactors::deserialize(d)?;
        FactorMatrix::try_from(stored).map_err(crate::format::keep_detail)
    }
}

/// Checks a declared shape against the format's bounds before anything is allocated for it.
fn check_shape(rows: usize, cols: usize) -> Result<usize> {
    if rows > MAX_ROWS {
        return Err(Error::InvalidModel(format!("factor matrix declares {rows} rows, at most {MAX_ROWS} are supported")));
    }
    if cols > MAX_COLS {
        return Err(Error::InvalidModel(format!("factor matrix declares {cols} columns, at most {MAX_COLS} are supported")));
    }
    // Both bounded above, so this cannot overflow even with a 32-bit usize.
    Ok(rows * cols)
}

/// The quantised rows that are not all zero: `rows[j]`'s values are `values[j * cols..][..cols]`
/// times `scales[j]`; every other row scores 0 without being read.
#[derive(Clone, Debug, PartialEq)]
struct Int8Rows {
    rows: Vec<u32>,
    values: Vec<i8>,
    scales: Vec<f32>,
}

impl FactorMatrix {
    /// Wraps row-major `data`; fails unless `data.len() == rows * cols`, the shape is within
    /// [`MAX_ROWS`] x [`MAX_COLS`] and every value is finite.
    pub fn new(rows: usize, cols: usize, data: Vec<f32>, storage: FactorStorage) -> Result<Self> {
        let values = check_shape(rows, cols)?;
        if data.len() != values {
            return Err(Error::InvalidModel(format!("factor matrix has {} values, expected {rows} x {cols}", data.len())));
        }
        check_finite(&data, cols, None)?;
        Ok(Self { rows, cols, data, slots: None, zeros: vec![0.0; cols], storage, int8: None })
    }

    /// Number of rows (movies).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (latent factors).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i` as a slice. Panics when `i >= rows` (an internal index, never visitor input).
    pub fn row(&self, i: usize) -> &[f32] {
        let slot = match &self.slots {
            None => i,
            Some(slots) if slots[i] == ZERO_ROW => return &self.zeros,
            Some(slots) => slots[i] as usize,
        };
        &self.data[slot * self.cols..(slot + 1) * self.cols]
    }

    /// Whether row `i` is held (an int4 row of zeros, a movie the model has nothing for, is
    /// not). Panics when `i >= rows`.
    pub fn holds(&self, i: usize) -> bool {
        self.slots.as_ref().is_none_or(|slots| slots[i] != ZERO_ROW)
    }

    /// All values, row-major (a copy: rows of zeros are not held).
    pub fn to_vec(&self) -> Vec<f32> {
        (0..self.rows).flat_map(|r| self.row(r).iter().copied()).collect()
    }

    /// How the matrix is written to the file.
    pub fn storage(&self) -> FactorStorage {
        self.storage
    }

    /// The same values written with another storage; re-reading applies its rounding.
    pub fn with_storage(mut self, storage: FactorStorage) -> Self {
        self.storage = storage;
        if storage != FactorStorage::F32 {
            // Apply the rounding now so that the in-memory model equals a reloaded one.
            let stored = StoredFactors::from(self.clone());
            self = FactorMatrix::try_from(stored).expect("re-quantised values stay finite");
        }
        self
    }

    /// `row . v` for every row, best-effort fast: with int8 storage the rows are read as stored
    /// and `v` is quantised to int16 (relative error about 1e-4), else plain f32 dot products.
    pub fn dot_all(&self, v: &[f32]) -> Vec<f32> {
        debug_assert_eq!(v.len(), self.cols);
        let Some(q) = &self.int8 else {
            return (0..self.rows).map(|r| crate::kernels::dot(self.row(r), v)).collect();
        };
        let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let mut out = vec![0.0; self.rows];
        if max == 0.0 || self.cols == 0 {
            return out;
        }
        let v_scale = max / i16::MAX as f32;
        let qv: Vec<i16> = v.iter().map(|x| (x / v_scale).round() as i16).collect();
        for ((&row, values), &s) in q.rows.iter().zip(q.values.chunks_exact(self.cols)).zip(&q.scales) {
            out[row as usize] = crate::kernels::dot_i8_i16(values, &qv) as f32 * s * v_scale;
        }
        out
    }

    /// `self^T self`, the Gram matrix (`cols x cols`, row-major, f64) used by implicit fold-in.
    pub fn gram(&self) -> Vec<f64> {
        let k = self.cols;
        let mut g = vec![0.0f64; k * k];
        let mut wide = vec![0.0f64; k];
        // Rows of zeros add nothing: only the stored rows are read.
        for row in self.data.chunks_exact(k.max(1)) {
            add_outer_upper(&mut g, row, &mut wide);
        }
        for a in 0..k {
            for b in 0..a {
                g[a * k + b] = g[b * k + a];
            }
        }
        g
    }
}

/// Adds the upper triangle of `row row^T` to `g` (`k x k`, row-major), through `wide` (`row` as
/// f64, converted once rather than once a product; the same sums to the bit).
fn add_outer_upper(g: &mut [f64], row: &[f32], wide: &mut [f64]) {
    let k = row.len();
    for (w, &x) in wide.iter_mut().zip(row) {
        *w = x as f64;
    }
    for a in 0..k {
        crate::kernels::axpy_f64(&mut g[a * k + a..(a + 1) * k], wide[a], &wide[a..]);
    }
}

#[derive(Serialize, Deserialize)]
enum StoredFactors {
    F32 {
        rows: u32,
        cols: u32,
        values: Vec<f32>,
    },
    Int8 {
        rows: u32,
        cols: u32,
        scales: Vec<f32>,
        values: Vec<i8>,
    },
    /// `present`: one bit a row (LSB first), set for the rows stored; `scales`: bf16, little
    /// endian, one per stored row; `values`: two a byte (low nibble first), each `q + 8`.
    Int4 {
        rows: u32,
        cols: u32,
        present: Vec<u8>,
        scales: Vec<u8>,
        values: Vec<u8>,
    },
}

/// `x` rounded to the nearest bfloat16 (the top 16 bits of an `f32`), as those bits.
pub(crate) fn bf16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    ((b + 0x7fff + ((b >> 16) & 1)) >> 16) as u16
}

/// The `f32` a bfloat16 stands for.
pub(crate) fn from_bf16(bits: u16) -> f32 {
    f32::from_bits((bits as u32) << 16)
}

/// Largest int4 level: symmetric -7..=7, so that negation is exact.
const INT4_MAX: f32 = 7.0;

impl From<FactorMatrix> for StoredFactors {
    fn from(m: FactorMatrix) -> Self {
        let (rows, cols) = (m.rows as u32, m.cols as u32);
        match m.storage {
            FactorStorage::F32 => StoredFactors::F32 { rows, cols, values: if m.slots.is_none() { m.data } else { m.to_vec() } },
            FactorStorage::Int8 => {
                let mut scales = Vec::with_capacity(m.rows);
                let mut values = Vec::with_capacity(m.rows * m.cols);
                for r in 0..m.rows {
                    let row = m.row(r);
                    let max = row.iter().fold(0.0f32, |a, v| a.max(v.abs()));
                    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
                    scales.push(scale);
                    values.extend(row.iter().map(|v| (v / scale).round().clamp(-127.0, 127.0) as i8));
                }
                StoredFactors::Int8 { rows, cols, scales, values }
            }
            FactorStorage::Int4 => {
                let mut present = vec![0u8; m.rows.div_ceil(8)];
                let (mut scales, mut values) = (Vec::new(), Vec::new());
                for r in 0..m.rows {
                    let row = m.row(r);
                    let max = row.iter().fold(0.0f32, |a, v| a.max(v.abs()));
                    if max == 0.0 {
                        continue;
                    }
                    present[r / 8] |= 1 << (r % 8);
                    let bits = bf16_bits(max / INT4_MAX);
                    scales.extend_from_slice(&bits.to_le_bytes());
                    let scale = from_bf16(bits);
                    let level = |v: f32| ((v / scale).round().clamp(-INT4_MAX, INT4_MAX) as i8 + 8) as u8;
                    values.extend(row.chunks(2).map(|p| level(p[0]) | p.get(1).map_or(0, |&v| level(v) << 4)));
                }
                StoredFactors::Int4 { rows, cols, present, scales, values }
            }
        }
    }
}

/// An error unless every value is finite; `rows` maps a position to its row for the message.
fn check_finite(data: &[f32], cols: usize, rows: Option<&[u32]>) -> Result<()> {
    match data.iter().position(|v| v.is_nan() || v.abs() > MAX_ABS_VALUE) {
        None => Ok(()),
        Some(pos) => {
            let slot = pos / cols.max(1);
            Err(Error::InvalidModel(format!(
                "factor matrix value at row {} column {} is {}",
                rows.map_or(slot, |r| r[slot] as usize),
                pos % cols.max(1),
                data[pos]
            )))
        }
    }
}

/// An error unless every row scale is finite and positive (a scale of 0 or below would make a
/// stored row all zeros or flip its sign: no writer makes one).
fn check_scales(what: &str, scales: &[f32]) -> Result<()> {
    match scales.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
        None => Ok(()),
        Some(i) => Err(Error::InvalidModel(format!("{what} factor scale {i} is {}", scales[i]))),
    }
}

impl TryFrom<StoredFactors> for FactorMatrix {
    type Error = Error;
    /// Every length is checked against the shape, and the shape against the bounds, before
    /// anything is allocated or looped over: the shape is a header's claim, the vectors are
    /// bytes that were actually present.
    fn try_from(s: StoredFactors) -> Result<Self> {
        match s {
            StoredFactors::F32 { rows, cols, values } => FactorMatrix::new(rows as usize, cols as usize, values, FactorStorage::F32),
            StoredFactors::Int8 { rows, cols, scales, values } => {
                let (rows, cols) = (rows as usize, cols as usize);
                let expected = check_shape(rows, cols)?;
                if scales.len() != rows || values.len() != expected {
                    return Err(Error::InvalidModel(format!(
                        "int8 factors have {} scales and {} values for {rows} x {cols}",
                        scales.len(),
                        values.len()
                    )));
                }
                check_scales("int8", &scales)?;
                let data: Vec<f32> = if cols == 0 {
                    Vec::new()
                } else {
                    values.chunks_exact(cols).zip(&scales).flat_map(|(row, &s)| row.iter().map(move |&v| v as f32 * s)).collect()
                };
                let mut m = FactorMatrix::new(rows, cols, data, FactorStorage::Int8)?;
                m.int8 = Some(Int8Rows { rows: (0..rows as u32).collect(), values, scales });
                Ok(m)
            }
            StoredFactors::Int4 { rows, cols, present, scales, values } => {
                let (rows, cols) = (rows as usize, cols as usize);
                check_shape(rows, cols)?;
                // The mask is bytes that are present: check it before walking the rows it covers.
                if present.len() != rows.div_ceil(8) {
                    return Err(Error::InvalidModel(format!("int4 factors have a {}-byte row mask for {rows} rows", present.len())));
                }
                let stored: Vec<u32> = (0..rows as u32).filter(|&r| present[r as usize / 8] >> (r % 8) & 1 == 1).collect();
                let row_bytes = cols.div_ceil(2);
                if scales.len() != 2 * stored.len() || values.len() != stored.len() * row_bytes {
                    return Err(Error::InvalidModel(format!(
                        "int4 factors have {} scale bytes and {} value bytes for {} stored rows of {cols}",
                        scales.len(),
                        values.len(),
                        stored.len()
                    )));
                }
                let scales: Vec<f32> = scales.chunks_exact(2).map(|b| from_bf16(u16::from_le_bytes([b[0], b[1]]))).collect();
                check_scales("int4", &scales)?;
                let levels: Vec<i8> = if cols == 0 {
                    Vec::new()
                } else {
                    values
                        .chunks_exact(row_bytes)
                        .flat_map(|row| row.iter().flat_map(|&b| [(b & 15) as i8 - 8, (b >> 4) as i8 - 8]).take(cols))
                        .collect()
                };
                let data: Vec<f32> = if cols == 0 {
                    Vec::new()
                } else {
                    levels.chunks_exact(cols).zip(&scales).flat_map(|(q, &s)| q.iter().map(move |&v| v as f32 * s)).collect()
                };
                check_finite(&data, cols, Some(&stored))?;
                let mut slots = vec![ZERO_ROW; rows];
                for (slot, &r) in stored.iter().enumerate() {
                    slots[r as usize] = slot as u32;
                }
                Ok(FactorMatrix {
                    rows,
                    cols,
                    data,
                    slots: Some(slots),
                    zeros: vec![0.0; cols],
                    storage: FactorStorage::Int4,
                    int8: Some(Int8Rows { rows: stored, values: levels, scales }),
                })
            }
        }
    }
}
