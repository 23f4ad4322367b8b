//! Grows the question tree the browser walks ([`crate::elicit::tree`]), after Golbandi, Koren
//! and Lempel (2011): at each node, the movie whose answer most raises the list quality of the
//! users who reach it, measured the way the first-minute simulation measures a visitor
//! ([`crate::eval::elicitation`]). The users are held out of the model they are folded into
//! (a validation carve of the training users), so a question is judged on visitors the model
//! has not seen, as the page's visitors are.

use std::collections::{HashMap, HashSet};

use crate::catalogue::MovieId;
use crate::elicit::tree::{QuestionNode, QuestionTree, LEAF};
use crate::error::Result;
use crate::eval::{ndcg_at_k, relevant_rows, TestUser, K};
use crate::methods::Method;
use crate::rank::RecommendOptions;
use crate::ratings::RawRating;
use crate::recommender::Recommender;

/// How the tree is grown.
#[derive(Clone, Copy, Debug)]
pub struct TreeSettings {
    /// Candidates at each node: the most rated movies, not yet asked on the path.
    pub pool: usize,
    /// A node with fewer users is a leaf (the popular list takes over).
    pub min_users: usize,
    /// The longest path.
    pub max_depth: usize,
}

impl Default for TreeSettings {
    fn default() -> Self {
        Self { pool: 100, min_users: 10, max_depth: 20 }
    }
}

/// A held-out user on their way down the tree.
#[derive(Clone)]
struct Walker {
    /// Which recommender of [`learn`]'s list they are folded into.
    rec: usize,
    given: HashMap<u32, f64>,
    relevant: HashSet<usize>,
    exclude: Vec<u32>,
    answered: Vec<RawRating>,
    /// NDCG@10 of their list from `answered`.
    ndcg: f64,
}

struct Learner<'a> {
    recs: Vec<&'a Recommender>,
    pool: Vec<u32>,
    settings: TreeSettings,
}

impl Learner<'_> {
    /// NDCG@10 of `w`'s list after folding in `answered`.
    fn score(&self, w: &Walker, answered: &[RawRating]) -> Result<f64> {
        let rec = self.recs[w.rec];
        let visitor = rec.fold_in(answered);
        let depth: usize = std::env::var("TREE_DEPTH").ok().and_then(|v| v.parse().ok()).unwrap_or(K);
        let options = RecommendOptions { count: depth, method: Method::Hybrid, exclude: w.exclude.clone(), ..Default::default() };
        let list = rec.recommend_for(&visitor, &options)?;
        let hits = list.items.iter().map(|item| rec.row(MovieId(item.movie.movie_id)).is_some_and(|r| w.relevant.contains(&r)));
        if depth == K {
            return Ok(ndcg_at_k(hits, w.relevant.len()));
        }
        let dcg: f64 = hits.enumerate().filter(|&(_, h)| h).map(|(i, _)| 1.0 / ((i + 2) as f64).log2()).sum();
        let ideal: f64 = (1..=depth.min(w.relevant.len())).map(|i| 1.0 / ((i + 1) as f64).log2()).sum();
        Ok(dcg / ideal)
    }

    /// `w` with `movie` answered (they rated it).
    fn answer(&self, w: &Walker, movie: u32) -> Result<Walker> {
        let mut next = w.clone();
        next.answered.push(RawRating { movie_id: movie as f64, rating: w.given[&movie], seen: false });
        next.ndcg = self.score(&next, &next.answered)?;
        Ok(next)
    }

    /// The summed NDCG gain of asking `movie` of `users`: those who rated it answer, the others
    /// learn nothing.
    fn gain(&self, users: &[Walker], movie: u32) -> Result<(f64, usize)> {
        let (mut gain, mut seen) = (0.0, 0);
        for w in users.iter().filter(|w| w.given.contains_key(&movie)) {
            let mut answered = w.answered.clone();
            answered.push(RawRating { movie_id: movie as f64, rating: w.given[&movie], seen: false });
            gain += self.score(w, &answered)? - w.ndcg;
            seen += 1;
        }
        Ok((gain, seen))
    }

    fn grow(&self, users: Vec<Walker>, path: &mut Vec<u32>, nodes: &mut Vec<QuestionNode>) -> Result<u32> {
        if users.len() < self.settings.min_users || path.len() >= self.settings.max_depth {
            return Ok(LEAF);
        }
        let open: Vec<u32> = self.pool.iter().copied().filter(|m| !path.contains(m)).collect();
        // The two cores share the candidates.
        let half = open.len().div_ceil(2);
        let results: Vec<Result<Vec<(u32, f64, usize)>>> = std::thread::scope(|s| {
            let handles: Vec<_> = open
                .chunks(half.max(1))
                .map(|chunk| s.spawn(|| chunk.iter().map(|&m| self.gain(&users, m).map(|(g, n)| (m, g, n))).collect()))
                .collect();
            handles.into_iter().map(|h| h.join().expect("gain thread")).collect()
        });
        let mut best: Option<(u32, f64, usize)> = None;
        for chunk in results {
            for (m, g, n) in chunk? {
                if n > 0 && best.is_none_or(|(_, bg, bn)| g > bg || (g == bg && n > bn)) {
                    best = Some((m, g, n));
                }
            }
        }
        let Some((movie, _, _)) = best else { return Ok(LEAF) };
        let at = nodes.len();
        nodes.push(QuestionNode { movie, seen: LEAF, unseen: LEAF });
        let (seen, unseen): (Vec<Walker>, Vec<Walker>) = users.into_iter().partition(|w| w.given.contains_key(&movie));
        let seen = seen.iter().map(|w| self.answer(w, movie)).collect::<Result<Vec<_>>>()?;
        path.push(movie);
        let s = self.grow(seen, path, nodes)?;
        let u = self.grow(unseen, path, nodes)?;
        path.pop();
        nodes[at].seen = s;
        nodes[at].unseen = u;
        Ok(at as u32)
    }
}

/// Grows a tree on `groups`: each a recommender and users held out of it (given ratings to
/// answer from, hidden ones to score). Candidates are the first recommender's most rated movies.
pub fn learn(groups: &[(&Recommender, &[TestUser])], settings: TreeSettings) -> Result<QuestionTree> {
    let Some(&(first, _)) = groups.first() else { return Ok(QuestionTree::default()) };
    let movies = &first.model().catalogue.movies;
    let mut order: Vec<usize> = (0..movies.len()).filter(|&r| movies[r].rating_count > 0).collect();
    order.sort_by(|&a, &b| movies[b].rating_count.cmp(&movies[a].rating_count).then(a.cmp(&b)));
    let pool = order.into_iter().take(settings.pool).map(|r| movies[r].id.0).collect();
    let learner = Learner { recs: groups.iter().map(|g| g.0).collect(), pool, settings };
    let mut walkers = Vec::new();
    for (i, &(rec, users)) in groups.iter().enumerate() {
        for user in users {
            let relevant = relevant_rows(rec, user);
            if relevant.is_empty() {
                continue;
            }
            let mut w = Walker {
                rec: i,
                given: user.given.iter().map(|g| (g.movie_id as u32, g.rating)).collect(),
                relevant,
                exclude: user.given.iter().map(|g| g.movie_id as u32).collect(),
                answered: Vec::new(),
                ndcg: 0.0,
            };
            w.ndcg = learner.score(&w, &[])?;
            walkers.push(w);
        }
    }
    let mut nodes = Vec::new();
    learner.grow(walkers, &mut Vec::new(), &mut nodes)?;
    Ok(QuestionTree { nodes })
}
