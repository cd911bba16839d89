//! A server for a test: the service on 127.0.0.1, on a free port, against the test's
//! database, and a client speaking real HTTP to it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use orm_example_axum::api::{self, Transactional};
use orm_postgres::raw::query;
use orm_postgres::{Database, Executor};
use reqwest::Method;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The running service; stopped when dropped.
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// A client of it.
    pub client: reqwest::Client,
    /// The requests the session layer ran again.
    reruns: Arc<AtomicU64>,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts the service with its default settings.
pub async fn start(db: &Database) -> Server {
    start_with(Transactional::new(db.clone())).await
}

/// Starts the service with these session-layer settings.
pub async fn start_with(config: Transactional) -> Server {
    let reruns = config.reruns.clone();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(api::serve(listener, api::router_with(config), async {
        let _ = stopped.await;
    }));
    Server {
        base,
        client: reqwest::Client::new(),
        reruns,
        stop: Some(stop),
    }
}

impl Server {
    /// Sends a request, with `body` as JSON when given; the status and the body (JSON, a JSON
    /// string for a text body, `null` for none).
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call_as(None, method, path, body).await
    }

    /// [`call`](Server::call) as the account `account` (in the `x-account-id` header).
    pub async fn call_as(
        &self,
        account: Option<i64>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(account) = account {
            request = request.header("x-account-id", account.to_string());
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// How many times the session layer ran a request again.
    pub fn reruns(&self) -> u64 {
        self.reruns.load(Ordering::Relaxed)
    }
}

/// A count straight from the database, bypassing the service.
pub async fn count(db: &Database, sql: &'static str) -> i64 {
    db.fetch_one(query::<i64>(sql)).await.expect("count")
}

/// The likes of a post, straight from the database.
pub async fn likes(db: &Database, post: i64) -> i32 {
    db.fetch_one(query::<i32>("SELECT likes FROM posts WHERE id = :id").bind("id", post))
        .await
        .expect("likes")
}

/// The ids of a page's items.
pub fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["id"].as_i64().expect("an id"))
        .collect()
}
