//! The safe forms of the steps that, written plainly, lock a table with rows while PostgreSQL
//! reads all of them: [`SafeOp`]. No IO.

use crate::render::{ident, qualified};
use crate::schema::{Check, Column, ForeignKey, PrimaryKey, QualifiedName, Unique};

use super::Op;
use super::ddl::{alter, constraint_index_sql, foreign_key_clause};

/// The longest identifier PostgreSQL keeps (`NAMEDATALEN - 1` bytes).
const MAX_IDENT: usize = 63;

/// A step in the form that keeps a table with rows writable while PostgreSQL reads them.
///
/// | plain | safe | lock while the rows are read |
/// |---|---|---|
/// | `ADD FOREIGN KEY` / `ADD CHECK` | `ADD ... NOT VALID`, then `VALIDATE CONSTRAINT` | `SHARE UPDATE EXCLUSIVE` (writes go on) |
/// | `ALTER COLUMN ... SET NOT NULL` | `ADD CHECK (col IS NOT NULL) NOT VALID`, `VALIDATE`, `SET NOT NULL` (which the valid check spares its scan), `DROP CONSTRAINT` | `SHARE UPDATE EXCLUSIVE` |
/// | `ADD UNIQUE` / `ADD PRIMARY KEY` | `CREATE UNIQUE INDEX CONCURRENTLY`, then `ADD ... USING INDEX` | `SHARE UPDATE EXCLUSIVE` (the index is built concurrently) |
///
/// They run outside a transaction, each statement committing on its own: the lock `ADD ...
/// NOT VALID` takes is released before the validation starts (inside one transaction it would
/// be held until the commit, through the whole scan). A failure part-way leaves the statements
/// before it done, so each safe step first drops what an earlier failed run of it left
/// (`DROP ... IF EXISTS`): the revision can simply be run again once the cause is fixed.
///
/// The last step of each (`SET NOT NULL`, `ADD ... USING INDEX`) takes a brief `ACCESS
/// EXCLUSIVE` lock and reads no rows. The downgrade of each is the plain drop
/// ([`SafeOp::inverse`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SafeOp {
    /// `ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID`, then `VALIDATE CONSTRAINT`.
    ForeignKey {
        /// The table.
        table: QualifiedName,
        /// The key.
        key: ForeignKey,
    },
    /// `ADD CONSTRAINT ... CHECK ... NOT VALID`, then `VALIDATE CONSTRAINT`.
    Check {
        /// The table.
        table: QualifiedName,
        /// The constraint.
        check: Check,
    },
    /// `CREATE UNIQUE INDEX CONCURRENTLY`, then `ADD CONSTRAINT ... UNIQUE USING INDEX`.
    Unique {
        /// The table.
        table: QualifiedName,
        /// The constraint (its index takes its name).
        unique: Unique,
    },
    /// `CREATE UNIQUE INDEX CONCURRENTLY`, then `ADD CONSTRAINT ... PRIMARY KEY USING INDEX`.
    PrimaryKey {
        /// The table.
        table: QualifiedName,
        /// The key (its index takes its name).
        key: PrimaryKey,
    },
    /// `SET NOT NULL` proved by a validated `CHECK (col IS NOT NULL)`, dropped after.
    NotNull {
        /// The table.
        table: QualifiedName,
        /// The column, as it is after (`NOT NULL`).
        column: Column,
    },
}

/// The name of the temporary check that proves `column` of `table` holds no `NULL`:
/// `<table>_<column>_not_null_check`, the table and then the column part shortened (at a
/// character boundary) when the whole would pass PostgreSQL's 63 bytes. Not PostgreSQL's own
/// `<table>_<column>_not_null` (the name of a not-null constraint from version 18 on).
pub fn not_null_check_name(table: &str, column: &str) -> String {
    const SUFFIX: &str = "_not_null_check";
    let fit = |s: &str, max: usize| -> String {
        let mut end = s.len().min(max);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s[..end].to_owned()
    };
    let room = MAX_IDENT - SUFFIX.len() - 1;
    // The table gets what the column leaves, and at least half.
    let table = fit(table, room.saturating_sub(column.len()).max(room / 2));
    let column = fit(column, room - table.len());
    format!("{table}_{column}{SUFFIX}")
}

fn index_name(table: &QualifiedName, name: &str) -> String {
    qualified(&QualifiedName::new(table.schema.clone(), name))
}

