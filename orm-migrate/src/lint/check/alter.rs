//! `ALTER TABLE`'s actions, one by one: what each does to an existing table (the lock it takes,
//! whether it rewrites or scans the rows) and what the run remembers of it (column types,
//! `NOT VALID` constraints validated later).

use super::*;

impl State<'_> {
    pub(super) fn alter_table(
        &mut self,
        table: &QualifiedName,
        op: &AlterTableOperation,
        s: &mut ScriptState,
        out: &mut Vec<Found>,
    ) {
        let exists = self.exists(table);
        let lock = |mode| {
            Some(Lock {
                mode,
                table: table.clone(),
            })
        };
        match op {
            AlterTableOperation::AddColumn {
                column_def: col, ..
            } => {
                let is_pk = options(col).any(|o| matches!(o, ColumnOption::PrimaryKey(_)));
                self.column_types(table, col, is_pk && !exists, out);
                if !exists {
                    return;
                }
                let c = name(&col.name);
                let default = options(col).find_map(|o| match o {
                    ColumnOption::Default(e) => Some(e),
                    _ => None,
                });
                let generated = options(col).find_map(|o| match o {
                    ColumnOption::Generated {
                        generated_as,
                        generation_expr,
                        generation_expr_mode,
                        ..
                    } => Some((
                        generated_as,
                        generation_expr.is_some(),
                        generation_expr_mode,
                    )),
                    _ => None,
                });
                let required = options(col)
                    .any(|o| matches!(o, ColumnOption::NotNull | ColumnOption::PrimaryKey(_)));
                if required
                    && default.is_none()
                    && generated.is_none()
                    && !is_serial(&col.data_type)
                {
                    out.push(
                        Found::new(
                            Rule::AddingRequiredColumn,
                            format!(
                                "adds {c} NOT NULL to {table}, which exists, without a default"
                            ),
                        )
                        .lock(lock(LockMode::AccessExclusive)),
                    );
                }
                let volatile = default.and_then(volatile_call);
                let why = match (&volatile, generated) {
                    (Some(f), _) => Some(format!("its default calls {f}()")),
                    _ if is_serial(&col.data_type) => Some("it is a serial".to_string()),
                    (None, Some((GeneratedAs::Always | GeneratedAs::ByDefault, false, _))) => {
                        Some("it is an identity column".to_string())
                    }
                    (None, Some((_, true, mode)))
                        if !matches!(mode, Some(GeneratedExpressionMode::Virtual)) =>
                    {
                        Some("it is a stored generated column".to_string())
                    }
                    _ => None,
                };
                if let Some(why) = why {
                    out.push(Found::new(
                        Rule::AddingVolatileDefault,
                        format!("adds {c} to {table}, which exists: {why}, so every row is rewritten"),
                    ).lock(lock(LockMode::AccessExclusive)));
                }
                for o in options(col) {
                    self.inline_constraint(table, o, out);
                }
            }
            AlterTableOperation::AlterColumn { column_name, op } => {
                let c = name(column_name);
                match op {
                    AlterColumnOperation::SetDataType {
                        data_type, using, ..
                    } => {
                        let to = Ty::of(data_type);
                        if exists {
                            let from = self.column_type(table, &c);
                            // `USING col::type` is the conversion PostgreSQL makes without
                            // one (the column, cast to the new type): as free as none.
                            let plain = using
                                .as_ref()
                                .is_none_or(|u| is_plain_cast(u, &c, data_type));
                            let free = plain && from.as_ref().is_some_and(|f| rewrite_free(f, &to));
                            if !free {
                                let what = match (&from, using) {
                                    (_, Some(u)) if !plain => {
                                        format!("changes {table}.{c} to {data_type} USING {u}")
                                    }
                                    (Some(f), _) => format!(
                                        "changes {table}.{c} from {} to {data_type}",
                                        show(f)
                                    ),
                                    (None, _) => format!(
                                        "changes {table}.{c} to {data_type}, from a type not known here (lint against the database to know whether the cast is binary-compatible)"
                                    ),
                                };
                                out.push(
                                    Found::new(Rule::ChangingColumnType, what)
                                        .lock(lock(LockMode::AccessExclusive)),
                                );
                            }
                        }
                        self.types.insert((table.clone(), c), to);
                    }
                    AlterColumnOperation::SetNotNull
                        if exists
                            && !self.not_null_checks.contains(&(table.clone(), c.clone())) =>
                    {
                        out.push(Found::new(
                            Rule::SettingNotNull,
                            format!("sets {table}.{c} NOT NULL with no validated CHECK ({c} IS NOT NULL) before it"),
                        ).lock(lock(LockMode::AccessExclusive)));
                    }
                    _ => {}
                }
            }
            AlterTableOperation::AddConstraint {
                constraint,
                not_valid,
            } => {
                let cname = constraint_name(constraint);
                match constraint {
                    TableConstraint::ForeignKey(_) if exists && !not_valid => {
                        out.push(Found::new(
                                Rule::ConstraintNotValid,
                                format!("adds foreign key {} to {table}, which exists, validating it at once", cname.as_deref().unwrap_or("(unnamed)")),
                            ).lock(lock(LockMode::ShareRowExclusive)));
                    }
                    TableConstraint::Check(ck) => {
                        if exists && !not_valid {
                            out.push(Found::new(
                                Rule::ConstraintNotValid,
                                format!("adds check {} to {table}, which exists, validating it at once", cname.as_deref().unwrap_or("(unnamed)")),
                            ).lock(lock(LockMode::AccessExclusive)));
                        }
                        if let Some(col) = is_not_null_check(&ck.expr) {
                            match (&cname, *not_valid) {
                                (Some(n), true) => {
                                    self.pending_checks.insert(n.clone(), (table.clone(), col));
                                }
                                _ => {
                                    self.not_null_checks.insert((table.clone(), col));
                                }
                            }
                        }
                    }
                    TableConstraint::Unique(_) | TableConstraint::PrimaryKey(_) if exists => {
                        out.push(Found::new(
                            Rule::AddingUniqueConstraint,
                            format!("adds {} to {table}, which exists, building its index under the table's lock", cname.as_deref().unwrap_or("a unique constraint")),
                        ).lock(lock(LockMode::AccessExclusive)));
                    }
                    _ => {}
                }
                if *not_valid {
                    if let Some(n) = cname {
                        s.not_valid.insert(n);
                    }
                }
            }
            AlterTableOperation::ValidateConstraint { name: n } => {
                let n = name(n);
                if s.transactional && s.not_valid.contains(&n) {
                    out.push(
                        Found::new(
                            Rule::ValidateInTransaction,
                            format!(
                                "validates {n}, added NOT VALID earlier in the same transaction"
                            ),
                        )
                        .lock(lock(LockMode::AccessExclusive)),
                    );
                }
                if let Some(check) = self.pending_checks.remove(&n) {
                    self.not_null_checks.insert(check);
                }
            }
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => {
                let (old, new) = (name(old_column_name), name(new_column_name));
                if exists {
                    out.push(
                        Found::new(
                            Rule::RenamingColumn,
                            format!("renames {table}.{old} to {new}"),
                        )
                        .lock(lock(LockMode::AccessExclusive)),
                    );
                }
                if self.maps_column(table, &old) {
                    out.push(Found::new(
                        Rule::RemovingMappedColumn,
                        format!("renames away {table}.{old}, which the models map"),
                    ));
                }
                // The type the run set, or the database's: the new name has it now.
                let ty = self.types.remove(&(table.clone(), old.clone()));
                if let Some(t) = ty.or_else(|| self.column_type(table, &old)) {
                    self.types.insert((table.clone(), new), t);
                }
            }
            AlterTableOperation::RenameTable { table_name } => {
                // `RENAME TO new` (the kind's Display is "TO new", not the name).
                let (RenameTableNameKind::To(n) | RenameTableNameKind::As(n)) = table_name;
                let new = qualified_or(&table.schema, n);
                if exists {
                    out.push(
                        Found::new(Rule::RenamingTable, format!("renames {table} to {new}"))
                            .lock(lock(LockMode::AccessExclusive)),
                    );
                }
                if self.maps_table(table) {
                    out.push(Found::new(
                        Rule::RemovingMappedTable,
                        format!("renames away {table}, which the models map"),
                    ));
                }
                if self.created.remove(table) {
                    self.created.insert(new);
                } else {
                    self.renamed.insert(new, table.clone());
                }
            }
            AlterTableOperation::DropColumn { column_names, .. } => {
                for c in column_names.iter().map(name) {
                    self.types.remove(&(table.clone(), c.clone()));
                    if self.maps_column(table, &c) {
                        out.push(
                            Found::new(
                                Rule::RemovingMappedColumn,
                                format!("drops {table}.{c}, which the models map"),
                            )
                            .lock(lock(LockMode::AccessExclusive)),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    fn inline_constraint(&self, table: &QualifiedName, o: &ColumnOption, out: &mut Vec<Found>) {
        let lock = |mode| {
            Some(Lock {
                mode,
                table: table.clone(),
            })
        };
        match o {
            ColumnOption::Unique(_) | ColumnOption::PrimaryKey(_) => out.push(
                Found::new(
                    Rule::AddingUniqueConstraint,
                    format!("adds a column with a unique index to {table}, which exists"),
                )
                .lock(lock(LockMode::AccessExclusive)),
            ),
            ColumnOption::ForeignKey(_) => out.push(
                Found::new(
                    Rule::ConstraintNotValid,
                    format!("adds a column with a foreign key to {table}, which exists"),
                )
                .lock(lock(LockMode::ShareRowExclusive)),
            ),
            ColumnOption::Check(_) => out.push(
                Found::new(
                    Rule::ConstraintNotValid,
                    format!("adds a column with a check to {table}, which exists"),
                )
                .lock(lock(LockMode::AccessExclusive)),
            ),
            _ => {}
        }
    }
}

/// Whether `using` is the column `column` cast to `to` (`column::to`, `CAST(column AS to)`):
/// the conversion `ALTER COLUMN … TYPE` makes when given no `USING`.
fn is_plain_cast(
    using: &sqlparser::ast::Expr,
    column: &str,
    to: &sqlparser::ast::DataType,
) -> bool {
    use sqlparser::ast::Expr;
    match using {
        Expr::Cast {
            expr,
            data_type,
            format: None,
            ..
        } => {
            data_type == to
                && match expr.as_ref() {
                    Expr::Identifier(id) => name(id) == column,
                    Expr::Nested(inner) => {
                        matches!(inner.as_ref(), Expr::Identifier(id) if name(id) == column)
                    }
                    _ => false,
                }
        }
        Expr::Nested(inner) => is_plain_cast(inner, column, to),
        _ => false,
    }
}
