//! The two rules: references point down the layers, and no modules import each other in a cycle.

use super::*;

/// A resolved reference from one file's module to another module of the crate.
#[derive(Debug, Clone)]
pub(crate) struct Edge {
    pub(crate) file: String,
    pub(crate) line: usize,
    pub(crate) text: String,
    pub(crate) from: ModPath,
    pub(crate) to: ModPath,
}

/// The layer (index into `layers`) covering `module`: the longest matching prefix wins.
pub(crate) fn layer_of(module: &[String], layers: Layers) -> Option<usize> {
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

pub(crate) fn is_descendant(child: &[String], parent: &[String]) -> bool {
    child.len() > parent.len() && child.starts_with(parent)
}

/// Every resolved reference of a crate, deduplicated per (file, line, target module), sorted.
pub(crate) fn edges(display: &str, files: &[(String, String)]) -> Vec<Edge> {
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
pub(crate) fn self_names(root: &str) -> Vec<String> {
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
pub(crate) fn check_crate(
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
                "{display}{rel} is in no layer; add module `{}` to the table (LAYERS in tests/tests/layers/main.rs)",
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
pub(crate) fn cycles(
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
pub(crate) fn strongly_connected(
    graph: &BTreeMap<&ModPath, BTreeSet<&ModPath>>,
) -> Vec<BTreeSet<ModPath>> {
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
