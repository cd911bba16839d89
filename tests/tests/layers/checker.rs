//! The checker's own tests, on synthetic crates: each rule can fail.

use super::*;

const TWO: Layers = &[("low", &["a"]), ("high", &["b"])];

fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect()
}

fn check(list: &[(&str, &str)], layers: Layers) -> Vec<String> {
    check_crate("fake/src/", &files(list), layers, &[])
}

fn paths(src: &str, module: &[&str]) -> Vec<(usize, String)> {
    let module: ModPath = module.iter().map(|s| s.to_string()).collect();
    extract(src, &module, &[])
        .into_iter()
        .map(|r| (r.line, r.text()))
        .collect()
}

#[test]
fn module_paths_of_files() {
    assert_eq!(module_of("lib.rs"), Vec::<String>::new());
    assert_eq!(module_of("a.rs"), ["a"]);
    assert_eq!(module_of("a/mod.rs"), ["a"]);
    assert_eq!(module_of("a/b.rs"), ["a", "b"]);
    assert_eq!(module_of("a/b/mod.rs"), ["a", "b"]);
}

#[test]
fn an_upward_import_is_reported_with_file_line_path_and_layers() {
    let problems = check(
        &[
            ("lib.rs", "pub mod a;\npub mod b;\n"),
            ("a.rs", "//! Low.\n\nuse crate::b::High;\n"),
            ("b.rs", "use crate::a::Low;\npub struct High;\n"),
            ("a/sub.rs", "use super::super::b::High;\n"),
        ],
        TWO,
    );
    assert_eq!(
        problems,
        [
            "fake/src/a.rs:3 references crate::b::High (a -> b): layer \"low\" must not reference layer \"high\"",
            "fake/src/a/sub.rs:1 references super::super::b::High (a::sub -> b): layer \"low\" must not reference layer \"high\"",
            "cycle among 2 modules of fake/src/ (each with its submodules): a, b\
             \n    a -> b: fake/src/a.rs:3 crate::b::High\
             \n    b -> a: fake/src/b.rs:1 crate::a::Low",
        ]
    );
}

#[test]
fn every_violation_is_listed_not_just_the_first() {
    let problems = check(
        &[
            ("lib.rs", ""),
            (
                "a.rs",
                "use crate::b::X;\nfn f() { crate::b::y(); }\nfn g() -> crate::b::Z { todo!() }\n",
            ),
            ("b.rs", ""),
        ],
        TWO,
    );
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems[1].starts_with("fake/src/a.rs:2 references crate::b::y "),
        "{problems:#?}"
    );
    assert!(
        problems[2].starts_with("fake/src/a.rs:3 references crate::b::Z "),
        "{problems:#?}"
    );
}

#[test]
fn a_module_in_no_layer_is_reported_but_the_root_is_not() {
    let problems = check(
        &[
            ("lib.rs", "use crate::c::X;"),
            ("a.rs", ""),
            ("c/mod.rs", ""),
        ],
        TWO,
    );
    assert_eq!(
        problems,
        [
            "fake/src/c/mod.rs is in no layer; add module `c` to the table (LAYERS in tests/tests/layers/main.rs)"
        ]
    );
}

#[test]
fn a_cycle_is_reported_with_one_import_per_edge() {
    let layers: Layers = &[("all", &["*"])];
    let problems = check(
        &[
            ("lib.rs", ""),
            ("x.rs", "use crate::y::Y;\n"),
            ("y.rs", "\n\nuse crate::z::{Z,\n  Z2};\n"),
            ("z.rs", "fn f() { let _ = crate::x::X; }\n"),
            ("w.rs", "use crate::x::X;\n"),
        ],
        layers,
    );
    assert_eq!(
        problems,
        ["cycle among 3 modules of fake/src/: x, y, z\
          \n    x -> y: fake/src/x.rs:1 crate::y::Y\
          \n    y -> z: fake/src/y.rs:3 crate::z::Z\
          \n    z -> x: fake/src/z.rs:1 crate::x::X"]
    );
}

#[test]
fn parent_to_child_reexports_are_not_a_cycle_but_a_sibling_cycle_is() {
    let layers: Layers = &[("all", &["*"])];
    let parent = "mod query;\nmod select;\npub use query::Query;\npub use self::select::Select;\npub struct Handles;\n";
    let ok = check(
        &[
            ("lib.rs", ""),
            ("stmt/mod.rs", parent),
            ("stmt/query.rs", "use super::Handles;\n"),
            ("stmt/select.rs", "use super::{Handles, query::Query};\n"),
        ],
        layers,
    );
    assert_eq!(ok, Vec::<String>::new());
    let cycle = check(
        &[
            ("lib.rs", ""),
            ("stmt/mod.rs", parent),
            ("stmt/query.rs", "use super::select::Select;\n"),
            ("stmt/select.rs", "use super::{Handles, query::Query};\n"),
        ],
        layers,
    );
    assert_eq!(cycle.len(), 1, "{cycle:#?}");
    assert!(
        cycle[0].starts_with("cycle among 2 modules of fake/src/: stmt::query, stmt::select"),
        "{cycle:#?}"
    );
}

