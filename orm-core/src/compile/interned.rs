//! SQL texts and table lists kept for the life of the process, one copy each: what a text
//! compiled once and served to many statements (a shape's template, `shape.rs`; a flush
//! statement's, `session/flush/sql.rs`) hands to each of them without copying it
//! ([`CompiledQuery::sql`](super::CompiledQuery::sql) borrowed, not an allocation and a copy
//! per statement: callgrind, issue 17).
//!
//! Only the callers' caches put texts here, and each keeps at most a fixed number of texts
//! (one per statement shape of the program); a text already kept is found, not added again, so
//! the memory is bounded by the program's distinct statements whatever the number of threads.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use crate::fxhash::FxHashMap;
use crate::meta::Table;

/// The texts kept.
static TEXTS: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(Default::default);

/// The table lists kept, by the tables' addresses.
type TableLists = FxHashMap<Box<[usize]>, &'static [&'static Table]>;
static TABLES: LazyLock<Mutex<TableLists>> = LazyLock::new(Default::default);

/// `sql`, kept for the life of the process (the copy kept before, if any).
pub(crate) fn text(sql: &str) -> &'static str {
    // A poisoned lock still holds whole entries (each is inserted in one call).
    let mut texts = TEXTS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(kept) = texts.get(sql) {
        return kept;
    }
    let kept: &'static str = Box::leak(sql.into());
    texts.insert(kept);
    kept
}

/// `tables`, kept for the life of the process (the copy kept before, if any).
pub(crate) fn tables(tables: &[&'static Table]) -> &'static [&'static Table] {
    if tables.is_empty() {
        return &[];
    }
    let key: Box<[usize]> = tables.iter().map(|t| *t as *const Table as usize).collect();
    let mut lists = TABLES.lock().unwrap_or_else(|p| p.into_inner());
    lists.entry(key).or_insert_with(|| Box::leak(tables.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::__doc_fixture::{Post, User};
    use crate::model::Model;

    #[test]
    fn a_text_is_kept_once() {
        let a = text(&String::from("SELECT 1 -- interned test"));
        let b = text(&String::from("SELECT 1 -- interned test"));
        assert_eq!(a, "SELECT 1 -- interned test");
        assert!(std::ptr::eq(a, b), "the second call finds the first copy");
        assert!(!std::ptr::eq(a, text("SELECT 2 -- interned test")));
    }

    #[test]
    fn a_table_list_is_kept_once_in_its_order() {
        let (users, posts) = (User::TABLE, Post::TABLE);
        let a = tables(&[users, posts]);
        let b = tables(&[users, posts]);
        let c = tables(&[posts, users]);
        assert!(std::ptr::eq(a, b));
        assert_eq!(
            a.iter().map(|t| t.name).collect::<Vec<_>>(),
            ["users", "posts"]
        );
        assert_eq!(
            c.iter().map(|t| t.name).collect::<Vec<_>>(),
            ["posts", "users"]
        );
        assert!(tables(&[]).is_empty());
    }
}
