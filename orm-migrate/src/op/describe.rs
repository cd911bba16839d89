//! Describing an operation in one line, for comments and progress.

use super::Op;

impl Op {
    /// One line saying what it does, for comments and progress: `create table public.author`.
    pub fn describe(&self) -> String {
        match self {
            Op::CreateSchema(s) => format!("create schema {s}"),
            Op::CreateExtension(e) => format!("create extension {e}"),
            Op::DropExtension(e) => format!("drop extension {e}"),
            Op::DropSchema(s) => format!("drop schema {s}"),
            Op::CreateEnum(e) => format!("create enum {}", e.name),
            Op::DropEnum(e) => format!("drop enum {}", e.name),
            Op::AddEnumValue { name, label, .. } => format!("add value {label:?} to enum {name}"),
            Op::RenameEnumValue { name, from, to } => {
                format!("rename value {from:?} of enum {name} to {to:?}")
            }
            Op::RecreateEnum { name, to, .. } => {
                format!("recreate enum {name} with labels {}", to.join(", "))
            }
            Op::CreateComposite(c) => format!("create composite type {}", c.name),
            Op::DropComposite(c) => format!("drop composite type {}", c.name),
            Op::AddAttribute { name, attribute } => {
                format!("add attribute {} to type {name}", attribute.name)
            }
            Op::DropAttribute { name, attribute } => {
                format!("drop attribute {} of type {name}", attribute.name)
            }
            Op::AlterAttribute { name, to, .. } => {
                format!("alter attribute {} of type {name}", to.name)
            }
            Op::CreateSequence(s) => format!("create sequence {}", s.name),
            Op::DropSequence(s) => format!("drop sequence {}", s.name),
            Op::SetSequenceOwner { name, .. } => format!("set the owner of sequence {name}"),
            Op::CreateTable(t) => format!("create table {}", t.name),
            Op::DropTable(t) => format!("drop table {}", t.name),
            Op::RenameTable { from, to } => format!("rename table {from} to {}", to.name),
            Op::AddColumn { table, column } => format!("add column {table}.{}", column.name),
            Op::DropColumn { table, column } => format!("drop column {table}.{}", column.name),
            Op::RenameColumn { table, from, to } => {
                format!("rename column {table}.{from} to {to}")
            }
            Op::AlterColumn { table, to, .. } => format!("alter column {table}.{}", to.name),
            Op::AddPrimaryKey { table, key } => format!("add primary key {} on {table}", key.name),
            Op::DropPrimaryKey { table, key } => {
                format!("drop primary key {} on {table}", key.name)
            }
            Op::AddForeignKey { table, key } => format!("add foreign key {} on {table}", key.name),
            Op::DropForeignKey { table, key } => {
                format!("drop foreign key {} on {table}", key.name)
            }
            Op::AddUnique { table, unique } => {
                format!("add unique constraint {} on {table}", unique.name)
            }
            Op::DropUnique { table, unique } => {
                format!("drop unique constraint {} on {table}", unique.name)
            }
            Op::AddCheck { table, check } => {
                format!("add check constraint {} on {table}", check.name)
            }
            Op::DropCheck { table, check } => {
                format!("drop check constraint {} on {table}", check.name)
            }
            Op::ValidateConstraint { table, name } => {
                format!("validate constraint {name} on {table}")
            }
            Op::ValidateDomainConstraint { domain, name } => {
                format!("validate constraint {name} of domain {domain}")
            }
            Op::AddExclusion { table, exclusion } => {
                format!("add exclusion constraint {} on {table}", exclusion.name)
            }
            Op::DropExclusion { table, exclusion } => {
                format!("drop exclusion constraint {} on {table}", exclusion.name)
            }
            Op::CreateIndex { table, index, .. } => {
                format!("create index {} on {table}", index.name)
            }
            Op::DropIndex { table, index, .. } if !index.valid => {
                format!("drop invalid index {} on {table}", index.name)
            }
            Op::DropIndex { table, index, .. } => format!("drop index {} on {table}", index.name),
            Op::SetIndexStorage { table, index, .. } => {
                format!("set storage parameters of index {index} on {table}")
            }
            Op::CreateView(v) => format!("create view {}", v.name),
            Op::DropView(v) => format!("drop view {}", v.name),
            Op::CreateObject(o) => format!("create {} {}", o.kind.as_str(), o.name),
            Op::DropObject(o) => format!("drop {} {}", o.kind.as_str(), o.name),
            Op::SetTableComment { table, .. } => format!("comment on table {table}"),
            Op::Safe(s) => s.describe(),
            Op::Note(n) => n.clone(),
        }
    }
}
