//! Relationships: every kind, every loading strategy, nested loads, explicit loads, filters
//! through relationships, and exact statement counts — against a real server.

use orm_postgres::prelude::*;
use orm_postgres::{ErrorKind, Executor};
use orm_testing::{TestDatabase, test_database};

/// A blog: users write posts, posts have comments and tags; a user may have a profile; users
/// refer other users; posts have an author and an optional editor (two FKs to users).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "app_user")]
pub struct User {
    #[model(primary_key)]
    pub id: i32,
    pub name: String,
    #[model(references = "app_user.id")]
    pub referrer_id: Option<i32>,
    #[relationship(has_many = Post, foreign_key = "author_id", order_by = "title", back_populates = "author")]
    pub posts: Related<Vec<Post>>,
    #[relationship(has_one = Profile, foreign_key = "user_id")]
    pub profile: Related<Option<Profile>>,
    #[relationship(belongs_to = User, foreign_key = "referrer_id")]
    pub referrer: Related<Option<User>>,
    #[relationship(has_many = User, foreign_key = "referrer_id", order_by = "name")]
    pub referred: Related<Vec<User>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "profile")]
pub struct Profile {
    #[model(primary_key)]
    pub id: i32,
    #[model(unique, references = "app_user.id")]
    pub user_id: i32,
    pub bio: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "post")]
pub struct Post {
    #[model(primary_key)]
    pub id: i32,
    #[model(references = "app_user.id")]
    pub author_id: i32,
    #[model(references = "app_user.id")]
    pub editor_id: Option<i32>,
    pub title: String,
    #[relationship(belongs_to = User, foreign_key = "author_id", back_populates = "posts")]
    pub author: Related<User>,
    #[relationship(belongs_to = User, foreign_key = "editor_id")]
    pub editor: Related<Option<User>>,
    #[relationship(has_many = Comment, foreign_key = "post_id", order_by = "-id")]
    pub comments: Related<Vec<Comment>>,
    #[relationship(many_to_many = Tag, secondary = PostTag, order_by = "name")]
    pub tags: Related<Vec<Tag>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "comment")]
pub struct Comment {
    #[model(primary_key)]
    pub id: i32,
    #[model(references = "post.id", on_delete = "cascade")]
    pub post_id: i32,
    pub body: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "tag")]
pub struct Tag {
    #[model(primary_key)]
    pub id: i32,
    pub name: String,
    #[relationship(many_to_many = Post, secondary = PostTag, order_by = "id")]
    pub posts: Related<Vec<Post>>,
}

/// The association table, with a column of its own (association object pattern).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "post_tag")]
pub struct PostTag {
    #[model(primary_key, references = "post.id")]
    pub post_id: i32,
    #[model(primary_key, references = "tag.id")]
    pub tag_id: i32,
    pub weight: i32,
    #[relationship(belongs_to = Tag, foreign_key = "tag_id")]
    pub tag: Related<Tag>,
}

/// A composite foreign key: shipments reference (warehouse, code) of items.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "item")]
pub struct Item {
    #[model(primary_key)]
    pub warehouse: i32,
    #[model(primary_key)]
    pub code: String,
    pub label: String,
    #[relationship(has_many = Shipment, foreign_key = ("warehouse", "item_code"), order_by = "id")]
    pub shipments: Related<Vec<Shipment>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "shipment")]
pub struct Shipment {
    #[model(primary_key)]
    pub id: i32,
    pub warehouse: i32,
    pub item_code: String,
    #[relationship(belongs_to = Item, foreign_key = ("warehouse", "item_code"))]
    pub item: Related<Item>,
}

/// A self-referential many-to-many: people and their friends, through friendship(a, b).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "person")]
pub struct Person {
    #[model(primary_key)]
    pub id: i32,
    pub name: String,
    #[relationship(many_to_many = Person, secondary = Friendship, foreign_key = "a", target_key = "b", order_by = "name")]
    pub friends: Related<Vec<Person>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "friendship")]
pub struct Friendship {
    #[model(primary_key, references = "person.id")]
    pub a: i32,
    #[model(primary_key, references = "person.id")]
    pub b: i32,
}

