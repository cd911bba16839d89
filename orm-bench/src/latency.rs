//! A TCP proxy that holds every byte a fixed time each way, so the benches can measure through
//! a network's latency, which loopback lacks (`ORM_BENCH_LATENCY_US`: the one-way delay in
//! microseconds). What a side does per operation in round trips shows there, where on loopback
//! it hides behind the server's work.
//!
//! Threads and blocking sockets, not tokio: tokio's timers tick in milliseconds. Each
//! connection gets a reader and a writer thread per direction; a chunk read at `t` is written at
//! `t + delay` (in order, so a chunk waits for the one before it). The proxy lives as long as
//! the process.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::BoxError;

/// `url` through a proxy that delays each direction by `one_way`: the same URL with its
/// `host:port` replaced by the proxy's. Only `postgres://[user[:password]@]host:port/...` URLs.
pub fn through_proxy(url: &str, one_way: Duration) -> Result<String, BoxError> {
    let start = url.find("://").ok_or("the URL has no scheme")? + 3;
    let rest = &url[start..];
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host_at = authority.rfind('@').map_or(0, |i| i + 1);
    let server = &authority[host_at..];
    if !server.contains(':') {
        return Err(format!("the URL names no port: {server}").into());
    }
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let target = server.to_owned();
    thread::Builder::new()
        .name("latency-proxy".into())
        .spawn(move || {
            for client in listener.incoming().flatten() {
                let target = target.clone();
                thread::spawn(move || {
                    if let Ok(server) = TcpStream::connect(&target) {
                        let _ = connect(client, server, one_way);
                    }
                });
            }
        })?;
    Ok(format!(
        "{}{}127.0.0.1:{port}{}",
        &url[..start],
        &authority[..host_at],
        &rest[end..]
    ))
}

/// Carries both directions between `client` and `server`.
fn connect(client: TcpStream, server: TcpStream, delay: Duration) -> std::io::Result<()> {
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (client2, server2) = (client.try_clone()?, server.try_clone()?);
    let up = thread::spawn(move || carry(client, server, delay));
    carry(server2, client2, delay);
    let _ = up.join();
    Ok(())
}

/// Copies `from` to `to`, each chunk `delay` after it was read; shuts `to` down at the end.
fn carry(mut from: TcpStream, to: TcpStream, delay: Duration) {
    let (send, receive) = mpsc::channel::<(Instant, Vec<u8>)>();
    let mut writer = to.try_clone().ok();
    let delayed = thread::spawn(move || {
        for (due, chunk) in receive {
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                thread::sleep(wait);
            }
            if let Some(w) = &mut writer {
                if w.write_all(&chunk).is_err() {
                    return;
                }
            }
        }
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if send
                    .send((Instant::now() + delay, buf[..n].to_vec()))
                    .is_err()
                {
                    break;
                }
            }
        }
    }
    drop(send);
    let _ = delayed.join();
    let _ = to.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_points_at_the_proxy() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let url = format!("postgres://u:p@127.0.0.1:{port}/db?sslmode=disable");
        let proxied = through_proxy(&url, Duration::from_micros(100)).expect("proxy");
        assert!(
            proxied.starts_with("postgres://u:p@127.0.0.1:"),
            "{proxied}"
        );
        assert!(proxied.ends_with("/db?sslmode=disable"), "{proxied}");
        assert_ne!(proxied, url);
        // Bytes cross it, both ways, after the delay.
        let proxy_port: u16 = proxied["postgres://u:p@127.0.0.1:".len()..]
            .split('/')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port");
        // Bounded: a broken proxy fails the test instead of hanging it.
        let limit = Duration::from_secs(5);
        let mut client = TcpStream::connect(("127.0.0.1", proxy_port)).expect("connect");
        client.set_read_timeout(Some(limit)).expect("timeout");
        listener.set_nonblocking(true).expect("nonblocking");
        let deadline = Instant::now() + limit;
        let mut server = loop {
            match listener.accept() {
                Ok((server, _)) => break server,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "the proxy never connected");
                    thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("accept: {e}"),
            }
        };
        server.set_nonblocking(false).expect("blocking");
        server.set_read_timeout(Some(limit)).expect("timeout");
        client.write_all(b"ping").expect("write");
        let mut got = [0u8; 4];
        server.read_exact(&mut got).expect("read");
        assert_eq!(&got, b"ping");
        server.write_all(b"pong").expect("write");
        client.read_exact(&mut got).expect("read");
        assert_eq!(&got, b"pong");
        assert!(through_proxy("postgres://u@host/db", Duration::ZERO).is_err());
    }
}
