//! The session (unit of work) against a real server: identity map, graph saving, change
//! tracking, cascades, the flush plan, transactions and savepoints, optimistic concurrency,
//! pending rollback, retries, hooks and validators — with exact statement counts.

use orm_postgres::prelude::*;
use orm_postgres::session::Status;
use orm_postgres::{DbError, ErrorKind, Executor, RetryPolicy, SessionOptions};
use orm_testing::{TestDatabase, test_database};

// ----- models ---------------------------------------------------------------------------

fn valid_email(email: &Option<String>) -> std::result::Result<(), String> {
    match email {
        Some(e) if !e.contains('@') => Err(format!("{e:?} is not an email address")),
        _ => Ok(()),
    }
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "s_user")]
pub struct User {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(unique)]
    pub name: String,
    #[model(validate = valid_email)]
    pub email: Option<String>,
    pub age: i32,
    #[relationship(has_many = Order, foreign_key = "user_id", order_by = "id", back_populates = "user")]
    pub orders: Related<Vec<Order>>,
}

impl User {
    fn named(name: &str) -> User {
        User {
            name: name.into(),
            ..User::default()
        }
    }
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "s_order")]
pub struct Order {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "s_user.id", on_delete = "cascade", index)]
    pub user_id: i64,
    pub total: i32,
    #[relationship(belongs_to = User, foreign_key = "user_id", back_populates = "orders")]
    pub user: Related<User>,
}

impl Order {
    fn of(total: i32) -> Order {
        Order {
            total,
            ..Order::default()
        }
    }
}

/// A blog: deleting a post deletes its comments (cascade all, delete-orphan); deleting an
/// author relies on ON DELETE CASCADE for posts (passive deletes).
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "b_author")]
pub struct Author {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    #[relationship(has_many = Post, foreign_key = "author_id", cascade = "all", passive_deletes)]
    pub posts: Related<Vec<Post>>,
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "b_post")]
pub struct Post {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "b_author.id", on_delete = "cascade")]
    pub author_id: i64,
    pub title: String,
    #[relationship(has_many = Comment, foreign_key = "post_id", order_by = "id", cascade = "all, delete-orphan")]
    pub comments: Related<Vec<Comment>>,
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "b_comment")]
pub struct Comment {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "b_post.id", on_delete = "cascade")]
    pub post_id: i64,
    pub body: String,
}

/// Students and courses, many-to-many through enrollments.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "e_student")]
pub struct Student {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    #[relationship(many_to_many = Course, secondary = Enrollment, order_by = "title")]
    pub courses: Related<Vec<Course>>,
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "e_course")]
pub struct Course {
    #[model(primary_key, generated)]
    pub id: i64,
    pub title: String,
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "e_enrollment")]
pub struct Enrollment {
    #[model(primary_key, references = "e_student.id")]
    pub student_id: i64,
    #[model(primary_key, references = "e_course.id")]
    pub course_id: i64,
}

/// Optimistic concurrency.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "v_account")]
pub struct Account {
    #[model(primary_key, generated)]
    pub id: i64,
    pub owner: String,
    pub balance: i64,
    #[model(version)]
    pub version: i32,
}

/// Hooks: passwords hashed on insert and only when they change; an audit row per insert.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "h_member", hooks)]
pub struct Member {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    pub password: String,
    pub updates: i32,
}

fn hash(password: &str) -> String {
    format!("hashed({password})")
}

impl Hooks for Member {
    fn before_insert(&mut self, _: &mut HookContext) -> Result<()> {
        self.password = hash(&self.password);
        Ok(())
    }

    fn after_insert(&self, ctx: &mut HookContext) -> Result<()> {
        ctx.add(Audit {
            id: 0,
            message: format!("member {} created", self.name),
        });
        Ok(())
    }

    fn before_update(&mut self, changed: ColumnSet, _: &mut HookContext) -> Result<()> {
        if changed.contains(Member::password) {
            self.password = hash(&self.password);
        }
        self.updates += 1;
        Ok(())
    }
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "h_audit")]
pub struct Audit {
    #[model(primary_key, generated)]
    pub id: i64,
    pub message: String,
}

/// Rows pointing at each other: a cycle broken by a post-update.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "c_node")]
pub struct Node {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    #[model(references = "c_node.id")]
    pub partner_id: Option<i64>,
    #[relationship(belongs_to = Node, foreign_key = "partner_id")]
    pub partner: Related<Option<Node>>,
}

async fn setup() -> TestDatabase {
    let t = test_database().await.unwrap();
    t.create_all(&[
        User::TABLE,
        Order::TABLE,
        Author::TABLE,
        Post::TABLE,
        Comment::TABLE,
        Student::TABLE,
        Course::TABLE,
        Enrollment::TABLE,
        Account::TABLE,
        Member::TABLE,
        Audit::TABLE,
        Node::TABLE,
    ])
    .await
    .unwrap();
    t
}

