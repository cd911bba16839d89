//! Opening a database: build the pool, check one connection, and start what runs beside the
//! pool (the result cache's listener). Above the database and the cache's listener in the
//! layers, so the builder needs neither.

use crate::database::database_url_from_env;
use crate::{Database, DatabaseBuilder, Result};

impl DatabaseBuilder {
    /// Builds the pool and opens one connection, so a bad URL, an unreachable server, a
    /// refused certificate or a wrong password is reported here rather than at the first
    /// query. With a result cache (`DatabaseBuilder::result_cache`, feature `cache`) that has
    /// a notify channel (`ResultCache::notify_channel`), it also starts the cache's listener
    /// and returns once the server listens (see `Database::start_cache_listener`, which a
    /// database made with [`build`](Self::build) needs).
    pub async fn connect(self) -> Result<Database> {
        let db = self.build()?;
        drop(db.checkout_primary(false).await?);
        #[cfg(feature = "cache")]
        db.start_cache_listener().await?;
        Ok(db)
    }
}

impl Database {
    /// Connects to `url` with the default settings, opening one connection to check it.
    pub async fn connect(url: &str) -> Result<Database> {
        Database::builder(url).connect().await
    }

    /// Connects to the URL in the `DATABASE_URL` environment variable.
    pub async fn connect_env() -> Result<Database> {
        Database::builder(database_url_from_env()?).connect().await
    }
}
