//! Role-based access on the service: accounts of several tenants, each with a role (`admin`,
//! `editor`, `viewer`) whose permissions (many-to-many) say what it may do with the tenant's
//! documents. Row-level access is the session's global criteria, set per request from the
//! caller ([`caller::scope`]): a handler writes plain queries, and no statement it runs (a
//! list, a `get`, a bulk `UPDATE`) reaches a row of another tenant, a deleted document, or a
//! draft its role may not read.
//!
//! | method and path | does | answers |
//! |---|---|---|
//! | `GET /me` | the caller's account, role and permissions | 200, 401 |
//! | `GET /documents` | the documents the caller can see | 200, 401 |
//! | `POST /documents` | create `{title, body?, published?}` in the caller's tenant | 201, 401, 403, 422 |
//! | `GET /documents/{id}` | get | 200, 401, 404 |
//! | `PATCH /documents/{id}` | change `{title?, body?, published?}` | 200, 401, 403, 404, 422 |
//! | `DELETE /documents/{id}` | soft delete | 204, 401, 403, 404 |
//! | `POST /documents/publish` | publish every visible draft (one `UPDATE`) | 200, 401, 403 |
//!
//! Every route needs the `x-account-id` header (a stand-in for real authentication). A row
//! the caller cannot see is a 404, as if it did not exist: a 403 only ever answers an action
//! on a row the caller can see.

pub mod caller;
pub mod documents;
pub mod models;

use std::collections::HashMap;

use orm_postgres::prelude::*;

use models::{DELETE, Permission, READ_DRAFTS, Role, RolePermission, WRITE};

/// The roles [`seed_roles`] creates, with their permissions.
pub const ROLES: &[(&str, &[&str])] = &[
    ("admin", &[READ_DRAFTS, WRITE, DELETE]),
    ("editor", &[READ_DRAFTS, WRITE]),
    ("viewer", &[]),
];

/// Creates the permissions and the [`ROLES`]; returns the roles' ids by name.
pub async fn seed_roles(db: &impl Executor) -> orm_postgres::Result<HashMap<String, i64>> {
    let permissions: Vec<Permission> = [READ_DRAFTS, WRITE, DELETE]
        .iter()
        .map(|name| Permission {
            name: (*name).to_owned(),
            ..Default::default()
        })
        .collect();
    let permissions = db.fetch_all(insert_many(&permissions)).await?;
    let roles: Vec<Role> = ROLES
        .iter()
        .map(|(name, _)| Role {
            name: (*name).to_owned(),
            ..Default::default()
        })
        .collect();
    let roles = db.fetch_all(insert_many(&roles)).await?;
    let mut links = Vec::new();
    for (role, (_, granted)) in roles.iter().zip(ROLES) {
        for p in permissions
            .iter()
            .filter(|p| granted.contains(&p.name.as_str()))
        {
            links.push(RolePermission {
                role_id: role.id,
                permission_id: p.id,
            });
        }
    }
    db.execute(insert_many(&links).no_returning()).await?;
    Ok(roles.into_iter().map(|r| (r.name, r.id)).collect())
}
