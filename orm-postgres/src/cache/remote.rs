//! Invalidations across processes: each commit that wrote tables sends them with
//! `pg_notify(channel, payload)` (inside its transaction, so listeners get it exactly when it
//! commits; after the statement for a write outside a transaction), and a listener of the
//! cache's own, on a connection outside the pool, invalidates what others sent.
//!
//! The payload is the sender's id, then each table on a line of its own, or `*` for "every
//! table"; a sender ignores its own (it invalidated before sending). A listener that lost its
//! connection missed whatever was sent meanwhile, so it invalidates everything when it is back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::Written;
use crate::CompiledQuery;

/// PostgreSQL's limit on a payload (as `notify::MAX_PAYLOAD_BYTES`, which this module sits
/// below).
const MAX_PAYLOAD_BYTES: usize = 8000;

/// The channel and this cache's id in it.
pub(crate) struct Remote {
    pub(crate) channel: String,
    sender: u64,
    pub(crate) listening: tokio::sync::OnceCell<()>,
    /// The listener lost its connection and is not back yet: others' commits go unseen.
    down: AtomicBool,
}

/// A notification to send.
pub(crate) struct Publish {
    pub(crate) channel: String,
    pub(crate) payload: String,
}

impl Publish {
    /// The statement sending it.
    pub(crate) fn query(&self) -> CompiledQuery {
        CompiledQuery::new(
            "SELECT pg_notify($1, $2)",
            vec![
                Arc::new(self.channel.clone()),
                Arc::new(self.payload.clone()),
            ],
        )
    }
}

impl Remote {
    pub(crate) fn new(channel: String) -> Remote {
        // Unique enough among the caches on one server: the process, the moment, the address.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let here = &nanos as *const u64 as u64;
        let sender = (u64::from(std::process::id()) << 40) ^ nanos ^ here.rotate_left(17);
        Remote {
            channel,
            sender,
            listening: tokio::sync::OnceCell::new(),
            down: AtomicBool::new(false),
        }
    }

    /// Whether the listener runs and is connected (results are served and stored only then:
    /// otherwise others' commits would go unseen).
    pub(crate) fn is_listening(&self) -> bool {
        self.listening.initialized() && !self.down.load(Ordering::Acquire)
    }

    /// Marks the listener's connection lost (`true`) or back (`false`).
    pub(crate) fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::Release);
    }

    /// The statement that tells the other caches what `w` wrote.
    pub(crate) fn publish(&self, w: &Written) -> Publish {
        let mut payload = self.sender.to_string();
        if w.all {
            payload.push_str("\n*");
        } else {
            for t in &w.tables {
                payload.push('\n');
                payload.push_str(t);
            }
        }
        if payload.len() >= MAX_PAYLOAD_BYTES || w.tables.iter().any(|t| t.contains('\n')) {
            payload = format!("{}\n*", self.sender);
        }
        Publish {
            channel: self.channel.clone(),
            payload,
        }
    }

    /// What another cache's payload invalidates (`None` for our own or a malformed one).
    pub(crate) fn parse(&self, payload: &str) -> Option<Written> {
        let mut lines = payload.split('\n');
        let sender: u64 = lines.next()?.parse().ok()?;
        if sender == self.sender {
            return None;
        }
        let mut w = Written::default();
        for line in lines {
            if line == "*" {
                w.all = true;
            } else if !line.is_empty() {
                w.tables.push(line.into());
            }
        }
        Some(w)
    }
}
