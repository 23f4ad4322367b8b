//! The trainer: a training user folded in lands where training put them, personal methods
//! beat popularity, training is deterministic, the row solver and factor cut-off settings.
#![cfg(feature = "train")]

mod common;

use std::collections::HashSet;

use movie_recs::fold_in::{fold_in_explicit, Ridge};
use movie_recs::train::{fit_explicit, ExplicitSettings, Interactions};
use movie_recs::{FactorStorage, Method, MovieId, Recommender};

#[test]
fn folding_in_a_training_user_reproduces_their_trained_vector_and_top_items() {
    // Exact row solves, and conjugate-gradient ones (3 steps a sweep from the previous value):
    // the browser's exact fold-in must land on what either trainer gave a training user.
    for cg_steps in [0, 3] {
        let s = ExplicitSettings { cg_steps: Some(cg_steps), ..common::settings(FactorStorage::F32).explicit };
        fold_in_matches_training(&s);
    }
}

fn fold_in_matches_training(s: &ExplicitSettings) {
    let ratings = common::ratings();
    let data = Interactions::new(&ratings).unwrap();
    let fit = fit_explicit(&data, s, false);
    let ridge = Ridge { factors: s.reg_factors as f64, bias: Some(s.reg_bias as f64) };
    let k = s.factors;
    for u in [0usize, 17, 123, 299] {
        let rated: Vec<(usize, f32)> = data.user_ratings(u).collect();
        let folded = fold_in_explicit(fit.global_mean, &fit.item_bias, &fit.item_factors, ridge, &rated);
        let trained = fit.user_factors.row(u);
        let dot: f32 = folded.factors.iter().zip(trained).map(|(a, b)| a * b).sum();
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let cosine = dot / (norm(&folded.factors) * norm(trained));
        assert!(cosine > 0.98, "user row {u}, {:?} CG steps: cosine {cosine}", s.cg_steps);
        assert!((folded.bias - fit.user_bias[u]).abs() < 0.05, "user row {u}: bias {} vs {}", folded.bias, fit.user_bias[u]);
        // Same top 10 unseen items by predicted rating.
        let seen: HashSet<usize> = rated.iter().map(|r| r.0).collect();
        let top = |bias: f32, p: &[f32]| {
            let mut s: Vec<(usize, f32)> = (0..data.items.len())
                .filter(|i| !seen.contains(i))
                .map(|i| (i, bias + fit.item_bias[i] + (0..k).map(|f| p[f] * fit.item_factors.row(i)[f]).sum::<f32>()))
                .collect();
            s.sort_by(|a, b| b.1.total_cmp(&a.1));
            s.into_iter().take(10).map(|x| x.0).collect::<HashSet<_>>()
        };
        let overlap = top(folded.bias, &folded.factors).intersection(&top(fit.user_bias[u], trained)).count();
        assert!(overlap >= 9, "user row {u}: top-10 overlap {overlap}");
    }
}

#[test]
fn personal_ranking_beats_popularity_on_held_out_ratings_of_the_fixture() {
    for cg_steps in [0, 3] {
        let mut settings = common::settings(FactorStorage::Int8);
        settings.explicit.cg_steps = Some(cg_steps);
        settings.implicit.as_mut().unwrap().cg_steps = Some(cg_steps);
        personal_beats_popularity(&settings);
    }
}

fn personal_beats_popularity(settings: &movie_recs::train::TrainSettings) {
    let ratings = common::ratings();
    let split = movie_recs::eval::split(&ratings, 0, 5);
    let model = common::train(&split.train, settings);
    let rec = Recommender::from_bytes(&model.to_bytes().unwrap()).unwrap();
    let clock = || 0.0;
    let popular = movie_recs::eval::evaluate(&rec, Method::Popular, &split.test, &clock).unwrap();
    for method in [Method::Mf, Method::Neural, Method::Hybrid] {
        let personal = movie_recs::eval::evaluate(&rec, method, &split.test, &clock).unwrap();
        assert!(personal.users > 30);
        assert!(personal.rmse < popular.rmse, "{method:?}: rmse {} vs popularity {}", personal.rmse, popular.rmse);
        assert!(personal.ndcg > popular.ndcg, "{method:?}: ndcg {} vs popularity {}", personal.ndcg, popular.ndcg);
    }
}

