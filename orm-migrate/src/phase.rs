//! The header keys of [expand and contract](crate::expand) revisions (`expand`, `using`,
//! `reverse`, `contract`, `backfill`): their values, how they parse and how they are written
//! back. [`Revision::parse`](crate::Revision::parse) reads them with the other keys. No IO.

use std::fmt;
use std::time::Duration;

use crate::render::{ident, qualified};
use crate::schema::QualifiedName;

/// The longest pause a `backfill:` header may ask for between batches: a longer one is a
/// typo, and a run that sleeps it would seem to hang.
pub(crate) const MAX_PAUSE: Duration = Duration::from_secs(3600);

/// The header keys of this module, in the order [`PhaseKeys::render`] writes them (after the
/// revision's own keys).
pub const KEYS: [&str; 5] = ["expand", "using", "reverse", "contract", "backfill"];

/// A column named with its table: `schema.table.column` (`table.column` is in `public`).
/// Identifiers are written as in SQL: bare ones fold to lowercase, `"Quoted"` ones keep their
/// case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ColumnPath {
    /// The table.
    pub table: QualifiedName,
    /// The column.
    pub column: String,
}

impl ColumnPath {
    /// `schema.table.column`.
    pub fn new(table: QualifiedName, column: impl Into<String>) -> ColumnPath {
        ColumnPath {
            table,
            column: column.into(),
        }
    }

    /// Parses `schema.table.column` or `table.column`; the whole of `text` must be used.
    pub fn parse(text: &str) -> Result<ColumnPath, String> {
        let (path, rest) = parse_path(text)?;
        if !rest.trim().is_empty() {
            return Err(format!("unexpected `{}` after {text:?}", rest.trim()));
        }
        ColumnPath::from_parts(path, text)
    }

    fn from_parts(mut parts: Vec<String>, text: &str) -> Result<ColumnPath, String> {
        let column = parts.pop();
        let table = parts.pop();
        let schema = parts.pop().unwrap_or_else(|| "public".to_owned());
        match (parts.is_empty(), table, column) {
            (true, Some(table), Some(column)) => Ok(ColumnPath {
                table: QualifiedName::new(schema, table),
                column,
            }),
            _ => Err(format!(
                "{text:?} is not a column: write schema.table.column (or table.column)"
            )),
        }
    }
}

impl fmt::Display for ColumnPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", qualified(&self.table), ident(&self.column))
    }
}

/// Parses dotted identifiers at the start of `text` (after spaces): their names and the text
/// after them.
pub(crate) fn parse_path(text: &str) -> Result<(Vec<String>, &str), String> {
    let mut rest = text.trim_start();
    let mut parts = Vec::new();
    loop {
        let (name, after) = parse_ident(rest)?;
        parts.push(name);
        rest = after;
        match rest.strip_prefix('.') {
            Some(after) => rest = after,
            None => return Ok((parts, rest)),
        }
    }
}

/// One identifier at the start of `text`: `"quoted"` (with `""` for a quote) or bare (letters,
/// digits, `_` and `$`, folded to lowercase).
pub(crate) fn parse_ident(text: &str) -> Result<(String, &str), String> {
    if let Some(body) = text.strip_prefix('"') {
        let mut name = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            if c == '"' {
                if body[i + 1..].starts_with('"') {
                    name.push('"');
                    chars.next();
                    continue;
                }
                if name.is_empty() {
                    return Err("an empty quoted identifier".to_owned());
                }
                return Ok((name, &body[i + 1..]));
            }
            name.push(c);
        }
        return Err(format!("an unterminated quoted identifier in {text:?}"));
    }
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .unwrap_or(text.len());
    let name = &text[..end];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit() || c == '$') {
        return Err(format!("expected an identifier at {text:?}"));
    }
    Ok((name.to_lowercase(), &text[end..]))
}

/// `expand:` — the column an expand revision moves, and the new column's name:
/// `public.users.name -> full_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMove {
    /// The old column.
    pub from: ColumnPath,
    /// The new column's name (in the same table).
    pub to: String,
}

impl ColumnMove {
    /// Parses `schema.table.old -> new`.
    pub fn parse(value: &str) -> Result<ColumnMove, String> {
        let bad = || {
            format!(
                "`expand: {value}`: the value is `schema.table.old_column -> new_column` \
                 (identifiers as in SQL)"
            )
        };
        let (path, rest) = parse_path(value).map_err(|_| bad())?;
        let from = ColumnPath::from_parts(path, value).map_err(|_| bad())?;
        let rest = rest.trim_start().strip_prefix("->").ok_or_else(bad)?;
        let (to, rest) = parse_ident(rest.trim_start()).map_err(|_| bad())?;
        if !rest.trim().is_empty() {
            return Err(bad());
        }
        if to == from.column {
            return Err(format!(
                "`expand: {value}`: the new column needs a name of its own"
            ));
        }
        Ok(ColumnMove { from, to })
    }

    /// The new column.
    pub fn new_column(&self) -> ColumnPath {
        ColumnPath::new(self.from.table.clone(), self.to.clone())
    }
}

impl fmt::Display for ColumnMove {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.from, ident(&self.to))
    }
}

/// `backfill:` — how a revision's backfills run: `batch 1000, pause 100ms` (either part may be
/// left out). The migrator's settings win
/// ([`Migrator::backfill_batch`](crate::Migrator::backfill_batch)); what neither gives is the
/// default ([`DEFAULT_BATCH`](crate::backfill::DEFAULT_BATCH) rows,
/// [`DEFAULT_PAUSE`](crate::backfill::DEFAULT_PAUSE)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackfillOptions {
    /// Rows per batch (each batch is one transaction).
    pub batch: Option<u64>,
    /// The pause between batches.
    pub pause: Option<Duration>,
}

