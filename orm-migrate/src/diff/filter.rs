//! Which objects the diff compares, Alembic's `include_object` / `include_name`: a [`Filter`]
//! in [`DiffOptions::filter`](super::DiffOptions::filter) leaves objects out of both schemas
//! before they are compared, so the diff neither creates, alters nor drops them. No IO.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::error::MigrateError;
use crate::schema::{ObjectKind, QualifiedName, Schema};

/// The kind of object a [`Filter`] is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FilterKind {
    /// A table, with everything that is part of it (columns, keys, constraints, indexes, its
    /// comment, its triggers, the sequences its columns own). A partition is a table of its
    /// own name: ignoring `events` leaves `events_2026` compared unless a pattern names it too
    /// (`events*`).
    Table,
    /// A view or materialized view.
    View,
    /// A sequence.
    Sequence,
    /// An enum or composite type.
    Type,
    /// A domain, function, procedure, aggregate or trigger. The name asked about is the part
    /// of its key after the schema: `last_day(timestamp with time zone)`, `orders.orders_touch`.
    Object(ObjectKind),
}

/// A pattern of names: `name` (in any schema) or `schema.name`, where `*` stands for any run
/// of characters (none included) and everything else for itself, case included, as the
/// catalog stores names (unquoted). `spatial_ref_sys`, `legacy_*`, `audit.*`, `*.tmp_*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    schema: Option<String>,
    name: String,
}

impl Pattern {
    /// Reads a pattern; a malformed one (empty, an empty part, more than one `.`, a quote) is a
    /// [`MigrateError::Pattern`] saying why.
    pub fn parse(text: &str) -> Result<Pattern, MigrateError> {
        let bad = |reason: &'static str| MigrateError::Pattern {
            pattern: text.to_owned(),
            reason,
        };
        if text.trim().is_empty() {
            return Err(bad("it is empty"));
        }
        if text.contains('"') {
            return Err(bad(
                "names are written unquoted, as the catalog stores them (case included)",
            ));
        }
        let (schema, name) = match text.split_once('.') {
            None => (None, text),
            Some((_, name)) if name.contains('.') => {
                return Err(bad(
                    "it has more than one `.`: write `name` or `schema.name` (a `*` stands for a dot inside a name)",
                ));
            }
            Some((schema, name)) => (Some(schema), name),
        };
        if schema.is_some_and(str::is_empty) || name.is_empty() {
            return Err(bad("a part around the `.` is empty"));
        }
        Ok(Pattern {
            schema: schema.map(str::to_owned),
            name: name.to_owned(),
        })
    }

    /// Whether it matches `name`.
    pub fn matches(&self, name: &QualifiedName) -> bool {
        self.schema
            .as_deref()
            .is_none_or(|s| glob_match(s, &name.schema))
            && glob_match(&self.name, &name.name)
    }
}

impl std::str::FromStr for Pattern {
    type Err = MigrateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Pattern::parse(s)
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{s}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Whether `text` matches `pattern`, where `*` is any run of characters.
fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // The classic greedy match with one backtrack point: the last `*` and where it stood.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

type Predicate = dyn Fn(FilterKind, &QualifiedName) -> bool + Send + Sync;

/// Which objects the diff compares: everything, except what its patterns ignore and what its
/// predicate turns down. What it leaves out is taken out of both schemas, so the diff neither
/// creates, alters nor drops it: the tables of another application or of an extension
/// installed by script (PostGIS's `spatial_ref_sys`), a legacy schema.
///
/// ```
/// use orm_migrate::diff::{DiffOptions, Filter, FilterKind, diff};
/// use orm_migrate::schema::{QualifiedName, Schema};
///
/// let filter = Filter::new()
///     .ignore_tables(["spatial_ref_sys", "legacy_*"])?
///     .include_if(|kind, name| !(kind == FilterKind::View && name.schema == "reports"));
/// assert!(!filter.includes(FilterKind::Table, &QualifiedName::new("public", "legacy_orders")));
/// assert!(filter.includes(FilterKind::Table, &QualifiedName::new("public", "orders")));
/// assert!(Filter::new().ignore_tables(["a.b.c"]).is_err());
///
/// let options = DiffOptions { filter, ..DiffOptions::default() };
/// assert!(diff(&Schema::default(), &Schema::default(), &options).is_empty());
/// # Ok::<(), orm_migrate::MigrateError>(())
/// ```
#[derive(Clone, Default)]
pub struct Filter {
    ignore: Vec<(FilterKind, Pattern)>,
    predicate: Option<Arc<Predicate>>,
}

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filter")
            .field("ignore", &self.ignore)
            .field("predicate", &self.predicate.as_ref().map(|_| "Fn"))
            .finish()
    }
}

impl Filter {
    /// A filter that leaves nothing out.
    pub fn new() -> Filter {
        Filter::default()
    }

