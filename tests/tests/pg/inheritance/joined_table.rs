//! Joined-table inheritance: DDL, reads of the enum and of its variants, and the session's
//! statements (base then subtype on insert, only the changed table on update, subtype then
//! base on delete).

use orm_postgres::meta::PolymorphicLoad;
use orm_postgres::prelude::*;
use orm_postgres::{ErrorKind, assert_queries};
use orm_tests::joined::{Chief, Crew, Developer, Lead, Staff, Team};

/// (table, column, type, nullable) of the three tables, as the server has them.
async fn columns(db: &Database) -> Vec<(String, String, String, bool)> {
    db.fetch_all(orm_postgres::raw::query::<(String, String, String, bool)>(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable = 'YES' \
         FROM information_schema.columns \
         WHERE table_name IN ('staff', 'chiefs', 'developers') \
         ORDER BY table_name, ordinal_position",
    ))
    .await
    .unwrap()
}

/// Three staff members through the session: a chief and two developers.
async fn seed(db: &Database) -> (Chief, Developer, Developer) {
    let mut s = db.session();
    let ann = s.add(Staff::from(Chief::new("ann", 100)));
    let bob = s.add(Staff::from(Developer::new("bob", "rust")));
    let cid = s.add(Staff::from(Developer {
        level: Some(3),
        ..Developer::new("cid", "c")
    }));
    s.commit().await.unwrap();
    let chief = |t: &Tracked<Staff>| match &*t.read() {
        Staff::Chief(c) => c.clone(),
        other => panic!("not a chief: {other:?}"),
    };
    let dev = |t: &Tracked<Staff>| match &*t.read() {
        Staff::Developer(d) => d.clone(),
        other => panic!("not a developer: {other:?}"),
    };
    (chief(&ann), dev(&bob), dev(&cid))
}

#[orm_postgres::test(tables(Team, Staff))]
async fn create_all_makes_the_base_table_and_one_table_per_subtype(db: Database) {
    let cols = columns(&db).await;
    let cols: Vec<(&str, &str, &str, bool)> = cols
        .iter()
        .map(|(t, c, ty, n)| (t.as_str(), c.as_str(), ty.as_str(), *n))
        .collect();
    assert_eq!(
        cols,
        [
            ("chiefs", "id", "bigint", false),
            ("chiefs", "budget", "integer", false),
            ("developers", "id", "bigint", false),
            ("developers", "language", "text", false),
            ("developers", "level", "smallint", true),
            ("staff", "id", "bigint", false),
            ("staff", "name", "text", false),
            ("staff", "team_id", "bigint", true),
            ("staff", "role", "text", false),
        ]
    );
    // Each subtype key references the base key, ON DELETE CASCADE.
    let fks: Vec<(String, String)> = db
        .fetch_all(orm_postgres::raw::query::<(String, String)>(
            "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE contype = 'f' AND confrelid = 'staff'::regclass ORDER BY 1",
        ))
        .await
        .unwrap();
    let fks: Vec<(&str, &str)> = fks.iter().map(|(t, d)| (t.as_str(), d.as_str())).collect();
    assert_eq!(
        fks,
        [
            (
                "chiefs",
                "FOREIGN KEY (id) REFERENCES staff(id) ON DELETE CASCADE"
            ),
            (
                "developers",
                "FOREIGN KEY (id) REFERENCES staff(id) ON DELETE CASCADE"
            ),
        ]
    );
}

