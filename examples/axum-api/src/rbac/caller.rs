//! Who calls, and what they may see: the [`Tenant`] extractor identifies the caller's account
//! (the `x-account-id` header stands in for real authentication, a session cookie or a token),
//! loads its role and permissions, and puts the per-request criteria on the request's session
//! before the handler runs, so that no statement the handler writes can reach another
//! tenant's rows, a deleted document, or a draft the role may not read.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use orm_postgres::prelude::*;

use super::models::{Account, Document, READ_DRAFTS, Role};
use crate::api::{ApiError, DbSession};

/// The header naming the caller's account.
pub const ACCOUNT_HEADER: &str = "x-account-id";

/// The caller's account, with its role and the role's permissions loaded.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The account (its `role` loaded, with the role's permissions).
    pub account: Account,
    /// The names of the role's permissions.
    pub permissions: Vec<String>,
}

impl Caller {
    /// Whether the caller's role has `permission`.
    pub fn can(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    /// A 403 unless the caller's role has `permission`. Only asked about rows the caller can
    /// see: a row it cannot see is a 404 before this is asked, so a 403 never tells that a
    /// row exists.
    pub fn require(&self, permission: &str) -> Result<(), ApiError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                needs: permission.to_owned(),
            })
        }
    }
}

/// The request's session, scoped to the caller: `async fn h(mut t: Tenant, ..)`, then
/// `t.s.all(select::<Document>())` sees only what the caller may see.
pub struct Tenant {
    /// The request's session, with the caller's criteria.
    pub s: DbSession,
    /// Who calls.
    pub caller: Caller,
}

impl<S: Send + Sync> FromRequestParts<S> for Tenant {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let mut s = DbSession::from_request_parts(parts, state).await?;
        let id = parts
            .headers
            .get(ACCOUNT_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
            .ok_or_else(|| ApiError::Unauthenticated.into_response())?;
        let account = s
            .fetch_optional(
                select::<Account>()
                    .filter(Account::id.eq(id))
                    .load(Account::role.selectin().load(Role::permissions.selectin())),
            )
            .await
            .map_err(|e| ApiError::from(e).into_response())?
            .ok_or_else(|| ApiError::Unauthenticated.into_response())?;
        let permissions = account
            .role
            .get()
            .and_then(|role| role.permissions.get())
            .map_err(|e| ApiError::from(e).into_response())?
            .iter()
            .map(|p| p.name.clone())
            .collect();
        let caller = Caller {
            account,
            permissions,
        };
        scope(&mut s, &caller).map_err(|e| ApiError::from(e).into_response())?;
        Ok(Tenant { s, caller })
    }
}

/// The per-request criteria: the caller's tenant on every table that has one; documents not
/// deleted; and, unless the role reads drafts, published documents or the caller's own. Each
/// value is a parameter: every caller's statements share their SQL (and prepared statements).
pub fn scope(s: &mut Session, caller: &Caller) -> orm_postgres::Result<()> {
    let me = &caller.account;
    s.with_criteria::<Account>(Account::tenant_id.eq(me.tenant_id))?;
    s.with_criteria::<Document>(Document::tenant_id.eq(me.tenant_id))?;
    s.with_criteria::<Document>(Document::deleted_at.is_null())?;
    if !caller.can(READ_DRAFTS) {
        s.with_criteria::<Document>(
            Document::published
                .eq(true)
                .or(Document::owner_id.eq(me.id)),
        )?;
    }
    Ok(())
}
