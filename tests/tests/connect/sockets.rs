//! Unix-domain sockets in each spelling libpq accepts, against a cluster of this test's own
//! listening on a socket directory the test chose.

use std::path::{Path, PathBuf};

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::{ClusterOptions, LocalCluster};

use crate::server::{PASSWORD, PASSWORD_ROLE, create_roles};

/// A directory removed when the test ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn on_a_socket(url: &str) -> bool {
    let db = Database::builder(url)
        .max_connections(1)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    // No server address: the session came through a Unix-domain socket.
    db.fetch_one(query::<bool>("SELECT inet_server_addr() IS NULL"))
        .await
        .unwrap()
}

fn encoded(dir: &Path) -> String {
    dir.display().to_string().replace('/', "%2F")
}

#[tokio::test]
async fn every_spelling_of_a_socket_directory_connects() {
    let sockets = TempDir::new("orm-sockets");
    let dir = sockets.0.clone();
    let cluster = tokio::task::spawn_blocking(move || {
        LocalCluster::start_with(
            ClusterOptions::new()
                .hba_line(format!("local all {PASSWORD_ROLE} scram-sha-256"))
                .unix_socket_dir(&dir),
        )
    })
    .await
    .unwrap()
    .expect("a cluster on a socket directory");
    assert_eq!(cluster.socket_dir(), Some(sockets.0.as_path()));
    let url = cluster.url("postgres");
    std::thread::spawn(move || create_roles(&url))
        .join()
        .unwrap();
    let (d, port) = (sockets.0.display().to_string(), cluster.port());
    for url in [
        format!("host={d} port={port} user=postgres dbname=postgres"),
        format!("postgres:///postgres?host={d}&port={port}&user=postgres"),
        format!(
            "postgresql://postgres@{}:{port}/postgres",
            encoded(&sockets.0)
        ),
        // sslmode does not apply to sockets (as in libpq): require still connects.
        format!(
            "postgres://postgres@{}:{port}/postgres?sslmode=require",
            encoded(&sockets.0)
        ),
    ] {
        assert!(on_a_socket(&url).await, "{url}");
    }

    // A .pgpass line names the socket directory as its host.
    let passfile = sockets.0.join("pgpass");
    let escaped = PASSWORD.replace('\\', "\\\\").replace(':', "\\:");
    std::fs::write(
        &passfile,
        format!("{d}:{port}:*:{PASSWORD_ROLE}:{escaped}\n"),
    )
    .unwrap();
    set_mode(&passfile, 0o600);
    let url = format!(
        "host={d} port={port} user={PASSWORD_ROLE} dbname=postgres passfile={}",
        passfile.display()
    );
    assert!(on_a_socket(&url).await);

    // No host at all: libpq's default server, the socket in `/var/run/postgresql` or `/tmp`.
    // The cluster's socket is linked into `/tmp` under its port (nothing else listens there).
    let default = Path::new("/tmp").join(format!(".s.PGSQL.{port}"));
    let _link = Link::new(&sockets.0.join(format!(".s.PGSQL.{port}")), &default);
    for url in [
        format!("postgres:///postgres?port={port}&user=postgres"),
        format!("port={port} user=postgres dbname=postgres"),
        format!("host='' port={port} user=postgres dbname=postgres"),
    ] {
        assert!(on_a_socket(&url).await, "{url}");
    }
    // `.pgpass` calls the default socket directory `localhost`.
    std::fs::write(
        &passfile,
        format!("localhost:{port}:*:{PASSWORD_ROLE}:{escaped}\n"),
    )
    .unwrap();
    let url = format!(
        "port={port} user={PASSWORD_ROLE} dbname=postgres passfile={}",
        passfile.display()
    );
    assert!(on_a_socket(&url).await);
    cluster.stop().unwrap();
}

/// A symbolic link removed when the test ends.
struct Link(PathBuf);

impl Link {
    fn new(target: &Path, link: &Path) -> Link {
        let _ = std::fs::remove_file(link);
        std::os::unix::fs::symlink(target, link).unwrap();
        Link(link.to_owned())
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}
