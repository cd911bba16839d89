//! What the derives emit next to their compile errors (thiserror's habit): stub impls, so that
//! the user's other code, which uses the model or enum, does not pile up follow-on errors
//! ("`User` is not a model", "no associated item named `name`"). The stubs are never part of a
//! successful build: the `compile_error!`s emitted with them always fail it.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;

use crate::ast::{DbEnum, Field, Model, ModelEnum, RowStruct};
use crate::expand::handles::{
    column_consts_for, marker, markers, meta_ident, metas, relationship_handles, value_type,
};
use crate::expand::inherit::{inheritance_impl, variant_impls};

/// Stub `impl FromRow`, `impl Model` and `impl Persist` (and `impl Hooks` unless the struct
/// says `hooks`), plus the column constants of the fields that were read and the relationship
/// handles of the relationships whose kind and target were read (with stub `Relation` impls).
pub(crate) fn model(model: &Model) -> TokenStream {
    if !model.original.generics.params.is_empty() {
        // A stub would have to invent bounds; the generics error is enough.
        return TokenStream::new();
    }
    let krate = &model.attrs.krate;
    let p = quote!(#krate::__private);
    let ident = model.ident;
    let name = ident.unraw().to_string();
    let table = &model.attrs.table;
    let consts = if model.named {
        column_consts_for(model, model.columns(), &p)
    } else {
        TokenStream::new()
    };
    let (markers, relationships) = relationship_stubs(model, &p);
    let key: Vec<&Field> = model.primary_key().collect();
    let (pk_type, pk_value) = match key.as_slice() {
        [] => (quote!(()), quote!(())),
        [single] => {
            let ty = single.value_ty;
            (quote!(#ty), failed(&p))
        }
        fields => {
            let types = fields.iter().map(|f| f.value_ty);
            (quote!((#(#types,)*)), failed(&p))
        }
    };
    let stubs = stub_impls(
        ident,
        &name,
        table,
        model.attrs.inherits.as_ref(),
        &pk_type,
        &pk_value,
        &p,
    );
    // `#[model(hooks)]`, even misspelled: the user implements `Hooks`, and a second impl would
    // add "conflicting implementations" to the real errors.
    let hooks = if model.attrs.hooks.is_some() || model.attrs.misspelled_hooks {
        TokenStream::new()
    } else {
        quote! {
            #[automatically_derived]
            impl #p::Hooks for #ident {}
        }
    };
    quote! {
        #markers

        #[allow(non_upper_case_globals, unused_qualifications)]
        const _: () = {
            #consts
            #relationships

            #stubs
            #hooks
        };
    }
}

/// Stub `impl FromRow`, `impl NullableRow`, `impl Model` and `impl Persist` of a model named
/// `name` (table `table`) whose key is `pk_type`, read by `pk_value`.
///
/// For a variant struct (`inherits = Base`), the table is the base's, holding the
/// discriminator column, and the session's stub is `impl PersistVariant`, as the enum's derive
/// expects.
fn stub_impls(
    ident: &syn::Ident,
    name: &str,
    table: &str,
    inherits: Option<&syn::Path>,
    pk_type: &TokenStream,
    pk_value: &TokenStream,
    p: &TokenStream,
) -> TokenStream {
    let failed = failed(p);
    let table = match inherits {
        Some(base) => quote! {
            #p::Table::new(#name, <#base as #p::Inheritance>::TABLE_NAME, &[
                #p::ColumnDef::new(<#base as #p::Inheritance>::DISCRIMINATOR, "", #p::ColumnType::Text),
            ])
        },
        None => quote!(#p::Table::new(#name, #table, &[])),
    };
    let (persist, variant_items, persist_items) = match inherits {
        Some(_) => (
            quote!(PersistVariant),
            quote! {
                fn decode_at<__R: #p::Row + ?Sized>(_: &__R, _: usize, _: &[usize], _: usize) -> #p::Result<Self> {
                    #failed
                }

                fn column_ref(&self, _: usize) -> #p::Option<&(dyn #p::ToSql + #p::Sync)> {
                    #p::None
                }
            },
            TokenStream::new(),
        ),
        None => (
            quote!(Persist),
            TokenStream::new(),
            quote! {
                fn column_array(_: &[&Self], _: usize) -> #p::Option<#p::ColumnArray> {
                    #p::None
                }

                fn bump_version(&mut self) {}
            },
        ),
    };
    quote! {
            #[automatically_derived]
            impl #p::FromRow for #ident {
                const WIDTH: usize = 0;

                fn from_row<__R: #p::Row + ?Sized>(_: &__R, _: usize) -> #p::Result<Self> {
                    #p::Err(#p::Error::decode(
                        #name,
                        "",
                        #p::Box::from("#[derive(Model)] failed; see the compile errors"),
                    ))
                }
            }

            #[automatically_derived]
            impl #p::NullableRow for #ident {
                type Nullable = #p::OptionalModel<#ident>;
            }

            #[automatically_derived]
            impl #p::FieldsOf for #ident {
                type Fields = #ident;
            }

            #[automatically_derived]
            impl #p::Model for #ident {
                const TABLE: &'static #p::Table = &#table;

                type Pk = #pk_type;

                fn pk(&self) -> Self::Pk {
                    #pk_value
                }

                fn pk_params(_: Self::Pk) -> #p::Vec<#p::Param> {
                    #p::Vec::new()
                }

                fn insert_params(&self) -> #p::Vec<#p::Param> {
                    #p::Vec::new()
                }

                fn update_params(&self) -> #p::Vec<#p::Param> {
                    #p::Vec::new()
                }

                fn insert_arrays(_: &[Self]) -> #p::Vec<#p::ColumnArray> {
                    #p::Vec::new()
                }

                fn insert_values<'__a>(
                    &'__a self,
                    _: &mut #p::Vec<&'__a (dyn #p::ToSql + #p::Sync)>,
                ) {
                }
            }

            #[automatically_derived]
            impl #p::#persist for #ident {
                #variant_items
                #persist_items

                fn column_param(&self, _: usize) -> #p::Option<#p::Param> {
                    #p::None
                }

                fn column_value(
                    &self,
                    _: usize,
                ) -> #p::Option<&(dyn #p::Any + #p::Send + #p::Sync)> {
                    #p::None
                }

                fn set_column_value(&mut self, __idx: usize, _: &dyn #p::Any) -> #p::Result<()> {
                    #p::Err(#p::no_column(#name, __idx))
                }

                fn set_column_null(&mut self, __idx: usize) -> #p::Result<()> {
                    #p::Err(#p::no_column(#name, __idx))
                }

                fn decode_column<__R: #p::Row + ?Sized>(
                    &mut self,
                    __idx: usize,
                    _: &__R,
                    _: usize,
                ) -> #p::Result<()> {
                    #p::Err(#p::no_column(#name, __idx))
                }

                fn copy_columns(&self) -> Self {
                    #failed
                }

                fn changed_columns(&self, _: &Self) -> #p::ColumnSet {
                    #p::ColumnSet::empty()
                }

                fn restore_columns(&mut self, _: Self) {}

                fn validate(&self, _: #p::ColumnSet) -> #p::Result<()> {
                    #p::Ok(())
                }
            }

    }
}

