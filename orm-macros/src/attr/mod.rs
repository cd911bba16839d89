//! Attribute parsing, one file per level. This module holds what the levels share: the slot that
//! catches duplicates, value readers and the unknown-key message.

pub(crate) mod container;
pub(crate) mod field;
pub(crate) mod from_row;
pub(crate) mod index;
pub(crate) mod relationship;
pub(crate) mod sql_type;
pub(crate) mod variant;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned as _;
use syn::{Expr, Lit, LitStr, Token};

use crate::ctxt::Ctxt;
use crate::symbol::{self, Symbol};

/// A value together with the span of the keyword that set it (for later errors).
#[derive(Debug, Clone)]
pub(crate) struct Spanned<T> {
    pub(crate) value: T,
    pub(crate) span: Span,
}

/// A slot for an attribute that may be given once. A second `set` reports
/// "duplicate model attribute `x`" at the second place and keeps the first value.
pub(crate) struct Attr<'c, T> {
    cx: &'c Ctxt,
    tool: Symbol,
    name: Symbol,
    value: Option<Spanned<T>>,
}

impl<'c, T> Attr<'c, T> {
    pub(crate) fn none(cx: &'c Ctxt, tool: Symbol, name: Symbol) -> Self {
        Attr {
            cx,
            tool,
            name,
            value: None,
        }
    }

    /// Sets the value; `obj` are the tokens that set it (the keyword).
    pub(crate) fn set<A: ToTokens>(&mut self, obj: A, value: T) {
        let tokens = obj.into_token_stream();
        if self.value.is_some() {
            self.cx.error_spanned_by(
                tokens,
                format!("duplicate {} attribute `{}`", self.tool, self.name),
            );
        } else {
            let span = tokens.span();
            self.value = Some(Spanned { value, span });
        }
    }

    pub(crate) fn get(self) -> Option<Spanned<T>> {
        self.value
    }
}

/// A flag: `#[model(unique)]`.
pub(crate) struct BoolAttr<'c>(Attr<'c, ()>);

impl<'c> BoolAttr<'c> {
    pub(crate) fn none(cx: &'c Ctxt, tool: Symbol, name: Symbol) -> Self {
        BoolAttr(Attr::none(cx, tool, name))
    }

    /// Sets the flag from `meta`, reporting a value given to it (`unique = true`).
    pub(crate) fn set_from(&mut self, cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<()> {
        if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
            let name = self.0.name;
            let tool = self.0.tool;
            let list = meta.input.peek(syn::token::Paren)
                && (name == crate::symbol::INDEX || name == crate::symbol::UNIQUE);
            let msg = if list {
                format!(
                    "`{name}` on a field takes no list: write `{tool}({name})`; a multi-column `{name}(field_a, field_b)` goes on the struct"
                )
            } else {
                format!("`{name}` takes no value: write `{tool}({name})`")
            };
            cx.error_spanned_by(&meta.path, msg);
            skip_value(meta)?;
        }
        self.0.set(&meta.path, ());
        Ok(())
    }

    /// The span of the keyword, if the flag is set.
    pub(crate) fn get(self) -> Option<Span> {
        self.0.get().map(|s| s.span)
    }
}

/// Reads `key = "string"`. Reports anything but a string literal and returns `None` for it.
/// Runs `f` on every item of every `#[tool(...)]` attribute in `attrs`, recording parse errors
/// (and going on, so every mistake is reported).
pub(crate) fn for_each_meta(
    cx: &Ctxt,
    attrs: &[syn::Attribute],
    tool: Symbol,
    mut f: impl FnMut(ParseNestedMeta) -> syn::Result<()>,
) {
    for attr in attrs {
        if attr.path() != tool {
            continue;
        }
        if let Err(err) = attr.parse_nested_meta(&mut f) {
            cx.syn_error(err);
        }
    }
}

pub(crate) fn get_lit_str(
    cx: &Ctxt,
    tool: Symbol,
    key: Symbol,
    meta: &ParseNestedMeta,
) -> syn::Result<Option<LitStr>> {
    if !meta.input.peek(Token![=]) {
        cx.error_spanned_by(
            &meta.path,
            format!("expected a value: `{tool}({key} = \"...\")`"),
        );
        skip_value(meta)?;
        return Ok(None);
    }
    let expr: Expr = meta.value()?.parse()?;
    match strip_groups(&expr) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(Some(LitStr::new(&lit.value(), lit.span()))),
        _ => {
            cx.error_spanned_by(
                &expr,
                format!("expected a string literal: `{tool}({key} = \"...\")`"),
            );
            Ok(None)
        }
    }
}

