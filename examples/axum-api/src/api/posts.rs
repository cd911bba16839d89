//! Posts: `/users/{id}/posts` (create, list) and `/posts/{id}` (get, update, delete, like).

use axum::Json;
use axum::http::StatusCode;
use orm_postgres::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::input::{Body, Id, Params};
use super::models::{Post, User};
use super::paging::{Page, PageParams};
use super::session::DbSession;

/// `POST /users/{id}/posts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPost {
    /// 1 to 200 characters.
    pub title: String,
    /// The text.
    #[serde(default)]
    pub body: String,
}

/// `PATCH /posts/{id}`: the fields to change.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostPatch {
    /// A new title.
    pub title: Option<String>,
    /// A new text.
    pub body: Option<String>,
}

/// A post, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostOut {
    /// Its id.
    pub id: i64,
    /// Its author.
    pub user_id: i64,
    /// Its title.
    pub title: String,
    /// Its text.
    pub body: String,
    /// Its likes.
    pub likes: i32,
}

impl From<&Post> for PostOut {
    fn from(p: &Post) -> PostOut {
        PostOut {
            id: p.id,
            user_id: p.user_id,
            title: p.title.clone(),
            body: p.body.clone(),
            likes: p.likes,
        }
    }
}

/// `POST /users/{id}/posts` → 201 with the post; 404 when there is no such user.
pub async fn create(
    mut s: DbSession,
    Id(user_id): Id,
    Body(new): Body<NewPost>,
) -> Result<(StatusCode, Json<PostOut>), ApiError> {
    super::users::find(&mut s, user_id).await?;
    let post = s.add(Post {
        user_id,
        title: new.title.trim().to_owned(),
        body: new.body,
        ..Default::default()
    });
    s.flush().await?;
    let out = PostOut::from(&*post.read());
    Ok((StatusCode::CREATED, Json(out)))
}

/// `GET /users/{id}/posts?page=&per_page=` or `?after=&limit=` → a page of the user's posts.
pub async fn list_of_user(
    mut s: DbSession,
    Id(user_id): Id,
    Params(params): Params<PageParams>,
) -> Result<Json<Page<PostOut>>, ApiError> {
    let paging = params.paging()?;
    let user_exists = select::<User>().filter(User::id.eq(user_id)).exists();
    if !s.fetch_one(user_exists).await? {
        return Err(ApiError::not_found("user", user_id));
    }
    let of_user = select::<Post>().filter(Post::user_id.eq(user_id));
    let page = paging
        .fetch(&mut s, of_user, (Post::id, |p| p.id), |p| {
            Ok(PostOut::from(&p))
        })
        .await?;
    Ok(Json(page))
}

/// `GET /posts/{id}` → the post, or 404.
pub async fn get(mut s: DbSession, Id(id): Id) -> Result<Json<PostOut>, ApiError> {
    let post = find(&mut s, id).await?;
    let out = PostOut::from(&*post.read());
    Ok(Json(out))
}

/// `PATCH /posts/{id}` → the changed post.
pub async fn update(
    mut s: DbSession,
    Id(id): Id,
    Body(patch): Body<PostPatch>,
) -> Result<Json<PostOut>, ApiError> {
    let post = find(&mut s, id).await?;
    {
        let mut p = post.write();
        if let Some(title) = patch.title {
            p.title = title.trim().to_owned();
        }
        if let Some(body) = patch.body {
            p.body = body;
        }
    }
    s.flush().await?;
    let out = PostOut::from(&*post.read());
    Ok(Json(out))
}

/// `DELETE /posts/{id}` → 204, or 404. A Core `DELETE`: no need to load the post first.
pub async fn remove(mut s: DbSession, Id(id): Id) -> Result<StatusCode, ApiError> {
    match s.execute(delete::<Post>().filter(Post::id.eq(id))).await? {
        0 => Err(ApiError::not_found("post", id)),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

/// The answer of `POST /posts/{id}/like`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Likes {
    /// The post.
    pub id: i64,
    /// Its likes now.
    pub likes: i32,
}

/// `POST /posts/{id}/like` → the new count. A read-modify-write through the session: under
/// `REPEATABLE READ`, two requests liking the same post at once cannot both write what they
/// read; the second fails with a serialization failure and the session layer runs it again,
/// so no like is lost.
pub async fn like(mut s: DbSession, Id(id): Id) -> Result<Json<Likes>, ApiError> {
    let post = find(&mut s, id).await?;
    post.write().likes += 1;
    s.flush().await?;
    let likes = post.read().likes;
    Ok(Json(Likes { id, likes }))
}

/// The post `id` in the session, or a 404.
async fn find(s: &mut DbSession, id: i64) -> Result<Tracked<Post>, ApiError> {
    s.get::<Post>(id)
        .await?
        .ok_or_else(|| ApiError::not_found("post", id))
}