async fn blog() -> TestDatabase {
    let t = test_database().await.unwrap();
    t.create_all(&[
        User::TABLE,
        Profile::TABLE,
        Post::TABLE,
        Comment::TABLE,
        Tag::TABLE,
        PostTag::TABLE,
        Item::TABLE,
        Shipment::TABLE,
    ])
    .await
    .unwrap();
    t.batch_execute(
        "INSERT INTO app_user VALUES (1, 'ann', NULL), (2, 'bob', 1), (3, 'cid', 1), (4, 'dee', 2);
         INSERT INTO profile VALUES (1, 1, 'ann writes'), (2, 3, 'cid reads');
         INSERT INTO post VALUES (1, 1, 2, 'b-first'), (2, 1, NULL, 'a-second'), (3, 2, 1, 'bob post');
         INSERT INTO comment VALUES (1, 1, 'c1'), (2, 1, 'c2'), (3, 2, 'c3'), (4, 3, 'c4'), (5, 1, 'c5');
         INSERT INTO tag VALUES (1, 'rust'), (2, 'sql'), (3, 'unused');
         INSERT INTO post_tag VALUES (1, 1, 5), (1, 2, 3), (3, 2, 1);
         INSERT INTO item VALUES (1, 'A', 'apple'), (1, 'B', 'bolt'), (2, 'A', 'anvil');
         INSERT INTO shipment VALUES (1, 1, 'A'), (2, 2, 'A'), (3, 1, 'A'), (4, 1, 'B');",
    )
    .await
    .unwrap();
    t
}

fn titles(posts: &[Post]) -> Vec<&str> {
    posts.iter().map(|p| p.title.as_str()).collect()
}

#[tokio::test]
async fn reading_an_unloaded_relationship_is_an_error_not_a_query() {
    let t = blog().await;
    let users = t.fetch_all(select::<User>()).await.unwrap();
    let before = t.statement_count();
    let err = users[0].posts.get().unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::NotLoaded {
            model: "User",
            relationship: "posts"
        }
    ));
    assert!(err.to_string().contains("User::posts.selectin()"), "{err}");
    assert_eq!(t.statement_count(), before, "no hidden IO");
}

#[tokio::test]
async fn selectin_loads_every_kind_in_one_query_each() {
    let t = blog().await;
    let before = t.statement_count();
    let users = t
        .fetch_all(
            select::<User>()
                .order_by(User::id)
                .load(User::posts.selectin())
                .load(User::profile.selectin())
                .load(User::referrer.selectin())
                .load(User::referred.selectin()),
        )
        .await
        .unwrap();
    assert_eq!(t.statement_count() - before, 5, "1 + one per relationship");
    let ann = &users[0];
    assert_eq!(
        titles(ann.posts.get().unwrap()),
        ["a-second", "b-first"],
        "order_by title"
    );
    assert_eq!(
        ann.profile.get().unwrap().as_ref().map(|p| p.bio.as_str()),
        Some("ann writes")
    );
    assert_eq!(ann.referrer.get().unwrap(), &None);
    let referred: Vec<&str> = ann
        .referred
        .get()
        .unwrap()
        .iter()
        .map(|u| u.name.as_str())
        .collect();
    assert_eq!(referred, ["bob", "cid"]);
    let bob = &users[1];
    assert_eq!(bob.profile.get().unwrap(), &None, "has_one with no row");
    assert_eq!(
        bob.referrer.get().unwrap().as_ref().map(|u| u.id),
        Some(1),
        "self-referential"
    );
    let dee = &users[3];
    assert!(dee.posts.get().unwrap().is_empty(), "loaded, and empty");
}

