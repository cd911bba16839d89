//! Code generation for `#[derive(Model)]` on an enum: single-table inheritance. The enum's
//! table is the union of its variants' tables, computed by `const fn`s of the core at compile
//! time; each variant's positions in it (and back) are `const` arrays too, so rows decode by
//! position and the session's column access is a table lookup.
//!
//! Generated: `impl Inheritance` (the table name and discriminator, which the variants' tables
//! name), per variant `impl Variant` and `impl From<Variant>`, `impl FromRow` (reads the
//! discriminator, then the variant at its positions), `impl Model`, `impl Hooks` and `impl
//! Persist` delegating to the variant held, and the discriminator's column handle.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Type};

use crate::ast::ModelEnum;

/// The variants whose struct could be read, with their values (the check pass made sure every
/// variant has both; the fallback's stubs take what is there).
fn variants<'a>(model: &'a ModelEnum) -> Vec<(&'a Ident, &'a Type, String)> {
    model
        .variants
        .iter()
        .filter_map(|v| {
            let value = v
                .value
                .as_ref()
                .map_or_else(String::new, syn::LitStr::value);
            Some((v.ident, v.ty?, value))
        })
        .collect()
}

/// `impl Inheritance`: the constants the variants' tables name.
pub(crate) fn inheritance_impl(model: &ModelEnum, p: &TokenStream) -> TokenStream {
    let ident = model.ident;
    let table = &model.attrs.table;
    let schema = match &model.attrs.schema {
        Some(s) => quote!(#p::Some(#s)),
        None => quote!(#p::None),
    };
    let disc = model
        .attrs
        .discriminator
        .as_ref()
        .map_or_else(String::new, syn::LitStr::value);
    quote! {
        #[automatically_derived]
        impl #p::Inheritance for #ident {
            const TABLE_NAME: &'static str = #table;
            const SCHEMA: #p::Option<&'static str> = #schema;
            const DISCRIMINATOR: &'static str = #disc;
        }
    }
}

/// `impl Variant` and `impl From` for each variant struct.
pub(crate) fn variant_impls(model: &ModelEnum, p: &TokenStream) -> TokenStream {
    let ident = model.ident;
    let impls = variants(model).into_iter().map(|(variant, ty, value)| {
        // At the variant's type: "`Manager` is not a model" points at it.
        let head = quote_spanned!(ty.span()=> impl #p::Variant for #ty);
        quote! {
            #[automatically_derived]
            #head {
                type Base = #ident;
                const VALUE: &'static str = #value;

                fn from_base(__base: #ident) -> #p::Result<Self, #ident> {
                    match __base {
                        #ident::#variant(__v) => #p::Ok(__v),
                        #[allow(unreachable_patterns)]
                        __other => #p::Err(__other),
                    }
                }
            }

            #[automatically_derived]
            impl #p::PartOf<#ident> for #ty {}

            #[automatically_derived]
            impl #p::From<#ty> for #ident {
                fn from(__v: #ty) -> Self {
                    #ident::#variant(__v)
                }
            }
        }
    });
    quote!(#(#impls)*)
}

/// The discriminator's column handle on the enum (`Employee::kind: Column<Employee, String>`),
/// unless its name is not a Rust identifier.
fn discriminator_handle(model: &ModelEnum, p: &TokenStream) -> TokenStream {
    let Some(lit) = &model.attrs.discriminator else {
        return TokenStream::new();
    };
    let name = lit.value();
    let handle = match syn::parse_str::<Ident>(&name) {
        Ok(ident) => ident,
        // A keyword (`type`, a likely name) becomes a raw identifier: `Employee::r#type`.
        Err(_) if is_raw_identifier(&name) => Ident::new_raw(&name, lit.span()),
        Err(_) => return TokenStream::new(),
    };
    let ident = model.ident;
    let table = &model.attrs.table;
    let vis = &model.original.vis;
    let doc = format!(" The discriminator column `{table}.{name}`.");
    quote! {
        #[automatically_derived]
        impl #ident {
            #[doc = #doc]
            #[allow(non_upper_case_globals)]
            #vis const #handle: #p::Column<#ident, #p::String> = #p::Column::new(#table, #name);
        }
    }
}

