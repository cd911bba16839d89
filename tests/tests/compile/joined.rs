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
fn a_null_test_of_a_subtype_column_holds_only_for_that_subtype() {
    // Through the LEFT JOIN every chief has NULL in `developers.level`: the test also asks for
    // a developers row.
    assert_snapshot!(sql(select::<Staff>().filter(Developer::level.is_null())));
    assert_snapshot!(sql(
        select::<Staff>().filter(Developer::level.is_null().or(Chief::budget.is_null().not()))
    ));
    // A variant's own select joins its table: nothing to guard.
    assert_snapshot!(sql(select::<Developer>().filter(Developer::level.is_null())));
}

#[test]
fn a_relationship_of_the_enum_joins_from_the_base_table() {
    assert_snapshot!(sql(select::<Staff>().load(Staff::team.joined())));
    assert_snapshot!(sql(select::<Staff>()
        .filter(Chief::name.ne("x"))
        .load(Staff::projects.joined())));
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

#[test]
fn core_writes_go_through_the_base_key() {
    // A variant's UPDATE writes the one table holding its SET columns, for the rows its
    // filter (on any of its tables) selects.
    assert_snapshot!(sql(update::<Chief>()
        .set(Chief::budget, 5)
        .filter(Chief::name.eq("ann"))));
    assert_snapshot!(sql(update::<Developer>()
        .set(Developer::name, "bob".to_string())
        .filter(Developer::language.eq("go"))));
    // A DELETE removes base rows; the subtype rows go with them (ON DELETE CASCADE).
    assert_snapshot!(sql(delete::<Chief>().filter(Chief::budget.lt(10))));
    assert_snapshot!(sql(delete::<Staff>().filter(Developer::level.is_null())));
}

#[test]
fn writes_that_span_tables_are_typed_errors() {
    let err = |r: orm_postgres::Result<_>| r.unwrap_err().to_string();
    let e = err(insert(&Chief::new("ann", 1)).compile());
    assert!(e.contains("insert it through a session"), "{e}");
    let e = err(insert_many(&[Staff::from(Chief::new("ann", 1))]).compile());
    assert!(e.contains("joined-table inheritance"), "{e}");
    let e = err(update::<Chief>()
        .set(Chief::budget, 5)
        .set(Chief::name, "x".to_string())
        .compile());
    assert!(e.contains("sets columns of several tables"), "{e}");
    let e = err(update_model(&Chief::new("ann", 1)).compile());
    assert!(e.contains("several tables"), "{e}");
}

mod tagged {
    use orm_postgres::prelude::*;

    #[derive(Model, Debug, Clone)]
    #[model(table = "notes", discriminator = "kind")]
    pub enum Note {
        #[model(value = "tagged")]
        Tagged(Tagged),
        #[model(value = "plain")]
        Plain(Plain),
        #[model(value = "loose")]
        Loose(Loose),
    }

    #[derive(Model, Debug, Clone)]
    #[model(inherits = Note)]
    pub struct Tagged {
        #[model(primary_key, generated)]
        pub id: i64,
        pub tags: Vec<String>,
    }

    #[derive(Model, Debug, Clone)]
    #[model(inherits = Note)]
    pub struct Plain {
        #[model(primary_key, generated)]
        pub id: i64,
        pub body: String,
    }

    /// The same `text[]` column as `Tagged`'s, held as another Rust type.
    #[derive(Model, Debug, Clone)]
    #[model(inherits = Note)]
    pub struct Loose {
        #[model(primary_key, generated)]
        pub id: i64,
        pub tags: Vec<Option<String>>,
    }
}

#[test]
fn array_columns_of_an_enum_in_a_multi_row_insert_are_flattened_as_a_structs() {
    use tagged::{Loose, Note, Plain, Tagged};
    let tagged = |tags: &[&str]| {
        Note::from(Tagged {
            id: 0,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        })
    };
    let plain = Note::from(Plain {
        id: 0,
        body: "x".into(),
    });
    let rows = [tagged(&["a", "b"]), plain.clone(), tagged(&[])];
    let q = insert_many(&rows).compile().unwrap();
    // The variant's own rows are one struct: the same text, its array column flattened.
    let own = insert_many(&[Tagged {
        id: 0,
        tags: vec!["a".into()],
    }])
    .compile()
    .unwrap();
    assert!(own.sql.contains("array_agg"), "{}", own.sql);
    assert!(q.sql.contains("array_agg"), "{}", q.sql);
    // Each column (tags, kind, body) one array, the array column's rows also its elements
    // and their owners: the same text and parameter count for any number of rows.
    assert_eq!(q.params.len(), 3 + 2);
    let one = insert_many(&rows[..1]).compile().unwrap();
    assert_eq!((one.sql, one.params.len()), (q.sql.clone(), q.params.len()));
    // Rows none of whose variants has the column: all NULL, the same text.
    let none = insert_many(std::slice::from_ref(&plain)).compile().unwrap();
    assert_eq!(none.sql, q.sql);

    // Variants holding the column as different Rust types cannot be gathered as one: a typed
    // error that says what to do.
    let mixed = [
        tagged(&["a"]),
        Note::from(Loose {
            id: 0,
            tags: vec![None],
        }),
    ];
    let err = insert_many(&mixed).compile().unwrap_err();
    assert!(
        matches!(err.kind(), orm_postgres::ErrorKind::InvalidStatement(m) if m.contains("as different Rust types")),
        "{err:?}"
    );
}
