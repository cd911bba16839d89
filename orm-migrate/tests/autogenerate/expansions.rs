//! Autogenerate between an expand and its contract, through the library: the models move to
//! the new column; a diff that knows the open expansion (`Migrator::open_expansions` into
//! `DiffOptions::expansions`) keeps the old column the sync trigger reads, and says so; once
//! the contract is applied, nothing is left to do.

use orm_migrate::Target;
use orm_migrate::diff::{DiffOptions, diff};
use orm_migrate::expand::{ColumnChange, ColumnPath};
use orm_migrate::model_schema::schema_of;
use orm_migrate::{Graph, Migrator, Revision};
use orm_postgres::Model as _;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

use super::schema_of_db;

mod before {
    use orm_postgres::prelude::*;

    #[derive(Model, Debug)]
    #[model(table = "accounts")]
    pub struct Account {
        #[model(primary_key, generated)]
        pub id: i64,
        #[model(default = "0", index)]
        pub balance_cents: i32,
    }
}

mod after {
    use orm_postgres::prelude::*;

    #[derive(Model, Debug)]
    #[model(table = "accounts")]
    pub struct Account {
        #[model(primary_key, generated)]
        pub id: i64,
        #[model(default = "0", index)]
        pub balance: i32,
    }
}

fn id(n: u32) -> String {
    format!("202601010000{n:02}")
}

fn migrator(revisions: &[Revision]) -> Migrator {
    Migrator::new(Graph::new(revisions.to_vec()).expect("graph")).lint(false)
}

#[tokio::test]
async fn an_open_expand_keeps_its_old_column_until_the_contract() {
    let t = test_database().await.expect("db");
    let models = |table| {
        let options = DiffOptions {
            models: true,
            ..DiffOptions::default()
        };
        (options, schema_of(&[table], "public"))
    };
    let (options, first) = models(before::Account::TABLE);
    let m = diff(&schema_of_db(&t).await, &first, &options);
    let mut revisions = vec![
        Revision::new(id(1), "accounts")
            .with_up(m.up_sql())
            .with_down(m.down_sql()),
    ];
    migrator(&revisions)
        .upgrade(&t, &Target::Heads)
        .await
        .expect("upgrade");
    t.batch_execute("INSERT INTO accounts (balance_cents) SELECT g FROM generate_series(1, 20) g")
        .await
        .expect("rows");

    let change = ColumnChange::new(
        &schema_of_db(&t).await,
        &ColumnPath::parse("accounts.balance_cents").expect("path"),
        "balance",
    )
    .expect("a change");
    let (expand, _) = change.expand_revision(&id(2), "rename").expect("expand");
    revisions.push(expand.with_parents([id(1)]));
    let m = migrator(&revisions);
    assert!(
        m.open_expansions(&t).await.expect("phases").is_empty(),
        "pending"
    );
    m.upgrade(&t, &Target::Heads).await.expect("expand");

    // The models name `balance` only.
    let (options, second) = models(after::Account::TABLE);
    let db = schema_of_db(&t).await;
    let blind = diff(&db, &second, &options);
    assert!(
        blind
            .up_sql()
            .contains("ALTER TABLE public.accounts DROP COLUMN balance_cents;"),
        "a diff that knows nothing of the expand drops the old column:\n{}",
        blind.up_sql()
    );
    let open = m.open_expansions(&t).await.expect("phases");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].expand, id(2));
    assert_eq!(open[0].contract, None);
    let options = DiffOptions {
        expansions: open,
        ..options
    };
    let held = diff(&db, &second, &options);
    assert!(held.is_empty(), "{}", held.up_sql());
    assert_eq!(
        held.warnings,
        [format!(
            "expand {} (public.accounts.balance_cents -> balance) is open: until its contract, \
             column balance_cents is kept, index ix_accounts_balance_cents is kept, column \
             balance keeps its default as the expand made it; once nothing reads \
             balance_cents any more, write its contract: `revision --contract {}`",
            id(2),
            id(2)
        )]
    );

    // The contract, applied: the models and the database agree, and nothing is held.
    let (contract, _) = ColumnChange::from_expand(&schema_of_db(&t).await, &revisions[1])
        .expect("from the expand")
        .contract_revision(&id(3), "contract", &id(2))
        .expect("contract");
    revisions.push(contract.with_parents([id(2)]));
    let m = migrator(&revisions);
    m.upgrade(&t, &Target::Heads).await.expect("contract");
    let options = DiffOptions {
        expansions: m.open_expansions(&t).await.expect("phases"),
        ..options
    };
    assert!(options.expansions.is_empty());
    let after = diff(&schema_of_db(&t).await, &second, &options);
    assert!(after.is_empty(), "{}", after.up_sql());
    assert!(after.warnings.is_empty(), "{:?}", after.warnings);
    let n: i64 = t
        .fetch_one(query::<i64>("SELECT sum(balance)::bigint FROM accounts"))
        .await
        .expect("sum");
    assert_eq!(n, 20 * 21 / 2);
}
