//! Tests of the compiled-SQL templates per statement shape (`compile/shape.rs`) through the
//! builders: here, since the compiler's own tests may not use the builders (the layers test).

use std::borrow::Cow;

use proptest::prelude::*;

use crate::__doc_fixture::{Article, Manager, User};
use crate::compile::testing::{kept, rewrite};
use crate::compile::{Output, select_statement};
use crate::prelude::*;
use crate::row::Decode;
use crate::stmt::Statement;

crate::alias!(Referrer = User);

#[derive(crate::FromRow)]
#[from_row(crate = "crate")]
#[allow(dead_code)]
struct Named {
    id: i64,
    name: String,
    email: Option<String>,
}

/// The statement compiled without any template, as the writer writes it.
fn uncached<O: Decode, S>(q: &Select<O, S>) -> String {
    select_statement(q.core(), Output::of::<O>(O::WIDTH))
        .expect("compiles")
        .to_string()
}

/// Compiles `q` (which may be served from a template) and checks it against [`uncached`].
fn check<O: Decode, S>(q: &Select<O, S>) -> String {
    let compiled = q.compile().expect("compiles").to_string();
    assert_eq!(compiled, uncached(q));
    compiled
}

#[test]
fn a_shape_compiles_once_and_later_statements_take_their_values_from_the_tree() {
    let first = select::<User>().by_pk(1);
    let shape = first.shape().expect("shaped");
    assert_eq!(
        check(&first),
        "SELECT \"users\".\"id\", \"users\".\"name\", \"users\".\"email\" FROM \"users\" WHERE \"users\".\"id\" = $1\n-- params: [1]"
    );
    assert!(kept(shape));
    let second = select::<User>().by_pk(2);
    assert_eq!(second.shape(), Some(shape));
    assert!(check(&second).ends_with("-- params: [2]"));
}

#[test]
fn a_hit_serves_the_template_text() {
    let q = select::<User>().by_pk(5).offset(3);
    let shape = q.shape().expect("shaped");
    check(&q);
    // Proof that the second compile is served from the template: change its text.
    rewrite(shape, "SELECT 'from the template'");
    let hit = select::<User>()
        .by_pk(6)
        .offset(4)
        .compile()
        .expect("compiles");
    assert_eq!(hit.sql, "SELECT 'from the template'");
    assert_eq!(format!("{:?}", hit.params), "[6, 4]");
    assert_eq!(hit.reads.tables.len(), 1);
}

#[test]
fn statements_served_from_a_template_borrow_its_text_and_tables() {
    let compile = |k: i64| select::<Article>().by_pk(k).compile().expect("compiles");
    // The first compile writes the text (owned), and keeps it as the shape's template.
    let first = compile(1);
    assert!(matches!(first.sql, Cow::Owned(_)));
    let (a, b) = (compile(2), compile(3));
    for q in [&a, &b] {
        assert!(matches!(q.sql, Cow::Borrowed(_)), "{q}");
        assert!(matches!(q.reads.tables, Cow::Borrowed(_)));
        assert_eq!(q.sql, first.sql);
        assert_eq!(q.reads.tables.len(), 1);
    }
    // One copy of each, shared: no text nor table list allocated per statement.
    assert!(std::ptr::eq(&*a.sql, &*b.sql));
    assert!(std::ptr::eq(&*a.reads.tables, &*b.reads.tables));
    assert_eq!(format!("{:?}", b.params), "[3]");
}

#[test]
fn the_steps_and_the_source_make_the_shape() {
    let shapes = [
        select::<User>().shape(),
        select::<User>().by_pk(1).shape(),
        select::<User>().limit(1).shape(),
        select::<User>().offset(1).shape(),
        select::<User>().by_pk(1).limit(1).shape(),
        select::<User>().limit(1).by_pk(1).shape(),
        select::<User>().limit(1).limit(2).shape(),
        select::<Referrer>().by_pk(1).shape(),
        select::<Manager>().by_pk(1).shape(),
    ];
    for (i, a) in shapes.iter().enumerate() {
        assert!(a.is_some(), "statement {i} lost its shape");
        for b in &shapes[..i] {
            assert_ne!(a, b, "statement {i} shares a shape");
        }
    }
}

#[test]
fn any_other_step_forgets_the_shape() {
    let base = || select::<User>().by_pk(1);
    let forgotten = [
        base().filter(User::name.eq("Jane")).shape(),
        base().order_by(User::id).shape(),
        base().distinct().shape(),
        base().for_update().shape(),
        base().group_by(User::id).shape(),
        base().columns(User::id).shape(),
        base().into_rows::<Named>().shape(),
        base()
            .left_join::<Referrer>(Referrer::col(User::id).eq(User::id))
            .shape(),
        select::<User>().filter(User::id.eq(1)).by_pk(1).shape(),
        select::<User>().order_by(User::id).limit(1).shape(),
    ];
    for (i, s) in forgotten.iter().enumerate() {
        assert_eq!(*s, None, "statement {i} kept its shape");
    }
}

#[test]
fn variants_and_deferred_columns_are_served_alike() {
    for k in 1..3 {
        check(&select::<Manager>().by_pk(k));
        check(&select::<Article>().by_pk(k).limit(1));
    }
    assert!(kept(select::<Manager>().by_pk(1).shape().expect("shaped")));
}

#[test]
fn a_full_step_list_compiles_every_time() {
    let mut q = select::<User>().limit(0);
    for n in 1..40 {
        q = q.limit(n);
    }
    assert_eq!(q.shape(), None);
    check(&q);
}

/// A builder step, for the law below.
#[derive(Clone, Debug)]
enum Op {
    ByPk(i64),
    Limit(i64),
    Offset(i64),
    Filter(String),
    OrderBy,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<i64>().prop_map(Op::ByPk),
        any::<i64>().prop_map(Op::Limit),
        any::<i64>().prop_map(Op::Offset),
        "[a-z]{0,3}".prop_map(Op::Filter),
        Just(Op::OrderBy),
    ]
}

fn build(ops: &[Op]) -> Select<User> {
    ops.iter().fold(select::<User>(), |q, op| match op {
        Op::ByPk(k) => q.by_pk(*k),
        Op::Limit(n) => q.limit(*n),
        Op::Offset(n) => q.offset(*n),
        Op::Filter(s) => q.filter(User::name.eq(s.clone())),
        Op::OrderBy => q.order_by(User::id),
    })
}

proptest! {
    /// Whatever the steps, a statement compiles (from a template or not) exactly as the
    /// writer writes it, values included; built twice, so the second is a hit when the
    /// steps keep a shape.
    #[test]
    fn compiled_from_a_template_or_not_the_text_is_the_writers(
        ops in proptest::collection::vec(op(), 0..6)
    ) {
        for _ in 0..2 {
            let q = build(&ops);
            let compiled = q.compile().expect("compiles").to_string();
            prop_assert_eq!(compiled, uncached(&q));
        }
        // Compiled by an executor, which gives the statement away (its values may move).
        let expected = uncached(&build(&ops));
        let given = build(&ops).into_compiled(None).expect("compiles").to_string();
        prop_assert_eq!(given, expected);
    }
}
