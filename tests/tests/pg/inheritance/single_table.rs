//! Single-table inheritance: DDL, Core statements, decoding, and the session.

use futures_util::TryStreamExt;
use orm_postgres::prelude::*;
use orm_postgres::{ErrorKind, assert_queries};
use orm_tests::inherit::{Department, Employee, Engineer, Manager, Review};

/// The columns of `employees` as the server has them: (name, type, nullable).
async fn columns(db: &Database) -> Vec<(String, String, bool)> {
    db.fetch_all(orm_postgres::raw::query::<(String, String, bool)>(
        "SELECT column_name::text, data_type::text, is_nullable = 'YES' \
         FROM information_schema.columns WHERE table_name = 'employees' ORDER BY ordinal_position",
    ))
    .await
    .unwrap()
}

fn names(rows: &[Employee]) -> Vec<(&'static str, String)> {
    rows.iter()
        .map(|e| match e {
            Employee::Manager(m) => ("manager", m.name.clone()),
            Employee::Engineer(e) => ("engineer", e.name.clone()),
        })
        .collect()
}

#[orm_postgres::test(tables(Department, Employee))]
async fn create_all_makes_one_table_with_subtype_columns_nullable(db: Database) {
    let cols = columns(&db).await;
    let expected = [
        ("id", "bigint", false),
        ("name", "text", false),
        ("department_id", "bigint", true),
        ("budget", "integer", true),
        ("kind", "text", false),
        ("language", "text", true),
        ("level", "smallint", true),
    ];
    let cols: Vec<(&str, &str, bool)> = cols
        .iter()
        .map(|(n, t, null)| (n.as_str(), t.as_str(), *null))
        .collect();
    assert_eq!(cols, expected);
    // The shared foreign key and index came through the variants' columns.
    let fks: i64 = db
        .fetch_one(orm_postgres::raw::query::<i64>(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'employees'::regclass AND contype = 'f'",
        ))
        .await
        .unwrap();
    assert_eq!(fks, 1);
}

#[orm_postgres::test(tables(Department, Employee))]
async fn the_enum_reads_every_row_as_its_variant_and_a_variant_only_its_own(db: Database) {
    let ann = db
        .fetch_one(insert(&Manager::new("ann", 100)))
        .await
        .unwrap();
    let bob = db
        .fetch_one(insert(&Engineer::new("bob", "rust")))
        .await
        .unwrap();
    assert!(
        ann.id > 0 && bob.id > ann.id,
        "keys generated and read back"
    );
    db.fetch_all(insert_many(&[Manager::new("cid", 7)]))
        .await
        .unwrap();

    let all = db
        .fetch_all(
            select::<Employee>()
                .order_by(Employee::kind)
                .order_by(Manager::name),
        )
        .await
        .unwrap();
    assert_eq!(
        names(&all),
        [
            ("engineer", "bob".to_string()),
            ("manager", "ann".to_string()),
            ("manager", "cid".to_string())
        ]
    );
    assert_eq!(all[0], Employee::Engineer(bob.clone()));

    let managers: Vec<Manager> = db
        .fetch_all(select::<Manager>().order_by(Manager::id))
        .await
        .unwrap();
    assert_eq!(managers.len(), 2);
    assert_eq!(managers[0], ann);
    let engineers: Vec<Engineer> = db.fetch_all(select::<Engineer>()).await.unwrap();
    assert_eq!(engineers, std::slice::from_ref(&bob));
    assert_eq!(db.fetch_one(select::<Manager>().count()).await.unwrap(), 2);
    assert_eq!(db.fetch_one(select::<Employee>().count()).await.unwrap(), 3);

    // A filter on a shared column works on the enum and on each variant.
    let named: Vec<Employee> = db
        .fetch_all(select::<Employee>().filter(Manager::name.eq("bob")))
        .await
        .unwrap();
    assert_eq!(named, [Employee::Engineer(bob.clone())]);
    let none: Vec<Manager> = db
        .fetch_all(select::<Manager>().filter(Manager::name.eq("bob")))
        .await
        .unwrap();
    assert!(none.is_empty(), "bob is no manager");
    // ... and the enum can be narrowed to a variant through the discriminator.
    let only: Vec<Employee> = db
        .fetch_all(select::<Employee>().filter(orm_postgres::inherit::is_variant::<Engineer>()))
        .await
        .unwrap();
    assert_eq!(only.len(), 1);
}

