//! Code generation for `#[derive(Model)]`. The input has passed every check.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Ident};

use super::relationship;
use crate::ast::{Field, Model};

/// Everything the derive generates, in one `const _: () = { ... };` block.
pub(crate) fn expand(model: &Model) -> TokenStream {
    let krate = &model.attrs.krate;
    let p = quote!(#krate::__private);
    let assertions = type_assertions(model, &p);
    let columns = column_consts(model, &p);
    let from_row = from_row(model, &p);
    let model_impl = model_impl(model, &p);
    let markers = relationship::markers(model);
    let relationships = relationship::expand(model, &p);
    quote! {
        #markers

        #[allow(non_upper_case_globals, unused_qualifications)]
        const _: () = {
            #assertions
            #columns
            #from_row
            #model_impl
            #relationships
        };
    }
}

/// `const fn` calls that fail at the field's type when it cannot be a column, so the error points
/// at the user's type and shows `SqlType`'s explanation.
fn type_assertions(model: &Model, p: &TokenStream) -> TokenStream {
    let calls = model.columns().map(|field| {
        let ty = field.ty;
        quote_spanned! {ty.span()=>
            __orm_assert_sql_type::<#ty>();
        }
    });
    quote! {
        const fn __orm_assert_sql_type<T: #p::SqlType>() {}
        const _: () = {
            #(#calls)*
        };
    }
}

/// One `Column<Self, T>` constant per column field, named like the field.
pub(crate) fn column_consts(model: &Model, p: &TokenStream) -> TokenStream {
    column_consts_for(model.ident, &model.attrs.table, model.columns(), p)
}

/// The column constants of `fields` (also used by the fallback).
pub(crate) fn column_consts_for<'a, 'f: 'a>(
    ident: &Ident,
    table: &str,
    fields: impl Iterator<Item = &'a Field<'f>>,
    p: &TokenStream,
) -> TokenStream {
    let consts = fields.map(|field| {
        let name = field.ident;
        let ty = field.ty;
        let vis = &field.original.vis;
        let column = &field.column;
        let docs = column_docs(&field.original.attrs, table, column);
        quote! {
            #docs
            #[allow(non_upper_case_globals)]
            #vis const #name: #p::Column<Self, #ty> = #p::Column::new(#table, #column);
        }
    });
    quote! {
        #[automatically_derived]
        impl #ident {
            #(#consts)*
        }
    }
}

/// The field's own docs, then a line naming the column.
fn column_docs(attrs: &[Attribute], table: &str, column: &str) -> TokenStream {
    let field_docs: Vec<&Attribute> = attrs.iter().filter(|a| a.path().is_ident("doc")).collect();
    let line = format!(" The column `{table}.{column}`.");
    if field_docs.is_empty() {
        quote!(#[doc = #line])
    } else {
        quote! {
            #(#field_docs)*
            #[doc = ""]
            #[doc = #line]
        }
    }
}

/// `where for<'__orm> T: SqlType, ...` over the column types, for the trait impls.
///
/// With the bounds on the impl, the bodies type-check even when a field's type cannot be a
/// column, so such a type is reported once, by the assertion at the type ([`type_assertions`]),
/// instead of once per generated use. The higher-ranked form keeps the compiler from rejecting
/// the (then trivially false) bound on the impl itself; the impl is simply never usable.
fn column_bounds(model: &Model, p: &TokenStream) -> TokenStream {
    let types = model.columns().map(|field| field.ty);
    quote! {
        where #(for<'__orm> #types: #p::SqlType,)*
    }
}

/// `impl FromRow`: columns by position, relationships not loaded, skipped fields from `Default`.
fn from_row(model: &Model, p: &TokenStream) -> TokenStream {
    let ident = model.ident;
    let model_name = syn::ext::IdentExt::unraw(ident).to_string();
    let width = Literal::usize_unsuffixed(model.columns().count());
    let mut position = 0usize;
    let inits = model.fields.iter().map(|field| {
        let name = field.ident;
        let ty = field.ty;
        if field.is_column() {
            let index = if position == 0 {
                quote!(__start)
            } else {
                let offset = Literal::usize_unsuffixed(position);
                quote!(__start + #offset)
            };
            position += 1;
            let column = &field.column;
            quote! {
                #name: #p::decode_field(__row, #index, #model_name, #column)?
            }
        } else if field.relationship.is_some() {
            let unloaded = relationship::unloaded(field, p);
            quote!(#name: #unloaded)
        } else {
            let default = quote_spanned!(ty.span()=> <#ty as #p::Default>::default());
            quote!(#name: #default)
        }
    });
    // Collect before quoting: `position` is shared by the closure.
    let inits: Vec<TokenStream> = inits.collect();
    let bounds = column_bounds(model, p);
    quote! {
        #[automatically_derived]
        impl #p::FromRow for #ident #bounds {
            const WIDTH: usize = #width;

            fn from_row<__R: #p::Row + ?Sized>(__row: &__R, __start: usize) -> #p::Result<Self> {
                #p::Ok(Self {
                    #(#inits,)*
                })
            }
        }

        // The outer side of a join decodes into `Option<Self>`: `None` when the key is NULL.
        #[automatically_derived]
        impl #p::NullableRow for #ident #bounds {
            type Nullable = #p::OptionalModel<#ident>;
        }
    }
}

