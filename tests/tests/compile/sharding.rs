//! Snapshots of what a fan-out sends every shard (`orm_core::shard::fan_out_select`): the
//! `ORDER BY` expressions as hidden trailing columns, `LIMIT limit + offset`, no `OFFSET`.

use insta::assert_snapshot;
use orm_postgres::Decode;
use orm_postgres::prelude::*;
use orm_postgres::shard::fan_out_plan;
use orm_tests::Order;

fn fan_out<O: Decode, S>(q: Select<O, S>) -> String {
    let plan = fan_out_plan(&q).unwrap();
    format!(
        "{}\n-- merged: limit {:?}, offset {}, order {:?}",
        plan.query, plan.limit, plan.offset, plan.order
    )
}

#[test]
fn order_limit_and_offset_are_applied_after_the_merge() {
    assert_snapshot!(fan_out(
        select::<Order>()
            .filter(Order::total.gt(10))
            .order_by(Order::total.desc())
            .order_by(Order::id)
            .limit(5)
            .offset(3)
    ));
}

#[test]
fn without_order_or_limit_the_query_is_sent_as_it_is() {
    assert_snapshot!(fan_out(select::<Order>().columns(func::count_star())));
}
