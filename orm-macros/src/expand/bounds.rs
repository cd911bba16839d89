//! How `#[derive(Model)]` reports a field type that cannot be a column (or compared, or be a
//! version) once, at the user's type: assertions at the type, and `where` bounds that keep the
//! generated impls from reporting it again at every use.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{Field, Model};

/// `const fn` calls that fail at the field's type when it cannot be a column, so the error points
/// at the user's type and shows `SqlType`'s explanation. Likewise a version column's type must
/// be `VersionColumn`, and with `#[model(hooks)]` the struct must implement `Hooks` (reported
/// at `hooks`).
///
/// The session compares a column with its snapshot, so its type must also be `PartialEq`. That
/// is asserted on `<T as SqlType>::Base` (`T` without its `Option`, which is comparable when
/// `T` is): for a type that is not a column type at all the projection fails with the same
/// error as the first assertion, shown once, and the type is not also reported as not
/// comparable.
pub(crate) fn type_assertions(model: &Model, p: &TokenStream) -> TokenStream {
    let calls = model.columns().chain(model.properties()).map(|field| {
        let ty = field.ty;
        let version = field.attrs.version.map(|_| {
            quote_spanned! {ty.span()=>
                __orm_assert_version::<#ty>();
            }
        });
        quote_spanned! {ty.span()=>
            __orm_assert_sql_type::<#ty>();
            __orm_assert_partial_eq::<<#ty as #p::SqlType>::Base>();
            #version
        }
    });
    let column_types: Vec<TokenStream> = model
        .columns()
        .map(|field| column_type_checks(field, p))
        .filter(|checks| !checks.is_empty())
        .collect();
    // A function of this derive's own, called at each attribute, so that the compiler's error
    // points there rather than at the derive.
    let column_type_check = (!column_types.is_empty()).then(|| {
        quote! {
            const fn __orm_assert_column_type(error: #p::Option<&'static str>) {
                #p::assert_column_type(error)
            }
        }
    });
    let version = model
        .columns()
        .any(|f| f.attrs.version.is_some())
        .then(|| quote!(const fn __orm_assert_version<T: #p::VersionColumn>() {}));
    // At the `hooks` keyword: the struct promised its own `impl Hooks`.
    let hooks = model.attrs.hooks.map(|span| {
        let mut ident = model.ident.clone();
        ident.set_span(span);
        let call = quote_spanned!(span=> __orm_assert_hooks::<#ident>(););
        quote! {
            const fn __orm_assert_hooks<T: #p::Hooks>() {}
            const _: () = {
                #call
            };
        }
    });
    quote! {
        const fn __orm_assert_sql_type<T: #p::SqlType>() {}
        const fn __orm_assert_partial_eq<T: #p::PartialEq>() {}
        #version
        const _: () = {
            #(#calls)*
        };
        #column_type_check
        #(#column_types)*
        #hooks
    }
}

/// The checks of a field's `len`, `precision`/`scale` and `collation` against its type (each a
/// free `const`, so it runs whether or not the table is used), at the attribute.
fn column_type_checks(field: &Field, p: &TokenStream) -> TokenStream {
    let ty = field.ty;
    let attrs = &field.attrs;
    let some_u32 = |v: Option<u32>| match v {
        Some(n) => quote!(#p::Some(#n)),
        None => quote!(#p::None),
    };
    let some_u16 = |v: Option<u32>| match v.and_then(|n| u16::try_from(n).ok()) {
        Some(n) => quote!(#p::Some(#n)),
        None => quote!(#p::None),
    };
    let mut out = TokenStream::new();
    let at = attrs
        .precision
        .as_ref()
        .or(attrs.len.as_ref())
        .map(|s| s.span);
    if let Some(at) = at {
        let len = some_u32(attrs.len.as_ref().map(|l| l.value));
        let precision = some_u16(attrs.precision.as_ref().map(|v| v.value));
        let scale = some_u16(attrs.scale.as_ref().map(|v| v.value));
        out.extend(quote_spanned! {at=>
            const _: () = __orm_assert_column_type(
                <#ty as #p::SqlType>::COLUMN_TYPE.modifier_error(
                    #p::TypeMod::new(#len, #precision, #scale),
                ),
            );
        });
    }
    if let Some(collation) = &attrs.collation {
        out.extend(quote_spanned! {collation.span()=>
            const _: () = __orm_assert_column_type(
                <#ty as #p::SqlType>::COLUMN_TYPE.collation_error(),
            );
        });
    }
    out
}

/// `where for<'__orm> T: SqlType + PartialEq, ...` over the column types (and `VersionColumn`
/// over the version column's), for the trait impls.
///
/// With the bounds on the impl, the bodies type-check even when a field's type cannot be a
/// column (or cannot be compared, for `changed_columns`, or incremented, for `bump_version`),
/// so such a type is reported once, by the assertion at the type ([`type_assertions`]),
/// instead of once per generated use. The higher-ranked form keeps the compiler from rejecting
/// the (then trivially false) bound on the impl itself; the impl is simply never usable.
pub(crate) fn column_bounds(model: &Model, p: &TokenStream) -> TokenStream {
    let (types, version) = column_predicates(model, p);
    quote! {
        where
            #types
            #version
    }
}

/// [`column_bounds`], plus `Self: Hooks` when the struct says `#[model(hooks)]`: the user's
/// impl of `Hooks` (a supertrait of `Persist`) may be missing, which the assertion at `hooks`
/// reports.
pub(crate) fn persist_bounds(model: &Model, p: &TokenStream) -> TokenStream {
    let (types, version) = column_predicates(model, p);
    let ident = model.ident;
    let hooks = model
        .attrs
        .hooks
        .map(|_| quote!(for<'__orm> #ident: #p::Hooks,));
    quote! {
        where
            #types
            #version
            #hooks
    }
}

/// The predicates of [`column_bounds`]: over every column type, and over the version column's.
fn column_predicates(model: &Model, p: &TokenStream) -> (TokenStream, TokenStream) {
    let types = model
        .columns()
        .chain(model.properties())
        .map(|field| field.ty);
    let version = model
        .columns()
        .filter(|field| field.attrs.version.is_some())
        .map(|field| field.ty);
    (
        quote!(#(for<'__orm> #types: #p::SqlType + #p::PartialEq,)*),
        quote!(#(for<'__orm> #version: #p::VersionColumn,)*),
    )
}
