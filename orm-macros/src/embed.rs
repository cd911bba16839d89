//! `embed_migrations!`: lists a migrations directory at compile time and expands to an
//! `::orm_migrate::Embedded` holding every entry's name and, for directories, its `up.sql` and
//! `down.sql` through `include_str!` (so editing a revision recompiles the crate).
//!
//! Nothing is parsed here: `orm_migrate` parses the embedded text at run time with the same
//! code that reads a directory, so the rules live in one place. The only errors reported at
//! compile time are the ones that prevent embedding: a missing or unreadable directory, a
//! path or file name that is not UTF-8.

use std::path::Path;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::LitStr;

/// The directory used by `embed_migrations!()`.
const DEFAULT_DIR: &str = "migrations";

/// Expands `embed_migrations!(input)` for a crate whose `Cargo.toml` is in `manifest_dir`
/// (`CARGO_MANIFEST_DIR`; `None` when unset). Errors become `compile_error!`.
pub(crate) fn expand(input: TokenStream, manifest_dir: Option<&Path>) -> TokenStream {
    try_expand(input, manifest_dir).unwrap_or_else(|e| e.to_compile_error())
}

fn try_expand(input: TokenStream, manifest_dir: Option<&Path>) -> syn::Result<TokenStream> {
    let (dir, span) = if input.is_empty() {
        (DEFAULT_DIR.to_owned(), Span::call_site())
    } else {
        let lit: LitStr = syn::parse2(input).map_err(|e| {
            syn::Error::new(
                e.span(),
                "embed_migrations! takes the migrations directory as a string literal, \
                 relative to the crate's Cargo.toml: `embed_migrations!(\"migrations\")`",
            )
        })?;
        (lit.value(), lit.span())
    };
    let error = |message: String| syn::Error::new(span, message);
    let Some(manifest_dir) = manifest_dir else {
        return Err(error(
            "embed_migrations!: CARGO_MANIFEST_DIR is not set (build with cargo)".to_owned(),
        ));
    };
    let path = manifest_dir.join(&dir);
    if !path.is_dir() {
        return Err(error(format!(
            "embed_migrations!: the migrations directory `{}` does not exist (the path is \
             relative to the crate's Cargo.toml, in {})",
            path.display(),
            manifest_dir.display()
        )));
    }
    let read_error =
        |e: std::io::Error| error(format!("embed_migrations!: {}: {e}", path.display()));
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(&path).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let entry_path = entry.path();
        let Ok(name) = entry.file_name().into_string() else {
            return Err(error(format!(
                "embed_migrations!: {} has a name that is not UTF-8",
                entry_path.display()
            )));
        };
        entries.push((name, entry_path));
    }
    entries.sort();
    let mut items = Vec::new();
    for (name, entry_path) in entries {
        let is_dir = entry_path.is_dir();
        let up = include(&entry_path, "up.sql", is_dir, span)?;
        let down = include(&entry_path, "down.sql", is_dir, span)?;
        items.push(quote! {
            ::orm_migrate::EmbeddedEntry {
                name: #name,
                is_dir: #is_dir,
                up: #up,
                down: #down,
            }
        });
    }
    Ok(quote! {
        ::orm_migrate::Embedded {
            dir: #dir,
            entries: &[#(#items),*],
        }
    })
}

/// `Some(include_str!("<dir>/<file>"))` when the entry is a directory holding the file, else
/// `None`.
fn include(dir: &Path, file: &str, is_dir: bool, span: Span) -> syn::Result<TokenStream> {
    let path = dir.join(file);
    if !is_dir || !path.is_file() {
        return Ok(quote!(::core::option::Option::None));
    }
    let Some(path) = path.to_str() else {
        return Err(syn::Error::new(
            span,
            format!(
                "embed_migrations!: {} is not a UTF-8 path, which include_str! needs",
                path.display()
            ),
        ));
    };
    Ok(quote!(::core::option::Option::Some(
        ::core::include_str!(#path)
    )))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// A fresh temporary directory, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let path = std::env::temp_dir()
                .join(format!("orm-macros-embed-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).expect("create the temporary directory");
            TempDir(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Token text without spaces, to compare with expected snippets.
    fn compact(tokens: &TokenStream) -> String {
        tokens.to_string().replace(' ', "")
    }

    #[test]
    fn a_missing_directory_is_a_compile_error() {
        let tmp = TempDir::new("missing");
        let out = compact(&expand(quote!("no/such/dir"), Some(&tmp.0)));
        assert!(out.starts_with("::core::compile_error!"), "{out}");
        let expected = format!(
            "embed_migrations!:themigrationsdirectory`{}`doesnotexist",
            tmp.0.join("no/such/dir").display()
        )
        .replace(' ', "");
        assert!(out.contains(&expected), "{out}");
    }

    #[test]
    fn a_non_literal_argument_is_a_compile_error() {
        let out = compact(&expand(quote!(migrations), Some(Path::new("/"))));
        assert!(out.starts_with("::core::compile_error!"), "{out}");
        assert!(
            out.contains("takesthemigrationsdirectoryasastringliteral"),
            "{out}"
        );
        let out = compact(&expand(quote!("m"), None));
        assert!(out.contains("CARGO_MANIFEST_DIR"), "{out}");
    }

    #[test]
    fn lists_entries_and_includes_their_scripts() {
        let tmp = TempDir::new("list");
        let rev = tmp.0.join("migrations/20261130120000_init");
        std::fs::create_dir_all(&rev).expect("mkdir");
        std::fs::write(rev.join("up.sql"), "-- message: init\n\nSELECT 1;").expect("write");
        std::fs::write(tmp.0.join("migrations/README.md"), "# m").expect("write");
        let out = compact(&expand(TokenStream::new(), Some(&tmp.0)));
        // Sorted by name: digits before letters. Paths may hold spaces: compare compacted.
        let expected = format!(
            "::orm_migrate::Embedded{{dir:\"migrations\",entries:&[\
             ::orm_migrate::EmbeddedEntry{{name:\"20261130120000_init\",is_dir:true,\
             up:::core::option::Option::Some(::core::include_str!(\"{}\")),\
             down:::core::option::Option::None,}},\
             ::orm_migrate::EmbeddedEntry{{name:\"README.md\",is_dir:false,\
             up:::core::option::Option::None,down:::core::option::Option::None,}}],}}",
            rev.join("up.sql").display()
        );
        assert_eq!(out, expected.replace(' ', ""));
    }
}
