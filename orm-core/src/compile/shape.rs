//! Compiled SQL kept per statement shape: a `SELECT` built only by steps whose SQL text does not
//! depend on their values (`select::<User>().by_pk(k)`, `.limit(n)`) compiles to the same text
//! every time, so the text is compiled once per thread and a later statement of the same
//! [`Shape`] only gathers its values, from the steps (a statement not built as a tree yet, see
//! `stmt/body.rs`) or from its tree (SQLAlchemy's compiled cache, keyed by the builder steps
//! instead of a structural cache key).
//!
//! Correct by construction, and checked: a [`Shape`] is the source type the statement started
//! from and the list of steps applied since, and any other change to the statement's body drops
//! it (see `stmt/body.rs`), so one shape is one tree up to parameter values. The first compile of
//! a shape checks that the values gathered are exactly those the writer numbered, in order; a
//! shape where they are not (a node [`collect`] does not know) is never served from a template.

use std::any::TypeId;
use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;

use super::{CompiledQuery, Output, Reads, interned, select_statement};
use crate::ast::{Node, Param, SelectCore};
use crate::error::Result;
use crate::fxhash::FxHashMap;

/// How a statement was built, when that alone fixes its SQL text: the source type it started
/// from (`select::<M>()`) and the steps applied since, two bits each, after a leading 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Shape {
    origin: TypeId,
    steps: u64,
}

/// A builder step that keeps a statement's [`Shape`]: the step's SQL text is fixed, only its
/// values vary.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Step {
    /// `WHERE <primary key> = $n` ([`by_pk`](crate::Select::by_pk)).
    ByPk = 1,
    /// `LIMIT $n`.
    Limit = 2,
    /// `OFFSET $n`.
    Offset = 3,
}

impl Shape {
    /// The shape of a statement as made from source `T`, before any step.
    pub(crate) fn origin<T: 'static>() -> Shape {
        Shape {
            origin: TypeId::of::<T>(),
            steps: 1,
        }
    }

    /// The shape after `step`; `None` once the step list is full (the statement is then
    /// compiled every time).
    pub(crate) fn then(self, step: Step) -> Option<Shape> {
        (self.steps.leading_zeros() >= 2).then_some(Shape {
            steps: self.steps << 2 | step as u64,
            ..self
        })
    }
}

/// A statement the shape's templates can compile: its shape, its tree, and its values when
/// they are known without the tree (a statement not built yet, see `stmt/body.rs`).
pub(crate) trait ShapedSelect {
    /// The shape, while the builder steps alone fix the SQL text.
    fn shape(&self) -> Option<Shape>;
    /// The tree (built if it was not).
    fn tree(&self) -> &SelectCore;
    /// The values in `$n` order, when known without walking (or building) the tree.
    fn known_params(&self) -> Option<Vec<Param>>;
    /// [`known_params`](ShapedSelect::known_params) of a statement about to be dropped: the
    /// values may be moved out of it, and then [`put_back_params`](ShapedSelect::put_back_params)
    /// returns them if they are not used.
    fn take_known_params(&mut self) -> Option<Vec<Param>>;
    /// Returns the values [`take_known_params`](ShapedSelect::take_known_params) took.
    fn put_back_params(&mut self, params: Vec<Param>);
}

/// The SQL text and tables of a shape, compiled once (and kept for the life of the process,
/// see `interned.rs`: each statement served from the template borrows them).
struct Template {
    sql: &'static str,
    reads: Reads,
    params: usize,
    /// The columns selected, checked against the output (`check_width`).
    width: usize,
    /// Whether the values were known without the tree when the template was checked: a
    /// statement whose values come the other way is compiled as usual.
    known: bool,
}

/// Shapes kept per thread: beyond this many, new shapes are compiled every time (a program has
/// as many shapes as it has query-building code paths, so this is never reached in practice).
const MAX_SHAPES: usize = 1024;

thread_local! {
    /// Each shape's template, or `None` for a shape whose values are not found in the
    /// writer's order (see [`params_of`]).
    static TEMPLATES: RefCell<FxHashMap<Shape, Option<Template>>> = RefCell::default();
}

/// Compiles a `SELECT` whose rows decode into `out`, from its shape's template when it has one.
pub(crate) fn select_statement_shaped(s: &impl ShapedSelect, out: Output) -> Result<CompiledQuery> {
    let Some(shape) = s.shape() else {
        return select_statement(s.tree(), out);
    };
    let hit = TEMPLATES.with_borrow(|templates| match templates.get(&shape) {
        None => None,
        Some(None) => Some(None),
        Some(Some(t)) => Some(instantiate(t, s, out)),
    });
    match hit {
        Some(Some(q)) => Ok(q),
        // A shape that is not kept, or a width error the writer reports.
        Some(None) => select_statement(s.tree(), out),
        None => {
            let q = select_statement(s.tree(), out)?;
            let (params, known) = params_of(s);
            let template =
                (!q.reads.opaque && params.is_some_and(|p| same(&p, &q.params))).then(|| {
                    Template {
                        sql: interned::text(&q.sql),
                        reads: Reads {
                            tables: Cow::Borrowed(interned::tables(&q.reads.tables)),
                            opaque: q.reads.opaque,
                        },
                        params: q.params.len(),
                        width: out.width,
                        known,
                    }
                });
            TEMPLATES.with_borrow_mut(|templates| {
                if templates.len() < MAX_SHAPES {
                    templates.insert(shape, template);
                }
            });
            Ok(q)
        }
    }
}

