//! The values every side reads and writes, in a form the sides share for checking.

pub use crate::session::NewUser as NewRow;

/// A row of `comments`, as every side returns it from a lookup by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Key.
    pub id: i32,
    /// The post commented.
    pub post_id: i32,
    /// `text not null`.
    pub text: String,
}

/// What a nested load produced: users, posts, comments, and the sum of the comments' keys
/// weighted by their position under their post (so a comment under the wrong post, or out of
/// order, changes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tree {
    /// Users loaded.
    pub users: usize,
    /// Posts loaded under them.
    pub posts: usize,
    /// Comments loaded under those.
    pub comments: usize,
    /// Σ post key × comment key over every (post, comment) pair, and the user keys.
    pub checksum: i64,
}

impl Tree {
    /// Adds a user.
    pub fn user(&mut self, id: i32) {
        self.users += 1;
        self.checksum = self.checksum.wrapping_add(i64::from(id));
    }

    /// Adds a post of user `user`.
    pub fn post(&mut self, user: i32, id: i32) {
        self.posts += 1;
        self.checksum = self
            .checksum
            .wrapping_add(i64::from(user) * 1_000_003 + i64::from(id));
    }

    /// Adds a comment under post `post`.
    pub fn comment(&mut self, post: i32, id: i32) {
        self.comments += 1;
        self.checksum = self.checksum.wrapping_add(i64::from(post) * i64::from(id));
    }
}

/// `n` new rows (keys 0 until inserted), half with an email: the session bench's.
pub fn new_rows(n: usize) -> Vec<NewRow> {
    crate::session::new_users(n)
}