#[test]
fn training_is_deterministic_for_a_seed() {
    let a = common::model().to_bytes().unwrap();
    let b = common::model().to_bytes().unwrap();
    assert_eq!(a, b);
    let mut s = common::settings(FactorStorage::F32);
    s.explicit.seed += 1;
    let c = common::train(&common::ratings(), &s).to_bytes().unwrap();
    assert_ne!(a, c);
    let mut s = common::settings(FactorStorage::F32);
    s.neural.as_mut().unwrap().seed += 1;
    let d = common::train(&common::ratings(), &s);
    assert_ne!(d.extras.neural, common::model().extras.neural, "the autoencoder's seed matters");
    assert_eq!(d.mf.implicit, common::model().mf.implicit, "and nothing else depends on it");
}

#[test]
fn als_row_solves_are_exact_on_small_data_and_conjugate_gradient_on_large_unless_set() {
    use movie_recs::train::{cg_steps_for, LARGE_RATINGS};
    assert_eq!(cg_steps_for(None, 100_000), 0);
    assert_eq!(cg_steps_for(None, LARGE_RATINGS + 1), 3);
    assert_eq!(cg_steps_for(Some(0), LARGE_RATINGS + 1), 0, "an explicit setting wins");
    let resolved = common::settings(FactorStorage::F32).for_ratings(LARGE_RATINGS + 1);
    assert_eq!((resolved.explicit.cg_steps, resolved.implicit.unwrap().cg_steps), (Some(3), Some(3)));
}

#[test]
fn movies_with_too_few_training_ratings_keep_no_factors() {
    let mut s = common::settings(FactorStorage::F32);
    s.factor_min_ratings = 40;
    let ratings = common::ratings();
    let model = common::train(&ratings, &s);
    let count = |id: MovieId| ratings.iter().filter(|r| r.movie == id).count();
    let (mut kept, mut dropped) = (0, 0);
    for (row, m) in model.catalogue.movies.iter().enumerate() {
        let zero = model.mf.explicit.as_ref().unwrap().item_factors.row(row).iter().all(|&v| v == 0.0)
            && model.mf.implicit.as_ref().unwrap().item_factors.row(row).iter().all(|&v| v == 0.0);
        assert_eq!(zero, count(m.id) < 40, "movie {} with {} ratings", m.id.0, count(m.id));
        if zero {
            dropped += 1
        } else {
            kept += 1
        }
    }
    assert!(kept > 0 && dropped > 0, "the fixture has movies on both sides of 40 ratings ({kept} kept, {dropped} dropped)");
}