async fn count(t: &TestDatabase, sql: &'static str) -> i64 {
    t.fetch_one(orm_postgres::raw::query::<i64>(sql))
        .await
        .unwrap()
}

fn no_expire() -> SessionOptions {
    SessionOptions::default().expire_on_commit(false)
}

// ----- identity map ---------------------------------------------------------------------

#[tokio::test]
async fn one_object_per_row_and_get_answers_from_the_map() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let jane = s.add(User::named("jane"));
    s.commit().await.unwrap();
    let id = jane.read().id;
    assert!(id > 0, "the generated key came back");
    assert_eq!(jane.status(), Status::Persistent);

    let before = t.statement_count();
    let again = s.get::<User>(id).await.unwrap().unwrap();
    assert!(Tracked::ptr_eq(&jane, &again));
    assert_eq!(
        t.statement_count(),
        before,
        "get answered from the identity map"
    );

    // A query returning the row gives the same object too.
    let all = s.all(select::<User>()).await.unwrap();
    assert_eq!(all.len(), 1);
    assert!(Tracked::ptr_eq(&jane, &all[0]));

    // A fresh session loads it again (one query), and twice is still one object.
    let mut s2 = t.session();
    let a = s2.get::<User>(id).await.unwrap().unwrap();
    let b = s2.get::<User>(id).await.unwrap().unwrap();
    assert!(Tracked::ptr_eq(&a, &b));
    assert!(!Tracked::ptr_eq(&a, &jane));
    assert!(s2.get::<User>(id + 1000).await.unwrap().is_none());
}

#[tokio::test]
async fn relationship_loads_give_the_objects_of_the_identity_map() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let mut u = User::named("ann");
    u.orders = Related::loaded(vec![Order::of(1), Order::of(2)]);
    let ann = s.add(u);
    s.commit().await.unwrap();
    let first = s.related(&ann, User::orders).unwrap()[0].clone();
    let first_id = first.read().id;

    let mut s2 = t.session();
    let order = s2.get::<Order>(first_id).await.unwrap().unwrap();
    let users = s2
        .all(select::<User>().load(User::orders.selectin()))
        .await
        .unwrap();
    let orders = s2.related(&users[0], User::orders).unwrap();
    assert_eq!(orders.len(), 2);
    assert!(
        Tracked::ptr_eq(&orders[0], &order),
        "the loader found the object in the map"
    );
    // back_populates: the order knows its user without a query.
    let owner = s2.related_one(&order, Order::user).unwrap().unwrap();
    assert!(Tracked::ptr_eq(&owner, &users[0]));
    // Never loaded: an error, not a query.
    let err = s2.related(&orders[0], Order::user).err();
    assert!(err.is_none(), "loaded through back_populates");
    let lone = s2.add(User::named("zed"));
    let err = s2.related(&lone, User::orders).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotLoaded { .. }));
}

// ----- adding graphs ----------------------------------------------------------------------

#[tokio::test]
async fn a_thousand_orders_for_ten_new_users_is_two_inserts() {
    let t = setup().await;
    let mut s = t.session();
    let users: Vec<User> = (0..10)
        .map(|u| {
            let mut user = User::named(&format!("user{u}"));
            user.orders = Related::loaded((0..100).map(|o| Order::of(u * 1000 + o)).collect());
            user
        })
        .collect();
    let before = t.statement_count();
    let handles = s.add_all(users);
    s.commit().await.unwrap();
    assert_eq!(
        t.statement_count() - before,
        4,
        "BEGIN, INSERT users, INSERT orders, COMMIT"
    );
    assert_eq!(count(&t, "SELECT count(*) FROM s_order").await, 1000);
    // Every order points at its own user: the generated keys were filled in.
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_order o JOIN s_user u ON u.id = o.user_id \
             WHERE o.total / 1000 = substr(u.name, 5)::int"
        )
        .await,
        1000
    );
    let orders = s.related(&handles[3], User::orders).unwrap();
    assert_eq!(orders.len(), 100);
    let uid = handles[3].read().id;
    assert!(orders.iter().all(|o| o.read().user_id == uid));
}

