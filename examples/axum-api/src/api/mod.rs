//! The REST service: users and their posts, and a library of books and authors.
//!
//! | method and path | does | answers |
//! |---|---|---|
//! | `GET /health` | `SELECT 1` on the pool | 200 `ok` |
//! | `POST /users` | create `{name, email}` | 201, 409 (email taken), 422 |
//! | `GET /users?page=&per_page=` / `?after=&limit=` | list by id, offset or keyset | 200, 422 |
//! | `GET /users/{id}` | get | 200, 404 |
//! | `PATCH /users/{id}` | change `{name?, email?}` | 200, 404, 409, 422 |
//! | `DELETE /users/{id}` | delete, with the user's posts | 204, 404 |
//! | `POST /users/{id}/posts` | create `{title, body}` | 201, 404, 422 |
//! | `GET /users/{id}/posts?...` | list the user's posts, either paging | 200, 404, 422 |
//! | `GET /posts/{id}` | get | 200, 404 |
//! | `PATCH /posts/{id}` | change `{title?, body?}` | 200, 404, 422 |
//! | `DELETE /posts/{id}` | delete | 204, 404 |
//! | `POST /posts/{id}/like` | add a like (read-modify-write, retried on conflict) | 200, 404 |
//! | `POST /authors`, `GET /authors?...` | create `{name}`, list | 201, 409, 422 / 200 |
//! | `GET /authors/{id}`, `DELETE /authors/{id}` | get with their books, delete | 200 / 204, 404 |
//! | `POST /books` | create `{title, isbn, year, author_ids}` | 201, 409 (isbn taken), 422 (no such author) |
//! | `GET /books?...`, `GET /books/{id}` | list or get, with authors (`selectin`) | 200, 404, 422 |
//! | `PATCH /books/{id}` | change `{title?, isbn?, year?, author_ids?}` | 200, 404, 409, 422 |
//! | `DELETE /books/{id}` | delete | 204, 404 |
//! | `/me`, `/documents...` | role-based access to a tenant's documents: see [`rbac`] | |
//!
//! Every route but `/health` runs in the [per-request session](session); errors are JSON
//! ([`error`]).

pub mod error;
pub mod input;
pub mod library;
pub mod models;
pub mod paging;
pub mod posts;
pub mod session;
pub mod users;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use axum::Router;
use axum::extract::State;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use orm_postgres::prelude::*;
use orm_postgres::{IsolationLevel, SessionOptions};
use tokio::net::TcpListener;

use crate::rbac;

pub use error::ApiError;
pub use session::{DbSession, Transactional};

/// The router's state: the pool, for the routes outside the per-request session.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The pool.
    pub db: Database,
}

impl Transactional {
    /// The service's settings: `REPEATABLE READ` sessions (no expiry on commit: each session
    /// ends with its request), each request run at most 10 times.
    pub fn new(db: Database) -> Transactional {
        Transactional {
            db,
            options: SessionOptions::default()
                .isolation(IsolationLevel::RepeatableRead)
                .expire_on_commit(false),
            attempts: 10,
            reruns: Arc::new(AtomicU64::new(0)),
        }
    }
}

/// The service's routes on `db`.
pub fn router(db: Database) -> Router {
    router_with(Transactional::new(db))
}

/// The service's routes with the session layer's settings.
pub fn router_with(config: Transactional) -> Router {
    let state = AppState {
        db: config.db.clone(),
    };
    Router::new()
        .route("/users", post(users::create).get(users::list))
        .route(
            "/users/{id}",
            get(users::get).patch(users::update).delete(users::remove),
        )
        .route(
            "/users/{id}/posts",
            post(posts::create).get(posts::list_of_user),
        )
        .route(
            "/posts/{id}",
            get(posts::get).patch(posts::update).delete(posts::remove),
        )
        .route("/posts/{id}/like", post(posts::like))
        .route(
            "/authors",
            post(library::create_author).get(library::list_authors),
        )
        .route(
            "/authors/{id}",
            get(library::get_author).delete(library::delete_author),
        )
        .route(
            "/books",
            post(library::create_book).get(library::list_books),
        )
        .route(
            "/books/{id}",
            get(library::get_book)
                .patch(library::update_book)
                .delete(library::delete_book),
        )
        .route("/me", get(rbac::documents::me))
        .route(
            "/documents",
            post(rbac::documents::create).get(rbac::documents::list),
        )
        .route("/documents/publish", post(rbac::documents::publish_all))
        .route(
            "/documents/{id}",
            get(rbac::documents::get)
                .patch(rbac::documents::update)
                .delete(rbac::documents::remove),
        )
        .route_layer(from_fn_with_state(config, session::transactional))
        .route("/health", get(health))
        .fallback(|| async {
            ApiError::NotFound {
                what: "route".to_owned(),
            }
        })
        .with_state(state)
}

/// `GET /health`: the pool answers.
async fn health(State(app): State<AppState>) -> Result<&'static str, ApiError> {
    let one = app
        .db
        .fetch_one(orm_postgres::raw::query::<i32>("SELECT 1"))
        .await?;
    match one {
        1 => Ok("ok"),
        _ => Err(ApiError::Db(orm_postgres::Error::invalid_statement(
            "SELECT 1 did not return 1",
        ))),
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then finishes the requests in
/// flight.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
