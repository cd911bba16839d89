//! The compile-time checks of `back_populates = "field"`: the target model declares a
//! relationship of that name, and it leads back to this model.
//!
//! Both through the target's marker type of that relationship (`__OrmRel_User_orders`, declared
//! next to the target by its derive, as the inheritance enums' relationships find their variant
//! structs' ones): `<path::__OrmRel_User_orders as Relation>::Target: BackTo<Order>`, spanned at
//! the name. A name the target does not declare is the compiler's "cannot find type
//! `__OrmRel_User_ordrs`", with its suggestion of the closest marker; a relationship leading
//! elsewhere is `BackTo`'s message. Types resolve after macro expansion, so models of the same
//! name in nested modules or behind glob imports, and targets in other crates, are found as
//! their path says (a lookup macro, resolved during expansion, would be ambiguous there).
//!
//! A self-referential relationship (`belongs_to = Self`) is checked here, with the fields in
//! hand: an unknown name is an error with the closest relationship of the model.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::{Ident, Type};

use crate::ast::Model;
use crate::attr::relationship::field_ident;
use crate::lookup::{NamedBy, message};

/// The checks of every relationship with `back_populates` (inside the derive's `const _`
/// block), and for a variant struct, `impl BackTo<Chief> for Staff`: a relationship to the enum
/// leads back to its variant struct (a variant struct's relationship is the enum's). A target
/// that is not a path has its own error elsewhere and is not checked here.
pub(crate) fn checks(model: &Model, p: &TokenStream) -> TokenStream {
    let ident = model.ident;
    let variant = model.attrs.inherits.as_ref().map(|e| {
        quote! {
            #[automatically_derived]
            impl #p::BackTo<#ident> for #e {}
        }
    });
    let declared: Vec<String> = model
        .relationships()
        .map(|(f, _)| f.ident.unraw().to_string())
        .collect();
    let checks: Vec<TokenStream> = model
        .relationships()
        .filter_map(|(field, rel)| {
            let back = rel.back_populates.as_ref()?;
            let name = field_ident(&back.value(), back.span())?;
            let Type::Path(target) = &rel.target else {
                return None;
            };
            let path = &target.path;
            let last = path.segments.last()?;
            let own = path.segments.len() == 1 && last.ident == *ident;
            if own && !declared.contains(&name.unraw().to_string()) {
                let by = NamedBy::BackPopulates(&declared_name(ident), &field.name());
                let msg = message(
                    &name.unraw().to_string(),
                    &declared_name(ident),
                    &declared,
                    by,
                );
                return Some(syn::Error::new(back.span(), msg).to_compile_error());
            }
            let leading = &path.leading_colon;
            let init = path.segments.iter().take(path.segments.len() - 1);
            let marker = Ident::new(
                &format!("__OrmRel_{}_{}", last.ident.unraw(), name.unraw()),
                back.span(),
            );
            Some(quote_spanned! {back.span()=>
                __orm_back_to::<<#leading #(#init ::)* #marker as #p::Relation>::Target, #ident>();
            })
        })
        .collect();
    if checks.is_empty() {
        return quote!(#variant);
    }
    quote! {
        #variant
        const fn __orm_back_to<T: #p::BackTo<M> + ?Sized, M: ?Sized>() {}
        const _: () = {
            #(#checks)*
        };
    }
}

/// The model's name as written (without `r#`).
fn declared_name(ident: &Ident) -> String {
    ident.unraw().to_string()
}
