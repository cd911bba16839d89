//! Relationships of a joined-table inheritance enum: declared on the variant structs and
//! listed on the enum (`relationships(team)` for every variant, `relationships(projects)` on one
//! variant), loaded from `select::<Staff>()` selectin or joined, and followed by the session
//! when it saves or deletes a graph.

use orm_postgres::assert_queries;
use orm_postgres::prelude::*;
use orm_tests::joined::{Chief, Developer, Project, Staff, Team};

/// Two teams; ann (chief, red, two projects), bob (developer, red), cid (developer, no team).
async fn seed(db: &Database) -> (Team, Team) {
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
        projects: Related::loaded(vec![Project::new("apollo"), Project::new("gemini")]),
        ..Chief::new("ann", 1)
    }));
    s.add(Staff::from(Developer {
        team_id: Some(red.id),
        ..Developer::new("bob", "rust")
    }));
    s.add(Staff::from(Developer::new("cid", "go")));
    s.commit().await.unwrap();
    (red, blue)
}

/// Each member's name, team title and (for chiefs) project titles.
fn summary(all: &[Staff]) -> Vec<(String, Option<String>, Option<Vec<String>>)> {
    all.iter()
        .map(|m| {
            let (name, team) = match m {
                Staff::Chief(c) => (&c.name, &c.team),
                Staff::Developer(d) => (&d.name, &d.team),
            };
            let team = team.get().unwrap().as_ref().map(|t| t.title.clone());
            let projects = match m {
                Staff::Chief(c) => c
                    .projects
                    .as_option()
                    .map(|ps| ps.iter().map(|p| p.title.clone()).collect()),
                Staff::Developer(_) => None,
            };
            (name.clone(), team, projects)
        })
        .collect()
}

#[orm_postgres::test(tables(Team, Staff, Project))]
async fn a_relationship_of_the_enum_loads_for_every_variant(db: Database) {
    seed(&db).await;
    let expected = vec![
        ("ann".to_owned(), Some("red".to_owned()), None),
        ("bob".to_owned(), Some("red".to_owned()), None),
        ("cid".to_owned(), None, None),
    ];
    let selectin = assert_queries!(
        db,
        [
            r#"SELECT "staff"."id", "staff"."name", "staff"."team_id", "chiefs"."budget", "staff"."role", "developers"."language", "developers"."level" FROM "staff" LEFT JOIN "chiefs" ON "chiefs"."id" = "staff"."id" LEFT JOIN "developers" ON "developers"."id" = "staff"."id" ORDER BY "staff"."id""#,
            r#"SELECT "teams"."id", "teams"."title" FROM "teams" WHERE "teams"."id" = ANY($1)"#
        ],
        async {
            db.fetch_all(
                select::<Staff>()
                    .order_by(Chief::id)
                    .load(Staff::team.selectin()),
            )
            .await
        }
    )
    .unwrap();
    assert_eq!(summary(&selectin), expected);
    let joined = assert_queries!(
        db,
        [
            r#"SELECT "orm_p"."id", "orm_p"."name", "orm_p"."team_id", "orm_p"."budget", "orm_p"."role", "orm_p"."language", "orm_p"."level", "orm_j0"."id", "orm_j0"."title", "orm_p"."orm_row" FROM (SELECT "staff"."id", "staff"."name", "staff"."team_id", "chiefs"."budget", "staff"."role", "developers"."language", "developers"."level", "staff"."id" AS "orm_o0", row_number() OVER () AS "orm_row" FROM "staff" LEFT JOIN "chiefs" ON "chiefs"."id" = "staff"."id" LEFT JOIN "developers" ON "developers"."id" = "staff"."id" ORDER BY "staff"."id") AS "orm_p" LEFT JOIN "teams" AS "orm_j0" ON "orm_p"."team_id" = "orm_j0"."id" ORDER BY "orm_p"."orm_o0""#
        ],
        async {
            db.fetch_all(
                select::<Staff>()
                    .order_by(Chief::id)
                    .load(Staff::team.joined()),
            )
            .await
        }
    )
    .unwrap();
    assert_eq!(summary(&joined), expected);
    // The enum loading selectin its subtype rows, too.
    let polymorphic = assert_queries!(db, 4, async {
        db.fetch_all(
            select::<Staff>()
                .polymorphic(orm_postgres::meta::PolymorphicLoad::SelectIn)
                .order_by(Chief::id)
                .load(Staff::team.selectin()),
        )
        .await
    })
    .unwrap();
    assert_eq!(summary(&polymorphic), expected);
}

