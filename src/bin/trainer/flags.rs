//! The trainer's flags: the usage text, a small argument reader, and the settings flags that
//! every training command shares.

use movie_recs::methods::hybrid::{BlendWeights, HybridWeights};
use movie_recs::methods::Method;
use movie_recs::train::{Learn, TrainSettings};
use movie_recs::{Error, FactorStorage, Result};

pub const USAGE: &str = "\
usage:
  trainer model --data DIR [--out FILE] [--time-budget S] [settings]
                                                         train on a MovieLens folder, write the packed model; with a
                                                         budget the search and the autoencoder's epochs fit in S seconds
  trainer eval DIR [--folds 0,1,2,3,4] [--splits main,future,past] [--json FILE] [--svg FILE] [settings]
  trainer first-minute DIR [--folds 0,1,2,3,4] [--json FILE] [settings]  (elicitation strategies, the discover trade-off)
                                                         run the protocol of shared/EVAL.md, print the table
  trainer tune DIR [--fold F] [--method M] --grid 'alpha=1,2 implicit-reg=5,20' [settings]
                                                         grid search on the validation users of a fold's training users
  trainer split DIR --out OUT                           write each fold's split as CSV for the peer baselines
  trainer normalise DIR --out FILE                      the ratings of any MovieLens layout as user,movie,rating,timestamp CSV
  trainer import-spark --data DIR --explicit SPARK_OUT [--implicit SPARK_OUT] [--fold F] [--out FILE] [--storage int8|f32|int4]
                                                         pack Spark MLlib ALS factors (scripts/spark_als.py) with the metadata;
                                                         with --fold, the fold's training ratings, and print its test users' metrics;
                                                         --extras [--extras-users N] [settings]: the other methods (neighbours, EASE,
                                                         autoencoder, content, user pool) trained here, on a hash sample of about N
                                                         users if given, and packed in the same file with the default blend
  trainer bench [--models DIR] [--json FILE] [--quick]   native recommend timings; writes synthetic models for the browser run
  trainer synth --out DIR [--users N] [--movies N] [--ratings-per-user N] [--seed N]
                                                         write synthetic ratings.csv + movies.csv (ml-latest layout)
