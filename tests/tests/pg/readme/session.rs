//! The README's session section, run against a real server, with the statement counts its
//! comments give.

use orm_postgres::prelude::*;
use orm_postgres::session::UnitOfWork;
use orm_postgres::{IsolationLevel, RetryPolicy, SessionOptions};
use orm_testing::test_database;

use super::relationships::{Order, User};

#[derive(Model, Debug, Clone, Default)]
#[model(table = "author")]
pub struct Author {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    #[relationship(has_many = Post, foreign_key = "author_id", cascade = "all", passive_deletes)]
    pub posts: Related<Vec<Post>>,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "post")]
pub struct Post {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "author.id", on_delete = "cascade")]
    pub author_id: i64,
    pub title: String,
    #[relationship(has_many = Comment, foreign_key = "post_id", order_by = "id", cascade = "all, delete-orphan")]
    pub comments: Related<Vec<Comment>>,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "comment")]
pub struct Comment {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "post.id", on_delete = "cascade")]
    pub post_id: i64,
    pub body: String,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "student")]
pub struct Student {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    #[relationship(many_to_many = Course, secondary = Enrollment, order_by = "title")]
    pub courses: Related<Vec<Course>>,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "course")]
pub struct Course {
    #[model(primary_key, generated)]
    pub id: i64,
    pub title: String,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "enrollment")]
pub struct Enrollment {
    #[model(primary_key, references = "student.id")]
    pub student_id: i64,
    #[model(primary_key, references = "course.id")]
    pub course_id: i64,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "accounts", hooks)]
pub struct Account {
    #[model(primary_key, generated)]
    pub id: i64,
    pub owner: String,
    #[model(validate = not_negative)]
    pub balance: i64,
    #[model(version)]
    pub version: i32,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "audit")]
pub struct Audit {
    #[model(primary_key, generated)]
    pub id: i64,
    pub message: String,
}

fn not_negative(balance: &i64) -> Result<(), &'static str> {
    if *balance < 0 {
        Err("must not be negative")
    } else {
        Ok(())
    }
}

impl Hooks for Account {
    fn after_update(&self, changed: ColumnSet, ctx: &mut HookContext) -> Result<()> {
        if changed.contains(Account::balance) {
            ctx.add(Audit {
                message: format!("account {}: {}", self.id, self.balance),
                ..Default::default()
            });
        }
        Ok(())
    }
}

async fn count(db: &Database, sql: &'static str) -> Result<i64> {
    db.fetch_one(orm_postgres::raw::query::<i64>(sql)).await
}

