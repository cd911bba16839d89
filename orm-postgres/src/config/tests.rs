//! Parsing connection strings into settings: the forms users paste, and a typed error for
//! everything else.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use deadpool_postgres::tokio_postgres::config::TargetSessionAttrs;

use super::ssl::RootCert;
use super::{ConfigError, ConnectOptions, Host, SslMode, Target};

fn parse(s: &str) -> ConnectOptions {
    ConnectOptions::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn error(s: &str) -> ConfigError {
    match ConnectOptions::parse(s).and_then(|o| o.targets().map(|_| o)) {
        Ok(o) => panic!("{s} parsed: {o:?}"),
        Err(e) => e,
    }
}

/// A TCP target without a host address.
pub(super) fn tcp(host: &str, port: u16) -> Target {
    Target {
        host: Host::Tcp(host.into()),
        hostaddr: None,
        port,
    }
}

/// libpq's default server on this machine, for `port`.
fn default_server(port: u16) -> Target {
    Target {
        host: super::default_host(port, super::DEFAULT_SOCKET_DIRS),
        hostaddr: None,
        port,
    }
}

#[test]
fn no_host_or_an_empty_one_is_the_local_server_as_in_libpq() {
    for s in [
        "postgres:///db",
        "dbname=db",
        "host=",
        "postgres://@/db",
        "host=''",
    ] {
        assert_eq!(parse(s).targets().expect(s), [default_server(5432)], "{s}");
    }
    assert_eq!(
        parse("postgres:///db?port=6000")
            .targets()
            .expect("targets"),
        [default_server(6000)]
    );
    assert_eq!(
        parse("host=a,,b port=1,2,3").targets().expect("targets"),
        [tcp("a", 1), default_server(2), tcp("b", 3)]
    );
    // A host address alone is no default: the address is the host.
    assert_eq!(
        parse("hostaddr=127.0.0.1").targets().expect("targets"),
        [Target {
            host: Host::Tcp("127.0.0.1".into()),
            hostaddr: Some("127.0.0.1".parse().expect("an address")),
            port: 5432
        }]
    );
}

#[cfg(unix)]
#[test]
fn the_default_socket_directory_is_the_one_holding_the_servers_socket() {
    use super::default_host;
    let base = std::env::temp_dir().join(format!("orm-default-host-{}", std::process::id()));
    let (first, second) = (base.join("first"), base.join("second"));
    std::fs::create_dir_all(&first).expect("a directory");
    std::fs::create_dir_all(&second).expect("a directory");
    std::fs::write(second.join(".s.PGSQL.6001"), "").expect("a file");
    let missing = base.join("missing");
    let dirs = [
        missing.to_str().expect("UTF-8"),
        first.to_str().expect("UTF-8"),
        second.to_str().expect("UTF-8"),
    ];
    // The socket's directory, for its port.
    assert_eq!(default_host(6001, &dirs), Host::Unix(second.clone()));
    // Another port: no socket anywhere; the first directory that exists.
    assert_eq!(default_host(6002, &dirs), Host::Unix(first.clone()));
    // No directory exists: the last (upstream libpq's `/tmp`).
    let none = [dirs[0], "/nonexistent/orm-default-host"];
    assert_eq!(
        default_host(6001, &none),
        Host::Unix(PathBuf::from("/nonexistent/orm-default-host"))
    );
    std::fs::remove_dir_all(&base).expect("removed");
}

#[test]
fn url_and_key_value_say_the_same() {
    for s in [
        "postgresql://app:s3cret@db.example:6543/shop?sslmode=verify-full&application_name=web",
        "host=db.example port=6543 user=app password=s3cret dbname=shop sslmode=verify-full application_name=web",
    ] {
        let o = parse(s);
        assert_eq!(
            o.targets().expect("parses"),
            [tcp("db.example", 6543)],
            "{s}"
        );
        assert_eq!(o.user.as_deref(), Some("app"));
        assert_eq!(o.password.as_ref().map(|p| p.expose()), Some("s3cret"));
        assert_eq!(o.dbname.as_deref(), Some("shop"));
        assert_eq!(o.ssl.mode, Some(SslMode::VerifyFull));
        assert_eq!(o.application_name.as_deref(), Some("web"));
    }
}

#[test]
fn several_hosts_with_their_ports_and_session_attributes() {
    let o = parse("postgresql://a:5433,b,[2001:db8::1]:5434/db?target_session_attrs=read-write");
    assert_eq!(
        o.targets().expect("parses"),
        [tcp("a", 5433), tcp("b", 5432), tcp("2001:db8::1", 5434)]
    );
    assert_eq!(o.target_session_attrs, Some(TargetSessionAttrs::ReadWrite));
    let o = parse("host=a,b port=6000 target_session_attrs=read-only load_balance_hosts=random");
    assert_eq!(
        o.targets().expect("parses"),
        [tcp("a", 6000), tcp("b", 6000)]
    );
    assert!(o.load_balance_random);
    let o = parse("host=a,b port=6000,6001");
    assert_eq!(
        o.targets().expect("parses"),
        [tcp("a", 6000), tcp("b", 6001)]
    );
}

#[test]
fn unix_sockets_in_every_spelling() {
    for s in [
        "postgresql://%2Fvar%2Frun%2Fpostgresql/db",
        "postgres:///db?host=/var/run/postgresql",
        "host=/var/run/postgresql dbname=db",
    ] {
        let o = parse(s);
        assert_eq!(
            o.targets().expect("parses"),
            [Target {
                host: Host::Unix(PathBuf::from("/var/run/postgresql")),
                hostaddr: None,
                port: 5432,
            }],
            "{s}"
        );
        assert_eq!(o.dbname.as_deref(), Some("db"));
    }
}

#[test]
fn hostaddr_skips_name_resolution_but_keeps_the_name() {
    let o = parse("host=db.example hostaddr=127.0.0.1 port=5433");
    assert_eq!(
        o.targets().expect("parses"),
        [Target {
            host: Host::Tcp("db.example".into()),
            hostaddr: Some(IpAddr::from([127, 0, 0, 1])),
            port: 5433,
        }]
    );
    let o = parse("hostaddr=127.0.0.1");
    assert_eq!(
        o.targets().expect("parses")[0].host,
        Host::Tcp("127.0.0.1".into())
    );
}

#[test]
fn options_timeouts_and_keepalives() {
    let o = parse(
        "postgres://h/d?options=-c%20search_path%3Dapp%20-c%20work_mem%3D64MB&connect_timeout=7&keepalives=0&tcp_user_timeout=2500",
    );
    assert_eq!(
        o.options.as_deref(),
        Some("-c search_path=app -c work_mem=64MB")
    );
    assert_eq!(o.connect_timeout, Some(Duration::from_secs(7)));
    assert_eq!(o.keepalives, Some(false));
    assert_eq!(o.tcp_user_timeout, Some(Duration::from_millis(2500)));
    assert_eq!(parse("host=h connect_timeout=0").connect_timeout, None);
}

#[test]
fn tls_settings() {
    let o = parse(
        "postgres://h/d?sslmode=verify-ca&sslrootcert=/etc/ca.pem&sslcert=/c.pem&sslkey=/k.pem&sslsni=0&ssl_min_protocol_version=TLSv1.3",
    );
    assert_eq!(o.ssl.mode, Some(SslMode::VerifyCa));
    assert_eq!(o.ssl.root_cert, Some(RootCert::File("/etc/ca.pem".into())));
    assert_eq!(o.ssl.cert, Some(PathBuf::from("/c.pem")));
    assert_eq!(o.ssl.key, Some(PathBuf::from("/k.pem")));
    assert!(o.ssl.no_sni);
    let o = parse("host=h sslrootcert=system");
    assert_eq!(o.ssl.effective_mode(), SslMode::VerifyFull);
    assert_eq!(
        parse("host=h requiressl=1").ssl.mode,
        Some(SslMode::Require)
    );
    assert_eq!(
        parse("postgres://h?ssl=true").ssl.mode,
        Some(SslMode::Require)
    );
    assert_eq!(parse("host=h").ssl.effective_mode(), SslMode::Prefer);
}

#[test]
fn typed_errors_for_the_rest() {
    assert_eq!(
        error("postgres://h/d?sslmod=require"),
        ConfigError::UnknownParameter {
            name: "sslmod".into()
        }
    );
    assert_eq!(
        error("postgres://h:5x/d"),
        ConfigError::InvalidPort { value: "5x".into() }
    );
    assert_eq!(
        error("host=h port=0"),
        ConfigError::InvalidPort { value: "0".into() }
    );
    assert_eq!(
        error("host=h port=70000"),
        ConfigError::InvalidPort {
            value: "70000".into()
        }
    );
    assert!(matches!(
        error("host=a,b port=1,2,3"),
        ConfigError::HostCountMismatch { list: "port", .. }
    ));
    assert!(matches!(
        error("host=a,b hostaddr=127.0.0.1"),
        ConfigError::HostCountMismatch {
            list: "hostaddr",
            ..
        }
    ));
    assert!(matches!(
        error("host=a sslmode=allow"),
        ConfigError::Unsupported { .. }
    ));
    assert!(matches!(
        error("host=a sslmode=always"),
        ConfigError::InvalidValue { .. }
    ));
    assert!(matches!(
        error("host=a target_session_attrs=primary"),
        ConfigError::Unsupported { .. }
    ));
    assert!(matches!(
        error("host=a hostaddr=db.example"),
        ConfigError::InvalidValue { .. }
    ));
    assert!(matches!(
        error("host=a service=prod"),
        ConfigError::Unsupported { .. }
    ));
    assert!(matches!(
        error("host=a keepalives=yes"),
        ConfigError::InvalidValue { .. }
    ));
    assert!(matches!(
        error("dbname='host=x password=y'"),
        ConfigError::Unsupported { .. }
    ));
    assert_eq!(error("localhost"), ConfigError::NotAConnectionString);
    assert!(matches!(
        error("mysql://h/d"),
        ConfigError::InvalidUrl { .. }
    ));
}

#[test]
fn error_messages_are_clear() {
    assert_eq!(
        error("postgres://h/d?sslmod=require").to_string(),
        "unknown connection parameter \"sslmod\""
    );
    assert_eq!(
        error("host=a sslmode=allow").to_string(),
        "sslmode=allow is not supported: use prefer (TLS when offered) or disable"
    );
    assert_eq!(
        error("host=a,b port=1,2,3").to_string(),
        "2 host(s) but 3 port value(s): give one port for all hosts or one per host"
    );
}

#[test]
fn statement_mode_is_ours_and_checked() {
    use super::StatementMode;
    assert_eq!(
        parse("postgres://h/d?statement_mode=unnamed").statement_mode,
        Some(StatementMode::Unnamed)
    );
    assert_eq!(
        parse("host=h statement_mode=cached").statement_mode,
        Some(StatementMode::Cached)
    );
    assert_eq!(parse("host=h").statement_mode, None);
    match error("postgres://h/d?statement_mode=named") {
        ConfigError::InvalidValue { name, value, .. } => {
            assert_eq!((name.as_str(), value.as_str()), ("statement_mode", "named"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        error("postgres://h/d?statement_cache=off"),
        ConfigError::UnknownParameter { .. }
    ));
}