#[test]
fn sibling_trees_that_reference_each_other_are_a_cycle() {
    let layers: Layers = &[("all", &["*"])];
    let list = [
        ("lib.rs", ""),
        ("expand/mod.rs", "mod model;\nuse crate::fallback;\n"),
        ("expand/model.rs", "pub fn consts() {}\n"),
        ("fallback.rs", "use crate::expand::model::consts;\n"),
    ];
    assert_eq!(
        check(&list, layers),
        [
            "cycle among 2 modules of fake/src/ (each with its submodules): expand, fallback\
          \n    expand -> fallback: fake/src/expand/mod.rs:2 crate::fallback\
          \n    fallback -> expand: fake/src/fallback.rs:1 crate::expand::model::consts"
        ]
    );
}

#[test]
fn cycles_inside_an_allowed_module_are_not_reported() {
    let layers: Layers = &[("ast", &["ast"]), ("rest", &["*"])];
    let list = [
        ("lib.rs", ""),
        ("ast/mod.rs", "mod expr;\nmod query;\n"),
        (
            "ast/expr.rs",
            "pub enum Node { Sub(Box<super::query::Query>) }\n",
        ),
        (
            "ast/query.rs",
            "pub struct Query { pub filter: Option<super::expr::Node> }\n",
        ),
        ("x.rs", "use crate::y::Y;\n"),
        ("y.rs", "use crate::x::X;\n"),
    ];
    let problems = check_crate("fake/src/", &files(&list), layers, &["ast"]);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].starts_with("cycle among 2 modules of fake/src/: x, y"),
        "{problems:#?}"
    );
    let problems = check_crate("fake/src/", &files(&list), layers, &[]);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[1].starts_with("cycle among 2 modules of fake/src/: ast::expr, ast::query"),
        "{problems:#?}"
    );
}

#[test]
fn paths_in_comments_and_literals_are_not_references() {
    let src = r####"
// use crate::b::LineComment;
/// [`x`](crate::b::DocComment)
//! crate::b::InnerDoc
/* crate::b::Block /* nested crate::b::Nested */ crate::b::StillBlock */
#[doc = "crate::b::DocAttr"]
fn f<'a>(x: &'a str) -> char {
let _ = "crate::b::Str \" crate::b::Escaped";
let _ = r#"crate::b::Raw " crate::b::RawQuote"#;
let _ = br##"crate::b::RawBytes"# "##;
let _ = b"crate::b::Bytes";
let _ = '"'; let _ = '\''; let _ = b'"';
let _ = crate::b::Real;
'x'
}
"####;
    assert_eq!(paths(src, &["a"]), [(13, "crate::b::Real".to_string())]);
}

#[test]
fn grouped_multiline_use_is_flattened() {
    let src = "pub(crate) use crate::{\n    a::{X, Y as Z},\n    b::{self, c::W},\n    d::*,\n};\n";
    assert_eq!(
        paths(src, &["m"]),
        [
            (2, "crate::a::X".to_string()),
            (2, "crate::a::Y".to_string()),
            (3, "crate::b".to_string()),
            (3, "crate::b::c::W".to_string()),
            (4, "crate::d::*".to_string()),
        ]
    );
}

#[test]
fn inline_paths_macro_crate_and_visibility() {
    let src = "macro_rules! m { () => { impl $crate::stmt::Source for X {} } }\n\
               pub(in crate::a) fn f() -> Vec<crate::x::Y> { super::z::w::<u8>(); self::q::R; a::self::S }\n";
    assert_eq!(
        paths(src, &["m"]),
        [
            (1, "$crate::stmt::Source".to_string()),
            (2, "crate::x::Y".to_string()),
            (2, "super::z::w".to_string()),
            (2, "self::q::R".to_string()),
        ]
    );
}

