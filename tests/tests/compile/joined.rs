//! Snapshots of joined-table inheritance: the enum's select (`LEFT JOIN` of every subtype
//! table), a variant's (`JOIN` of its table, and its discriminator), filters on either table's
//! columns, and the DDL of the base and subtype tables.

use insta::assert_snapshot;
use orm_postgres::prelude::*;
use orm_tests::joined::{Chief, Developer, Staff};

use crate::sql;

#[test]
fn the_enum_joins_every_subtype_table() {
    assert_snapshot!(sql(select::<Staff>().order_by(Chief::id)));
    assert_snapshot!(sql(select::<Staff>()
        .filter(Chief::name.eq("ann"))
        .filter(Chief::budget.gt(10))));
}

#[test]
fn a_variant_joins_its_own_table() {
    assert_snapshot!(sql(select::<Chief>()));
    assert_snapshot!(sql(select::<Developer>()
        .filter(Developer::language.eq("rust"))
        .order_by(Developer::name)));
}

#[test]
fn base_and_subtype_tables() {
    let tables: Vec<String> = orm_postgres::meta::storage_tables(&[Staff::TABLE])
        .into_iter()
        .map(|t| orm_postgres::ddl::create_table(t).unwrap().join(";\n"))
        .collect();
    assert_snapshot!(tables.join(";\n"));
}
