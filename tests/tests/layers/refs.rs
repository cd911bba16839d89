//! Extracting the paths each file names and resolving them to modules of its crate.

use super::*;

/// A path one file names, before resolution.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawRef {
    /// 1-based line of the path's last segment.
    pub(crate) line: usize,
    /// The path's segments as written (a grouped `use` is flattened to one path per leaf).
    pub(crate) segs: Vec<String>,
    /// For a `use` leaf, its `as` name.
    pub(crate) alias: Option<String>,
    /// Whether it comes from a `use` item (where a path may start at a child module).
    pub(crate) is_use: bool,
    /// Whether it is a `use` item of the module itself (not inside a function or block), so
    /// other modules can name what it imports through this module.
    pub(crate) module_level: bool,
    /// The module the path is written in: the file's module plus any inline `mod x { … }`.
    pub(crate) context: ModPath,
}

impl RawRef {
    pub(crate) fn text(&self) -> String {
        self.segs.join("::")
    }
}

pub(crate) fn ident(toks: &[(Tok, usize)], i: usize) -> Option<&str> {
    match toks.get(i) {
        Some((Tok::Ident(s), _)) => Some(s),
        _ => None,
    }
}

pub(crate) fn is(toks: &[(Tok, usize)], i: usize, tok: &Tok) -> bool {
    toks.get(i).is_some_and(|(t, _)| t == tok)
}

/// Every path in `src` (a file of module `module`) that starts with `crate`, `$crate`, `super`,
/// `self` or one of `self_names` (the crate's `extern crate self as name`), and every leaf of
/// every `use` item (whatever it starts with; resolution drops external crates).
pub(crate) fn extract(src: &str, module: &[String], self_names: &[String]) -> Vec<RawRef> {
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
pub(crate) fn parse_use_tree(
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
pub(crate) fn absolute(
    r: &RawRef,
    modules: &BTreeSet<ModPath>,
    self_names: &[String],
) -> Option<Vec<String>> {
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
pub(crate) fn longest_module<'a>(
    abs: &'a [String],
    modules: &BTreeSet<ModPath>,
) -> (ModPath, &'a [String]) {
    for n in (0..=abs.len()).rev() {
        if modules.contains(&abs[..n]) {
            return (abs[..n].to_vec(), &abs[n..]);
        }
    }
    (Vec::new(), abs)
}

/// What a crate's files define and import, for resolving references.
pub(crate) struct Index {
    /// Every module that has a file.
    pub(crate) modules: BTreeSet<ModPath>,
    /// The crate root's `extern crate self as name` names (they stand for `crate`).
    pub(crate) self_names: Vec<String>,
    /// Per module, each name its module-level `use` items bring in: the absolute path it
    /// stands for, or `None` for another crate's item. Globs are not followed.
    pub(crate) imports: BTreeMap<ModPath, BTreeMap<String, Option<Vec<String>>>>,
}

impl Index {
    /// Indexes `files`, (path relative to `src`, contents); returns each file's references too.
    pub(crate) fn new(files: &[(String, String)]) -> (Index, Vec<(String, ModPath, Vec<RawRef>)>) {
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
    pub(crate) fn resolve(&self, r: &RawRef) -> Option<ModPath> {
        let abs = absolute(r, &self.modules, &self.self_names)?;
        self.follow(&abs, 0)
    }

    /// The longest module of `abs`; when what follows is a name that module imports with `use`
    /// (`pub use select::Select` in `stmt/mod.rs`), the module that name comes from instead.
    pub(crate) fn follow(&self, abs: &[String], hops: usize) -> Option<ModPath> {
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
