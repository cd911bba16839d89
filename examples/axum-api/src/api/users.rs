//! `/users`: create, get, list (offset or keyset pages), update, delete.

use axum::Json;
use axum::http::StatusCode;
use orm_postgres::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::input::{Body, Id, Params};
use super::models::User;
use super::paging::{Page, PageParams};
use super::session::DbSession;

/// `POST /users`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 1 to 80 characters.
    pub name: String,
    /// An email address not taken by another user.
    pub email: String,
}

/// `PATCH /users/{id}`: the fields to change.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// A new name.
    pub name: Option<String>,
    /// A new email address.
    pub email: Option<String>,
}

/// A user, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserOut {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its email address (lower case).
    pub email: String,
}

impl From<&User> for UserOut {
    fn from(u: &User) -> UserOut {
        UserOut {
            id: u.id,
            name: u.name.clone(),
            email: u.email.clone(),
        }
    }
}

/// Emails compare case-insensitively: they are stored in lower case, trimmed.
fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// `POST /users` → 201 with the user; 409 when the email is taken, 422 when a field is bad.
pub async fn create(
    mut s: DbSession,
    Body(new): Body<NewUser>,
) -> Result<(StatusCode, Json<UserOut>), ApiError> {
    let user = s.add(User {
        name: new.name.trim().to_owned(),
        email: normalize_email(&new.email),
        ..Default::default()
    });
    s.flush().await?; // validators, then INSERT ... RETURNING id
    let out = UserOut::from(&*user.read());
    Ok((StatusCode::CREATED, Json(out)))
}

/// `GET /users/{id}` → the user, or 404.
pub async fn get(mut s: DbSession, Id(id): Id) -> Result<Json<UserOut>, ApiError> {
    let user = find(&mut s, id).await?;
    let out = UserOut::from(&*user.read());
    Ok(Json(out))
}

/// `GET /users?page=&per_page=` or `?after=&limit=` → a page of users by id (read without
/// tracking: a list is read, not changed).
pub async fn list(
    mut s: DbSession,
    Params(params): Params<PageParams>,
) -> Result<Json<Page<UserOut>>, ApiError> {
    let page = params
        .paging()?
        .fetch(&mut s, select::<User>(), (User::id, |u| u.id), |u| {
            Ok(UserOut::from(&u))
        })
        .await?;
    Ok(Json(page))
}

/// `PATCH /users/{id}` → the changed user; only the changed columns are written.
pub async fn update(
    mut s: DbSession,
    Id(id): Id,
    Body(patch): Body<UserPatch>,
) -> Result<Json<UserOut>, ApiError> {
    let user = find(&mut s, id).await?;
    {
        // The guard ends before the next `.await`.
        let mut u = user.write();
        if let Some(name) = patch.name {
            u.name = name.trim().to_owned();
        }
        if let Some(email) = patch.email {
            u.email = normalize_email(&email);
        }
    }
    s.flush().await?;
    let out = UserOut::from(&*user.read());
    Ok(Json(out))
}

/// `DELETE /users/{id}` → 204; the user's posts go with it (`ON DELETE CASCADE`).
pub async fn remove(mut s: DbSession, Id(id): Id) -> Result<StatusCode, ApiError> {
    let user = find(&mut s, id).await?;
    s.delete(&user)?;
    s.flush().await?; // one DELETE: the posts relationship is `passive_deletes`
    Ok(StatusCode::NO_CONTENT)
}

/// The user `id` in the session, or a 404.
pub(crate) async fn find(s: &mut DbSession, id: i64) -> Result<Tracked<User>, ApiError> {
    s.get::<User>(id)
        .await?
        .ok_or_else(|| ApiError::not_found("user", id))
}