#[orm_postgres::test(tables(Department, Employee))]
async fn variant_statements_touch_only_their_rows(db: Database) {
    db.fetch_one(insert(&Manager::new("ann", 100)))
        .await
        .unwrap();
    let bob = db
        .fetch_one(insert(&Engineer::new("bob", "go")))
        .await
        .unwrap();
    // An UPDATE and a DELETE of a variant read its rows only.
    let n = db
        .execute(update::<Manager>().set(Manager::name, "x".to_string()))
        .await
        .unwrap();
    assert_eq!(n, 1);
    let n = db.execute(delete::<Engineer>()).await.unwrap();
    assert_eq!(n, 1);
    let left = db.fetch_all(select::<Employee>()).await.unwrap();
    assert_eq!(names(&left), [("manager", "x".to_string())]);
    // A joined variant brings its discriminator into the join.
    let sql = select::<Department>()
        .join::<Manager>(Manager::department_id.eq(Department::id))
        .compile()
        .unwrap()
        .sql;
    assert!(sql.ends_with(r#"AND ("employees"."kind" = $1)"#), "{sql}");
    let _ = bob;
}

#[orm_postgres::test(tables(Department, Employee))]
async fn enum_rows_insert_through_insert_many_and_copy(db: Database) {
    let rows = vec![
        Employee::from(Manager::new("ann", 1)),
        Employee::from(Engineer::new("bob", "rust")),
        Employee::from(Engineer {
            level: Some(3),
            ..Engineer::new("cid", "c")
        }),
    ];
    let back = db.fetch_all(insert_many(&rows)).await.unwrap();
    assert_eq!(names(&back), names(&rows));
    assert_eq!(db.copy_in(&rows).await.unwrap(), 3);
    let all = db.fetch_all(select::<Employee>()).await.unwrap();
    assert_eq!(all.len(), 6);
    let cids: Vec<Engineer> = db
        .fetch_all(select::<Engineer>().filter(Engineer::name.eq("cid")))
        .await
        .unwrap();
    assert_eq!(cids.len(), 2);
    assert!(cids.iter().all(|e| e.level == Some(3) && e.language == "c"));
    // COPY out of a variant reads its own rows only.
    let managers: Vec<Manager> = db
        .copy_out::<Manager>()
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(managers.len(), 2);
    let everyone: Vec<Employee> = db
        .copy_out::<Employee>()
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(everyone.len(), 6);
}

#[orm_postgres::test(tables(Department, Employee))]
async fn an_unknown_discriminator_is_a_decode_error(db: Database) {
    db.batch_execute("INSERT INTO employees (name, kind) VALUES ('zed', 'intern')")
        .await
        .unwrap();
    let err = db.fetch_all(select::<Employee>()).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err:?}");
    let msg = format!("{err} {:?}", std::error::Error::source(&err));
    assert!(msg.contains("intern"), "{msg}");
    // The variants do not see the row at all.
    assert!(db.fetch_all(select::<Manager>()).await.unwrap().is_empty());
}

#[orm_postgres::test(tables(Department, Employee))]
async fn the_session_keeps_one_object_per_row_keyed_on_the_shared_key(db: Database) {
    let mut s = db.session();
    let ann = s.add(Employee::from(Manager::new("ann", 100)));
    let bob = s.add(Employee::from(Engineer::new("bob", "rust")));
    // Rows of both variants go out in one INSERT.
    assert_queries!(
        s,
        ["BEGIN*", r#"INSERT INTO "employees" *"#, "COMMIT"],
        async { s.commit().await }
    )
    .unwrap();
    let id = ann.pk();
    assert!(id > 0 && bob.pk() > 0);

    let again = s.get::<Employee>(id).await.unwrap().unwrap();
    assert!(Tracked::ptr_eq(&ann, &again), "one object per row");
    assert!(matches!(&*again.read(), Employee::Manager(m) if m.name == "ann" && m.budget == 100));

    // A fresh session loads the variant from the row, once.
    let mut s2 = db.session();
    let a = s2.get::<Employee>(id).await.unwrap().unwrap();
    let b = s2.get::<Employee>(id).await.unwrap().unwrap();
    assert!(Tracked::ptr_eq(&a, &b));
    let all = s2
        .all(select::<Employee>().order_by(Manager::id))
        .await
        .unwrap();
    assert!(Tracked::ptr_eq(&a, &all[0]));
    assert!(matches!(&*all[1].read(), Employee::Engineer(e) if e.language == "rust"));
}

#[orm_postgres::test(tables(Department, Employee))]
async fn changing_a_subtype_column_updates_only_that_column(db: Database) {
    let mut s = db.session();
    let ann = s.add(Employee::from(Manager::new("ann", 100)));
    let bob = s.add(Employee::from(Engineer::new("bob", "rust")));
    s.commit().await.unwrap();

    if let Employee::Manager(m) = &mut *ann.write() {
        m.budget = 250;
    }
    assert_queries!(
        s,
        [
            "BEGIN*",
            r#"UPDATE "employees" SET "budget" = "orm_v"."v0" FROM *"#,
            "COMMIT"
        ],
        async { s.commit().await }
    )
    .unwrap();
    if let Employee::Engineer(e) = &mut *bob.write() {
        e.level = Some(2);
        e.name = "robert".into();
    }
    assert_queries!(
        s,
        [
            "BEGIN*",
            r#"UPDATE "employees" SET "name" = "orm_v"."v0", "level" = "orm_v"."v1" FROM *"#,
            "COMMIT"
        ],
        async { s.commit().await }
    )
    .unwrap();
    // Another column of the same object after that flush: only it is written (the next
    // snapshot has the flushed budget).
    if let Employee::Manager(m) = &mut *ann.write() {
        m.name = "anna".into();
    }
    assert_queries!(
        s,
        [
            "BEGIN*",
            r#"UPDATE "employees" SET "name" = "orm_v"."v0" FROM *"#,
            "COMMIT"
        ],
        async { s.commit().await }
    )
    .unwrap();

    let managers: Vec<Manager> = db.fetch_all(select::<Manager>()).await.unwrap();
    assert_eq!(
        (managers[0].name.as_str(), managers[0].budget),
        ("anna", 250)
    );
    // The enum hands `audit_update` to the variant, with the variant's old values (other
    // tests of this binary may record their own changes beside it).
    let seen = orm_tests::inherit::BUDGET_CHANGES.lock().unwrap().clone();
    assert!(seen.contains(&("ann".to_owned(), 100, 250)), "{seen:?}");
    let engineers: Vec<Engineer> = db.fetch_all(select::<Engineer>()).await.unwrap();
    assert_eq!(
        (engineers[0].name.as_str(), engineers[0].level),
        ("robert", Some(2))
    );
}

#[orm_postgres::test(tables(Department, Employee))]
async fn deleting_through_the_session_removes_the_row(db: Database) {
    let mut s = db.session();
    let ann = s.add(Employee::from(Manager::new("ann", 100)));
    s.add(Employee::from(Engineer::new("bob", "rust")));
    s.commit().await.unwrap();
    s.delete(&ann).unwrap();
    assert_queries!(
        s,
        ["BEGIN*", r#"DELETE FROM "employees" USING *"#, "COMMIT"],
        async { s.commit().await }
    )
    .unwrap();
    let left = db.fetch_all(select::<Employee>()).await.unwrap();
    assert_eq!(names(&left), [("engineer", "bob".to_string())]);
}

#[orm_postgres::test(tables(Department, Employee))]
async fn a_shared_foreign_key_is_filled_from_a_new_parent(db: Database) {
    let dept = db
        .fetch_one(insert(&Department {
            id: 0,
            title: "R&D".into(),
        }))
        .await
        .unwrap();
    let mut s = db.session();
    s.add(Employee::from(Manager {
        department_id: Some(dept.id),
        ..Manager::new("ann", 1)
    }));
    s.commit().await.unwrap();
    let in_dept: Vec<Employee> = db
        .fetch_all(select::<Employee>().filter(Manager::department_id.eq(dept.id)))
        .await
        .unwrap();
    assert_eq!(in_dept.len(), 1);
}

/// The README's example, step by step.
#[orm_postgres::test]
async fn the_readme_example(db: Database) -> orm_postgres::Result<()> {
    db.create_all(&[Department::TABLE, Employee::TABLE]).await?;
    db.execute(insert(&Manager::new("ann", 100))).await?;
    db.execute(insert(&Engineer::new("bob", "rust"))).await?;

    let all: Vec<Employee> = db
        .fetch_all(select::<Employee>().order_by(Manager::id))
        .await?;
    assert!(matches!(&all[1], Employee::Engineer(e) if e.language == "rust"));
    let managers: Vec<Manager> = db.fetch_all(select::<Manager>()).await?;
    assert_eq!(managers.len(), 1);
    let bobs = db
        .fetch_all(select::<Employee>().filter(Manager::name.eq("bob")))
        .await?;
    assert_eq!(bobs, [all[1].clone()]);

    let mut s = db.session();
    let ann = s.get::<Employee>(managers[0].id).await?.unwrap();
    if let Employee::Manager(m) = &mut *ann.write() {
        m.budget = 250;
    }
    assert_queries!(
        s,
        [
            r#"UPDATE "employees" SET "budget" = "orm_v"."v0" FROM *"#,
            "COMMIT"
        ],
        async { s.commit().await }
    )?;
    let cid = s.add(Employee::from(Engineer::new("cid", "go")));
    s.commit().await?;
    assert!(cid.pk() > 0);
    assert_eq!(db.fetch_one(select::<Engineer>().count()).await?, 2);
    assert_eq!(db.fetch_all(select::<Manager>()).await?[0].budget, 250);
    Ok(())
}

#[orm_postgres::test(tables(Department, Employee, Review))]
async fn a_relationship_to_the_enum_loads_each_row_as_its_variant(db: Database) {
    let ann = db.fetch_one(insert(&Manager::new("ann", 1))).await.unwrap();
    let bob = db
        .fetch_one(insert(&Engineer::new("bob", "rust")))
        .await
        .unwrap();
    let review = |employee_id, score| Review {
        id: 0,
        employee_id,
        score,
        employee: Related::default(),
    };
    db.fetch_all(insert_many(&[review(ann.id, 5), review(bob.id, 4)]))
        .await
        .unwrap();

    // Core: one query per relationship level.
    let reviews = assert_queries!(db, 2, async {
        db.fetch_all(
            select::<Review>()
                .order_by(Review::score.desc())
                .load(Review::employee.selectin()),
        )
        .await
    })
    .unwrap();
    assert_eq!(
        reviews[0].employee.get().unwrap(),
        &Employee::Manager(ann.clone())
    );
    assert_eq!(
        reviews[1].employee.get().unwrap(),
        &Employee::Engineer(bob.clone())
    );

    // The session links the loaded employees into its identity map.
    let mut s = db.session();
    let a = s.get::<Employee>(ann.id).await.unwrap().unwrap();
    let tracked = s
        .all(
            select::<Review>()
                .order_by(Review::score.desc())
                .load(Review::employee.joined()),
        )
        .await
        .unwrap();
    let linked = s
        .related_one(&tracked[0], Review::employee)
        .unwrap()
        .unwrap();
    assert!(
        Tracked::ptr_eq(&a, &linked),
        "the identity map's object, keyed on the shared key"
    );
}

/// A large batch of new enum objects goes by `COPY` with keys taken from the sequence first:
/// every row has its variant's discriminator and columns, and each object its own key.
#[orm_postgres::test(tables(Department, Employee))]
async fn a_large_batch_of_new_variants_goes_by_copy_with_their_keys(db: Database) {
    let mut s = db.session();
    let added = s.add_all((0..1_200).map(|i| {
        if i % 3 == 0 {
            Employee::from(Manager::new(&format!("m{i}"), i))
        } else {
            Employee::from(Engineer::new(&format!("e{i}"), "rust"))
        }
    }));
    assert_queries!(
        s,
        [
            "BEGIN*",
            "WITH s AS MATERIALIZED *",
            r#"COPY "employees" ("id", *) FROM STDIN (FORMAT binary)"#,
            "COMMIT"
        ],
        async { s.commit().await }
    )
    .unwrap();
    let in_db: std::collections::HashMap<i64, (String, String)> = db
        .fetch_all(orm_postgres::raw::query::<(i64, String, String)>(
            "SELECT id, kind, name FROM employees",
        ))
        .await
        .unwrap()
        .into_iter()
        .map(|(id, kind, name)| (id, (kind, name)))
        .collect();
    assert_eq!(in_db.len(), 1_200);
    for e in &added {
        let (id, kind, name) = match &*e.read() {
            Employee::Manager(m) => (m.id, "manager", m.name.clone()),
            Employee::Engineer(x) => (x.id, "engineer", x.name.clone()),
        };
        assert_eq!(in_db[&id], (kind.to_owned(), name));
    }
    let managers: Vec<Manager> = db.fetch_all(select::<Manager>()).await.unwrap();
    assert_eq!(managers.len(), 400);
    assert!(
        managers
            .iter()
            .all(|m| m.budget == m.name[1..].parse::<i32>().unwrap())
    );
}