#[tokio::test]
async fn an_order_pointing_at_a_new_user_inserts_the_user_first() {
    let t = setup().await;
    let mut s = t.session();
    let mut o = Order::of(42);
    o.user = Related::loaded(User::named("new"));
    let order = s.add(o);
    s.commit().await.unwrap();
    let user = s.related_one(&order, Order::user).unwrap().unwrap();
    assert_eq!(order.read().user_id, user.read().id);
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_order o JOIN s_user u ON u.id = o.user_id WHERE u.name = 'new'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn appending_to_a_collection_of_a_loaded_parent_sets_the_key() {
    let t = setup().await;
    let mut s = t.session();
    let ann = s.add(User::named("ann"));
    let bob = s.add(User::named("bob"));
    s.commit().await.unwrap();
    let mut s = t.session();
    let users = s
        .all(
            select::<User>()
                .order_by(User::name)
                .load(User::orders.selectin()),
        )
        .await
        .unwrap();
    let order = s.add(Order::of(7));
    s.append(&users[1], User::orders, &order).unwrap();
    s.commit().await.unwrap();
    let bob_id = bob.read().id;
    assert_eq!(order.read().user_id, bob_id);
    let _ = ann;
    // Moving the order to the other user is an UPDATE of its key.
    let mut s = t.session();
    let users = s
        .all(
            select::<User>()
                .order_by(User::name)
                .load(User::orders.selectin()),
        )
        .await
        .unwrap();
    let moved = s.related(&users[1], User::orders).unwrap()[0].clone();
    s.append(&users[0], User::orders, &moved).unwrap();
    // Both sides follow (back_populates): the order left bob's collection, knows ann.
    assert!(s.related(&users[1], User::orders).unwrap().is_empty());
    let owner = s.related_one(&moved, Order::user).unwrap().unwrap();
    assert!(Tracked::ptr_eq(&owner, &users[0]));
    s.commit().await.unwrap();
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_order o JOIN s_user u ON u.id = o.user_id WHERE u.name = 'ann'"
        )
        .await,
        1
    );
}

// ----- change tracking ----------------------------------------------------------------------

#[tokio::test]
async fn flush_updates_only_changed_columns_of_changed_objects() {
    let t = setup().await;
    let mut s = t.session();
    s.add_all((0..100).map(|i| User::named(&format!("u{i:03}"))));
    s.commit().await.unwrap();

    let mut s = t.session();
    let users = s.all(select::<User>().order_by(User::name)).await.unwrap();
    assert_eq!(users.len(), 100);
    // Three objects with the same changed column: one UPDATE.
    for u in &users[..3] {
        u.write().age = 30;
    }
    // A write that changes nothing: no UPDATE for it.
    users[50].write().age = 0;
    assert!(!users[50].is_modified());
    let before = t.statement_count();
    s.flush().await.unwrap();
    assert_eq!(
        t.statement_count() - before,
        1,
        "one UPDATE for three objects"
    );

    // Two different column sets: two UPDATEs, pipelined.
    users[10].write().age = 5;
    users[11].write().email = Some("x@y.z".into());
    let before = t.statement_count();
    s.flush().await.unwrap();
    assert_eq!(t.statement_count() - before, 2);
    // Nothing changed since: a flush sends nothing.
    let before = t.statement_count();
    s.flush().await.unwrap();
    assert_eq!(t.statement_count(), before);
    s.commit().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user WHERE age = 30").await,
        3
    );
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user WHERE email = 'x@y.z'").await,
        1
    );
    // Only the changed column was written: a concurrent change of another column survives.
    let mut s = t.session();
    let u = s
        .one(select::<User>().filter(User::name.eq("u000")))
        .await
        .unwrap();
    t.execute(
        update::<User>()
            .set(User::email, Some("other@x.y".to_string()))
            .filter(User::name.eq("u000")),
    )
    .await
    .unwrap();
    u.write().age = 31;
    s.commit().await.unwrap();
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_user WHERE name = 'u000' AND age = 31 AND email = 'other@x.y'"
        )
        .await,
        1
    );
}

// ----- deleting and cascades ---------------------------------------------------------------

async fn blog(t: &TestDatabase) -> (i64, i64) {
    let mut s = t.session();
    let mut post = Post {
        title: "hello".into(),
        ..Post::default()
    };
    post.comments = Related::loaded(
        (0..3)
            .map(|i| Comment {
                body: format!("c{i}"),
                ..Comment::default()
            })
            .collect(),
    );
    let mut author = Author {
        name: "ann".into(),
        ..Author::default()
    };
    author.posts = Related::loaded(vec![post]);
    let a = s.add(author);
    s.commit().await.unwrap();
    let p = s.related(&a, Author::posts).unwrap()[0].clone();
    let author_id = a.read().id;
    let post_id = p.read().id;
    (author_id, post_id)
}

#[tokio::test]
async fn deleting_a_post_deletes_its_comments() {
    let t = setup().await;
    let (_, post_id) = blog(&t).await;
    assert_eq!(count(&t, "SELECT count(*) FROM b_comment").await, 3);
    let mut s = t.session();
    let post = s.get::<Post>(post_id).await.unwrap().unwrap();
    s.delete(&post).unwrap();
    assert_eq!(post.status(), Status::Deleted);
    let before = t.statement_count();
    s.commit().await.unwrap();
    // SELECT the comments (not loaded), DELETE comments, DELETE post, COMMIT.
    assert_eq!(t.statement_count() - before, 4);
    assert_eq!(count(&t, "SELECT count(*) FROM b_comment").await, 0);
    assert_eq!(count(&t, "SELECT count(*) FROM b_post").await, 0);
    assert_eq!(post.status(), Status::Detached);
    assert!(s.get::<Post>(post_id).await.unwrap().is_none());
}

