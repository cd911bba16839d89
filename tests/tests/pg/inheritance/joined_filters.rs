//! Filters and keys of joined-table enums that the plain `LEFT JOIN` gets wrong or selectin
//! could not read: subtype columns in a selectin query's filter and ordering, null tests of
//! subtype columns (which the padded `NULL`s of the other variants would satisfy), and
//! composite primary keys loaded selectin.

use orm_postgres::assert_queries;
use orm_postgres::meta::PolymorphicLoad;
use orm_postgres::prelude::*;
use orm_tests::joined::{Asset, Boat, Car, Chief, Developer, Staff, Team};

/// ann (chief, budget 100), bob (developer, no level), cid (developer, level 3), dee (chief,
/// budget 7).
async fn seed(db: &Database) {
    let mut s = db.session();
    s.add(Staff::from(Chief::new("ann", 100)));
    s.add(Staff::from(Developer::new("bob", "rust")));
    s.add(Staff::from(Developer {
        level: Some(3),
        ..Developer::new("cid", "c")
    }));
    s.add(Staff::from(Chief::new("dee", 7)));
    s.commit().await.unwrap();
}

fn names(all: &[Staff]) -> Vec<&str> {
    all.iter()
        .map(|m| match m {
            Staff::Chief(c) => c.name.as_str(),
            Staff::Developer(d) => d.name.as_str(),
        })
        .collect()
}

#[orm_postgres::test(tables(Team, Staff))]
async fn a_selectin_query_filters_and_orders_by_subtype_columns(db: Database) {
    seed(&db).await;
    let rich = assert_queries!(
        db,
        [
            r#"SELECT "staff"."id", "staff"."role" FROM "staff" LEFT JOIN "chiefs" ON "chiefs"."id" = "staff"."id" WHERE "chiefs"."budget" > $1 ORDER BY "chiefs"."budget" DESC"#,
            r#"SELECT "staff"."id", "staff"."name", "staff"."team_id", "chiefs"."budget", "staff"."role", NULL, NULL FROM "staff" JOIN "chiefs" ON "chiefs"."id" = "staff"."id" WHERE "staff"."id" = ANY($1)"#
        ],
        async {
            db.fetch_all(
                select::<Staff>()
                    .polymorphic(PolymorphicLoad::SelectIn)
                    .filter(Chief::budget.gt(1))
                    .order_by(Chief::budget.desc()),
            )
            .await
        }
    )
    .unwrap();
    assert_eq!(names(&rich), ["ann", "dee"]);
    // Both subtype tables, in the filter and in the ordering: only those are joined.
    let query = select::<Staff>()
        .polymorphic(PolymorphicLoad::SelectIn)
        .filter(Chief::budget.lt(50).or(Developer::language.eq("rust")))
        .order_by(Developer::level.desc().nulls_last())
        .order_by(Chief::name);
    let some = assert_queries!(
        db,
        [
            r#"SELECT "staff"."id", "staff"."role" FROM "staff" LEFT JOIN "chiefs" ON "chiefs"."id" = "staff"."id" LEFT JOIN "developers" ON "developers"."id" = "staff"."id" WHERE ("chiefs"."budget" < $1) OR ("developers"."language" = $2) ORDER BY "developers"."level" DESC NULLS LAST, "staff"."name""#,
            r#"SELECT * FROM "staff" JOIN "chiefs" *"#,
            r#"SELECT * FROM "staff" JOIN "developers" *"#
        ],
        async { db.fetch_all(query).await }
    )
    .unwrap();
    assert_eq!(names(&some), ["bob", "dee"]);
    // The joined form agrees.
    let joined = db
        .fetch_all(
            select::<Staff>()
                .filter(Chief::budget.lt(50).or(Developer::language.eq("rust")))
                .order_by(Developer::level.desc().nulls_last())
                .order_by(Chief::name),
        )
        .await
        .unwrap();
    assert_eq!(joined, some);
}