#[orm_postgres::test(tables(Team, Staff, Project))]
async fn a_relationship_of_one_variant_loads_for_its_objects_only(db: Database) {
    seed(&db).await;
    let all = assert_queries!(
        db,
        [
            r#"SELECT "staff"."id", * FROM "staff" LEFT JOIN "chiefs" * ORDER BY "staff"."id""#,
            r#"SELECT "projects"."id", "projects"."title", "projects"."lead_id" FROM "projects" WHERE "projects"."lead_id" = ANY($1) ORDER BY "projects"."id""#,
            r#"SELECT "teams"."id", "teams"."title" FROM "teams" WHERE "teams"."id" = ANY($1)"#
        ],
        async {
            db.fetch_all(
                select::<Staff>()
                    .order_by(Chief::id)
                    .load(Staff::projects.selectin())
                    .load(Staff::team.selectin()),
            )
            .await
        }
    )
    .unwrap();
    let projects = ["apollo".to_owned(), "gemini".to_owned()];
    assert_eq!(summary(&all)[0].2.as_deref(), Some(&projects[..]));
    // Joined: the same projects, one query.
    let joined = assert_queries!(db, 1, async {
        db.fetch_all(
            select::<Staff>()
                .order_by(Chief::id)
                .load(Staff::projects.joined())
                .load(Staff::team.joined()),
        )
        .await
    })
    .unwrap();
    assert_eq!(summary(&joined), summary(&all));
    // From a variant's own select, through the variant's relationship.
    let chiefs = db
        .fetch_all(select::<Chief>().load(Chief::projects.selectin()))
        .await
        .unwrap();
    assert_eq!(chiefs[0].projects.get().unwrap().len(), 2);
}

#[orm_postgres::test(tables(Team, Staff, Project))]
async fn the_session_saves_a_graph_through_a_variant_and_deletes_it(db: Database) {
    let mut s = db.session();
    let ann = s.add(Staff::from(Chief {
        projects: Related::loaded(vec![Project::new("apollo"), Project::new("gemini")]),
        ..Chief::new("ann", 1)
    }));
    let bob = s.add(Staff::from(Developer {
        team: Related::loaded(Some(Team {
            id: 0,
            title: "red".into(),
            members: Related::default(),
        })),
        ..Developer::new("bob", "rust")
    }));
    // By dependency level: the team and ann's base row (nothing to wait for); ann's subtype
    // row and bob's base row (with the team's new key); ann's projects (with her key) and bob's
    // subtype row.
    assert_queries!(
        s,
        [
            "BEGIN*",
            r#"INSERT INTO "teams" ("title") SELECT * RETURNING "id""#,
            r#"INSERT INTO "staff" ("name", "team_id", "role") SELECT * RETURNING "id""#,
            r#"INSERT INTO "chiefs" ("id", "budget") SELECT *"#,
            r#"INSERT INTO "staff" ("name", "team_id", "role") SELECT * RETURNING "id""#,
            r#"INSERT INTO "projects" ("title", "lead_id") SELECT * RETURNING "id""#,
            r#"INSERT INTO "developers" ("id", "language", "level") SELECT *"#,
            "COMMIT"
        ],
        async { s.commit().await }
    )
    .unwrap();
    let rows: Vec<(String, i64)> = db
        .fetch_all(orm_postgres::raw::query::<(String, i64)>(
            "SELECT title, lead_id FROM projects ORDER BY id",
        ))
        .await
        .unwrap();
    assert_eq!(
        rows,
        [
            ("apollo".to_owned(), ann.pk()),
            ("gemini".to_owned(), ann.pk())
        ]
    );
    let team: (String,) = db
        .fetch_one(
            orm_postgres::raw::query::<(String,)>(
                "SELECT t.title FROM teams t JOIN staff s ON s.team_id = t.id WHERE s.id = :id",
            )
            .bind("id", bob.pk()),
        )
        .await
        .unwrap();
    assert_eq!(team.0, "red");
    // The session links the children: a project removed from ann's list is deleted
    // (delete-orphan); deleting ann deletes her other project first (cascade delete).
    let projects = s.related(&ann, Staff::projects).unwrap();
    assert_eq!(projects.len(), 2);
    s.delete(&ann).unwrap();
    assert_queries!(
        s,
        [
            "BEGIN*",
            r#"DELETE FROM "projects" *"#,
            r#"DELETE FROM "chiefs" *"#,
            r#"DELETE FROM "staff" *"#,
            "COMMIT"
        ],
        async { s.commit().await }
    )
    .unwrap();
    let left: i64 = db
        .fetch_one(orm_postgres::raw::query::<i64>(
            "SELECT (SELECT count(*) FROM projects) + (SELECT count(*) FROM chiefs)",
        ))
        .await
        .unwrap();
    assert_eq!(left, 0);
    assert_eq!(db.fetch_one(select::<Staff>().count()).await.unwrap(), 1);
}