/// `CREATE UNIQUE INDEX CONCURRENTLY` (`NULLS NOT DISTINCT` when the constraint is) and `ADD
/// CONSTRAINT ... USING INDEX`, after dropping what a failed run left: the constraint (when
/// the failure came after it) or the index.
fn via_index(
    table: &QualifiedName,
    name: &str,
    columns: &[String],
    nulls_not_distinct: bool,
    kind: &str,
) -> Vec<String> {
    let alter = alter(table);
    let name_ident = ident(name);
    vec![
        format!("{alter} DROP CONSTRAINT IF EXISTS {name_ident}"),
        format!(
            "DROP INDEX CONCURRENTLY IF EXISTS {}",
            index_name(table, name)
        ),
        constraint_index_sql(table, name, columns, nulls_not_distinct, false),
        format!("{alter} ADD CONSTRAINT {name_ident} {kind} USING INDEX {name_ident}"),
    ]
}

/// `ADD CONSTRAINT ... NOT VALID` and `VALIDATE CONSTRAINT`, after dropping what a failed run
/// left.
fn not_valid(table: &QualifiedName, name: &str, clause: &str) -> Vec<String> {
    let alter = alter(table);
    let name = ident(name);
    vec![
        format!("{alter} DROP CONSTRAINT IF EXISTS {name}"),
        format!("{alter} ADD CONSTRAINT {name} {clause} NOT VALID"),
        format!("{alter} VALIDATE CONSTRAINT {name}"),
    ]
}

impl SafeOp {
    /// The upgrade statements, without trailing semicolons.
    pub fn up(&self) -> Vec<String> {
        match self {
            SafeOp::ForeignKey { table, key } => {
                not_valid(table, &key.name, &foreign_key_clause(key))
            }
            SafeOp::Check { table, check } => not_valid(table, &check.name, &check.definition),
            SafeOp::Unique { table, unique } => via_index(
                table,
                &unique.name,
                &unique.columns,
                unique.nulls_not_distinct,
                "UNIQUE",
            ),
            SafeOp::PrimaryKey { table, key } => {
                via_index(table, &key.name, &key.columns, false, "PRIMARY KEY")
            }
            SafeOp::NotNull { table, column } => {
                let check = not_null_check_name(&table.name, &column.name);
                let col = ident(&column.name);
                let mut out = not_valid(table, &check, &format!("CHECK ({col} IS NOT NULL)"));
                let alter = alter(table);
                out.push(format!("{alter} ALTER COLUMN {col} SET NOT NULL"));
                out.push(format!("{alter} DROP CONSTRAINT {}", ident(&check)));
                out
            }
        }
    }

    /// The plain operation it stands for: `ADD CONSTRAINT`, or `ALTER COLUMN ... SET NOT
    /// NULL`.
    pub fn plain(&self) -> Op {
        match self.clone() {
            SafeOp::ForeignKey { table, key } => Op::AddForeignKey { table, key },
            SafeOp::Check { table, check } => Op::AddCheck { table, check },
            SafeOp::Unique { table, unique } => Op::AddUnique { table, unique },
            SafeOp::PrimaryKey { table, key } => Op::AddPrimaryKey { table, key },
            SafeOp::NotNull { table, column } => Op::AlterColumn {
                table,
                from: Column {
                    nullable: true,
                    ..column.clone()
                },
                to: column,
            },
        }
    }

    /// The operation that undoes it: the plain drop (`DROP CONSTRAINT`, `DROP NOT NULL`).
    pub fn inverse(&self) -> Op {
        self.plain().inverse()
    }

