//! Code generation for the relationship fields of `#[derive(Model)]`: per field the marker
//! type's `Relation` impl, and assertions that check, at the user's tokens, what only the
//! compiler can (the target is a model, the named foreign keys exist and have the key's type).
//! The markers, handles and metadata, which the fallback emits too, are in [`super::handles`].

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;
use syn::spanned::Spanned;

use super::handles::{marker, meta_ident, metas, relationship_handles, value_type};
use crate::ast::{Field, Model};
use crate::attr::relationship::{Kind, NameList, Relationship, related_value};

/// The `Relation` impls, the compile-time checks and the handles (inside the derive's
/// `const _` block).
pub(crate) fn expand(model: &Model, p: &TokenStream) -> TokenStream {
    let metas = metas(model, true, p);
    let impls = model
        .relationships()
        .map(|(field, rel)| relation_impl(model, field, rel, p));
    let checks = model.relationships().map(|(_, rel)| checks(model, rel, p));
    let handles = relationship_handles(model, p);
    let back_populates = super::back_populates::checks(model, p);
    quote! {
        #metas
        #(#impls)*
        #(#checks)*
        #back_populates
        #handles
    }
}

/// `tokens` with every `Self` replaced by the model's name: in the field's type `Self` is the
/// model, in the generated impls it would be the marker type.
fn replace_self(tokens: TokenStream, model: &Ident) -> TokenStream {
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Ident(ident) if ident == "Self" => {
                let mut name = model.clone();
                name.set_span(ident.span());
                TokenTree::Ident(name)
            }
            TokenTree::Group(group) => {
                let mut replaced =
                    Group::new(group.delimiter(), replace_self(group.stream(), model));
                replaced.set_span(group.span());
                TokenTree::Group(replaced)
            }
            other => other,
        })
        .collect()
}