/// [`select_statement_shaped`] of a statement about to be dropped: served from its shape's
/// template, its values are moved into the compiled query, not copied (a lookup by key then
/// allocates one list of values, not two: callgrind, issue 17).
pub(crate) fn select_statement_shaped_owned(
    s: &mut impl ShapedSelect,
    out: Output,
) -> Result<CompiledQuery> {
    if let Some(shape) = s.shape() {
        let served = TEMPLATES.with_borrow(|templates| match templates.get(&shape) {
            Some(Some(t)) if t.known && t.width == out.width => {
                s.take_known_params().map(|params| serve(t, params))
            }
            _ => None,
        });
        match served {
            Some(Ok(q)) => return Ok(q),
            Some(Err(params)) => s.put_back_params(params),
            None => {}
        }
    }
    select_statement_shaped(s, out)
}

/// The values of a statement in the writer's order: known (`true`), or collected from its tree.
fn params_of(s: &impl ShapedSelect) -> (Option<Vec<Param>>, bool) {
    match s.known_params() {
        Some(params) => (Some(params), true),
        None => (collect(s.tree()), false),
    }
}

/// The statement from its shape's template: the template's text, the statement's values.
fn instantiate(t: &Template, s: &impl ShapedSelect, out: Output) -> Option<CompiledQuery> {
    if t.width != out.width {
        return None;
    }
    let (params, known) = params_of(s);
    serve(t, params.filter(|_| known == t.known)?).ok()
}

/// The template's text with `params`, when it holds for them: as many as it numbers, none
/// listed twice (the writer numbers a value met twice once, `SqlWriter::push_param`); else
/// the values back.
fn serve(t: &Template, params: Vec<Param>) -> std::result::Result<CompiledQuery, Vec<Param>> {
    let distinct = params
        .iter()
        .enumerate()
        .all(|(i, p)| !params[..i].iter().any(|q| Arc::ptr_eq(p, q)));
    if params.len() != t.params || !distinct {
        return Err(params);
    }
    Ok(CompiledQuery {
        sql: Cow::Borrowed(t.sql),
        params,
        reads: t.reads.clone(),
    })
}

/// Whether two parameter lists hold the same values (by identity), in the same order.
fn same(a: &[Param], b: &[Param]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| Arc::ptr_eq(x, y))
}

/// The parameters of a `SELECT` in the order the writer numbers them (select list, `WHERE`,
/// `LIMIT`, `OFFSET`), or `None` when it holds a clause or node this walk does not know.
pub(crate) fn collect(core: &SelectCore) -> Option<Vec<Param>> {
    let simple = matches!(core.distinct, crate::ast::Distinct::None)
        && core.joins.is_empty()
        && core.group_by.is_empty()
        && core.having.is_none()
        && core.windows.is_empty()
        && core.order_by.is_empty()
        && core.lock.is_none();
    if !simple {
        return None;
    }
    let mut params = Vec::with_capacity(2);
    for n in &core.columns {
        collect_node(n, &mut params)?;
    }
    for item in &core.from {
        if !matches!(item, crate::ast::FromItem::Table { .. }) {
            return None;
        }
    }
    for n in [&core.filter, &core.limit, &core.offset]
        .into_iter()
        .flatten()
    {
        collect_node(n, &mut params)?;
    }
    Some(params)
}

/// The parameters of one node, left to right (the writer's order for these nodes).
fn collect_node(n: &Node, params: &mut Vec<Param>) -> Option<()> {
    match n {
        Node::Param(p) => params.push(p.clone()),
        Node::Column(_) | Node::Keyword(_) => {}
        Node::Binary(_, l, r) => {
            collect_node(l, params)?;
            collect_node(r, params)?;
        }
        Node::Logic(_, operands) => {
            for o in operands {
                collect_node(o, params)?;
            }
        }
        _ => return None,
    }
    Some(())
}

/// What the tests of the templates look at (`stmt/shape_tests.rs`).
#[cfg(test)]
pub(crate) mod testing {
    use super::{Shape, TEMPLATES};

    /// Whether `shape` has a template served to later statements.
    pub(crate) fn kept(shape: Shape) -> bool {
        TEMPLATES.with_borrow(|t| matches!(t.get(&shape), Some(Some(_))))
    }

    /// Replaces the text of `shape`'s template, to tell a statement served from it.
    pub(crate) fn rewrite(shape: Shape, sql: &str) {
        TEMPLATES.with_borrow_mut(|t| {
            if let Some(Some(template)) = t.get_mut(&shape) {
                template.sql = super::interned::text(sql);
            }
        });
    }
}
