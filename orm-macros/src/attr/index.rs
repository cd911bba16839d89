//! `index(...)` and `unique(...)` on the struct: the keys in order, each a field with its
//! operator class and ordering (`created_at = "desc nulls last"`) or an expression
//! (`expr = "lower(email) desc"`), and the index's options (`unique`, `using`, `where`, `with`,
//! `name`, `nulls_not_distinct`, `include(a, b)`).
//!
//! An item is an option when its key is an option's and it has the option's shape (`name` with
//! a value, `unique` bare, `include` with a list); `expr` with a value is an expression key;
//! everything else is a field. A field whose name is an option's (or `expr`) is written raw:
//! `r#name = "desc"`, `r#unique`, `r#expr`.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Ident, LitStr};

use super::{check_identifier, check_sql, is_plain_identifier, skip_value};
use crate::ctxt::Ctxt;
use crate::symbol::{
    self, EXPR, INCLUDE, INDEX, NAME, NULLS_NOT_DISTINCT, Symbol, UNIQUE, USING, WHERE, WITH,
};

/// A multi-column `index(a, b, ...)` or `unique(a, b, ...)` on the struct; names are Rust field
/// names.
pub(crate) struct IndexList {
    /// Where the list is (`index` / `unique`), for errors about it as a whole.
    pub(crate) span: Span,
    /// The fields, in key order (the expression keys left out).
    pub(crate) fields: Vec<Ident>,
    /// The expression keys: each with its position among all keys, and its SQL as
    /// `CREATE INDEX` takes it (`lower(email)`, `(a + b)`), without its options.
    pub(crate) exprs: Vec<(usize, String)>,
    /// Each key's options as `CREATE INDEX` writes them after the column or expression
    /// (`text_pattern_ops DESC NULLS LAST`), `""` for none; one per key, in key order.
    pub(crate) key_options: Vec<String>,
    /// Per field, what is wrong with its options (reported by the check pass when the field
    /// exists).
    pub(crate) key_errors: Vec<Option<(Span, String)>>,
    /// Rows are unique in the fields: `unique(...)`, or `index(..., unique)`.
    pub(crate) unique: bool,
    /// `unique(...)`: a unique constraint, not an index.
    pub(crate) constraint: bool,
    /// `name = "..."`: the index's (or constraint's) name.
    pub(crate) name: Option<String>,
    /// `using = "gin"`: the index method, in lower case.
    pub(crate) using: Option<String>,
    /// `where = "..."`: a partial index's predicate.
    pub(crate) predicate: Option<String>,
    /// `with = "fillfactor = 70"`: storage parameters, each `name=value`.
    pub(crate) with: Vec<String>,
    /// `nulls_not_distinct`.
    pub(crate) nulls_not_distinct: bool,
    /// `include(a, b)`: the fields a covering index stores besides its keys.
    pub(crate) include: Vec<Ident>,
}

impl IndexList {
    /// `index` or `unique`, as the user wrote it.
    pub(crate) fn key(&self) -> &'static str {
        if self.constraint { "unique" } else { "index" }
    }

    /// How many keys: fields and expressions.
    pub(crate) fn key_count(&self) -> usize {
        self.fields.len() + self.exprs.len()
    }
}

/// The index methods `using` takes: PostgreSQL's own, and those of common extensions
/// (`bloom`, `rum`, pgvector's `hnsw` and `ivfflat`).
const METHODS: &[&str] = &[
    "btree", "hash", "gist", "spgist", "gin", "brin", "bloom", "rum", "hnsw", "ivfflat",
];

/// The index methods that can `INCLUDE` columns.
const INCLUDING_METHODS: &[&str] = &["btree", "gist", "spgist"];

/// The options of `index(...)` (but `include(...)`, which takes a list); a `unique(...)`
/// constraint takes `name` and `nulls_not_distinct`.
pub(crate) const INDEX_OPTIONS: &[Symbol] = &[UNIQUE, USING, WHERE, WITH, NAME, NULLS_NOT_DISTINCT];

