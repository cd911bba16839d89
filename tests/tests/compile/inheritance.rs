//! Snapshots of single-table inheritance: the enum's select (every row, the union of the
//! variants' columns), a variant's (its columns, filtered by its discriminator value), their
//! writes and the shared table's DDL.

use insta::assert_snapshot;
use orm_postgres::inherit::is_variant;
use orm_postgres::prelude::*;
use orm_tests::inherit::{Department, Employee, Engineer, Manager};

use crate::sql;

#[test]
fn the_enum_selects_every_row_and_a_variant_its_own() {
    assert_snapshot!(sql(select::<Employee>()));
    assert_snapshot!(sql(select::<Manager>()));
    assert_snapshot!(sql(select::<Engineer>()
        .filter(Engineer::language.eq("rust"))
        .order_by(Engineer::name)));
    // A shared column's handle filters the enum; the discriminator narrows it.
    assert_snapshot!(sql(select::<Employee>()
        .filter(Manager::name.eq("ann"))
        .filter(is_variant::<Manager>())));
    assert_snapshot!(sql(select::<Employee>()
        .filter(Employee::kind.ne("intern"))
        .count()));
}

#[test]
fn a_joined_variant_carries_its_discriminator_into_the_join() {
    assert_snapshot!(sql(select::<Department>()
        .left_join::<Manager>(Manager::department_id.eq(Department::id))
        .columns((Department::title, Manager::budget))));
}

#[test]
fn variant_writes() {
    assert_snapshot!(sql(insert(&Manager::new("ann", 1))));
    assert_snapshot!(sql(insert(&Employee::from(Engineer::new("bob", "rust")))));
    assert_snapshot!(sql(update::<Manager>().set(Manager::budget, 2)));
    assert_snapshot!(sql(delete::<Engineer>().filter(Engineer::level.is_null())));
}

#[test]
fn the_shared_table() {
    assert_snapshot!(
        orm_postgres::ddl::create_table(Employee::TABLE)
            .unwrap()
            .join(";\n")
    );
}
