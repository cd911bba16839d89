//! PostgreSQL's `LISTEN`/`NOTIFY`: sending notifications with `notify` on a
//! [`Database`](crate::Database), a [`Transaction`](crate::Transaction) (delivered at commit) or
//! a [`Connection`](crate::Connection), and receiving them with a [`Listener`], on a connection
//! of its own that comes back by itself when lost.
//!
//! ```no_run
//! use orm_postgres::notify::ListenEvent;
//! # use orm_postgres::prelude::*;
//!
//! # async fn run(db: Database) -> orm_postgres::Result<()> {
//! let mut listener = db.listener().await?;
//! listener.listen("jobs").await?;
//!
//! let tx = db.begin().await?;
//! tx.batch_execute("INSERT INTO jobs (name) VALUES ('resize')").await?;
//! tx.notify("jobs", "resize").await?;
//! tx.commit().await?;
//!
//! if let ListenEvent::Notification(n) = listener.recv().await? {
//!     assert_eq!((n.channel.as_str(), n.payload.as_str()), ("jobs", "resize"));
//! }
//! # Ok(()) }
//! ```
//!
//! - `channel.rs`: what a channel name and a payload may be, checked before sending;
//! - `send.rs`: `notify`, as `pg_notify($1, $2)`;
//! - `event.rs`: what a listener yields, [`ListenEvent`] and [`Notification`];
//! - `listener.rs`: [`Listener`] and its stream;
//! - `live.rs`: the listener's connection, driven by whoever polls the listener;
//! - `reconnect.rs`: [`ReconnectPolicy`] and the attempts to get the connection back.

mod channel;
mod event;
mod listener;
mod live;
mod reconnect;
mod send;

pub use channel::MAX_PAYLOAD_BYTES;
pub use event::{ListenEvent, Notification};
pub use listener::Listener;
pub use reconnect::ReconnectPolicy;
