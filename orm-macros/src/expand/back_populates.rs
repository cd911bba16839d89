//! The compile-time checks of `back_populates = "field"`: the target model declares a
//! relationship of that name (its lookup macro, `__orm_rels_User!(check orders by Order user)`,
//! is nothing or a compile error at the name with the closest declared name), and that
//! relationship leads back to this model (its marker's `Relation::Target` is this model, or the
//! inheritance enum or variant struct on the other side of it: `BackTo`). The second check is
//! gated by the lookup macro, so a misspelled name is one error, not two.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Type;
use syn::ext::IdentExt;

use super::handles::lookup_macro;
use crate::ast::Model;
use crate::attr::relationship::field_ident;

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
    let checks = model.relationships().filter_map(|(field, rel)| {
        let back = rel.back_populates.as_ref()?;
        let name = field_ident(&back.value(), back.span())?;
        let Type::Path(target) = &rel.target else {
            return None;
        };
        let path = &target.path;
        let last = path.segments.last()?;
        let leading = &path.leading_colon;
        let init = path.segments.iter().take(path.segments.len() - 1);
        let prefix = quote!(#leading #(#init ::)*);
        let lookup = lookup_macro(&last.ident.unraw().to_string());
        let marker = syn::Ident::new(
            &format!("__OrmRel_{}_{}", last.ident.unraw(), name.unraw()),
            back.span(),
        );
        let field_name = field.ident;
        let agree = quote_spanned! {back.span()=>
            __orm_back_to::<<#prefix #marker as #p::Relation>::Target, #ident>();
        };
        Some(quote! {
            #prefix #lookup!(check #name by #ident #field_name);
            #prefix #lookup!(#name { const _: () = { #agree }; } {});
        })
    });
    let checks: Vec<TokenStream> = checks.collect();
    if checks.is_empty() {
        return quote!(#variant);
    }
    quote! {
        #variant
        const fn __orm_back_to<T: #p::BackTo<M> + ?Sized, M: ?Sized>() {}
        #(#checks)*
    }
}
