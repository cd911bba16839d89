//! Starting, sharing and stopping real clusters (needs the PostgreSQL server binaries).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::binaries::is_executable;
use crate::output::combined;
use crate::{LocalCluster, shared};

/// Runs `psql` (when installed) with `sql` against `url`; `None` when there is no psql.
fn psql(url: &str, sql: &str) -> Option<Output> {
    let psql = ["/usr/bin/psql", "/usr/local/bin/psql"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| is_executable(p))?;
    Some(
        Command::new(psql)
            .args([
                "-X",
                "-w",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                url,
                "-c",
                sql,
            ])
            .env("PGCONNECT_TIMEOUT", "10")
            .env_remove("PGPASSWORD")
            .stdin(Stdio::null())
            .output()
            .expect("run psql"),
    )
}

fn assert_accepts_connections(port: u16) {
    // An SSLRequest: a PostgreSQL server answers with a single byte, `S` or `N`.
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream
        .write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
        .expect("write");
    let mut answer = [0u8; 1];
    stream.read_exact(&mut answer).expect("read");
    assert!(matches!(&answer, b"N" | b"S"), "answer {answer:?}");
}

#[test]
fn shared_cluster_is_started_once_and_accepts_connections() {
    let began = Instant::now();
    let a = shared().expect("start the shared cluster");
    eprintln!("shared cluster ready in {:?}", began.elapsed());
    let b = shared().expect("shared again");
    assert!(std::ptr::eq(a, b));
    assert!(a.data_dir().join("PG_VERSION").is_file());
    assert_eq!(
        a.url("postgres"),
        format!("postgres://postgres@127.0.0.1:{}/postgres", a.port())
    );
    assert_accepts_connections(a.port());
    if let Some(out) = psql(&a.url("postgres"), "select current_user, 40 + 2") {
        assert!(out.status.success(), "{}", combined(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "postgres|42");
    }
}

#[test]
fn shared_from_many_threads_gives_one_cluster() {
    let clusters: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| shared().expect("shared") as *const LocalCluster as usize))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("join"))
            .collect()
    });
    assert!(clusters.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn own_cluster_checks_passwords_and_stop_removes_it() {
    let began = Instant::now();
    let cluster = LocalCluster::start().expect("start a cluster");
    eprintln!("own cluster ready in {:?}", began.elapsed());
    let dir = cluster.dir.clone();
    assert!(dir.is_dir());
    assert_accepts_connections(cluster.port());

    let url = cluster.url("postgres");
    if let Some(out) = psql(
        &url,
        "create role orm_password_check login password 'right'; show password_encryption",
    ) {
        assert!(out.status.success(), "{}", combined(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("scram-sha-256"));
        let base = format!("127.0.0.1:{}/postgres", cluster.port());
        let wrong = psql(
            &format!("postgres://orm_password_check:wrong@{base}"),
            "select 1",
        )
        .expect("psql");
        assert!(!wrong.status.success());
        assert!(
            combined(&wrong).contains("password authentication failed"),
            "{}",
            combined(&wrong)
        );
        let right = psql(
            &format!("postgres://orm_password_check:right@{base}"),
            "select current_user",
        )
        .expect("psql");
        assert!(right.status.success(), "{}", combined(&right));
        // Other roles are trusted.
        let other =
            psql(&format!("postgres://postgres:anything@{base}"), "select 1").expect("psql");
        assert!(other.status.success(), "{}", combined(&other));
    }

    let began = Instant::now();
    cluster.stop().expect("stop");
    eprintln!("own cluster stopped and removed in {:?}", began.elapsed());
    assert!(!dir.exists(), "{} still exists", dir.display());
    assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, cluster.port())).is_err());
    cluster.stop().expect("stop is idempotent");
}
