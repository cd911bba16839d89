//! EXPLAIN on builder statements, with their real parameters: the typed plan tree, the text
//! plan, ANALYZE of a write rolled back, and the plan assertions a test pins plans with.

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_postgres::{Executor, ExplainOptions};
use orm_tests::{Order, User};

use crate::users_db;

/// `users` with 5000 rows and fresh statistics, so the planner prefers the indexes.
async fn populated() -> orm_testing::TestDatabase {
    let t = users_db().await;
    t.batch_execute(
        "INSERT INTO users (name, email, age) \
         SELECT 'u' || g, 'u' || g || '@x', g % 90 FROM generate_series(1, 5000) g; \
         ANALYZE users",
    )
    .await
    .expect("rows");
    t
}

#[tokio::test]
async fn a_lookup_by_a_unique_column_uses_its_index_with_the_real_value() {
    let t = populated().await;
    let plan = t
        .explain(select::<User>().filter(User::name.eq("u42".to_string())))
        .await
        .expect("explain");
    plan.assert_uses_index("users_name_key");
    plan.assert_no_seq_scan("users");
    let scan = plan
        .nodes()
        .into_iter()
        .find(|n| n.index.as_deref() == Some("users_name_key"))
        .expect("the index scan");
    assert_eq!(scan.relation.as_deref(), Some("users"));
    // Planned with the bound value, not a generic `$1`.
    assert_eq!(
        scan.index_cond.as_deref(),
        Some("((name)::text = 'u42'::text)")
    );
    assert!(plan.execution_ms.is_none(), "not run without ANALYZE");
    let text = plan.text();
    assert!(
        text.starts_with("Index Scan using users_name_key on users"),
        "{text}"
    );
}

#[tokio::test]
async fn a_scan_of_the_whole_table_is_seen_and_the_assertion_fails_loudly() {
    let t = populated().await;
    let plan = t
        .explain(select::<User>().filter(User::age.gt(10)))
        .await
        .expect("explain");
    assert_eq!(plan.seq_scans(), vec!["users"]);
    assert!(!plan.uses_index("users_name_key"));
    let panic = std::panic::catch_unwind(|| plan.assert_no_seq_scan("users"))
        .expect_err("a sequential scan");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message
            .starts_with("expected no sequential scan of users, the plan is:\nSeq Scan on users"),
        "{message}"
    );
}

#[tokio::test]
async fn explain_analyze_of_a_write_reports_actual_rows_and_changes_nothing() {
    let t = populated().await;
    let doomed: i64 = t
        .fetch_one(query::<i64>("SELECT count(*) FROM users WHERE age < 45"))
        .await
        .expect("count");
    let plan = t
        .explain_analyze(delete::<User>().filter(User::age.lt(45)))
        .await
        .expect("explain analyze");
    assert_eq!(plan.root.node_type, "ModifyTable");
    assert_eq!(plan.root.operation.as_deref(), Some("Delete"));
    assert!(
        plan.text().starts_with("Delete on users"),
        "{}",
        plan.text()
    );
    let scan = &plan.root.children[0];
    assert_eq!(scan.actual_rows, Some(doomed as f64));
    assert!(scan.shared_hit_blocks.is_some(), "BUFFERS reported");
    assert!(plan.execution_ms.is_some() && plan.planning_ms.is_some());
    let left: i64 = t
        .fetch_one(query::<i64>("SELECT count(*) FROM users"))
        .await
        .expect("count");
    assert_eq!(left, 5000, "the delete was rolled back");
}

#[tokio::test]
async fn the_text_plan_is_the_servers_own_and_joins_have_children() {
    let t = populated().await;
    t.batch_execute("INSERT INTO orders (user_id, total) SELECT id, 10 FROM users; ANALYZE orders")
        .await
        .expect("orders");
    let join = select::<User>()
        .join::<Order>(Order::user_id.eq(User::id))
        .filter(User::name.eq("u7".to_string()))
        .columns((User::name, Order::total));
    let plan = t.explain(&join).await.expect("explain");
    assert!(
        plan.root.children.len() >= 2 || plan.nodes().len() >= 3,
        "{}",
        plan.text()
    );
    assert!(plan.uses_index("users_name_key"), "{}", plan.text());
    let lines = t
        .explain_text(&join, ExplainOptions::new().without_costs())
        .await
        .expect("text");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Index Scan using users_name_key on users")),
        "{lines:?}"
    );
    assert!(lines.iter().all(|l| !l.contains("cost=")), "{lines:?}");
}

/// Authors write books, books get reviews; `books.author_id` is indexed, `reviews.book_id` not.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "authors")]
pub struct Author {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    #[relationship(has_many = Book, foreign_key = "author_id", order_by = "id")]
    pub books: Related<Vec<Book>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "books")]
pub struct Book {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "authors.id", index)]
    pub author_id: i64,
    pub title: String,
    #[relationship(has_many = Review, foreign_key = "book_id", order_by = "id")]
    pub reviews: Related<Vec<Review>>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "reviews")]