/// Stubs for an inheritance enum whose derive failed: `impl Inheritance`, the variants' `impl
/// Variant` (so the variant structs, which name them, add no errors), and the model stubs.
pub(crate) fn model_enum(model: &ModelEnum) -> TokenStream {
    if !model.original.generics.params.is_empty() {
        return TokenStream::new();
    }
    let krate = &model.attrs.krate;
    let p = quote!(#krate::__private);
    let ident = model.ident;
    let name = ident.unraw().to_string();
    let (pk_type, pk_value) = match model.variants.iter().find_map(|v| v.ty) {
        Some(first) => (quote!(<#first as #p::Model>::Pk), failed(&p)),
        None => (quote!(()), quote!(())),
    };
    let stubs = stub_impls(
        ident,
        &name,
        &model.attrs.table,
        None,
        &pk_type,
        &pk_value,
        &p,
    );
    let inheritance = inheritance_impl(model, &p);
    let variants = variant_impls(model, &p);
    quote! {
        #[allow(non_upper_case_globals, unused_qualifications)]
        const _: () = {
            #inheritance
            #variants
            #stubs

            #[automatically_derived]
            impl #p::Hooks for #ident {}
        };
    }
}

/// What the fallback emits next to compile errors: the markers, stub `Relation` impls (never
/// compiled into a successful build) and the handles, for the relationships whose kind and
/// target could be read.
fn relationship_stubs(model: &Model, p: &TokenStream) -> (TokenStream, TokenStream) {
    let parent = model.ident;
    let impls = model.relationships().map(|(field, rel)| {
        let marker = marker(model, field);
        let target = &rel.target;
        let value = value_type(rel, p);
        let meta = meta_ident(field);
        let failed = quote!(#p::unimplemented!(
            "#[derive(Model)] failed; see the compile errors"
        ));
        quote! {
            #[automatically_derived]
            impl #p::Relation for #marker {
                type Parent = #parent;
                type Target = #target;
                type Key = ();
                type Value = #value;
                const META: &'static #p::RelationMeta = #meta;

                fn parent_key(_: &#parent) -> #p::Option<()> {
                    #failed
                }

                fn key_params(_: #p::Vec<()>) -> #p::Vec<#p::Param> {
                    #failed
                }

                fn slot(_: &mut #parent) -> #p::Option<&mut #p::Related<Self::Value>> {
                    #failed
                }
            }
        }
    });
    let metas = metas(model, false, p);
    let handles = relationship_handles(model, p);
    (
        markers(model, p),
        quote! {
            #metas
            #(#impls)*
            #handles
        },
    )
}

/// A stub `impl FromRow` whose decoding fails, so statements decoding into the struct do not
/// report "`X` is not FromRow" on top of the real errors.
pub(crate) fn from_row(row: &RowStruct) -> TokenStream {
    if !row.original.generics.params.is_empty() {
        return TokenStream::new();
    }
    let krate = &row.attrs.krate;
    let p = quote!(#krate::__private);
    let ident = row.ident;
    let name = ident.unraw().to_string();
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #p::FromRow for #ident {
                const WIDTH: usize = 0;

                fn from_row<__R: #p::Row + ?Sized>(_: &__R, _: usize) -> #p::Result<Self> {
                    #p::Err(#p::Error::decode(
                        #name,
                        "",
                        #p::Box::from("#[derive(FromRow)] failed; see the compile errors"),
                    ))
                }
            }
        };
    }
}

