//! The scoring kernels: dot products over every movie of the catalogue, the hot loop of a
//! recommend call. Portable code natively; wasm simd128 lanes spelled out in the browser, where
//! LLVM does not vectorise the portable loops.

/// Dot product of two equally long slices, in four lanes so the compiler vectorises it.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc[0] + acc[1] + acc[2] + acc[3] + tail
}

/// Dot product with wasm simd128: the scoring loop's hot spot (one call per movie and model).
/// LLVM does not vectorise the portable version for wasm, so the lanes are spelled out.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    use core::arch::wasm32::{f32x4_add, f32x4_extract_lane, f32x4_mul, f32x4_splat, v128, v128_load};
    let n = a.len().min(b.len());
    let (mut acc0, mut acc1) = (f32x4_splat(0.0), f32x4_splat(0.0));
    let mut i = 0;
    // SAFETY: every load reads four f32 at offsets i..i + 4 (i + 8 for the pair) with the bound
    // checked against `n`, the shorter length; v128_load has no alignment requirement.
    unsafe {
        while i + 8 <= n {
            let (pa, pb) = (a.as_ptr().add(i) as *const v128, b.as_ptr().add(i) as *const v128);
            acc0 = f32x4_add(acc0, f32x4_mul(v128_load(pa), v128_load(pb)));
            acc1 = f32x4_add(acc1, f32x4_mul(v128_load(pa.add(1)), v128_load(pb.add(1))));
            i += 8;
        }
        if i + 4 <= n {
            let (pa, pb) = (a.as_ptr().add(i) as *const v128, b.as_ptr().add(i) as *const v128);
            acc0 = f32x4_add(acc0, f32x4_mul(v128_load(pa), v128_load(pb)));
            i += 4;
        }
    }
    let acc = f32x4_add(acc0, acc1);
    let lanes = f32x4_extract_lane::<0>(acc) + f32x4_extract_lane::<1>(acc) + f32x4_extract_lane::<2>(acc) + f32x4_extract_lane::<3>(acc);
    lanes + a[i..n].iter().zip(&b[i..n]).map(|(x, y)| x * y).sum::<f32>()
}

/// Dot product of int8 factors with an int16 vector, accumulated exactly in i32. With int8
/// factors kept in memory, scoring reads a quarter of the bytes of f32: the call is memory-bound
/// at large catalogues, so this is where the time goes.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub fn dot_i8_i16(a: &[i8], b: &[i16]) -> i32 {
    a.iter().zip(b).map(|(&x, &y)| x as i32 * y as i32).sum()
}

/// Dot product of int8 factors with an int16 vector in wasm simd128 (`i32x4.dot_i16x8_s`).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn dot_i8_i16(a: &[i8], b: &[i16]) -> i32 {
    use core::arch::wasm32::{i16x8_load_extend_i8x8, i32x4_add, i32x4_dot_i16x8, i32x4_extract_lane, i32x4_splat, v128, v128_load};
    let n = a.len().min(b.len());
    let mut acc = i32x4_splat(0);
    let mut i = 0;
    // SAFETY: each step reads 8 i8 and 8 i16 at offset i with i + 8 <= n, the shorter length;
    // the loads have no alignment requirement.
    unsafe {
        while i + 8 <= n {
            let x = i16x8_load_extend_i8x8(a.as_ptr().add(i));
            let y = v128_load(b.as_ptr().add(i) as *const v128);
            acc = i32x4_add(acc, i32x4_dot_i16x8(x, y));
            i += 8;
        }
    }
    let lanes = i32x4_extract_lane::<0>(acc) + i32x4_extract_lane::<1>(acc) + i32x4_extract_lane::<2>(acc) + i32x4_extract_lane::<3>(acc);
    lanes + a[i..n].iter().zip(&b[i..n]).map(|(&x, &y)| x as i32 * y as i32).sum::<i32>()
}

/// `a += w * z`, elementwise in f64: the rank-one update of fold-in's normal equations, one per
/// rating. Each lane is one IEEE multiply then one add, as in the scalar loop, so the results are
/// the same to the bit on every target (the committed model is rebuilt byte for byte).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub fn axpy_f64(a: &mut [f64], w: f64, z: &[f64]) {
    for (a, &z) in a.iter_mut().zip(z) {
        *a += w * z;
    }
}

/// `a += w * z` in wasm simd128, two f64 lanes at a time.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn axpy_f64(a: &mut [f64], w: f64, z: &[f64]) {
    use core::arch::wasm32::{f64x2_add, f64x2_mul, f64x2_splat, v128, v128_load, v128_store};
    let n = a.len().min(z.len());
    let wv = f64x2_splat(w);
    let mut i = 0;
    // SAFETY: each step reads and writes two f64 at offset i with i + 2 <= n, the shorter
    // length; the loads and stores have no alignment requirement.
    unsafe {
        while i + 2 <= n {
            let pa = a.as_mut_ptr().add(i) as *mut v128;
            let pz = z.as_ptr().add(i) as *const v128;
            v128_store(pa, f64x2_add(v128_load(pa), f64x2_mul(wv, v128_load(pz))));
            i += 2;
        }
    }
    for (a, &z) in a[i..n].iter_mut().zip(&z[i..n]) {
        *a += w * z;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_agree_with_plain_sums() {
        for n in [0usize, 1, 7, 8, 9, 16, 63, 64, 65, 128] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.3).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.7).cos()).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - plain).abs() < 1e-4);
            let qa: Vec<i8> = (0..n).map(|i| (i as i32 * 37 % 255 - 127) as i8).collect();
            let qb: Vec<i16> = (0..n).map(|i| (i as i32 * 9973 % 65535 - 32767) as i16).collect();
            let exact: i64 = qa.iter().zip(&qb).map(|(&x, &y)| x as i64 * y as i64).sum();
            assert_eq!(dot_i8_i16(&qa, &qb) as i64, exact, "n {n}");
        }
    }
}