#[tokio::test]
async fn nested_paths_cost_one_query_per_level() {
    let t = blog().await;
    let before = t.statement_count();
    let users = t
        .fetch_all(
            select::<User>().order_by(User::id).load(
                User::posts
                    .selectin()
                    .load(Post::comments.selectin())
                    .load(Post::tags.selectin()),
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        t.statement_count() - before,
        4,
        "users, posts, then comments and tags together"
    );
    let first = &users[0].posts.get().unwrap()[1];
    assert_eq!(first.title, "b-first");
    let bodies: Vec<&str> = first
        .comments
        .get()
        .unwrap()
        .iter()
        .map(|c| c.body.as_str())
        .collect();
    assert_eq!(bodies, ["c5", "c2", "c1"], "order_by -id");
    let tags: Vec<&str> = first
        .tags
        .get()
        .unwrap()
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(tags, ["rust", "sql"], "many-to-many through post_tag");
}

#[tokio::test]
async fn two_relationships_to_the_same_table() {
    let t = blog().await;
    let posts = t
        .fetch_all(
            select::<Post>()
                .order_by(Post::id)
                .load(Post::author.selectin())
                .load(Post::editor.selectin()),
        )
        .await
        .unwrap();
    let pairs: Vec<(&str, Option<&str>)> = posts
        .iter()
        .map(|p| {
            (
                p.author.get().unwrap().name.as_str(),
                p.editor.get().unwrap().as_ref().map(|u| u.name.as_str()),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [("ann", Some("bob")), ("ann", None), ("bob", Some("ann"))]
    );
}

#[tokio::test]
async fn subquery_and_joined_strategies_give_the_same_result() {
    let t = blog().await;
    let q = || select::<User>().filter(User::id.le(3)).order_by(User::id);
    let selectin = t
        .fetch_all(q().load(User::posts.selectin().load(Post::tags.selectin())))
        .await
        .unwrap();
    let before = t.statement_count();
    let subquery = t
        .fetch_all(q().load(User::posts.subquery().load(Post::tags.subquery())))
        .await
        .unwrap();
    assert_eq!(t.statement_count() - before, 3);
    let before = t.statement_count();
    let joined = t
        .fetch_all(q().load(User::posts.joined().load(Post::tags.selectin())))
        .await
        .unwrap();
    assert_eq!(t.statement_count() - before, 2, "posts come with the users");
    assert_eq!(selectin, subquery);
    assert_eq!(selectin, joined);
    // Joined with a limit counts users, not joined rows.
    let two = t
        .fetch_all(
            select::<User>()
                .order_by(User::id)
                .limit(2)
                .load(User::posts.joined()),
        )
        .await
        .unwrap();
    assert_eq!(two.len(), 2);
    assert_eq!(two[0].posts.get().unwrap().len(), 2);
    // A to-one joined load through fetch_one.
    let post = t
        .fetch_one(
            select::<Post>()
                .filter(Post::id.eq(3))
                .load(Post::author.joined())
                .load(Post::editor.joined()),
        )
        .await
        .unwrap();
    assert_eq!(post.author.get().unwrap().name, "bob");
    assert_eq!(post.editor.get().unwrap().as_ref().map(|u| u.id), Some(1));
}

#[tokio::test]
async fn a_joined_load_under_tied_order_keys_gives_each_parent_its_own_children() {
    let t = blog().await;
    // bob and cid share a referrer: ordered by it, their posts (ordered by title) interleave,
    // bob's, cid's, bob's, in a query joined as it is (the key identifies the parent).
    t.batch_execute(
        "INSERT INTO post VALUES (4, 2, NULL, 'a-bob'), (5, 3, NULL, 'b-cid'), (6, 2, NULL, 'c-bob')",
    )
    .await
    .unwrap();
    let q = || select::<User>().order_by(User::referrer_id);
    let sql = q().load(User::posts.joined()).compile().unwrap().sql;
    assert!(!sql.contains("orm_row"), "{sql}");
    let by_id = |mut users: Vec<User>| {
        users.sort_by_key(|u| u.id);
        users
    };
    let selectin = by_id(t.fetch_all(q().load(User::posts.selectin())).await.unwrap());
    let joined = by_id(t.fetch_all(q().load(User::posts.joined())).await.unwrap());
    assert_eq!(selectin, joined);
    assert_eq!(
        titles(joined[1].posts.get().unwrap()),
        ["a-bob", "bob post", "c-bob"]
    );
    assert_eq!(titles(joined[2].posts.get().unwrap()), ["b-cid"]);
    // The users with no posts are there, with none.
    assert_eq!(joined.len(), 4);
    assert!(joined[3].posts.get().unwrap().is_empty());
    // A filter or ordering naming a column without its table (`id` is also a post's column)
    // keeps the query wrapped, where the name means the user's.
    let q = || {
        select::<User>()
            .filter(orm_postgres::raw::text::<bool>("id <= :n").bind("n", 3))
            .order_by(User::id)
    };
    let sql = q().load(User::posts.joined()).compile().unwrap().sql;
    assert!(sql.contains("orm_row"), "{sql}");
    let wrapped = t.fetch_all(q().load(User::posts.joined())).await.unwrap();
    let selectin = t.fetch_all(q().load(User::posts.selectin())).await.unwrap();
    assert_eq!(wrapped, selectin);
    assert_eq!(wrapped.len(), 3);
    // With joins of its own, the query is wrapped: each of its rows is a parent.
    let sql = q()
        .join_rel(User::posts)
        .load(User::profile.joined())
        .compile()
        .unwrap()
        .sql;
    assert!(sql.contains("orm_row"), "{sql}");
}

#[tokio::test]
async fn explicit_loading_of_objects_in_hand() {
    let t = blog().await;
    let mut users = t
        .fetch_all(select::<User>().order_by(User::id))
        .await
        .unwrap();
    let before = t.statement_count();
    t.load(
        &mut users,
        User::posts.selectin().load(Post::comments.selectin()),
    )
    .await
    .unwrap();
    assert_eq!(t.statement_count() - before, 2);
    assert_eq!(users[0].posts.get().unwrap().len(), 2);
    assert_eq!(
        users[1].posts.get().unwrap()[0]
            .comments
            .get()
            .unwrap()
            .len(),
        1
    );
    // Nothing to load: no query at all.
    let mut none: Vec<User> = Vec::new();
    let before = t.statement_count();
    t.load(&mut none, User::posts.selectin()).await.unwrap();
    assert_eq!(t.statement_count(), before);
}

#[tokio::test]
async fn association_object_and_composite_keys() {
    let t = blog().await;
    let links = t
        .fetch_all(
            select::<PostTag>()
                .order_by(PostTag::post_id)
                .order_by(PostTag::tag_id)
                .load(PostTag::tag.selectin()),
        )
        .await
        .unwrap();
    let seen: Vec<(i32, &str, i32)> = links
        .iter()
        .map(|l| (l.post_id, l.tag.get().unwrap().name.as_str(), l.weight))
        .collect();
    assert_eq!(seen, [(1, "rust", 5), (1, "sql", 3), (3, "sql", 1)]);

    let items = t
        .fetch_all(
            select::<Item>()
                .order_by(Item::warehouse)
                .order_by(Item::code)
                .load(Item::shipments.selectin()),
        )
        .await
        .unwrap();
    let counts: Vec<usize> = items
        .iter()
        .map(|i| i.shipments.get().unwrap().len())
        .collect();
    assert_eq!(counts, [2, 1, 1]);
    let shipments = t
        .fetch_all(
            select::<Shipment>()
                .order_by(Shipment::id)
                .load(Shipment::item.selectin()),
        )
        .await
        .unwrap();
    let labels: Vec<&str> = shipments
        .iter()
        .map(|s| s.item.get().unwrap().label.as_str())
        .collect();
    assert_eq!(labels, ["apple", "anvil", "apple", "bolt"]);
    let joined = t
        .fetch_all(
            select::<Item>()
                .order_by(Item::warehouse)
                .order_by(Item::code)
                .load(Item::shipments.joined()),
        )
        .await
        .unwrap();
    assert_eq!(joined, items);
}

/// Two joined collections of one parent come back as their product (post 1: three comments
/// times two tags, six rows): each child is kept once, in its relationship's order, and the
/// result is the one two selectin loads give.
#[tokio::test]
async fn two_joined_collections_keep_each_child_once() {
    let t = blog().await;
    let q = || select::<Post>().order_by(Post::id);
    let before = t.statement_count();
    let joined = t
        .fetch_all(q().load(Post::comments.joined()).load(Post::tags.joined()))
        .await
        .unwrap();
    assert_eq!(
        t.statement_count() - before,
        1,
        "one statement for all three"
    );
    let selectin = t
        .fetch_all(
            q().load(Post::comments.selectin())
                .load(Post::tags.selectin()),
        )
        .await
        .unwrap();
    assert_eq!(joined, selectin);
    let shape: Vec<(i32, Vec<i32>, Vec<&str>)> = joined
        .iter()
        .map(|p| {
            let comments = p.comments.get().unwrap().iter().map(|c| c.id).collect();
            let tags = p
                .tags
                .get()
                .unwrap()
                .iter()
                .map(|t| t.name.as_str())
                .collect();
            (p.id, comments, tags)
        })
        .collect();
    assert_eq!(
        shape,
        [
            (1, vec![5, 2, 1], vec!["rust", "sql"]),
            (2, vec![3], vec![]),
            (3, vec![4], vec!["sql"]),
        ]
    );
}

#[tokio::test]
async fn filtering_and_joining_through_relationships() {
    let t = blog().await;
    let with_long: Vec<String> = t
        .fetch_all(
            select::<User>()
                .filter(User::posts.any(Post::title.ends_with("post")))
                .columns(User::name),
        )
        .await
        .unwrap();
    assert_eq!(with_long, ["bob"]);
    let writers: i64 = t
        .fetch_one(select::<User>().filter(User::posts.exists()).count())
        .await
        .unwrap();
    assert_eq!(writers, 2);
    let edited_by_bob: Vec<String> = t
        .fetch_all(
            select::<Post>()
                .filter(Post::editor.has(User::name.eq("bob")))
                .columns(Post::title),
        )
        .await
        .unwrap();
    assert_eq!(edited_by_bob, ["b-first"]);
    let tagged_sql: Vec<String> = t
        .fetch_all(
            select::<Post>()
                .filter(Post::tags.any(Tag::name.eq("sql")))
                .order_by(Post::id)
                .columns(Post::title),
        )
        .await
        .unwrap();
    assert_eq!(tagged_sql, ["b-first", "bob post"]);
    let pairs: Vec<(String, String)> = t
        .fetch_all(
            select::<Post>()
                .join_rel(Post::tags)
                .order_by(Post::id)
                .order_by(Tag::name)
                .columns((Post::title, Tag::name)),
        )
        .await
        .unwrap();
    assert_eq!(pairs.len(), 3);
    let counts: Vec<(String, Option<i32>)> = t
        .fetch_all(
            select::<User>()
                .left_join_rel(User::profile)
                .order_by(User::id)
                .columns((User::name, Profile::id)),
        )
        .await
        .unwrap();
    assert_eq!(counts[1], ("bob".into(), None));
}

#[tokio::test]
async fn self_referential_filters_compare_the_related_row_not_the_same_row() {
    let t = blog().await;
    // Users referred by ann: the condition is about the referrer, the link about the outer user.
    let by_ann: Vec<String> = t
        .fetch_all(
            select::<User>()
                .filter(User::referrer.has(User::name.eq("ann")))
                .order_by(User::name)
                .columns(User::name),
        )
        .await
        .unwrap();
    assert_eq!(by_ann, ["bob", "cid"]);
    let referred_dee: Vec<String> = t
        .fetch_all(
            select::<User>()
                .filter(User::referred.any(User::name.eq("dee")))
                .columns(User::name),
        )
        .await
        .unwrap();
    assert_eq!(referred_dee, ["bob"]);
    // A join of a table to itself needs an alias.
    let err = t
        .fetch_all(select::<User>().join_rel(User::referred))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("alias!"), "{err}");
}

#[tokio::test]
async fn self_referential_many_to_many_filters_and_loads() {
    let t = test_database().await.unwrap();
    t.create_all(&[Person::TABLE, Friendship::TABLE])
        .await
        .unwrap();
    t.batch_execute(
        "INSERT INTO person VALUES (1, 'ann'), (2, 'bob'), (3, 'cid');
         INSERT INTO friendship VALUES (2, 3), (1, 2);",
    )
    .await
    .unwrap();
    // People with a friend named cid: the condition is about the friend, the link about the
    // outer person.
    let with_cid: Vec<String> = t
        .fetch_all(
            select::<Person>()
                .filter(Person::friends.any(Person::name.eq("cid")))
                .columns(Person::name),
        )
        .await
        .unwrap();
    assert_eq!(with_cid, ["bob"]);
    for load in [
        Person::friends.selectin(),
        Person::friends.subquery(),
        Person::friends.joined(),
    ] {
        let people = t
            .fetch_all(select::<Person>().order_by(Person::id).load(load))
            .await
            .unwrap();
        let friends: Vec<Vec<&str>> = people
            .iter()
            .map(|p| {
                p.friends
                    .get()
                    .unwrap()
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect()
            })
            .collect();
        assert_eq!(friends, [vec!["bob"], vec!["cid"], vec![]]);
    }
}

#[test]
fn sql_of_relationship_queries() {
    use insta::assert_snapshot;
    let sql = |s: &dyn Fn() -> orm_postgres::Result<orm_postgres::CompiledQuery>| {
        s().unwrap().to_string()
    };
    assert_snapshot!(sql(&|| select::<User>()
        .order_by(User::name)
        .load(User::posts.joined())
        .compile()));
    assert_snapshot!(sql(&|| select::<User>()
        .order_by(User::id)
        .limit(10)
        .load(User::posts.joined())
        .compile()));
    assert_snapshot!(sql(&|| select::<Post>()
        .load(Post::tags.joined())
        .load(Post::author.joined())
        .compile()));
    assert_snapshot!(sql(&|| {
        select::<User>()
            .filter(User::posts.any(Post::title.eq("x")))
            .filter(User::referrer.has(User::name.eq("ann")))
            .compile()
    }));
    assert_snapshot!(sql(&|| select::<Post>()
        .join_rel(Post::tags)
        .columns((Post::title, Tag::name))
        .compile()));
    assert_snapshot!(sql(&|| select::<Item>()
        .filter(Item::shipments.exists())
        .compile()));
}
