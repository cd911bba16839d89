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

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The declared layers of each crate, lowest first. Each layer is a name and the module-path
/// prefixes it covers: `"stmt"` covers `stmt` and every `stmt::…`; `"*"` covers every module.
/// When prefixes overlap, the longest one decides.
const LAYERS: &[Crate] = &[
    Crate {
        dir: "orm-core",
        required: true,
        layers: &[
            ("foundation", &["error"]),
            ("schema", &["types", "meta", "row", "model"]),
            ("ast", &["ast"]),
            ("compiler", &["compile"]),
            ("builders", &["expr", "stmt", "raw", "ddl"]),
            ("orm", &["relation", "load"]),
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
            ("generate", &["expand", "fallback"]),
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
struct Crate {
    /// The crate's directory, relative to the workspace root.
    dir: &'static str,
    /// Whether a missing `src` directory is a failure (crates being added are optional).
    required: bool,
    /// `(name, module prefixes)`, lowest layer first.
    layers: Layers,
    /// Modules whose children may form cycles among themselves (rule 2 is not applied inside
    /// them; rule 1 still is).
    cycles_allowed_within: &'static [&'static str],
}

type Layers = &'static [(&'static str, &'static [&'static str])];

#[test]
fn every_reference_points_down_and_no_module_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut problems = Vec::new();
    for krate in LAYERS {
        let src = root.join(krate.dir).join("src");
        if !src.is_dir() {
            if krate.required {
                problems.push(format!(
                    "{}/src does not exist; fix LAYERS in tests/tests/layers.rs",
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
fn report(problems: &[String]) -> String {
    let mut out = format!(
        "{} layering problem(s); the layers are declared in LAYERS at the top of tests/tests/layers.rs\n",
        problems.len()
    );
    for p in problems {
        out.push('\n');
        out.push_str(p);
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Reading files
// ---------------------------------------------------------------------------------------------

/// Every `.rs` file under `src`, as (path relative to `src` with `/` separators, contents),
/// sorted by path.
fn read_sources(src: &Path) -> Vec<(String, String)> {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, String)>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
        for entry in entries {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let rel = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if path.is_dir() {
                walk(&path, &rel, out);
            } else if name.ends_with(".rs") {
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
                out.push((rel, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(src, "", &mut out);
    out.sort();
    out
}

/// A module path: its segments below the crate root (the root is empty).
type ModPath = Vec<String>;

fn show(module: &[String]) -> String {
    if module.is_empty() {
        "crate root".to_string()
    } else {
        module.join("::")
    }
}

/// The module a file under `src` defines: `lib.rs` is the root, `a/mod.rs` and `a.rs` are `a`,
/// `a/b.rs` is `a::b`.
fn module_of(rel: &str) -> ModPath {
    let stem = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut segs: ModPath = stem.split('/').map(str::to_string).collect();
    if segs.last().is_some_and(|s| s == "mod") {
        segs.pop();
    }
    if segs.len() == 1 && (segs[0] == "lib" || segs[0] == "main") {
        segs.clear();
    }
    segs
}

// ---------------------------------------------------------------------------------------------
// Lexing: blank out comments and literals, then split into tokens
// ---------------------------------------------------------------------------------------------

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `src` with every comment (line, block, doc) and every string, byte-string, raw-string and
/// char literal replaced by spaces; newlines are kept so line numbers stay right.
fn strip(src: &str) -> String {
    let s: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |out: &mut String, chars: &[char]| {
        for &c in chars {
            out.push(if c == '\n' { '\n' } else { ' ' });
        }
    };
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        let next = s.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            let end = s[i..]
                .iter()
                .position(|&c| c == '\n')
                .map_or(s.len(), |p| i + p);
            blank(&mut out, &s[i..end]);
            i = end;
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            let mut j = i;
            while j < s.len() {
                if s[j] == '/' && s.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 2;
                } else if s[j] == '*' && s.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            let end = j.min(s.len());
            blank(&mut out, &s[i..end]);
            i = end;
        } else if c == '"' {
            let end = string_end(&s, i + 1);
            blank(&mut out, &s[i..end]);
            i = end;
        } else if c == '\'' {
            // A char literal ('a', '\n', '\'', '\u{1F600}') or a lifetime/label ('a, 'static).
            let end = if next == Some('\\') {
                let mut j = i + 3;
                while j < s.len() && s[j] != '\'' {
                    j += 1;
                }
                Some(j + 1)
            } else if s.get(i + 2) == Some(&'\'') {
                Some(i + 3)
            } else {
                None
            };
            match end {
                Some(end) => {
                    let end = end.min(s.len());
                    blank(&mut out, &s[i..end]);
                    i = end;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else if is_ident_char(c) {
            // A whole identifier, or the prefix of a literal: b"..", b'.', r"..", r#".."#, br#"..."#, c"..".
            let mut j = i;
            while j < s.len() && is_ident_char(s[j]) {
                j += 1;
            }
            let word: String = s[i..j].iter().collect();
            let raw = matches!(word.as_str(), "r" | "br" | "cr");
            if raw && matches!(s.get(j), Some('"') | Some('#')) {
                let mut hashes = 0;
                let mut k = j;
                while s.get(k) == Some(&'#') {
                    hashes += 1;
                    k += 1;
                }
                if s.get(k) == Some(&'"') {
                    // Raw string: ends at `"` followed by the same number of `#`.
                    let mut e = k + 1;
                    loop {
                        if e >= s.len() {
                            break;
                        }
                        if s[e] == '"' && (0..hashes).all(|h| s.get(e + 1 + h) == Some(&'#')) {
                            e += 1 + hashes;
                            break;
                        }
                        e += 1;
                    }
                    let end = e.min(s.len());
                    blank(&mut out, &s[i..end]);
                    i = end;
                    continue;
                }
                // `r#ident`: a raw identifier, kept as is.
            }
            if matches!(word.as_str(), "b" | "c") && s.get(j) == Some(&'"') {
                let end = string_end(&s, j + 1);
                blank(&mut out, &s[i..end]);
                i = end;
                continue;
            }
            if word == "b" && s.get(j) == Some(&'\'') {
                // A byte literal; the quote is handled as a char literal on the next round.
                blank(&mut out, &s[i..j]);
                i = j;
                continue;
            }
            out.push_str(&word);
            i = j;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The index just past the closing `"` of a (non-raw) string whose contents start at `from`.
fn string_end(s: &[char], from: usize) -> usize {
    let mut j = from;
    while j < s.len() {
        match s[j] {
            '\\' => j += 2,
            '"' => return j + 1,
            _ => j += 1,
        }
    }
    s.len()
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// An identifier or keyword (`$crate` included, `r#` dropped from raw identifiers).
    Ident(String),
    /// `::`
    PathSep,
    /// Any other single character.
    Punct(char),
}

/// Tokens of stripped source, each with its 1-based line.
fn tokenize(clean: &str) -> Vec<(Tok, usize)> {
    let s: Vec<char> = clean.chars().collect();
    let mut toks = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if is_ident_char(c) || (c == '$' && s.get(i + 1).is_some_and(|&n| is_ident_char(n)))
        {
            let mut j = i + 1;
            while j < s.len() && is_ident_char(s[j]) {
                j += 1;
            }
            let mut word: String = s[i..j].iter().collect();
            if word == "r"
                && s.get(j) == Some(&'#')
                && s.get(j + 1).is_some_and(|&n| is_ident_char(n))
            {
                let start = j + 1;
                j = start;
                while j < s.len() && is_ident_char(s[j]) {
                    j += 1;
                }
                word = s[start..j].iter().collect();
            }
            toks.push((Tok::Ident(word), line));
            i = j;
        } else if c == ':' && s.get(i + 1) == Some(&':') {
            toks.push((Tok::PathSep, line));
            i += 2;
        } else {
            toks.push((Tok::Punct(c), line));
            i += 1;
        }
    }
    toks
}

// ---------------------------------------------------------------------------------------------
// Extracting references
// ---------------------------------------------------------------------------------------------

/// A path one file names, before resolution.
#[derive(Debug, Clone, PartialEq)]
struct RawRef {
    /// 1-based line of the path's last segment.
    line: usize,
    /// The path's segments as written (a grouped `use` is flattened to one path per leaf).
    segs: Vec<String>,
    /// For a `use` leaf, its `as` name.
    alias: Option<String>,
    /// Whether it comes from a `use` item (where a path may start at a child module).
    is_use: bool,
    /// Whether it is a `use` item of the module itself (not inside a function or block), so
    /// other modules can name what it imports through this module.
    module_level: bool,
    /// The module the path is written in: the file's module plus any inline `mod x { … }`.
    context: ModPath,
}

impl RawRef {
    fn text(&self) -> String {
        self.segs.join("::")
    }
}

fn ident(toks: &[(Tok, usize)], i: usize) -> Option<&str> {
    match toks.get(i) {
        Some((Tok::Ident(s), _)) => Some(s),
        _ => None,
    }
}

fn is(toks: &[(Tok, usize)], i: usize, tok: &Tok) -> bool {
    toks.get(i).is_some_and(|(t, _)| t == tok)
}

/// Every path in `src` (a file of module `module`) that starts with `crate`, `$crate`, `super`,
/// `self` or one of `self_names` (the crate's `extern crate self as name`), and every leaf of
/// every `use` item (whatever it starts with; resolution drops external crates).
fn extract(src: &str, module: &[String], self_names: &[String]) -> Vec<RawRef> {
    let toks = tokenize(&strip(src));
    let mut refs = Vec::new();
    let mut depth = 0usize;
    // Inline modules: (name, brace depth inside them).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let context = |inline: &[(String, usize)]| -> ModPath {
        module
            .iter()
            .cloned()
            .chain(inline.iter().map(|(n, _)| n.clone()))
            .collect()
    };
    let starts_path = |w: &str| {
        matches!(w, "crate" | "$crate" | "super" | "self") || self_names.iter().any(|n| n == w)
    };
    let mut i = 0;
    while i < toks.len() {
        match &toks[i].0 {
            Tok::Punct('{') => {
                depth += 1;
                i += 1;
            }
            Tok::Punct('}') => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
                i += 1;
            }
            Tok::Ident(w)
                if w == "mod"
                    && ident(&toks, i + 1).is_some()
                    && is(&toks, i + 2, &Tok::Punct('{')) =>
            {
                inline.push((ident(&toks, i + 1).unwrap().to_string(), depth + 1));
                i += 2;
            }
            Tok::Ident(w) if w == "use" => {
                let ctx = context(&inline);
                let module_level = depth == inline.last().map_or(0, |(_, d)| *d);
                let mut j = i + 1;
                let mut leaves = Vec::new();
                parse_use_tree(&toks, &mut j, Vec::new(), &mut leaves);
                for (segs, alias, line) in leaves {
                    refs.push(RawRef {
                        line,
                        segs,
                        alias,
                        is_use: true,
                        module_level,
                        context: ctx.clone(),
                    });
                }
                i = j.max(i + 1);
            }
            Tok::Ident(w) if starts_path(w) && is(&toks, i + 1, &Tok::PathSep) => {
                // `a::self::x` continues a path; after a leading `::` only the crate's own
                // name starts one (`::orm_core::x`); `pub(in crate::a)` is a visibility.
                let after_sep = i > 0 && is(&toks, i - 1, &Tok::PathSep);
                let leading_sep = after_sep && (i < 2 || ident(&toks, i - 2).is_none());
                let continues =
                    after_sep && (!leading_sep || matches!(w.as_str(), "super" | "self"));
                let in_visibility = i > 0 && ident(&toks, i - 1) == Some("in");
                if continues || in_visibility {
                    i += 1;
                    continue;
                }
                let mut segs = vec![w.clone()];
                let mut line = toks[i].1;
                let mut j = i + 1;
                while is(&toks, j, &Tok::PathSep) {
                    match ident(&toks, j + 1) {
                        Some(next) => {
                            segs.push(next.to_string());
                            line = toks[j + 1].1;
                            j += 2;
                        }
                        None => break,
                    }
                }
                refs.push(RawRef {
                    line,
                    segs,
                    alias: None,
                    is_use: false,
                    module_level: false,
                    context: context(&inline),
                });
                i = j;
            }
            _ => i += 1,
        }
    }
    refs
}

/// Parses one use tree starting at `*i` (after `use`, or inside `{ … }`), appending each leaf as
/// (segments, `as` name, line). A trailing `self` (`a::{self, X}`) names `a`; a glob keeps `*`.
fn parse_use_tree(
    toks: &[(Tok, usize)],
    i: &mut usize,
    mut prefix: Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>, usize)>,
) {
    if is(toks, *i, &Tok::PathSep) {
        *i += 1; // `use ::std::x`
    }
    loop {
        match toks.get(*i) {
            Some((Tok::Punct('{'), _)) => {
                *i += 1;
                loop {
                    match toks.get(*i) {
                        None => return,
                        Some((Tok::Punct('}'), _)) => {
                            *i += 1;
                            return;
                        }
                        Some((Tok::Punct(','), _)) => *i += 1,
                        Some(_) => {
                            let before = *i;
                            parse_use_tree(toks, i, prefix.clone(), out);
                            if *i == before {
                                *i += 1; // not a use tree; never loop on it
                            }
                        }
                    }
                }
            }
            Some((Tok::Punct('*'), line)) => {
                prefix.push("*".to_string());
                out.push((prefix, None, *line));
                *i += 1;
                return;
            }
            Some((Tok::Ident(name), line)) => {
                let line = *line;
                if name != "self" || prefix.is_empty() {
                    prefix.push(name.clone());
                }
                *i += 1;
                if is(toks, *i, &Tok::PathSep) {
                    *i += 1;
                    continue;
                }
                let mut alias = None;
                if ident(toks, *i) == Some("as") {
                    alias = ident(toks, *i + 1).map(str::to_string);
                    *i += 2;
                }
                out.push((prefix, alias, line));
                return;
            }
            _ => return,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Resolving references to modules
// ---------------------------------------------------------------------------------------------

/// The absolute path (below the crate root) a reference names, or `None` for another crate.
fn absolute(r: &RawRef, modules: &BTreeSet<ModPath>, self_names: &[String]) -> Option<Vec<String>> {
    let first = r.segs.first()?.as_str();
    let mut abs: Vec<String> =
        if first == "crate" || first == "$crate" || self_names.iter().any(|n| n == first) {
            r.segs[1..].to_vec()
        } else if first == "self" {
            r.context.iter().chain(&r.segs[1..]).cloned().collect()
        } else if first == "super" {
            let ups = r.segs.iter().take_while(|s| *s == "super").count();
            if ups > r.context.len() {
                return None;
            }
            r.context[..r.context.len() - ups]
                .iter()
                .chain(&r.segs[ups..])
                .cloned()
                .collect()
        } else if r.is_use {
            // Since Rust 2018 a `use` path may start at a module in scope: a child module.
            let mut child = r.context.clone();
            child.push(first.to_string());
            if !modules.contains(&child) {
                return None;
            }
            r.context.iter().chain(&r.segs).cloned().collect()
        } else {
            return None;
        };
    while abs.last().is_some_and(|s| s == "*" || s == "self") {
        abs.pop();
    }
    Some(abs)
}

/// The longest existing module that is a prefix of `abs`, and what follows it.
fn longest_module<'a>(abs: &'a [String], modules: &BTreeSet<ModPath>) -> (ModPath, &'a [String]) {
    for n in (0..=abs.len()).rev() {
        if modules.contains(&abs[..n]) {
            return (abs[..n].to_vec(), &abs[n..]);
        }
    }
    (Vec::new(), abs)
}

/// What a crate's files define and import, for resolving references.
struct Index {
    /// Every module that has a file.
    modules: BTreeSet<ModPath>,
    /// The crate root's `extern crate self as name` names (they stand for `crate`).
    self_names: Vec<String>,
    /// Per module, each name its module-level `use` items bring in: the absolute path it
    /// stands for, or `None` for another crate's item. Globs are not followed.
    imports: BTreeMap<ModPath, BTreeMap<String, Option<Vec<String>>>>,
}

impl Index {
    /// Indexes `files`, (path relative to `src`, contents); returns each file's references too.
    fn new(files: &[(String, String)]) -> (Index, Vec<(String, ModPath, Vec<RawRef>)>) {
        let modules: BTreeSet<ModPath> = files.iter().map(|(rel, _)| module_of(rel)).collect();
        let root_text = files
            .iter()
            .find(|(rel, _)| module_of(rel).is_empty())
            .map_or("", |(_, t)| t.as_str());
        let self_names = self_names(root_text);
        let refs: Vec<(String, ModPath, Vec<RawRef>)> = files
            .iter()
            .map(|(rel, text)| {
                let module = module_of(rel);
                let refs = extract(text, &module, &self_names);
                (rel.clone(), module, refs)
            })
            .collect();
        let mut imports: BTreeMap<ModPath, BTreeMap<String, Option<Vec<String>>>> = BTreeMap::new();
        for (_, module, file_refs) in &refs {
            for r in file_refs {
                if !(r.is_use && r.module_level && r.context == *module) {
                    continue;
                }
                if r.segs.last().is_some_and(|s| s == "*") {
                    continue;
                }
                let Some(name) = r.alias.clone().or_else(|| r.segs.last().cloned()) else {
                    continue;
                };
                let target = absolute(r, &modules, &self_names);
                imports
                    .entry(module.clone())
                    .or_default()
                    .insert(name, target);
            }
        }
        let index = Index {
            modules,
            self_names,
            imports,
        };
        (index, refs)
    }

    /// The module a reference depends on, or `None` when it names another crate or an item
    /// defined at the crate root itself (the facade, not checked).
    fn resolve(&self, r: &RawRef) -> Option<ModPath> {
        let abs = absolute(r, &self.modules, &self.self_names)?;
        self.follow(&abs, 0)
    }

    /// The longest module of `abs`; when what follows is a name that module imports with `use`
    /// (`pub use select::Select` in `stmt/mod.rs`), the module that name comes from instead.
    fn follow(&self, abs: &[String], hops: usize) -> Option<ModPath> {
        let (module, rest) = longest_module(abs, &self.modules);
        if let Some(name) = rest.first() {
            if let Some(target) = self.imports.get(&module).and_then(|m| m.get(name)) {
                let target = target.as_ref()?; // another crate's item
                if hops < 16 {
                    let next: Vec<String> = target.iter().chain(&rest[1..]).cloned().collect();
                    return self.follow(&next, hops + 1);
                }
            }
        }
        if module.is_empty() {
            None
        } else {
            Some(module)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The two rules
// ---------------------------------------------------------------------------------------------

/// A resolved reference from one file's module to another module of the crate.
#[derive(Debug, Clone)]
struct Edge {
    file: String,
    line: usize,
    text: String,
    from: ModPath,
    to: ModPath,
}

/// The layer (index into `layers`) covering `module`: the longest matching prefix wins.
fn layer_of(module: &[String], layers: Layers) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None; // (prefix length, layer)
    for (index, (_, prefixes)) in layers.iter().enumerate() {
        for prefix in *prefixes {
            let len = if *prefix == "*" {
                0
            } else {
                let p: Vec<&str> = prefix.split("::").collect();
                if p.len() > module.len() || p.iter().zip(module).any(|(a, b)| a != b) {
                    continue;
                }
                p.len()
            };
            if best.is_none_or(|(l, _)| len > l) {
                best = Some((len, index));
            }
        }
    }
    best.map(|(_, index)| index)
}

fn is_descendant(child: &[String], parent: &[String]) -> bool {
    child.len() > parent.len() && child.starts_with(parent)
}

/// Every resolved reference of a crate, deduplicated per (file, line, target module), sorted.
fn edges(display: &str, files: &[(String, String)]) -> Vec<Edge> {
    let (index, refs) = Index::new(files);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (rel, from, file_refs) in refs {
        for r in file_refs {
            let Some(to) = index.resolve(&r) else {
                continue;
            };
            if seen.insert((rel.clone(), r.line, to.clone())) {
                out.push(Edge {
                    file: format!("{display}{rel}"),
                    line: r.line,
                    text: r.text(),
                    from: from.clone(),
                    to,
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.file, a.line, &a.to).cmp(&(&b.file, b.line, &b.to)));
    out
}

/// The names of `extern crate self as name;` in the crate root.
fn self_names(root: &str) -> Vec<String> {
    let toks = tokenize(&strip(root));
    let mut names = Vec::new();
    for w in toks.windows(5) {
        let words: Vec<Option<&str>> = w
            .iter()
            .map(|(t, _)| {
                if let Tok::Ident(s) = t {
                    Some(s.as_str())
                } else {
                    None
                }
            })
            .collect();
        if words[..4] == [Some("extern"), Some("crate"), Some("self"), Some("as")] {
            if let Some(name) = words[4] {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// Both rules for one crate. `display` prefixes file names in messages (`orm-core/src/`);
/// `files` are (path relative to `src`, contents).
fn check_crate(
    display: &str,
    files: &[(String, String)],
    layers: Layers,
    cycles_allowed_within: &[&str],
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut layer_by_module = BTreeMap::new();
    for (rel, _) in files {
        let module = module_of(rel);
        if module.is_empty() {
            continue; // the crate root is the facade
        }
        match layer_of(&module, layers) {
            Some(l) => {
                layer_by_module.insert(module, l);
            }
            None => problems.push(format!(
                "{display}{rel} is in no layer; add module `{}` to the table (LAYERS in tests/tests/layers.rs)",
                show(&module)
            )),
        }
    }
    let edges = edges(display, files);

    // Rule 1: references point to the same or a lower layer.
    for e in &edges {
        if e.from.is_empty() || e.from == e.to || is_descendant(&e.to, &e.from) {
            continue;
        }
        let (Some(&from), Some(&to)) = (layer_by_module.get(&e.from), layer_by_module.get(&e.to))
        else {
            continue;
        };
        if to > from {
            problems.push(format!(
                "{}:{} references {} ({} -> {}): layer \"{}\" must not reference layer \"{}\"",
                e.file,
                e.line,
                e.text,
                show(&e.from),
                show(&e.to),
                layers[from].0,
                layers[to].0
            ));
        }
    }

    // Rule 2: no cycle.
    let modules: BTreeSet<ModPath> = files.iter().map(|(rel, _)| module_of(rel)).collect();
    problems.extend(cycles(display, &edges, &modules, cycles_allowed_within));
    problems
}

/// Rule 2, over the references in `edges`. Cycles are looked for among siblings: for each
/// module `p`, among the children of `p`, each counted with its submodules (a reference from
/// `p::a::x` to `p::b::y` is an edge `p::a -> p::b`). So two sibling trees that reference each
/// other are a cycle even when no single file is reached back, and a cycle spread over several
/// folders is reported where it starts, at the level of the folders. A module's references to
/// its own descendants are structure, not edges. Cycles among the children of a module in
/// `allowed` are not reported.
fn cycles(
    display: &str,
    edges: &[Edge],
    modules: &BTreeSet<ModPath>,
    allowed: &[&str],
) -> Vec<String> {
    let parents: BTreeSet<ModPath> = modules
        .iter()
        .flat_map(|m| (0..m.len()).map(|n| m[..n].to_vec()))
        .collect();
    let mut problems = Vec::new();
    for parent in &parents {
        let exempt = allowed.iter().any(|a| {
            let a: Vec<&str> = a.split("::").collect();
            parent.len() >= a.len() && parent.iter().zip(&a).all(|(x, y)| x == y)
        });
        if exempt {
            continue;
        }
        // The child of `parent` that `m` lies in, if `m` is strictly inside `parent`.
        let child = |m: &ModPath| -> Option<ModPath> {
            is_descendant(m, parent).then(|| m[..parent.len() + 1].to_vec())
        };
        let lifted: Vec<(ModPath, ModPath, &Edge)> = edges
            .iter()
            .filter_map(|e| Some((child(&e.from)?, child(&e.to)?, e)))
            .filter(|(from, to, _)| from != to)
            .collect();
        let mut graph: BTreeMap<&ModPath, BTreeSet<&ModPath>> = BTreeMap::new();
        for (from, to, _) in &lifted {
            graph.entry(from).or_default().insert(to);
            graph.entry(to).or_default();
        }
        for component in strongly_connected(&graph) {
            if component.len() < 2 {
                continue;
            }
            let names: Vec<String> = component.iter().map(|m| show(m)).collect();
            let trees = component
                .iter()
                .any(|c| modules.iter().any(|m| is_descendant(m, c)));
            let mut msg = format!(
                "cycle among {} modules of {display}{}: {}",
                names.len(),
                if trees {
                    " (each with its submodules)"
                } else {
                    ""
                },
                names.join(", ")
            );
            let mut listed = BTreeSet::new();
            for (from, to, e) in &lifted {
                if component.contains(from) && component.contains(to) && listed.insert((from, to)) {
                    msg.push_str(&format!(
                        "\n    {} -> {}: {}:{} {}",
                        show(from),
                        show(to),
                        e.file,
                        e.line,
                        e.text
                    ));
                }
            }
            problems.push(msg);
        }
    }
    problems
}

/// Tarjan's strongly connected components, each sorted, in a stable order.
fn strongly_connected(graph: &BTreeMap<&ModPath, BTreeSet<&ModPath>>) -> Vec<BTreeSet<ModPath>> {
    struct State<'g> {
        graph: &'g BTreeMap<&'g ModPath, BTreeSet<&'g ModPath>>,
        index: BTreeMap<&'g ModPath, usize>,
        low: BTreeMap<&'g ModPath, usize>,
        stack: Vec<&'g ModPath>,
        on_stack: BTreeSet<&'g ModPath>,
        out: Vec<BTreeSet<ModPath>>,
    }
    fn visit<'g>(st: &mut State<'g>, v: &'g ModPath) {
        let n = st.index.len();
        st.index.insert(v, n);
        st.low.insert(v, n);
        st.stack.push(v);
        st.on_stack.insert(v);
        for &w in &st.graph[v] {
            if !st.index.contains_key(w) {
                visit(st, w);
                let lw = st.low[w];
                let lv = st.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if st.on_stack.contains(w) {
                let iw = st.index[w];
                let lv = st.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if st.low[v] == st.index[v] {
            let mut component = BTreeSet::new();
            while let Some(w) = st.stack.pop() {
                st.on_stack.remove(w);
                component.insert(w.clone());
                if w == v {
                    break;
                }
            }
            st.out.push(component);
        }
    }
    let mut st = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for &v in graph.keys() {
        if !st.index.contains_key(v) {
            visit(&mut st, v);
        }
    }
    st.out.sort();
    st.out
}

// ---------------------------------------------------------------------------------------------
// The checker's own tests, on synthetic crates
// ---------------------------------------------------------------------------------------------

mod checker {
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
                "fake/src/c/mod.rs is in no layer; add module `c` to the table (LAYERS in tests/tests/layers.rs)"
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
        let src =
            "pub(crate) use crate::{\n    a::{X, Y as Z},\n    b::{self, c::W},\n    d::*,\n};\n";
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
}