/// Reads `index(...)` / `unique(...)`; reports every mistake and returns `None` when there is
/// nothing to index.
pub(crate) fn parse_index_list(
    cx: &Ctxt,
    constraint: bool,
    meta: &ParseNestedMeta,
) -> syn::Result<Option<IndexList>> {
    let key = if constraint { UNIQUE } else { INDEX };
    if !meta.input.peek(syn::token::Paren) {
        let single = if constraint {
            "to make one column unique, put `#[model(unique)]` on its field"
        } else {
            "to index one column, put `#[model(index)]` on its field"
        };
        cx.error_spanned_by(
            &meta.path,
            format!("expected a list of fields: `{key}(field_a, field_b)`; {single}"),
        );
        skip_value(meta)?;
        return Ok(None);
    }
    let group: proc_macro2::Group = meta.input.fork().parse()?;
    if group.stream().is_empty() {
        cx.error_spanned_by(&meta.path, format!("`{key}(...)` needs at least one field"));
        skip_value(meta)?;
        return Ok(None);
    }
    let mut list = IndexList {
        span: meta.path.span(),
        fields: Vec::new(),
        exprs: Vec::new(),
        key_options: Vec::new(),
        key_errors: Vec::new(),
        unique: constraint,
        constraint,
        name: None,
        using: None,
        predicate: None,
        with: Vec::new(),
        nulls_not_distinct: false,
        include: Vec::new(),
    };
    // Where each option was given, for the rules between them.
    let mut seen: Vec<(Symbol, Span)> = Vec::new();
    let mut ordered: Option<Span> = None;
    // Whether any item read as a key, even one reported as a mistake.
    let mut any_key = false;
    meta.parse_nested_meta(|item| {
        let Some(ident) = item.path.get_ident().cloned() else {
            cx.error_spanned_by(
                &item.path,
                format!("expected a field name, as in `{key}(field_a, field_b)`"),
            );
            return skip_value(&item);
        };
        let has_value = item.input.peek(syn::Token![=]);
        if ident == INCLUDE && item.input.peek(syn::token::Paren) {
            if seen.iter().any(|(o, _)| *o == INCLUDE) {
                cx.error_spanned_by(&item.path, format!("duplicate `include` in `{key}(...)`"));
                return skip_value(&item);
            }
            seen.push((INCLUDE, item.path.span()));
            if constraint {
                cx.error_spanned_by(
                    &item.path,
                    "a unique constraint takes no `include`: write a unique index instead, \
                     `index(a, b, unique, include(c))`",
                );
                return skip_value(&item);
            }
            return parse_include(cx, key, &item, &mut list.include);
        }
        if ident == EXPR && has_value {
            any_key = true;
            let Some(lit) = option_value(cx, key, &ident, &item)? else {
                return Ok(());
            };
            if constraint {
                cx.error_spanned_by(
                    &item.path,
                    "a unique constraint's keys are columns: for an expression, write a unique \
                     index, `index(expr = \"lower(email)\", unique, name = \"...\")`",
                );
                return Ok(());
            }
            match expression_key(&lit.value()) {
                Ok((expression, options)) => {
                    if options.ordered {
                        ordered.get_or_insert(lit.span());
                    }
                    list.exprs.push((list.key_count(), expression));
                    list.key_options.push(options.text);
                    seen.push((EXPR, lit.span()));
                }
                Err(message) => cx.error_spanned_by(&lit, message),
            }
            return Ok(());
        }
        // Flags are bare, the other options take a value.
        let is_flag = |o: Symbol| o == UNIQUE || o == NULLS_NOT_DISTINCT;
        let option = INDEX_OPTIONS
            .iter()
            .copied()
            .find(|o| ident == *o && has_value != is_flag(*o));
        let Some(option) = option else {
            any_key = true;
            // A field, with its options or without.
            let mut key_error = None;
            let options = if has_value {
                match option_value(cx, key, &ident, &item)? {
                    Some(lit) => match key_options(&lit.value()) {
                        Ok(options) => {
                            if options.ordered {
                                ordered.get_or_insert(lit.span());
                            }
                            options.text
                        }
                        Err(message) => {
                            // Reported if the field exists: a misspelled option
                            // (`usign = "gin"`) is reported as that alone.
                            key_error = Some((lit.span(), message));
                            String::new()
                        }
                    },
                    None => String::new(),
                }
            } else if item.input.peek(syn::token::Paren) {
                cx.error_spanned_by(
                    &item.path,
                    format!(
                        "a field's options are a string: `{}(field = \"desc nulls last\")`",
                        key
                    ),
                );
                skip_value(&item)?;
                String::new()
            } else {
                String::new()
            };
            if constraint && !options.is_empty() {
                cx.error_spanned_by(
                    &item.path,
                    "a unique constraint's columns take no operator class or ordering: \
                     write a unique index, `index(a, b = \"desc\", unique)`",
                );
            }
            list.fields.push(ident);
            list.key_options.push(options);
            list.key_errors.push(key_error);
            return Ok(());
        };
        if seen.iter().any(|(o, _)| *o == option) {
            cx.error_spanned_by(&item.path, format!("duplicate `{option}` in `{key}(...)`"));
            return skip_value(&item);
        }
        seen.push((option, item.path.span()));
        if constraint && !(option == NAME || option == NULLS_NOT_DISTINCT) {
            let hint = if option == UNIQUE {
                "`unique(...)` is unique already".to_owned()
            } else {
                format!("write a unique index instead: `index(a, b, unique, {option} = \"...\")`")
            };
            cx.error_spanned_by(
                &item.path,
                format!("a unique constraint takes only `name` and `nulls_not_distinct`; {hint}"),
            );
            return skip_value(&item);
        }
        if option == UNIQUE {
            list.unique = true;
        } else if option == NULLS_NOT_DISTINCT {
            list.nulls_not_distinct = true;
        } else if let Some(lit) = option_value(cx, key, &ident, &item)? {
            let value = lit.value();
            if option == NAME {
                if looks_like_key_options(&value) {
                    cx.error_spanned_by(
                        &lit,
                        format!(
                            "`name` names the index, and `{value}` looks like a field's ordering \
                             or operator class: for a field called `name`, write \
                             `r#name = \"{value}\"`"
                        ),
                    );
                } else if check_identifier(cx, "index name", &lit) {
                    list.name = Some(value);
                }
            } else if option == USING {
                let method = value.to_lowercase();
                if METHODS.contains(&method.as_str()) {
                    list.using = Some(method);
                } else {
                    let hint = match symbol::closest(&method, METHODS) {
                        Some(best) => format!("did you mean `{best}`?"),
                        None => format!("expected {}", symbol::one_of(METHODS)),
                    };
                    cx.error_spanned_by(&lit, format!("unknown index method `{value}`; {hint}"));
                }
            } else if option == WHERE {
                if check_sql(cx, WHERE, &lit) {
                    list.predicate = Some(value);
                }
            } else if option == WITH {
                match storage_parameters(&value) {
                    Ok(with) => list.with = with,
                    Err(message) => cx.error_spanned_by(&lit, message),
                }
            }
        }
        Ok(())
    })?;
    let at = |option: Symbol| seen.iter().find(|(o, _)| *o == option).map(|(_, s)| *s);
    if let Some(span) = at(NULLS_NOT_DISTINCT)
        && !list.unique
    {
        cx.error_at(
            span,
            "`nulls_not_distinct` needs a unique index: add `unique`, or write a unique \
             constraint, `unique(a, b, nulls_not_distinct)`",
        );
    }
    let method = list.using.as_deref().unwrap_or("btree");
    if method != "btree" {
        if let Some(span) = ordered {
            cx.error_at(
                span,
                format!(
                    "a `{method}` index keeps no order: `asc`, `desc` and `nulls first | last` \
                     need a btree index"
                ),
            );
        }
        if list.unique
            && let Some(span) = at(UNIQUE)
        {
            cx.error_at(
                span,
                format!("only a btree index can be unique, not a `{method}` one"),
            );
        }
    }
    if let Some(span) = at(INCLUDE)
        && !INCLUDING_METHODS.contains(&method)
    {
        cx.error_at(
            span,
            format!(
                "a `{method}` index cannot `include` columns; only {} indexes can",
                symbol::one_of(INCLUDING_METHODS).replace(" or ", " and ")
            ),
        );
    }
    if let Some(span) = at(EXPR)
        && at(NAME).is_none()
    {
        cx.error_at(
            span,
            format!(
                "an index on an expression needs a `name`, as there is no column to name it \
                 after: `{key}(expr = \"...\", name = \"...\")`"
            ),
        );
    }
    if list.key_count() == 0 {
        // Each key item has had its mistake reported.
        if !any_key {
            cx.error_spanned_by(&meta.path, format!("`{key}(...)` needs at least one field"));
        }
        return Ok(None);
    }
    if list.key_options.iter().all(String::is_empty) {
        list.key_options.clear();
    }
    Ok(Some(list))
}