#[tokio::test]
async fn passive_deletes_rely_on_on_delete_cascade() {
    let t = setup().await;
    let (author_id, _) = blog(&t).await;
    let mut s = t.session();
    let author = s.get::<Author>(author_id).await.unwrap().unwrap();
    s.delete(&author).unwrap();
    let before = t.statement_count();
    s.flush().await.unwrap();
    assert_eq!(
        t.statement_count() - before,
        1,
        "only the author's DELETE: posts not loaded"
    );
    s.commit().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM b_post").await,
        0,
        "the database cascaded"
    );
}

#[tokio::test]
async fn removing_a_comment_from_its_post_deletes_it() {
    let t = setup().await;
    let (_, post_id) = blog(&t).await;
    let mut s = t.session();
    let post = s
        .one(
            select::<Post>()
                .filter(Post::id.eq(post_id))
                .load(Post::comments.selectin()),
        )
        .await
        .unwrap();
    let comments = s.related(&post, Post::comments).unwrap();
    assert_eq!(comments.len(), 3);
    s.remove(&post, Post::comments, &comments[1]).unwrap();
    s.commit().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM b_comment").await, 2);
    assert_eq!(
        count(&t, "SELECT count(*) FROM b_comment WHERE body = 'c1'").await,
        0
    );
}

#[tokio::test]
async fn appending_to_an_unloaded_collection_writes_the_link_only() {
    let t = setup().await;
    let mut s = t.session();
    let mut u = User::named("ann");
    u.orders = Related::loaded(vec![Order::of(1)]);
    s.add(u);
    s.commit().await.unwrap();

    let mut s = t.session();
    let ann = s.one(select::<User>()).await.unwrap();
    let order = s.add(Order::of(2));
    s.append(&ann, User::orders, &order).unwrap();
    // Only the appended order is known: the collection is still not loaded.
    let err = s.related(&ann, User::orders).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotLoaded { .. }), "{err}");
    // Replacing it needs it loaded.
    let err = s.set_related(&ann, User::orders, vec![]).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::ObjectState(_)), "{err}");
    s.commit().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM s_order").await, 2);
    let ann_id = ann.read().id;
    assert_eq!(order.read().user_id, ann_id);
}

#[tokio::test]
async fn deleting_a_pending_object_cancels_its_insert() {
    let t = setup().await;
    let mut s = t.session();
    let u = s.add(User::named("gone"));
    s.delete(&u).unwrap();
    assert_eq!(u.status(), Status::Detached);
    let before = t.statement_count();
    s.commit().await.unwrap();
    assert_eq!(
        t.statement_count(),
        before,
        "nothing to write, no transaction"
    );
}

// ----- many-to-many -------------------------------------------------------------------------

#[tokio::test]
async fn students_enroll_by_assigning_collections() {
    let t = setup().await;
    let mut s = t.session();
    let courses = s.add_all(["algebra", "biology", "chemistry"].map(|c| Course {
        title: c.into(),
        ..Course::default()
    }));
    let ann = s.add(Student {
        name: "ann".into(),
        ..Student::default()
    });
    s.set_related(
        &ann,
        Student::courses,
        vec![courses[0].clone(), courses[1].clone()],
    )
    .unwrap();
    let before = t.statement_count();
    s.commit().await.unwrap();
    // BEGIN, INSERT courses + INSERT students (one level, pipelined), INSERT links, COMMIT.
    assert_eq!(t.statement_count() - before, 5);
    assert_eq!(count(&t, "SELECT count(*) FROM e_enrollment").await, 2);

    // Re-assign: drop biology, add chemistry: one DELETE and one INSERT of links.
    let mut s = t.session();
    let ann = s
        .one(select::<Student>().load(Student::courses.selectin()))
        .await
        .unwrap();
    let titles: Vec<String> = s
        .related(&ann, Student::courses)
        .unwrap()
        .iter()
        .map(|c| c.read().title.clone())
        .collect();
    assert_eq!(titles, ["algebra", "biology"]);
    let all = s
        .all(select::<Course>().order_by(Course::title))
        .await
        .unwrap();
    s.set_related(&ann, Student::courses, vec![all[0].clone(), all[2].clone()])
        .unwrap();
    let before = t.statement_count();
    s.flush().await.unwrap();
    assert_eq!(t.statement_count() - before, 2);
    s.commit().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM e_enrollment e JOIN e_course c ON c.id = e.course_id WHERE c.title IN ('algebra', 'chemistry')").await,
        2
    );
    assert_eq!(count(&t, "SELECT count(*) FROM e_enrollment").await, 2);

    // Deleting the student deletes its association rows too.
    let mut s = t.session();
    let ann = s.one(select::<Student>()).await.unwrap();
    s.delete(&ann).unwrap();
    s.commit().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM e_enrollment").await, 0);
    assert_eq!(count(&t, "SELECT count(*) FROM e_course").await, 3);
}

