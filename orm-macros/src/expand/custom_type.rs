//! Code generation for `#[derive(SqlType)]`: a column type through the user's `CustomType`
//! impl. Every body calls a generic helper of the Core, so the generated code is only the impl
//! headers the orphan rule makes us write at the user's type.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::ast::CustomTypeInput;

/// `ToSql`, `FromSql`, `SqlType`, `ArrayElement` and `Retype`, in one `const _: () = { ... };`.
pub(crate) fn expand(input: &CustomTypeInput) -> TokenStream {
    let krate = &input.attrs.krate;
    let p = quote!(#krate::__private);
    let ident = input.ident;
    // The impls assume `CustomType` (a higher-ranked bound is not rejected when it does not
    // hold) and one assertion at the type's name reports a missing impl once.
    let assert_custom = quote_spanned! {ident.span()=>
        __orm_assert_custom_type::<#ident>();
    };
    let custom = quote!(where for<'__orm> #ident: #p::CustomType);
    quote! {
        const _: () = {
            const fn __orm_assert_custom_type<T: #p::CustomType>() {}
            const _: () = {
                #assert_custom
            };

            #[automatically_derived]
            impl #p::ToSql for #ident #custom {
                fn to_sql(
                    &self,
                    __ty: &#p::Type,
                    __out: &mut #p::BytesMut,
                ) -> #p::Result<#p::IsNull, #p::BoxError> {
                    #p::custom::to_sql(self, __ty, __out)
                }

                fn accepts(__ty: &#p::Type) -> bool {
                    #p::custom::accepts::<Self>(__ty)
                }

                #p::to_sql_checked!();
            }

            #[automatically_derived]
            impl<'__a> #p::FromSql<'__a> for #ident #custom {
                fn from_sql(
                    __ty: &#p::Type,
                    __raw: &'__a [u8],
                ) -> #p::Result<Self, #p::BoxError> {
                    #p::custom::from_sql::<Self>(__ty, __raw)
                }

                fn accepts(__ty: &#p::Type) -> bool {
                    #p::custom::accepts::<Self>(__ty)
                }
            }

            #[automatically_derived]
            impl #p::SqlType for #ident #custom {
                type Base = Self;
                const COLUMN_TYPE: #p::ColumnType = <Self as #p::CustomType>::COLUMN_TYPE;

                fn clone_from_any(__value: &dyn #p::Any) -> #p::Option<Self> {
                    #p::custom::clone_from_any::<Self>(__value)
                }
            }

            #[automatically_derived]
            impl #p::ArrayElement for #ident #custom {}

            #[automatically_derived]
            impl<__B: #p::SqlType> #p::Retype<__B> for #ident #custom {
                type Output = __B;
            }
        };
    }
}