/// The fields of `include(a, b)`, each a bare name (checked to be columns by the check pass).
fn parse_include(
    cx: &Ctxt,
    list: Symbol,
    item: &ParseNestedMeta,
    out: &mut Vec<Ident>,
) -> syn::Result<()> {
    let group: proc_macro2::Group = item.input.fork().parse()?;
    if group.stream().is_empty() {
        cx.error_spanned_by(&item.path, "`include(...)` needs at least one field");
        return skip_value(item);
    }
    item.parse_nested_meta(|field| match field.path.get_ident() {
        Some(ident)
            if !field.input.peek(syn::Token![=]) && !field.input.peek(syn::token::Paren) =>
        {
            out.push(ident.clone());
            Ok(())
        }
        _ => {
            cx.error_spanned_by(
                &field.path,
                format!(
                    "`include(...)` lists fields by name, without options: \
                         `{list}(a, include(b, c))`"
                ),
            );
            skip_value(&field)
        }
    })
}

/// An expression key as the user wrote it after `expr =`, cut into the expression as
/// `CREATE INDEX` takes it (a function call, `lower(email)`, or an expression in parentheses,
/// `(a + b)`) and the key's options after it (`desc nulls last`, read as [`key_options`]).
pub(crate) fn expression_key(spec: &str) -> Result<(String, KeyOptions), String> {
    const EXPECTED: &str = "an expression key is written as `CREATE INDEX` takes it: a \
                            function call, `expr = \"lower(email)\"`, or an expression in \
                            parentheses, `expr = \"(a + b)\"`, then optionally its operator \
                            class and ordering, `expr = \"lower(email) desc\"`";
    let spec = spec.trim();
    // A function's (schema-qualified) name, then its arguments; or a parenthesized expression.
    let name_end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(spec.len());
    let open = name_end + (spec.len() - name_end - spec[name_end..].trim_start().len());
    let starts_well = spec[open..].starts_with('(')
        && (name_end == 0 || spec.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'));
    if !starts_well {
        return Err(format!(
            "`{spec}` is not a function call or parenthesized; {EXPECTED}"
        ));
    }
    let Some(close) = closing_parenthesis(spec, open) else {
        return Err(format!("unbalanced parentheses or quotes in `{spec}`"));
    };
    let (expression, rest) = spec.split_at(close + 1);
    if expression[open + 1..close].trim().is_empty() && name_end == 0 {
        return Err(format!("empty expression `{spec}`; {EXPECTED}"));
    }
    let options = if rest.trim().is_empty() {
        KeyOptions {
            text: String::new(),
            ordered: false,
        }
    } else {
        key_options(rest)?
    };
    Ok((expression.to_owned(), options))
}

/// The byte index of the `)` closing the `(` at `open`, outside quotes (`'...'`, `"..."`).
fn closing_parenthesis(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices().skip_while(|(i, _)| *i < open) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The string after `key =` of an item of `list(...)`.
fn option_value(
    cx: &Ctxt,
    list: Symbol,
    ident: &Ident,
    item: &ParseNestedMeta,
) -> syn::Result<Option<LitStr>> {
    let expr: syn::Expr = item.value()?.parse()?;
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        }) => Ok(Some(lit)),
        other => {
            let name = ident.unraw();
            cx.error_spanned_by(
                other,
                format!("expected a string literal: `{list}({name} = \"...\")`"),
            );
            Ok(None)
        }
    }
}

