//! `#[from_row(...)]` on the struct and on a field of `#[derive(FromRow)]`.

use proc_macro2::Span;
use syn::DeriveInput;

use super::container::crate_only;
use super::{BoolAttr, Hint, Unknown, for_each_meta};
use crate::ctxt::Ctxt;
use crate::symbol::*;

/// The struct-level options of `#[derive(FromRow)]`.
pub(crate) struct Container {
    /// The path generated code starts from (default `::orm_postgres`).
    pub(crate) krate: syn::Path,
}

const NOT_A_TABLE: Hint = Hint::Text(
    "#[derive(FromRow)] decodes query results and maps to no table; for a table derive Model",
);

const CONTAINER_ALIASES: &[(&str, Hint)] = &[
    ("table", NOT_A_TABLE),
    ("schema", NOT_A_TABLE),
    ("rename_all", BY_POSITION),
];

impl Container {
    pub(crate) fn from_ast(cx: &Ctxt, input: &DeriveInput) -> Self {
        let unknown = Unknown {
            tool: FROM_ROW,
            keys: ROW_CONTAINER_KEYS,
            elsewhere: Some((ROW_FIELD_KEYS, "on a field, not on the struct")),
            aliases: CONTAINER_ALIASES,
        };
        Container {
            krate: crate_only(cx, input, &unknown),
        }
    }
}

/// The options of one field.
#[derive(Default)]
pub(crate) struct Field {
    /// `skip`: not read from the row; `Default::default()`.
    pub(crate) skip: Option<Span>,
    /// `flatten`: the field's type is itself `FromRow` and reads its own run of columns.
    pub(crate) flatten: Option<Span>,
}

const BY_POSITION: Hint = Hint::Text(
    "fields are decoded by position, in declaration order, not by name: select the columns in the order of the fields",
);

const FIELD_ALIASES: &[(&str, Hint)] = &[
    ("rename", BY_POSITION),
    ("column", BY_POSITION),
    ("name", BY_POSITION),
    ("default", Hint::Key(SKIP)),
    ("ignore", Hint::Key(SKIP)),
    ("nested", Hint::Key(FLATTEN)),
    ("embed", Hint::Key(FLATTEN)),
    ("inline", Hint::Key(FLATTEN)),
];

impl Field {
    /// Reads every `#[from_row(...)]` of one field.
    pub(crate) fn from_ast(cx: &Ctxt, field: &syn::Field) -> Self {
        let mut skip = BoolAttr::none(cx, FROM_ROW, SKIP);
        let mut flatten = BoolAttr::none(cx, FROM_ROW, FLATTEN);
        let unknown = Unknown {
            tool: FROM_ROW,
            keys: ROW_FIELD_KEYS,
            elsewhere: Some((ROW_CONTAINER_KEYS, "on the struct, not on a field")),
            aliases: FIELD_ALIASES,
        };
        for_each_meta(cx, &field.attrs, FROM_ROW, |meta| {
            if meta.path == SKIP {
                skip.set_from(cx, &meta)?;
            } else if meta.path == FLATTEN {
                flatten.set_from(cx, &meta)?;
            } else {
                unknown.report(cx, &meta)?;
            }
            Ok(())
        });
        let attrs = Field {
            skip: skip.get(),
            flatten: flatten.get(),
        };
        if let (Some(_), Some(flatten)) = (attrs.skip, attrs.flatten) {
            cx.error_at(
                flatten,
                "`skip` and `flatten` cannot be combined: a skipped field reads no column",
            );
        }
        attrs
    }
}