#[orm_postgres::test(tables(Team, Staff))]
async fn the_session_inserts_the_base_row_then_the_subtype_row(db: Database) {
    let mut s = db.session();
    let ann = s.add(Staff::from(Chief::new("ann", 100)));
    let bob = s.add(Staff::from(Developer::new("bob", "rust")));
    // The base rows of both variants in one INSERT reading back the keys; then each subtype
    // table's rows, with those keys.
    assert_queries!(
        s,
        [
            "BEGIN*",
            r#"INSERT INTO "staff" ("name", "team_id", "role") SELECT * RETURNING "id""#,
            r#"INSERT INTO "chiefs" ("id", "budget") SELECT *"#,
            r#"INSERT INTO "developers" ("id", "language", "level") SELECT *"#,
            "COMMIT"
        ],
        async { s.commit().await }
    )
    .unwrap();
    assert!(ann.pk() > 0 && bob.pk() == ann.pk() + 1);
    let rows: Vec<(i64, String, String)> = db
        .fetch_all(orm_postgres::raw::query::<(i64, String, String)>(
            "SELECT s.id, s.role, coalesce(c.budget::text, d.language) FROM staff s \
             LEFT JOIN chiefs c USING (id) LEFT JOIN developers d USING (id) ORDER BY s.id",
        ))
        .await
        .unwrap();
    assert_eq!(
        rows,
        [
            (ann.pk(), "chief".to_owned(), "100".to_owned()),
            (bob.pk(), "developer".to_owned(), "rust".to_owned()),
        ]
    );
}