/// A key's options, read from what the user wrote after `field =`.
#[derive(Debug, PartialEq)]
pub(crate) struct KeyOptions {
    /// As `CREATE INDEX` writes them: `text_pattern_ops DESC NULLS LAST`.
    pub(crate) text: String,
    /// Whether it orders (`asc`, `desc`, `nulls ...`).
    pub(crate) ordered: bool,
}

/// `[opclass] [asc | desc] [nulls first | last]`, words in any case, as `CREATE INDEX` takes
/// them after a column: the operator class in lower case, the ordering in upper case.
pub(crate) fn key_options(spec: &str) -> Result<KeyOptions, String> {
    const EXPECTED: &str = "expected an operator class and/or an ordering, in this order, as \
                            `CREATE INDEX` takes them: `\"desc\"`, `\"nulls first\"`, \
                            `\"desc nulls last\"`, `\"text_pattern_ops\"`, `\"jsonb_path_ops\"`";
    let words: Vec<String> = spec.split_whitespace().map(str::to_lowercase).collect();
    if words.is_empty() {
        return Err(format!("empty options; {EXPECTED}"));
    }
    let mut out: Vec<String> = Vec::new();
    let mut rest = words.as_slice();
    if let [first, tail @ ..] = rest
        && !matches!(first.as_str(), "asc" | "desc" | "nulls" | "first" | "last")
    {
        let is_name = first.split('.').all(is_plain_identifier);
        // Operator classes are named `..._ops` (`text_pattern_ops`, `jsonb_path_ops`,
        // `gin_trgm_ops`, `vector_cosine_ops`): anything else is a misspelled ordering.
        if !is_name || !first.ends_with("_ops") {
            return Err(format!(
                "`{first}` is neither an ordering nor an operator class (whose name ends in \
                 `_ops`); {EXPECTED}"
            ));
        }
        out.push(first.clone());
        rest = tail;
    }
    let mut ordered = false;
    if let [order, tail @ ..] = rest
        && (order == "asc" || order == "desc")
    {
        out.push(order.to_uppercase());
        ordered = true;
        rest = tail;
    }
    if let [nulls, which, tail @ ..] = rest
        && nulls == "nulls"
        && (which == "first" || which == "last")
    {
        out.push(format!("NULLS {}", which.to_uppercase()));
        ordered = true;
        rest = tail;
    }
    if let Some(word) = rest.first() {
        if word == "nulls" {
            return Err(format!(
                "`nulls` takes `first` or `last`, as in `\"desc nulls last\"`; in `{spec}`"
            ));
        }
        return Err(format!("unexpected `{word}` in `{spec}`; {EXPECTED}"));
    }
    Ok(KeyOptions {
        text: out.join(" "),
        ordered,
    })
}