impl BackfillOptions {
    /// Whether neither is set.
    pub fn is_empty(&self) -> bool {
        self.batch.is_none() && self.pause.is_none()
    }

    /// Parses `batch N, pause D` (D as `250ms`, `1s`, `0`; at most an hour).
    pub fn parse(value: &str) -> Result<BackfillOptions, String> {
        let bad = |why: &str| {
            format!(
                "`backfill: {value}`: {why}; the value is `batch <rows>, pause <duration>` \
                 (e.g. `batch 1000, pause 100ms`; either may be left out)"
            )
        };
        let mut out = BackfillOptions::default();
        for part in value.split(',').map(str::trim) {
            let (word, arg) = part.split_once(char::is_whitespace).unwrap_or((part, ""));
            let arg = arg.trim();
            match word {
                "batch" if out.batch.is_none() => {
                    let n: u64 = arg
                        .parse()
                        .map_err(|_| bad(&format!("`{arg}` is not a number of rows")))?;
                    if n == 0 {
                        return Err(bad("a batch has at least one row"));
                    }
                    out.batch = Some(n);
                }
                "pause" if out.pause.is_none() => {
                    let pause = parse_duration(arg)
                        .ok_or_else(|| bad(&format!("`{arg}` is not a duration (250ms, 1s, 0)")))?;
                    if pause > MAX_PAUSE {
                        return Err(bad("a pause is at most 1h"));
                    }
                    out.pause = Some(pause);
                }
                _ => return Err(bad(&format!("`{part}` is not understood"))),
            }
        }
        Ok(out)
    }
}

impl fmt::Display for BackfillOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(n) = self.batch {
            parts.push(format!("batch {n}"));
        }
        if let Some(d) = self.pause {
            parts.push(format!("pause {}", format_duration(d)));
        }
        f.write_str(&parts.join(", "))
    }
}

/// A duration as `500ms`, `2s`, `1m` or `0`.
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let n: u64 = s[..split].parse().ok()?;
    let ms = match &s[split..] {
        "ms" => Some(n),
        "s" => n.checked_mul(1000),
        "m" | "min" => n.checked_mul(60_000),
        _ => None,
    }?;
    Some(Duration::from_millis(ms))
}

/// A duration as [`parse_duration`] reads it: whole seconds as `2s`, otherwise milliseconds.
pub(crate) fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        "0".to_owned()
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// The expand/contract keys of a revision's header. All empty for an ordinary revision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhaseKeys {
    /// `expand:` — this revision expands a column (the first phase).
    pub expand: Option<ColumnMove>,
    /// `using:` — the expression computing the new column from a row (default: the old
    /// column, unchanged).
    pub using: Option<String>,
    /// `reverse:` — the expression computing the old column from a row written by the new
    /// release (default: the new column when `using` is not given; none otherwise).
    pub reverse: Option<String>,
    /// `contract:` — this revision contracts the expand revision with this id.
    pub contract: Option<String>,
    /// `backfill:` — batch size and pause of its backfills.
    pub backfill: BackfillOptions,
}

impl PhaseKeys {
    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        *self == PhaseKeys::default()
    }

    /// Sets `key` (one of [`KEYS`]) from its header value.
    pub(crate) fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let expression = |value: &str| {
            if value.is_empty() {
                Err(format!("`{key}:` needs an SQL expression"))
            } else {
                Ok(Some(value.to_owned()))
            }
        };
        match key {
            "expand" => self.expand = Some(ColumnMove::parse(value)?),
            "using" => self.using = expression(value)?,
            "reverse" => self.reverse = expression(value)?,
            "contract" => {
                // A revision id: 14 digits (`revision::is_id`, which this module cannot name).
                let is_id = value.len() == 14 && value.bytes().all(|b| b.is_ascii_digit());
                if !is_id {
                    return Err(format!(
                        "`contract: {value}`: the value is the id of the expand revision it \
                         completes (14 digits)"
                    ));
                }
                self.contract = Some(value.to_owned());
            }
            "backfill" => self.backfill = BackfillOptions::parse(value)?,
            _ => return Err(format!("`{key}` is not an expand/contract key")),
        }
        Ok(())
    }

    /// Checks the keys together: `using` and `reverse` need `expand`; a revision is not both
    /// an expand and a contract.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.expand.is_none() && (self.using.is_some() || self.reverse.is_some()) {
            return Err("`using:` and `reverse:` belong to an `expand:` revision".to_owned());
        }
        if self.expand.is_some() && self.contract.is_some() {
            return Err("a revision is an `expand:` or a `contract:`, not both".to_owned());
        }
        Ok(())
    }

    /// Appends its header lines (`-- key: value\n`) to `out`.
    pub fn render(&self, out: &mut String) {
        let mut line = |key: &str, value: &dyn fmt::Display| {
            out.push_str(&format!("-- {key}: {value}\n"));
        };
        if let Some(m) = &self.expand {
            line("expand", m);
        }
        if let Some(u) = &self.using {
            line("using", u);
        }
        if let Some(r) = &self.reverse {
            line("reverse", r);
        }
        if let Some(c) = &self.contract {
            line("contract", c);
        }
        if !self.backfill.is_empty() {
            line("backfill", &self.backfill);
        }
    }
}