#[orm_postgres::test(tables(Team, Staff))]
async fn the_enum_reads_each_row_as_its_variant_through_a_left_join(db: Database) {
    let (ann, bob, cid) = seed(&db).await;
    let all = assert_queries!(
        db,
        [r#"SELECT "staff"."id", "staff"."name", "staff"."team_id", "chiefs"."budget", "staff"."role", "developers"."language", "developers"."level" FROM "staff" LEFT JOIN "chiefs" ON "chiefs"."id" = "staff"."id" LEFT JOIN "developers" ON "developers"."id" = "staff"."id" ORDER BY "staff"."id""#],
        async { db.fetch_all(select::<Staff>().order_by(Chief::id)).await }
    )
    .unwrap();
    assert_eq!(
        all,
        [
            Staff::Chief(ann.clone()),
            Staff::Developer(bob.clone()),
            Staff::Developer(cid.clone())
        ]
    );
    assert_eq!(ann.budget, 100);
    assert_eq!((cid.language.as_str(), cid.level), ("c", Some(3)));
    // Filters on a shared column, and on a subtype column, of the enum.
    let named = db
        .fetch_all(select::<Staff>().filter(Developer::name.eq("bob")))
        .await
        .unwrap();
    assert_eq!(named, [Staff::Developer(bob.clone())]);
    let rich = db
        .fetch_all(select::<Staff>().filter(Chief::budget.ge(50)))
        .await
        .unwrap();
    assert_eq!(rich, [Staff::Chief(ann.clone())]);
    assert_eq!(db.fetch_one(select::<Staff>().count()).await.unwrap(), 3);
}

#[orm_postgres::test(tables(Team, Staff))]
async fn a_variant_reads_its_rows_through_an_inner_join(db: Database) {
    let (ann, bob, cid) = seed(&db).await;
    let chiefs = assert_queries!(
        db,
        [r#"SELECT "staff"."id", "staff"."name", "staff"."team_id", "chiefs"."budget", "staff"."role" FROM "staff" JOIN "chiefs" ON "chiefs"."id" = "staff"."id" WHERE "staff"."role" = $1"#],
        async { db.fetch_all(select::<Chief>()).await }
    )
    .unwrap();
    assert_eq!(chiefs, [ann]);
    let devs = db
        .fetch_all(
            select::<Developer>()
                .filter(Developer::language.ne("go"))
                .order_by(Developer::name.desc()),
        )
        .await
        .unwrap();
    assert_eq!(devs, [cid.clone(), bob.clone()]);
    let leveled = db
        .fetch_all(select::<Developer>().filter(Developer::level.is_not_null()))
        .await
        .unwrap();
    assert_eq!(leveled, [cid]);
    assert_eq!(
        db.fetch_one(select::<Developer>().count()).await.unwrap(),
        2
    );
    // A shared column's filter on a variant: bob is no chief.
    let none = db
        .fetch_all(select::<Chief>().filter(Chief::name.eq("bob")))
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[orm_postgres::test(tables(Team, Staff))]
async fn an_update_touches_only_the_table_whose_columns_changed(db: Database) {
    seed(&db).await;
    let mut s = db.session();
    let all = s.all(select::<Staff>().order_by(Chief::id)).await.unwrap();
    let (ann, bob) = (&all[0], &all[1]);
    if let Staff::Chief(c) = &mut *ann.write() {
        c.budget = 250;
    }
    assert_queries!(
        s,
        [
            r#"UPDATE "chiefs" SET "budget" = "orm_v"."v0" FROM * WHERE "chiefs"."id" = "orm_v"."k0""#,
            "COMMIT"
        ],
        async { s.commit().await }
    )
    .unwrap();
    if let Staff::Developer(d) = &mut *bob.write() {
        d.name = "robert".into();
    }
    assert_queries!(
        s,
        [
            "BEGIN*",
            r#"UPDATE "staff" SET "name" = "orm_v"."v0" FROM * WHERE "staff"."id" = "orm_v"."k0""#,
            "COMMIT"
        ],
        async { s.commit().await }
    )
    .unwrap();
    // Both tables: one UPDATE each, the base table's first.
    if let Staff::Developer(d) = &mut *bob.write() {
        d.name = "rob".into();
        d.level = Some(9);
    }
    assert_queries!(
        s,
        [
            "BEGIN*",
            r#"UPDATE "staff" SET "name" = *"#,
            r#"UPDATE "developers" SET "level" = *"#,
            "COMMIT"
        ],
        async { s.commit().await }
    )
    .unwrap();
    let chief = db.fetch_one(select::<Chief>()).await.unwrap();
    assert_eq!((chief.name.as_str(), chief.budget), ("ann", 250));
    let rob = db
        .fetch_one(select::<Developer>().filter(Developer::id.eq(bob.pk())))
        .await
        .unwrap();
    assert_eq!((rob.name.as_str(), rob.level), ("rob", Some(9)));
}

#[orm_postgres::test(tables(Team, Staff))]
async fn a_delete_removes_the_subtype_row_then_the_base_row(db: Database) {
    seed(&db).await;
    let mut s = db.session();
    let all = s.all(select::<Staff>().order_by(Chief::id)).await.unwrap();
    s.delete(&all[0]).unwrap();
    s.delete(&all[1]).unwrap();
    assert_queries!(
        s,
        [
            r#"DELETE FROM "chiefs" USING *"#,
            r#"DELETE FROM "developers" USING *"#,
            r#"DELETE FROM "staff" USING *"#,
            "COMMIT"
        ],
        async { s.commit().await }
    )
    .unwrap();
    let left = db.fetch_all(select::<Staff>()).await.unwrap();
    assert!(matches!(&left[..], [Staff::Developer(d)] if d.name == "cid"));
    let rows: i64 = db
        .fetch_one(orm_postgres::raw::query::<i64>(
            "SELECT (SELECT count(*) FROM chiefs) + (SELECT count(*) FROM developers)",
        ))
        .await
        .unwrap();
    assert_eq!(rows, 1);
}

#[orm_postgres::test(tables(Team, Staff))]
async fn the_identity_map_is_keyed_on_the_base_key(db: Database) {
    let mut s = db.session();
    let ann = s.add(Staff::from(Chief::new("ann", 100)));
    s.commit().await.unwrap();
    let again = s.get::<Staff>(ann.pk()).await.unwrap().unwrap();
    assert!(Tracked::ptr_eq(&ann, &again), "one object per row");

    let mut s2 = db.session();
    let a = s2.get::<Staff>(ann.pk()).await.unwrap().unwrap();
    assert_eq!(
        *a.read(),
        Staff::Chief(Chief {
            id: ann.pk(),
            ..Chief::new("ann", 100)
        })
    );
    let all = s2.all(select::<Staff>()).await.unwrap();
    assert!(Tracked::ptr_eq(&a, &all[0]));
    // A change made elsewhere, refreshed from both tables.
    db.batch_execute("UPDATE chiefs SET budget = 7; UPDATE staff SET name = 'anne'")
        .await
        .unwrap();
    s2.refresh(&a).await.unwrap();
    assert!(matches!(&*a.read(), Staff::Chief(c) if c.budget == 7 && c.name == "anne"));
}

#[orm_postgres::test(tables(Team, Staff))]
async fn constraint_violations_are_typed_errors(db: Database) {
    seed(&db).await;
    // `name` is unique in the base table.
    let mut s = db.session();
    s.add(Staff::from(Developer::new("ann", "go")));
    let err = s.commit().await.unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    // A subtype row needs its base row.
    let err = db
        .batch_execute("INSERT INTO chiefs (id, budget) VALUES (999, 1)")
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::ForeignKeyViolation(_)),
        "{err:?}"
    );
}

#[orm_postgres::test(tables(Team, Staff))]
async fn core_updates_and_deletes_reach_the_right_tables(db: Database) {
    let (ann, bob, cid) = seed(&db).await;
    let n = db
        .execute(update::<Chief>().set(Chief::budget, 5))
        .await
        .unwrap();
    assert_eq!(n, 1);
    let n = db
        .execute(
            update::<Developer>()
                .set(Developer::name, "robert".to_string())
                .filter(Developer::language.eq("rust")),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    // Deleting a variant's rows deletes their base rows; the subtype rows cascade.
    let n = db
        .execute(delete::<Developer>().filter(Developer::level.is_not_null()))
        .await
        .unwrap();
    assert_eq!(n, 1);
    let all = db
        .fetch_all(select::<Staff>().order_by(Chief::id))
        .await
        .unwrap();
    assert_eq!(
        all,
        [
            Staff::Chief(Chief { budget: 5, ..ann }),
            Staff::Developer(Developer {
                name: "robert".into(),
                ..bob
            })
        ]
    );
    let left: i64 = db
        .fetch_one(
            orm_postgres::raw::query::<i64>("SELECT count(*) FROM developers WHERE id = :id")
                .bind("id", cid.id),
        )
        .await
        .unwrap();
    assert_eq!(left, 0, "the subtype row went with its base row");
}

#[orm_postgres::test(tables(Team, Staff))]
async fn writes_one_statement_cannot_do_are_typed_errors(db: Database) {
    let err = db.execute(insert(&Chief::new("ann", 1))).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidStatement(_)),
        "{err:?}"
    );
    let err = db
        .copy_in(&[Staff::from(Chief::new("ann", 1))])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("joined-table"), "{err}");
    let err = db.copy_out::<Chief>().await.err().unwrap();
    assert!(err.to_string().contains("joined-table"), "{err}");
    // Nothing was written.
    assert_eq!(db.fetch_one(select::<Staff>().count()).await.unwrap(), 0);
}