    /// Also ignores the tables matching these [patterns](Pattern) (and what is part of them);
    /// a malformed pattern is an error.
    pub fn ignore_tables<I, S>(self, patterns: I) -> Result<Filter, MigrateError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.ignore(FilterKind::Table, patterns)
    }

    /// Also ignores the objects of `kind` matching these [patterns](Pattern); a malformed
    /// pattern is an error.
    pub fn ignore<I, S>(mut self, kind: FilterKind, patterns: I) -> Result<Filter, MigrateError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for p in patterns {
            self.ignore.push((kind, Pattern::parse(p.as_ref())?));
        }
        Ok(self)
    }

    /// Also leaves out what `include` turns down (returns `false` for), Alembic's
    /// `include_object`: asked about each table, view, sequence, type and object of both
    /// schemas, by kind and name. Replaces an earlier predicate.
    pub fn include_if(
        mut self,
        include: impl Fn(FilterKind, &QualifiedName) -> bool + Send + Sync + 'static,
    ) -> Filter {
        self.predicate = Some(Arc::new(include));
        self
    }

    /// Whether it leaves nothing out.
    pub fn is_empty(&self) -> bool {
        self.ignore.is_empty() && self.predicate.is_none()
    }

    /// Whether the diff compares the object of `kind` called `name`.
    pub fn includes(&self, kind: FilterKind, name: &QualifiedName) -> bool {
        !self
            .ignore
            .iter()
            .any(|(k, p)| *k == kind && p.matches(name))
            && self.predicate.as_ref().is_none_or(|f| f(kind, name))
    }

    /// `schema` without what the filter leaves out (borrowed when it leaves nothing out).
    pub fn apply<'a>(&self, schema: &'a Schema) -> Cow<'a, Schema> {
        if self.is_empty() {
            return Cow::Borrowed(schema);
        }
        let mut out = schema.clone();
        let table = |name: &QualifiedName| self.includes(FilterKind::Table, name);
        out.tables.retain(|name, _| table(name));
        out.views
            .retain(|name, _| self.includes(FilterKind::View, name));
        out.sequences.retain(|name, s| {
            self.includes(FilterKind::Sequence, name)
                && s.owned_by.as_ref().is_none_or(|(t, _)| table(t))
        });
        out.enums
            .retain(|name, _| self.includes(FilterKind::Type, name));
        out.composites
            .retain(|name, _| self.includes(FilterKind::Type, name));
        out.objects.retain(|(kind, key), _| {
            let name = split_key(key);
            // A trigger is part of its table, `schema.table.trigger`.
            let on_table = *kind != ObjectKind::Trigger
                || name
                    .name
                    .split_once('.')
                    .is_none_or(|(t, _)| table(&QualifiedName::new(name.schema.clone(), t)));
            on_table && self.includes(FilterKind::Object(*kind), &name)
        });
        // Rules and policies, `schema.table.name`, are reported only for tables compared.
        out.unsupported.retain(|u| {
            let name = split_key(&u.name);
            name.name
                .split_once('.')
                .is_none_or(|(t, _)| table(&QualifiedName::new(name.schema.clone(), t)))
        });
        Cow::Owned(out)
    }
}

/// `schema.rest` as a qualified name (`rest` whole when it has dots of its own).
fn split_key(key: &str) -> QualifiedName {
    match key.split_once('.') {
        Some((schema, rest)) => QualifiedName::new(schema, rest),
        None => QualifiedName::new("", key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str, n: &str) -> QualifiedName {
        QualifiedName::new(s, n)
    }

    #[test]
    fn globs_match_runs_of_characters() {
        for (p, t) in [
            ("*", ""),
            ("*", "abc"),
            ("legacy_*", "legacy_"),
            ("legacy_*", "legacy_orders"),
            ("*_tmp", "x_tmp"),
            ("a*b*c", "aXbYbZc"),
            ("a**c", "ac"),
            ("spatial_ref_sys", "spatial_ref_sys"),
        ] {
            assert!(glob_match(p, t), "{p} ~ {t}");
        }
        for (p, t) in [
            ("legacy_*", "legacy"),
            ("legacy_*", "my_legacy_x"),
            ("a*b", "ab_"),
            ("Orders", "orders"),
            ("", "x"),
        ] {
            assert!(!glob_match(p, t), "{p} !~ {t}");
        }
    }

    #[test]
    fn patterns_name_a_table_in_any_schema_or_in_one() {
        let p = |s: &str| Pattern::parse(s).expect(s);
        assert!(p("legacy_*").matches(&q("public", "legacy_orders")));
        assert!(p("legacy_*").matches(&q("billing", "legacy_orders")));
        assert!(p("public.legacy_*").matches(&q("public", "legacy_orders")));
        assert!(!p("public.legacy_*").matches(&q("billing", "legacy_orders")));
        assert!(p("audit.*").matches(&q("audit", "anything")));
        assert!(p("*.tmp").matches(&q("x", "tmp")));
        assert_eq!(p("public.t*").to_string(), "public.t*");
        for (bad, why) in [
            ("", "empty"),
            ("  ", "empty"),
            ("a.b.c", "more than one"),
            (".t", "empty"),
            ("s.", "empty"),
            ("\"Orders\"", "unquoted"),
        ] {
            let e = Pattern::parse(bad).expect_err(bad).to_string();
            assert!(
                e.contains(why) && e.contains(&format!("{bad:?}")),
                "{bad}: {e}"
            );
        }
    }
}