// ----- flush plan: cycles ---------------------------------------------------------------------

#[tokio::test]
async fn two_rows_pointing_at_each_other_use_a_post_update() {
    let t = setup().await;
    let mut s = t.session();
    let a = s.add(Node {
        name: "a".into(),
        ..Node::default()
    });
    let b = s.add(Node {
        name: "b".into(),
        ..Node::default()
    });
    s.set_related(&a, Node::partner, vec![b.clone()]).unwrap();
    s.set_related(&b, Node::partner, vec![a.clone()]).unwrap();
    let before = t.statement_count();
    s.commit().await.unwrap();
    // BEGIN, INSERT one, INSERT the other, UPDATE (post-update), COMMIT.
    assert_eq!(t.statement_count() - before, 5);
    let (aid, bid) = (a.read().id, b.read().id);
    assert_eq!(a.read().partner_id, Some(bid));
    assert_eq!(b.read().partner_id, Some(aid));
    assert_eq!(
        count(&t, "SELECT count(*) FROM c_node x JOIN c_node y ON x.partner_id = y.id AND y.partner_id = x.id").await,
        2
    );
}

// ----- transactions -----------------------------------------------------------------------------

#[tokio::test]
async fn rollback_restores_every_object() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let kept = s.add(User::named("kept"));
    let doomed = s.add(User::named("doomed"));
    s.commit().await.unwrap();

    kept.write().age = 99;
    s.delete(&doomed).unwrap();
    let added = s.add(User::named("added"));
    s.flush().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user").await,
        2,
        "not committed yet"
    );
    s.rollback().await.unwrap();

    assert_eq!(kept.read().age, 0);
    assert_eq!(doomed.status(), Status::Persistent);
    assert_eq!(added.status(), Status::Detached);
    assert!(!s.has_changes(), "{:?}", s.unit_of_work());
    // Rollback expires: another writer's change is seen at the next load.
    assert!(kept.is_expired());
    t.execute(
        update::<User>()
            .set(User::age, 5)
            .filter(User::name.eq("kept")),
    )
    .await
    .unwrap();
    let users = s.all(select::<User>().order_by(User::name)).await.unwrap();
    assert_eq!(users.len(), 2);
    assert!(Tracked::ptr_eq(&users[0], &doomed));
    assert!(Tracked::ptr_eq(&users[1], &kept));
    assert_eq!(kept.read().age, 5);
}

#[tokio::test]
async fn rolling_back_a_savepoint_restores_those_objects() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let u = s.add(User::named("sp"));
    s.flush().await.unwrap();
    u.write().age = 1;
    s.begin_nested().await.unwrap();
    u.write().age = 2;
    let inner = s.add(User::named("inner"));
    s.flush().await.unwrap();
    s.rollback_nested().await.unwrap();
    // begin_nested flushed age = 1 first; the savepoint's change is undone.
    assert_eq!(u.read().age, 1, "back to its state at the savepoint");
    assert!(!u.is_modified());
    assert_eq!(inner.status(), Status::Detached);
    s.commit().await.unwrap();
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_user WHERE name = 'sp' AND age = 1"
        )
        .await,
        1
    );
    assert_eq!(count(&t, "SELECT count(*) FROM s_user").await, 1);

    // The closure form: an error rolls the savepoint back, Ok releases it.
    let mut s = t.session();
    let r: Result<()> = s
        .nested(async |s| {
            s.add(User::named("nope"));
            s.flush().await?;
            Err(Error::object_state("changed my mind"))
        })
        .await;
    assert!(r.is_err());
    s.nested(async |s| {
        s.add(User::named("yes"));
        Ok(())
    })
    .await
    .unwrap();
    s.commit().await.unwrap();
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM s_user WHERE name IN ('nope', 'yes')"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn autoflush_before_queries_can_be_switched_off() {
    let t = setup().await;
    let mut s = t.session();
    s.add(User::named("pending"));
    let found = s.all(select::<User>()).await.unwrap();
    assert_eq!(found.len(), 1, "autoflush wrote it before the query");
    s.rollback().await.unwrap();

    let mut s = t.session_with(SessionOptions::default().autoflush(false));
    s.add(User::named("pending"));
    let found = s.all(select::<User>()).await.unwrap();
    assert!(found.is_empty());
    s.commit().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM s_user").await, 1);
}

