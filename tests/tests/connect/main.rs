//! Connecting: TLS in every `sslmode` (against a cluster with a certificate chain made here),
//! Unix-domain sockets, the connection strings users paste, libpq's environment variables
//! (`PGHOST`, `PGSSLMODE`, ...), secrets kept out of every output, what a failed connect says
//! of each host it tried, cancelling a running statement, and pgbouncer in transaction mode in
//! front of a server.
//!
//! Each test connects to servers of its own choosing (the suite's TLS cluster, the process's
//! plain one), not to `DATABASE_URL`: what they check is how connections are made.

mod cancel;
mod capture;
mod certs;
mod env;
mod failures;
mod pgbouncer;
mod secrets;
mod server;
mod sockets;
mod tls;
mod urls;
