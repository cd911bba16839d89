//! The session (unit of work) against a real server: identity map, graph saving, change
//! tracking, cascades, the flush plan, transactions and savepoints, optimistic concurrency,
//! pending rollback, retries, hooks and validators — with exact statement counts.

mod cascades;
mod change_tracking;
mod collection_edits;
mod concurrency_and_errors;
mod copy;
mod criteria;
mod cycles;
mod expire;
mod graphs;
mod guards;
mod hooks;
mod identity;
mod many_to_many;
mod merge;
mod model_criteria;
mod reads_send_drop;
mod spawned;
mod transactions;

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
    pub fn of(total: i32) -> Order {
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

/// Hooks: passwords hashed on insert and only when they change; an audit row per insert and
/// per rename (with the old name).
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
        // A hook that never stops adding: each `chain` member brings another.
        if self.name.starts_with("chain") {
            ctx.add(Member {
                name: format!("{}+", self.name),
                ..Member::default()
            });
        }
        Ok(())
    }

    fn before_update(&mut self, changed: ColumnSet, _: &mut HookContext) -> Result<()> {
        if changed.contains(Member::password) {
            self.password = hash(&self.password);
        }
        self.updates += 1;
        // A hook that refuses, after it changed the object.
        if self.name == "frozen" {
            return Err(Error::validation("Member", "name", "frozen by its hook"));
        }
        Ok(())
    }

    fn audit_update(&self, old: &Self, changed: ColumnSet, ctx: &mut HookContext) -> Result<()> {
        if changed.contains(Member::name) {
            ctx.add(Audit {
                id: 0,
                message: format!("member renamed {} -> {}", old.name, self.name),
            });
        }
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

/// Three new courses (algebra, biology, chemistry) and a new student, ann.
fn courses_and_ann(s: &mut Session) -> (Vec<Tracked<Course>>, Tracked<Student>) {
    let courses = s.add_all(["algebra", "biology", "chemistry"].map(|c| Course {
        title: c.into(),
        ..Course::default()
    }));
    let ann = s.add(Student {
        name: "ann".into(),
        ..Student::default()
    });
    (courses, ann)
}

/// A fresh database with the [`courses_and_ann`], ann enrolled in algebra, committed.
async fn ann_in_algebra() -> TestDatabase {
    let t = setup().await;
    let mut s = t.session();
    let (courses, ann) = courses_and_ann(&mut s);
    s.set_related(&ann, Student::courses, vec![courses[0].clone()])
        .unwrap();
    s.commit().await.unwrap();
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
