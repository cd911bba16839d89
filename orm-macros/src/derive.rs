//! The derives' pipelines: read the input into `ast` (collecting errors in a `Ctxt`), run the
//! cross-field checks, then either generate the code (`expand`) or report every error next to
//! the stubs of `fallback`. The dispatch lives here, above both, so that neither imports the
//! other.

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::ast;
use crate::check;
use crate::ctxt::Ctxt;
use crate::expand;
use crate::fallback;

/// `#[derive(Model)]`.
pub(crate) fn model(input: &DeriveInput) -> TokenStream {
    if let syn::Data::Enum(data) = &input.data {
        return model_enum(input, data);
    }
    let cx = Ctxt::new();
    let parsed = ast::Model::from_ast(&cx, input);
    check::check_model(&cx, &parsed);
    match cx.check() {
        Ok(()) => expand::model::expand(&parsed),
        Err(errors) => {
            let mut out = errors.to_compile_error();
            out.extend(fallback::model(&parsed));
            out
        }
    }
}

/// `#[derive(Model)]` on an enum: single-table inheritance.
fn model_enum(input: &DeriveInput, data: &syn::DataEnum) -> TokenStream {
    let cx = Ctxt::new();
    let parsed = ast::ModelEnum::from_ast(&cx, input, data);
    check::check_model_enum(&cx, &parsed);
    match cx.check() {
        Ok(()) => expand::inherit::expand(&parsed),
        Err(errors) => {
            let mut out = errors.to_compile_error();
            out.extend(fallback::model_enum(&parsed));
            out
        }
    }
}

/// `#[derive(DbEnum)]`.
pub(crate) fn db_enum(input: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let parsed = ast::DbEnum::from_ast(&cx, input);
    check::check_db_enum(&cx, &parsed);
    match cx.check() {
        Ok(()) => expand::db_enum::expand(&parsed),
        Err(errors) => {
            let mut out = errors.to_compile_error();
            out.extend(fallback::db_enum(&parsed));
            out
        }
    }
}

/// `#[derive(FromRow)]`.
pub(crate) fn from_row(input: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let parsed = ast::RowStruct::from_ast(&cx, input);
    check::check_from_row(&cx, &parsed);
    match cx.check() {
        Ok(()) => expand::from_row::expand(&parsed),
        Err(errors) => {
            let mut out = errors.to_compile_error();
            out.extend(fallback::from_row(&parsed));
            out
        }
    }
}

/// `#[derive(SqlType)]`: the column-type impls of a `CustomType`. Its only errors are in its
/// attributes (reported with the impls, which need none of them) and generic parameters.
pub(crate) fn sql_type(input: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let parsed = ast::CustomTypeInput::from_ast(&cx, input);
    let code = if parsed.generic {
        TokenStream::new()
    } else if let Some(name) = &parsed.attrs.composite {
        if parsed.fields.is_empty() {
            TokenStream::new()
        } else {
            expand::composite::expand(&parsed, &name.value)
        }
    } else {
        expand::custom_type::expand(&parsed)
    };
    match cx.check() {
        Ok(()) => code,
        Err(errors) => {
            let mut out = errors.to_compile_error();
            out.extend(code);
            out
        }
    }
}