/// Everything the enum's derive generates.
pub(crate) fn expand(model: &ModelEnum) -> TokenStream {
    let krate = &model.attrs.krate;
    let p = quote!(#krate::__private);
    let ident = model.ident;
    let model_name = syn::ext::IdentExt::unraw(ident).to_string();
    let vs = variants(model);
    let disc_name = model
        .attrs
        .discriminator
        .as_ref()
        .map_or_else(String::new, syn::LitStr::value);
    let tys: Vec<&Type> = vs.iter().map(|v| v.1).collect();
    let names: Vec<&Ident> = vs.iter().map(|v| v.0).collect();
    let values: Vec<&String> = vs.iter().map(|v| &v.2).collect();
    let pos: Vec<Ident> = (0..vs.len())
        .map(|i| format_ident!("__ORM_POS_{}", i))
        .collect();
    let inv: Vec<Ident> = (0..vs.len())
        .map(|i| format_ident!("__ORM_INV_{}", i))
        .collect();
    let first = tys[0];
    let cache_ttl = super::model::cache_ttl(model.attrs.cache_ttl_ms, &p);
    let comment = model
        .attrs
        .comment
        .as_ref()
        .map(|text| quote!(.comment(#text)));
    let load = if model.attrs.selectin {
        quote!(#p::PolymorphicLoad::SelectIn)
    } else {
        quote!(#p::PolymorphicLoad::Joined)
    };
    let inheritance = inheritance_impl(model, &p);
    let variant_impls = variant_impls(model, &p);
    let handle = discriminator_handle(model, &p);
    let relation_handles = super::inherit_relations::handles(model, &p);
    let relation_impls = super::inherit_relations::impls(model, &p);
    let relation_list = super::inherit_relations::relation_list(model, &p);
    let custom_hooks = quote!(false #(|| <#tys as #p::PersistVariant>::CUSTOM_HOOKS)*);
    let each = |body: TokenStream| {
        quote! {
            match self {
                #(#ident::#names(__v) => { let __inv: &[usize] = &#inv; let _ = __inv; #body })*
            }
        }
    };
    // Each variant's key as the first one's: a variant with another key type is reported once,
    // at its type ("the variants of an inheritance enum must have the same primary key").
    let pk_arms = names.iter().zip(&tys).map(|(name, ty)| {
        let same = quote_spanned!(ty.span()=>
            <<#first as #p::Model>::Pk as #p::SamePk<<#ty as #p::Model>::Pk>>::same(#p::Model::pk(__v))
        );
        quote!(#ident::#name(__v) => #same,)
    });
    let pk = quote!(match self { #(#pk_arms)* });
    let insert_params =
        each(quote!(#p::variant_insert_params(__v, __inv, <Self as #p::Model>::TABLE)));
    let update_params =
        each(quote!(#p::variant_update_params(__v, __inv, <Self as #p::Model>::TABLE)));
    let insert_values =
        each(quote!(#p::variant_insert_values(__v, __inv, <Self as #p::Model>::TABLE, __out)));
    let column_param = each(quote!(#p::variant_param(__v, __inv, __idx)));
    let column_value = each(quote!(#p::variant_value(__v, __inv, __idx)));
    let column_rows = each(quote!(#p::variant_column_rows(__v, __inv, __idx, __rows)));
    let set_value = each(quote!(#p::set_variant_value(__v, __inv, __idx, __value)));
    let set_null = each(quote!(#p::set_variant_null(__v, __inv, __idx)));
    let decode_column = each(quote!(#p::decode_variant_column(__v, __inv, __idx, __row, __at)));
    let copy = each(quote!(#p::From::from(#p::PersistVariant::copy_columns(__v))));
    let validate = each(quote!(#p::validate_variant(__v, __inv, __columns)));
    let bump_version = each(quote!(#p::PersistVariant::bump_version(__v)));
    let hook = |name: TokenStream, args: TokenStream| each(quote!(#p::Hooks::#name(__v, #args)));
    let before_insert = hook(quote!(before_insert), quote!(__ctx));
    let after_insert = hook(quote!(after_insert), quote!(__ctx));
    let before_update = hook(
        quote!(before_update),
        quote!(#p::variant_columns(__inv, __changed), __ctx),
    );
    let after_update = hook(
        quote!(after_update),
        quote!(#p::variant_columns(__inv, __changed), __ctx),
    );
    // The old values are the same variant (an object does not change variant).
    let audit_arms = names.iter().zip(&inv).map(|(name, inv)| {
        quote! {
            (#ident::#name(__v), #ident::#name(__o)) => {
                let __inv: &[usize] = &#inv;
                #p::Hooks::audit_update(__v, __o, #p::variant_columns(__inv, __changed), __ctx)
            }
        }
    });
    let audit_update = quote! {
        #[allow(unreachable_patterns)]
        match (self, __old) {
            #(#audit_arms)*
            _ => #p::Ok(()),
        }
    };
    let before_delete = hook(quote!(before_delete), quote!(__ctx));
    let after_delete = hook(quote!(after_delete), quote!(__ctx));
    // Variant `i`'s column properties follow the enum's columns and the earlier variants'.
    let decode_arms = names
        .iter()
        .zip(&tys)
        .zip(&values)
        .zip(&pos)
        .enumerate()
        .map(|(i, (((name, ty), value), pos))| {
            let earlier = &tys[..i];
            quote! {
                #value => #p::Ok(#ident::#name(
                    <#ty as #p::PersistVariant>::decode_at(
                        __row,
                        __start,
                        &#pos,
                        __ORM_N #(+ <#earlier as #p::Model>::TABLE.properties.len())*,
                    )?,
                )),
            }
        });
    let changed_arms = names.iter().zip(&pos).map(|(name, pos)| {
        quote! {
            (#ident::#name(__a), #ident::#name(__b)) => #p::changed_variant_columns(__a, __b, &#pos),
        }
    });
    let fill_arms = names.iter().map(|name| {
        quote! {
            (#ident::#name(__a), #ident::#name(__b)) => #p::PersistVariant::fill_unloaded(__a, __b),
        }
    });
    let copy_into_arms = names.iter().map(|name| {
        quote! {
            (#ident::#name(__a), #ident::#name(__b)) => #p::PersistVariant::copy_columns_into(__a, __b),
        }
    });
    let restore_arms = names.iter().map(|name| {
        quote! {
            (#ident::#name(__a), #ident::#name(__b)) => #p::PersistVariant::restore_columns(__a, __b),
        }
    });
    let disc_index = quote!(__ORM_DISCRIMINATOR);
    let pos_consts = tys.iter().zip(&pos).zip(&inv).map(|((ty, pos), inv)| {
        quote! {
            const #pos: [usize; { <#ty as #p::Model>::TABLE.columns.len() }] =
                #p::positions(&__ORM_COLUMNS, <#ty as #p::Model>::TABLE.columns);
            const #inv: [usize; __ORM_N] =
                #p::inverse(&__ORM_COLUMNS, <#ty as #p::Model>::TABLE.columns);
        }
    });
    let tys_ref = &tys;
    quote! {
        #[allow(non_upper_case_globals, unused_qualifications)]
        const _: () = {
            const __ORM_PARTS: &[&[#p::ColumnDef]] = &[#(<#tys_ref as #p::Model>::TABLE.columns),*];
            const __ORM_N: usize = #p::merged_len(__ORM_PARTS);
            const __ORM_COLUMNS: [#p::ColumnDef; __ORM_N] = #p::merge_columns::<__ORM_N>(__ORM_PARTS);
            // The variants' column properties, after the columns.
            const __ORM_PROPERTY_PARTS: &[&[#p::Property]] =
                &[#(<#tys_ref as #p::Model>::TABLE.properties),*];
            const __ORM_NP: usize = #p::properties_len(__ORM_PROPERTY_PARTS);
            const __ORM_PROPERTIES: [#p::Property; __ORM_NP] =
                #p::merge_properties::<__ORM_NP>(__ORM_PROPERTY_PARTS, &[#(#values),*]);
            const #disc_index: usize = #p::column_position(&__ORM_COLUMNS, #disc_name);
            #(#pos_consts)*
            // Every variant's version column, at the enum's positions: one column or none.
            const __ORM_VERSION: #p::Option<usize> = #p::merged_version(&__ORM_COLUMNS, &[#(
                match <#tys_ref as #p::PersistVariant>::VERSION {
                    #p::Some(__v) => #p::Some(#pos[__v]),
                    #p::None => #p::None,
                }
            ),*]);
            // Joined-table inheritance: the variants' own tables, and the base table's columns.
            const __ORM_JOINED_PARTS: &[#p::Option<&'static #p::Joined>] =
                &[#(<#tys_ref as #p::Model>::TABLE.joined),*];
            const __ORM_NPARTS: usize = #p::parts_len(__ORM_JOINED_PARTS);
            const __ORM_PART_TABLES: [&'static #p::Table; __ORM_NPARTS] =
                #p::merge_parts::<__ORM_NPARTS>(__ORM_JOINED_PARTS);
            const __ORM_NBASE: usize = #p::base_len(&__ORM_COLUMNS);
            const __ORM_BASE_COLUMNS: [#p::ColumnDef; __ORM_NBASE] =
                #p::base_columns::<__ORM_NBASE>(&__ORM_COLUMNS);
            const __ORM_BASE_TABLE: #p::Table = #p::Table::new(
                #model_name,
                <#ident as #p::Inheritance>::TABLE_NAME,
                &__ORM_BASE_COLUMNS,
            )
            .schema_opt(<#ident as #p::Inheritance>::SCHEMA)
            #comment;
            const __ORM_JOINED: #p::Joined =
                #p::Joined::new(&__ORM_BASE_TABLE, &__ORM_PART_TABLES, true)
                    .values(&[#(#values),*])
                    .load(#load);
            const __ORM_JOINED_OPT: #p::Option<&'static #p::Joined> =
                if __ORM_NPARTS == 0 { #p::None } else { #p::Some(&__ORM_JOINED) };

            #inheritance
            #variant_impls
            #relation_impls

            #[automatically_derived]
            impl #p::FromRow for #ident {
                const WIDTH: usize = __ORM_N + __ORM_NP;

                fn from_row<__R: #p::Row + ?Sized>(__row: &__R, __start: usize) -> #p::Result<Self> {
                    let __kind = #p::read_discriminator(__row, __start + #disc_index, #model_name, #disc_name)?;
                    match __kind {
                        #(#decode_arms)*
                        __other => #p::Err(#p::unknown_variant(#model_name, #disc_name, __other)),
                    }
                }
            }

            #[automatically_derived]
            impl #p::NullableRow for #ident {
                type Nullable = #p::OptionalModel<#ident>;
            }

            // A relationship's foreign key on the enum is checked on its first variant's fields.
            #[automatically_derived]
            impl #p::FieldsOf for #ident {
                type Fields = #first;
            }

            #[automatically_derived]
            impl #p::Model for #ident {
                const TABLE: &'static #p::Table = &#p::Table::new(
                    #model_name,
                    <#ident as #p::Inheritance>::TABLE_NAME,
                    &__ORM_COLUMNS,
                )
                .schema_opt(<#ident as #p::Inheritance>::SCHEMA)
                .discriminator(#p::Discriminator::new(#disc_name, #p::None))
                .joined_opt(__ORM_JOINED_OPT)
                .properties(&__ORM_PROPERTIES)
                #comment
                #cache_ttl;

                type Pk = <#first as #p::Model>::Pk;

                fn pk(&self) -> Self::Pk {
                    #pk
                }

                fn pk_params(__pk: Self::Pk) -> #p::Vec<#p::Param> {
                    <#first as #p::Model>::pk_params(__pk)
                }

                fn insert_params(&self) -> #p::Vec<#p::Param> {
                    #insert_params
                }

                fn update_params(&self) -> #p::Vec<#p::Param> {
                    #update_params
                }

                fn insert_arrays(__rows: &[Self]) -> #p::Vec<#p::ColumnArray> {
                    #p::enum_insert_arrays(__rows)
                }

                fn insert_values<'__a>(
                    &'__a self,
                    __out: &mut #p::Vec<&'__a (dyn #p::ToSql + #p::Sync)>,
                ) {
                    #insert_values
                }
            }

            #[automatically_derived]
            impl #p::Hooks for #ident {
                fn before_insert(&mut self, __ctx: &mut #p::HookContext) -> #p::Result<()> {
                    #before_insert
                }
                fn after_insert(&self, __ctx: &mut #p::HookContext) -> #p::Result<()> {
                    #after_insert
                }
                fn before_update(&mut self, __changed: #p::ColumnSet, __ctx: &mut #p::HookContext) -> #p::Result<()> {
                    #before_update
                }
                fn after_update(&self, __changed: #p::ColumnSet, __ctx: &mut #p::HookContext) -> #p::Result<()> {
                    #after_update
                }
                fn audit_update(&self, __old: &Self, __changed: #p::ColumnSet, __ctx: &mut #p::HookContext) -> #p::Result<()> {
                    #audit_update
                }
                fn before_delete(&self, __ctx: &mut #p::HookContext) -> #p::Result<()> {
                    #before_delete
                }
                fn after_delete(&self, __ctx: &mut #p::HookContext) -> #p::Result<()> {
                    #after_delete
                }
            }

            #[automatically_derived]
            impl #p::Persist for #ident {
                const CUSTOM_HOOKS: bool = #custom_hooks;

                const RELATIONS: &'static [&'static dyn #p::RelationOps<Self>] = #relation_list;

                fn column_param(&self, __idx: usize) -> #p::Option<#p::Param> {
                    #column_param
                }

                fn column_array(__rows: &[&Self], __idx: usize) -> #p::Option<#p::ColumnArray> {
                    #p::enum_column_array(__rows, __idx)
                }

                fn column_rows(
                    &self,
                    __idx: usize,
                    __rows: usize,
                ) -> #p::Option<#p::Box<dyn #p::ColumnRows>> {
                    #column_rows
                }

                fn column_value(
                    &self,
                    __idx: usize,
                ) -> #p::Option<&(dyn #p::Any + #p::Send + #p::Sync)> {
                    #column_value
                }

                fn set_column_value(&mut self, __idx: usize, __value: &dyn #p::Any) -> #p::Result<()> {
                    #set_value
                }

                fn set_column_null(&mut self, __idx: usize) -> #p::Result<()> {
                    #set_null
                }

                fn decode_column<__R: #p::Row + ?Sized>(
                    &mut self,
                    __idx: usize,
                    __row: &__R,
                    __at: usize,
                ) -> #p::Result<()> {
                    #decode_column
                }

                fn copy_columns(&self) -> Self {
                    #copy
                }

                fn copy_columns_into(&self, __into: &mut Self) {
                    match (self, __into) {
                        #(#copy_into_arms)*
                        #[allow(unreachable_patterns)]
                        (__this, __into) => *__into = #p::Persist::copy_columns(__this),
                    }
                }

                fn changed_columns(&self, __old: &Self) -> #p::ColumnSet {
                    match (self, __old) {
                        #(#changed_arms)*
                        #[allow(unreachable_patterns)]
                        _ => #p::ColumnSet::all(__ORM_N),
                    }
                }

                fn restore_columns(&mut self, __from: Self) {
                    match (self, __from) {
                        #(#restore_arms)*
                        #[allow(unreachable_patterns)]
                        (__this, __from) => *__this = __from,
                    }
                }

                const DEFERRED: bool = false #(|| <#tys_ref as #p::PersistVariant>::DEFERRED)*;

                fn fill_unloaded(&mut self, __from: &Self) {
                    #[allow(unreachable_patterns)]
                    match (self, __from) {
                        #(#fill_arms)*
                        _ => {}
                    }
                }

                const VALIDATES: bool = false #(|| <#tys as #p::PersistVariant>::VALIDATES)*;

                fn validate(&self, __columns: #p::ColumnSet) -> #p::Result<()> {
                    #validate
                }

                const VERSION: #p::Option<usize> = __ORM_VERSION;

                fn bump_version(&mut self) {
                    #bump_version
                }

                fn joined_part(&self) -> #p::Option<&'static #p::Table> {
                    match self {
                        #(#ident::#names(_) => <#tys_ref as #p::Model>::TABLE
                            .joined
                            .and_then(|__j| __j.parts.first().copied()),)*
                    }
                }
            }
        };

        #handle
        #relation_handles
    }
}

/// Whether `name` can be written `r#name`: identifier characters, and not one of the keywords
/// that cannot be raw.
fn is_raw_identifier(name: &str) -> bool {
    crate::attr::is_plain_identifier(name)
        && !matches!(name, "_" | "self" | "Self" | "super" | "crate")
}