#[test]
fn ease_weights_solve_the_ridge_problem_and_skip_what_was_not_liked() {
    use movie_recs::train::ease::{fit_ease, EaseSettings};
    let ratings = common::ratings();
    let data = Interactions::new(&ratings).unwrap();
    let s = EaseSettings { lambda: 20.0, k: 1000, min_liked: 1, max_movies: 1000, liked_from: 3.5 };
    // Catalogue rows in reverse item order, and two spare rows: the table must map items to rows.
    let n = data.items.len() + 2;
    let rated_row: Vec<usize> = (0..data.items.len()).map(|i| n - 1 - i).collect();
    let ease = fit_ease(&data, &rated_row, n, &s).unwrap().expect("the fixture has liked movies");
    // The vocabulary: items liked at least once.
    let liked: Vec<usize> = (0..data.items.len()).filter(|&i| data.item_ratings(i).any(|(_, r)| r >= 3.5)).collect();
    let m = liked.len();
    assert!(m > 10 && m < data.items.len() + 1);
    let at = |i: usize| liked.binary_search(&i).ok();
    let mut x = nalgebra::DMatrix::<f64>::zeros(data.users.len(), m);
    for u in 0..data.users.len() {
        for (i, r) in data.user_ratings(u) {
            if let (true, Some(a)) = (r >= 3.5, at(i)) {
                x[(u, a)] = 1.0;
            }
        }
    }
    let g = x.transpose() * &x;
    let mut b = nalgebra::DMatrix::<f64>::zeros(m, m);
    for (a, &i) in liked.iter().enumerate() {
        for (row, w) in ease.of(rated_row[i]) {
            let target = (0..data.items.len()).find(|&t| rated_row[t] == row).unwrap();
            b[(a, at(target).expect("targets are in the vocabulary"))] = w as f64;
        }
    }
    assert!((0..m).all(|a| b[(a, a)] == 0.0), "no movie recommends itself");
    // Stationarity of min |X - XB|^2 + lambda |B|^2 with diag(B) = 0: off the diagonal,
    // ((G + lambda I) B - G) vanishes; one byte per weight leaves a small residue.
    let kkt = (&g + nalgebra::DMatrix::<f64>::identity(m, m) * s.lambda as f64) * &b - &g;
    let worst =
        (0..m).flat_map(|j| (0..m).map(move |i| (j, i))).filter(|&(j, i)| j != i).map(|(j, i)| kkt[(j, i)].abs()).fold(0.0, f64::max);
    let scale = g.iter().fold(0.0f64, |a, &v| a.max(v));
    assert!(worst < 0.05 * scale, "stationarity residue {worst} against Gram entries up to {scale}");
    // Rows of movies nobody liked, and the spare rows, are empty.
    for i in (0..data.items.len()).filter(|&i| at(i).is_none()) {
        assert_eq!(ease.of(rated_row[i]).count(), 0);
    }
    assert_eq!(ease.of(0).count() + ease.of(1).count(), 0);
    // Pruning keeps the largest weights: with k = 3 each row holds its three largest.
    let pruned = fit_ease(&data, &rated_row, n, &EaseSettings { k: 3, ..s.clone() }).unwrap().unwrap();
    for (a, &i) in liked.iter().enumerate() {
        let mut full: Vec<f64> = (0..m).map(|t| b[(a, t)].abs()).collect();
        full.sort_by(|p, q| q.total_cmp(p));
        let kept: Vec<f32> = pruned.of(rated_row[i]).map(|(_, w)| w.abs()).collect();
        assert!(kept.len() <= 3);
        if let Some(&smallest) = kept.last() {
            assert!((smallest as f64) >= full[3] - 0.02 * full[0], "row {a} kept {kept:?} of {:?}", &full[..4]);
        }
    }
}

#[test]
fn the_autoencoder_caps_its_vocabulary_and_its_passes_and_stops_at_a_deadline() {
    use movie_recs::train::neural::{epochs_for, fit_neural, NeuralSettings};
    let ratings = common::ratings();
    let data = Interactions::new(&ratings).unwrap();
    let s = NeuralSettings { hidden: 8, epochs: 3, min_ratings: 2, ..NeuralSettings::default() };
    // The cap keeps the most rated movies, in index order.
    let capped = fit_neural(&data, &NeuralSettings { max_movies: 50, ..s.clone() }, false, None).unwrap();
    let count = |i: usize| data.item_ratings(i).count();
    assert_eq!(capped.items.len(), 50);
    assert!(capped.items.windows(2).all(|w| w[0] < w[1]));
    let least_kept = capped.items.iter().map(|&i| count(i)).min().unwrap();
    let most_left = (0..data.items.len()).filter(|i| !capped.items.contains(i)).map(count).max().unwrap();
    assert!(least_kept >= most_left, "kept {least_kept} ratings, left out {most_left}");
    assert_eq!(capped.weights.len(), 50 * 8);
    // A pass budget below the users' count still runs one epoch; otherwise whole epochs fit in it.
    assert_eq!(epochs_for(&NeuralSettings { max_passes: 10, ..s.clone() }, 300), 1);
    assert_eq!(epochs_for(&NeuralSettings { max_passes: 650, ..s.clone() }, 300), 2);
    assert_eq!(epochs_for(&s, 300), 3);
    // A deadline already past: the first epoch runs, no other starts, exactly as with one epoch.
    let stopped = fit_neural(&data, &s, false, Some(std::time::Instant::now())).unwrap();
    let one = fit_neural(&data, &NeuralSettings { epochs: 1, ..s.clone() }, false, None).unwrap();
    let full = fit_neural(&data, &s, false, None).unwrap();
    assert_eq!(stopped.weights, one.weights);
    assert_ne!(stopped.weights, full.weights);
}