#[tokio::test]
async fn expire_on_commit_reloads_at_the_next_access() {
    let t = setup().await;
    let mut s = t.session();
    let u = s.add(User::named("exp"));
    s.commit().await.unwrap();
    assert!(u.is_expired());
    let id = u.read().id;
    t.execute(update::<User>().set(User::age, 7).filter(User::id.eq(id)))
        .await
        .unwrap();
    let before = t.statement_count();
    let again = s.get::<User>(id).await.unwrap().unwrap();
    assert!(
        t.statement_count() > before,
        "an expired object is reloaded"
    );
    assert!(Tracked::ptr_eq(&u, &again));
    assert_eq!(u.read().age, 7);
    assert!(!u.is_expired());

    // Without expire_on_commit, the object keeps its values and get needs no query.
    let mut s = t.session_with(no_expire());
    let v = s.add(User::named("keep"));
    s.commit().await.unwrap();
    assert!(!v.is_expired());
    let before = t.statement_count();
    let vid = v.read().id;
    s.get::<User>(vid).await.unwrap().unwrap();
    assert_eq!(t.statement_count(), before);
}

#[tokio::test]
async fn refresh_expire_expunge_and_merge() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let u = s.add(User::named("r"));
    s.commit().await.unwrap();
    let id = u.read().id;

    // refresh: reload now, dropping unflushed changes.
    t.execute(update::<User>().set(User::age, 3).filter(User::id.eq(id)))
        .await
        .unwrap();
    u.write().name = "unsaved".into();
    s.refresh(&u).await.unwrap();
    assert_eq!(u.read().name, "r");
    assert_eq!(u.read().age, 3);
    assert!(!s.has_changes());

    // expire: values replaced at the next load.
    u.write().age = 100;
    s.expire(&u);
    assert_eq!(u.read().age, 3, "unflushed change dropped");
    assert!(u.is_expired());

    // expunge: no longer tracked.
    s.expunge(&u);
    assert_eq!(u.status(), Status::Detached);
    u.write().age = 55;
    assert!(!s.has_changes());
    let fresh = s.get::<User>(id).await.unwrap().unwrap();
    assert!(!Tracked::ptr_eq(&fresh, &u));

    // merge: a detached copy's values land on the session's object; one UPDATE of the
    // changed column.
    let mut detached = fresh.to_detached();
    detached.age = 21;
    let merged = s.merge(detached).await.unwrap();
    assert!(Tracked::ptr_eq(&merged, &fresh));
    let before = t.statement_count();
    s.flush().await.unwrap();
    assert_eq!(t.statement_count() - before, 1);
    // merge of an object with no row adds it.
    let new = s
        .merge(User {
            id: 0,
            ..User::named("merged-new")
        })
        .await
        .unwrap();
    assert_eq!(new.status(), Status::Pending);
    s.commit().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user WHERE age = 21").await,
        1
    );
    assert_eq!(count(&t, "SELECT count(*) FROM s_user").await, 2);
}

#[tokio::test]
async fn read_only_sessions_refuse_writes() {
    let t = setup().await;
    let mut s = t.session_with(SessionOptions::default().read_only());
    s.add(User::named("ro"));
    let err = s.commit().await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("25006"), "{err}");
    let err = s.get::<User>(1).await.unwrap_err();
    assert!(err.is_pending_rollback(), "{err}");
    s.rollback().await.unwrap();
    assert!(
        !s.has_changes(),
        "the added object was expunged by the rollback"
    );
    assert_eq!(count(&t, "SELECT count(*) FROM s_user").await, 0);
}

#[tokio::test]
async fn isolation_level_is_applied() {
    let t = setup().await;
    let mut s = t.session_with(
        SessionOptions::default().isolation(orm_postgres::IsolationLevel::Serializable),
    );
    let level: String = s
        .fetch_one(orm_postgres::raw::query::<String>(
            "SHOW transaction_isolation",
        ))
        .await
        .unwrap();
    assert_eq!(level, "serializable");
}

// ----- optimistic concurrency and errors ---------------------------------------------------------