/// The body of a stub that must return a value it cannot make. Only ever compiled next to a
/// `compile_error!`, so it never runs.
fn failed(p: &TokenStream) -> TokenStream {
    quote!(#p::unimplemented!(
        "#[derive(Model)] failed; see the compile errors"
    ))
}

/// Stub `ToSql`, `FromSql`, `SqlType` and `ArrayElement`, so fields of this type in models do not
/// report "cannot be stored in a column" on top of the real errors.
pub(crate) fn db_enum(db_enum: &DbEnum) -> TokenStream {
    if !db_enum.original.generics.params.is_empty() {
        return TokenStream::new();
    }
    let krate = &db_enum.attrs.krate;
    let p = quote!(#krate::__private);
    let ident = db_enum.ident;
    let name = &db_enum.attrs.name;
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #p::ToSql for #ident {
                fn to_sql(
                    &self,
                    _: &#p::Type,
                    _: &mut #p::BytesMut,
                ) -> #p::Result<#p::IsNull, #p::BoxError> {
                    #p::Err(#p::Box::from("#[derive(DbEnum)] failed; see the compile errors"))
                }

                fn accepts(_: &#p::Type) -> bool {
                    false
                }

                #p::to_sql_checked!();
            }

            #[automatically_derived]
            impl<'__a> #p::FromSql<'__a> for #ident {
                fn from_sql(_: &#p::Type, _: &'__a [u8]) -> #p::Result<Self, #p::BoxError> {
                    #p::Err(#p::Box::from("#[derive(DbEnum)] failed; see the compile errors"))
                }

                fn accepts(_: &#p::Type) -> bool {
                    false
                }
            }

            #[automatically_derived]
            impl #p::SqlType for #ident {
                type Base = Self;
                const COLUMN_TYPE: #p::ColumnType = #p::ColumnType::Enum(&#p::EnumType {
                    name: #name,
                    schema: #p::None,
                    labels: &[],
                });
            }

            #[automatically_derived]
            impl #p::ArrayElement for #ident {}
        };
    }
}
