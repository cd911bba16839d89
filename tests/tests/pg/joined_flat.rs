//! The *flat* joined load (`stmt/option.rs`, `flat_joined_core`): a plain query of one table
//! joins its targets as it is, and its rows fold by the table's key. Every case loads the same
//! relationship `joined` and `selectin` and compares parents, children and order, and checks
//! which form the joined query took (the wrapped one has `orm_row`).

use orm_postgres::prelude::*;
use orm_postgres::raw::text;
use orm_postgres::stmt::Criteria;
use orm_testing::{TestDatabase, test_database};

/// Users refer users; a user writes posts; posts have tags (through `jf_post_tag`).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "jf_user")]
pub struct JfUser {
    #[model(primary_key)]
    pub id: i32,
    pub name: String,
    pub score: Option<i32>,
    #[model(references = "jf_user.id")]
    pub referrer_id: Option<i32>,
    #[relationship(has_many = JfPost, foreign_key = "author_id", order_by = ("title", "id"))]
    pub posts: Related<Vec<JfPost>>,
    #[relationship(has_many = JfPost, foreign_key = "editor_id", order_by = ("-id"))]
    pub edited: Related<Vec<JfPost>>,
    #[relationship(has_many = JfUser, foreign_key = "referrer_id", order_by = ("name", "id"))]
    pub referred: Related<Vec<JfUser>>,
    #[relationship(belongs_to = JfUser, foreign_key = "referrer_id")]
    pub referrer: Related<Option<JfUser>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "jf_post")]
pub struct JfPost {
    #[model(primary_key)]
    pub id: i32,
    #[model(references = "jf_user.id")]
    pub author_id: i32,
    #[model(references = "jf_user.id")]
    pub editor_id: Option<i32>,
    pub title: String,
    #[relationship(belongs_to = JfUser, foreign_key = "author_id")]
    pub author: Related<JfUser>,
    #[relationship(belongs_to = JfUser, foreign_key = "editor_id")]
    pub editor: Related<Option<JfUser>>,
    #[relationship(many_to_many = JfTag, secondary = JfPostTag, order_by = "name")]
    pub tags: Related<Vec<JfTag>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "jf_tag")]
pub struct JfTag {
    #[model(primary_key)]
    pub id: i32,
    pub name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "jf_post_tag")]
pub struct JfPostTag {
    #[model(primary_key, references = "jf_post.id")]
    pub post_id: i32,
    #[model(primary_key, references = "jf_tag.id")]
    pub tag_id: i32,
}

/// A composite key, and a deferred column (which keeps a query wrapped unless undeferred).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "jf_item")]
pub struct JfItem {
    #[model(primary_key)]
    pub shelf: i32,
    #[model(primary_key)]
    pub code: String,
    #[model(deferred)]
    pub note: Deferred<String>,
    #[relationship(has_many = JfPart, foreign_key = ("shelf", "item_code"), order_by = "id")]
    pub parts: Related<Vec<JfPart>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "jf_part")]
pub struct JfPart {
    #[model(primary_key)]
    pub id: i32,
    pub shelf: i32,
    pub item_code: String,
}

/// Single-table inheritance: dogs and cats in `jf_pet`, each with an owner.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "jf_pet", discriminator = "kind", relationships(owner))]
pub enum JfPet {
    #[model(value = "dog")]
    Dog(JfDog),
    #[model(value = "cat")]
    Cat(JfCat),
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = JfPet)]
pub struct JfDog {
    #[model(primary_key)]
    pub id: i32,
    pub name: String,
    #[model(references = "jf_user.id")]
    pub owner_id: Option<i32>,
    #[relationship(belongs_to = JfUser, foreign_key = "owner_id")]
    pub owner: Related<Option<JfUser>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = JfPet)]
pub struct JfCat {
    #[model(primary_key)]
    pub id: i32,
    pub name: String,
    #[model(references = "jf_user.id")]
    pub owner_id: Option<i32>,
    pub lives: i32,
    #[relationship(belongs_to = JfUser, foreign_key = "owner_id")]
    pub owner: Related<Option<JfUser>>,
}