/// `impl Relation for __OrmRel_User_orders`.
fn relation_impl(model: &Model, field: &Field, rel: &Relationship, p: &TokenStream) -> TokenStream {
    let parent = model.ident;
    let marker = marker(model, field);
    let target = &rel.target;
    let target_ty = quote_spanned!(target.span()=> #target);
    // The field's own `X` (its tokens, so "`Vec<Item>: RelatedValue<Order>` is not satisfied"
    // points at the field); the parse pass made sure the field is a `Related<X>`.
    let value = match related_value(field.ty) {
        Some(x) => replace_self(quote!(#x), parent),
        None => value_type(rel, p),
    };
    let meta = meta_ident(field);
    let this = Ident::new("__parent", Span::call_site());
    let keys = Ident::new("__keys", Span::call_site());

    let (key_type, arity, parent_key) = if rel.kind.keyed_by_parent() {
        (
            quote!(<#parent as #p::Model>::Pk),
            model.primary_key().count(),
            quote!(#p::Some(<#parent as #p::Model>::pk(#this))),
        )
    } else {
        // `belongs_to` always names its foreign key (checked when parsing).
        let names = rel.foreign_key.as_ref().map_or(&[][..], |l| &l.names[..]);
        let reads: Vec<TokenStream> = names
            .iter()
            .map(|n| {
                let ident = &n.ident;
                if names.len() == 1 {
                    // The key's type is named, so a mismatch reads "a field of type `String`
                    // cannot hold a key of type `i64`" at the literal.
                    quote_spanned!(ident.span()=> <_ as #p::KeyOf<Self::Key>>::key_of(&#this.#ident))
                } else {
                    quote_spanned!(ident.span()=> <_ as #p::KeyOf<_>>::key_of(&#this.#ident)?)
                }
            })
            .collect();
        let body = match reads.as_slice() {
            [single] => single.clone(),
            reads => quote!(#p::Some((#(#reads,)*))),
        };
        (quote!(<#target as #p::Model>::Pk), names.len(), body)
    };

    let key_params = if arity <= 1 {
        quote!(<#p::Vec<#p::Param>>::from([#p::param(#keys)]))
    } else {
        let columns: Vec<Ident> = (0..arity).map(|i| format_ident!("__k{}", i)).collect();
        let values: Vec<Ident> = (0..arity).map(|i| format_ident!("__v{}", i)).collect();
        quote! {
            #(let mut #columns = #p::Vec::with_capacity(#keys.len());)*
            for (#(#values,)*) in #keys {
                #(#columns.push(#values);)*
            }
            <#p::Vec<#p::Param>>::from([#(#p::param(#columns)),*])
        }
    };

    let name = field.ident;

    let bounds = model_bounds(rel, p);
    quote! {
        #[automatically_derived]
        impl #p::Relation for #marker #bounds {
            type Parent = #parent;
            type Target = #target_ty;
            type Key = #key_type;
            type Value = #value;
            const META: &'static #p::RelationMeta = #meta;

            fn parent_key(#this: &#parent) -> #p::Option<Self::Key> {
                #parent_key
            }

            fn key_params(#keys: #p::Vec<Self::Key>) -> #p::Vec<#p::Param> {
                #key_params
            }

            fn slot(#this: &mut #parent) -> #p::Option<&mut #p::Related<Self::Value>> {
                #p::Some(&mut #this.#name)
            }
        }
    }
}

/// `where for<'__orm> Target: Model, ...` over the models a relationship names (and, for
/// `belongs_to`, what the impl needs of the target's key). With the bounds on the impl, its body
/// type-checks even when one is not a model, so that is reported once, by the metadata's
/// `__orm_table::<Target>()` ([`metas`]), not once per use (see `column_bounds`). The bounds are
/// global, so in a model that compiles they are simply true.
fn model_bounds(rel: &Relationship, p: &TokenStream) -> TokenStream {
    let target = &rel.target;
    let models = std::iter::once(target).chain(&rel.secondary);
    let mut out = quote! {
        where #(for<'__orm> #models: #p::Model,)*
    };
    if rel.kind == Kind::BelongsTo {
        let key = quote!(<#target as #p::Model>::Pk);
        out.extend(quote! {
            for<'__orm> #key: #p::Decode<Output = #key> + #p::Eq + #p::Hash + #p::Clone,
        });
        if rel.foreign_key.as_ref().is_some_and(|l| l.names.len() == 1) {
            out.extend(quote!(for<'__orm> #p::Vec<#key>: #p::ToSql,));
        }
    }
    out
}

/// Functions that only type-check when the fields a relationship names on another model exist
/// and can hold the key: `fn(&Order) -> Option<<User as Model>::Pk>` reading `user_id`.
fn checks(model: &Model, rel: &Relationship, p: &TokenStream) -> TokenStream {
    let parent = model.ident;
    let parent_key = quote!(<#parent as #p::Model>::Pk);
    let key_types: Vec<&syn::Type> = model.primary_key().map(|f| f.ty).collect();
    let bounds = model_bounds(rel, p);
    let mut out = TokenStream::new();
    match rel.kind {
        Kind::HasMany | Kind::HasOne => {
            if let Some(list) = &rel.foreign_key {
                out.extend(read_key(
                    &rel.target,
                    list,
                    &parent_key,
                    Some(&key_types),
                    &bounds,
                    p,
                ));
            }
        }
        Kind::ManyToMany => {
            if let Some(link) = &rel.secondary {
                if let Some(list) = &rel.foreign_key {
                    out.extend(read_key(
                        link,
                        list,
                        &parent_key,
                        Some(&key_types),
                        &bounds,
                        p,
                    ));
                }
                if let Some(list) = &rel.target_key {
                    let target = &rel.target;
                    let target_key = quote!(<#target as #p::Model>::Pk);
                    out.extend(read_key(link, list, &target_key, None, &bounds, p));
                }
            }
        }
        // The `parent_key` of the impl reads the fields.
        Kind::BelongsTo => {}
    }
    out
}

/// `fn(&from) -> Option<key>` reading the fields of `list`; `parts` are the key's component
/// types when known (a composite key of this model).
fn read_key(
    from: &syn::Type,
    list: &NameList,
    key: &TokenStream,
    parts: Option<&[&syn::Type]>,
    bounds: &TokenStream,
    p: &TokenStream,
) -> TokenStream {
    let row = Ident::new("__row", Span::call_site());
    let reads: Vec<TokenStream> = list
        .names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let ident = &n.ident;
            match parts
                .and_then(|parts| parts.get(i))
                .filter(|_| list.names.len() > 1)
            {
                Some(part) => {
                    quote_spanned!(ident.span()=> <_ as #p::KeyOf<#part>>::key_of(&#row.#ident)?)
                }
                None if list.names.len() > 1 => {
                    quote_spanned!(ident.span()=> <_ as #p::KeyOf<_>>::key_of(&#row.#ident)?)
                }
                // The key's type is named, so a mismatch reads "a field of type `String` cannot
                // hold a key of type `i64`" at the literal.
                None => quote_spanned!(ident.span()=> <_ as #p::KeyOf<#key>>::key_of(&#row.#ident)),
            }
        })
        .collect();
    let body = match reads.as_slice() {
        [single] => single.clone(),
        reads => quote!(#p::Some((#(#reads,)*))),
    };
    // Under the same (trivially false when `from` is not a model) bound as the rest, so a
    // target that is not a model is reported once, by the metadata.
    let bounds = quote!(#bounds for<'__orm> #from: #p::FieldsOf,);
    quote! {
        const _: () = {
            #[allow(dead_code)]
            fn __orm_check(#row: &<#from as #p::FieldsOf>::Fields) -> #p::Option<#key> #bounds {
                #body
            }
        };
    }
}
