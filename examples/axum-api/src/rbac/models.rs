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
#[derive(Model, Debug, Clone, Default)]
#[model(table = "rbac_documents")]
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

/// The RBAC tables, parents first.
pub const TABLES: &[&orm_postgres::Table] = &[
    Permission::TABLE,
    Role::TABLE,
    RolePermission::TABLE,
    Account::TABLE,
    Document::TABLE,
];
