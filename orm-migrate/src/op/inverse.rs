//! Reversing an operation: its inverse, and so its downgrade SQL.

use super::Op;

impl Op {
    /// The operation that undoes this one.
    pub fn inverse(&self) -> Op {
        match self.clone() {
            Op::CreateSchema(s) => Op::DropSchema(s),
            Op::CreateExtension(e) => Op::DropExtension(e),
            Op::DropExtension(e) => Op::CreateExtension(e),
            Op::DropSchema(s) => Op::CreateSchema(s),
            Op::CreateEnum(e) => Op::DropEnum(e),
            Op::DropEnum(e) => Op::CreateEnum(e),
            Op::AddEnumValue {
                name,
                label,
                before,
                previous,
                uses,
            } => {
                let mut labels = previous.clone();
                let at = before
                    .and_then(|b| labels.iter().position(|l| *l == b))
                    .unwrap_or(labels.len());
                labels.insert(at, label);
                Op::RecreateEnum {
                    name,
                    from: labels,
                    to: previous,
                    uses,
                }
            }
            Op::RenameEnumValue { name, from, to } => Op::RenameEnumValue {
                name,
                from: to,
                to: from,
            },
            Op::RecreateEnum {
                name,
                from,
                to,
                uses,
            } => Op::RecreateEnum {
                name,
                from: to,
                to: from,
                uses,
            },
            Op::CreateComposite(c) => Op::DropComposite(c),
            Op::DropComposite(c) => Op::CreateComposite(c),
            Op::AddAttribute { name, attribute } => Op::DropAttribute { name, attribute },
            Op::DropAttribute { name, attribute } => Op::AddAttribute { name, attribute },
            Op::AlterAttribute { name, from, to } => Op::AlterAttribute {
                name,
                from: to,
                to: from,
            },
            Op::CreateSequence(s) => Op::DropSequence(s),
            Op::DropSequence(s) => Op::CreateSequence(s),
            Op::SetSequenceOwner { name, from, to } => Op::SetSequenceOwner {
                name,
                from: to,
                to: from,
            },
            Op::CreateTable(t) => Op::DropTable(t),
            Op::DropTable(t) => Op::CreateTable(t),
            Op::RenameTable { from, to } => Op::RenameTable { from: to, to: from },
            Op::AddColumn { table, column } => Op::DropColumn { table, column },
            Op::DropColumn { table, column } => Op::AddColumn { table, column },
            Op::RenameColumn { table, from, to } => Op::RenameColumn {
                table,
                from: to,
                to: from,
            },
            Op::AlterColumn { table, from, to } => Op::AlterColumn {
                table,
                from: to,
                to: from,
            },
            Op::AddPrimaryKey { table, key } => Op::DropPrimaryKey { table, key },
            Op::DropPrimaryKey { table, key } => Op::AddPrimaryKey { table, key },
            Op::AddForeignKey { table, key } => Op::DropForeignKey { table, key },
            Op::DropForeignKey { table, key } => Op::AddForeignKey { table, key },
            Op::AddUnique { table, unique } => Op::DropUnique { table, unique },
            Op::DropUnique { table, unique } => Op::AddUnique { table, unique },
            Op::AddCheck { table, check } => Op::DropCheck { table, check },
            Op::DropCheck { table, check } => Op::AddCheck { table, check },
            Op::ValidateConstraint { table, name } => Op::Note(format!(
                "nothing to undo: constraint {name} on {table} stays validated"
            )),
            Op::ValidateDomainConstraint { domain, name } => Op::Note(format!(
                "nothing to undo: constraint {name} of domain {domain} stays validated"
            )),
            Op::AddExclusion { table, exclusion } => Op::DropExclusion { table, exclusion },
            Op::DropExclusion { table, exclusion } => Op::AddExclusion { table, exclusion },
            Op::CreateIndex {
                table,
                index,
                concurrently,
            } => Op::DropIndex {
                table,
                index,
                concurrently,
            },
            Op::DropIndex { table, index, .. } if !index.valid => Op::Note(format!(
                "nothing to undo: index {} on {table} was INVALID, and is not built again",
                index.name
            )),
            Op::DropIndex {
                table,
                index,
                concurrently,
            } => Op::CreateIndex {
                table,
                index,
                concurrently,
            },
            Op::SetIndexStorage {
                table,
                index,
                from,
                to,
            } => Op::SetIndexStorage {
                table,
                index,
                from: to,
                to: from,
            },
            Op::CreateView(v) => Op::DropView(v),
            Op::DropView(v) => Op::CreateView(v),
            Op::CreateObject(o) => Op::DropObject(o),
            Op::DropObject(o) => Op::CreateObject(o),
            Op::SetTableComment { table, from, to } => Op::SetTableComment {
                table,
                from: to,
                to: from,
            },
            Op::Safe(s) => s.inverse(),
            Op::Note(n) => Op::Note(n),
        }
    }

    /// The downgrade statements: the inverse's upgrade.
    pub fn down(&self) -> Vec<String> {
        self.inverse().up()
    }
}
