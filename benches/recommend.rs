//! Criterion benchmarks of one recommend call (fold-in + scoring + top 10 + reasons) on random
//! factor models of the real catalogue's size and of ML-25M / ML-32M size. `./build.sh bench`
//! prints the native/browser/peer table; this is the statistically careful native view:
//! `cargo bench --bench recommend`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use movie_recs::synthetic::{factor_model, sample_ratings};
use movie_recs::{Method, RecommendOptions, Recommender};

fn recommend(c: &mut Criterion) {
    let mut group = c.benchmark_group("recommend_mf");
    group.sample_size(30);
    for (movies, factors) in [(9_742usize, 64usize), (62_423, 64), (87_585, 32), (87_585, 64), (87_585, 128)] {
        let rec = Recommender::new(factor_model(movies, factors, 7));
        let popular: Vec<u32> = rec.popular(200).iter().map(|m| m.movie_id).collect();
        for n in [1usize, 20, 200] {
            let ratings = sample_ratings(&popular, n);
            let options = RecommendOptions { count: 10, method: Method::Mf, ..Default::default() };
            group.bench_with_input(BenchmarkId::new(format!("{movies}x{factors}"), n), &ratings, |b, r| {
                b.iter(|| rec.recommend(r, &options).expect("valid options"))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, recommend);
criterion_main!(benches);