/// `jf_user` again, with its pets: a relationship to the single-table enum.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "jf_user")]
pub struct JfOwner {
    #[model(primary_key)]
    pub id: i32,
    pub name: String,
    #[relationship(has_many = JfPet, foreign_key = "owner_id", order_by = "-id")]
    pub pets: Related<Vec<JfPet>>,
}

orm_postgres::alias!(Ref = JfUser);

/// Six users (eve has no posts and refers nobody; ann and Ann differ by case; two NULL
/// scores; two scores tie), seven posts (two titled `a`, two `b`; three without editor), tags on
/// four posts (`unused` on none), three items with parts (one without), and four pets.
async fn fixture() -> TestDatabase {
    let t = test_database().await.unwrap();
    t.create_all(&[
        JfUser::TABLE,
        JfPost::TABLE,
        JfTag::TABLE,
        JfPostTag::TABLE,
        JfItem::TABLE,
        JfPart::TABLE,
        JfPet::TABLE,
    ])
    .await
    .unwrap();
    t.batch_execute(
        "INSERT INTO jf_user VALUES (1, 'ann', 10, NULL), (2, 'bob', NULL, 1), (3, 'cid', 10, 1),
             (4, 'dan', 5, 2), (5, 'Ann', 7, NULL), (6, 'eve', NULL, 3);
         INSERT INTO jf_post VALUES (1, 1, 2, 'b'), (2, 1, NULL, 'a'), (3, 2, 1, 'c'),
             (4, 3, NULL, 'a'), (5, 3, 3, 'd'), (6, 4, 1, 'b'), (7, 5, NULL, 'z');
         INSERT INTO jf_tag VALUES (1, 'rust'), (2, 'sql'), (3, 'unused');
         INSERT INTO jf_post_tag VALUES (1, 1), (1, 2), (2, 2), (3, 1), (6, 1), (6, 2);
         INSERT INTO jf_item VALUES (1, 'a', 'n1'), (1, 'b', 'n2'), (2, 'a', 'n3');
         INSERT INTO jf_part VALUES (1, 1, 'a'), (2, 1, 'a'), (3, 2, 'a'), (4, 1, 'b');
         INSERT INTO jf_pet (id, name, owner_id, kind, lives) VALUES (1, 'rex', 1, 'dog', NULL),
             (2, 'tom', 1, 'cat', 9), (3, 'fido', NULL, 'dog', NULL), (4, 'max', 3, 'dog', NULL);",
    )
    .await
    .unwrap();
    t
}

/// Loads `$rel` of `$q` joined and selectin through `$ex`; asserts the joined query's form
/// (`flat`), and that both give the same parents and children, in the same order when
/// `ordered` (else by key). Returns the joined result.
macro_rules! same {
    ($ex:expr, $q:expr, $rel:expr, flat: $flat:expr, ordered: $ord:expr) => {
        same!($ex, $q, $rel, flat: $flat, ordered: $ord, criteria: &Criteria::check_only(|_| Ok(())))
    };
    ($ex:expr, $q:expr, $rel:expr, flat: $flat:expr, ordered: $ord:expr, criteria: $c:expr) => {{
        let sql = $q.load($rel.joined()).compile_with($c).unwrap().sql;
        assert_eq!(!sql.contains("orm_row"), $flat, "form of {sql}");
        let mut joined = $ex.fetch_all($q.load($rel.joined())).await.unwrap();
        let mut selectin = $ex.fetch_all($q.load($rel.selectin())).await.unwrap();
        if !$ord {
            joined.sort_by_key(|r| r.id);
            selectin.sort_by_key(|r| r.id);
        }
        assert_eq!(joined, selectin, "{sql}");
        joined
    }};
}

/// Each row's children's ids (of relationship `$field`), in order.
macro_rules! kids {
    ($rows:expr, $field:ident) => {
        $rows
            .iter()
            .map(|r| r.$field.get().unwrap().iter().map(|c| c.id).collect())
            .collect::<Vec<Vec<i32>>>()
    };
}

/// Each row's to-one `$field`'s id, if any.
macro_rules! one {
    ($rows:expr, $field:ident) => {
        $rows
            .iter()
            .map(|r| r.$field.get().unwrap().as_ref().map(|u| u.id))
            .collect::<Vec<Option<i32>>>()
    };
}

