//! Code generation for `#[derive(Model)]`. The input has passed every check.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;
use syn::spanned::Spanned;

use super::handles::{column_consts_for, marker, markers, table_of, unloaded};
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
    let markers = markers(model);
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
/// at the user's type and shows `SqlType`'s explanation. Likewise a version column's type must
/// be `VersionColumn`, and with `#[model(hooks)]` the struct must implement `Hooks` (reported
/// at `hooks`).
///
/// The session compares a column with its snapshot, so its type must also be `PartialEq`. That
/// is asserted on `<T as SqlType>::Base` (`T` without its `Option`, which is comparable when
/// `T` is): for a type that is not a column type at all the projection fails with the same
/// error as the first assertion, shown once, and the type is not also reported as not
/// comparable.
fn type_assertions(model: &Model, p: &TokenStream) -> TokenStream {
    let calls = model.columns().map(|field| {
        let ty = field.ty;
        let version = field.attrs.version.map(|_| {
            quote_spanned! {ty.span()=>
                __orm_assert_version::<#ty>();
            }
        });
        quote_spanned! {ty.span()=>
            __orm_assert_sql_type::<#ty>();
            __orm_assert_partial_eq::<<#ty as #p::SqlType>::Base>();
            #version
        }
    });
    let version = model
        .columns()
        .any(|f| f.attrs.version.is_some())
        .then(|| quote!(const fn __orm_assert_version<T: #p::VersionColumn>() {}));
    // At the `hooks` keyword: the struct promised its own `impl Hooks`.
    let hooks = model.attrs.hooks.map(|span| {
        let mut ident = model.ident.clone();
        ident.set_span(span);
        let call = quote_spanned!(span=> __orm_assert_hooks::<#ident>(););
        quote! {
            const fn __orm_assert_hooks<T: #p::Hooks>() {}
            const _: () = {
                #call
            };
        }
    });
    quote! {
        const fn __orm_assert_sql_type<T: #p::SqlType>() {}
        const fn __orm_assert_partial_eq<T: #p::PartialEq>() {}
        #version
        const _: () = {
            #(#calls)*
        };
        #hooks
    }
}

/// One `Column<Self, T>` constant per column field, named like the field.
fn column_consts(model: &Model, p: &TokenStream) -> TokenStream {
    column_consts_for(model.ident, &model.attrs.table, model.columns(), p)
}

/// `where for<'__orm> T: SqlType + PartialEq, ...` over the column types (and `VersionColumn`
/// over the version column's), for the trait impls.
///
/// With the bounds on the impl, the bodies type-check even when a field's type cannot be a
/// column (or cannot be compared, for `changed_columns`, or incremented, for `bump_version`),
/// so such a type is reported once, by the assertion at the type ([`type_assertions`]),
/// instead of once per generated use. The higher-ranked form keeps the compiler from rejecting
/// the (then trivially false) bound on the impl itself; the impl is simply never usable. The
/// same goes for `Self: Hooks` when the struct says `#[model(hooks)]` (asserted at `hooks`).
fn column_bounds(model: &Model, p: &TokenStream) -> TokenStream {
    let types = model.columns().map(|field| field.ty);
    let version = model
        .columns()
        .filter(|field| field.attrs.version.is_some())
        .map(|field| field.ty);
    // `#[model(hooks)]`: the user's impl of `Hooks` (a supertrait of `Persist`) may be missing.
    let ident = model.ident;
    let hooks = model
        .attrs
        .hooks
        .map(|_| quote!(for<'__orm> #ident: #p::Hooks,));
    quote! {
        where
            #(for<'__orm> #types: #p::SqlType + #p::PartialEq,)*
            #(for<'__orm> #version: #p::VersionColumn,)*
            #hooks
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
            let unloaded = unloaded(field, p);
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

    let session = session_items(model, p);
    let hooks = hooks_impl(model, p);
    let bounds = column_bounds(model, p);
    quote! {
        #hooks

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

        #[automatically_derived]
        impl #p::Persist for #ident #bounds {
            #session
        }
    }
}

/// `Persist::RELATIONS`: `TypedRelation::<Marker>::OPS` of every relationship.
///
/// The markers' `Relation` impls only hold when the targets are models. When one is not, the
/// metadata's `__orm_table::<Target>()` reports "`Order` is not a model" at the attribute
/// ([`relationship::expand`]), and this list must not add errors of its own (an impl bound
/// `Marker: Relation` instead would make mutually related models a cycle). So each entry first
/// makes the same call, `__orm_table::<Target>()` at the same tokens, whose error the compiler
/// then shows once; the entry's own failure (`Target: Model`, at the same place, through the
/// marker) is implied by it and not shown.
fn relations(model: &Model, p: &TokenStream) -> TokenStream {
    if model.relationships().next().is_none() {
        return quote!(&[]);
    }
    let ident = model.ident;
    let entries = model.relationships().map(|(field, rel)| {
        let mut marker = marker(model, field);
        let target = &rel.target;
        marker.set_span(target.span());
        let table = table_of(target);
        let ops = quote_spanned!(target.span()=> __orm_ops::<#marker>());
        quote!({
            let _ = #table;
            #ops
        })
    });
    quote! {{
        const fn __orm_ops<R: #p::Relation<Parent = #ident>>(
        ) -> &'static dyn #p::RelationOps<#ident>
        where
            R::Target: #p::Persist,
        {
            #p::TypedRelation::<R>::OPS
        }
        &[#(#entries),*]
    }}
}

/// `impl Hooks` with the defaults, unless the struct says `#[model(hooks)]` (the user's own).
pub(crate) fn hooks_impl(model: &Model, p: &TokenStream) -> TokenStream {
    if model.attrs.hooks.is_some() {
        return TokenStream::new();
    }
    let ident = model.ident;
    quote! {
        #[automatically_derived]
        impl #p::Hooks for #ident {}
    }
}

/// The items of `Model` the session uses: column access by position (in `TABLE.columns`
/// order), snapshots, validators, the version column and the relationships.
fn session_items(model: &Model, p: &TokenStream) -> TokenStream {
    let model_name = syn::ext::IdentExt::unraw(model.ident).to_string();
    let columns: Vec<&Field> = model.columns().collect();
    let positions: Vec<Literal> = (0..columns.len()).map(Literal::usize_unsuffixed).collect();
    let names: Vec<&Ident> = columns.iter().map(|f| f.ident).collect();
    let sql_names: Vec<&str> = columns.iter().map(|f| f.column.as_str()).collect();
    let idx = Ident::new("__idx", Span::call_site());
    let out_of_range = quote!(#p::Err(#p::no_column(#model_name, #idx)));

    let version = columns
        .iter()
        .position(|f| f.attrs.version.is_some())
        .map(|i| (i, columns[i]));
    let version_const = match version {
        Some((i, _)) => {
            let i = Literal::usize_unsuffixed(i);
            quote!(#p::Some(#i))
        }
        None => quote!(#p::None),
    };
    let bump_version = version.map(|(_, field)| {
        let name = field.ident;
        let ty = field.ty;
        // A type that is not an integer is reported by the assertion at the type.
        quote!(self.#name = <#ty as #p::VersionNumber>::next_version(&self.#name);)
    });

    let relations = relations(model, p);

    // Snapshots: columns cloned, relationships not loaded, skipped fields from `Default`.
    let copies = model.fields.iter().map(|field| {
        let name = field.ident;
        let ty = field.ty;
        if field.is_column() {
            quote!(#name: <#ty as #p::Clone>::clone(&self.#name))
        } else if field.relationship.is_some() {
            let unloaded = unloaded(field, p);
            quote!(#name: #unloaded)
        } else {
            let default = quote_spanned!(ty.span()=> <#ty as #p::Default>::default());
            quote!(#name: #default)
        }
    });
    let changed = columns.iter().zip(&positions).map(|(field, i)| {
        let name = field.ident;
        let ty = field.ty;
        // A type that cannot be compared is reported by the assertion at the type.
        quote! {
            if #p::column_changed::<#ty>(&self.#name, &__old.#name) {
                __changed = __changed.with(#i);
            }
        }
    });
    let moved: Vec<Ident> = (0..columns.len())
        .map(|i| format_ident!("__c{}", i))
        .collect();
    let validators = columns.iter().zip(&positions).filter_map(|(field, i)| {
        let path = field.attrs.validate.as_ref()?;
        let name = field.ident;
        let field_name = field.name();
        // At the path: a validator of the wrong signature is reported at the attribute.
        let call = quote_spanned!(path.span()=> #p::run_validator(&self.#name, #path, #model_name, #field_name));
        Some(quote! {
            if __columns.contains_index(#i) {
                #call?;
            }
        })
    });

    let custom_hooks = model.attrs.hooks.is_some();
    quote! {
        const VERSION: #p::Option<usize> = #version_const;

        const CUSTOM_HOOKS: bool = #custom_hooks;

        const RELATIONS: &'static [&'static dyn #p::RelationOps<Self>] = #relations;

        fn column_param(&self, #idx: usize) -> #p::Option<#p::Param> {
            match #idx {
                #(#positions => #p::Some(#p::param(#p::Clone::clone(&self.#names))),)*
                _ => #p::None,
            }
        }

        fn column_array(__rows: &[&Self], #idx: usize) -> #p::Option<#p::Param> {
            match #idx {
                #(#positions => #p::Some(#p::column_array_ref(__rows, |__r: &Self| &__r.#names)),)*
                _ => #p::None,
            }
        }

        fn column_value(
            &self,
            #idx: usize,
        ) -> #p::Option<&(dyn #p::Any + #p::Send + #p::Sync)> {
            match #idx {
                #(#positions => #p::Some(&self.#names as &(dyn #p::Any + #p::Send + #p::Sync)),)*
                _ => #p::None,
            }
        }

        fn set_column_value(&mut self, #idx: usize, __value: &dyn #p::Any) -> #p::Result<()> {
            match #idx {
                #(#positions => #p::assign_any(&mut self.#names, __value, #model_name, #sql_names),)*
                _ => #out_of_range,
            }
        }

        fn set_column_null(&mut self, #idx: usize) -> #p::Result<()> {
            match #idx {
                #(#positions => #p::assign_null(&mut self.#names, #model_name, #sql_names),)*
                _ => #out_of_range,
            }
        }

        fn decode_column<__R: #p::Row + ?Sized>(
            &mut self,
            #idx: usize,
            __row: &__R,
            __at: usize,
        ) -> #p::Result<()> {
            match #idx {
                #(#positions => {
                    self.#names = #p::decode_field(__row, __at, #model_name, #sql_names)?;
                    #p::Ok(())
                })*
                _ => #out_of_range,
            }
        }

        fn copy_columns(&self) -> Self {
            Self {
                #(#copies,)*
            }
        }

        fn changed_columns(&self, __old: &Self) -> #p::ColumnSet {
            let mut __changed = #p::ColumnSet::empty();
            #(#changed)*
            __changed
        }

        fn restore_columns(&mut self, __from: Self) {
            let Self { #(#names: #moved,)* .. } = __from;
            #(self.#names = #moved;)*
        }

        fn validate(&self, __columns: #p::ColumnSet) -> #p::Result<()> {
            #(#validators)*
            #p::Ok(())
        }

        fn bump_version(&mut self) {
            #bump_version
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
