use orm_postgres::prelude::*;

#[derive(Clone, PartialEq)]
pub struct NotAColumn;

// Every field of a composite type is a column type.
#[derive(SqlType, Debug, Clone, PartialEq)]
#[sql_type(composite = "holder")]
pub struct Holder {
    pub name: String,
    pub other: NotAColumn,
}

impl std::fmt::Debug for NotAColumn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NotAColumn")
    }
}

fn main() {}