#[orm_postgres::test(tables(Team, Staff))]
async fn selectin_loading_reads_keys_then_each_variant_present(db: Database) {
    let (ann, bob, cid) = seed(&db).await;
    let joined = db
        .fetch_all(select::<Staff>().order_by(Chief::name.desc()))
        .await
        .unwrap();
    let query = select::<Staff>()
        .polymorphic(PolymorphicLoad::SelectIn)
        .order_by(Chief::name.desc());
    let selectin = assert_queries!(
        db,
        [
            r#"SELECT "staff"."id", "staff"."role" FROM "staff" ORDER BY "staff"."name" DESC"#,
            r#"SELECT "staff"."id", "staff"."name", "staff"."team_id", "chiefs"."budget", "staff"."role", NULL, NULL FROM "staff" JOIN "chiefs" ON "chiefs"."id" = "staff"."id" WHERE "staff"."id" = ANY($1)"#,
            r#"SELECT "staff"."id", "staff"."name", "staff"."team_id", NULL, "staff"."role", "developers"."language", "developers"."level" FROM "staff" JOIN "developers" ON "developers"."id" = "staff"."id" WHERE "staff"."id" = ANY($1)"#
        ],
        async { db.fetch_all(query).await }
    )
    .unwrap();
    assert_eq!(selectin, joined, "both strategies load the same enums");
    assert_eq!(
        selectin,
        [
            Staff::Developer(cid),
            Staff::Developer(bob.clone()),
            Staff::Chief(ann)
        ]
    );
    // Only the variants present are queried.
    let devs = assert_queries!(db, 2, async {
        db.fetch_all(
            select::<Staff>()
                .polymorphic(PolymorphicLoad::SelectIn)
                .filter(Developer::name.eq("bob")),
        )
        .await
    })
    .unwrap();
    assert_eq!(devs, [Staff::Developer(bob)]);
    // A subtype column in the filter: the first query LEFT JOINs its table
    // (joined_filters.rs has the SQL).
    let rich = db
        .fetch_all(
            select::<Staff>()
                .polymorphic(PolymorphicLoad::SelectIn)
                .filter(Chief::budget.gt(1)),
        )
        .await
        .unwrap();
    assert!(matches!(&rich[..], [Staff::Chief(c)] if c.budget == 100));
}