/// Whether `value` of `name = "..."` reads as a key's options rather than an index name:
/// an ordering, or an operator class (`..._ops`).
fn looks_like_key_options(value: &str) -> bool {
    key_options(value).is_ok_and(|o| o.ordered || o.text.ends_with("_ops"))
}

/// `name = value, ...` as `pg_class.reloptions` holds them (`fillfactor=70`): names in lower
/// case, values without quotes.
pub(crate) fn storage_parameters(spec: &str) -> Result<Vec<String>, String> {
    const EXPECTED: &str = "expected storage parameters like `with = \"fillfactor = 70\"` or `with = \"fillfactor = 70, deduplicate_items = off\"`";
    let mut out: Vec<String> = Vec::new();
    for part in spec.split(',') {
        let Some((name, value)) = part.split_once('=') else {
            return Err(format!("`{}` has no value; {EXPECTED}", part.trim()));
        };
        let name = name.trim().to_lowercase();
        let value = value.trim();
        let value = value
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .unwrap_or(value);
        let name_ok = is_plain_identifier(&name);
        let value_ok = !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.+-".contains(c));
        if !name_ok || !value_ok {
            return Err(format!(
                "`{}` is not a storage parameter; {EXPECTED}",
                part.trim()
            ));
        }
        if out
            .iter()
            .any(|p| p.split('=').next() == Some(name.as_str()))
        {
            return Err(format!("storage parameter `{name}` is given twice"));
        }
        out.push(format!("{name}={value}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{expression_key, key_options, storage_parameters};

    #[test]
    fn an_expression_key_is_a_call_or_parenthesized_then_its_options() {
        let read = |s: &str| expression_key(s).map(|(e, o)| (e, o.text, o.ordered));
        assert_eq!(
            read("lower(email)"),
            Ok(("lower(email)".into(), String::new(), false))
        );
        assert_eq!(
            read(" (a + b) desc nulls last"),
            Ok(("(a + b)".into(), "DESC NULLS LAST".into(), true))
        );
        assert_eq!(
            read("public.f(x, ')') text_pattern_ops"),
            Ok(("public.f(x, ')')".into(), "text_pattern_ops".into(), false))
        );
        assert_eq!(
            read("coalesce (a, b)"),
            Ok(("coalesce (a, b)".into(), String::new(), false))
        );
        for bad in [
            "",
            "a + b",
            "email",
            "lower(email",
            "(a + b)) desc",
            "lower(email) sideways",
            "()",
            "1(a)",
            "(a) (b)",
        ] {
            assert!(expression_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_options_are_an_operator_class_then_an_ordering() {
        let text = |s: &str| key_options(s).map(|o| (o.text, o.ordered));
        assert_eq!(text("desc"), Ok(("DESC".into(), true)));
        assert_eq!(
            text("Desc  Nulls Last"),
            Ok(("DESC NULLS LAST".into(), true))
        );
        assert_eq!(text("nulls first"), Ok(("NULLS FIRST".into(), true)));
        assert_eq!(
            text("text_pattern_ops desc"),
            Ok(("text_pattern_ops DESC".into(), true))
        );
        assert_eq!(text("jsonb_path_ops"), Ok(("jsonb_path_ops".into(), false)));
        assert_eq!(
            text("public.gin_trgm_ops"),
            Ok(("public.gin_trgm_ops".into(), false))
        );
        for bad in [
            "",
            "desc asc",
            "nulls",
            "nulls middle",
            "desc text_pattern_ops",
            "descending",
            "x_ops y",
            "1x_ops",
        ] {
            assert!(key_options(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn storage_parameters_are_read_as_reloptions_holds_them() {
        assert_eq!(
            storage_parameters("FillFactor = 70, deduplicate_items='off'"),
            Ok(vec!["fillfactor=70".into(), "deduplicate_items=off".into()])
        );
        for bad in [
            "",
            "fillfactor",
            "fillfactor =",
            "fill factor = 7",
            "a = 1; drop",
            "a = 1, a = 2",
        ] {
            assert!(storage_parameters(bad).is_err(), "{bad}");
        }
    }
}
