//! Native timings of one recommend call (fold-in + scoring + top 10 + reasons), the same
//! methodology as the browser benchmark (`bench/browser.mjs`): batches of 10 calls, median and
//! p95 of 15 batches, at 1, 20 and 200 ratings.

use std::time::Instant;

use crate::error::Result;
use crate::methods::Method;
use crate::rank::RecommendOptions;
use crate::recommender::Recommender;
use crate::synthetic::{factor_model, sample_ratings};

/// Random factor models of ML-25M size (62,423 movies) and ML-32M size (87,585) at 32, 64 and
/// 128 factors (`quick`: ML-25M size, 64 factors), as `(file name, label, bytes)`.
pub fn synthetic_cases(quick: bool) -> Result<Vec<(String, String, Vec<u8>)>> {
    let sizes: &[(usize, &str)] = if quick { &[(62_423, "ML-25M size")] } else { &[(62_423, "ML-25M size"), (87_585, "ML-32M size")] };
    let factor_counts: &[usize] = if quick { &[64] } else { &[32, 64, 128] };
    let mut cases = Vec::new();
    for &(movies, label) in sizes {
        for &k in factor_counts {
            let file = format!("synthetic-{movies}x{k}.bin");
            cases.push((file.clone(), format!("{label}, {k} factors ({file})"), factor_model(movies, k, 7).to_bytes()?));
        }
    }
    Ok(cases)
}

/// Times each `(label, model bytes)` case, printing a line a case and rating count; returns the
/// rows `bench/browser.mjs` reads.
pub fn run(cases: &[(String, Vec<u8>)]) -> Result<Vec<serde_json::Value>> {
    let mut rows = Vec::new();
    for (name, bytes) in cases {
        let rec = Recommender::from_bytes(bytes)?;
        let popular: Vec<u32> = rec.popular(400).iter().map(|m| m.movie_id).collect();
        let mf = &rec.model().mf;
        let (ke, ki) =
            (mf.explicit.as_ref().map_or(0, |e| e.item_factors.cols()), mf.implicit.as_ref().map_or(0, |i| i.item_factors.cols()));
        let movies = rec.model().catalogue.len();
        for n in [1usize, 20, 200] {
            let ratings = sample_ratings(&popular, n);
            let opts = RecommendOptions { count: 10, method: Method::Mf, ..Default::default() };
            let mut batches = Vec::with_capacity(15);
            for _ in 0..15 {
                let t = Instant::now();
                for _ in 0..10 {
                    std::hint::black_box(rec.recommend(&ratings, &opts)?);
                }
                batches.push(t.elapsed().as_secs_f64() * 100.0); // ms per call
            }
            batches.sort_by(f64::total_cmp);
            let (median, p95) = (batches[7], batches[14]);
            println!("{name:<56} {n:>4} ratings: median {median:.3} ms, p95 {p95:.3} ms");
            rows.push(serde_json::json!({"case": name, "movies": movies, "factors": ke + ki, "ratings": n, "native_median_ms": median, "native_p95_ms": p95, "macs_per_call": movies * (ke + ki) + fold_in_macs(n, ke, ki)}));
        }
    }
    Ok(rows)
}

/// Multiply-adds of folding `ratings` ratings into an explicit model of `ke` factors (plus the
/// bias) and an implicit one of `ki`: each rating adds the upper triangle of `z z^T`, then each
/// model is one Cholesky factorisation (`k^3 / 6`).
fn fold_in_macs(ratings: usize, ke: usize, ki: usize) -> usize {
    let per_model = |k: usize| ratings * k * (k + 1) / 2 + k * k * k / 6;
    per_model(ke + 1) + if ki > 0 { per_model(ki) } else { 0 }
}