#[orm_postgres::test(tables(Team, Staff))]
async fn an_enum_can_load_selectin_by_default(db: Database) {
    let (ann, _, _) = seed(&db).await;
    let all = assert_queries!(db, 3, async {
        db.fetch_all(select::<Crew>().order_by(Lead::id)).await
    })
    .unwrap();
    assert!(matches!(&all[0], Crew::Lead(l) if l.id == ann.id && l.budget == 100));
    assert!(matches!(&all[2], Crew::Coder(c) if c.level == Some(3)));
    // ... unless the query says otherwise.
    let joined = assert_queries!(db, 1, async {
        db.fetch_all(
            select::<Crew>()
                .polymorphic(PolymorphicLoad::Joined)
                .order_by(Lead::id),
        )
        .await
    })
    .unwrap();
    assert_eq!(joined, all);
    // The session: one object per row either way.
    let mut s = db.session();
    let lead = s.get::<Crew>(ann.id).await.unwrap().unwrap();
    let tracked = s.all(select::<Crew>().order_by(Lead::id)).await.unwrap();
    assert_eq!(tracked.len(), 3);
    assert!(Tracked::ptr_eq(&lead, &tracked[0]));
    assert_eq!(db.fetch_one(select::<Crew>().count()).await.unwrap(), 3);
}

/// The statements each strategy sends for the same query, as snapshots.
#[orm_postgres::test(tables(Team, Staff))]
async fn sql_of_both_loading_strategies(db: Database) {
    seed(&db).await;
    for load in [PolymorphicLoad::Joined, PolymorphicLoad::SelectIn] {
        let log = db.statement_log();
        let rows = db
            .fetch_all(
                select::<Staff>()
                    .polymorphic(load)
                    .filter(Chief::name.ne("zed"))
                    .order_by(Chief::id)
                    .limit(10),
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), 3);
        insta::assert_snapshot!(format!("{load:?}"), log.finish().join(";\n"));
    }
}

/// Two teams; ann (chief) and bob (developer) in red, cid (developer) in blue.
async fn teams(db: &Database) -> (Team, Team) {
    let team = |title: &str| Team {
        id: 0,
        title: title.into(),
        members: Related::default(),
    };
    let red = db.fetch_one(insert(&team("red"))).await.unwrap();
    let blue = db.fetch_one(insert(&team("blue"))).await.unwrap();
    let mut s = db.session();
    s.add(Staff::from(Chief {
        team_id: Some(red.id),
        ..Chief::new("ann", 1)
    }));
    s.add(Staff::from(Developer {
        team_id: Some(red.id),
        ..Developer::new("bob", "rust")
    }));
    s.add(Staff::from(Developer {
        team_id: Some(blue.id),
        ..Developer::new("cid", "go")
    }));
    s.commit().await.unwrap();
    (red, blue)
}

fn member_names(team: &Team) -> Vec<String> {
    let mut names: Vec<String> = team
        .members
        .get()
        .unwrap()
        .iter()
        .map(|m| match m {
            Staff::Chief(c) => format!("chief {}", c.name),
            Staff::Developer(d) => format!("developer {} ({})", d.name, d.language),
        })
        .collect();
    names.sort();
    names
}

