//! Models in crates with `#![deny(missing_docs)]` compile: every generated column constant has
//! docs.

#![deny(missing_docs)]

use orm_postgres::prelude::*;

/// An article.
#[derive(Model, Debug, Clone)]
pub struct Article {
    /// The key.
    #[model(primary_key, generated)]
    pub id: i64,
    /// The title.
    pub title: String,
    /// Not stored.
    #[model(skip)]
    pub views: u32,
    // A private column needs no docs.
    body: String,
}

impl Article {
    /// The body.
    pub fn body_text(&self) -> &str {
        &self.body
    }
}

fn main() {
    let a = Article {
        id: 1,
        title: "t".into(),
        views: 0,
        body: "b".into(),
    };
    assert_eq!(a.body_text(), "b");
    assert_eq!(Article::body.name(), "body");
}
