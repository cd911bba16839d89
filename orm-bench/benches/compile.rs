//! What compiling a statement costs, per statement shape, with no database: the data behind
//! the decision not to cache compiled SQL (see the crate docs).
//!
//! ```text
//! cargo bench -p orm-bench --bench compile
//! ```
//!
//! For each shape it builds and compiles the statement in a loop and prints nanoseconds per
//! statement (median of rounds), next to the 1-row round trip measured by the `select` bench
//! (~15 µs on the development machine), so the share of compile time in a query is visible.

use std::hint::black_box;
use std::time::Instant;

use orm_bench::User;
use orm_postgres::prelude::*;

fn measure(name: &str, quick: bool, mut f: impl FnMut()) {
    let iters = if quick { 1_000 } else { 200_000 };
    let rounds = if quick { 1 } else { 9 };
    for _ in 0..iters / 10 {
        f();
    }
    let mut per_op: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            start.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    per_op.sort_by(f64::total_cmp);
    println!("| {name:<44} | {:>5.0} ns |", per_op[per_op.len() / 2]);
}

fn main() {
    let quick =
        std::env::var_os("ORM_BENCH_QUICK").is_some() || !std::env::args().any(|a| a == "--bench");
    println!("orm-bench compile: building + compiling one statement, no IO");
    println!("| statement                                    |   median |");
    println!("|----------------------------------------------|----------|");
    measure("select::<User>().limit(n)", quick, || {
        black_box(select::<User>().limit(black_box(10)).compile().ok());
    });
    measure("select by pk", quick, || {
        black_box(select::<User>().by_pk(black_box(7)).compile().ok());
    });
    measure("filter + in-list + order + limit", quick, || {
        black_box(
            select::<User>()
                .filter(User::name.starts_with("a") & User::id.is_in([1, 2, 3]))
                .order_by(User::name.desc())
                .limit(20)
                .compile()
                .ok(),
        );
    });
    measure("count over a subquery with grouping", quick, || {
        black_box(
            select::<User>()
                .group_by(User::hair_color)
                .columns((User::hair_color, func::count_star()))
                .count()
                .compile()
                .ok(),
        );
    });
    let user = User {
        id: 0,
        name: "n".into(),
        hair_color: None,
    };
    measure("insert one (RETURNING *)", quick, || {
        black_box(insert(black_box(&user)).compile().ok());
    });
    measure("update set + filter", quick, || {
        black_box(
            update::<User>()
                .set(User::name, "x")
                .filter(User::id.eq(black_box(3)))
                .compile()
                .ok(),
        );
    });
    // What a session's global criteria add: the tree is cloned and rewritten before compiling.
    let mut criteria = orm_postgres::stmt::Criteria::new();
    let tenant = User::hair_color.eq("red".to_string());
    if criteria.add::<User>(tenant).is_err() {
        return;
    }
    measure("select by pk, with a criteria", quick, || {
        black_box(
            select::<User>()
                .by_pk(black_box(7))
                .compile_with(&criteria)
                .ok(),
        );
    });
}