#[orm_postgres::test(tables(Team, Staff))]
async fn a_variant_belongs_to_a_model_loaded_selectin_or_joined(db: Database) {
    let (red, _) = teams(&db).await;
    let chiefs = assert_queries!(db, 2, async {
        db.fetch_all(select::<Chief>().load(Chief::team.selectin()))
            .await
    })
    .unwrap();
    assert_eq!(chiefs.len(), 1);
    let team = chiefs[0].team.get().unwrap().as_ref().unwrap();
    assert_eq!((team.id, team.title.as_str()), (red.id, "red"));
    let joined = assert_queries!(db, 1, async {
        db.fetch_all(select::<Chief>().load(Chief::team.joined()))
            .await
    })
    .unwrap();
    assert_eq!(
        joined[0].team.get().unwrap().as_ref().map(|t| t.id),
        Some(red.id)
    );
}

#[orm_postgres::test(tables(Team, Staff))]
async fn a_model_has_many_of_the_enum_loaded_selectin_or_joined(db: Database) {
    let (red, blue) = teams(&db).await;
    let expected = [
        vec!["chief ann".to_owned(), "developer bob (rust)".to_owned()],
        vec!["developer cid (go)".to_owned()],
    ];
    let loaded = assert_queries!(db, 2, async {
        db.fetch_all(
            select::<Team>()
                .order_by(Team::id)
                .load(Team::members.selectin()),
        )
        .await
    })
    .unwrap();
    assert_eq!((loaded[0].id, loaded[1].id), (red.id, blue.id));
    assert_eq!(
        [member_names(&loaded[0]), member_names(&loaded[1])],
        expected
    );
    let joined = assert_queries!(db, 1, async {
        db.fetch_all(
            select::<Team>()
                .order_by(Team::id)
                .load(Team::members.joined()),
        )
        .await
    })
    .unwrap();
    assert_eq!(
        [member_names(&joined[0]), member_names(&joined[1])],
        expected
    );

    // The session links the members into its identity map, keyed on the base key.
    let mut s = db.session();
    let all = s.all(select::<Staff>().order_by(Chief::id)).await.unwrap();
    let teams = s
        .all(
            select::<Team>()
                .order_by(Team::id)
                .load(Team::members.selectin()),
        )
        .await
        .unwrap();
    let members = s.related(&teams[0], Team::members).unwrap();
    assert_eq!(members.len(), 2);
    assert!(members.iter().any(|m| Tracked::ptr_eq(m, &all[0])));
}

/// The README's joined-table example, step by step.
#[orm_postgres::test]
async fn the_readme_example(db: Database) -> orm_postgres::Result<()> {
    db.create_all(&[Team::TABLE, Staff::TABLE]).await?;
    let mut s = db.session();
    let ann = s.add(Staff::from(Chief::new("ann", 100)));
    s.add(Staff::from(Developer::new("bob", "rust")));
    assert_queries!(
        s,
        [
            "BEGIN*",
            r#"INSERT INTO "staff" *"#,
            r#"INSERT INTO "chiefs" *"#,
            r#"INSERT INTO "developers" *"#,
            "COMMIT"
        ],
        async { s.commit().await }
    )?;

    let all = db.fetch_all(select::<Staff>().order_by(Chief::id)).await?;
    let same = db
        .fetch_all(
            select::<Staff>()
                .polymorphic(PolymorphicLoad::SelectIn)
                .order_by(Chief::id),
        )
        .await?;
    assert_eq!(all, same);
    assert_eq!(all.len(), 2);
    let chiefs = db
        .fetch_all(select::<Chief>().filter(Chief::budget.gt(50)))
        .await?;
    assert_eq!(chiefs.len(), 1);

    if let Staff::Chief(c) = &mut *ann.write() {
        c.budget = 250;
    }
    assert_queries!(
        s,
        ["BEGIN*", r#"UPDATE "chiefs" SET "budget" = *"#, "COMMIT"],
        async { s.commit().await }
    )?;
    s.delete(&ann)?;
    assert_queries!(
        s,
        [
            "BEGIN*",
            r#"DELETE FROM "chiefs" *"#,
            r#"DELETE FROM "staff" *"#,
            "COMMIT"
        ],
        async { s.commit().await }
    )?;
    assert_eq!(db.fetch_one(select::<Staff>().count()).await?, 1);
    Ok(())
}
