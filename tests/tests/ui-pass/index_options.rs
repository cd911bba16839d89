//! The options of `index(...)` and `unique(...)` on the struct, and the metadata and DDL they
//! produce.

use orm_postgres::ddl;
use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "users")]
#[model(index(tags, using = "gin"))]
#[model(index(doc = "jsonb_path_ops", using = "GIN"))]
#[model(index(email, unique, where = "deleted_at IS NULL", name = "users_live_email"))]
#[model(index(created_at = "Desc Nulls Last", email = "text_pattern_ops", with = "FillFactor = 70"))]
#[model(unique(team_id, email, nulls_not_distinct, name = "users_team_email"))]
#[model(index(r#name = "desc", team_id, unique, nulls_not_distinct))]
#[model(index(email, unique, include(r#name, created_at)))]
#[model(index(team_id, expr = "lower(email) Desc", name = "users_team_email_lower"))]
pub struct User {
    #[model(primary_key, generated)]
    pub id: i64,
    pub team_id: Option<i64>,
    pub name: String,
    pub email: String,
    pub tags: Vec<String>,
    pub doc: serde_json::Value,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn main() {
    let ix = User::TABLE.indexes;
    assert_eq!(ix.len(), 8);
    assert_eq!((ix[0].columns, ix[0].method), (&["tags"][..], Some("gin")));
    assert_eq!(ix[1].key_options, &["jsonb_path_ops"]);
    assert_eq!(ix[1].method, Some("gin"));
    assert!(ix[2].unique && !ix[2].constraint);
    assert_eq!(ix[2].name, Some("users_live_email"));
    assert_eq!(ix[2].predicate, Some("deleted_at IS NULL"));
    assert_eq!(ix[3].key_options, &["DESC NULLS LAST", "text_pattern_ops"]);
    assert_eq!(ix[3].with, &["fillfactor=70"]);
    assert!(ix[4].unique && ix[4].constraint && ix[4].nulls_not_distinct);
    assert_eq!(ix[5].columns, &["name", "team_id"]);
    assert_eq!(ix[5].key_options, &["DESC", ""]);
    assert!(ix[5].unique && !ix[5].constraint && ix[5].nulls_not_distinct);
    assert_eq!((ix[6].columns, ix[6].include), (&["email"][..], &["name", "created_at"][..]));
    assert_eq!(ix[7].columns, &["team_id", ""]);
    assert_eq!(ix[7].expressions, &["", "lower(email)"]);
    assert_eq!(ix[7].key_options, &["", "DESC"]);

    let sql = ddl::create_table(User::TABLE).unwrap();
    assert!(
        sql[0].contains(r#"CONSTRAINT "users_team_email" UNIQUE NULLS NOT DISTINCT ("team_id", "email")"#),
        "{}",
        sql[0]
    );
    assert_eq!(
        &sql[1..],
        [
            r#"CREATE INDEX IF NOT EXISTS "ix_users_tags" ON "users" USING gin ("tags")"#,
            r#"CREATE INDEX IF NOT EXISTS "ix_users_doc" ON "users" USING gin ("doc" jsonb_path_ops)"#,
            r#"CREATE UNIQUE INDEX IF NOT EXISTS "users_live_email" ON "users" ("email") WHERE deleted_at IS NULL"#,
            r#"CREATE INDEX IF NOT EXISTS "ix_users_created_at_email" ON "users" ("created_at" DESC NULLS LAST, "email" text_pattern_ops) WITH ("fillfactor" = '70')"#,
            r#"CREATE UNIQUE INDEX IF NOT EXISTS "ix_users_name_team_id" ON "users" ("name" DESC, "team_id") NULLS NOT DISTINCT"#,
            r#"CREATE UNIQUE INDEX IF NOT EXISTS "ix_users_email" ON "users" ("email") INCLUDE ("name", "created_at")"#,
            r#"CREATE INDEX IF NOT EXISTS "users_team_email_lower" ON "users" ("team_id", lower(email) DESC)"#,
        ]
    );
}
