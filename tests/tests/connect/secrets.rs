//! No output path shows a password: `Debug` of the builder, the database and the errors of a
//! failed connection, and everything traced while connecting (captured by a subscriber).
//! Passwords also come from `.pgpass`, with libpq's permission rule.

use std::path::Path;

use orm_postgres::prelude::*;
use orm_postgres::raw::query;

use crate::capture::Recording;
use crate::server::{PASSWORD, PASSWORD_ROLE, tls_server};
use crate::urls::encode;

/// A wrong password that must never show up either.
const WRONG: &str = "wr0ng-Secret-42";

fn assert_hidden(what: &str, text: &str) {
    for secret in [PASSWORD, WRONG, &encode(PASSWORD), "p@ss"] {
        assert!(!text.contains(secret), "{what} shows a password: {text}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn no_output_shows_a_password() {
    let s = tls_server();
    let recording = Recording::start();
    let port = s.cluster.port();
    let wrong =
        format!("postgres://{PASSWORD_ROLE}:{WRONG}@127.0.0.1:{port}/postgres?sslpassword={WRONG}");
    let builder = Database::builder(&wrong).max_connections(1);
    assert_hidden("Debug of the builder", &format!("{builder:?} {builder:#?}"));
    let db = builder.clone().build().unwrap();
    assert_hidden("Debug of the database", &format!("{db:?} {db:#?}"));
    let err = builder.connect().await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("28P01"), "{err}");
    assert_hidden("the connect error", &format!("{err} {err:?} {err:#?}"));

    // The right password, from the URL and from the builder: connected, and still not shown.
    let right = format!(
        "postgres://{PASSWORD_ROLE}:{}@127.0.0.1:{port}/postgres",
        encode(PASSWORD)
    );
    let db = Database::builder(&right)
        .max_connections(1)
        .connect()
        .await
        .unwrap();
    db.fetch_one(query::<i32>("SELECT 1")).await.unwrap();
    assert_hidden("Debug of a connected database", &format!("{db:?}"));
    let db = Database::builder(format!(
        "host=127.0.0.1 port={port} user={PASSWORD_ROLE} dbname=postgres"
    ))
    .password(PASSWORD)
    .max_connections(1)
    .connect()
    .await
    .unwrap();
    db.fetch_one(query::<i32>("SELECT 1")).await.unwrap();
    let text = recording.text();
    assert!(
        text.contains("connect"),
        "the subscriber saw the connections: {text}"
    );
    assert_hidden("tracing output", &text);
}

fn passfile(dir: &Path, contents: &str, mode: u32) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(format!("pgpass-{mode:o}"));
    std::fs::write(&path, contents).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

#[tokio::test(flavor = "current_thread")]
async fn pgpass_supplies_the_password_unless_others_can_read_it() {
    let s = tls_server();
    let port = s.cluster.port();
    let escaped = PASSWORD.replace('\\', "\\\\").replace(':', "\\:");
    let lines = format!(
        "# the test's own\n127.0.0.1:{port}:nope:*:wrong\n*:{port}:*:{PASSWORD_ROLE}:{escaped}\n"
    );
    let dir = s.cluster.data_dir();
    let url = |file: &Path| {
        format!(
            "postgres://{PASSWORD_ROLE}@127.0.0.1:{port}/postgres?passfile={}",
            file.display()
        )
    };
    let good = passfile(dir, &lines, 0o600);
    let db = Database::builder(url(&good))
        .max_connections(1)
        .connect()
        .await
        .unwrap();
    let user: String = db
        .fetch_one(query::<String>("SELECT current_user::text"))
        .await
        .unwrap();
    assert_eq!(user, PASSWORD_ROLE);

    // Readable by others: ignored with a warning (as libpq does), so no password is sent.
    let recording = Recording::start();
    let open = passfile(dir, &lines, 0o644);
    let err = Database::builder(url(&open))
        .max_connections(1)
        .connect()
        .await
        .unwrap_err();
    assert!(
        matches!(err.sqlstate(), Some("28P01") | Some("08004"))
            || err.to_string().contains("password"),
        "{err}"
    );
    let text = recording.text();
    assert!(text.contains("has group or world access"), "{text}");
    assert_hidden("the warning", &text);
}
