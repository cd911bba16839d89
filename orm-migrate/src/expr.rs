//! Comparing SQL expressions the way the diff needs: a model writes `price >= 0`, the server
//! prints `CHECK ((price >= (0)::numeric))`; both mean the same thing.
//!
//! [`normalize_expr`] scans the text (string literals, quoted identifiers and dollar quotes
//! kept intact), then drops what the server adds when it prints an expression back: grouping
//! parentheses, `::type` casts, a leading `CHECK`, letter case outside quotes, whitespace, and
//! the quotes around a numeric literal (`'-1'::integer`). Before that it reads what the server
//! stores in another form as that form: `IN (..)` as `= ANY (ARRAY[..])`, `BETWEEN` as two
//! comparisons, `!=` as `<>`, `LIKE` as `~~`, `CAST(x AS t)` as `x::t`, and a function without
//! the schema the server prints before it. Two expressions that differ only in those normalise
//! to the same text. It is deliberately forgiving: a change of only
//! parentheses or casts in a model is not seen as a change (make such a change by hand).

/// One token of an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A keyword or unquoted identifier, lowercased.
    Word(String),
    /// A quoted identifier, kept as written.
    Quoted(String),
    /// A string literal (with its quotes), or a dollar-quoted string.
    Literal(String),
    /// A number.
    Number(String),
    /// `::`
    Cast,
    /// `(`
    Open,
    /// `)`
    Close,
    /// Any other punctuation or operator, runs of operator characters kept together.
    Punct(String),
}

