//! Autogenerate while an expand/contract is open: after `revision --expand` is applied and
//! before its contract, models that name only the new column must not drop the old one (the
//! sync trigger reads it: every write would fail), nor give the new column the default the
//! contract gives it; the diff says so, naming the expand. Once the contract is applied, the
//! database matches the models.

use orm_migrate::cli::{EXIT_OK, Models, run_async};
use orm_migrate::{Graph, Revision, files};
use orm_postgres::Model as _;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

use crate::*;

/// The release before the move: `balance_cents`.
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

/// The release after it: `balance` only.
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

/// The release after it, with a column more.
mod later {
    use orm_postgres::prelude::*;

    #[derive(Model, Debug)]
    #[model(table = "accounts")]
    pub struct Account {
        #[model(primary_key, generated)]
        pub id: i64,
        #[model(default = "0", index)]
        pub balance: i32,
        pub note: Option<String>,
    }
}

/// Every revision under `dir`.
fn revisions(dir: &std::path::Path) -> Vec<Revision> {
    let graph = Graph::new(files::read_dir(dir).expect("reads")).expect("a graph");
    graph.revisions().to_vec()
}

#[tokio::test]
async fn autogenerate_keeps_what_an_open_expand_needs_until_its_contract() {
    let t = test_database().await.expect("db");
    let tmp = TempDir::new();
    let dir = tmp.migrations();
    let args = |cmd: &[&str]| args_for(&dir, &t, cmd);
    let before = Models::new(&[before::Account::TABLE]);
    let after = Models::new(&[after::Account::TABLE]);
    let later = Models::new(&[later::Account::TABLE]);
    let generate = |m: &str| args(&["revision", "-m", m, "--autogenerate"]);

    assert_eq!(run_async(args(&["init"]), Some(&before)).await, EXIT_OK);
    assert_eq!(
        run_async(generate("accounts"), Some(&before)).await,
        EXIT_OK
    );
    assert_eq!(run_async(args(&["upgrade"]), Some(&before)).await, EXIT_OK);
    t.batch_execute("INSERT INTO accounts (balance_cents) SELECT g FROM generate_series(1, 50) g")
        .await
        .expect("rows");

    // The expand, applied.
    let expand = args(&["revision", "--expand", "accounts.balance_cents:balance"]);
    assert_eq!(run_async(expand, Some(&before)).await, EXIT_OK);
    let expand_id = revisions(&dir)
        .into_iter()
        .find(|r| r.phase.expand.is_some())
        .expect("the expand revision")
        .id;
    assert_eq!(run_async(args(&["upgrade"]), Some(&before)).await, EXIT_OK);
    let written = revisions(&dir).len();

    // The models move to `balance`: nothing to write, nothing to report as drift.
    assert_eq!(run_async(generate("rename"), Some(&after)).await, EXIT_OK);
    for r in revisions(&dir) {
        assert!(
            !r.up.contains("DROP COLUMN balance_cents"),
            "{} drops the column the sync trigger reads:\n{}",
            r.id,
            r.up
        );
    }
    assert_eq!(revisions(&dir).len(), written, "no revision written");
    assert_eq!(run_async(args(&["check"]), Some(&after)).await, EXIT_OK);

    // A change besides: its revision keeps the old column, and says why.
    assert_eq!(run_async(generate("note"), Some(&later)).await, EXIT_OK);
    let fresh: Vec<Revision> = revisions(&dir)
        .into_iter()
        .filter(|r| r.message == "note")
        .collect();
    assert_eq!(fresh.len(), 1, "{fresh:?}");
    let up = &fresh[0].up;
    assert!(
        up.contains("ALTER TABLE public.accounts ADD COLUMN note text;"),
        "{up}"
    );
    assert!(
        !up.contains("balance_cents\n") && !up.contains("DROP COLUMN"),
        "{up}"
    );
    assert!(
        !up.contains("SET DEFAULT"),
        "the contract gives balance its default:\n{up}"
    );
    assert!(
        up.contains(&format!("-- WARNING: expand {expand_id} ")),
        "{up}"
    );
    assert!(
        up.contains(&format!("`revision --contract {expand_id}`")),
        "{up}"
    );
    assert_eq!(run_async(args(&["upgrade"]), Some(&later)).await, EXIT_OK);

    // Both releases still write.
    t.batch_execute(
        "INSERT INTO accounts (balance_cents) VALUES (7); INSERT INTO accounts (balance) VALUES (8);",
    )
    .await
    .expect("writes through either column");
    let synced: i64 = t
        .fetch_one(query::<i64>(
            "SELECT count(*) FROM accounts WHERE balance = balance_cents",
        ))
        .await
        .expect("count");
    assert_eq!(synced, 52);

    // The contract, applied: the database is what the models say, the warning gone.
    let contract = args(&["revision", "--contract", &expand_id]);
    assert_eq!(run_async(contract, Some(&later)).await, EXIT_OK);
    assert_eq!(run_async(args(&["upgrade"]), Some(&later)).await, EXIT_OK);
    let written = revisions(&dir).len();
    assert_eq!(run_async(generate("nothing"), Some(&later)).await, EXIT_OK);
    assert_eq!(revisions(&dir).len(), written, "no revision written");
    assert_eq!(run_async(args(&["check"]), Some(&later)).await, EXIT_OK);
    let default: Option<String> = t
        .fetch_one(query::<Option<String>>(
            "SELECT column_default::text FROM information_schema.columns \
             WHERE table_name = 'accounts' AND column_name = 'balance'",
        ))
        .await
        .expect("default");
    assert_eq!(default.as_deref(), Some("0"));
}
