//! The models of the global criteria tests (soft delete and tenants): projects with tasks
//! (one-to-many) and labels (many-to-many), every table carrying a tenant and a soft-delete
//! timestamp.

use chrono::{DateTime, Utc};
use orm_postgres::prelude::*;

/// A project of a tenant; soft-deleted when `deleted_at` is set.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "cr_project")]
pub struct Project {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(index)]
    pub tenant_id: i64,
    pub name: String,
    pub deleted_at: Option<DateTime<Utc>>,
    #[relationship(has_many = Task, foreign_key = "project_id", order_by = "id", back_populates = "project")]
    pub tasks: Related<Vec<Task>>,
    #[relationship(many_to_many = Label, secondary = ProjectLabel, order_by = "id")]
    pub labels: Related<Vec<Label>>,
}

/// A task of a project (of the same tenant); soft-deleted when `deleted_at` is set.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "cr_task")]
pub struct Task {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "cr_project.id", on_delete = "cascade", index)]
    pub project_id: i64,
    pub tenant_id: i64,
    pub title: String,
    pub deleted_at: Option<DateTime<Utc>>,
    #[relationship(belongs_to = Project, foreign_key = "project_id", back_populates = "tasks")]
    pub project: Related<Project>,
}

/// A label; soft-deleted when `deleted_at` is set.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "cr_label")]
pub struct Label {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// The association of projects and labels.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "cr_project_label")]
pub struct ProjectLabel {
    #[model(primary_key, references = "cr_project.id", on_delete = "cascade")]
    pub project_id: i64,
    #[model(primary_key, references = "cr_label.id", on_delete = "cascade")]
    pub label_id: i64,
}