#[tokio::test]
async fn a_lost_update_is_stale_data_and_nothing_is_half_written() {
    let t = setup().await;
    let mut s = t.session();
    s.add_all([
        Account {
            owner: "a".into(),
            balance: 10,
            ..Account::default()
        },
        Account {
            owner: "b".into(),
            balance: 10,
            ..Account::default()
        },
    ]);
    s.commit().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM v_account WHERE version = 1").await,
        2
    );

    let mut s1 = t.session();
    let mut s2 = t.session();
    let a1 = s1
        .all(select::<Account>().order_by(Account::owner))
        .await
        .unwrap();
    let a2 = s2
        .all(select::<Account>().order_by(Account::owner))
        .await
        .unwrap();
    s1.rollback().await.unwrap();
    s2.rollback().await.unwrap();
    a1[0].write().balance = 20;
    s1.commit().await.unwrap();
    assert_eq!(a1[0].read().version, 2);

    // s2 changes two accounts with different columns... the stale one fails the flush.
    a2[0].write().balance = 30;
    a2[1].write().balance = 40;
    let err = s2.commit().await.unwrap_err();
    assert!(err.is_stale_data(), "{err}");
    assert!(matches!(
        err.kind(),
        ErrorKind::StaleData {
            model: "Account",
            operation: "UPDATE",
            expected: 2,
            actual: 1
        }
    ));
    // Nothing half-written: the objects are as before the flush, the database unchanged.
    assert_eq!(a2[1].read().version, 1);
    assert!(a2[1].is_modified());
    assert!(
        s2.get::<Account>(1)
            .await
            .unwrap_err()
            .is_pending_rollback()
    );
    s2.rollback().await.unwrap();
    assert_eq!(
        count(&t, "SELECT sum(balance)::bigint FROM v_account").await,
        30
    );

    // Deleting a row another writer changed is stale too.
    let mut s3 = t.session();
    let b_id = a1[1].read().id;
    let stale = s3.get::<Account>(b_id).await.unwrap().unwrap();
    t.execute(
        update::<Account>()
            .set(Account::version, 9)
            .filter(Account::owner.eq("b")),
    )
    .await
    .unwrap();
    s3.delete(&stale).unwrap();
    let err = s3.commit().await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::StaleData {
                operation: "DELETE",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn after_an_error_only_rollback_is_accepted() {
    let t = setup().await;
    let mut s = t.session();
    s.add(User::named("dup"));
    s.commit().await.unwrap();
    let mut s = t.session();
    let first = s.add(User::named("fine"));
    s.add(User::named("dup"));
    let err = s.flush().await.unwrap_err();
    assert!(err.is_unique_violation(), "{err}");
    assert_eq!(
        first.status(),
        Status::Pending,
        "the failed flush changed nothing"
    );
    for err in [
        s.get::<User>(1).await.unwrap_err(),
        s.flush().await.unwrap_err(),
        s.commit().await.unwrap_err(),
        s.fetch_all(select::<User>()).await.unwrap_err(),
    ] {
        assert!(err.is_pending_rollback(), "{err}");
        assert!(
            err.to_string().contains("unique"),
            "names the original error: {err}"
        );
        assert_eq!(err.sqlstate(), Some("23505"), "keeps the server's error");
    }
    s.rollback().await.unwrap();
    assert_eq!(first.status(), Status::Detached);
    assert_eq!(s.all(select::<User>()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn retry_reruns_on_serialization_failures_only() {
    let t = setup().await;
    let mut attempts = 0;
    let n = t
        .retry(
            RetryPolicy::attempts(3).base_delay(std::time::Duration::from_millis(1)),
            async |s| {
                attempts += 1;
                s.add(User::named(&format!("try{attempts}")));
                s.flush().await?;
                if attempts < 3 {
                    return Err(Error::from_db(DbError::new(
                        "40001",
                        "could not serialize access",
                    )));
                }
                Ok(attempts)
            },
        )
        .await
        .unwrap();
    assert_eq!(n, 3);
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user").await,
        1,
        "failed attempts rolled back"
    );

    let mut attempts = 0;
    let err = t
        .retry(RetryPolicy::attempts(5), async |_s| {
            attempts += 1;
            Err::<(), _>(Error::from_db(DbError::new("23505", "duplicate")))
        })
        .await
        .unwrap_err();
    assert!(err.is_unique_violation());
    assert_eq!(attempts, 1, "not retryable");

    // Bounded: the last failure is returned.
    let mut attempts = 0;
    let err = t
        .retry(
            RetryPolicy::attempts(2).base_delay(std::time::Duration::from_millis(1)),
            async |_s| {
                attempts += 1;
                Err::<(), _>(Error::from_db(DbError::new("40P01", "deadlock")))
            },
        )
        .await
        .unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(attempts, 2);
}

#[tokio::test]
async fn retry_survives_a_real_serialization_conflict() {
    let t = setup().await;
    let mut s = t.session();
    s.add(Account {
        owner: "x".into(),
        balance: 0,
        ..Account::default()
    });
    s.commit().await.unwrap();
    let serializable =
        SessionOptions::default().isolation(orm_postgres::IsolationLevel::Serializable);
    // A concurrent writer commits between this attempt's read and write, once.
    let mut attempts = 0;
    let db = (*t).clone();
    t.retry(RetryPolicy::attempts(5).options(serializable), async |s| {
        attempts += 1;
        let acc = s.one(select::<Account>()).await?;
        if attempts == 1 {
            db.execute(update::<Account>().set(Account::balance, 100))
                .await?;
        }
        acc.write().balance += 1;
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(attempts, 2);
    assert_eq!(count(&t, "SELECT balance FROM v_account").await, 101);
}

// ----- hooks and validators ------------------------------------------------------------------------

#[tokio::test]
async fn hooks_hash_passwords_once_and_write_audit_rows() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let m = s.add(Member {
        name: "mia".into(),
        password: "secret".into(),
        ..Member::default()
    });
    s.commit().await.unwrap();
    assert_eq!(m.read().password, "hashed(secret)");
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM h_audit WHERE message = 'member mia created'"
        )
        .await,
        1
    );

    // An update that does not touch the password does not re-hash it.
    m.write().name = "mia2".into();
    s.commit().await.unwrap();
    assert_eq!(m.read().password, "hashed(secret)");
    assert_eq!(m.read().updates, 1);
    m.write().password = "new".into();
    s.commit().await.unwrap();
    assert_eq!(m.read().password, "hashed(new)");
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM h_member WHERE password = 'hashed(new)' AND updates = 2"
        )
        .await,
        1
    );

    // Session-level hooks.
    let commits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = commits.clone();
    s.on_after_commit(move || {
        c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    s.on_before_flush(|uow| {
        uow.add(Audit {
            id: 0,
            message: "flushed".into(),
        });
        Ok(())
    });
    // Nothing to flush: the before-flush hook does not run (no audit row), the commit does.
    s.commit().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM h_audit WHERE message = 'flushed'").await,
        0
    );
    assert_eq!(commits.load(std::sync::atomic::Ordering::SeqCst), 1);
    m.write().name = "mia3".into();
    s.commit().await.unwrap();
    assert_eq!(commits.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(
        count(&t, "SELECT count(*) FROM h_audit WHERE message = 'flushed'").await,
        1
    );
}

#[tokio::test]
async fn validators_reject_bad_values_before_any_sql() {
    let t = setup().await;
    let mut s = t.session();
    let u = s.add(User {
        email: Some("not-an-email".into()),
        ..User::named("v")
    });
    let before = t.statement_count();
    let err = s.commit().await.unwrap_err();
    assert_eq!(t.statement_count(), before, "no SQL ran");
    assert!(matches!(
        err.kind(),
        ErrorKind::Validation {
            model: "User",
            field: "email",
            ..
        }
    ));
    assert!(err.to_string().contains("not an email"), "{err}");
    // Not a database error: the session is still usable once the value is fixed.
    u.write().email = Some("v@x.y".into());
    s.commit().await.unwrap();
    // Changed columns are validated too.
    u.write().email = Some("broken".into());
    assert!(s.flush().await.unwrap_err().is_validation());
}

// ----- no-tracking reads, Send, drop ------------------------------------------------------------------

#[tokio::test]
async fn no_tracking_reads_return_plain_values() {
    let t = setup().await;
    let mut s = t.session();
    s.add_all((0..5).map(|i| User::named(&format!("n{i}"))));
    s.commit().await.unwrap();
    let mut s = t.session();
    let users: Vec<User> = s.fetch_all(select::<User>()).await.unwrap();
    assert_eq!(users.len(), 5);
    assert_eq!(s.unit_of_work().len(), 0, "nothing tracked");
    let n: i64 = s.fetch_one(select::<User>().count()).await.unwrap();
    assert_eq!(n, 5);
}

#[tokio::test]
async fn the_session_is_send_and_dropping_it_rolls_back() {
    let t = setup().await;
    let db = (*t).clone();
    let handle = tokio::spawn(async move {
        let mut s = db.session();
        let u = s.add(User::named("spawned"));
        s.flush().await.unwrap();
        tokio::task::yield_now().await;
        u.write().age = 3;
        s.commit().await.unwrap();
        u.read().age
    });
    assert_eq!(handle.await.unwrap(), 3);

    let before = t.status();
    {
        let mut s = t.session();
        s.add(User::named("dropped"));
        s.flush().await.unwrap();
        // Dropped mid-transaction.
    }
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user WHERE name = 'dropped'").await,
        0
    );
    assert!(t.status().size <= before.size.max(1) + 1);
    // The pool still works: the dirty connection was closed, not reused.
    assert_eq!(count(&t, "SELECT count(*) FROM s_user").await, 1);
}

#[tokio::test]
async fn a_cancelled_flush_requires_a_rollback() {
    let t = setup().await;
    let mut s = t.session();
    s.add_all((0..2000).map(|i| User::named(&format!("c{i}"))));
    // Cancel the commit as soon as it starts waiting on the server.
    let fut = s.commit();
    let r = tokio::time::timeout(std::time::Duration::from_micros(1), fut).await;
    if r.is_err() {
        let err = s.get::<User>(1).await.unwrap_err();
        assert!(err.is_pending_rollback(), "{err}");
        s.rollback().await.unwrap();
        assert!(
            !s.has_changes(),
            "the rollback expunged the pending objects"
        );
    }
    assert_eq!(
        count(&t, "SELECT count(*) FROM s_user").await % 2000,
        0,
        "all or nothing"
    );
}
