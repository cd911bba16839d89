//! Code generation for `#[derive(FromRow)]`. The input has passed every check.

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{RowField, RowStruct};

/// Everything the derive generates, in one `const _: () = { ... };` block.
pub(crate) fn expand(row: &RowStruct) -> TokenStream {
    let krate = &row.attrs.krate;
    let p = quote!(#krate::__private);
    let assertions = type_assertions(row, &p);
    let from_row = from_row(row, &p);
    quote! {
        #[allow(non_upper_case_globals, unused_qualifications)]
        const _: () = {
            #assertions
            #from_row
        };
    }
}

fn plain_fields<'r, 'a>(row: &'r RowStruct<'a>) -> impl Iterator<Item = &'r RowField<'a>> {
    row.fields
        .iter()
        .filter(|f| f.reads_columns() && f.attrs.flatten.is_none())
}

fn flattened_fields<'r, 'a>(row: &'r RowStruct<'a>) -> impl Iterator<Item = &'r RowField<'a>> {
    row.fields
        .iter()
        .filter(|f| f.reads_columns() && f.attrs.flatten.is_some())
}

/// `const fn` calls that fail at the field's type when it cannot be decoded (from one column, or
/// as a flattened row type), with a message saying which attribute would fix it.
fn type_assertions(row: &RowStruct, p: &TokenStream) -> TokenStream {
    let mut out = TokenStream::new();
    let plain: Vec<TokenStream> = plain_fields(row)
        .map(|field| {
            let ty = field.ty;
            quote_spanned! {ty.span()=>
                __orm_assert_column::<#ty>();
            }
        })
        .collect();
    if !plain.is_empty() {
        out.extend(quote! {
            #[diagnostic::on_unimplemented(
                message = "`{Self}` cannot be decoded from a column",
                label = "not a column value",
                note = "a field of a #[derive(FromRow)] struct reads one column, so its type must implement `FromSql` (bool, integers, floats, String, Vec<u8>, dates and times, Uuid, JSON, Decimal, DbEnum types, Vec<T>, Option<T>)",
                note = "for a field that holds another #[derive(FromRow)] struct or a model, add #[from_row(flatten)]; for a field that is not in the row, add #[from_row(skip)]"
            )]
            trait __OrmColumnValue {}
            impl<T: for<'__a> #p::FromSql<'__a>> __OrmColumnValue for T {}
            const fn __orm_assert_column<T: __OrmColumnValue>() {}
            const _: () = {
                #(#plain)*
            };
        });
    }
    let flattened: Vec<TokenStream> = flattened_fields(row)
        .map(|field| {
            let ty = field.ty;
            quote_spanned! {ty.span()=>
                __orm_assert_row::<#ty>();
            }
        })
        .collect();
    if !flattened.is_empty() {
        out.extend(quote! {
            #[diagnostic::on_unimplemented(
                message = "`{Self}` cannot be flattened into a row",
                label = "not a row type",
                note = "a #[from_row(flatten)] field must be a #[derive(FromRow)] struct or a model; for a single column remove `flatten`"
            )]
            trait __OrmRowValue {}
            impl<T: #p::FromRow> __OrmRowValue for T {}
            const fn __orm_assert_row<T: __OrmRowValue>() {}
            const _: () = {
                #(#flattened)*
            };
        });
    }
    out
}

/// `impl FromRow`: fields by position in declaration order, flattened fields over their own
/// width, skipped fields from `Default`.
fn from_row(row: &RowStruct, p: &TokenStream) -> TokenStream {
    let ident = row.ident;
    let name = syn::ext::IdentExt::unraw(ident).to_string();
    // The columns before the current field: a count of single columns, plus the widths of the
    // flattened fields (constants, so the index is computed at compile time).
    let mut singles = 0usize;
    let mut widths: Vec<TokenStream> = Vec::new();
    let offset = |singles: usize, widths: &[TokenStream]| -> Vec<TokenStream> {
        let mut terms: Vec<TokenStream> = Vec::new();
        if singles > 0 {
            let n = Literal::usize_unsuffixed(singles);
            terms.push(quote!(#n));
        }
        terms.extend(widths.iter().cloned());
        terms
    };
    let mut inits: Vec<TokenStream> = Vec::new();
    for field in &row.fields {
        let member = field.ident;
        let ty = field.ty;
        if !field.reads_columns() {
            let default = quote_spanned!(ty.span()=> <#ty as #p::Default>::default());
            inits.push(quote!(#member: #default));
            continue;
        }
        let terms = offset(singles, &widths);
        let index = quote!(__start #(+ #terms)*);
        if field.attrs.flatten.is_some() {
            inits.push(quote! {
                #member: <#ty as #p::FromRow>::from_row(__row, #index)?
            });
            widths.push(quote!(<#ty as #p::FromRow>::WIDTH));
        } else {
            let column = field.name();
            // With the decode check when the type is a `SqlType`, through `FromSql` alone
            // otherwise (see `Field`).
            inits.push(quote! {
                #member: (&#p::Field::<#ty>::NEW).decode_column(__row, #index, #name, #column)?
            });
            singles += 1;
        }
    }
    let width_terms = offset(singles, &widths);
    let width = if width_terms.is_empty() {
        quote!(0)
    } else {
        quote!(#(#width_terms)+*)
    };
    let plain = plain_fields(row).map(|f| f.ty);
    let flattened = flattened_fields(row).map(|f| f.ty);
    // Higher-ranked bounds, as in the Model derive: the body type-checks even when a field's
    // type is wrong, so that type is reported once, by its assertion.
    quote! {
        #[automatically_derived]
        impl #p::FromRow for #ident
        where
            #(for<'__orm> #plain: #p::FromSql<'__orm>,)*
            #(for<'__orm> #flattened: #p::FromRow,)*
        {
            const WIDTH: usize = #width;

            fn from_row<__R: #p::Row + ?Sized>(__row: &__R, __start: usize) -> #p::Result<Self> {
                #[allow(unused_imports)]
                use #p::{DecodeFromSql as _, DecodeSqlType as _};
                #p::Ok(Self {
                    #(#inits,)*
                })
            }
        }
    }
}
