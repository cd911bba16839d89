//! The RBAC tables: permissions, roles (many-to-many), the accounts of each tenant with their
//! role, and the tenants' documents (soft-deleted with `deleted_at`).

use chrono::{DateTime, Utc};
use orm_postgres::prelude::*;

/// May read the tenant's unpublished documents (drafts), not only the published ones and
/// its own.
pub const READ_DRAFTS: &str = "documents.read_drafts";
/// May create documents and change the documents it can read.
pub const WRITE: &str = "documents.write";
/// May delete the documents it can read.
pub const DELETE: &str = "documents.delete";

/// A permission, named like [`WRITE`].
#[derive(Model, Debug, Clone, Default)]
#[model(table = "rbac_permissions")]
pub struct Permission {
    /// Generated key.
    #[model(primary_key, generated)]
    pub id: i64,
    /// Unique: `documents.write`.
    #[model(unique, len = 80)]
    pub name: String,
}

/// A role and its permissions.
#[derive(Model, Debug, Clone, Default)]
#[model(table = "rbac_roles")]
pub struct Role {
    /// Generated key.
    #[model(primary_key, generated)]
    pub id: i64,
    /// Unique: `admin`, `editor`, `viewer`.
    #[model(unique, len = 40)]
    pub name: String,
    /// What the role may do, through `rbac_role_permissions`.
    #[relationship(many_to_many = Permission, secondary = RolePermission, order_by = "name")]
    pub permissions: Related<Vec<Permission>>,
}

/// The association of roles and permissions.
#[derive(Model, Debug, Clone, Default)]
#[model(table = "rbac_role_permissions")]
pub struct RolePermission {
    /// The role.
    #[model(primary_key, references = "rbac_roles.id", on_delete = "cascade")]
    pub role_id: i64,
    /// The permission.
    #[model(
        primary_key,
        references = "rbac_permissions.id",
        on_delete = "cascade",
        index
    )]
    pub permission_id: i64,
}

/// An account of a tenant, with one role.
#[derive(Model, Debug, Clone, Default)]
#[model(table = "rbac_accounts")]
pub struct Account {
    /// Generated key; the caller names it in the `x-account-id` header.
    #[model(primary_key, generated)]
    pub id: i64,
    /// The tenant it belongs to.
    #[model(index)]
    pub tenant_id: i64,
    /// Display name.
    #[model(len = 80)]
    pub name: String,
    /// Its role.
    #[model(references = "rbac_roles.id", index)]
    pub role_id: i64,
    /// Its role, loaded with the role's permissions by the caller extractor.
    #[relationship(belongs_to = Role, foreign_key = "role_id")]
    pub role: Related<Role>,
}

/// A document of a tenant. Deleting one sets `deleted_at` (soft delete); the service never
/// shows it again.
///
/// Every change through a session is audited: [`Hooks`] add an [`AuditEntry`] with the
/// document's values before and after, written in the same transaction. (Bulk statements such
/// as the publish endpoint's `UPDATE` run no hooks: they are not audited.)
#[derive(Model, Debug, Clone, Default)]
#[model(table = "rbac_documents", hooks)]
pub struct Document {
    /// Generated key.
    #[model(primary_key, generated)]
    pub id: i64,
    /// The tenant it belongs to.
    #[model(index)]
    pub tenant_id: i64,
    /// Who wrote it.
    #[model(references = "rbac_accounts.id", index)]
    pub owner_id: i64,
    /// Its title.
    #[model(len = 200)]
    pub title: String,
    /// Its text.
    pub body: String,
    /// Published documents are visible to every account of the tenant; drafts to their owner
    /// and to roles with [`READ_DRAFTS`].
    #[model(default = "false")]
    pub published: bool,
    /// Set when deleted.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl Document {
    /// The values an audit entry records.
    fn audited(&self) -> serde_json::Value {
        serde_json::json!({
            "title": self.title,
            "body": self.body,
            "published": self.published,
            "deleted_at": self.deleted_at.map(|t| t.to_rfc3339()),
        })
    }
}

impl Hooks for Document {
    fn after_insert(&self, ctx: &mut HookContext) -> orm_postgres::Result<()> {
        ctx.add(AuditEntry::of(
            self.id,
            "insert",
            None,
            Some(self.audited()),
        ));
        Ok(())
    }

    fn audit_update(
        &self,
        old: &Self,
        _: ColumnSet,
        ctx: &mut HookContext,
    ) -> orm_postgres::Result<()> {
        let action = if old.deleted_at.is_none() && self.deleted_at.is_some() {
            "delete"
        } else {
            "update"
        };
        ctx.add(AuditEntry::of(
            self.id,
            action,
            Some(old.audited()),
            Some(self.audited()),
        ));
        Ok(())
    }
}

/// One change to a document, with its values before and after (`NULL` before an insert).
#[derive(Model, Debug, Clone, Default)]
#[model(table = "rbac_audit")]
pub struct AuditEntry {
    /// Generated key.
    #[model(primary_key, generated)]
    pub id: i64,
    /// The document changed (no foreign key: the audit outlives a hard delete).
    #[model(index)]
    pub document_id: i64,
    /// `insert`, `update` or `delete` (a soft delete).
    #[model(len = 10)]
    pub action: String,
    /// The audited values before the change.
    pub before: Option<serde_json::Value>,
    /// The audited values after the change.
    pub after: Option<serde_json::Value>,
    /// When the session flushed the change.
    pub at: DateTime<Utc>,
}

impl AuditEntry {
    fn of(
        document_id: i64,
        action: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Self {
        AuditEntry {
            id: 0,
            document_id,
            action: action.to_owned(),
            before,
            after,
            at: Utc::now(),
        }
    }
}

/// The RBAC tables, parents first.
pub const TABLES: &[&orm_postgres::Table] = &[
    Permission::TABLE,
    Role::TABLE,
    RolePermission::TABLE,
    Account::TABLE,
    Document::TABLE,
    AuditEntry::TABLE,
];
