//! Unit tests of the parse, check and expand passes, on inputs built with `parse_quote!`, one
//! file per derive or attribute family.

mod db_enum;
mod from_row;
mod index;
mod inherit;
mod model;
mod relationship;
mod session;

use proc_macro2::TokenStream;
use syn::{DeriveInput, parse_quote};

use crate::ctxt::Ctxt;
use crate::{ast, check, derive};

/// Every error `#[derive(Model)]` reports for `input`, in order.
fn model_errors(input: DeriveInput) -> Vec<String> {
    let cx = Ctxt::new();
    let model = ast::Model::from_ast(&cx, &input);
    check::check_model(&cx, &model);
    messages(cx)
}

/// Every error `#[derive(Model)]` on an enum (inheritance) reports for `input`, in order.
fn model_enum_errors(input: DeriveInput) -> Vec<String> {
    let cx = Ctxt::new();
    let syn::Data::Enum(data) = &input.data else {
        panic!("not an enum");
    };
    let model = ast::ModelEnum::from_ast(&cx, &input, data);
    check::check_model_enum(&cx, &model);
    messages(cx)
}

/// Every error `#[derive(FromRow)]` reports for `input`, in order.
fn row_errors(input: DeriveInput) -> Vec<String> {
    let cx = Ctxt::new();
    let row = ast::RowStruct::from_ast(&cx, &input);
    check::check_from_row(&cx, &row);
    messages(cx)
}

/// Every error `#[derive(DbEnum)]` reports for `input`, in order.
fn enum_errors(input: DeriveInput) -> Vec<String> {
    let cx = Ctxt::new();
    let db_enum = ast::DbEnum::from_ast(&cx, &input);
    check::check_db_enum(&cx, &db_enum);
    messages(cx)
}

fn messages(cx: Ctxt) -> Vec<String> {
    match cx.check() {
        Ok(()) => Vec::new(),
        Err(err) => err.into_iter().map(|e| e.to_string()).collect(),
    }
}

/// The expansion, as a string with token spacing.
fn expansion(tokens: TokenStream) -> String {
    tokens.to_string()
}