fn tokens(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || ((c == 'E' || c == 'e') && chars.get(i + 1) == Some(&'\'')) {
            let start = i;
            if c != '\'' {
                i += 1;
            }
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                if chars[i] == '\\' && c != '\'' {
                    i += 1;
                }
                i += 1;
            }
            out.push(Token::Literal(
                chars[start..i.min(chars.len())].iter().collect(),
            ));
        } else if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() {
                if chars[i] == '"' {
                    if chars.get(i + 1) == Some(&'"') {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
            out.push(Token::Quoted(
                chars[start..i.min(chars.len())].iter().collect(),
            ));
        } else if c == '$' && dollar_tag(&chars, i).is_some() {
            let tag = dollar_tag(&chars, i).unwrap_or_default();
            let start = i;
            i += tag.len();
            loop {
                if i >= chars.len() {
                    break;
                }
                if chars[i..].starts_with(&tag) {
                    i += tag.len();
                    break;
                }
                i += 1;
            }
            out.push(Token::Literal(
                chars[start..i.min(chars.len())].iter().collect(),
            ));
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_')
            {
                i += 1;
            }
            out.push(Token::Number(chars[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            out.push(Token::Word(word.to_lowercase()));
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push(Token::Cast);
            i += 2;
        } else if c == '(' {
            out.push(Token::Open);
            i += 1;
        } else if c == ')' {
            out.push(Token::Close);
            i += 1;
        } else if "+-*/<>=~!@#%^&|`?".contains(c) {
            let start = i;
            while i < chars.len() && "+-*/<>=~!@#%^&|`?".contains(chars[i]) {
                i += 1;
            }
            out.push(Token::Punct(chars[start..i].iter().collect()));
        } else {
            out.push(Token::Punct(c.to_string()));
            i += 1;
        }
    }
    out
}

/// `$tag$` starting at `i`, if there is one.
fn dollar_tag(chars: &[char], i: usize) -> Option<Vec<char>> {
    let mut j = i + 1;
    while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
        j += 1;
    }
    (chars.get(j) == Some(&'$')).then(|| chars[i..=j].to_vec())
}

/// Type words that continue a type name after `::` (`character varying`,
/// `timestamp with time zone`, `double precision`).
const TYPE_WORDS: &[&str] = &["varying", "precision", "with", "without", "time", "zone"];

/// Skips the type name of a cast starting at `i` (just after `::`); returns the index after it.
fn skip_type(t: &[Token], mut i: usize) -> usize {
    // schema-qualified or quoted name
    let name = |tok: Option<&Token>| matches!(tok, Some(Token::Word(_) | Token::Quoted(_)));
    if !name(t.get(i)) {
        return i;
    }
    i += 1;
    while matches!(t.get(i), Some(Token::Punct(p)) if p == ".") && name(t.get(i + 1)) {
        i += 2;
    }
    while matches!(t.get(i), Some(Token::Word(w)) if TYPE_WORDS.contains(&w.as_str())) {
        i += 1;
    }
    // (n) or (p, s)
    if t.get(i) == Some(&Token::Open) {
        let mut j = i + 1;
        while matches!(t.get(j), Some(Token::Number(_)) | Some(Token::Punct(_))) {
            if matches!(t.get(j), Some(Token::Punct(p)) if p != ",") {
                break;
            }
            j += 1;
        }
        if t.get(j) == Some(&Token::Close) {
            i = j + 1;
        }
    }
    // array suffixes
    while matches!(t.get(i), Some(Token::Punct(p)) if p == "[")
        && matches!(t.get(i + 1), Some(Token::Punct(p)) if p == "]")
    {
        i += 2;
    }
    i
}

/// Keywords after which a parenthesis only groups (unlike a function name, `IN` or `ANY`).
const GROUPING_WORDS: &[&str] = &[
    "and", "or", "not", "when", "then", "else", "case", "is", "between", "like", "ilike",
];

/// The normal form of an SQL expression, for comparing a model's text with the server's.
///
/// ```
/// use orm_migrate::expr::normalize_expr;
///
/// assert_eq!(normalize_expr("price >= 0"), normalize_expr("CHECK ((price >= (0)::numeric))"));
/// assert_eq!(normalize_expr("'anon'"), normalize_expr("'anon'::text"));
/// assert_eq!(normalize_expr("-1"), normalize_expr("'-1'::integer"));
/// assert_eq!(normalize_expr("now()"), normalize_expr("NOW()"));
/// assert_ne!(normalize_expr("'A'"), normalize_expr("'a'"));
/// assert_eq!(normalize_expr("flag OR id > 0"), normalize_expr("CHECK ((flag OR (id > 0)))"));
/// assert_ne!(normalize_expr("id IN (1, 2)"), normalize_expr("id IN 1, 2"));
/// ```
pub fn normalize_expr(sql: &str) -> String {
    let t = rewrite(tokens(sql));
    let mut kept: Vec<Token> = Vec::with_capacity(t.len());
    let mut i = 0;
    if matches!(t.first(), Some(Token::Word(w)) if w == "check") {
        i = 1;
    }
    // Which open parentheses are kept (function calls, `IN (...)`, `ANY (...)`): those after a
    // word; the rest only group and are dropped with their closing partner.
    let mut stack: Vec<bool> = Vec::new();
    while i < t.len() {
        match &t[i] {
            Token::Cast => {
                i = skip_type(&t, i + 1);
                continue;
            }
            Token::Open => {
                let keep = match kept.last() {
                    Some(Token::Word(w)) => !GROUPING_WORDS.contains(&w.as_str()),
                    Some(Token::Quoted(_)) => true,
                    _ => false,
                };
                stack.push(keep);
                if keep {
                    kept.push(Token::Open);
                }
            }
            Token::Close => {
                if stack.pop().unwrap_or(true) {
                    kept.push(Token::Close);
                }
            }
            Token::Literal(l) => {
                let inner = l.strip_prefix('\'').and_then(|l| l.strip_suffix('\''));
                match inner {
                    Some(n) if is_number(n) => kept.push(Token::Number(n.to_owned())),
                    _ => kept.push(t[i].clone()),
                }
            }
            other => kept.push(other.clone()),
        }
        i += 1;
    }
    // Join, merging a unary minus into the number it signs (`- 1` and `-1` alike).
    let mut out = String::new();
    for tok in kept {
        if !out.is_empty() {
            out.push(' ');
        }
        match tok {
            Token::Word(s)
            | Token::Quoted(s)
            | Token::Literal(s)
            | Token::Number(s)
            | Token::Punct(s) => out.push_str(&s),
            Token::Cast => out.push_str("::"),
            Token::Open => out.push('('),
            Token::Close => out.push(')'),
        }
    }
    out.replace("- ", "-").replace("( ", "(").replace(" )", ")")
}

/// Rewrites what the server stores in another form than it is written into that form:
/// `!=` is `<>`; `LIKE`/`ILIKE` (and `NOT`) are `~~`, `~~*`, `!~~`, `!~~*`; `x IN (a, b)` is
/// `x = ANY (ARRAY[a, b])` (`x = a` for one value; `NOT IN`, `<> ALL`); `x BETWEEN a AND b`
/// is `x >= a AND x <= b` (`NOT BETWEEN`, `x < a OR x > b`; for plain operands);
/// `CAST(x AS t)` is `x::t`; and a function's schema is dropped (the server prints functions
/// outside `pg_catalog` qualified, which a model seldom writes).
fn rewrite(t: Vec<Token>) -> Vec<Token> {
    let word = |tok: Option<&Token>, w: &str| matches!(tok, Some(Token::Word(x)) if x == w);
    let punct = |p: &str| Token::Punct(p.to_owned());
    let mut out: Vec<Token> = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        let negated = word(out.last(), "not");
        match &t[i] {
            Token::Punct(p) if p == "!=" => out.push(punct("<>")),
            Token::Word(w) if w == "like" || w == "ilike" => {
                if negated {
                    out.pop();
                }
                let op = match (negated, w.as_str()) {
                    (false, "like") => "~~",
                    (false, _) => "~~*",
                    (true, "like") => "!~~",
                    (true, _) => "!~~*",
                };
                out.push(punct(op));
            }
            Token::Word(w) if w == "in" && t.get(i + 1) == Some(&Token::Open) => {
                let Some(close) = matching(&t, i + 1) else {
                    out.push(t[i].clone());
                    i += 1;
                    continue;
                };
                let inner = &t[i + 2..close];
                if word(inner.first(), "select") {
                    out.push(t[i].clone());
                    i += 1;
                    continue;
                }
                if negated {
                    out.pop();
                }
                let items = split_commas(inner);
                out.push(punct(if negated { "<>" } else { "=" }));
                if items.len() == 1 {
                    out.extend(items[0].iter().cloned());
                } else {
                    out.push(Token::Word(if negated { "all" } else { "any" }.into()));
                    out.push(Token::Open);
                    out.push(Token::Word("array".into()));
                    out.push(punct("["));
                    out.extend(inner.iter().cloned());
                    out.push(punct("]"));
                    out.push(Token::Close);
                }
                i = close + 1;
                continue;
            }
            Token::Word(w) if w == "between" => {
                let operand = |j: usize| -> Option<(Vec<Token>, usize)> {
                    match (t.get(j), t.get(j + 1)) {
                        (Some(Token::Punct(m)), Some(n @ Token::Number(_))) if m == "-" => {
                            Some((vec![t[j].clone(), n.clone()], j + 2))
                        }
                        (
                            Some(
                                x @ (Token::Word(_)
                                | Token::Quoted(_)
                                | Token::Number(_)
                                | Token::Literal(_)),
                            ),
                            _,
                        ) => Some((vec![x.clone()], j + 1)),
                        _ => None,
                    }
                };
                let subject = out.len() - usize::from(negated);
                // A plain column: not the type name of a cast (`x::int BETWEEN …`).
                let after_cast = {
                    let mut k = subject.saturating_sub(1);
                    while k > 0 && matches!(out[k - 1], Token::Word(_)) {
                        k -= 1;
                    }
                    k > 0 && out[k - 1] == Token::Cast
                };
                let plain = match out.get(subject.wrapping_sub(1)) {
                    Some(x @ (Token::Word(_) | Token::Quoted(_))) if subject > 0 && !after_cast => {
                        Some(x.clone())
                    }
                    _ => None,
                };
                let range = operand(i + 1).and_then(|(low, j)| {
                    word(t.get(j), "and")
                        .then(|| operand(j + 1))
                        .flatten()
                        .map(|(high, k)| (low, high, k))
                });
                match (plain, range) {
                    (Some(x), Some((low, high, next))) => {
                        out.truncate(subject - 1);
                        let (lo, join, hi) = if negated {
                            ("<", "or", ">")
                        } else {
                            (">=", "and", "<=")
                        };
                        out.push(x.clone());
                        out.push(punct(lo));
                        out.extend(low);
                        out.push(Token::Word(join.into()));
                        out.push(x);
                        out.push(punct(hi));
                        out.extend(high);
                        i = next;
                        continue;
                    }
                    _ => out.push(t[i].clone()),
                }
            }
            Token::Word(w) if w == "cast" && t.get(i + 1) == Some(&Token::Open) => {
                let close = matching(&t, i + 1);
                let as_at = close.and_then(|c| {
                    let mut depth = 0usize;
                    (i + 2..c).find(|&j| {
                        match &t[j] {
                            Token::Open => depth += 1,
                            Token::Close => depth = depth.saturating_sub(1),
                            _ => {}
                        }
                        depth == 0 && word(t.get(j), "as")
                    })
                });
                match (close, as_at) {
                    (Some(c), Some(a)) => {
                        // `(x)::type`, the way the server prints it (the cast is then dropped
                        // with every other).
                        out.push(Token::Open);
                        out.extend(t[i + 2..a].iter().cloned());
                        out.push(Token::Close);
                        out.push(Token::Cast);
                        out.extend(t[a + 1..c].iter().cloned());
                        i = c + 1;
                        continue;
                    }
                    _ => out.push(t[i].clone()),
                }
            }
            Token::Punct(dot)
                if dot == "."
                    && matches!(out.last(), Some(Token::Word(_) | Token::Quoted(_)))
                    && matches!(t.get(i + 1), Some(Token::Word(_) | Token::Quoted(_)))
                    && t.get(i + 2) == Some(&Token::Open)
                    && !matches!(out.get(out.len().wrapping_sub(2)), Some(Token::Punct(p)) if p == ".") =>
            {
                // `schema.function(`: the schema dropped.
                out.pop();
            }
            other => out.push(other.clone()),
        }
        i += 1;
    }
    out
}

/// The index of the `)` closing the `(` at `open`.
fn matching(t: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, tok) in t.iter().enumerate().skip(open) {
        match tok {
            Token::Open => depth += 1,
            Token::Close => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

/// `t` split at its top-level commas.
fn split_commas(t: &[Token]) -> Vec<&[Token]> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (j, tok) in t.iter().enumerate() {
        match tok {
            Token::Open => depth += 1,
            Token::Close => depth = depth.saturating_sub(1),
            Token::Punct(p) if p == "," && depth == 0 => {
                items.push(&t[start..j]);
                start = j + 1;
            }
            _ => {}
        }
    }
    items.push(&t[start..]);
    items
}

fn is_number(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_digit() || c == '.')
        && s.chars().any(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::normalize_expr as n;

    #[test]
    fn what_the_server_rewrites_is_read_as_written() {
        // As PostgreSQL 15 prints them back (`pg_get_constraintdef`, `pg_get_expr`).
        assert_eq!(
            n("status IN ('draft', 'published')"),
            n("CHECK ((status = ANY (ARRAY['draft'::text, 'published'::text])))")
        );
        assert_eq!(
            n("status IN ('a','b')"),
            n(
                "CHECK (((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])))"
            )
        );
        assert_eq!(n("kind IN ('a')"), n("CHECK ((kind = 'a'::text))"));
        assert_eq!(n("n NOT IN (1, 2)"), n("CHECK ((n <> ALL (ARRAY[1, 2])))"));
        assert_eq!(
            n("score BETWEEN 0 AND 10"),
            n("CHECK (((score >= 0) AND (score <= 10)))")
        );
        assert_eq!(
            n("a > 0 AND score NOT BETWEEN -1 AND 1"),
            n("CHECK (((a > 0) AND ((score < '-1'::integer) OR (score > 1))))")
        );
        assert_eq!(n("a != b"), n("CHECK ((a <> b))"));
        assert_eq!(n("name LIKE 'a%'"), n("CHECK ((name ~~ 'a%'::text))"));
        assert_eq!(
            n("name NOT ILIKE 'a%'"),
            n("CHECK ((name !~~* 'a%'::text))")
        );
        assert_eq!(n("CAST(x AS integer) > 0"), n("CHECK (((x)::integer > 0))"));
        assert_eq!(n("next_code()"), n("public.next_code()"));
        assert_eq!(n("\"Ext\".f(1)"), n("f(1)"));
        // What stays different.
        assert_ne!(n("status IN ('a', 'b')"), n("status IN ('a', 'c')"));
        assert_ne!(n("x BETWEEN 0 AND 10"), n("x BETWEEN 0 AND 11"));
        assert_ne!(n("a LIKE b"), n("a ILIKE b"));
        assert_ne!(n("t.col > 0"), n("col > 0"));
        // A cast's type is no column to compare.
        assert_eq!(n("x::int BETWEEN 1 AND 2"), "x between 1 and 2");
        assert_ne!(n("x::int BETWEEN 1 AND 2"), n("x >= 1 AND int <= 2"));
    }

    #[test]
    fn what_the_server_adds_is_forgiven() {
        assert_eq!(n("age >= 0"), n("CHECK ((age >= 0))"));
        assert_eq!(n("starts_at < ends_at"), n("CHECK ((starts_at < ends_at))"));
        assert_eq!(n("'x'"), n("'x'::character varying"));
        assert_eq!(
            n("'2020-01-01'"),
            n("'2020-01-01'::timestamp without time zone")
        );
        assert_eq!(n("'{}'"), n("'{}'::text[]"));
        assert_eq!(n("'draft'"), n("'draft'::public.\"Status\""));
        assert_eq!(
            n("x = ANY (ARRAY['a', 'b'])"),
            n("(x = ANY (ARRAY['a'::text, 'b'::text]))")
        );
        assert_eq!(n("nextval('s'::regclass)"), n("nextval('s'::regclass)"));
        assert_eq!(n("0.5"), n("'0.5'::numeric"));
        assert_eq!(n("(a + b) * c"), n("((a + b) * c)"));
    }

    #[test]
    fn real_differences_stay() {
        assert_ne!(n("age >= 0"), n("age > 0"));
        assert_ne!(n("'a'"), n("'b'"));
        assert_ne!(n("\"A\""), n("\"a\""));
        assert_ne!(n("now()"), n("CURRENT_TIMESTAMP"));
        assert_eq!(n("'it''s'"), "'it''s'");
        assert_eq!(n("$$a b$$"), "$$a b$$");
    }
}