#[tokio::test]
async fn the_session_tour_runs() -> orm_postgres::Result<()> {
    let t = test_database().await?;
    let db: &Database = &t.db;
    db.create_all(&[
        User::TABLE,
        Order::TABLE,
        Author::TABLE,
        Post::TABLE,
        Comment::TABLE,
        Student::TABLE,
        Course::TABLE,
        Enrollment::TABLE,
        Account::TABLE,
        Audit::TABLE,
    ])
    .await?;

    // The unit of work, the identity map, graphs, change tracking.
    let mut s = db.session();
    let mut jane = User {
        name: "Jane".into(),
        ..Default::default()
    };
    jane.orders = Related::loaded(vec![
        Order {
            total: 100,
            ..Default::default()
        },
        Order {
            total: 250,
            ..Default::default()
        },
    ]);
    let jane: Tracked<User> = s.add(jane);
    let before = db.statement_count();
    s.flush().await?;
    assert_eq!(
        db.statement_count() - before,
        3,
        "BEGIN, INSERT users, INSERT orders"
    );
    let id = jane.read().id;
    let before = db.statement_count();
    let again = s.get::<User>(id).await?.unwrap();
    assert_eq!(db.statement_count(), before, "get answered from the map");
    assert!(Tracked::ptr_eq(&jane, &again));

    let orders = s.related(&jane, User::orders)?;
    assert_eq!(orders.len(), 2);
    assert!(
        orders.iter().all(|o| o.read().user_id == id),
        "generated keys filled into the children"
    );
    orders[0].write().total += 20;
    jane.write().name = "Jane Doe".into();
    let before = db.statement_count();
    s.commit().await?;
    assert_eq!(
        db.statement_count() - before,
        3,
        "UPDATE orders, UPDATE users, COMMIT"
    );
    assert_eq!(
        count(
            db,
            "SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id \
             WHERE u.name = 'Jane Doe' AND o.total IN (120, 250)"
        )
        .await?,
        2
    );

    // Queries and relationships.
    let before = db.statement_count();
    let users = s
        .all(
            select::<User>()
                .filter(User::name.starts_with("J"))
                .load(User::orders.selectin()),
        )
        .await?;
    assert_eq!(db.statement_count() - before, 3, "BEGIN + 2 queries");
    assert!(Tracked::ptr_eq(&users[0], &jane));
    assert!(!jane.is_expired(), "the query reloaded the expired object");
    let big = s
        .one(select::<Order>().filter(Order::total.gt(200)))
        .await?;
    assert!(Tracked::ptr_eq(&big, &orders[1]));
    let extra = s.add(Order {
        total: 5,
        ..Default::default()
    });
    s.append(&users[0], User::orders, &extra)?;
    let plain: Vec<User> = s.fetch_all(select::<User>()).await?;
    assert_eq!(plain.len(), 1);
    assert_eq!(extra.read().user_id, id, "autoflushed, key set");
    s.commit().await?;

    // Many-to-many: assigning the collection.
    let courses = s.add_all(["algebra", "biology", "chemistry"].map(|title| Course {
        title: title.into(),
        ..Default::default()
    }));
    let ann = s.add(Student {
        name: "Ann".into(),
        ..Default::default()
    });
    s.set_related(
        &ann,
        Student::courses,
        vec![courses[0].clone(), courses[1].clone()],
    )?;
    s.commit().await?;
    let ann = s
        .one(select::<Student>().load(Student::courses.selectin()))
        .await?;
    let (algebra, chemistry) = (courses[0].clone(), courses[2].clone());
    s.set_related(&ann, Student::courses, vec![algebra, chemistry])?;
    let before = db.statement_count();
    s.flush().await?;
    assert_eq!(
        db.statement_count() - before,
        2,
        "one DELETE, one INSERT of links"
    );
    s.commit().await?;
    assert_eq!(
        count(
            db,
            "SELECT count(*) FROM enrollment e JOIN course c ON c.id = e.course_id \
             WHERE c.title IN ('algebra', 'chemistry')"
        )
        .await?,
        2
    );
    assert_eq!(count(db, "SELECT count(*) FROM enrollment").await?, 2);

    // Deletes and cascades.
    let comment = |body: &str| Comment {
        body: body.into(),
        ..Default::default()
    };
    let mut hello = Post {
        title: "hello".into(),
        ..Default::default()
    };
    hello.comments = Related::loaded(vec![comment("a"), comment("b"), comment("c")]);
    let mut second = Post {
        title: "second".into(),
        ..Default::default()
    };
    second.comments = Related::loaded(vec![comment("d")]);
    let mut writer = Author {
        name: "Ann".into(),
        ..Default::default()
    };
    writer.posts = Related::loaded(vec![hello, second]);
    s.add(writer);
    s.commit().await?;
    let mut s = db.session();
    let post = s
        .one(
            select::<Post>()
                .filter(Post::title.eq("hello"))
                .load(Post::comments.selectin()),
        )
        .await?;
    let author_id = post.read().author_id;
    let author = s.get::<Author>(author_id).await?.unwrap();

    let comments = s.related(&post, Post::comments)?;
    s.remove(&post, Post::comments, &comments[0])?;
    let before = db.statement_count();
    s.flush().await?;
    assert_eq!(db.statement_count() - before, 1, "the orphan's DELETE");
    s.delete(&post)?;
    let before = db.statement_count();
    s.flush().await?;
    assert_eq!(
        db.statement_count() - before,
        2,
        "DELETE comments, DELETE post"
    );
    s.delete(&author)?;
    let before = db.statement_count();
    s.flush().await?;
    assert_eq!(db.statement_count() - before, 1, "passive: one DELETE");
    s.commit().await?;
    assert_eq!(count(db, "SELECT count(*) FROM post").await?, 0);
    assert_eq!(count(db, "SELECT count(*) FROM comment").await?, 0);

    // Transactions.
    let mut s = db.session_with(
        SessionOptions::default()
            .isolation(IsolationLevel::RepeatableRead)
            .autoflush(false)
            .expire_on_commit(false),
    );
    let jane = s
        .one(select::<User>().filter(User::name.eq("Jane Doe")))
        .await?;
    jane.write().name = "Oops".into();
    s.rollback().await?;
    assert_eq!(jane.read().name, "Jane Doe");
    s.begin_nested().await?;
    jane.write().name = "Jane D.".into();
    s.rollback_nested().await?;
    assert_eq!(jane.read().name, "Jane Doe");
    s.nested(|s| {
        async move {
            s.add(User {
                name: "Ann".into(),
                ..Default::default()
            });
            Ok(())
        }
        .scoped()
    })
    .await?;
    s.commit().await?;
    assert_eq!(
        count(
            db,
            "SELECT count(*) FROM users WHERE name IN ('Ann', 'Jane Doe')"
        )
        .await?,
        2
    );

    // Optimistic concurrency, errors, retries.
    let mut seed = db.session();
    seed.add(Account {
        owner: "ann".into(),
        balance: 100,
        ..Default::default()
    });
    seed.commit().await?;

    let mut s = db.session();
    let acc = s
        .one(select::<Account>().filter(Account::owner.eq("ann")))
        .await?;
    let mut other = db.session();
    let theirs = other
        .one(select::<Account>().filter(Account::owner.eq("ann")))
        .await?;
    theirs.write().balance += 1;
    other.commit().await?;
    acc.write().balance += 10;
    let err = s.commit().await.unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::StaleData {
            operation: "UPDATE",
            ..
        }
    ));
    assert!(s.flush().await.unwrap_err().is_pending_rollback());
    s.rollback().await?;
    assert!(acc.is_expired(), "rollback expires");

    db.retry(RetryPolicy::attempts(5), |s| {
        async move {
            let acc = s
                .one(select::<Account>().filter(Account::owner.eq("ann")))
                .await?;
            acc.write().balance += 10;
            Ok(())
        }
        .scoped()
    })
    .await?;
    assert_eq!(
        count(
            db,
            "SELECT count(*) FROM accounts WHERE balance = 111 AND version = 3"
        )
        .await?,
        1
    );
    assert_eq!(
        count(db, "SELECT count(*) FROM audit").await?,
        2,
        "after_update added an audit row per balance change"
    );

    // Hooks and validators.
    let bad = s.add(Account {
        owner: "bob".into(),
        balance: -5,
        ..Default::default()
    });
    let before = db.statement_count();
    assert!(s.flush().await.unwrap_err().is_validation());
    assert_eq!(db.statement_count(), before, "no SQL");
    s.expunge(&bad).unwrap();

    s.on_before_flush(|_uow| Ok(()));
    s.on_after_commit(|| println!("committed"));
    let acc = s
        .one(select::<Account>().filter(Account::owner.eq("ann")))
        .await?;
    acc.write().balance -= 11;
    s.commit().await?;
    assert_eq!(count(db, "SELECT count(*) FROM audit").await?, 3);
    assert_eq!(count(db, "SELECT count(*) FROM accounts").await?, 1);
    Ok(())
}

