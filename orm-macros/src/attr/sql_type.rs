//! `#[sql_type(...)]` on a type deriving `SqlType`.

use syn::DeriveInput;

use super::container::crate_only;
use super::{Hint, Unknown};
use crate::ctxt::Ctxt;
use crate::symbol::*;

/// The options of `#[derive(SqlType)]`.
pub(crate) struct Container {
    /// The path generated code starts from (default `::orm_postgres`).
    pub(crate) krate: syn::Path,
}

const IN_THE_IMPL: Hint = Hint::Text(
    "the representation and the SQL type are declared in `impl CustomType`: `type Repr = ...;` and `const COLUMN_TYPE: ColumnType = ...;`",
);

const ALIASES: &[(&str, Hint)] = &[
    ("repr", IN_THE_IMPL),
    ("name", IN_THE_IMPL),
    ("type_name", IN_THE_IMPL),
];

impl Container {
    pub(crate) fn from_ast(cx: &Ctxt, input: &DeriveInput) -> Self {
        let unknown = Unknown {
            tool: SQL_TYPE,
            keys: SQL_TYPE_KEYS,
            elsewhere: None,
            aliases: ALIASES,
        };
        Container {
            krate: crate_only(cx, input, &unknown),
        }
    }
}
