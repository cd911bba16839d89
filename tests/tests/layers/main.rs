//! Keeps the workspace's layers one-way (issue 10, "How it stays true"). No database needed.
//!
//! It reads every `.rs` file of the crates in [`LAYERS`], finds each reference from one module
//! to another module of the same crate (`use crate::…`, `use super::…`, `use self::…`, grouped
//! and multi-line `use` trees, and paths written inline such as `crate::stmt::Query` or
//! `$crate::x::Y`; comments and string/char literals are skipped) and checks two rules:
//!
//! 1. **Layers.** A module may reference modules of its own layer or of a lower one, never of a
//!    higher one. Every module must be in some layer; the crate root (`lib.rs`) is the facade and
//!    may reference anything.
//! 2. **No cycles.** For every module, its children (each counted with its submodules) reference
//!    each other without a cycle; a cycle spanning several folders shows up where it starts, as a
//!    cycle among those folders. A module's references to its own descendants (`pub use
//!    child::X` in a `mod.rs`) are structure, not dependency. A crate may name modules whose
//!    children may recurse (`cycles_allowed_within`).
//!
//! A reference resolves to the longest existing module of its path: `crate::stmt::source::Free`
//! is module `stmt::source` when `stmt/source.rs` exists, else `stmt`. When what follows that
//! module is a name the module imports with a module-level `use` (`pub use select::Select` in
//! `stmt/mod.rs`, `pub use error::Error` in `lib.rs`), the reference is to where the name comes
//! from, so a re-export does not hide a dependency. A name defined in `lib.rs` itself is not
//! checked (the root is the facade).
//!
//! When the test fails it lists every problem, each with the file, line and path that causes it.
//! To move a module, or to add one, edit [`LAYERS`] below.

mod checker;
mod read;
mod refs;
mod rules;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use read::*;
use refs::*;
use rules::*;

/// The declared layers of each crate, lowest first. Each layer is a name and the module-path
/// prefixes it covers: `"stmt"` covers `stmt` and every `stmt::…`; `"*"` covers every module.
/// When prefixes overlap, the longest one decides.
pub(crate) const LAYERS: &[Crate] = &[
    Crate {
        dir: "orm-core",
        required: true,
        layers: &[
            ("foundation", &["error", "lex", "fxhash"]),
            ("schema", &["types", "meta", "row", "model", "deferred"]),
            ("ast", &["ast"]),
            ("compiler", &["compile"]),
            ("builders", &["expr", "stmt", "raw", "ddl", "copy"]),
            ("orm", &["relation", "load", "inherit", "shard"]),
            ("session", &["session"]),
            ("facade", &["__private", "driver", "func", "__doc_fixture"]),
        ],
        // Expressions contain queries and queries contain expressions: that recursion may
        // span the files of `ast`, and of `compile`, whose walk over the tree mirrors it
        // (writing a subquery inside an expression, an expression inside a query); nowhere else.
        cycles_allowed_within: &["ast", "compile"],
    },
    Crate {
        dir: "orm-macros",
        required: true,
        layers: &[
            ("model", &["ast", "attr", "case", "ctxt", "symbol", "check"]),
            (
                "generate",
                &["expand", "fallback", "embed", "lookup", "test_attr"],
            ),
            ("dispatch", &["derive", "tests"]),
        ],
        cycles_allowed_within: &[],
    },
    // One layer each: only rule 2 (no cycles) applies.
    Crate {
        dir: "orm-postgres",
        required: true,
        layers: &[("postgres", &["*"])],
        cycles_allowed_within: &[],
    },
    Crate {
        dir: "orm-testing",
        required: false,
        layers: &[("testing", &["*"])],
        cycles_allowed_within: &[],
    },
    Crate {
        dir: "orm-migrate",
        required: false,
        layers: &[("migrate", &["*"])],
        cycles_allowed_within: &[],
    },
];

/// One crate's entry in [`LAYERS`].
pub(crate) struct Crate {
    /// The crate's directory, relative to the workspace root.
    pub(crate) dir: &'static str,
    /// Whether a missing `src` directory is a failure (crates being added are optional).
    pub(crate) required: bool,
    /// `(name, module prefixes)`, lowest layer first.
    pub(crate) layers: Layers,
    /// Modules whose children may form cycles among themselves (rule 2 is not applied inside
    /// them; rule 1 still is).
    pub(crate) cycles_allowed_within: &'static [&'static str],
}

pub(crate) type Layers = &'static [(&'static str, &'static [&'static str])];

#[test]
pub(crate) fn every_reference_points_down_and_no_module_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut problems = Vec::new();
    for krate in LAYERS {
        let src = root.join(krate.dir).join("src");
        if !src.is_dir() {
            if krate.required {
                problems.push(format!(
                    "{}/src does not exist; fix LAYERS in tests/tests/layers/main.rs",
                    krate.dir
                ));
            }
            continue;
        }
        let files = read_sources(&src);
        problems.extend(check_crate(
            &format!("{}/src/", krate.dir),
            &files,
            krate.layers,
            krate.cycles_allowed_within,
        ));
    }
    if !problems.is_empty() {
        panic!("{}", report(&problems));
    }
}

/// The failure message: a count, then every problem.
pub(crate) fn report(problems: &[String]) -> String {
    let mut out = format!(
        "{} layering problem(s); the layers are declared in LAYERS at the top of tests/tests/layers/main.rs\n",
        problems.len()
    );
    for p in problems {
        out.push('\n');
        out.push_str(p);
        out.push('\n');
    }
    out
}
