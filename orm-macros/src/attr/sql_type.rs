//! `#[sql_type(...)]` on a type deriving `SqlType`.

use syn::DeriveInput;

use super::container::{default_crate, set_crate_path};
use super::{Attr, Hint, Unknown, for_each_meta};
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
        let mut krate = Attr::none(cx, SQL_TYPE, CRATE);
        let unknown = Unknown {
            tool: SQL_TYPE,
            keys: SQL_TYPE_KEYS,
            elsewhere: None,
            aliases: ALIASES,
        };
        for_each_meta(cx, &input.attrs, SQL_TYPE, |meta| {
            if meta.path == CRATE {
                set_crate_path(cx, &meta, &mut krate)?;
            } else {
                unknown.report(cx, &meta)?;
            }
            Ok(())
        });
        Container {
            krate: krate.get().map_or_else(default_crate, |k| k.value),
        }
    }
}
