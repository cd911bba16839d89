//! The relationships of an inheritance enum (`#[model(relationships(team))]` on the enum, or on
//! one variant): each is declared on the variant structs (a `#[relationship]` field, which holds
//! the loaded value), and the enum exposes it as its own: `Staff::team`, loadable from
//! `select::<Staff>()` and followed by the session's cascades for every variant that has it.
//!
//! Generated per name: a marker type `__OrmRel_Staff_team` next to the enum, its `Relation`
//! impl delegating to the variant structs' markers (`__OrmRel_Chief_team`, found next to the
//! variant struct's path; the lookup macro `__orm_rels_Chief!` the struct's derive declares
//! there turns a name the struct does not declare into a compile error listing the ones it
//! does) by the variant held, the handle `Staff::team`, and the entry of the
//! enum's `Persist::RELATIONS`. An object of a variant that does not declare it has no key and
//! no slot: loaders skip it, cascades pass it by.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::{Ident, Type};

use crate::ast::ModelEnum;
use crate::expand::handles::lookup_macro;

/// One relationship of the enum: its name and the variants declaring it (variant ident and
/// struct type).
struct EnumRelation<'a> {
    name: &'a Ident,
    variants: Vec<(&'a Ident, &'a Type)>,
}

/// The enum's relationships in the order first named: the enum's list holds for every variant,
/// a variant's list for itself.
fn relations<'a>(model: &'a ModelEnum) -> Vec<EnumRelation<'a>> {
    let mut out: Vec<EnumRelation<'a>> = Vec::new();
    let mut add = |name: &'a Ident, variant: &'a Ident, ty: &'a Type| {
        let at = match out.iter().position(|r| r.name == name) {
            Some(at) => at,
            None => {
                out.push(EnumRelation {
                    name,
                    variants: Vec::new(),
                });
                out.len() - 1
            }
        };
        if !out[at].variants.iter().any(|(v, _)| *v == variant) {
            out[at].variants.push((variant, ty));
        }
    };
    for name in &model.attrs.relationships {
        for v in &model.variants {
            if let Some(ty) = v.ty {
                add(name, v.ident, ty);
            }
        }
    }
    for v in &model.variants {
        for name in &v.relationships {
            if let Some(ty) = v.ty {
                add(name, v.ident, ty);
            }
        }
    }
    out
}

/// The enum's marker type for relationship `name`.
fn enum_marker(model: &ModelEnum, name: &Ident) -> Ident {
    format_ident!("__OrmRel_{}_{}", model.ident.unraw(), name.unraw())
}

