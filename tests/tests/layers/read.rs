//! Reading the crates' files and blanking out comments and literals before tokenizing.

use super::*;

/// Every `.rs` file under `src`, as (path relative to `src` with `/` separators, contents),
/// sorted by path.
pub(crate) fn read_sources(src: &Path) -> Vec<(String, String)> {
    pub(crate) fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, String)>) {
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
pub(crate) type ModPath = Vec<String>;

pub(crate) fn show(module: &[String]) -> String {
    if module.is_empty() {
        "crate root".to_string()
    } else {
        module.join("::")
    }
}

/// The module a file under `src` defines: `lib.rs` is the root, `a/mod.rs` and `a.rs` are `a`,
/// `a/b.rs` is `a::b`.
pub(crate) fn module_of(rel: &str) -> ModPath {
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

pub(crate) fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `src` with every comment (line, block, doc) and every string, byte-string, raw-string and
/// char literal replaced by spaces; newlines are kept so line numbers stay right.
pub(crate) fn strip(src: &str) -> String {
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
pub(crate) fn string_end(s: &[char], from: usize) -> usize {
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
pub(crate) enum Tok {
    /// An identifier or keyword (`$crate` included, `r#` dropped from raw identifiers).
    Ident(String),
    /// `::`
    PathSep,
    /// Any other single character.
    Punct(char),
}

/// Tokens of stripped source, each with its 1-based line.
pub(crate) fn tokenize(clean: &str) -> Vec<(Tok, usize)> {
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
