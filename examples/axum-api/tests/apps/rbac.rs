//! Role-based access over HTTP: each caller sees and changes only what its tenant and role
//! allow, through the per-request criteria of its session; a row it may not see is a 404
//! (never a 403 that would tell it exists), and the rows of other tenants are never touched.

use orm_example_axum::rbac::models::{Account, Document};
use orm_example_axum::rbac::seed_roles;
use orm_postgres::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Server, count, start};

/// Two tenants: tenant 1 has an admin, an editor and a viewer; tenant 2 an editor. Documents:
/// tenant 1's published `memo` and the editor's draft `plan`, a deleted `old`; tenant 2's
/// published `secret` and draft `draft2`.
struct World {
    server: Server,
    admin: i64,
    editor: i64,
    viewer: i64,
    other: i64,
    memo: i64,
    plan: i64,
    old: i64,
    secret: i64,
    draft2: i64,
}

async fn world(db: &Database) -> World {
    let roles = seed_roles(db).await.expect("roles");
    let account = |tenant_id: i64, name: &str, role: &str| Account {
        tenant_id,
        name: name.to_owned(),
        role_id: roles[role],
        ..Default::default()
    };
    let a = db
        .fetch_all(insert_many(&[
            account(1, "ada", "admin"),
            account(1, "ed", "editor"),
            account(1, "vi", "viewer"),
            account(2, "eve", "editor"),
        ]))
        .await
        .expect("accounts");
    let doc = |owner: &Account, title: &str, published: bool, deleted: bool| Document {
        tenant_id: owner.tenant_id,
        owner_id: owner.id,
        title: title.to_owned(),
        body: format!("{title} text"),
        published,
        deleted_at: deleted.then(chrono::Utc::now),
        ..Default::default()
    };
    let d = db
        .fetch_all(insert_many(&[
            doc(&a[1], "memo", true, false),
            doc(&a[1], "plan", false, false),
            doc(&a[1], "old", true, true),
            doc(&a[3], "secret", true, false),
            doc(&a[3], "draft2", false, false),
        ]))
        .await
        .expect("documents");
    World {
        server: start(db).await,
        admin: a[0].id,
        editor: a[1].id,
        viewer: a[2].id,
        other: a[3].id,
        memo: d[0].id,
        plan: d[1].id,
        old: d[2].id,
        secret: d[3].id,
        draft2: d[4].id,
    }
}

impl World {
    async fn call(
        &self,
        who: i64,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.server.call_as(Some(who), method, path, body).await
    }

    /// The titles of `GET /documents` as `who`.
    async fn titles(&self, who: i64) -> Vec<String> {
        let (status, body) = self.call(who, Method::GET, "/documents", None).await;
        assert_eq!(status, 200, "{body}");
        body.as_array()
            .expect("a list")
            .iter()
            .map(|d| d["title"].as_str().expect("a title").to_owned())
            .collect()
    }
}

#[orm_postgres::test(migrations)]
async fn each_caller_lists_what_its_tenant_and_role_allow(db: Database) {
    let w = world(&db).await;
    assert_eq!(w.titles(w.viewer).await, ["memo"], "published only");
    assert_eq!(w.titles(w.editor).await, ["memo", "plan"], "drafts too");
    assert_eq!(w.titles(w.admin).await, ["memo", "plan"]);
    assert_eq!(w.titles(w.other).await, ["secret", "draft2"]);
    let (status, me) = w.call(w.editor, Method::GET, "/me", None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        me,
        json!({"id": w.editor, "tenant_id": 1, "name": "ed", "role": "editor",
               "permissions": ["documents.read_drafts", "documents.write"]})
    );
}

#[orm_postgres::test(migrations)]
async fn rows_a_caller_may_not_see_are_404_for_every_method(db: Database) {
    let w = world(&db).await;
    let patch = || Some(json!({"title": "mine now"}));
    for (who, doc) in [
        (w.viewer, w.secret), // another tenant's
        (w.viewer, w.plan),   // a draft of its own tenant, not its own
        (w.editor, w.secret),
        (w.admin, w.draft2),
        (w.admin, w.old), // deleted
    ] {
        let path = format!("/documents/{doc}");
        for (method, body) in [
            (Method::GET, None),
            (Method::PATCH, patch()),
            (Method::DELETE, None),
        ] {
            let (status, answer) = w.call(who, method.clone(), &path, body).await;
            assert_eq!(status, 404, "{method} {path} as {who}: {answer}");
            assert_eq!(answer["error"], "not_found");
        }
    }
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM rbac_documents WHERE title = 'mine now' OR deleted_at IS NOT NULL"
        )
        .await,
        1,
        "nothing changed: only `old` is deleted"
    );
}