#[test]
fn super_and_self_resolve_against_the_file_and_inline_modules() {
    let (index, _) = Index::new(&files(&[
        ("lib.rs", ""),
        ("s/mod.rs", ""),
        ("s/a.rs", ""),
        ("s/b.rs", ""),
        ("t.rs", ""),
    ]));
    let resolve_in = |src: &str, module: &[&str]| -> Vec<String> {
        let module: ModPath = module.iter().map(|s| s.to_string()).collect();
        extract(src, &module, &[])
            .iter()
            .filter_map(|r| index.resolve(r))
            .map(|m| show(&m))
            .collect()
    };
    assert_eq!(resolve_in("use super::b::X;", &["s", "a"]), ["s::b"]);
    assert_eq!(resolve_in("use super::X;", &["s", "a"]), ["s"]);
    assert_eq!(resolve_in("use super::super::t::X;", &["s", "a"]), ["t"]);
    assert_eq!(resolve_in("use self::a::X;", &["s"]), ["s::a"]);
    assert_eq!(resolve_in("use a::X;", &["s"]), ["s::a"]); // 2018 path to a child module
    assert_eq!(
        resolve_in("use std::a::X; use serde::Serialize;", &["s"]),
        Vec::<String>::new()
    );
    // Inside `mod tests { … }` of s/a.rs, `super` is s::a itself.
    assert_eq!(
        resolve_in(
            "fn f() {}\nmod tests {\n    use super::*;\n}\nuse super::b::X;",
            &["s", "a"]
        ),
        ["s::a", "s::b"]
    );
    // The longest existing module wins.
    assert_eq!(
        resolve_in(
            "fn f() { crate::s::b::Thing::new(); crate::s::c::D; }",
            &["t"]
        ),
        ["s::b", "s"]
    );
}

#[test]
fn names_a_module_imports_resolve_to_where_they_come_from() {
    let (index, _) = Index::new(&files(&[
        (
            "lib.rs",
            "mod compile;\nmod expr;\npub use compile::SqlWriter;\n",
        ),
        (
            "compile/mod.rs",
            "mod writer;\npub use writer::{SqlWriter as Writer, SqlWriter};\nuse crate::expr::Param;\n\
             use std::fmt::Write;\nfn local() { use crate::expr::Local; }\npub struct Compiled;\n",
        ),
        ("compile/writer.rs", "pub struct SqlWriter;\n"),
        ("expr.rs", "pub struct Param;\n"),
    ]));
    let resolve_in = |src: &str, module: &[&str]| -> Vec<String> {
        let module: ModPath = module.iter().map(|s| s.to_string()).collect();
        extract(src, &module, &[])
            .iter()
            .map(|r| index.resolve(r).map_or("-".to_string(), |m| show(&m)))
            .collect()
    };
    assert_eq!(
        resolve_in(
            "use crate::compile::{SqlWriter, Writer, Compiled, Param, Write, Local};",
            &["expr"]
        ),
        [
            "compile::writer",
            "compile::writer",
            "compile",
            "expr",
            "-",
            "compile"
        ]
    );
    // Through the crate root too, and through a parent's import.
    assert_eq!(
        resolve_in("fn f(_: crate::SqlWriter) {}", &["expr"]),
        ["compile::writer"]
    );
    assert_eq!(
        resolve_in("use super::Param;", &["compile", "writer"]),
        ["expr"]
    );
}

#[test]
fn root_names_follow_the_roots_imports() {
    let problems = check(
        &[
            (
                "lib.rs",
                "extern crate self as fake;\npub mod a;\npub mod b;\npub use b::High;\npub use other::Outside;\npub fn at_root() {}\n",
            ),
            (
                "a.rs",
                "use crate::{High, Outside, at_root};\nfn f() { ::fake::b::g(); }\n",
            ),
            ("b.rs", ""),
        ],
        TWO,
    );
    assert_eq!(
        problems,
        [
            "fake/src/a.rs:1 references crate::High (a -> b): layer \"low\" must not reference layer \"high\"",
            "fake/src/a.rs:2 references fake::b::g (a -> b): layer \"low\" must not reference layer \"high\"",
        ]
    );
}

#[test]
fn reads_a_directory_of_files() {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("orm-layers-test-{}-{n}", std::process::id()));
    std::fs::create_dir_all(dir.join("b")).unwrap();
    std::fs::write(dir.join("lib.rs"), "mod a;\nmod b;\n").unwrap();
    std::fs::write(dir.join("a.rs"), "use crate::b::c::C;\n").unwrap();
    std::fs::write(dir.join("b/mod.rs"), "mod c;\n").unwrap();
    std::fs::write(dir.join("b/c.rs"), "pub struct C;\nuse crate::a::A;\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "crate::b::Ignored").unwrap();
    let files = read_sources(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(names, ["a.rs", "b/c.rs", "b/mod.rs", "lib.rs"]);
    let problems = check_crate("fake/src/", &files, TWO, &[]);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].starts_with("fake/src/a.rs:1 references crate::b::c::C (a -> b::c)"),
        "{problems:#?}"
    );
    assert!(
        problems[1]
            .starts_with("cycle among 2 modules of fake/src/ (each with its submodules): a, b"),
        "{problems:#?}"
    );
}
