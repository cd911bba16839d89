//! Column properties (`#[model(column_property = path)]`): read-only fields loaded from an SQL
//! expression (here correlated subqueries), selected with the model everywhere it is loaded,
//! never written and not columns of the table.

use orm_postgres::prelude::*;
use orm_testing::{TestDatabase, test_database};

/// A customer, with the number of its orders and their sum loaded by the query.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "cp_customer")]
pub struct Customer {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    #[model(column_property = Customer::order_count_expr)]
    pub order_count: i64,
    #[model(column_property = Customer::spent_expr)]
    pub spent: Option<i64>,
    #[relationship(has_many = Purchase, foreign_key = "customer_id")]
    pub purchases: Related<Vec<Purchase>>,
}

impl Customer {
    /// `(SELECT count(*) FROM cp_purchase WHERE customer_id = cp_customer.id)`.
    pub fn order_count_expr() -> Expr<i64> {
        func::coalesce(
            select::<Purchase>()
                .filter(Purchase::customer_id.eq(Customer::id))
                .columns(func::count_all())
                .scalar(),
            0_i64,
        )
    }

    /// The sum of the customer's purchases (`NULL` without any).
    pub fn spent_expr() -> Expr<Option<i64>> {
        select::<Purchase>()
            .filter(Purchase::customer_id.eq(Customer::id))
            .columns(func::sum(Purchase::amount))
            .scalar()
    }
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "cp_purchase")]
pub struct Purchase {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "cp_customer.id")]
    pub customer_id: i64,
    pub amount: i32,
    #[relationship(belongs_to = Customer, foreign_key = "customer_id")]
    pub customer: Related<Customer>,
}

async fn db() -> TestDatabase {
    let t = test_database().await.expect("test database");
    t.create_all(&[Customer::TABLE, Purchase::TABLE])
        .await
        .expect("create_all");
    t
}

fn customer(name: &str) -> Customer {
    Customer {
        name: name.into(),
        ..Customer::default()
    }
}

#[tokio::test]
async fn not_a_column_of_the_table() {
    let ddl = orm_postgres::ddl::create_table(Customer::TABLE).unwrap();
    assert!(!ddl[0].contains("order_count"), "{}", ddl[0]);
    let names: Vec<&str> = Customer::TABLE.columns.iter().map(|c| c.name).collect();
    assert_eq!(names, ["id", "name"]);
    let q = insert(&customer("x")).compile().unwrap();
    assert!(
        q.sql.starts_with(r#"INSERT INTO "cp_customer" ("name") VALUES ($1) RETURNING "cp_customer"."id", "cp_customer"."name", coalesce((SELECT count(*) FROM "cp_purchase""#),
        "{}",
        q.sql
    );
}

#[tokio::test]
async fn queries_loaders_and_the_session_load_them() {
    let t = db().await;
    let [ann, bob]: [Customer; 2] = t
        .fetch_all(insert_many(&[customer("ann"), customer("bob")]))
        .await
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!((ann.order_count, ann.spent), (0, None));
    for amount in [5, 7] {
        t.execute(insert(&Purchase {
            customer_id: ann.id,
            amount,
            ..Purchase::default()
        }))
        .await
        .unwrap();
    }
    let q = select::<Customer>().order_by(Customer::name);
    assert_eq!(
        q.compile().unwrap().sql,
        r#"SELECT "cp_customer"."id", "cp_customer"."name", coalesce((SELECT count(*) FROM "cp_purchase" WHERE "cp_purchase"."customer_id" = "cp_customer"."id"), $1), (SELECT sum("cp_purchase"."amount") FROM "cp_purchase" WHERE "cp_purchase"."customer_id" = "cp_customer"."id") FROM "cp_customer" ORDER BY "cp_customer"."name""#
    );
    let all = t.fetch_all(q).await.unwrap();
    let got: Vec<(&str, i64, Option<i64>)> = all
        .iter()
        .map(|c| (c.name.as_str(), c.order_count, c.spent))
        .collect();
    assert_eq!(got, [("ann", 2, Some(12)), ("bob", 0, None)]);

    // The expression works in filters and ordering too: it is an ordinary `Expr`.
    let busy: Vec<String> = t
        .fetch_all(
            select::<Customer>()
                .filter(Customer::order_count_expr().gt(1))
                .columns(Customer::name),
        )
        .await
        .unwrap();
    assert_eq!(busy, ["ann"]);

    // Loaders select it with the model.
    let purchases = t
        .fetch_all(select::<Purchase>().load(Purchase::customer.selectin()))
        .await
        .unwrap();
    assert_eq!(purchases.len(), 2);
    for p in &purchases {
        assert_eq!(p.customer.get().unwrap().order_count, 2);
    }
    // A joined load reads the target under an alias, which the property's expression does not
    // know: refused before anything is sent, naming the problem.
    let err = t
        .fetch_all(select::<Purchase>().load(Purchase::customer.joined()))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(
            r#"column "cp_customer"."id" refers to "cp_customer", which is not in the FROM"#
        ),
        "{err}"
    );

    // COPY cannot compute it: refused, naming the property.
    let err = t.copy_out::<Customer>().await.err().expect("refused");
    assert!(
        err.to_string()
            .contains("`Customer.order_count` is a column property"),
        "{err}"
    );

    // The session loads it, never writes it, and a refresh reloads it.
    let mut s = t.session();
    let b = s.get::<Customer>(bob.id).await.unwrap().unwrap();
    assert_eq!(b.read().order_count, 0);
    b.write().order_count = 99;
    let log = t.statement_log();
    s.flush().await.unwrap();
    assert!(log.finish().is_empty(), "a property is not a change");
    s.add(Purchase {
        customer_id: bob.id,
        amount: 1,
        ..Purchase::default()
    });
    s.flush().await.unwrap();
    s.refresh(&b).await.unwrap();
    assert_eq!((b.read().order_count, b.read().spent), (1, Some(1)));
    s.commit().await.unwrap();

    // `merge` of a detached copy loads the row (with its properties: this failed to decode
    // before) and copies the copy's fields onto it, as SQLAlchemy's does; the flush writes the
    // columns only, and a refresh recomputes the property.
    let mut s = t.session();
    let detached = Customer {
        name: "ann, merged".into(),
        order_count: -1,
        ..ann.clone()
    };
    let merged = s.merge(detached).await.unwrap();
    assert_eq!(merged.read().name, "ann, merged");
    let log = t.statement_log();
    s.flush().await.unwrap();
    let sql = log.finish();
    assert_eq!(sql.len(), 1, "{sql:?}");
    assert!(
        sql[0].starts_with(r#"UPDATE "cp_customer" SET "name" = "#),
        "{}",
        sql[0]
    );
    s.refresh(&merged).await.unwrap();
    assert_eq!(merged.read().order_count, 2);
    s.commit().await.unwrap();
}
