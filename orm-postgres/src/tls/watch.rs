//! How far a connection attempt got with TLS, for libpq's plain-text retry under
//! `sslmode=prefer`. libpq (fe-connect.c, `PQconnectPoll`) opens a new connection to the same
//! address without TLS in exactly two cases: the server accepted TLS (`S` to the SSLRequest)
//! and the handshake then failed, whichever side failed it; or the handshake succeeded and the
//! server refused the startup with an error before authentication completed (a `pg_hba.conf`
//! with only `hostnossl` lines for the user, say), unless that error is "the database system
//! is starting up" (57P03), which moves on to the next host. A server that answers `N` to the
//! SSLRequest goes on in plain text on the same connection (the driver does that already); an
//! error after authentication (no such database), a broken connection or a timeout is no
//! reason to retry.
//!
//! The driver says none of this in its errors, so the TLS connector records it: the handshake
//! starting and finishing, and, on the encrypted stream, the server's messages up to
//! `AuthenticationOk` (a message header parser that stops there, so a connection pays one
//! branch per read after it).

use std::sync::atomic::{AtomicU8, Ordering};

use deadpool_postgres::tokio_postgres;
use tokio_postgres::error::SqlState;

/// The server accepted TLS; the handshake began.
const STARTED: u8 = 1;
/// The handshake completed.
const ENCRYPTED: u8 = 2;
/// The server's `AuthenticationOk` came over TLS.
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
const AUTHENTICATED: u8 = 3;

/// How far one connection attempt got with TLS.
#[derive(Debug, Default)]
pub(crate) struct Progress(AtomicU8);

/// Why a failed attempt is tried again without TLS (under `sslmode=prefer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fallback {
    /// The TLS handshake failed.
    Handshake,
    /// The server refused the startup over TLS before authentication completed.
    Refused,
}

impl Progress {
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    fn set(&self, state: u8) {
        self.0.store(state, Ordering::Release);
    }

    /// Whether libpq, under `sslmode=prefer`, would try the attempt that failed with `e` again
    /// on a new connection without TLS, and why. (A timeout is not for this to judge: the
    /// caller knows one and does not retry it.)
    pub(crate) fn fallback(&self, e: &tokio_postgres::Error) -> Option<Fallback> {
        let refused = || {
            e.as_db_error()
                .is_some_and(|db| *db.code() != SqlState::CANNOT_CONNECT_NOW)
        };
        match self.0.load(Ordering::Acquire) {
            STARTED => Some(Fallback::Handshake),
            ENCRYPTED if refused() => Some(Fallback::Refused),
            _ => None,
        }
    }
}

/// Reads the server's messages (a type byte, a length that counts itself, the body) until an
/// `AuthenticationOk`: an `R` message whose body starts with the code 0.
#[derive(Debug, Default)]
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
struct AuthWatch {
    /// The current message's type, length and (for `R`) authentication code, as far as read.
    header: [u8; 9],
    filled: usize,
    /// What is left of the current message's body to skip.
    skip: usize,
}

#[cfg_attr(not(feature = "tls"), allow(dead_code))]
impl AuthWatch {
    /// Reads `bytes`, the next the server sent; true once `AuthenticationOk` has been read
    /// (nothing after it is looked at).
    fn feed(&mut self, mut bytes: &[u8]) -> bool {
        while !bytes.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(bytes.len());
                self.skip -= n;
                bytes = &bytes[n..];
                continue;
            }
            // The type and the length; an `R` message's code too.
            let want = if self.filled > 0 && self.header[0] == b'R' {
                9
            } else {
                5
            };
            let n = (want - self.filled).min(bytes.len());
            self.header[self.filled..self.filled + n].copy_from_slice(&bytes[..n]);
            self.filled += n;
            bytes = &bytes[n..];
            if self.filled < want {
                continue;
            }
            let len = u32::from_be_bytes([
                self.header[1],
                self.header[2],
                self.header[3],
                self.header[4],
            ]) as usize;
            if want == 9 {
                if self.header[5..9] == [0, 0, 0, 0] {
                    return true;
                }
                self.skip = len.saturating_sub(8);
            } else if self.header[0] != b'R' {
                self.skip = len.saturating_sub(4);
            } else {
                // An `R` header: read on to its code.
                continue;
            }
            self.filled = 0;
        }
        false
    }
}

#[cfg(feature = "tls")]
pub(crate) use stream::{Connect, Watched};