    /// One line saying what it does: the plain operation's, and how.
    pub fn describe(&self) -> String {
        let how = match self {
            SafeOp::ForeignKey { .. } | SafeOp::Check { .. } => "NOT VALID, then validated",
            SafeOp::Unique { .. } | SafeOp::PrimaryKey { .. } => "on an index built CONCURRENTLY",
            SafeOp::NotNull { .. } => "set not null, proved first by a validated check",
        };
        format!("{} ({how})", self.plain().describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::FkAction;

    fn book() -> QualifiedName {
        QualifiedName::new("public", "book")
    }

    fn column(name: &str) -> Column {
        Column {
            name: name.into(),
            data_type: "text".into(),
            nullable: false,
            default: None,
            identity: None,
            generated: None,
            collation: None,
            comment: None,
        }
    }

    #[test]
    fn each_safe_form_renders_its_statements_and_reverts_plainly() {
        let fk = SafeOp::ForeignKey {
            table: book(),
            key: ForeignKey {
                name: "book_author_id_fkey".into(),
                columns: vec!["author_id".into()],
                references: QualifiedName::new("public", "author"),
                referenced_columns: vec!["id".into()],
                on_delete: FkAction::Cascade,
                on_update: FkAction::NoAction,
                deferrable: false,
                initially_deferred: false,
                validated: true,
            },
        };
        assert_eq!(
            fk.up(),
            [
                "ALTER TABLE public.book DROP CONSTRAINT IF EXISTS book_author_id_fkey",
                "ALTER TABLE public.book ADD CONSTRAINT book_author_id_fkey FOREIGN KEY \
                 (author_id) REFERENCES public.author (id) ON DELETE CASCADE NOT VALID",
                "ALTER TABLE public.book VALIDATE CONSTRAINT book_author_id_fkey",
            ]
        );
        assert_eq!(
            Op::Safe(fk.clone()).down(),
            ["ALTER TABLE public.book DROP CONSTRAINT book_author_id_fkey"]
        );
        assert_eq!(
            fk.describe(),
            "add foreign key book_author_id_fkey on public.book (NOT VALID, then validated)"
        );
        let check = SafeOp::Check {
            table: book(),
            check: Check {
                name: "book_pages_check".into(),
                definition: "CHECK ((pages > 0))".into(),
                validated: true,
            },
        };
        assert_eq!(
            check.up()[1],
            "ALTER TABLE public.book ADD CONSTRAINT book_pages_check CHECK ((pages > 0)) NOT VALID"
        );
        let unique = SafeOp::Unique {
            table: book(),
            unique: Unique {
                name: "book_isbn_key".into(),
                columns: vec!["isbn".into(), "Edition".into()],
                nulls_not_distinct: false,
            },
        };
        assert_eq!(
            unique.up(),
            [
                "ALTER TABLE public.book DROP CONSTRAINT IF EXISTS book_isbn_key",
                "DROP INDEX CONCURRENTLY IF EXISTS public.book_isbn_key",
                "CREATE UNIQUE INDEX CONCURRENTLY book_isbn_key ON public.book USING btree \
                 (isbn, \"Edition\")",
                "ALTER TABLE public.book ADD CONSTRAINT book_isbn_key UNIQUE USING INDEX \
                 book_isbn_key",
            ]
        );
        assert_eq!(
            Op::Safe(unique.clone()).down(),
            ["ALTER TABLE public.book DROP CONSTRAINT book_isbn_key"]
        );
        // Its index holds NULLS NOT DISTINCT when the constraint does: the constraint takes it.
        let SafeOp::Unique { table, mut unique } = unique else {
            unreachable!()
        };
        unique.nulls_not_distinct = true;
        assert_eq!(
            SafeOp::Unique { table, unique }.up()[2],
            "CREATE UNIQUE INDEX CONCURRENTLY book_isbn_key ON public.book USING btree \
             (isbn, \"Edition\") NULLS NOT DISTINCT"
        );
        let pk = SafeOp::PrimaryKey {
            table: book(),
            key: PrimaryKey {
                name: "book_pkey".into(),
                columns: vec!["id".into()],
            },
        };
        assert_eq!(
            pk.up()[3],
            "ALTER TABLE public.book ADD CONSTRAINT book_pkey PRIMARY KEY USING INDEX book_pkey"
        );
        let not_null = SafeOp::NotNull {
            table: book(),
            column: column("title"),
        };
        assert_eq!(
            not_null.up(),
            [
                "ALTER TABLE public.book DROP CONSTRAINT IF EXISTS book_title_not_null_check",
                "ALTER TABLE public.book ADD CONSTRAINT book_title_not_null_check \
                 CHECK (title IS NOT NULL) NOT VALID",
                "ALTER TABLE public.book VALIDATE CONSTRAINT book_title_not_null_check",
                "ALTER TABLE public.book ALTER COLUMN title SET NOT NULL",
                "ALTER TABLE public.book DROP CONSTRAINT book_title_not_null_check",
            ]
        );
        assert_eq!(
            Op::Safe(not_null.clone()).down(),
            ["ALTER TABLE public.book ALTER COLUMN title DROP NOT NULL"]
        );
        assert!(!Op::Safe(not_null).transactional());
    }

    #[test]
    fn not_null_check_names_fit_in_63_bytes() {
        assert_eq!(
            not_null_check_name("book", "title"),
            "book_title_not_null_check"
        );
        let long = not_null_check_name(&"t".repeat(60), &"c".repeat(60));
        assert_eq!(long.len(), 63, "{long}");
        assert!(
            long.ends_with(&format!("{}_not_null_check", "c".repeat(24))),
            "{long}"
        );
        let short_column = not_null_check_name(&"t".repeat(60), "id");
        assert_eq!(short_column.len(), 63);
        assert!(short_column.ends_with("_id_not_null_check"));
        let short_table = not_null_check_name("t", &"c".repeat(60));
        assert_eq!(short_table, format!("t_{}_not_null_check", "c".repeat(46)));
        // Never cut inside a character.
        let wide = not_null_check_name(&"é".repeat(40), &"ü".repeat(40));
        assert!(wide.len() <= 63, "{wide}");
    }
}
