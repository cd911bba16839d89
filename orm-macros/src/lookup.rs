//! `unknown_relationship!`: the compile error of a name in an inheritance enum's
//! `relationships(...)` that its variant struct does not declare. The variant struct's derive
//! emits a lookup macro (`__orm_rels_Chief!`, in `expand::handles`) whose arms are its
//! relationships; any other name lands here, with the struct's relationships, so the error
//! names the bad name at its place in the enum's attribute and what it could have been.
//! [`message`] also words the error of a self-referential relationship's `back_populates`
//! naming a field the model does not have (`expand::back_populates`).

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, Token, bracketed};

use crate::symbol;

/// `name, Struct, [declared, ...]`.
struct Input {
    name: Ident,
    owner: Ident,
    declared: Vec<Ident>,
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name = input.parse()?;
        input.parse::<Token![,]>()?;
        let owner = input.parse()?;
        input.parse::<Token![,]>()?;
        let list;
        bracketed!(list in input);
        let declared = Punctuated::<Ident, Token![,]>::parse_terminated(&list)?
            .into_iter()
            .collect();
        Ok(Input {
            name,
            owner,
            declared,
        })
    }
}

/// Who names the relationship: an enum's `relationships(...)`, or `back_populates` on the
/// relationship `model.field`.
#[derive(Clone, Copy)]
pub(crate) enum NamedBy<'a> {
    /// `relationships(...)` on an inheritance enum or one of its variants.
    Enum,
    /// `back_populates` on the relationship `model.field`.
    BackPopulates(&'a str, &'a str),
}

/// The message for `name`, which `owner` (declaring `declared`) does not declare.
pub(crate) fn message(name: &str, owner: &str, declared: &[String], by: NamedBy<'_>) -> String {
    let head = match by {
        NamedBy::Enum => format!("`{owner}` has no relationship `{name}`"),
        NamedBy::BackPopulates(model, field) => {
            format!("`back_populates` of `{model}.{field}`: `{owner}` has no relationship `{name}`")
        }
    };
    let names: Vec<&str> = declared.iter().map(String::as_str).collect();
    if let Some(best) = symbol::closest(name, &names) {
        return format!("{head}; did you mean `{best}`?");
    }
    let has = if names.is_empty() {
        format!("`{owner}` declares no `#[relationship]` field")
    } else {
        let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        format!("the relationships of `{owner}` are {}", quoted.join(", "))
    };
    match by {
        NamedBy::Enum => format!(
            "{head}: {has} (`relationships(...)` on the enum names relationships every variant struct declares; one that only some declare goes on those variants, `#[model(value = \"..\", relationships({name}))]`)"
        ),
        NamedBy::BackPopulates(..) => format!(
            "{head}: {has} (`back_populates` names the `#[relationship]` field of the other side that leads back)"
        ),
    }
}

/// The compile error, spanned at the name.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: Input = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let declared: Vec<String> = input
        .declared
        .iter()
        .map(|i| syn::ext::IdentExt::unraw(i).to_string())
        .collect();
    let unraw = |i: &Ident| syn::ext::IdentExt::unraw(i).to_string();
    let msg = message(
        &unraw(&input.name),
        &unraw(&input.owner),
        &declared,
        NamedBy::Enum,
    );
    syn::Error::new(input.name.span(), msg).to_compile_error()
}

#[cfg(test)]
mod tests {
    use super::{NamedBy, message};

    #[test]
    fn a_misspelling_gets_the_closest_name() {
        let declared = ["team".to_string(), "reports".to_string()];
        assert_eq!(
            message("teem", "Chief", &declared, NamedBy::Enum),
            "`Chief` has no relationship `teem`; did you mean `team`?"
        );
    }

    #[test]
    fn another_name_gets_the_list() {
        let declared = ["team".to_string(), "reports".to_string()];
        let msg = message("desk", "Chief", &declared, NamedBy::Enum);
        assert!(
            msg.starts_with(
                "`Chief` has no relationship `desk`: the relationships of `Chief` are `team`, `reports`"
            ),
            "{msg}"
        );
        let none = message("team", "Developer", &[], NamedBy::Enum);
        assert!(
            none.starts_with(
                "`Developer` has no relationship `team`: `Developer` declares no `#[relationship]` field"
            ),
            "{none}"
        );
    }

    #[test]
    fn back_populates_names_the_relationship_that_named_it() {
        let declared = ["orders".to_string()];
        let by = NamedBy::BackPopulates("Order", "user");
        assert_eq!(
            message("ordrs", "User", &declared, by),
            "`back_populates` of `Order.user`: `User` has no relationship `ordrs`; did you mean `orders`?"
        );
        let msg = message("invoices", "User", &declared, by);
        assert!(
            msg.starts_with(
                "`back_populates` of `Order.user`: `User` has no relationship `invoices`: the relationships of `User` are `orders` (`back_populates`"
            ),
            "{msg}"
        );
    }
}