/// The flush SQL the README quotes.
#[test]
fn the_flush_sql_is_the_readme_s() {
    fn plan(uow: &mut UnitOfWork) -> Vec<Vec<String>> {
        let mut steps = Vec::new();
        let Some(mut plan) = uow.flush_begin().unwrap() else {
            return steps;
        };
        while let Some(step) = uow.flush_next(&mut plan).unwrap() {
            steps.push(step.jobs.iter().map(|j| j.query.sql.to_string()).collect());
            uow.flush_step_done(step).unwrap();
        }
        uow.flush_end(plan).unwrap();
        steps
    }
    let readme = include_str!("../../../../README.md");

    let mut uow = UnitOfWork::new();
    uow.add(Order {
        user_id: 1,
        total: 100,
        ..Default::default()
    });
    let insert = plan(&mut uow).concat();
    assert_eq!(insert.len(), 1);
    assert!(
        readme.contains(&format!("`{}`", insert[0])),
        "{}",
        insert[0]
    );

    let mut uow = UnitOfWork::new();
    let order = uow
        .register_loaded(Order {
            id: 1,
            user_id: 1,
            total: 100,
            ..Default::default()
        })
        .unwrap();
    order.write().total += 20;
    let update = plan(&mut uow).concat();
    assert_eq!(update.len(), 1);
    assert!(
        readme.contains(&format!("`{}`", update[0])),
        "{}",
        update[0]
    );
}