fn ids(users: &[JfUser]) -> Vec<i32> {
    users.iter().map(|u| u.id).collect()
}

#[tokio::test]
async fn filters_of_every_kind_keep_their_parents_and_children() {
    let t = fixture().await;
    let u = || select::<JfUser>();
    let r = || JfUser::posts;
    // Conditions reading the parent's row only: flat.
    let got = same!(t, u().filter(JfUser::id.is_in([1, 3, 5, 6])).order_by(JfUser::id), r(), flat: true, ordered: true);
    assert_eq!(kids!(got, posts), [vec![2, 1], vec![4, 5], vec![7], vec![]]);
    let got = same!(t, u().filter(JfUser::name.like("%n")).order_by(JfUser::id.desc()), r(), flat: true, ordered: true);
    assert_eq!(ids(&got), [5, 4, 1]);
    let got = same!(t, u().filter(JfUser::name.ilike("ANN")).order_by(JfUser::id), r(), flat: true, ordered: true);
    assert_eq!(kids!(got, posts), [vec![2, 1], vec![7]]);
    let got =
        same!(t, u().filter(func::lower(JfUser::name).eq("ann")), r(), flat: true, ordered: false);
    assert_eq!(ids(&got), [1, 5]);
    let got = same!(t, u().filter(JfUser::score.is_null()).order_by(JfUser::id), r(), flat: true, ordered: true);
    assert_eq!(kids!(got, posts), [vec![3], vec![]]);
    let got =
        same!(t, u().filter(JfUser::score.between(6, 10).not()), r(), flat: true, ordered: false);
    assert_eq!(ids(&got), [4]);
    let or = (JfUser::score.eq(10) | JfUser::referrer_id.eq(2)) & JfUser::id.ne(3);
    let got = same!(t, u().filter(or.clone()).order_by(JfUser::name.desc()), r(), flat: true, ordered: true);
    assert_eq!(ids(&got), [4, 1]);
    // Two of the parent's columns compared; a cast; NOT IN; a value used twice.
    let got = same!(t, u().filter(JfUser::referrer_id.lt(JfUser::id)).order_by(JfUser::id), r(), flat: true, ordered: true);
    assert_eq!(ids(&got), [2, 3, 4, 6]);
    let got =
        same!(t, u().filter(JfUser::id.cast::<String>().eq("4")), r(), flat: true, ordered: false);
    assert_eq!(kids!(got, posts), [vec![6]]);
    let got = same!(t, u().filter(JfUser::id.not_in([1, 2])).order_by(JfUser::id), r(), flat: true, ordered: true);
    assert_eq!(ids(&got), [3, 4, 5, 6]);
    let got = same!(t, u().filter(JfUser::score.eq(10) | JfUser::id.eq(10)).order_by(JfUser::score.eq(10)).order_by(JfUser::id), r(), flat: true, ordered: true);
    assert_eq!(ids(&got), [1, 3]);
    // No parent; every parent (eve without posts).
    assert!(same!(t, u().filter(JfUser::id.gt(99)), r(), flat: true, ordered: true).is_empty());
    let got = same!(t, u(), r(), flat: true, ordered: false);
    assert_eq!(
        kids!(got, posts),
        [vec![2, 1], vec![3], vec![4, 5], vec![6], vec![7], vec![]]
    );
    // Relationship subqueries (one over the parent's own table), raw SQL (even naming only
    // the parent), `IN (SELECT ...)`: wrapped.
    let got = same!(t, u().filter(JfUser::posts.any(JfPost::title.eq("a"))).order_by(JfUser::id), r(), flat: false, ordered: true);
    assert_eq!(kids!(got, posts), [vec![2, 1], vec![4, 5]]);
    let got = same!(t, u().filter(JfUser::referrer.has(JfUser::name.eq("ann"))).order_by(JfUser::id), r(), flat: false, ordered: true);
    assert_eq!(ids(&got), [2, 3]);
    let got = same!(t, u().filter(text::<bool>("jf_user.score > :s").bind("s", 6)).order_by(JfUser::id), r(), flat: false, ordered: true);
    assert_eq!(ids(&got), [1, 3, 5]);
    let got = same!(t, u().filter(text::<bool>("score > :s").bind("s", 6)).order_by(JfUser::id), r(), flat: false, ordered: true);
    assert_eq!(ids(&got), [1, 3, 5]);
    let editors = select::<JfPost>().columns(JfPost::editor_id);
    let got = same!(t, u().filter(JfUser::id.in_query(editors.clone())).order_by(JfUser::id), r(), flat: false, ordered: true);
    assert_eq!(ids(&got), [1, 2, 3]);
}

