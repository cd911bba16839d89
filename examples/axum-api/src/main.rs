//! The REST service on the local default database: `cargo run -p orm-example-axum` (or with
//! `DATABASE_URL`), then for example
//!
//! ```text
//! curl -s -X POST localhost:3000/users -H 'content-type: application/json' \
//!      -d '{"name": "Ada", "email": "ada@example.com"}'
//! curl -s 'localhost:3000/users?page=1&per_page=10'
//! ```
//!
//! The address is the first argument (default `127.0.0.1:3000`; `127.0.0.1:0` picks a free
//! port). The schema comes from the migrations compiled into the binary, applied at startup.

use orm_example_axum::{api, connect_and_migrate};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let db = connect_and_migrate().await?;
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    println!("try: curl -s http://{}/users", listener.local_addr()?);
    api::serve(listener, api::router(db), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