#[orm_postgres::test(migrations)]
async fn a_viewer_is_forbidden_to_change_what_it_sees(db: Database) {
    let w = world(&db).await;
    let memo = format!("/documents/{}", w.memo);
    let (status, body) = w.call(w.viewer, Method::GET, &memo, None).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = w
        .call(w.viewer, Method::PATCH, &memo, Some(json!({"title": "x"})))
        .await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")));
    let (status, _) = w.call(w.viewer, Method::DELETE, &memo, None).await;
    assert_eq!(status, 403);
    let (status, _) = w
        .call(
            w.viewer,
            Method::POST,
            "/documents",
            Some(json!({"title": "x"})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = w
        .call(w.viewer, Method::POST, "/documents/publish", None)
        .await;
    assert_eq!(status, 403);
    // An editor may write but not delete.
    let (status, body) = w
        .call(w.editor, Method::PATCH, &memo, Some(json!({"body": "new"})))
        .await;
    assert_eq!((status, body["body"].as_str()), (200, Some("new")));
    let (status, _) = w.call(w.editor, Method::DELETE, &memo, None).await;
    assert_eq!(status, 403);
}

#[orm_postgres::test(migrations)]
async fn delete_is_soft_and_the_row_disappears_for_everyone(db: Database) {
    let w = world(&db).await;
    let memo = format!("/documents/{}", w.memo);
    let (status, body) = w.call(w.admin, Method::DELETE, &memo, None).await;
    assert_eq!(status, 204, "{body}");
    for who in [w.admin, w.editor, w.viewer] {
        let (status, _) = w.call(who, Method::GET, &memo, None).await;
        assert_eq!(status, 404);
    }
    assert_eq!(w.titles(w.admin).await, ["plan"]);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM rbac_documents WHERE title = 'memo' AND deleted_at IS NOT NULL"
        )
        .await,
        1,
        "the row is still there, marked deleted"
    );
}

#[orm_postgres::test(migrations)]
async fn created_documents_belong_to_the_callers_tenant(db: Database) {
    let w = world(&db).await;
    let (status, doc) = w
        .call(
            w.other,
            Method::POST,
            "/documents",
            Some(json!({"title": " notes "})),
        )
        .await;
    assert_eq!(status, 201, "{doc}");
    assert_eq!(doc["owner_id"], w.other);
    assert_eq!(doc["title"], "notes");
    // A draft of tenant 2: its own editor sees it, tenant 1 never does.
    assert_eq!(w.titles(w.other).await, ["secret", "draft2", "notes"]);
    let path = format!("/documents/{}", doc["id"]);
    let (status, _) = w.call(w.admin, Method::GET, &path, None).await;
    assert_eq!(status, 404);
}

#[orm_postgres::test(migrations)]
async fn a_bulk_update_reaches_only_the_callers_rows(db: Database) {
    let w = world(&db).await;
    let (status, body) = w
        .call(w.editor, Method::POST, "/documents/publish", None)
        .await;
    assert_eq!((status, body), (200, json!({"published": 1})), "only plan");
    assert_eq!(w.titles(w.viewer).await, ["memo", "plan"]);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM rbac_documents WHERE NOT published"
        )
        .await,
        1,
        "tenant 2's draft2 stays a draft"
    );
    let _ = w.draft2;
}

#[orm_postgres::test(migrations)]
async fn callers_without_a_known_account_are_401(db: Database) {
    let w = world(&db).await;
    let (status, body) = w.server.get("/documents").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unauthenticated"))
    );
    let (status, _) = w.call(9_999, Method::GET, "/documents", None).await;
    assert_eq!(status, 401);
    let (status, _) = w
        .server
        .call_as(None, Method::GET, &format!("/documents/{}", w.memo), None)
        .await;
    assert_eq!(status, 401);
}

/// The audit rows of a document, oldest first: (action, before, after).
async fn audit(db: &Database, document: i64) -> Vec<(String, Option<Value>, Option<Value>)> {
    use orm_example_axum::rbac::models::AuditEntry;
    db.fetch_all(
        select::<AuditEntry>()
            .filter(AuditEntry::document_id.eq(document))
            .order_by(AuditEntry::id),
    )
    .await
    .expect("audit rows")
    .into_iter()
    .map(|a| (a.action, a.before, a.after))
    .collect()
}

#[orm_postgres::test(migrations)]
async fn every_change_through_the_session_is_audited_with_before_and_after(db: Database) {
    let w = world(&db).await;
    let (status, doc) = w
        .call(
            w.editor,
            Method::POST,
            "/documents",
            Some(json!({"title": "report", "body": "v1"})),
        )
        .await;
    assert_eq!(status, 201, "{doc}");
    let id = doc["id"].as_i64().expect("an id");
    let path = format!("/documents/{id}");
    let (status, body) = w
        .call(w.editor, Method::PATCH, &path, Some(json!({"body": "v2"})))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = w.call(w.admin, Method::DELETE, &path, None).await;
    assert_eq!(status, 204, "{body}");

    let rows = audit(&db, id).await;
    let actions: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(actions, ["insert", "update", "delete"]);
    let (_, before, after) = &rows[0];
    assert_eq!(*before, None);
    assert_eq!(after.as_ref().expect("after")["body"], "v1");
    let (_, before, after) = &rows[1];
    assert_eq!(before.as_ref().expect("before")["body"], "v1");
    assert_eq!(after.as_ref().expect("after")["body"], "v2");
    let (_, before, after) = &rows[2];
    assert_eq!(before.as_ref().expect("before")["deleted_at"], Value::Null);
    assert!(after.as_ref().expect("after")["deleted_at"].is_string());

    // A change refused (404 for another tenant, 403 for a viewer) writes nothing, nor does a
    // patch that changes no value.
    let memo = format!("/documents/{}", w.memo);
    let (status, _) = w
        .call(w.other, Method::PATCH, &memo, Some(json!({"body": "x"})))
        .await;
    assert_eq!(status, 404);
    let (status, _) = w
        .call(w.viewer, Method::PATCH, &memo, Some(json!({"body": "x"})))
        .await;
    assert_eq!(status, 403);
    let (status, body) = w
        .call(
            w.editor,
            Method::PATCH,
            &memo,
            Some(json!({"body": "memo text"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(audit(&db, w.memo).await.is_empty());
}