#[tokio::test]
async fn orderings_keep_the_parents_order_and_each_parents_children() {
    let t = fixture().await;
    let u = || select::<JfUser>();
    let r = || JfUser::posts;
    let got = same!(t, u().order_by(JfUser::score.desc().nulls_first()).order_by(JfUser::id), r(), flat: true, ordered: true);
    assert_eq!(ids(&got), [2, 6, 1, 3, 5, 4]);
    let got = same!(t, u().order_by(JfUser::score.asc().nulls_last()).order_by(JfUser::id.desc()), r(), flat: true, ordered: true);
    assert_eq!(ids(&got), [4, 5, 3, 1, 6, 2]);
    // By an expression; by a column nothing is decoded from but the key.
    let got = same!(t, u().order_by(func::lower(JfUser::name)).order_by(JfUser::id), r(), flat: true, ordered: true);
    assert_eq!(ids(&got), [1, 5, 2, 3, 4, 6]);
    let got = same!(t, u().order_by(JfUser::referrer_id.desc().nulls_last()).order_by(JfUser::id), r(), flat: true, ordered: true);
    assert_eq!(ids(&got), [6, 4, 2, 3, 1, 5]);
    // Tied keys only: parents interleave; each keeps its own children, in order.
    let got = same!(t, u().order_by(JfUser::score), r(), flat: true, ordered: false);
    assert_eq!(
        kids!(got, posts),
        [vec![2, 1], vec![3], vec![4, 5], vec![6], vec![7], vec![]]
    );
    // Children ordered descending (`-id`); two relationships to the same table at once.
    let got = same!(t, u().order_by(JfUser::id), JfUser::edited, flat: true, ordered: true);
    assert_eq!(
        kids!(got, edited),
        [vec![6, 3], vec![1], vec![5], vec![], vec![], vec![]]
    );
    let q = || u().order_by(JfUser::id).load(JfUser::edited.joined());
    let both = same!(t, q(), r(), flat: true, ordered: true);
    assert_eq!(kids!(both, edited), kids!(got, edited));
    assert_eq!(
        kids!(both, posts),
        [vec![2, 1], vec![3], vec![4, 5], vec![6], vec![7], vec![]]
    );
    // With LIMIT / OFFSET: wrapped, and counting parents.
    let got =
        same!(t, u().order_by(JfUser::id).limit(2).offset(1), r(), flat: false, ordered: true);
    assert_eq!(kids!(got, posts), [vec![3], vec![4, 5]]);
}