settings:
  --factors N --iterations N --reg F --reg-bias F        explicit (rating) model
  --implicit-factors N --implicit-iterations N --implicit-reg F --alpha F --rating-offset F --explicit-weight F
  --half-life F (recency half-life of a rating's confidence, in ratings; 0 = off)
  --recency-coherence F (the order-coherence a history of 30+ ratings needs for the decay to apply; 0 = always)
  --cg-steps N (ALS row solves by N conjugate-gradient steps from the previous value; 0 = exact Cholesky,
               the default up to 2M ratings; 3 above that)
  --no-implicit                                          rank by predicted stars only
  --item-knn-k K --item-knn-shrink F   --no-item-knn      item_knn: neighbours kept per movie, similarity shrinkage
  --item-knn-rating-weight F --item-knn-rating-shrink F  item_knn's correction of predicted stars (0 = off)
  --content-features N   --no-content   --tmdb FILE       content (TMDB found beside DIR by default)
  --user-knn-k K --user-knn-shrink F --user-knn-pool N   --no-user-knn
                                                         user_knn (pool: the N most active training users)
  --neural-hidden N --neural-epochs N --neural-learning-rate F --neural-weight-decay F --neural-dropout F
  --neural-batch N --neural-min-ratings N --neural-liked-from F --neural-disliked-weight F   --no-neural
  --neural-movies N (vocabulary cap, most rated first; default 10000) --neural-passes N (user passes in all,
                   users x epochs; default 2000000)
                                                         neural: the autoencoder (Mult-DAE, tied weights)
  --ease-lambda F --ease-k K --ease-movies N --ease-min-liked N   --no-ease
                                                         ease: ridge, weights kept per movie, vocabulary cap (dense inverse), likes to enter it
  --blend M:I:C:U:N:E[/M:I:C:U:N:E/M:I:C:U:N:E]          hybrid weights (mf:item_knn:content:user_knn:neural:ease) by rating count (<5, 5-19, 20+)
  --storage f32|int8|int4 (factor models, default int4)   --neural-storage f32|int8|int4 (default int8)
  --factor-min-ratings N (movies with fewer training ratings keep no factors; default 5)
  --search-budget S (seconds for learning the hybrid's weights, the half-life, the explicit weight and alpha on
                    validation users carved from the training users; default 300)   --no-search (use the settings as given)
  --replay-from MODEL.bin (use the choices a model's trainer learned, without searching)
  --seed N   --lenient   --quiet";

pub struct Args(pub Vec<String>);

impl Args {
    pub fn flag(&mut self, name: &str) -> bool {
        match self.0.iter().position(|a| a == name) {
            Some(i) => {
                self.0.remove(i);
                true
            }
            None => false,
        }
    }

    pub fn value(&mut self, name: &str) -> Result<Option<String>> {
        match self.0.iter().position(|a| a == name) {
            Some(i) if i + 1 < self.0.len() => {
                let v = self.0.remove(i + 1);
                self.0.remove(i);
                Ok(Some(v))
            }
            Some(_) => Err(usage_error(format!("{name} needs a value"))),
            None => Ok(None),
        }
    }

    pub fn parsed<T: std::str::FromStr>(&mut self, name: &'static str) -> Result<Option<T>> {
        match self.value(name)? {
            Some(v) => v.parse().map(Some).map_err(|_| Error::InvalidSetting { name, value: v, reason: "not a valid number".into() }),
            None => Ok(None),
        }
    }

    pub fn finish(self) -> Result<Vec<String>> {
        if let Some(a) = self.0.iter().find(|a| a.starts_with("--")) {
            return Err(usage_error(format!("unknown flag {a}")));
        }
        Ok(self.0)
    }
}

pub fn usage_error(msg: String) -> Error {
    Error::InvalidSetting { name: "arguments", value: msg, reason: format!("see usage:\n{USAGE}") }
}

pub fn settings(args: &mut Args) -> Result<TrainSettings> {
    let mut s = TrainSettings { progress: !args.flag("--quiet"), ..TrainSettings::default() };
    macro_rules! set {
        ($flag:literal, $target:expr) => {
            if let Some(v) = args.parsed($flag)? {
                $target = v;
            }
        };
    }
    set!("--factors", s.explicit.factors);
    set!("--iterations", s.explicit.iterations);
    set!("--reg", s.explicit.reg_factors);
    set!("--reg-bias", s.explicit.reg_bias);
    if let Some(seed) = args.parsed::<u64>("--seed")? {
        s.explicit.seed = seed;
        if let Some(i) = s.implicit.as_mut() {
            i.seed = seed + 1;
        }
    }
    if let Some(steps) = args.parsed::<usize>("--cg-steps")? {
        s.explicit.cg_steps = Some(steps);
        if let Some(i) = s.implicit.as_mut() {
            i.cg_steps = Some(steps);
        }
    }
    if let Some(i) = s.implicit.as_mut() {
        set!("--implicit-factors", i.factors);
        set!("--implicit-iterations", i.iterations);
        set!("--implicit-reg", i.reg);
        set!("--alpha", i.alpha);
        set!("--rating-offset", i.rating_offset);
        set!("--explicit-weight", i.explicit_weight);
        set!("--half-life", i.recency_half_life);
        set!("--recency-coherence", i.recency_coherence);
    }
    if args.flag("--no-implicit") {
        s.implicit = None;
    }
    if let Some(nb) = s.item_knn.as_mut() {
        set!("--item-knn-k", nb.k);
        set!("--item-knn-shrink", nb.shrink);
        set!("--item-knn-rating-weight", nb.rating_weight);
        set!("--item-knn-rating-shrink", nb.rating_shrink);
    }
    if let Some(c) = s.content.as_mut() {
        set!("--content-features", c.max_features);
    }
    if let Some(u) = s.user_knn.as_mut() {
        set!("--user-knn-k", u.k);
        set!("--user-knn-shrink", u.shrink);
        if let Some(max) = args.parsed::<usize>("--user-knn-pool")? {
            u.max_users = Some(max);
        }
    }
    if let Some(n) = s.neural.as_mut() {
        set!("--neural-hidden", n.hidden);
        set!("--neural-epochs", n.epochs);
        set!("--neural-learning-rate", n.learning_rate);
        set!("--neural-weight-decay", n.weight_decay);
        set!("--neural-dropout", n.dropout);
        set!("--neural-batch", n.batch);
        set!("--neural-min-ratings", n.min_ratings);
        set!("--neural-movies", n.max_movies);
        set!("--neural-passes", n.max_passes);
        set!("--neural-liked-from", n.liked_from);
        set!("--neural-disliked-weight", n.disliked_weight);
    }
    if let Some(e) = s.ease.as_mut() {
        set!("--ease-lambda", e.lambda);
        set!("--ease-k", e.k);
        set!("--ease-movies", e.max_movies);
        set!("--ease-min-liked", e.min_liked);
    }
    if let Some(b) = args.value("--blend")? {
        s.hybrid = parse_blend(&b)?;
    }
    if args.flag("--no-user-knn") {
        s.user_knn = None;
    }
    if args.flag("--no-neural") {
        s.neural = None;
    }
    if args.flag("--no-item-knn") {
        s.item_knn = None;
    }
    if args.flag("--no-content") {
        s.content = None;
    }
    if args.flag("--no-ease") {
        s.ease = None;
    }
    if let Some(st) = storage_flag(args, "--storage")? {
        s.storage = st;
    }
    if let Some(st) = storage_flag(args, "--neural-storage")? {
        s.neural_storage = st;
    }
    set!("--factor-min-ratings", s.factor_min_ratings);
    if let Some(budget_s) = args.parsed("--search-budget")? {
        s.learn = Learn::Search { budget_s };
    }
    if args.flag("--no-search") {
        s.learn = Learn::Off;
    }
    if let Some(path) = args.value("--replay-from")? {
        let bytes = std::fs::read(&path).map_err(|e| Error::Io { path: path.clone(), reason: e.to_string() })?;
        let learned = movie_recs::Model::core_from_bytes(&bytes)?.info.learned.ok_or_else(|| Error::InvalidSetting {
            name: "replay-from",
            value: path,
            reason: "that model records no learned choices (trained with --no-search)".into(),
        })?;
        s.learn = Learn::Replay(learned);
    }
    s.check()?;
    Ok(s)
}

/// A storage flag (`f32`, `int8` or `int4`), if given.
pub fn storage_flag(args: &mut Args, flag: &'static str) -> Result<Option<FactorStorage>> {
    match args.value(flag)?.as_deref() {
        None => Ok(None),
        Some("int8") => Ok(Some(FactorStorage::Int8)),
        Some("f32") => Ok(Some(FactorStorage::F32)),
        Some("int4") => Ok(Some(FactorStorage::Int4)),
        Some(other) => Err(Error::InvalidSetting { name: flag, value: other.into(), reason: "must be f32, int8 or int4".into() }),
    }
}

/// `M:I:C[:U[:N[:E]]]` (one blend for every bucket) or three of them separated by `/` (under 5,
/// 5 to 19, 20+ ratings): the weights of mf, item_knn, content, user_knn, neural and ease, in the
/// order of the hybrid's weight slots (the ones left out are 0).
fn parse_blend(text: &str) -> Result<HybridWeights> {
    let bad = || Error::InvalidSetting {
        name: "blend",
        value: text.into(),
        reason: "M:I:C[:U[:N[:E]]] or three of them joined by / (mf:item_knn:content:user_knn:neural:ease weights)".into(),
    };
    let slots = [Method::Mf, Method::ItemKnn, Method::Content, Method::UserKnn, Method::Neural, Method::Ease];
    let buckets: Vec<BlendWeights> = text
        .split('/')
        .map(|b| {
            let w: Vec<f32> = b.split(':').map(|x| x.parse::<f32>().map_err(|_| bad())).collect::<Result<_>>()?;
            if !(3..=slots.len()).contains(&w.len()) {
                return Err(bad());
            }
            Ok(slots.iter().zip(w).fold(BlendWeights::default(), |b, (&m, w)| b.with(m, w)))
        })
        .collect::<Result<_>>()?;
    match buckets[..] {
        [one] => Ok(HybridWeights::uniform(one)),
        [a, b, c] => Ok(HybridWeights { buckets: [a, b, c] }),
        _ => Err(bad()),
    }
}
