//! Derive macros of the ORM. Use them through `orm_postgres` (or `orm_core`).
extern crate proc_macro;
use proc_macro::TokenStream;

/// Derives `Model`.
#[proc_macro_derive(Model, attributes(model, relationship))]
pub fn derive_model(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}

/// Derives `DbEnum`.
#[proc_macro_derive(DbEnum, attributes(db_enum))]
pub fn derive_db_enum(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