/// `impl Model`: the table metadata, the key and the parameter lists.
fn model_impl(model: &Model, p: &TokenStream) -> TokenStream {
    let ident = model.ident;
    let table = table_metadata(model, p);
    let param_list = |fields: Vec<&Field>| {
        let params = fields.iter().map(|field| {
            let name = field.ident;
            let ty = field.ty;
            quote!(#p::param(<#ty as #p::Clone>::clone(&self.#name)))
        });
        quote!(<#p::Vec<#p::Param>>::from([#(#params),*]))
    };
    let insert_params = param_list(model.columns().filter(|f| f.is_inserted()).collect());
    let update_params = param_list(model.columns().filter(|f| !f.is_primary_key()).collect());
    let arrays = model.columns().filter(|f| f.is_inserted()).map(|field| {
        let name = field.ident;
        quote!(#p::column_array(__rows, |__r: &Self| &__r.#name))
    });

    let key: Vec<&Field> = model.primary_key().collect();
    let (pk_type, pk_value, pk_params) = match key.as_slice() {
        [single] => {
            let ty = single.ty;
            let name = single.ident;
            (
                quote!(#ty),
                quote!(<#ty as #p::Clone>::clone(&self.#name)),
                quote!(<#p::Vec<#p::Param>>::from([#p::param(__pk)])),
            )
        }
        fields => {
            let types = fields.iter().map(|f| f.ty);
            let values = fields.iter().map(|f| {
                let ty = f.ty;
                let name = f.ident;
                quote!(<#ty as #p::Clone>::clone(&self.#name))
            });
            let parts: Vec<Ident> = (0..fields.len())
                .map(|i| format_ident!("__k{}", i))
                .collect();
            (
                quote!((#(#types,)*)),
                quote!((#(#values,)*)),
                quote! {{
                    let (#(#parts,)*) = __pk;
                    <#p::Vec<#p::Param>>::from([#(#p::param(#parts)),*])
                }},
            )
        }
    };

    let bounds = column_bounds(model, p);
    quote! {
        #[automatically_derived]
        impl #p::Model for #ident #bounds {
            const TABLE: &'static #p::Table = &#table;

            type Pk = #pk_type;

            fn pk(&self) -> Self::Pk {
                #pk_value
            }

            fn pk_params(__pk: Self::Pk) -> #p::Vec<#p::Param> {
                #pk_params
            }

            fn insert_params(&self) -> #p::Vec<#p::Param> {
                #insert_params
            }

            fn update_params(&self) -> #p::Vec<#p::Param> {
                #update_params
            }

            fn insert_arrays(__rows: &[Self]) -> #p::Vec<#p::Param> {
                <#p::Vec<#p::Param>>::from([#(#arrays),*])
            }
        }
    }
}

/// `Table::new(...)` with its builders.
fn table_metadata(model: &Model, p: &TokenStream) -> TokenStream {
    let model_name = syn::ext::IdentExt::unraw(model.ident).to_string();
    let table = &model.attrs.table;
    let columns = model.columns().map(|field| column_def(field, p));
    let mut out = quote! {
        #p::Table::new(#model_name, #table, &[#(#columns),*])
    };
    if let Some(schema) = &model.attrs.schema {
        out.extend(quote!(.schema(#schema)));
    }
    if !model.attrs.indexes.is_empty() {
        let indexes = model.attrs.indexes.iter().map(|list| {
            // The check pass made sure every name is a column field.
            let columns = list.fields.iter().filter_map(|ident| {
                let name = syn::ext::IdentExt::unraw(ident).to_string();
                model
                    .columns()
                    .find(|f| f.name() == name)
                    .map(|f| f.column.clone())
            });
            let unique = list.unique;
            quote!(#p::Index::new(&[#(#columns),*], #unique))
        });
        out.extend(quote!(.indexes(&[#(#indexes),*])));
    }
    if !model.attrs.checks.is_empty() {
        let checks = &model.attrs.checks;
        out.extend(quote!(.checks(&[#(#checks),*])));
    }
    out
}

/// `ColumnDef::new(...)` with its builders.
fn column_def(field: &Field, p: &TokenStream) -> TokenStream {
    let ty = field.ty;
    let column = &field.column;
    let name = field.name();
    let attrs = &field.attrs;
    let mut def = quote! {
        #p::ColumnDef::new(#column, #name, <#ty as #p::SqlType>::COLUMN_TYPE)
    };
    if attrs.primary_key.is_some() {
        def.extend(quote!(.primary_key()));
    }
    if attrs.generated.is_some() {
        def.extend(quote!(.generated()));
    }
    if attrs.unique.is_some() {
        def.extend(quote!(.unique()));
    }
    if attrs.index.is_some() {
        def.extend(quote!(.index()));
    }
    if let Some(len) = &attrs.len {
        let len = Literal::u32_unsuffixed(len.value);
        def.extend(quote!(.len(#len)));
    }
    if let Some(default) = &attrs.default {
        let default = default.value();
        def.extend(quote!(.default(#default)));
    }
    if let Some(check) = &attrs.check {
        let check = check.value();
        def.extend(quote!(.check(#check)));
    }
    if let Some(reference) = &attrs.references {
        let target = &reference.value;
        let schema = match &target.schema {
            Some(schema) => quote!(#p::Some(#schema)),
            None => quote!(#p::None),
        };
        let (table, column) = (&target.table, &target.column);
        let mut fk = quote!(#p::ForeignKey::new(#schema, #table, #column));
        if let Some(action) = &attrs.on_delete {
            let variant = format_ident!("{}", action.value.variant());
            fk.extend(quote!(.on_delete(#p::FkAction::#variant)));
        }
        if let Some(action) = &attrs.on_update {
            let variant = format_ident!("{}", action.value.variant());
            fk.extend(quote!(.on_update(#p::FkAction::#variant)));
        }
        def.extend(quote!(.references(#fk)));
    }
    def.extend(quote!(.nullable(<#ty as #p::SqlType>::NULLABLE)));
    def
}