#[orm_postgres::test(tables(Team, Staff))]
async fn a_null_test_of_a_subtype_column_holds_only_for_that_subtype(db: Database) {
    seed(&db).await;
    // Chiefs have NULL in developers.level through the LEFT JOIN: not "developers without a
    // level".
    let unleveled = assert_queries!(
        db,
        [r#"SELECT * FROM "staff" LEFT JOIN "chiefs" * LEFT JOIN "developers" * WHERE ("developers"."level" IS NULL) AND ("developers"."id" IS NOT NULL)"#],
        async {
            db.fetch_all(select::<Staff>().filter(Developer::level.is_null()))
                .await
        }
    )
    .unwrap();
    assert_eq!(names(&unleveled), ["bob"]);
    // Its negation is everyone else.
    let others = db
        .fetch_all(
            select::<Staff>()
                .filter(Developer::level.is_null().not())
                .order_by(Chief::id),
        )
        .await
        .unwrap();
    assert_eq!(names(&others), ["ann", "cid", "dee"]);
    // The same through selectin.
    let selectin = db
        .fetch_all(
            select::<Staff>()
                .polymorphic(PolymorphicLoad::SelectIn)
                .filter(Developer::level.is_null()),
        )
        .await
        .unwrap();
    assert_eq!(names(&selectin), ["bob"]);
    // And a DELETE through the enum removes bob only (it used to remove every chief too).
    let n = assert_queries!(
        db,
        [r#"DELETE FROM "staff" WHERE ("staff"."id") IN (SELECT "staff"."id" FROM "staff" LEFT JOIN "chiefs" ON "chiefs"."id" = "staff"."id" LEFT JOIN "developers" ON "developers"."id" = "staff"."id" WHERE ("developers"."level" IS NULL) AND ("developers"."id" IS NOT NULL))"#],
        async {
            db.execute(delete::<Staff>().filter(Developer::level.is_null()))
                .await
        }
    )
    .unwrap();
    assert_eq!(n, 1);
    let left = db
        .fetch_all(select::<Staff>().order_by(Chief::id))
        .await
        .unwrap();
    assert_eq!(names(&left), ["ann", "cid", "dee"]);
}

#[orm_postgres::test(tables(Team, Staff))]
async fn coalesce_over_a_subtype_column_holds_only_for_that_subtype(db: Database) {
    seed(&db).await;
    // coalesce(level, 0) = 0 on a chief would be coalesce(NULL, 0) = 0: true without the guard.
    let unleveled = assert_queries!(
        db,
        [r#"SELECT * FROM "staff" LEFT JOIN "chiefs" * LEFT JOIN "developers" * WHERE (coalesce("developers"."level", $1) = $2) AND ("developers"."id" IS NOT NULL)"#],
        async {
            db.fetch_all(select::<Staff>().filter(func::coalesce(Developer::level, 0_i16).eq(0_i16)))
                .await
        }
    )
    .unwrap();
    assert_eq!(names(&unleveled), ["bob"]);
    // A plain comparison keeps its SQL: it is already false on padded NULLs.
    let cids = assert_queries!(
        db,
        [r#"SELECT * FROM "staff" LEFT JOIN "chiefs" * LEFT JOIN "developers" * WHERE "developers"."level" = $1"#],
        async { db.fetch_all(select::<Staff>().filter(Developer::level.eq(3_i16))).await }
    )
    .unwrap();
    assert_eq!(names(&cids), ["cid"]);
    // And a DELETE through the enum removes bob only, not every chief too.
    let n = db
        .execute(delete::<Staff>().filter(func::coalesce(Developer::level, 0_i16).eq(0_i16)))
        .await
        .unwrap();
    assert_eq!(n, 1);
    let left = db
        .fetch_all(select::<Staff>().order_by(Chief::id))
        .await
        .unwrap();
    assert_eq!(names(&left), ["ann", "cid", "dee"]);
}

#[orm_postgres::test]
async fn a_composite_key_enum_loads_selectin(db: Database) {
    // `create_all` keys each subtype table to the base with one two-column foreign key (one
    // per column would be refused: 42830).
    db.create_all(&[Asset::TABLE]).await.unwrap();
    let fks: Vec<(String, String)> = db
        .fetch_all(orm_postgres::raw::query::<(String, String)>(
            "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE contype = 'f' AND confrelid = 'assets'::regclass ORDER BY 1",
        ))
        .await
        .unwrap();
    let fks: Vec<(&str, &str)> = fks.iter().map(|(t, d)| (t.as_str(), d.as_str())).collect();
    let key = "FOREIGN KEY (owner, n) REFERENCES assets(owner, n) ON DELETE CASCADE";
    assert_eq!(fks, [("boats", key), ("cars", key)]);
    let mut s = db.session();
    for (owner, n, asset) in [(1, 1, "car"), (1, 2, "boat"), (2, 1, "boat"), (2, 2, "car")] {
        s.add(match asset {
            "car" => Asset::from(Car {
                owner,
                n,
                label: format!("car {owner}/{n}"),
                wheels: 4,
            }),
            _ => Asset::from(Boat {
                owner,
                n,
                label: format!("boat {owner}/{n}"),
                sails: Some(2),
            }),
        });
    }
    s.commit().await.unwrap();
    let all = assert_queries!(
        db,
        [
            r#"SELECT "assets"."owner", "assets"."n", "assets"."kind" FROM "assets" ORDER BY "assets"."owner" DESC, "assets"."n""#,
            r#"SELECT "assets"."owner", "assets"."n", "assets"."label", "cars"."wheels", "assets"."kind", NULL FROM "assets" JOIN "cars" ON ("cars"."owner" = "assets"."owner") AND ("cars"."n" = "assets"."n") WHERE ("assets"."owner", "assets"."n") IN (SELECT * FROM unnest(CAST($1 AS BIGINT[]), CAST($2 AS INTEGER[])) AS "orm_keys")"#,
            r#"SELECT "assets"."owner", "assets"."n", "assets"."label", NULL, "assets"."kind", "boats"."sails" FROM "assets" JOIN "boats" ON ("boats"."owner" = "assets"."owner") AND ("boats"."n" = "assets"."n") WHERE ("assets"."owner", "assets"."n") IN (SELECT * FROM unnest(CAST($1 AS BIGINT[]), CAST($2 AS INTEGER[])) AS "orm_keys")"#
        ],
        async {
            db.fetch_all(
                select::<Asset>()
                    .order_by(Car::owner.desc())
                    .order_by(Car::n),
            )
            .await
        }
    )
    .unwrap();
    let labels: Vec<String> = all
        .iter()
        .map(|a| match a {
            Asset::Car(c) => format!("{} ({} wheels)", c.label, c.wheels),
            Asset::Boat(b) => format!("{} ({:?} sails)", b.label, b.sails),
        })
        .collect();
    assert_eq!(
        labels,
        [
            "boat 2/1 (Some(2) sails)",
            "car 2/2 (4 wheels)",
            "car 1/1 (4 wheels)",
            "boat 1/2 (Some(2) sails)"
        ]
    );
    let joined = db
        .fetch_all(
            select::<Asset>()
                .polymorphic(PolymorphicLoad::Joined)
                .order_by(Car::owner.desc())
                .order_by(Car::n),
        )
        .await
        .unwrap();
    assert_eq!(joined, all);
    // A filter on a subtype column of the composite-key enum.
    let cars = db
        .fetch_all(
            select::<Asset>()
                .filter(Car::wheels.eq(4))
                .order_by(Car::owner),
        )
        .await
        .unwrap();
    assert_eq!(cars.len(), 2);
    assert!(cars.iter().all(|a| matches!(a, Asset::Car(_))));
}
