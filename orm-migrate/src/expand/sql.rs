//! The SQL of the four scripts of a column change: the expand revision's up and down, the
//! contract revision's up and down. Every statement can run again after a failure part-way
//! (`IF NOT EXISTS`, `CREATE OR REPLACE`, `DO` blocks that look before they act), since these
//! revisions run outside a transaction.

use std::fmt::Write as _;

use crate::op::{constraint_index_sql, index_options_sql};
use crate::render::{ident, literal, qualified};

use crate::backfill::Backfill;
use crate::phase::parse_ident;

use super::rewrite::{mentions, replace_column};
use super::{ColumnChange, short_name};

/// Which column the sync function fills in a row that has it `NULL` while neither column
/// changed (what the backfill's no-op `UPDATE` asks for), and which column's being `NULL` on
/// `INSERT` says the writer did not set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fill {
    /// The new column (the expand, and the end state of a contract's downgrade).
    New,
    /// The old column (while a contract's downgrade adds it back).
    Old,
}

/// `text` as `-- ` comment lines of at most 100 characters (`first` starts the first line).
fn comment(first: &str, text: &str) -> String {
    let mut out = String::new();
    let mut line = format!("-- {first}");
    for word in text.split_whitespace() {
        if line.len() + 1 + word.len() > 100 && line.len() > 3 {
            out.push_str(line.trim_end());
            out.push('\n');
            line = "--   ".to_owned();
        } else if !line.ends_with(' ') {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// A `DO` block running `body` (PL/pgSQL statements).
/// The comment above each `DO` block: the lint's parser cannot read one (a warning), and
/// these only create what is missing, so a rerun repeats nothing.
const DO_SILENCE: &str = "-- lint: allow unparsed-statement: a DO block that only creates what is missing, so a rerun repeats nothing\n";

fn do_block(body: &str) -> String {
    format!("{DO_SILENCE}DO $$\nBEGIN\n{body}END\n$$;\n")
}

impl ColumnChange {
    fn t(&self) -> String {
        qualified(&self.table.name)
    }

    fn regclass(&self) -> String {
        format!("{}::regclass", literal(&self.t()))
    }

    /// The name of the sync function and trigger.
    pub fn sync_name(&self) -> String {
        short_name(&[&self.table.name.name, &self.old, &self.new], "sync")
    }

    fn sync_function(&self) -> String {
        format!(
            "{}.{}",
            ident(&self.table.name.schema),
            ident(&self.sync_name())
        )
    }

    /// The name of the `CHECK (column IS NOT NULL)` that makes `column` NOT NULL.
    fn not_null_check(&self, column: &str) -> String {
        short_name(&[&self.table.name.name, column], "not_null")
    }

    /// `NEW.column`, or the expression evaluated on the row being written.
    fn on_row(expr: &str) -> String {
        match parse_ident(expr.trim()) {
            Ok((name, rest)) if rest.trim().is_empty() => format!("NEW.{}", ident(&name)),
            _ => format!("(SELECT {expr} FROM (SELECT NEW.*) AS r)"),
        }
    }

    /// The PL/pgSQL function keeping the two columns in sync (see the [module](super) docs).
    pub(crate) fn sync_function_sql(&self, fill: Fill) -> String {
        let (old, new) = (ident(&self.old), ident(&self.new));
        let to_new = format!("NEW.{new} := {};", Self::on_row(&self.conversion()));
        let to_old = match self.reverse_conversion() {
            Some(r) => format!("NEW.{old} := {};", Self::on_row(&r)),
            None => format!("NULL; -- no reverse conversion: {old} stays as written"),
        };
        let (added, fill_it, other) = match fill {
            Fill::New => (&new, &to_new, &to_old),
            Fill::Old => (&old, &to_old, &to_new),
        };
        format!(
            "CREATE OR REPLACE FUNCTION {f}() RETURNS trigger LANGUAGE plpgsql AS $sync$\n\
             #variable_conflict use_column\n\
             BEGIN\n    \
                 -- orm-migrate: {old} and {new} of {t} kept in sync while both are in use.\n    \
                 IF TG_OP = 'INSERT' THEN\n        \
                     IF NEW.{added} IS NULL THEN\n            \
                         {fill_it}\n        \
                     ELSE\n            \
                         {other}\n        \
                     END IF;\n    \
                 ELSIF NEW.{old} IS DISTINCT FROM OLD.{old} THEN\n        \
                     {to_new}\n    \
                 ELSIF NEW.{new} IS DISTINCT FROM OLD.{new} THEN\n        \
                     {to_old}\n    \
                 ELSIF NEW.{added} IS NULL THEN\n        \
                     {fill_it}\n    \
                 END IF;\n    \
                 RETURN NEW;\n\
             END\n\
             $sync$;\n",
            f = self.sync_function(),
            t = self.t(),
        )
    }

    fn create_trigger_sql(&self) -> String {
        let name = self.sync_name();
        do_block(&format!(
            "    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = {rc} AND tgname = {lit}) THEN\n        \
                 CREATE TRIGGER {n} BEFORE INSERT OR UPDATE ON {t}\n            \
                     FOR EACH ROW EXECUTE FUNCTION {f}();\n    \
             END IF;\n",
            rc = self.regclass(),
            lit = literal(&name),
            n = ident(&name),
            t = self.t(),
            f = self.sync_function(),
        ))
    }

    fn drop_sync_sql(&self) -> String {
        format!(
            "DROP TRIGGER IF EXISTS {} ON {};\nDROP FUNCTION IF EXISTS {}();\n",
            ident(&self.sync_name()),
            self.t(),
            self.sync_function()
        )
    }

    /// `ALTER TABLE ... ADD CONSTRAINT name def` unless the table has a constraint `name`.
    fn add_constraint_sql(&self, name: &str, definition: &str) -> String {
        do_block(&format!(
            "    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = {rc} AND conname = {lit}) THEN\n        \
                 ALTER TABLE {t} ADD CONSTRAINT {n} {definition};\n    \
             END IF;\n",
            rc = self.regclass(),
            lit = literal(name),
            n = ident(name),
            t = self.t(),
        ))
    }

    /// NOT NULL without a long lock: a `NOT VALID` check, validated (a scan that lets writes
    /// through), `SET NOT NULL` (which trusts the valid check instead of scanning), the check
    /// dropped. Plain statements (no `DO` block), so the lint sees the validated check before
    /// `SET NOT NULL`; a rerun drops a check a failed run left and starts over.
    fn set_not_null_sql(&self, column: &str) -> String {
        let check = self.not_null_check(column);
        let mut out = String::new();
        let _ = write!(
            out,
            "ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {c};\n\
             ALTER TABLE {t} ADD CONSTRAINT {c} CHECK ({col} IS NOT NULL) NOT VALID;\n\
             ALTER TABLE {t} VALIDATE CONSTRAINT {c};\n\
             ALTER TABLE {t} ALTER COLUMN {col} SET NOT NULL;\n\
             ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {c};\n",
            t = self.t(),
            c = ident(&check),
            col = ident(column),
        );
        out
    }

    /// Drops the invalid indexes among `names` that a failed concurrent build left behind.
    fn drop_invalid_indexes_sql(&self, names: &[String]) -> String {
        let list = names
            .iter()
            .map(|n| literal(n))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "{DO_SILENCE}DO $$\n\
             DECLARE\n    \
                 invalid regclass;\n\
             BEGIN\n    \
                 FOR invalid IN SELECT i.indexrelid::regclass FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid\n        \
                     WHERE c.relnamespace = {ns}::regnamespace AND c.relname IN ({list}) AND NOT i.indisvalid\n    \
                 LOOP\n        \
                     EXECUTE format('DROP INDEX %s', invalid);\n    \
                 END LOOP;\n\
             END\n\
             $$;\n",
            ns = literal(&ident(&self.table.name.schema)),
        )
    }

    /// The index name `name` gets on the new column: the old column's name replaced in it, or
    /// the new column's appended.
    fn copied_name(&self, name: &str) -> String {
        if name.contains(self.old.as_str()) {
            let renamed = name.replacen(self.old.as_str(), &self.new, 1);
            short_name(&[&renamed], "")
        } else {
            short_name(&[name, &self.new], "")
        }
    }

    /// An index key on the old column rewritten for the new one, when it can be: any key for
    /// a rename; for a type change, only the bare column (with its order).
    fn copy_key(&self, key: &str) -> Option<String> {
        if !mentions(key, &self.old) {
            return Some(key.to_owned());
        }
        let (rewritten, _) = replace_column(key, &self.old, &ident(&self.new));
        if self.is_rename() {
            return Some(rewritten);
        }
        let bare = ident(&self.old);
        let rest = key.strip_prefix(bare.as_str())?;
        let plain = rest.is_empty()
            || rest
                .split_whitespace()
                .all(|w| matches!(w, "ASC" | "DESC" | "NULLS" | "FIRST" | "LAST"));
        plain.then_some(rewritten)
    }

    /// The statements building the copies of the old column's indexes and unique constraints
    /// on the new one (concurrently), and notes for those that cannot be copied.
    pub(crate) fn copy_indexes_sql(&self) -> (String, Vec<String>) {
        let mut notes = Vec::new();
        let mut names = Vec::new();
        let mut creates = String::new();
        let mut constraints = String::new();
        for index in self.old_indexes() {
            let keys: Option<Vec<String>> = index.keys.iter().map(|k| self.copy_key(k)).collect();
            let predicate_ok = self.is_rename()
                || !index
                    .predicate
                    .as_deref()
                    .is_some_and(|p| mentions(p, &self.old));
            let (Some(keys), true) = (keys, predicate_ok) else {
                notes.push(format!(
                    "index {} is not copied (an expression, operator class or predicate on {} \
                     may not fit the new type): create it on {} yourself",
                    index.name, self.old, self.new
                ));
                continue;
            };
            let name = self.copied_name(&index.name);
            let rw = |s: &str| replace_column(s, &self.old, &ident(&self.new)).0;
            let mut sql = format!(
                "CREATE {}INDEX CONCURRENTLY IF NOT EXISTS {} ON {} USING {} ({})",
                if index.unique { "UNIQUE " } else { "" },
                ident(&name),
                self.t(),
                index.method,
                keys.join(", ")
            );
            if !index.include.is_empty() {
                let include: Vec<String> = index.include.iter().map(|c| rw(&ident(c))).collect();
                let _ = write!(sql, " INCLUDE ({})", include.join(", "));
            }
            sql.push_str(&index_options_sql(index.nulls_not_distinct, &index.with));
            if let Some(p) = &index.predicate {
                let _ = write!(sql, " WHERE {}", rw(p));
            }
            sql.push_str(";\n");
            creates.push_str(&sql);
            names.push(name);
        }
        for unique in self.old_uniques() {
            let name = self.copied_name(&unique.name);
            let columns: Vec<String> = unique
                .columns
                .iter()
                .map(|c| {
                    if *c == self.old {
                        self.new.clone()
                    } else {
                        c.clone()
                    }
                })
                .collect();
            let _ = writeln!(
                creates,
                "{};",
                constraint_index_sql(
                    &self.table.name,
                    &name,
                    &columns,
                    unique.nulls_not_distinct,
                    true
                )
            );
            constraints.push_str(
                &self.add_constraint_sql(&name, &format!("UNIQUE USING INDEX {}", ident(&name))),
            );
            names.push(name);
        }
        if names.is_empty() {
            return (String::new(), notes);
        }
        let mut out = self.drop_invalid_indexes_sql(&names);
        out.push_str(&creates);
        out.push_str(&constraints);
        (out, notes)
    }

    /// The statements rebuilding the old column's indexes and unique constraints as they
    /// were (concurrently), for a contract's downgrade.
    fn restore_indexes_sql(&self) -> String {
        let mut names = Vec::new();
        let mut creates = String::new();
        let mut constraints = String::new();
        for index in self.old_indexes() {
            let def = &index.definition;
            let at = def.find(" INDEX ").map_or(0, |i| i + " INDEX ".len());
            let _ = writeln!(
                creates,
                "{}CONCURRENTLY IF NOT EXISTS {};",
                &def[..at],
                &def[at..]
            );
            names.push(index.name.clone());
        }
        for unique in self.old_uniques() {
            let _ = writeln!(
                creates,
                "{};",
                constraint_index_sql(
                    &self.table.name,
                    &unique.name,
                    &unique.columns,
                    unique.nulls_not_distinct,
                    true
                )
            );
            constraints.push_str(&self.add_constraint_sql(
                &unique.name,
                &format!("UNIQUE USING INDEX {}", ident(&unique.name)),
            ));
            names.push(unique.name.clone());
        }
        if names.is_empty() {
            return String::new();
        }
        let mut out = self.drop_invalid_indexes_sql(&names);
        out.push_str(&creates);
        out.push_str(&constraints);
        out
    }

    fn backfill_line(&self, column: &str) -> String {
        Backfill {
            table: self.table.name.clone(),
            column: column.to_owned(),
            key: self.key(),
        }
        .line()
    }

    /// The old column's comment on `column` (a rename only: a converted column's values mean
    /// something else).
    fn comment_sql(&self, column: &str) -> String {
        if !self.is_rename() {
            return String::new();
        }
        match &self.old_column().and_then(|c| c.comment.clone()) {
            Some(text) => format!(
                "COMMENT ON COLUMN {}.{} IS {};\n",
                self.t(),
                ident(column),
                literal(text)
            ),
            None => String::new(),
        }
    }

    /// The expand revision's up script (after its header), and the notes on what it does not
    /// copy.
    pub(crate) fn expand_up(&self) -> (String, Vec<String>) {
        let (t, old, new) = (self.t(), ident(&self.old), ident(&self.new));
        let old_not_null = self.old_column().is_some_and(|c| !c.nullable);
        let mut notes = self.notes();
        let (indexes, index_notes) = self.copy_indexes_sql();
        notes.extend(index_notes);
        let mut out = comment(
            "",
            &format!(
                "Expand {t}.{old} into {new} ({}): from the end of this revision the old release \
                 (reading and writing {old}) and the new one ({new}) can run side by side. \
                 Written to run outside a transaction, and to be run again after a failure: the \
                 backfill resumes where it stopped.",
                self.new_type
            ),
        );
        for note in &notes {
            out.push_str(&comment("note:", note));
        }
        let _ = write!(
            out,
            "\n-- 1. The new column: nullable and without a default, so adding it is instant.\n\
             ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {new} {}{};\n",
            self.new_type,
            self.collation_clause()
        );
        if old_not_null && self.reverse_conversion().is_none() {
            let _ = write!(
                out,
                "-- The new release writes only {new}, and nothing computes {old} from it.\n\
                 ALTER TABLE {t} ALTER COLUMN {old} DROP NOT NULL;\n"
            );
        }
        out.push_str(&self.comment_sql(&self.new));
        out.push('\n');
        out.push_str(&comment(
            "2.",
            &format!(
                "Both columns kept in sync while both releases write: a row written with {old} \
                 gets {new} = {conv}; one written with {new} gets {old} = {rev}.",
                conv = self.conversion(),
                rev = self
                    .reverse_conversion()
                    .unwrap_or_else(|| "(nothing: no reverse conversion)".to_owned()),
            ),
        ));
        out.push_str(&self.sync_function_sql(Fill::New));
        out.push_str(&self.create_trigger_sql());
        out.push('\n');
        out.push_str(&comment(
            "3.",
            &format!(
                "The rows already there: the runner fills {new} in batches (each one short \
                 transaction), pausing between them."
            ),
        ));
        out.push_str(&self.backfill_line(&self.new));
        out.push('\n');
        if old_not_null {
            let _ = write!(
                out,
                "\n-- 4. NOT NULL, as {old} is, without a long lock.\n{}",
                self.set_not_null_sql(&self.new)
            );
        }
        if !indexes.is_empty() {
            let _ = write!(
                out,
                "\n-- 5. The indexes and unique constraints of {old}, on {new}, built without \
                 blocking writes.\n{indexes}"
            );
        }
        (out, notes)
    }

    /// The expand revision's down script: the trigger, the function and the new column go.
    /// Run it once no release writes the new column.
    pub(crate) fn expand_down(&self) -> String {
        let (t, old, new) = (self.t(), ident(&self.old), ident(&self.new));
        let mut out = comment(
            "",
            &format!(
                "Undo the expand of {t}.{old} into {new}: run it once no running release uses {new}."
            ),
        );
        out.push_str(&self.drop_sync_sql());
        let _ = writeln!(out, "ALTER TABLE {t} DROP COLUMN IF EXISTS {new};");
        let old_not_null = self.old_column().is_some_and(|c| !c.nullable);
        if old_not_null && self.reverse_conversion().is_none() {
            let _ = writeln!(
                out,
                "-- {old} was NOT NULL: again (fails while rows written by the new release lack it)."
            );
            out.push_str(&self.set_not_null_sql(&self.old));
        }
        out
    }

    /// The contract revision's up script: the sync trigger, its function and the old column
    /// go; the new column takes the old one's default.
    pub(crate) fn contract_up(&self) -> (String, Vec<String>) {
        let (t, old, new) = (self.t(), ident(&self.old), ident(&self.new));
        let mut notes = Vec::new();
        let mut out = comment(
            "",
            &format!(
                "Contract {t}.{old} into {new}: run it once no running release reads or writes \
                 {old}. Written to run outside a transaction, and to be run again after a failure."
            ),
        );
        out.push('\n');
        out.push_str(&self.drop_sync_sql());
        let _ = writeln!(out, "ALTER TABLE {t} DROP COLUMN IF EXISTS {old};");
        match self.new_default() {
            Ok(Some(default)) => {
                let _ = writeln!(
                    out,
                    "ALTER TABLE {t} ALTER COLUMN {new} SET DEFAULT {default};"
                );
            }
            Ok(None) => {}
            Err(note) => notes.push(note),
        }
        for note in &notes {
            out.push_str(&comment("note:", note));
        }
        (out, notes)
    }

    /// The contract revision's down script: the expand again, the other way round (the old
    /// column added back and filled from the new one), ending where the expand ended.
    pub(crate) fn contract_down(&self) -> String {
        let (t, old, new) = (self.t(), ident(&self.old), ident(&self.new));
        if self.reverse_conversion().is_none() {
            return format!(
                "DO $$ BEGIN RAISE EXCEPTION {}; END $$;\n",
                literal(&format!(
                    "irreversible: {}.{} cannot be computed back from {}: the expand has no reverse conversion",
                    self.table.name, self.old, self.new
                ))
            );
        }
        let Some(column) = self.old_column() else {
            return String::new();
        };
        let mut out = comment(
            "",
            &format!(
                "Undo the contract of {t}.{old} into {new}: {old} comes back, filled from {new} \
                 (its checks and foreign keys are not restored), and the sync trigger ends as \
                 the expand left it."
            ),
        );
        if matches!(self.new_default(), Ok(Some(_))) {
            let _ = writeln!(out, "ALTER TABLE {t} ALTER COLUMN {new} DROP DEFAULT;");
        }
        let _ = writeln!(
            out,
            "ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {old} {}{};",
            column.data_type,
            self.collation_clause_of(column)
        );
        out.push_str(&self.comment_sql(&self.old));
        out.push_str(&self.sync_function_sql(Fill::Old));
        out.push_str(&self.create_trigger_sql());
        out.push_str(&self.backfill_line(&self.old));
        out.push('\n');
        // Every row has both columns again: back to the expand's function, which tells writers
        // apart by the new column being NULL on INSERT, before the old column gets its default
        // (with which an INSERT of the new release would no longer have it NULL).
        out.push_str(&self.sync_function_sql(Fill::New));
        if !column.nullable {
            out.push_str(&self.set_not_null_sql(&self.old));
        }
        if let Some(default) = &column.default {
            let _ = writeln!(
                out,
                "ALTER TABLE {t} ALTER COLUMN {old} SET DEFAULT {default};"
            );
        }
        out.push_str(&self.restore_indexes_sql());
        out
    }

    /// The old column's default, converted for the new column: `Ok(None)` without one, an
    /// error note when the conversion reads other columns (a default cannot).
    fn new_default(&self) -> Result<Option<String>, String> {
        let Some(default) = self.old_column().and_then(|c| c.default.clone()) else {
            return Ok(None);
        };
        if self.using.is_none() {
            return Ok(Some(default));
        }
        let conversion = self.conversion();
        let others = self
            .table
            .columns
            .iter()
            .filter(|c| c.name != self.old)
            .find(|c| mentions(&conversion, &c.name));
        if let Some(other) = others {
            return Err(format!(
                "the default of {} ({default}) is not copied to {}: the conversion reads {} too; \
                 set one yourself",
                self.old, self.new, other.name
            ));
        }
        let (converted, _) = replace_column(&conversion, &self.old, &format!("({default})"));
        Ok(Some(converted))
    }
}
