//! Rendering an operation's upgrade SQL.

use crate::render::{column_definition, ident, idents, literal, qualified};
use crate::schema::{Check, Exclusion, ForeignKey, ObjectKind, PrimaryKey, QualifiedName, Unique};

use super::Op;
use super::ddl::{
    alter, alter_column_sql, comment, create_enum_sql, create_index_sql, create_table_sql,
    drop_index_sql, foreign_key_clause, not_valid, storage_parameters, storage_parameters_sql,
    unique_clause, view_kind,
};
use super::enums::recreate_enum_sql;

impl Op {
    /// The upgrade statements, without trailing semicolons.
    pub fn up(&self) -> Vec<String> {
        match self {
            Op::CreateSchema(s) => vec![format!("CREATE SCHEMA IF NOT EXISTS {}", ident(s))],
            Op::CreateExtension(e) => vec![format!("CREATE EXTENSION IF NOT EXISTS {}", ident(e))],
            Op::DropExtension(e) => vec![format!("DROP EXTENSION IF EXISTS {}", ident(e))],
            Op::DropSchema(s) => vec![format!("DROP SCHEMA {}", ident(s))],
            Op::CreateEnum(e) => vec![create_enum_sql(&e.name, &e.labels)],
            Op::DropEnum(e) => vec![format!("DROP TYPE {}", qualified(&e.name))],
            Op::AddEnumValue {
                name,
                label,
                before,
                ..
            } => {
                let mut s = format!(
                    "ALTER TYPE {} ADD VALUE IF NOT EXISTS {}",
                    qualified(name),
                    literal(label)
                );
                if let Some(b) = before {
                    s.push_str(&format!(" BEFORE {}", literal(b)));
                }
                vec![s]
            }
            Op::RenameEnumValue { name, from, to } => vec![format!(
                "ALTER TYPE {} RENAME VALUE {} TO {}",
                qualified(name),
                literal(from),
                literal(to)
            )],
            Op::RecreateEnum { name, to, uses, .. } => recreate_enum_sql(name, to, uses),
            Op::CreateComposite(c) => {
                let attributes: Vec<String> = c
                    .attributes
                    .iter()
                    .map(|a| format!("{} {}", ident(&a.name), a.data_type))
                    .collect();
                vec![format!(
                    "CREATE TYPE {} AS ({})",
                    qualified(&c.name),
                    attributes.join(", ")
                )]
            }
            Op::DropComposite(c) => vec![format!("DROP TYPE {}", qualified(&c.name))],
            Op::AddAttribute { name, attribute } => vec![format!(
                "ALTER TYPE {} ADD ATTRIBUTE {} {}",
                qualified(name),
                ident(&attribute.name),
                attribute.data_type
            )],
            Op::DropAttribute { name, attribute } => vec![format!(
                "ALTER TYPE {} DROP ATTRIBUTE {}",
                qualified(name),
                ident(&attribute.name)
            )],
            Op::AlterAttribute { name, to, .. } => vec![format!(
                "ALTER TYPE {} ALTER ATTRIBUTE {} TYPE {}",
                qualified(name),
                ident(&to.name),
                to.data_type
            )],
            Op::CreateSequence(s) => vec![format!(
                "CREATE SEQUENCE {} AS {}",
                qualified(&s.name),
                s.data_type
            )],
            Op::DropSequence(s) => vec![format!("DROP SEQUENCE IF EXISTS {}", qualified(&s.name))],
            Op::SetSequenceOwner { name, to, .. } => vec![format!(
                "ALTER SEQUENCE {} OWNED BY {}",
                qualified(name),
                to.as_ref().map_or_else(
                    || "NONE".to_owned(),
                    |(t, c)| format!("{}.{}", qualified(t), ident(c))
                )
            )],
            Op::CreateTable(t) => create_table_sql(t),
            Op::DropTable(t) => vec![format!("DROP TABLE {}", qualified(&t.name))],
            Op::RenameTable { from, to } => {
                vec![format!("{} RENAME TO {}", alter(from), ident(&to.name))]
            }
            Op::AddColumn { table, column } => {
                let mut out = vec![format!(
                    "{} ADD COLUMN {}",
                    alter(table),
                    column_definition(column)
                )];
                if let Some(c) = &column.comment {
                    out.push(format!(
                        "COMMENT ON COLUMN {}.{} IS {}",
                        qualified(table),
                        ident(&column.name),
                        literal(c)
                    ));
                }
                out
            }
            Op::DropColumn { table, column } => vec![format!(
                "{} DROP COLUMN {}",
                alter(table),
                ident(&column.name)
            )],
            Op::RenameColumn { table, from, to } => vec![format!(
                "{} RENAME COLUMN {} TO {}",
                alter(table),
                ident(from),
                ident(to)
            )],
            Op::AlterColumn { table, from, to } => alter_column_sql(table, from, to),
            Op::AddPrimaryKey { table, key } => vec![format!(
                "{} ADD CONSTRAINT {} PRIMARY KEY ({})",
                alter(table),
                ident(&key.name),
                idents(&key.columns)
            )],
            Op::AddForeignKey { table, key } => vec![format!(
                "{} ADD CONSTRAINT {} {}{}",
                alter(table),
                ident(&key.name),
                foreign_key_clause(key),
                not_valid(key.validated)
            )],
            Op::AddUnique { table, unique } => vec![format!(
                "{} ADD CONSTRAINT {} {}",
                alter(table),
                ident(&unique.name),
                unique_clause(unique)
            )],
            Op::AddCheck {
                table,
                check:
                    Check {
                        name,
                        definition,
                        validated,
                    },
            } => vec![format!(
                "{} ADD CONSTRAINT {} {definition}{}",
                alter(table),
                ident(name),
                not_valid(*validated)
            )],
            Op::ValidateConstraint { table, name } => vec![format!(
                "{} VALIDATE CONSTRAINT {}",
                alter(table),
                ident(name)
            )],
            Op::ValidateDomainConstraint { domain, name } => vec![format!(
                "ALTER DOMAIN {} VALIDATE CONSTRAINT {}",
                qualified(domain),
                ident(name)
            )],
            Op::AddExclusion {
                table,
                exclusion: Exclusion { name, definition },
            } => vec![format!(
                "{} ADD CONSTRAINT {} {}",
                alter(table),
                ident(name),
                definition
            )],
            Op::DropPrimaryKey {
                table,
                key: PrimaryKey { name, .. },
            }
            | Op::DropForeignKey {
                table,
                key: ForeignKey { name, .. },
            }
            | Op::DropUnique {
                table,
                unique: Unique { name, .. },
            }
            | Op::DropCheck {
                table,
                check: Check { name, .. },
            }
            | Op::DropExclusion {
                table,
                exclusion: Exclusion { name, .. },
            } => vec![format!("{} DROP CONSTRAINT {}", alter(table), ident(name))],
            Op::CreateIndex {
                table,
                index,
                concurrently,
            } => {
                let create = create_index_sql(table, index, *concurrently);
                if *concurrently {
                    vec![drop_index_sql(table, index, true), create]
                } else {
                    vec![create]
                }
            }
            Op::DropIndex {
                table,
                index,
                concurrently,
            } => vec![drop_index_sql(table, index, *concurrently)],
            Op::SetIndexStorage {
                table,
                index,
                from,
                to,
            } => {
                let target = qualified(&QualifiedName::new(table.schema.clone(), index.clone()));
                let (from, to) = (storage_parameters(from), storage_parameters(to));
                let set: Vec<String> = to
                    .iter()
                    .filter(|(name, value)| from.get(*name) != Some(*value))
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect();
                let reset: Vec<&str> = from
                    .keys()
                    .filter(|name| !to.contains_key(*name))
                    .map(String::as_str)
                    .collect();
                let mut out = Vec::new();
                if !set.is_empty() {
                    out.push(format!(
                        "ALTER INDEX {target} SET ({})",
                        storage_parameters_sql(&set)
                    ));
                }
                if !reset.is_empty() {
                    out.push(format!("ALTER INDEX {target} RESET ({})", reset.join(", ")));
                }
                out
            }
            Op::CreateView(v) => vec![format!(
                "CREATE {} {} AS\n{}",
                view_kind(v),
                qualified(&v.name),
                v.definition.trim().trim_end_matches(';')
            )],
            Op::DropView(v) => vec![format!("DROP {} {}", view_kind(v), qualified(&v.name))],
            // As pg_dump does: a function body may call one created after it.
            Op::CreateObject(o) if o.kind == ObjectKind::Function => vec![
                "SET LOCAL check_function_bodies = off".to_owned(),
                o.create.clone(),
            ],
            Op::CreateObject(o) => vec![o.create.clone()],
            Op::DropObject(o) => vec![o.drop.clone()],
            Op::SetTableComment { table, to, .. } => vec![format!(
                "COMMENT ON TABLE {} IS {}",
                qualified(table),
                comment(to.as_deref())
            )],
            Op::Safe(s) => s.up(),
            Op::Note(_) => Vec::new(),
        }
    }
}
