//! `/documents` and `/me`: what the caller's role lets it read and change. Every handler takes
//! the [`Tenant`] session, whose criteria hide what the caller may not see; so a document of
//! another tenant (or a deleted one, or a draft the role may not read) is a 404 like a missing
//! one, never a 403 that would tell it exists.

use axum::Json;
use axum::http::StatusCode;
use chrono::Utc;
use orm_postgres::prelude::*;
use serde::{Deserialize, Serialize};

use super::caller::Tenant;
use super::models::{DELETE, Document, WRITE};
use crate::api::ApiError;
use crate::api::input::{Body, Id};

/// `POST /documents`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDocument {
    /// Its title.
    pub title: String,
    /// Its text.
    #[serde(default)]
    pub body: String,
    /// Visible to the whole tenant at once.
    #[serde(default)]
    pub published: bool,
}

/// `PATCH /documents/{id}`: the fields to change.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentPatch {
    /// A new title.
    pub title: Option<String>,
    /// A new text.
    pub body: Option<String>,
    /// Publish or unpublish.
    pub published: Option<bool>,
}

/// A document, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentOut {
    /// Its id.
    pub id: i64,
    /// Its author's account.
    pub owner_id: i64,
    /// Its title.
    pub title: String,
    /// Its text.
    pub body: String,
    /// Whether it is published.
    pub published: bool,
}

impl From<&Document> for DocumentOut {
    fn from(d: &Document) -> DocumentOut {
        DocumentOut {
            id: d.id,
            owner_id: d.owner_id,
            title: d.title.clone(),
            body: d.body.clone(),
            published: d.published,
        }
    }
}

/// `GET /me`: the caller's account, role and permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// The account's id.
    pub id: i64,
    /// Its tenant.
    pub tenant_id: i64,
    /// Its name.
    pub name: String,
    /// Its role's name.
    pub role: String,
    /// The role's permissions, by name.
    pub permissions: Vec<String>,
}

/// `GET /me`.
pub async fn me(t: Tenant) -> Result<Json<Me>, ApiError> {
    let a = &t.caller.account;
    Ok(Json(Me {
        id: a.id,
        tenant_id: a.tenant_id,
        name: a.name.clone(),
        role: a.role.get()?.name.clone(),
        permissions: t.caller.permissions.clone(),
    }))
}

/// `GET /documents`: the documents the caller can see, by id.
pub async fn list(mut t: Tenant) -> Result<Json<Vec<DocumentOut>>, ApiError> {
    let docs =
        t.s.fetch_all(select::<Document>().order_by(Document::id))
            .await?;
    Ok(Json(docs.iter().map(DocumentOut::from).collect()))
}

/// `POST /documents` → 201; 403 without `documents.write`.
pub async fn create(
    mut t: Tenant,
    Body(new): Body<NewDocument>,
) -> Result<(StatusCode, Json<DocumentOut>), ApiError> {
    t.caller.require(WRITE)?;
    if new.title.trim().is_empty() {
        return Err(ApiError::invalid("title", "must not be blank"));
    }
    let me = &t.caller.account;
    let doc = t.s.add(Document {
        tenant_id: me.tenant_id,
        owner_id: me.id,
        title: new.title.trim().to_owned(),
        body: new.body,
        published: new.published,
        ..Default::default()
    });
    t.s.flush().await?;
    let out = DocumentOut::from(&*doc.read());
    Ok((StatusCode::CREATED, Json(out)))
}

/// The document `id` if the caller can see it, else a 404.
async fn visible(t: &mut Tenant, id: i64) -> Result<Tracked<Document>, ApiError> {
    t.s.get::<Document>(id)
        .await?
        .ok_or_else(|| ApiError::not_found("document", id))
}

/// `GET /documents/{id}` → 200; 404 when the caller cannot see it.
pub async fn get(mut t: Tenant, Id(id): Id) -> Result<Json<DocumentOut>, ApiError> {
    let doc = visible(&mut t, id).await?;
    let out = DocumentOut::from(&*doc.read());
    Ok(Json(out))
}

/// `PATCH /documents/{id}` → 200; 404 when the caller cannot see it, 403 when it sees it but
/// may not write.
pub async fn update(
    mut t: Tenant,
    Id(id): Id,
    Body(patch): Body<DocumentPatch>,
) -> Result<Json<DocumentOut>, ApiError> {
    let doc = visible(&mut t, id).await?;
    t.caller.require(WRITE)?;
    {
        let mut d = doc.write();
        if let Some(title) = patch.title {
            if title.trim().is_empty() {
                return Err(ApiError::invalid("title", "must not be blank"));
            }
            d.title = title.trim().to_owned();
        }
        if let Some(body) = patch.body {
            d.body = body;
        }
        if let Some(published) = patch.published {
            d.published = published;
        }
    }
    t.s.flush().await?;
    let out = DocumentOut::from(&*doc.read());
    Ok(Json(out))
}

/// `DELETE /documents/{id}` → 204 (a soft delete: `deleted_at` is set); 404 when the caller
/// cannot see it, 403 when it sees it but may not delete.
pub async fn remove(mut t: Tenant, Id(id): Id) -> Result<StatusCode, ApiError> {
    let doc = visible(&mut t, id).await?;
    t.caller.require(DELETE)?;
    doc.write().deleted_at = Some(Utc::now());
    t.s.flush().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /documents/publish`: publishes every draft the caller can see, in one `UPDATE`
/// (which the criteria confine like any query) → 200 `{"published": n}`; 403 without
/// `documents.write`.
pub async fn publish_all(mut t: Tenant) -> Result<Json<serde_json::Value>, ApiError> {
    t.caller.require(WRITE)?;
    let n =
        t.s.execute(
            orm_postgres::stmt::update::<Document>()
                .set(Document::published, true)
                .filter(Document::published.eq(false)),
        )
        .await?;
    Ok(Json(serde_json::json!({ "published": n })))
}