#[tokio::test]
async fn relationships_of_every_kind_flat_and_nested() {
    let t = fixture().await;
    let p = || select::<JfPost>().order_by(JfPost::id);
    // Many-to-one, with NULL foreign keys; both foreign keys to the same table at once.
    let got =
        same!(t, p().load(JfPost::author.joined()), JfPost::editor, flat: true, ordered: true);
    assert_eq!(
        one!(got, editor),
        [Some(2), None, Some(1), None, Some(3), Some(1), None]
    );
    assert_eq!(got[6].author.get().unwrap().name, "Ann");
    // Many-to-many, with a tag on no post.
    let got = same!(t, p().filter(JfPost::title.ne("z")), JfPost::tags, flat: true, ordered: true);
    assert_eq!(
        kids!(got, tags),
        [vec![1, 2], vec![2], vec![1], vec![], vec![], vec![1, 2]]
    );
    // Self-referential both ways: parent and target are the same table.
    let u = || select::<JfUser>().order_by(JfUser::id);
    let got = same!(t, u().filter(JfUser::score.is_not_null()), JfUser::referred, flat: true, ordered: true);
    assert_eq!(kids!(got, referred), [vec![2, 3], vec![6], vec![], vec![]]);
    let got = same!(t, u(), JfUser::referrer, flat: true, ordered: true);
    assert_eq!(got[3].referrer.get().unwrap().as_ref().unwrap().name, "bob");
    // Two collections at once (a product of rows); nested joined (run as selectin), joined
    // under selectin.
    let got =
        same!(t, u().load(JfUser::referred.joined()), JfUser::posts, flat: true, ordered: true);
    assert_eq!(
        kids!(got, posts),
        [vec![2, 1], vec![3], vec![4, 5], vec![6], vec![7], vec![]]
    );
    let tags = || JfUser::posts.selectin().load(JfPost::tags.selectin());
    let reference = t.fetch_all(u().load(tags())).await.unwrap();
    let nested = JfUser::posts.joined().load(JfPost::tags.joined());
    assert_eq!(t.fetch_all(u().load(nested)).await.unwrap(), reference);
    let mixed = JfUser::posts.selectin().load(JfPost::tags.joined());
    assert_eq!(t.fetch_all(u().load(mixed)).await.unwrap(), reference);
    // An aliased parent: flat, its columns under the alias.
    let q = || {
        select::<Ref>()
            .filter(Ref::col(JfUser::score).ge(7))
            .order_by(Ref::col(JfUser::id).desc())
    };
    let got = same!(t, q(), JfUser::referred, flat: true, ordered: true);
    assert_eq!(ids(&got), [5, 3, 1]);
    // A composite key, its deferred column left out: flat, and wrapped (under a LIMIT), the
    // parents decode with the column not loaded.
    let q = || {
        select::<JfItem>()
            .order_by(JfItem::code)
            .order_by(JfItem::shelf)
    };
    for (q, flat) in [(q(), true), (q().limit(2), false)] {
        let sql = q
            .clone()
            .load(JfItem::parts.joined())
            .compile()
            .unwrap()
            .sql;
        assert_eq!(!sql.contains("orm_row"), flat, "{sql}");
        let got = t
            .fetch_all(q.clone().load(JfItem::parts.joined()))
            .await
            .unwrap();
        assert_eq!(
            got,
            t.fetch_all(q.load(JfItem::parts.selectin())).await.unwrap()
        );
        assert!(got.iter().all(|i| i.note.get().is_err()), "{got:?}");
        assert_eq!(kids!(got, parts)[..2], [vec![1, 2], vec![3]]);
    }
    // Undeferred.
    let q = || {
        select::<JfItem>()
            .order_by(JfItem::code)
            .order_by(JfItem::shelf.desc())
            .undefer(JfItem::note)
    };
    let sql = q().load(JfItem::parts.joined()).compile().unwrap().sql;
    assert!(!sql.contains("orm_row"), "{sql}");
    let flat = t.fetch_all(q().load(JfItem::parts.joined())).await.unwrap();
    assert_eq!(
        flat,
        t.fetch_all(q().load(JfItem::parts.selectin()))
            .await
            .unwrap()
    );
    assert_eq!(kids!(flat, parts), [vec![3], vec![1, 2], vec![4]]);
    assert_eq!(flat[0].note.get().unwrap(), "n3");
    // Single-table inheritance: a variant as the parent (its discriminator in WHERE) ...
    let got =
        same!(t, select::<JfDog>().order_by(JfDog::id), JfDog::owner, flat: true, ordered: true);
    assert_eq!(one!(got, owner), [Some(1), None, Some(3)]);
    let got = same!(t, select::<JfCat>().filter(JfCat::lives.gt(1)), JfCat::owner, flat: true, ordered: false);
    assert_eq!(got.len(), 1);
    // ... the enum as the parent ...
    let q = || {
        select::<JfPet>()
            .filter(JfDog::name.ne("rex"))
            .order_by(JfDog::name.desc())
    };
    let sql = q().load(JfPet::owner.joined()).compile().unwrap().sql;
    assert!(!sql.contains("orm_row"), "{sql}");
    let got = t.fetch_all(q().load(JfPet::owner.joined())).await.unwrap();
    assert_eq!(
        got,
        t.fetch_all(q().load(JfPet::owner.selectin()))
            .await
            .unwrap()
    );
    let owners: Vec<Option<i32>> = got
        .iter()
        .map(|p| match p {
            JfPet::Dog(d) => d.owner.get().unwrap().as_ref().map(|u| u.id),
            JfPet::Cat(c) => c.owner.get().unwrap().as_ref().map(|u| u.id),
        })
        .collect();
    assert_eq!(owners, [Some(1), Some(3), None]);
    // ... and as the target: every variant's rows, each decoded as its variant (cats < 0).
    let got = same!(t, select::<JfOwner>().filter(JfOwner::id.le(3)), JfOwner::pets, flat: true, ordered: false);
    let pets: Vec<Vec<i32>> = got
        .iter()
        .map(|o| {
            let pets = o.pets.get().unwrap().iter();
            pets.map(|p| match p {
                JfPet::Dog(d) => d.id,
                JfPet::Cat(c) => -c.id,
            })
            .collect()
        })
        .collect();
    assert_eq!(pets, [vec![-2, 1], vec![], vec![4]]);
}

