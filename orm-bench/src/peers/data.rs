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

/// What a nested load produced: users, posts, comments, and a checksum over every decoded
/// column (keys, and the lengths of the texts), which a comment under the wrong post or a
/// text left undecoded changes (a text swapped for another of the same length does not). The
/// order of the comments under a post is not checked: no side asks for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tree {
    /// Users loaded.
    pub users: usize,
    /// Posts loaded under them.
    pub posts: usize,
    /// Comments loaded under those.
    pub comments: usize,
    /// Σ over users of key and name length, over posts of user key × 1,000,003 + post key and
    /// their title's and body's lengths, over comments of post key × comment key and their
    /// text's length.
    pub checksum: i64,
}

impl Tree {
    fn add(&mut self, v: i64) {
        self.checksum = self.checksum.wrapping_add(v);
    }

    /// Adds a user.
    pub fn user(&mut self, id: i32, name: &str) {
        self.users += 1;
        self.add(i64::from(id) + text_digest(Some(name)));
    }

    /// Adds a post of user `user`.
    pub fn post(&mut self, user: i32, id: i32, title: &str, body: Option<&str>) {
        self.posts += 1;
        self.add(i64::from(user) * 1_000_003 + i64::from(id));
        self.add(text_digest(Some(title)) + 3 * text_digest(body));
    }

    /// Adds a comment under post `post`.
    pub fn comment(&mut self, post: i32, id: i32, text: &str) {
        self.comments += 1;
        self.add(i64::from(post) * i64::from(id) + text_digest(Some(text)));
    }
}

/// What a text column adds to a checksum: its length times a prime, and -1 for `NULL`.
pub fn text_digest(text: Option<&str>) -> i64 {
    text.map_or(-1, |t| t.len() as i64 * 7_919)
}

/// What one lookup of the pool workload adds to its sum: the row's `post_id` and its text's
/// digest (so a side that leaves the text undecoded fails the check; the `id` is not
/// checked).
pub fn lookup_digest(post_id: i32, text: &str) -> i64 {
    i64::from(post_id) + text_digest(Some(text))
}

/// `n` new rows (keys 0 until inserted), half with an email: the session bench's.
pub fn new_rows(n: usize) -> Vec<NewRow> {
    crate::session::new_users(n)
}