pub struct Review {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "books.id")]
    pub book_id: i64,
    pub stars: i32,
}

/// 2000 authors with 10 books each, one review per book, fresh statistics.
async fn library() -> orm_testing::TestDatabase {
    let t = orm_testing::test_database().await.expect("test database");
    t.db.create_all(&[Author::TABLE, Book::TABLE, Review::TABLE])
        .await
        .expect("create_all");
    t.batch_execute(
        "INSERT INTO authors (name) SELECT 'a' || g FROM generate_series(1, 2000) g; \
         INSERT INTO books (author_id, title) SELECT a.id, 'b' || g FROM authors a, generate_series(1, 10) g; \
         INSERT INTO reviews (book_id, stars) SELECT id, id % 5 FROM books; \
         ANALYZE authors; ANALYZE books; ANALYZE reviews",
    )
    .await
    .expect("rows");
    t
}

#[tokio::test]
async fn the_statements_of_nested_loads_are_explained_with_the_keys_they_were_sent_with() {
    let t = library().await;
    let q = || {
        select::<Author>()
            .filter(Author::id.lt(4))
            .order_by(Author::id)
            .load(Author::books.selectin().load(Book::reviews.selectin()))
    };
    let plans = t.explain_loads(q()).await.expect("explain loads");
    // The parent query: the authors' primary key.
    plans.query.assert_uses_index("authors_pkey");
    assert_eq!(plans.query.root.relation.as_deref(), Some("authors"));
    // One statement per level, in the order sent.
    assert_eq!(plans.loads.len(), 2, "{:#?}", plans.loads);
    let books = &plans.loads[0];
    assert!(
        books.sql.contains("FROM \"books\"") && books.sql.contains("= ANY($1)"),
        "{}",
        books.sql
    );
    assert_eq!(plans.load_of("books"), Some(books));
    books.plan.assert_uses_index("ix_books_author_id");
    let scan = books
        .plan
        .nodes()
        .into_iter()
        .find(|n| n.index.as_deref() == Some("ix_books_author_id"))
        .expect("the index scan");
    assert!(
        scan.node_type == "Index Scan" || scan.node_type == "Bitmap Index Scan",
        "{}",
        books.plan.text()
    );
    // Planned for the three authors the parent query found.
    assert_eq!(
        scan.index_cond.as_deref(),
        Some("(author_id = ANY ('{1,2,3}'::bigint[]))"),
        "{}",
        books.plan.text()
    );
    assert!(
        books
            .plan
            .nodes()
            .iter()
            .any(|n| n.relation.as_deref() == Some("books")),
        "{}",
        books.plan.text()
    );
    // The reviews have no index on book_id: the nested load scans the table, for the 30
    // books the first load found.
    let reviews = plans.load_of("reviews").expect("the reviews' load");
    assert_eq!(reviews.plan.seq_scans(), vec!["reviews"]);
    let filter = reviews
        .plan
        .nodes()
        .into_iter()
        .find_map(|n| n.filter.clone())
        .expect("a filter on book_id");
    let mut sent: Vec<i64> = filter
        .strip_prefix("(book_id = ANY ('{")
        .and_then(|f| f.strip_suffix("}'::bigint[]))"))
        .unwrap_or_else(|| panic!("{filter}"))
        .split(',')
        .map(|k| k.parse().expect("a key"))
        .collect();
    sent.sort_unstable();
    let found: Vec<i64> = t
        .fetch_all(query::<i64>(
            "SELECT id FROM books WHERE author_id < 4 ORDER BY id",
        ))
        .await
        .expect("book ids");
    assert_eq!(sent, found);
    assert_eq!(sent.len(), 30);
    let panic = std::panic::catch_unwind(|| plans.assert_no_seq_scan("reviews"))
        .expect_err("the reviews are scanned");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("Seq Scan on reviews"), "{message}");
    plans.assert_no_seq_scan("books");

    // ANALYZE: actual rows of each load.
    let analyzed = t
        .explain_loads_with(q(), ExplainOptions::new().analyze())
        .await
        .expect("explain analyze loads");
    assert_eq!(analyzed.plans().count(), 3);
    assert_eq!(analyzed.query.root.actual_rows, Some(3.0));
    assert_eq!(analyzed.loads[0].plan.root.actual_rows, Some(30.0));
    assert_eq!(analyzed.loads[1].plan.root.actual_rows, Some(30.0));
}

#[tokio::test]
async fn a_query_without_loads_has_only_its_own_plan() {
    let t = library().await;
    let plans = t
        .explain_loads(select::<Author>().filter(Author::id.eq(5)))
        .await
        .expect("explain");
    assert!(plans.loads.is_empty());
    plans.query.assert_uses_index("authors_pkey");
    // No parent rows: the loads send nothing.
    let none = t
        .explain_loads(
            select::<Author>()
                .filter(Author::id.lt(0))
                .load(Author::books.selectin()),
        )
        .await
        .expect("explain");
    assert!(none.loads.is_empty(), "{:#?}", none.loads);
}
