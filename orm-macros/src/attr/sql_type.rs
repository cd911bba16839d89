//! `#[sql_type(...)]` on a type deriving `SqlType`.

use syn::DeriveInput;

use super::container::{default_crate, set_crate_path};
use super::{Attr, Hint, Spanned, Unknown, check_identifier, for_each_meta, get_lit_str};
use crate::ctxt::Ctxt;
use crate::symbol::*;

/// The options of `#[derive(SqlType)]`.
pub(crate) struct Container {
    /// The path generated code starts from (default `::orm_postgres`).
    pub(crate) krate: syn::Path,
    /// `composite = "name"`: the struct is a composite type of this name (else a `CustomType`).
    pub(crate) composite: Option<Spanned<String>>,
    /// `schema = "name"`: the composite type's schema.
    pub(crate) schema: Option<Spanned<String>>,
}

const IN_THE_IMPL: Hint = Hint::Text(
    "the representation and the SQL type are declared in `impl CustomType`: `type Repr = ...;` and `const COLUMN_TYPE: ColumnType = ...;`; a composite type is `composite = \"name\"`",
);

const ALIASES: &[(&str, Hint)] = &[
    ("repr", IN_THE_IMPL),
    ("name", IN_THE_IMPL),
    ("type_name", IN_THE_IMPL),
    ("record", Hint::Key(COMPOSITE)),
];

impl Container {
    pub(crate) fn from_ast(cx: &Ctxt, input: &DeriveInput) -> Self {
        let unknown = Unknown {
            tool: SQL_TYPE,
            keys: SQL_TYPE_KEYS,
            elsewhere: None,
            aliases: ALIASES,
        };
        let mut krate = Attr::none(cx, SQL_TYPE, CRATE);
        let mut composite = Attr::none(cx, SQL_TYPE, COMPOSITE);
        let mut schema = Attr::none(cx, SQL_TYPE, SCHEMA);
        for_each_meta(cx, &input.attrs, SQL_TYPE, |meta| {
            if meta.path == CRATE {
                set_crate_path(cx, &meta, &mut krate)?;
            } else if meta.path == COMPOSITE {
                if let Some(lit) = get_lit_str(cx, SQL_TYPE, COMPOSITE, &meta)?
                    && check_identifier(cx, "composite type's name", &lit)
                {
                    composite.set(&meta.path, lit.value());
                }
            } else if meta.path == SCHEMA {
                if let Some(lit) = get_lit_str(cx, SQL_TYPE, SCHEMA, &meta)?
                    && check_identifier(cx, "schema name", &lit)
                {
                    schema.set(&meta.path, lit.value());
                }
            } else {
                unknown.report(cx, &meta)?;
            }
            Ok(())
        });
        let composite = composite.get();
        let schema = schema.get();
        if let (Some(s), None) = (&schema, &composite) {
            cx.error_at(
                s.span,
                "`schema` names a composite type's schema: write it with `composite = \"name\"`",
            );
        }
        Container {
            krate: krate.get().map_or_else(default_crate, |k| k.value),
            composite,
            schema,
        }
    }
}