#[cfg(feature = "tls")]
mod stream {
    use std::io;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll};

    use deadpool_postgres::tokio_postgres::Socket;
    use deadpool_postgres::tokio_postgres::tls::{
        ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream,
    };
    use futures_util::future::BoxFuture;
    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
    use tokio_postgres_rustls::MakeRustlsConnect;

    use super::{AUTHENTICATED, AuthWatch, ENCRYPTED, Progress, STARTED};

    type Inner = <MakeRustlsConnect as MakeTlsConnect<Socket>>::TlsConnect;
    type InnerStream = <MakeRustlsConnect as MakeTlsConnect<Socket>>::Stream;

    /// Opens one TLS session, recording its progress (when watched).
    pub(crate) struct Connect {
        pub(super) inner: Inner,
        pub(super) progress: Option<Arc<Progress>>,
    }

    impl Connect {
        pub(crate) fn new(inner: Inner, progress: Option<Arc<Progress>>) -> Connect {
            Connect { inner, progress }
        }
    }

    impl TlsConnect<Socket> for Connect {
        type Stream = Watched;
        type Error = <Inner as TlsConnect<Socket>>::Error;
        type Future = BoxFuture<'static, Result<Watched, Self::Error>>;

        fn connect(self, stream: Socket) -> Self::Future {
            // Called once the server has accepted TLS.
            if let Some(p) = &self.progress {
                p.set(STARTED);
            }
            let progress = self.progress;
            let handshake = self.inner.connect(stream);
            Box::pin(async move {
                let inner = handshake.await?;
                let watch = progress.map(|p| {
                    p.set(ENCRYPTED);
                    (AuthWatch::default(), p)
                });
                Ok(Watched { inner, watch })
            })
        }
    }

    /// An encrypted stream that, when watched, notes the server's `AuthenticationOk`.
    pub(crate) struct Watched {
        inner: InnerStream,
        watch: Option<(AuthWatch, Arc<Progress>)>,
    }

    impl TlsStream for Watched {
        fn channel_binding(&self) -> ChannelBinding {
            self.inner.channel_binding()
        }
    }

    impl AsyncRead for Watched {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let this = &mut *self;
            let before = buf.filled().len();
            let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
            let authenticated = match (&polled, &mut this.watch) {
                (Poll::Ready(Ok(())), Some((watch, progress))) => {
                    let done = watch.feed(&buf.filled()[before..]);
                    if done {
                        progress.set(AUTHENTICATED);
                    }
                    done
                }
                _ => false,
            };
            if authenticated {
                this.watch = None;
            }
            polled
        }
    }

    impl AsyncWrite for Watched {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.inner).poll_write(cx, buf)
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_flush(cx)
        }

        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_shutdown(cx)
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[io::IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
        }

        fn is_write_vectored(&self) -> bool {
            self.inner.is_write_vectored()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{AUTHENTICATED, AuthWatch, ENCRYPTED, Fallback, Progress, STARTED};
    use deadpool_postgres::tokio_postgres::Error;

    #[test]
    fn only_a_failed_handshake_or_a_refusal_before_authentication_falls_back() {
        // An error of the driver's own (a server's error cannot be made here; the connect
        // tests refuse over TLS for real).
        let e = Error::__private_api_timeout();
        let at = |state| {
            let p = Progress::default();
            p.set(state);
            p.fallback(&e)
        };
        assert_eq!(Progress::default().fallback(&e), None, "no TLS");
        assert_eq!(at(STARTED), Some(Fallback::Handshake));
        assert_eq!(at(ENCRYPTED), None, "not the server's refusal");
        assert_eq!(at(AUTHENTICATED), None, "after authentication");
    }

    /// A message: type, length, body.
    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![kind];
        m.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn authentication_ok_is_found_however_the_bytes_are_split() {
        // SASL, SASLContinue and SASLFinal, then AuthenticationOk, then what follows it.
        let mut bytes = message(b'R', b"\0\0\0\x0aSCRAM-SHA-256\0\0");
        bytes.extend(message(b'R', b"\0\0\0\x0br=abc,s=def,i=4096"));
        bytes.extend(message(b'R', b"\0\0\0\x0cv=xyz"));
        let ok_at = bytes.len() + 9;
        bytes.extend(message(b'R', &[0, 0, 0, 0]));
        bytes.extend(message(b'S', b"server_version\x0017\0"));
        for chunk in 1..=bytes.len() {
            let mut watch = AuthWatch::default();
            let mut fed = 0;
            let mut found = None;
            for piece in bytes.chunks(chunk) {
                fed += piece.len();
                if watch.feed(piece) {
                    found = Some(fed);
                    break;
                }
            }
            let found = found.unwrap_or_else(|| panic!("chunks of {chunk}: not found"));
            assert!(found >= ok_at && found < ok_at + chunk, "chunks of {chunk}");
        }
    }

    #[test]
    fn an_error_or_a_password_request_is_no_authentication() {
        let mut watch = AuthWatch::default();
        // AuthenticationCleartextPassword, then an ErrorResponse.
        assert!(!watch.feed(&message(b'R', &[0, 0, 0, 3])));
        assert!(!watch.feed(&message(b'E', b"SFATAL\0C28000\0Mno\0\0")));
        // A NegotiateProtocolVersion whose body holds zeros.
        assert!(!watch.feed(&message(b'v', &[0, 0, 0, 0, 0, 0, 0, 0])));
        assert!(watch.feed(&message(b'R', &[0, 0, 0, 0])));
    }
}
