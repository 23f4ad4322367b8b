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

/// A dense row-major `rows x cols` matrix of `f32`, one row per movie.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "StoredFactors", try_from = "StoredFactors")]
pub struct FactorMatrix {
    rows: usize,
    cols: usize,
    data: Vec<f32>,
    storage: FactorStorage,
    /// For int8 and int4 storage, the stored values (one byte each) and row scales, kept for
    /// scoring the whole catalogue (a quarter of the memory traffic of `data`).
    int8: Option<Int8Rows>,
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
    /// Wraps row-major `data`; fails unless `data.len() == rows * cols` and every value is finite.
    pub fn new(rows: usize, cols: usize, data: Vec<f32>, storage: FactorStorage) -> Result<Self> {
        if data.len() != rows * cols {
            return Err(Error::InvalidModel(format!("factor matrix has {} values, expected {rows} x {cols}", data.len())));
        }
        if let Some(pos) = data.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidModel(format!(
                "factor matrix value at row {} column {} is {}",
                pos / cols.max(1),
                pos % cols.max(1),
                data[pos]
            )));
        }
        Ok(Self { rows, cols, data, storage, int8: None })
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
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// All values, row-major.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
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
        for r in 0..self.rows {
            let row = self.row(r);
            for a in 0..k {
                let ra = row[a] as f64;
                for b in a..k {
                    g[a * k + b] += ra * row[b] as f64;
                }
            }
        }
        for a in 0..k {
            for b in 0..a {
                g[a * k + b] = g[b * k + a];
            }
        }
        g
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
            FactorStorage::F32 => StoredFactors::F32 { rows, cols, values: m.data },
            FactorStorage::Int8 => {
                let mut scales = Vec::with_capacity(m.rows);
                let mut values = Vec::with_capacity(m.data.len());
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

impl TryFrom<StoredFactors> for FactorMatrix {
    type Error = Error;
    fn try_from(s: StoredFactors) -> Result<Self> {
        match s {
            StoredFactors::F32 { rows, cols, values } => FactorMatrix::new(rows as usize, cols as usize, values, FactorStorage::F32),
            StoredFactors::Int8 { rows, cols, scales, values } => {
                let (rows, cols) = (rows as usize, cols as usize);
                if scales.len() != rows || values.len() != rows * cols {
                    return Err(Error::InvalidModel(format!(
                        "int8 factors have {} scales and {} values for {rows} x {cols}",
                        scales.len(),
                        values.len()
                    )));
                }
                let data = values
                    .chunks_exact(cols.max(1))
                    .zip(&scales)
                    .flat_map(|(row, &s)| row.iter().map(move |&v| v as f32 * s))
                    .collect::<Vec<_>>();
                let mut m = FactorMatrix::new(rows, cols, if cols == 0 { Vec::new() } else { data }, FactorStorage::Int8)?;
                if scales.iter().any(|s| !s.is_finite()) {
                    return Err(Error::InvalidModel("int8 factor scales are not finite".into()));
                }
                m.int8 = Some(Int8Rows { rows: (0..rows as u32).collect(), values, scales });
                Ok(m)
            }
            StoredFactors::Int4 { rows, cols, present, scales, values } => {
                let (rows, cols) = (rows as usize, cols as usize);
                let stored: Vec<u32> =
                    (0..rows as u32).filter(|&r| present.get(r as usize / 8).is_some_and(|b| b >> (r % 8) & 1 == 1)).collect();
                let row_bytes = cols.div_ceil(2);
                if present.len() != rows.div_ceil(8) || scales.len() != 2 * stored.len() || values.len() != stored.len() * row_bytes {
                    return Err(Error::InvalidModel(format!(
                        "int4 factors have a {}-byte row mask, {} scale bytes and {} value bytes for {rows} x {cols} ({} rows stored)",
                        present.len(),
                        scales.len(),
                        values.len(),
                        stored.len()
                    )));
                }
                let scales: Vec<f32> = scales.chunks_exact(2).map(|b| from_bf16(u16::from_le_bytes([b[0], b[1]]))).collect();
                if scales.iter().any(|s| !s.is_finite()) {
                    return Err(Error::InvalidModel("int4 factor scales are not finite".into()));
                }
                let levels: Vec<i8> = values
                    .chunks_exact(row_bytes.max(1))
                    .flat_map(|row| row.iter().flat_map(|&b| [(b & 15) as i8 - 8, (b >> 4) as i8 - 8]).take(cols))
                    .collect();
                let mut data = vec![0.0f32; rows * cols];
                for ((&r, q), &s) in stored.iter().zip(levels.chunks_exact(cols.max(1))).zip(&scales) {
                    for (d, &v) in data[r as usize * cols..][..cols].iter_mut().zip(q) {
                        *d = v as f32 * s;
                    }
                }
                let mut m = FactorMatrix::new(rows, cols, data, FactorStorage::Int4)?;
                m.int8 = Some(Int8Rows { rows: stored, values: levels, scales });
                Ok(m)
            }
        }
    }
}