/// The variant struct's marker type for relationship `name` (`path::__OrmRel_Chief_team`) and
/// its lookup macro (`path::__orm_rels_Chief`), which the struct's derive declares next to it.
/// `None` for a type that is not a path (the enum's checks report it).
fn variant_marker(ty: &Type, name: &Ident) -> Option<(TokenStream, TokenStream)> {
    let Type::Path(path) = ty else {
        return None;
    };
    let path = &path.path;
    let last = path.segments.last()?;
    let marker = Ident::new(
        &format!("__OrmRel_{}_{}", last.ident.unraw(), name.unraw()),
        name.span(),
    );
    let lookup = lookup_macro(&last.ident.unraw().to_string());
    let leading = &path.leading_colon;
    let init = path.segments.iter().take(path.segments.len() - 1);
    let prefix = quote!(#leading #(#init ::)*);
    Some((quote!(#prefix #marker), quote!(#prefix #lookup)))
}

/// The markers and handles (outside the derive's `const _` block, so they can be named).
pub(crate) fn handles(model: &ModelEnum, p: &TokenStream) -> TokenStream {
    let rels = relations(model);
    if rels.is_empty() {
        return TokenStream::new();
    }
    let ident = model.ident;
    let vis = &model.original.vis;
    let items = rels.iter().map(|rel| {
        let marker = enum_marker(model, rel.name);
        let name = rel.name;
        let holders: Vec<String> = rel
            .variants
            .iter()
            .map(|(v, _)| format!("`{}`", v.unraw()))
            .collect();
        let doc = format!(
            " The relationship `{}` of the variants {}, on the enum.",
            name.unraw(),
            holders.join(", ")
        );
        let marker_doc = format!(
            " The relationship `{}.{}` as a type; use `{}::{}`.",
            ident.unraw(),
            name.unraw(),
            ident.unraw(),
            name.unraw()
        );
        (
            quote! {
                #[doc = #marker_doc]
                #[doc(hidden)]
                #[allow(non_camel_case_types)]
                #vis struct #marker;
            },
            quote! {
                #[doc = #doc]
                #[allow(non_upper_case_globals)]
                #vis const #name: #p::Relationship<#marker> = #p::Relationship::new();
            },
        )
    });
    let (markers, consts): (Vec<_>, Vec<_>) = items.unzip();
    quote! {
        #(#markers)*
        #[automatically_derived]
        impl #ident {
            #(#consts)*
        }
    }
}

/// The `Relation` impls (inside the derive's `const _` block).
///
/// Each name is checked on each variant struct declaring it by the struct's lookup macro
/// (`__orm_rels_Chief!(check team)`: nothing, or a compile error at the name listing the
/// struct's relationships), and the impl is gated by the same macros
/// (`__orm_rels_Chief!(team { .. } { stub })`): with a name some variant struct does not
/// declare, a stub impl stands in, so its one clear error is all the compiler reports.
pub(crate) fn impls(model: &ModelEnum, p: &TokenStream) -> TokenStream {
    let ident = model.ident;
    let model_name = ident.unraw().to_string();
    let out = relations(model).into_iter().filter_map(|rel| {
        let marker = enum_marker(model, rel.name);
        let found: Vec<(TokenStream, TokenStream)> = rel
            .variants
            .iter()
            .map(|(_, ty)| variant_marker(ty, rel.name))
            .collect::<Option<_>>()?;
        let (markers, lookups): (Vec<TokenStream>, Vec<TokenStream>) = found.into_iter().unzip();
        let first = markers.first()?;
        let names: Vec<&Ident> = rel.variants.iter().map(|(v, _)| *v).collect();
        let name = rel.name;
        let checks = lookups.iter().map(|lookup| quote!(#lookup!(check #name);));
        // At the name in the attribute: a type error of the variant's relationship points there.
        let key_arms = names.iter().zip(&markers).map(|(v, m)| {
            let call = quote_spanned!(rel.name.span()=> <#m as #p::Relation>::parent_key(__v));
            quote!(#ident::#v(__v) => #call,)
        });
        let slot_arms = names.iter().zip(&markers).map(|(v, m)| {
            let call = quote_spanned!(rel.name.span()=> <#m as #p::Relation>::slot(__v));
            quote!(#ident::#v(__v) => #call,)
        });
        let real = quote! {
            #[automatically_derived]
            impl #p::Relation for #marker {
                type Parent = #ident;
                type Target = <#first as #p::Relation>::Target;
                type Key = <#first as #p::Relation>::Key;
                type Value = <#first as #p::Relation>::Value;
                const META: &'static #p::RelationMeta = &<#first as #p::Relation>::META
                    .inherited(#model_name, <#ident as #p::Model>::TABLE);

                fn parent_key(__parent: &#ident) -> #p::Option<Self::Key> {
                    #[allow(unreachable_patterns)]
                    match __parent {
                        #(#key_arms)*
                        _ => #p::None,
                    }
                }

                fn key_params(__keys: #p::Vec<Self::Key>) -> #p::Vec<#p::Param> {
                    <#first as #p::Relation>::key_params(__keys)
                }

                fn slot(__parent: &mut #ident) -> #p::Option<&mut #p::Related<Self::Value>> {
                    #[allow(unreachable_patterns)]
                    match __parent {
                        #(#slot_arms)*
                        _ => #p::None,
                    }
                }
            }
        };
        let rel_name = name.unraw().to_string();
        let stub = quote! {
            #[automatically_derived]
            impl #p::Relation for #marker {
                type Parent = #ident;
                type Target = #ident;
                type Key = ();
                type Value = #p::Vec<#ident>;
                const META: &'static #p::RelationMeta = &#p::RelationMeta::new(
                    #model_name,
                    #rel_name,
                    #p::RelationKind::HasMany,
                    <#ident as #p::Model>::TABLE,
                    <#ident as #p::Model>::TABLE,
                );

                fn parent_key(_: &#ident) -> #p::Option<()> {
                    #p::None
                }

                fn key_params(_: #p::Vec<()>) -> #p::Vec<#p::Param> {
                    #p::Vec::new()
                }

                fn slot(_: &mut #ident) -> #p::Option<&mut #p::Related<Self::Value>> {
                    #p::None
                }
            }
        };
        let gated = lookups.iter().rev().fold(
            real,
            |inner, lookup| quote!(#lookup!(#name { #inner } { #stub });),
        );
        Some(quote! {
            #(#checks)*
            #gated
        })
    });
    quote!(#(#out)*)
}

/// `Persist::RELATIONS` of the enum.
pub(crate) fn relation_list(model: &ModelEnum, p: &TokenStream) -> TokenStream {
    let entries: Vec<TokenStream> = relations(model)
        .iter()
        .map(|rel| {
            let marker = enum_marker(model, rel.name);
            quote!(#p::TypedRelation::<#marker>::OPS)
        })
        .collect();
    if entries.is_empty() {
        return quote!(&[]);
    }
    quote!(&[#(#entries),*])
}
