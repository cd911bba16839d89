//! Macro UI tests: `ui/*.rs` must fail to compile with exactly the errors in their `.stderr`
//! files (one rule per file), `ui-pass/*.rs` must compile and run.
//!
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test -p orm-tests --test ui`
//! and review the diff: they change with the compiler version.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui-pass/*.rs");
}
