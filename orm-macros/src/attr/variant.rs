//! `#[db_enum(...)]` on a variant.

use syn::LitStr;

use super::{Attr, Hint, Unknown, for_each_meta, get_lit_str};
use crate::ctxt::Ctxt;
use crate::symbol::*;

/// The options of one variant of a `DbEnum`.
pub(crate) struct Variant {
    /// `rename = "label"`.
    pub(crate) rename: Option<LitStr>,
}

const RENAME_LABEL: Hint = Hint::Key(RENAME);

const VARIANT_ALIASES: &[(&str, Hint)] = &[
    ("name", RENAME_LABEL),
    ("label", RENAME_LABEL),
    ("value", RENAME_LABEL),
];

impl Variant {
    pub(crate) fn from_ast(cx: &Ctxt, variant: &syn::Variant) -> Self {
        let mut rename = Attr::none(cx, DB_ENUM, RENAME);
        let unknown = Unknown {
            tool: DB_ENUM,
            keys: VARIANT_KEYS,
            elsewhere: Some((ENUM_KEYS, "on the enum, not on a variant")),
            aliases: VARIANT_ALIASES,
        };
        for_each_meta(cx, &variant.attrs, DB_ENUM, |meta| {
            if meta.path == RENAME {
                if let Some(lit) = get_lit_str(cx, DB_ENUM, RENAME, &meta)? {
                    if lit.value().is_empty() {
                        cx.error_spanned_by(&lit, "an enum label must not be empty");
                    } else if lit.value().len() > 63 {
                        cx.error_spanned_by(
                            &lit,
                            "an enum label is at most 63 bytes long in PostgreSQL",
                        );
                    } else {
                        rename.set(&meta.path, lit);
                    }
                }
            } else {
                unknown.report(cx, &meta)?;
            }
            Ok(())
        });
        Variant {
            rename: rename.get().map(|r| r.value),
        }
    }
}

/// The options of one variant of an inheritance enum deriving `Model`.
pub(crate) struct ModelVariant {
    /// `value = "manager"`: the discriminator value of the variant's rows.
    pub(crate) value: Option<LitStr>,
    /// `relationships(reports)`: relationships of this variant's struct the enum exposes (for
    /// objects of the other variants they hold nothing).
    pub(crate) relationships: Vec<syn::Ident>,
}

const DISCRIMINATOR_VALUE: Hint = Hint::Key(VALUE);

const MODEL_VARIANT_ALIASES: &[(&str, Hint)] = &[
    ("rename", DISCRIMINATOR_VALUE),
    ("identity", DISCRIMINATOR_VALUE),
    ("polymorphic_identity", DISCRIMINATOR_VALUE),
    ("discriminator", DISCRIMINATOR_VALUE),
];

impl ModelVariant {
    pub(crate) fn from_ast(cx: &Ctxt, variant: &syn::Variant) -> Self {
        let mut value = Attr::none(cx, MODEL, VALUE);
        let mut relationships = Vec::new();
        let unknown = Unknown {
            tool: MODEL,
            keys: MODEL_VARIANT_KEYS,
            elsewhere: Some((CONTAINER_KEYS, "on the enum, not on a variant")),
            aliases: MODEL_VARIANT_ALIASES,
        };
        for_each_meta(cx, &variant.attrs, MODEL, |meta| {
            if meta.path == VALUE {
                if let Some(lit) = get_lit_str(cx, MODEL, VALUE, &meta)? {
                    if lit.value().is_empty() {
                        cx.error_spanned_by(&lit, "a discriminator value must not be empty");
                    } else {
                        value.set(&meta.path, lit);
                    }
                }
            } else if meta.path == RELATIONSHIPS {
                relationships.extend(super::container::parse_names(cx, &meta)?);
            } else {
                unknown.report(cx, &meta)?;
            }
            Ok(())
        });
        ModelVariant {
            value: value.get().map(|v| v.value),
            relationships,
        }
    }
}
