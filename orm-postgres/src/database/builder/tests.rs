//! Building a database: which setting wins, where the password comes from, and that no
//! `Debug` output shows it. (No server: `build` does not connect.)

#[cfg(feature = "tls")]
use std::path::PathBuf;

use super::DatabaseBuilder;
#[cfg(feature = "tls")]
use crate::SslMode;
use crate::config::MapEnv as TestEnv;
use crate::{ConfigError, Database, MAX_CONNECTIONS};

fn env(vars: &[(&'static str, &str)]) -> TestEnv {
    TestEnv::of(vars)
}

/// The configuration error of building `b` in `e`.
fn refused(b: DatabaseBuilder, e: &TestEnv) -> ConfigError {
    match b.build_in(e) {
        Ok(db) => panic!("built: {db:?}"),
        Err(err) => ConfigError::of(&err)
            .unwrap_or_else(|| panic!("not a configuration error: {err}"))
            .clone(),
    }
}

fn build(b: DatabaseBuilder, e: &TestEnv) -> Database {
    b.build_in(e).unwrap_or_else(|err| panic!("{err}"))
}

/// The password the driver would receive.
fn password_of(b: DatabaseBuilder, e: &TestEnv) -> Option<String> {
    let connector = b.connector(e).unwrap_or_else(|err| panic!("{err}"));
    connector.password.map(|p| p.expose().to_owned())
}

#[test]
fn the_builder_password_wins_over_the_url_and_pgpassword() {
    let e = env(&[("PGPASSWORD", "from-env")]);
    let b = Database::builder("postgres://u:from-url@h/d");
    assert_eq!(
        password_of(b.clone().password("from-builder"), &e).as_deref(),
        Some("from-builder")
    );
    assert_eq!(password_of(b, &e).as_deref(), Some("from-url"));
    let b = Database::builder("postgres://u@h/d");
    assert_eq!(password_of(b.clone(), &e).as_deref(), Some("from-env"));
    assert_eq!(password_of(b, &env(&[])), None);
}

#[test]
fn libpq_variables_that_are_not_read_are_named() {
    let e = env(&[
        ("PGSSLMODE", "verify-full"),
        ("PGHOST", "db"),
        ("PGTZ", "UTC"),
        ("PGSERVICEFILE", "/etc/pg_service.conf"),
        ("PGPASSWORD", "read"),
    ]);
    assert_eq!(
        super::build::unread_variables(&e),
        ["PGSERVICEFILE", "PGTZ"]
    );
    assert!(super::build::unread_variables(&env(&[])).is_empty());
}

#[test]
fn libpq_variables_fill_what_the_url_leaves_unset() {
    let e = env(&[
        ("PGHOST", "env.example"),
        ("PGPORT", "6000"),
        ("PGUSER", "envuser"),
        ("PGDATABASE", "envdb"),
        ("USER", "login"),
    ]);
    let shown = |url: &str| format!("{:?}", build(Database::builder(url), &e));
    assert!(
        shown("").contains("envuser@env.example:6000/envdb"),
        "{}",
        shown("")
    );
    assert!(shown("postgres://u@h/d").contains("u@h:6000/d"));
    // The builder's dbname wins over both.
    let db = build(Database::builder("").dbname("mine"), &e);
    assert!(
        format!("{db:?}").contains("envuser@env.example:6000/mine"),
        "{db:?}"
    );
    // PGUSER wins over the login name.
    let db = build(Database::builder("host=h"), &env(&[("USER", "login")]));
    assert!(format!("{db:?}").contains("login@h:5432/login"), "{db:?}");
}

#[test]
fn unsupported_settings_from_the_environment_name_their_variable() {
    // PGSSLNEGOTIATION=direct with the default mode, prefer: refused after both are read.
    for (var, value) in [("PGSSLMODE", "allow"), ("PGSSLNEGOTIATION", "direct")] {
        let err = refused(Database::builder("host=h user=u"), &env(&[(var, value)]));
        assert!(
            matches!(&err, ConfigError::Unsupported { name, .. } if name == var),
            "{err}"
        );
    }
    // As libpq does not read a variable for a parameter its caller passes, a bad PGSSLMODE
    // or PGCONNECT_TIMEOUT does not matter when the builder sets the mode and the timeout.
    Database::builder("host=h user=u")
        .ssl_mode(crate::SslMode::Disable)
        .connect_timeout(std::time::Duration::from_secs(3))
        .build_in(&env(&[("PGSSLMODE", "allow"), ("PGCONNECT_TIMEOUT", "x")]))
        .expect("the builder's settings stand");
}

#[test]
fn the_environment_of_the_builder_is_the_one_read() {
    let db = Database::builder("dbname=shop")
        .environment(|name| match name {
            "PGHOST" => Some("db.internal".into()),
            "PGUSER" => Some("app".into()),
            _ => None,
        })
        .build()
        .expect("builds");
    assert!(
        format!("{db:?}").contains("app@db.internal:5432/shop"),
        "{db:?}"
    );
}

#[test]
fn the_user_defaults_to_the_login_name() {
    let db = build(Database::builder("host=h"), &env(&[("USER", "alice")]));
    assert!(format!("{db:?}").contains("alice@h:5432/alice"), "{db:?}");
    let err = Database::builder("host=h")
        .build_in(&env(&[]))
        .expect_err("fails");
    assert!(matches!(
        ConfigError::of(&err),
        Some(ConfigError::Setting { name: "user", .. })
    ));
}

#[test]
fn debug_output_never_shows_a_password() {
    let e = env(&[]);
    for b in [
        Database::builder("postgres://app:hunter2@db/app?sslpassword=hunter3"),
        Database::builder("host=db user=app password=hunter2 sslpassword='hunter3'"),
        Database::builder("postgres://app@db/app").password("hunter2"),
        Database::builder("postgres://app:hunter2@db/app?bad"),
    ] {
        let shown = format!("{b:?} {b:#?}");
        assert!(!shown.contains("hunter"), "{shown}");
        if let Ok(db) = b.build_in(&e) {
            let shown = format!("{db:?} {db:#?}");
            assert!(!shown.contains("hunter"), "{shown}");
        }
    }
    let b = Database::builder("postgres://app:hunter2@db/app");
    assert!(format!("{b:?}").contains("postgres://app:***@db/app"));
}

#[test]
fn configuration_errors_never_show_a_password() {
    let e = env(&[]);
    for url in [
        "postgres://app:hunter2@db:70000/app",
        "postgres://app:hunter2@db/app?sslmod=x",
        "postgres://app:hunter%zz2@db/app",
        "host=db password=hunter2 port=x",
        "host=db hunter2",
    ] {
        let err = Database::builder(url).build_in(&e).expect_err("fails");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("hunter"), "{url}: {shown}");
    }
}

#[cfg(feature = "tls")]
#[test]
fn builder_tls_settings_win_over_the_url() {
    let e = env(&[]);
    let b = Database::builder("postgres://u@h/d?sslmode=require").ssl_mode(SslMode::Disable);
    assert!(format!("{:?}", build(b, &e)).contains("sslmode=disable"));
    // verify-full needs a root certificate: none here.
    let err = Database::builder("postgres://u@h/d")
        .ssl_mode(SslMode::VerifyFull)
        .build_in(&e)
        .expect_err("fails");
    assert!(
        matches!(ConfigError::of(&err), Some(ConfigError::NoRootCert { .. })),
        "{err}"
    );
    let err = Database::builder("postgres://u@h/d?sslmode=verify-ca")
        .ssl_root_cert(PathBuf::from("/nonexistent/ca.pem"))
        .build_in(&e)
        .expect_err("fails");
    assert!(
        matches!(
            ConfigError::of(&err),
            Some(ConfigError::File {
                what: "sslrootcert",
                ..
            })
        ),
        "{err}"
    );
}

/// PGSSLMODE=verify-full is enforced: without a root certificate the database is not built,
/// and a missing PGSSLROOTCERT file is named by its variable.
#[cfg(feature = "tls")]
#[test]
fn pgsslmode_verify_full_needs_a_root_certificate() {
    let b = Database::builder("postgres://u@h/d");
    let err = refused(b.clone(), &env(&[("PGSSLMODE", "verify-full")]));
    assert!(matches!(err, ConfigError::NoRootCert { .. }), "{err}");
    let e = env(&[
        ("PGSSLMODE", "verify-full"),
        ("PGSSLROOTCERT", "/nonexistent/ca.pem"),
    ]);
    let err = refused(b, &e);
    assert!(
        matches!(
            err,
            ConfigError::File {
                what: "PGSSLROOTCERT",
                ..
            }
        ),
        "{err}"
    );
    // The URL's mode wins.
    let db = build(
        Database::builder("postgres://u@h/d?sslmode=require"),
        &env(&[("PGSSLMODE", "verify-full")]),
    );
    assert!(format!("{db:?}").contains("sslmode=require"), "{db:?}");
}

#[test]
fn direct_tls_negotiation_needs_a_mode_that_requires_tls() {
    let e = env(&[]);
    for url in [
        "postgres://u@h/d?sslnegotiation=direct",
        "postgres://u@h/d?sslnegotiation=direct&sslmode=prefer",
        "postgres://u@h/d?sslnegotiation=direct&sslmode=disable",
    ] {
        let err = Database::builder(url).build_in(&e).expect_err(url);
        assert!(
            matches!(
                ConfigError::of(&err),
                Some(ConfigError::Unsupported { name, .. }) if name == "sslnegotiation"
            ),
            "{url}: {err}"
        );
        assert!(err.to_string().contains("sslmode=require"), "{err}");
    }
    #[cfg(feature = "tls")]
    build(
        Database::builder("postgres://u@h/d?sslnegotiation=direct&sslmode=require"),
        &e,
    );
}

#[test]
fn pool_settings_are_checked() {
    let err = Database::builder("postgres://u@h/d")
        .max_connections(0)
        .build_in(&env(&[]))
        .expect_err("fails");
    assert_eq!(
        err.to_string(),
        "invalid configuration: max_connections must be at least 1"
    );
    // Not a panic, nor the process aborted by an allocation of the pool's slots.
    for n in [MAX_CONNECTIONS + 1, 100_000_000_000, usize::MAX] {
        let err = Database::builder("postgres://u@h/d")
            .max_connections(n)
            .build_in(&env(&[]))
            .expect_err("fails");
        assert_eq!(
            err.to_string(),
            "invalid configuration: max_connections must be at most 262143, the most PostgreSQL itself takes"
        );
    }
    Database::builder("postgres://u@h/d")
        .max_connections(MAX_CONNECTIONS)
        .build_in(&env(&[]))
        .expect("the most PostgreSQL takes builds");
}

#[cfg(not(feature = "tls"))]
#[test]
fn without_the_tls_feature_only_plain_modes_build() {
    let e = env(&[]);
    build(Database::builder("postgres://u@h/d?sslmode=prefer"), &e);
    let err = Database::builder("postgres://u@h/d?sslmode=require")
        .build_in(&e)
        .expect_err("fails");
    assert!(matches!(
        ConfigError::of(&err),
        Some(ConfigError::TlsNotBuilt { .. })
    ));
}

#[test]
fn the_builders_statement_mode_wins_over_the_urls() {
    use crate::StatementMode;
    let e = env(&[]);
    let url = "postgres://u@h/d?statement_mode=unnamed";
    assert_eq!(
        build(Database::builder(url), &e).statement_mode(),
        StatementMode::Unnamed
    );
    let db = build(
        Database::builder(url).statement_mode(StatementMode::Cached),
        &e,
    );
    assert_eq!(db.statement_mode(), StatementMode::Cached);
    assert_eq!(
        build(Database::builder("postgres://u@h/d"), &e).statement_mode(),
        StatementMode::Cached
    );
}

#[test]
fn replicas_are_built_with_the_primary_s_settings_and_never_show_a_password() {
    let e = env(&[]);
    let b = Database::builder("postgres://app:hunter2@db1/app")
        .replica("postgres://app:hunter3@db2/app")
        .replica("host=db3 user=app password=hunter4");
    let shown = format!("{b:?} {b:#?}");
    assert!(!shown.contains("hunter"), "{shown}");
    assert!(shown.contains("postgres://app:***@db2/app"), "{shown}");
    let db = b.build_all(&e).expect("build");
    let servers: Vec<String> = db.replicas().into_iter().map(|r| r.server).collect();
    assert_eq!(
        servers,
        [
            "app@db2:5432/app (sslmode=prefer)",
            "app@db3:5432/app (sslmode=prefer)"
        ]
    );
    assert!(format!("{db:?}").contains("replicas: 2"), "{db:?}");
}

#[test]
fn a_bad_replica_url_is_a_config_error() {
    let err = Database::builder("postgres://app@db1/app")
        .replica("postgres://app@db2:70000/app")
        .build_all(&env(&[]))
        .expect_err("fails");
    assert!(
        matches!(ConfigError::of(&err), Some(ConfigError::InvalidPort { .. })),
        "{err:?}"
    );
}

/// A password with an unencoded `/` (a base64 one pasted as is) ends the URL's authority
/// early: its start was read as a host and port, quoted by the port's error and printed by
/// the builder's `Debug`, and a numeric start made a URL to another server. It is refused,
/// and neither the error nor `Debug` shows any of it.
#[test]
fn a_password_with_an_unencoded_slash_is_refused_and_never_shown() {
    for url in [
        "postgres://app:Xy7s3cr/etK9@db.example/shop",
        "postgres://app:1234/s3cr@db.example/shop",
        "postgres://app:ab?s3cr@db.example/shop",
    ] {
        let b = Database::builder(url);
        let debug = format!("{b:?}");
        let err = match b.build_in(&env(&[])) {
            Ok(_) => panic!("{url} was built"),
            Err(e) => e,
        };
        let text = err.to_string();
        assert!(
            matches!(ConfigError::of(&err), Some(ConfigError::InvalidUrl { .. })),
            "{url}: {text}"
        );
        assert!(text.contains("percent-encode"), "{text}");
        for part in ["Xy7", "1234", "s3cr", "etK9"] {
            assert!(!debug.contains(part), "Debug shows {part}: {debug}");
            assert!(!text.contains(part), "the error shows {part}: {text}");
        }
    }
    // Encoded, it works; an `@` inside a query value is no password.
    let b = Database::builder("postgres://app:Xy7s3cr%2FetK9@db.example/shop?user=me@corp");
    assert!(b.build_in(&env(&[])).is_ok());
}
