//! The result cache's listener: invalidations other databases send on the cache's channel
//! ([`ResultCache::notify_channel`](crate::ResultCache::notify_channel)), received on a
//! connection of its own. Above the cache, the database and `LISTEN`/`NOTIFY` in the layers.

use std::sync::{Arc, Weak};

use futures_util::StreamExt;

use crate::cache::{Store, Written};
use crate::notify::ListenEvent;
use crate::{Database, Result};

impl Database {
    /// Starts the result cache's listener (once; later calls return at once), returning when
    /// the server listens on the cache's [channel](crate::ResultCache::notify_channel).
    /// [`connect`](crate::DatabaseBuilder::connect) calls it; a database made with
    /// [`build`](crate::DatabaseBuilder::build) needs it. Until then a cache with a channel
    /// serves and stores nothing, since other processes' commits would go unseen. Does nothing
    /// without a cache or a channel. The listener stops when every handle of the database is
    /// dropped.
    ///
    /// ```no_run
    /// # use orm_postgres::{Database, ResultCache};
    /// # async fn run() -> orm_postgres::Result<()> {
    /// let db = Database::builder("postgres://localhost/app")
    ///     .result_cache(ResultCache::new().notify_channel("orm_cache"))
    ///     .build()?;
    /// db.start_cache_listener().await?;
    /// # Ok(()) }
    /// ```
    pub async fn start_cache_listener(&self) -> Result<()> {
        let Some(store) = self.cache_store() else {
            return Ok(());
        };
        ensure_listening(self, &store).await
    }
}

/// Starts the cache's listener once (returning when the server listens), for a database.
async fn ensure_listening(db: &Database, store: &Arc<Store>) -> Result<()> {
    let Some(remote) = &store.remote else {
        return Ok(());
    };
    remote
        .listening
        .get_or_try_init(|| async {
            let mut listener = db.for_listener().listener().await?;
            listener.listen(&remote.channel).await?;
            let store = Arc::downgrade(store);
            let owner = db.cache_owner();
            tokio::spawn(run(listener, store, owner));
            Ok::<(), crate::Error>(())
        })
        .await?;
    Ok(())
}

/// Receives invalidations until every handle of the database is gone.
async fn run(mut listener: crate::Listener, store: Weak<Store>, owner: Weak<()>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tokio::select! {
            event = listener.next() => {
                let Some(store) = store.upgrade() else { return };
                let Some(remote) = &store.remote else { return };
                match event {
                    Some(Ok(ListenEvent::Notification(n))) => {
                        if let Some(w) = remote.parse(&n.payload) {
                            store.invalidate(&w);
                        }
                    }
                    // Others' commits go unseen from now on: nothing is served or stored until
                    // the listener is back.
                    Some(Ok(ListenEvent::Disconnected)) => {
                        remote.set_down(true);
                        store.invalidate(&Written::everything());
                    }
                    // Back: whatever was stored before may be stale (what was sent in the gap
                    // is lost), and is invalidated before anything is served again.
                    Some(Ok(ListenEvent::Reconnected { .. })) => {
                        store.invalidate(&Written::everything());
                        remote.set_down(false);
                    }
                    // Reconnecting failed: still down; the listener keeps trying at the next
                    // poll.
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "result cache: invalidation listener down");
                        remote.set_down(true);
                        store.invalidate(&Written::everything());
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                    None => return,
                }
            }
            _ = tick.tick() => {
                if owner.upgrade().is_none() {
                    return;
                }
            }
        }
    }
}