/// Reads `key = 123` as a `u32`. Reports anything else and returns `None` for it.
pub(crate) fn get_lit_u32(
    cx: &Ctxt,
    tool: Symbol,
    key: Symbol,
    meta: &ParseNestedMeta,
) -> syn::Result<Option<Spanned<u32>>> {
    if !meta.input.peek(Token![=]) {
        cx.error_spanned_by(
            &meta.path,
            format!("expected a value: `{tool}({key} = 80)`"),
        );
        skip_value(meta)?;
        return Ok(None);
    }
    let expr: Expr = meta.value()?.parse()?;
    match strip_groups(&expr) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(lit), ..
        }) => match lit.base10_parse::<u32>() {
            Ok(value) => Ok(Some(Spanned {
                value,
                span: lit.span(),
            })),
            Err(_) => {
                cx.error_spanned_by(lit, format!("`{key}` must fit in a u32"));
                Ok(None)
            }
        },
        _ => {
            cx.error_spanned_by(
                &expr,
                format!("expected an integer literal: `{tool}({key} = 80)`"),
            );
            Ok(None)
        }
    }
}

/// Macro expansion may wrap a literal in invisible groups.
fn strip_groups(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(group) => strip_groups(&group.expr),
        other => other,
    }
}

/// Consumes whatever value follows a key (`= expr` or `(...)`), so that parsing can go on with
/// the next key after an error.
pub(crate) fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        let _: Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _: TokenStream = meta.input.parse::<proc_macro2::Group>()?.stream();
    }
    Ok(())
}

/// What a key nobody knows at this level may have meant.
pub(crate) struct Unknown<'a> {
    /// `model` or `db_enum`.
    pub(crate) tool: Symbol,
    /// The keys of this level.
    pub(crate) keys: &'a [Symbol],
    /// The keys of the other level, with where they belong (`"on the struct"`).
    pub(crate) elsewhere: Option<(&'a [Symbol], &'a str)>,
    /// Words users try that are not keys here, with what to write instead.
    pub(crate) aliases: &'a [(&'a str, Hint)],
}

/// What to say about a word users try that is not a key.
#[derive(Clone, Copy)]
pub(crate) enum Hint {
    /// "did you mean `key`?"
    Key(Symbol),
    /// A sentence.
    Text(&'static str),
}

impl Unknown<'_> {
    /// Reports an unknown key, with the closest known one when there is a plausible one, and
    /// skips its value. Returns the suggested key, if any.
    pub(crate) fn report(
        &self,
        cx: &Ctxt,
        meta: &ParseNestedMeta,
    ) -> syn::Result<Option<&'static str>> {
        let word = meta
            .path
            .get_ident()
            .map(|ident| syn::ext::IdentExt::unraw(ident).to_string())
            .unwrap_or_else(|| meta.path.to_token_stream().to_string().replace(' ', ""));
        let keys = symbol::names(self.keys);
        let tool = self.tool;
        let (msg, suggested) = if let Some((_, hint)) =
            self.aliases.iter().find(|(alias, _)| *alias == word)
        {
            match hint {
                Hint::Key(key) => (
                    format!("unknown {tool} attribute `{word}`; did you mean `{key}`?"),
                    Some(key.0),
                ),
                Hint::Text(text) => (format!("unknown {tool} attribute `{word}`; {text}"), None),
            }
        } else if let Some((_, place)) = self
            .elsewhere
            .filter(|(other, _)| other.iter().any(|s| s.0 == word))
        {
            (
                format!("`{word}` is not a {tool} attribute here; it goes {place}"),
                None,
            )
        } else if let Some(best) = symbol::closest(&word, &keys) {
            (
                format!("unknown {tool} attribute `{word}`; did you mean `{best}`?"),
                keys.iter().copied().find(|k| *k == best),
            )
        } else {
            (
                format!(
                    "unknown {tool} attribute `{word}`; expected {}",
                    symbol::one_of(&keys)
                ),
                None,
            )
        };
        cx.error_spanned_by(&meta.path, msg);
        skip_value(meta)?;
        Ok(suggested)
    }
}

/// Whether `s` has an identifier's shape, in Rust and in unquoted SQL alike: an ASCII letter or
/// `_`, then ASCII letters, digits and `_`.
pub(crate) fn is_plain_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks an SQL identifier given in an attribute: not empty and at most 63 bytes (longer names
/// are truncated by PostgreSQL, so the compiler refuses them at run time; say so now).
pub(crate) fn check_identifier(cx: &Ctxt, what: &str, lit: &LitStr) -> bool {
    let value = lit.value();
    if value.is_empty() {
        cx.error_spanned_by(lit, format!("the {what} must not be empty"));
        false
    } else if value.len() > 63 {
        cx.error_spanned_by(
            lit,
            format!(
                "the {what} `{value}` is {} bytes long; PostgreSQL allows at most 63",
                value.len()
            ),
        );
        false
    } else {
        true
    }
}

/// Checks an SQL expression given in an attribute is not empty.
pub(crate) fn check_sql(cx: &Ctxt, key: Symbol, lit: &LitStr) -> bool {
    if lit.value().trim().is_empty() {
        cx.error_spanned_by(lit, format!("`{key}` needs an SQL expression"));
        false
    } else {
        true
    }
}
