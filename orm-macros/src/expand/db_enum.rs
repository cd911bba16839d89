//! Code generation for `#[derive(DbEnum)]`. The input has passed every check.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::LitByteStr;

use crate::ast::DbEnum;

/// `ToSql`, `FromSql`, `SqlType` and `ArrayElement`, in one `const _: () = { ... };` block.
///
/// On the wire (binary format) an enum value is its label's UTF-8 bytes, as in text format: so
/// it is also sent as an untyped (`unknown`) literal in the unnamed statement mode.
pub(crate) fn expand(db_enum: &DbEnum) -> TokenStream {
    let krate = &db_enum.attrs.krate;
    let p = quote!(#krate::__private);
    let ident = db_enum.ident;
    let name = &db_enum.attrs.name;
    let schema = match &db_enum.attrs.schema {
        Some(schema) => quote!(#p::Some(#schema)),
        None => quote!(#p::None),
    };
    let labels: Vec<&String> = db_enum.variants.iter().map(|v| &v.label).collect();
    let variants: Vec<&syn::Ident> = db_enum.variants.iter().map(|v| v.ident).collect();
    let bytes: Vec<LitByteStr> = labels
        .iter()
        .map(|label| LitByteStr::new(label.as_bytes(), Span::call_site()))
        .collect();

    // `ToSql` needs `Debug`. The impls assume it (a higher-ranked bound is not rejected when it
    // does not hold) and one assertion at the enum's name reports a missing `Debug` once.
    let assert_debug = quote_spanned! {ident.span()=>
        __orm_assert_debug::<#ident>();
    };
    let debug = quote!(where for<'__orm> #ident: #p::Debug);

    quote! {
        const _: () = {
            const fn __orm_assert_debug<T: #p::Debug>() {}
            const _: () = {
                #assert_debug
            };

            #[automatically_derived]
            impl #p::ToSql for #ident #debug {
                fn to_sql(
                    &self,
                    _ty: &#p::Type,
                    __out: &mut #p::BytesMut,
                ) -> #p::Result<#p::IsNull, #p::BoxError> {
                    let __label: &'static str = match self {
                        #(Self::#variants => #labels,)*
                    };
                    __out.extend_from_slice(__label.as_bytes());
                    #p::Ok(#p::IsNull::No)
                }

                // `unknown` too: the unnamed statement mode sends an enum value as an untyped
                // literal, whose type the server infers from its place in the statement.
                fn accepts(__ty: &#p::Type) -> bool {
                    __ty.name() == #name || *__ty == #p::Type::UNKNOWN
                }

                #p::to_sql_checked!();
            }

            #[automatically_derived]
            impl<'__a> #p::FromSql<'__a> for #ident {
                fn from_sql(
                    _ty: &#p::Type,
                    __raw: &'__a [u8],
                ) -> #p::Result<Self, #p::BoxError> {
                    match __raw {
                        #(#bytes => #p::Ok(Self::#variants),)*
                        _ => #p::Err(#p::unknown_enum_label(
                            #name,
                            ::core::any::type_name::<Self>(),
                            __raw,
                        )),
                    }
                }

                fn accepts(__ty: &#p::Type) -> bool {
                    __ty.name() == #name
                }
            }

            #[automatically_derived]
            impl #p::SqlType for #ident #debug {
                type Base = Self;
                const COLUMN_TYPE: #p::ColumnType = #p::ColumnType::Enum(&#p::EnumType {
                    name: #name,
                    schema: #schema,
                    labels: &[#(#labels),*],
                });
            }

            #[automatically_derived]
            impl #p::ArrayElement for #ident #debug {}
        };
    }
}
