//! The session's attributes (`hooks`, `version`, `validate`, `cascade`, `passive_deletes`) and
//! the column access the derive generates for the session.

use std::fmt;

use orm_postgres::Model;
use orm_postgres::prelude::*;
use orm_postgres::relation::Cascade;

/// Validators take the field by reference and return any `Display` error.
fn not_blank(value: &String) -> Result<(), &'static str> {
    if value.trim().is_empty() {
        Err("must not be blank")
    } else {
        Ok(())
    }
}

struct TooLong(usize);

impl fmt::Display for TooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} characters, at most 20", self.0)
    }
}

mod rules {
    pub fn short(value: &Option<String>) -> Result<(), super::TooLong> {
        match value {
            Some(v) if v.len() > 20 => Err(super::TooLong(v.len())),
            _ => Ok(()),
        }
    }
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "authors", hooks)]
pub struct Author {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(validate = not_blank)]
    pub name: String,
    #[model(validate = rules::short)]
    pub nickname: Option<String>,
    #[model(version)]
    pub version: i32,
    #[relationship(has_many = Post, foreign_key = "author_id", cascade = "all, delete-orphan", passive_deletes)]
    pub posts: Related<Vec<Post>>,
    #[model(skip)]
    pub cache: u32,
}

/// `#[model(hooks)]`: the user's own impl (a second one, from the derive, would conflict).
impl Hooks for Author {
    fn before_insert(&mut self, _: &mut HookContext) -> orm_postgres::Result<()> {
        self.name = self.name.trim().to_owned();
        Ok(())
    }
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "posts")]
pub struct Post {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "authors.id", on_delete = "cascade")]
    pub author_id: i64,
    pub title: String,
    #[relationship(belongs_to = Author, foreign_key = "author_id", cascade = "save-update, merge")]
    pub author: Related<Author>,
}

/// One relationship per cascade option, to compare the derive's parsing with `Cascade::parse`.
#[derive(Model, Debug, Clone)]
#[model(table = "boards")]
pub struct Board {
    #[model(primary_key)]
    pub id: i64,
    #[relationship(has_many = Post, foreign_key = "author_id", cascade = "save-update")]
    pub a: Related<Vec<Post>>,
    #[relationship(has_many = Post, foreign_key = "author_id", cascade = "merge")]
    pub b: Related<Vec<Post>>,
    #[relationship(has_many = Post, foreign_key = "author_id", cascade = "delete")]
    pub c: Related<Vec<Post>>,
    #[relationship(has_many = Post, foreign_key = "author_id", cascade = "delete-orphan")]
    pub d: Related<Vec<Post>>,
    #[relationship(has_many = Post, foreign_key = "author_id", cascade = "expunge")]
    pub e: Related<Vec<Post>>,
    #[relationship(has_many = Post, foreign_key = "author_id", cascade = "refresh-expire")]
    pub f: Related<Vec<Post>>,
    #[relationship(has_many = Post, foreign_key = "author_id", cascade = "all")]
    pub g: Related<Vec<Post>>,
    #[relationship(has_many = Post, foreign_key = "author_id", cascade = "none")]
    pub h: Related<Vec<Post>>,
    #[relationship(has_many = Post, foreign_key = "author_id", cascade = " merge,delete , expunge")]
    pub i: Related<Vec<Post>>,
}

const BOARD_CASCADES: [&str; 9] = [
    "save-update",
    "merge",
    "delete",
    "delete-orphan",
    "expunge",
    "refresh-expire",
    "all",
    "none",
    "merge, delete, expunge",
];

fn author() -> Author {
    let mut a = Author::from_columns();
    a.name = "Jane".into();
    a
}

impl Author {
    fn from_columns() -> Author {
        Author {
            id: 1,
            name: String::new(),
            nickname: None,
            version: 7,
            posts: Related::default(),
            cache: 42,
        }
    }
}

fn main() {
    // `version`: its position in the columns, bumped by the session.
    assert_eq!(Author::VERSION, Some(3));
    assert_eq!(Post::VERSION, None);
    let mut a = author();
    a.bump_version();
    assert_eq!(a.version, 8);

    // The relationships, with their cascade options.
    assert_eq!(Author::RELATIONS.len(), 1);
    let posts = Author::RELATIONS[0].meta();
    assert_eq!(posts.name, "posts");
    assert_eq!(posts.cascade, Cascade::parse("all, delete-orphan").unwrap());
    assert!(posts.passive_deletes);
    let author_rel = Post::RELATIONS[0].meta();
    assert_eq!(author_rel.cascade, Cascade::DEFAULT);
    assert!(!author_rel.passive_deletes);

    assert_eq!(Board::RELATIONS.len(), BOARD_CASCADES.len());
    for (ops, text) in Board::RELATIONS.iter().zip(BOARD_CASCADES) {
        assert_eq!(ops.meta().cascade, Cascade::parse(text).unwrap(), "{text}");
    }

    // Column access by position; out of range is `None` or an error, never a panic.
    let a = author();
    assert!(a.column_param(1).is_some());
    assert!(a.column_param(4).is_none());
    assert!(Author::column_array(&[&a, &a], 2).is_some());
    assert!(Author::column_array(&[&a], 9).is_none());
    let name = a.column_value(1).unwrap().downcast_ref::<String>().unwrap();
    assert_eq!(name, "Jane");
    assert!(a.column_value(4).is_none());

    let mut b = author();
    b.set_column_value(0, &99_i64).unwrap();
    assert_eq!(b.id, 99);
    b.set_column_value(2, &String::from("JJ")).unwrap(); // an `Option` field takes its `T`
    assert_eq!(b.nickname.as_deref(), Some("JJ"));
    assert!(b.set_column_value(0, &"not an i64").is_err());
    assert!(b.set_column_value(4, &1_i64).is_err());
    b.set_column_null(2).unwrap();
    assert_eq!(b.nickname, None);
    assert!(b.set_column_null(1).is_err());
    assert!(b.set_column_null(4).is_err());

    // Snapshots: columns copied, relationships not loaded, skipped fields at their default.
    let copy = a.copy_columns();
    assert_eq!(
        (copy.id, &copy.name, copy.version, copy.cache),
        (1, &a.name, 7, 0)
    );
    assert!(!copy.posts.is_loaded());

    let mut changed = a.clone();
    changed.name = "Janet".into();
    changed.version = 9;
    let set = changed.changed_columns(&a);
    assert_eq!(set.iter().collect::<Vec<_>>(), [1, 3]);
    assert!(set.contains(Author::name));
    assert!(a.changed_columns(&a).is_empty());

    let mut target = author();
    target.cache = 5;
    target.restore_columns(changed.clone());
    assert_eq!(
        (target.name.as_str(), target.version, target.cache),
        ("Janet", 9, 5)
    );

    // Validators run for the columns in the set only.
    let mut bad = author();
    bad.name = "  ".into();
    bad.nickname = Some("x".repeat(30));
    let all = ColumnSet::all(Author::TABLE.columns.len());
    let err = bad.validate(all).unwrap_err();
    assert!(err.is_validation(), "{err}");
    assert!(err.to_string().contains("must not be blank"), "{err}");
    let err = bad.validate(ColumnSet::empty().with(2)).unwrap_err();
    assert!(
        err.to_string().contains("30 characters, at most 20"),
        "{err}"
    );
    assert!(bad.validate(ColumnSet::empty().with(0).with(3)).is_ok());
    assert!(author().validate(all).is_ok());
}
