//! A question tree (Golbandi, Koren and Lempel 2011, "Adaptive bootstrapping of recommender
//! systems using decision trees"): the first questions a visitor is asked, each chosen by what
//! they answered before. A node asks one movie; "rated it" leads to one child, "haven't seen
//! it" to the other. The trainer grows it on held-out training users' simulated answers, each
//! node's movie the one whose answer most raised those users' list quality
//! (`train::question_tree`); the browser only walks it, so a step costs a few comparisons.

use serde::{Deserialize, Serialize};

/// No child: the walk falls back to the popular list from here.
pub const LEAF: u32 = 0;

/// One question and where each answer leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionNode {
    /// The movie asked (MovieLens id).
    pub movie: u32,
    /// The next node when the visitor rated it, or [`LEAF`].
    pub seen: u32,
    /// The next node when they haven't seen it, or [`LEAF`].
    pub unseen: u32,
}

/// The tree, root first (node 0; no node points back to it, so 0 can mean "none").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionTree {
    /// The nodes, root first.
    pub nodes: Vec<QuestionNode>,
}

/// What the visitor said about a movie, as the walk reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Rated it (or marked it seen).
    Seen,
    /// Answered "haven't seen it".
    Unseen,
    /// Not asked yet.
    Open,
}

impl QuestionTree {
    /// The next questions, at most `count`: the first node on the visitor's path whose movie is
    /// still open, then (for a list of several) the nodes that would follow if each of those
    /// were answered "haven't seen it", the likelier answer. Answers off the path (a movie
    /// rated through search) steer the walk only where the path asks them.
    pub fn next(&self, answer: impl Fn(u32) -> Answer, count: usize) -> Vec<u32> {
        let mut out = Vec::new();
        let mut at = if self.nodes.is_empty() { None } else { Some(0usize) };
        // A well-formed tree is acyclic (children come after their parent); the bound keeps a
        // walk finite whatever the file says.
        let mut steps = 0;
        while let Some(i) = at {
            if out.len() >= count || steps > self.nodes.len() {
                break;
            }
            steps += 1;
            let node = self.nodes[i];
            let next = match answer(node.movie) {
                Answer::Seen => node.seen,
                Answer::Unseen => node.unseen,
                Answer::Open => {
                    if !out.contains(&node.movie) {
                        out.push(node.movie);
                    }
                    node.unseen
                }
            };
            at = (next != LEAF && (next as usize) < self.nodes.len()).then_some(next as usize);
        }
        out
    }
}