#[tokio::test]
async fn session_criteria_fetch_one_and_refusals() {
    let t = fixture().await;
    let mut s = t.session();
    // The parent's condition in WHERE, the targets' in their joins (bob, NULL score, is gone
    // as a parent and as a post's editor).
    s.with_criteria::<JfUser>(JfUser::score.is_not_null())
        .unwrap();
    s.with_criteria::<JfPost>(JfPost::title.ne("d")).unwrap();
    let c = s.criteria().clone();
    let u = || select::<JfUser>().order_by(JfUser::id);
    let got = same!(s, u(), JfUser::posts, flat: true, ordered: true, criteria: &c);
    assert_eq!(kids!(got, posts), [vec![2, 1], vec![4], vec![6], vec![7]]);
    // Self-referential: the parent's condition, and the same one requalified for the target.
    let got = same!(s, u(), JfUser::referred, flat: true, ordered: true, criteria: &c);
    assert_eq!(kids!(got, referred), [vec![3], vec![], vec![], vec![]]);
    let q = || select::<Ref>().order_by(Ref::col(JfUser::id));
    let got = same!(s, q(), JfUser::referred, flat: true, ordered: true, criteria: &c);
    assert_eq!(kids!(got, referred), [vec![3], vec![], vec![], vec![]]);
    let q = || {
        select::<JfPost>()
            .filter(JfPost::editor_id.is_not_null())
            .order_by(JfPost::id)
    };
    let got = same!(s, q(), JfPost::editor, flat: true, ordered: true, criteria: &c);
    assert_eq!(one!(got, editor), [None, Some(1), Some(1)]);
    // A parent's condition with a subquery keeps the query wrapped.
    let mut s2 = t.session();
    let authors = select::<JfPost>().columns(JfPost::author_id);
    s2.with_criteria::<JfUser>(JfUser::id.in_query(authors))
        .unwrap();
    let c2 = s2.criteria().clone();
    let got = same!(s2, u(), JfUser::referred, flat: false, ordered: true, criteria: &c2);
    assert_eq!(
        kids!(got, referred),
        [vec![2, 3], vec![4], vec![], vec![], vec![]]
    );
    // fetch_one and fetch_optional, flat.
    let one = u().filter(JfUser::id.eq(3)).load(JfUser::posts.joined());
    assert_eq!(kids!([s.fetch_one(one).await.unwrap()], posts), [vec![4]]);
    let none = u().filter(JfUser::id.eq(2)).load(JfUser::posts.joined());
    assert!(s.fetch_optional(none).await.unwrap().is_none());
    // DISTINCT and locking queries refuse a joined load; a stream refuses loads.
    let distinct = select::<JfUser>().distinct().load(JfUser::posts.joined());
    let err = t.fetch_all(distinct).await.unwrap_err();
    assert!(err.to_string().contains("selectin"), "{err}");
    let locking = select::<JfUser>().for_update().load(JfUser::posts.joined());
    let err = t.fetch_all(locking).await.unwrap_err();
    assert!(err.to_string().contains("selectin"), "{err}");
    let stream = t
        .stream(select::<JfUser>().load(JfUser::posts.joined()))
        .await;
    assert!(stream.is_err());
}
