//! `#[orm_postgres::test]`: an async test on a database of its own, set up from a template
//! once per test binary. The runtime side is `orm_testing::kit`.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, LitStr, Path, Type};

/// The attribute's options.
#[derive(Default)]
struct Options {
    tables: Vec<Path>,
    fixtures: Vec<LitStr>,
    setup: Option<Path>,
    migrations: Option<LitStr>,
    rollback: bool,
    multi_thread: bool,
}

/// What the test function takes.
enum Arg {
    None,
    Database,
    TestDatabase,
    Session,
    Transaction,
}

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(attr, item.clone()) {
        Ok(out) => out,
        Err(e) => {
            // The error, and the function as written, so that its body still type-checks (and
            // reports its own errors) instead of vanishing.
            let e = e.to_compile_error();
            quote! { #e #item }
        }
    }
}

fn try_expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = parse_options(attr.clone())?;
    let f: ItemFn = syn::parse2(item)?;
    if f.sig.asyncness.is_none() {
        return Err(syn::Error::new(
            f.sig.fn_token.span(),
            "#[orm_postgres::test] needs an `async fn`",
        ));
    }
    if !f.sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            f.sig.generics.span(),
            "a test function takes no generic parameters",
        ));
    }
    let arg = match f.sig.inputs.len() {
        0 => Arg::None,
        1 => classify(&f.sig.inputs[0])?,
        _ => {
            return Err(syn::Error::new(
                f.sig.inputs.span(),
                "a test function takes at most one argument: a `Database`, `TestDatabase`, \
                 `Session`, or (with `rollback`) `&mut Transaction`",
            ));
        }
    };
    match (&arg, options.rollback) {
        (Arg::Transaction, false) => {
            return Err(syn::Error::new(
                f.sig.inputs.span(),
                "a `&mut Transaction` argument needs `#[orm_postgres::test(rollback)]`",
            ));
        }
        (Arg::Database | Arg::TestDatabase | Arg::Session | Arg::None, true) => {
            return Err(syn::Error::new(
                f.sig.inputs.span(),
                "with `rollback` the test takes `tx: &mut Transaction<'_>`, the transaction that \
                 is rolled back at its end",
            ));
        }
        _ => {}
    }

    let attrs = &f.attrs;
    let vis = &f.vis;
    let name = &f.sig.ident;
    let output = &f.sig.output;
    let inputs = &f.sig.inputs;
    let body = &f.block;
    let key = format!("#[test({attr})]");

    let mut steps = Vec::new();
    if let Some(dir) = &options.migrations {
        steps.push(quote! {
            .step(|__db| ::std::boxed::Box::pin(async move {
                static __MIGRATIONS: ::orm_migrate::Embedded = ::orm_migrate::embed_migrations!(#dir);
                ::orm_migrate::Migrator::from_embedded(&__MIGRATIONS)?.run(__db).await?;
                ::std::result::Result::Ok(())
            }))
        });
    }
    if let Some(setup) = &options.setup {
        steps.push(quote! {
            .step(|__db| ::std::boxed::Box::pin(async move {
                #setup(__db).await.map_err(::core::convert::Into::into)
            }))
        });
    }
    let tables = &options.tables;
    let fixtures = options.fixtures.iter().map(|path| {
        quote! { .fixture(#path, ::core::include_str!(#path)) }
    });
    let setup = quote! {
        ::orm_testing::kit::Setup::new(::core::concat!(::core::module_path!(), "::", #key))
            #(#steps)*
            .tables(::std::vec![#(<#tables as ::orm_postgres::Model>::TABLE),*])
            #(#fixtures)*
    };
    let multi = options.multi_thread;
    let run = match arg {
        Arg::None => quote! {
            let __t = ::orm_testing::kit::database(&__setup).await.unwrap_or_else(|__e| ::orm_testing::kit::setup_failed("the test's database", &__e));
            let __out = __orm_test().await;
            ::core::mem::drop(__t);
            __out
        },
        Arg::Database => quote! {
            let __t = ::orm_testing::kit::database(&__setup).await.unwrap_or_else(|__e| ::orm_testing::kit::setup_failed("the test's database", &__e));
            __orm_test(::core::clone::Clone::clone(&__t.db)).await
        },
        Arg::TestDatabase => quote! {
            let __t = ::orm_testing::kit::database(&__setup).await.unwrap_or_else(|__e| ::orm_testing::kit::setup_failed("the test's database", &__e));
            __orm_test(__t).await
        },
        Arg::Session => quote! {
            let __t = ::orm_testing::kit::database(&__setup).await.unwrap_or_else(|__e| ::orm_testing::kit::setup_failed("the test's database", &__e));
            __orm_test(__t.db.session()).await
        },
        Arg::Transaction => quote! {
            let __db = ::orm_testing::kit::shared_database(&__setup).await.unwrap_or_else(|__e| ::orm_testing::kit::setup_failed("the test's database", &__e));
            let mut __tx = __db.begin().await.unwrap_or_else(|__e| ::orm_testing::kit::setup_failed("BEGIN", &__e));
            let __out = __orm_test(&mut __tx).await;
            __tx.rollback().await.unwrap_or_else(|__e| ::orm_testing::kit::setup_failed("ROLLBACK", &__e));
            __out
        },
    };
    Ok(quote! {
        #[::core::prelude::v1::test]
        #(#attrs)*
        #vis fn #name() #output {
            async fn __orm_test(#inputs) #output #body
            let __setup = #setup;
            ::orm_testing::kit::runtime(#multi).block_on(async move { #run })
        }
    })
}

fn classify(arg: &FnArg) -> syn::Result<Arg> {
    let FnArg::Typed(pat) = arg else {
        return Err(syn::Error::new(
            arg.span(),
            "a test function takes no `self`",
        ));
    };
    let (ty, by_mut_ref) = match &*pat.ty {
        Type::Reference(r) if r.mutability.is_some() => (&*r.elem, true),
        other => (other, false),
    };
    let last = match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    };
    match (last.as_deref(), by_mut_ref) {
        (Some("Database"), false) => Ok(Arg::Database),
        (Some("TestDatabase"), false) => Ok(Arg::TestDatabase),
        (Some("Session"), false) => Ok(Arg::Session),
        (Some("Transaction"), true) => Ok(Arg::Transaction),
        _ => Err(syn::Error::new(
            pat.ty.span(),
            format!(
                "a test function takes a `Database`, `TestDatabase`, `Session`, or (with \
                 `rollback`) `&mut Transaction<'_>`, not `{}`",
                pat.ty.to_token_stream()
            ),
        )),
    }
}

fn parse_options(attr: TokenStream) -> syn::Result<Options> {
    let mut o = Options::default();
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("tables") {
            let content;
            syn::parenthesized!(content in meta.input);
            let list = content.parse_terminated(Path::parse_mod_style, syn::Token![,])?;
            o.tables.extend(list);
            Ok(())
        } else if meta.path.is_ident("fixtures") {
            let content;
            syn::parenthesized!(content in meta.input);
            let list = content.parse_terminated(|p| p.parse::<LitStr>(), syn::Token![,])?;
            o.fixtures.extend(list);
            Ok(())
        } else if meta.path.is_ident("setup") {
            o.setup = Some(meta.value()?.parse()?);
            Ok(())
        } else if meta.path.is_ident("migrations") {
            o.migrations = Some(if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse()?
            } else {
                LitStr::new("migrations", Span::call_site())
            });
            Ok(())
        } else if meta.path.is_ident("rollback") {
            o.rollback = true;
            Ok(())
        } else if meta.path.is_ident("multi_thread") {
            o.multi_thread = true;
            Ok(())
        } else {
            Err(meta.error(
                "unknown option of #[orm_postgres::test]; expected `tables(..)`, `fixtures(..)`, \
                 `setup = path`, `migrations` or `migrations = \"dir\"`, `rollback`, \
                 `multi_thread`",
            ))
        }
    });
    parser.parse2(attr)?;
    Ok(o)
}
