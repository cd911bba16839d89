//! Code generation for `#[derive(SqlType)] #[sql_type(composite = "...")]`: a struct stored as
//! a PostgreSQL composite type, in the binary record format. Values are matched to fields by
//! the attribute names the server describes (see `orm_core::types::composite`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::ext::IdentExt;

use crate::ast::CustomTypeInput;

/// `ToSql`, `FromSql`, `SqlType`, `Composite`, `ArrayElement`, `Retype` and one `CompositeField` handle
/// per field (`Address::city`), in one `const _: () = { ... };` plus the handles' `impl`.
pub(crate) fn expand(input: &CustomTypeInput, name: &str) -> TokenStream {
    let krate = &input.attrs.krate;
    let p = quote!(#krate::__private);
    let ident = input.ident;
    let schema = match &input.attrs.schema {
        Some(s) => {
            let s = &s.value;
            quote!(#p::Some(#s))
        }
        None => quote!(#p::None),
    };
    let idents: Vec<&syn::Ident> = input
        .fields
        .iter()
        .filter_map(|f| f.ident.as_ref())
        .collect();
    let names: Vec<String> = idents.iter().map(|i| i.unraw().to_string()).collect();
    let types: Vec<&syn::Type> = input.fields.iter().map(|f| &f.ty).collect();
    let vars: Vec<syn::Ident> = idents
        .iter()
        .map(|i| format_ident!("__orm_{}", i.unraw()))
        .collect();
    let first = &names[0];
    let handles = input.fields.iter().zip(&names).map(|(f, n)| {
        let vis = &f.vis;
        let ty = &f.ty;
        let id = f.ident.as_ref();
        let doc = format!(" The attribute `{n}` of the composite type `{name}`.");
        quote! {
            #[doc = #doc]
            #[allow(non_upper_case_globals)]
            #vis const #id: #p::CompositeField<Self, #ty> = #p::CompositeField::new(#n);
        }
    });
    quote! {
        #[automatically_derived]
        impl #ident {
            #(#handles)*
        }

        const _: () = {
            #[automatically_derived]
            impl #p::Composite for #ident {
                const TYPE: &'static #p::CompositeType = &#p::CompositeType {
                    name: #name,
                    schema: #schema,
                    attributes: &[#(#p::CompositeAttribute {
                        name: #names,
                        ty: &<#types as #p::SqlType>::COLUMN_TYPE,
                    }),*],
                };
            }

            #[automatically_derived]
            impl #p::ToSql for #ident {
                fn to_sql(
                    &self,
                    __ty: &#p::Type,
                    __out: &mut #p::BytesMut,
                ) -> #p::Result<#p::IsNull, #p::BoxError> {
                    let mut __e = #p::composite::Encoder::start(
                        <Self as #p::Composite>::TYPE, __ty, __out,
                    )?;
                    let __attributes: #p::Vec<&str> = __e.attributes().collect();
                    for (__i, __a) in __attributes.into_iter().enumerate() {
                        match __a {
                            #(#names => __e.field(__i, #names, &self.#idents)?,)*
                            __other => return #p::Err(__e.unknown(__other)),
                        }
                    }
                    #p::Ok(#p::IsNull::No)
                }

                fn accepts(__ty: &#p::Type) -> bool {
                    #p::composite::accepts(<Self as #p::Composite>::TYPE, __ty)
                }

                #p::to_sql_checked!();
            }

            #[automatically_derived]
            impl<'__a> #p::FromSql<'__a> for #ident {
                fn from_sql(
                    __ty: &#p::Type,
                    __raw: &'__a [u8],
                ) -> #p::Result<Self, #p::BoxError> {
                    let mut __d = #p::composite::Decoder::start(
                        <Self as #p::Composite>::TYPE, __ty, __raw,
                    )?;
                    #(let mut #vars: #p::Option<#types> = #p::None;)*
                    while let #p::Some(__a) = __d.next_attribute() {
                        match __a {
                            #(#names => #vars = #p::Some(__d.field::<#types>(#names)?),)*
                            __other => return #p::Err(__d.unknown(__other)),
                        }
                    }
                    __d.finish(#p::Some(()), #first)?;
                    #p::Ok(Self {
                        #(#idents: __d.finish(#vars, #names)?,)*
                    })
                }

                fn accepts(__ty: &#p::Type) -> bool {
                    #p::composite::accepts(<Self as #p::Composite>::TYPE, __ty)
                }
            }

            #[automatically_derived]
            impl #p::SqlType for #ident {
                type Base = Self;
                const COLUMN_TYPE: #p::ColumnType =
                    #p::ColumnType::Composite(<Self as #p::Composite>::TYPE);

                fn clone_from_any(__value: &dyn #p::Any) -> #p::Option<Self> {
                    __value.downcast_ref::<Self>().cloned()
                }
            }

            #[automatically_derived]
            impl #p::ArrayElement for #ident {}

            #[automatically_derived]
            impl<__B: #p::SqlType> #p::Retype<__B> for #ident {
                type Output = __B;
            }
        };
    }
}
