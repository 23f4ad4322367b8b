//! Chooses user-based kNN's pool ([`UserKnn`]): the training users shipped for the browser to
//! compare a visitor with.

use super::settings::setting_error;
use super::Interactions;
use crate::error::Result;
use crate::methods::user_knn::UserKnn;

/// Settings of the user pool.
#[derive(Clone, Debug, PartialEq)]
pub struct UserKnnSettings {
    /// Neighbours kept for a visitor.
    pub k: u32,
    /// Shrinkage of user similarities by co-rating count.
    pub shrink: f32,
    /// Most users shipped; beyond it the most active users are kept (they cover the catalogue
    /// best per byte). None ships every training user.
    pub max_users: Option<usize>,
}

impl UserKnnSettings {
    /// Checks the domains.
    pub fn check(&self) -> Result<()> {
        if self.k == 0 || !(self.shrink.is_finite() && self.shrink >= 0.0) || self.max_users == Some(0) {
            return Err(setting_error("user_knn", format!("{self:?}"), "k and pool size >= 1, shrink finite and >= 0"));
        }
        Ok(())
    }

    /// The settings in the model's provenance line.
    pub fn describe(&self) -> String {
        format!("user kNN k={} shrink={} pool={}", self.k, self.shrink, self.max_users.map_or("all".into(), |m| m.to_string()))
    }
}

/// The training users shipped for user-based kNN, their ratings on catalogue rows.
pub fn fit_user_knn(data: &Interactions, rated_row: &[usize], s: &UserKnnSettings) -> UserKnn {
    let mut users: Vec<usize> = (0..data.users.len()).collect();
    if let Some(max) = s.max_users.filter(|&m| m < users.len()) {
        users.sort_by_key(|&u| (std::cmp::Reverse(data.user_ratings(u).count()), u));
        users.truncate(max);
        users.sort_unstable();
    }
    let mut offsets = vec![0u32];
    let (mut rows, mut half_stars) = (Vec::new(), Vec::new());
    for u in users {
        for (i, r) in data.user_ratings(u) {
            rows.push(rated_row[i] as u32);
            half_stars.push((r * 2.0).round().clamp(0.0, 20.0) as u8);
        }
        offsets.push(rows.len() as u32);
    }
    UserKnn { offsets, rows, half_stars, k: s.k, shrink: s.shrink, by_movie: Default::default() }
}
