//! Global criteria (soft delete on every model, a tenant on projects and tasks): no path of the
//! session — queries, `get` (also of an object loaded before the criteria were set), counts,
//! relationship loads of every strategy, explicit loads, refresh, merge, bulk UPDATE/DELETE — returns
//! or changes a row they exclude; the escape hatches do.

use chrono::Utc;
use orm_postgres::Database;
use orm_tests::criteria::{Label, Project, ProjectLabel, Task};

use super::*;

/// The rows, by name: tenant 1 has live projects `a` and `d` and soft-deleted `b`; tenant 2 has
/// `c`. Tasks: `a1` live and `a2` deleted in `a`, `c1` in `c`, `d2` deleted in `d` (so `d`'s
/// only task is filtered). Labels: `red` live, `blue` deleted; `a` and `c` carry both.
struct Fixture {
    t: TestDatabase,
    /// The database handle whose sessions hide soft-deleted rows of every model.
    db: Database,
    a: i64,
    b: i64,
    c: i64,
    d: i64,
}

async fn fixture() -> Fixture {
    let t = test_database().await.unwrap();
    t.create_all(&[
        Project::TABLE,
        Task::TABLE,
        Label::TABLE,
        ProjectLabel::TABLE,
    ])
    .await
    .unwrap();
    let now = Some(Utc::now());
    let project = |tenant_id: i64, name: &str, deleted: bool| Project {
        tenant_id,
        name: name.into(),
        deleted_at: if deleted { now } else { None },
        ..Project::default()
    };
    let p = t
        .fetch_all(insert_many(&[
            project(1, "a", false),
            project(1, "b", true),
            project(2, "c", false),
            project(1, "d", false),
        ]))
        .await
        .unwrap();
    let (a, b, c, d) = (p[0].id, p[1].id, p[2].id, p[3].id);
    let task = |project: &Project, title: &str, deleted: bool| Task {
        project_id: project.id,
        tenant_id: project.tenant_id,
        title: title.into(),
        deleted_at: if deleted { now } else { None },
        ..Task::default()
    };
    t.fetch_all(insert_many(&[
        task(&p[0], "a1", false),
        task(&p[0], "a2", true),
        task(&p[2], "c1", false),
        task(&p[3], "d2", true),
    ]))
    .await
    .unwrap();
    let labels = t
        .fetch_all(insert_many(&[
            Label {
                name: "red".into(),
                ..Label::default()
            },
            Label {
                name: "blue".into(),
                deleted_at: now,
                ..Label::default()
            },
        ]))
        .await
        .unwrap();
    let links: Vec<ProjectLabel> = [a, c]
        .iter()
        .flat_map(|&project_id| {
            labels.iter().map(move |l| ProjectLabel {
                project_id,
                label_id: l.id,
            })
        })
        .collect();
    t.execute(insert_many(&links).no_returning()).await.unwrap();
    let db = t
        .with_criteria::<Project>(Project::deleted_at.is_null())
        .and_then(|db| db.with_criteria::<Task>(Task::deleted_at.is_null()))
        .and_then(|db| db.with_criteria::<Label>(Label::deleted_at.is_null()))
        .unwrap();
    Fixture { db, a, b, c, d, t }
}

/// A session of tenant 1 (the per-request filter) on the soft-deleting handle.
fn tenant_session(f: &Fixture, tenant: i64) -> Session {
    let mut s = f.db.session();
    s.with_criteria::<Project>(Project::tenant_id.eq(tenant))
        .unwrap();
    s.with_criteria::<Task>(Task::tenant_id.eq(tenant)).unwrap();
    s
}

fn names(projects: &[Tracked<Project>]) -> Vec<String> {
    projects.iter().map(|p| p.read().name.clone()).collect()
}

fn titles(tasks: &[Tracked<Task>]) -> Vec<String> {
    tasks.iter().map(|t| t.read().title.clone()).collect()
}

#[tokio::test]
async fn queries_get_count_and_exists_see_only_the_tenants_live_rows() {
    let f = fixture().await;
    let mut s = tenant_session(&f, 1);
    let all = s
        .all(select::<Project>().order_by(Project::name))
        .await
        .unwrap();
    assert_eq!(names(&all), ["a", "d"]);
    assert!(s.get::<Project>(f.a).await.unwrap().is_some());
    assert!(s.get::<Project>(f.d).await.unwrap().is_some());
    assert!(s.get::<Project>(f.b).await.unwrap().is_none(), "deleted");
    assert!(
        s.get::<Project>(f.c).await.unwrap().is_none(),
        "other tenant"
    );
    let n = s.fetch_one(select::<Project>().count()).await.unwrap();
    assert_eq!(n, 2);
    let c_exists = s
        .fetch_one(select::<Project>().filter(Project::name.eq("c")).exists())
        .await
        .unwrap();
    assert!(!c_exists);
    // No-tracking reads and joins: a task joined to its project, both filtered.
    let rows = s
        .fetch_all(
            select::<Task>()
                .join_fk::<Project>()
                .columns((Task::title, Project::name)),
        )
        .await
        .unwrap();
    assert_eq!(rows, [("a1".to_string(), "a".to_string())]);
    // A subquery is filtered too: projects having a task named c1 (tenant 2's).
    let with_c1 = s
        .all(
            select::<Project>().filter(exists(
                select::<Task>()
                    .filter(Task::project_id.eq(Project::id).and(Task::title.eq("c1")))
                    .columns(Task::id),
            )),
        )
        .await
        .unwrap();
    assert!(with_c1.is_empty());

    // The other tenant sees its own.
    let mut s2 = tenant_session(&f, 2);
    let all = s2.all(select::<Project>()).await.unwrap();
    assert_eq!(names(&all), ["c"]);
}

#[tokio::test]
async fn get_of_an_object_loaded_before_the_criteria_asks_the_database() {
    let f = fixture().await;
    let mut s = f.t.session();
    let c = s.get::<Project>(f.c).await.unwrap().unwrap();
    let a = s.get::<Project>(f.a).await.unwrap().unwrap();
    let b = s.get::<Project>(f.b).await.unwrap().unwrap();
    s.with_criteria::<Project>(Project::tenant_id.eq(1))
        .unwrap();
    s.with_criteria::<Project>(Project::deleted_at.is_null())
        .unwrap();
    assert!(s.get::<Project>(f.c).await.unwrap().is_none());
    assert!(s.get::<Project>(f.b).await.unwrap().is_none());
    let again = s.get::<Project>(f.a).await.unwrap().unwrap();
    assert!(
        Tracked::ptr_eq(&a, &again),
        "the same object, checked by a query"
    );
    // The escape hatch on the session: without criteria, get answers from the map again.
    assert!(s.remove_criteria::<Project>());
    let before = f.t.statement_count();
    assert!(Tracked::ptr_eq(
        &s.get::<Project>(f.c).await.unwrap().unwrap(),
        &c
    ));
    assert!(Tracked::ptr_eq(
        &s.get::<Project>(f.b).await.unwrap().unwrap(),
        &b
    ));
    assert_eq!(
        f.t.statement_count(),
        before,
        "answered from the identity map"
    );
}

/// Loads each project's tasks and labels with `strategy`, through the session and through a
/// no-tracking read; every way gives `a` its live task and label, `d` (whose only task is
/// deleted) no task, and nothing of tenant 2.
async fn check_loads<L1, L2>(f: &Fixture, load: impl Fn() -> (L1, L2))
where
    L1: orm_postgres::load::IntoLoader<Project>,
    L2: orm_postgres::load::IntoLoader<Project>,
{
    let mut s = tenant_session(f, 1);
    let (tasks, labels) = load();
    let q = select::<Project>()
        .order_by(Project::name)
        .load(tasks)
        .load(labels);
    let projects = s.all(q).await.unwrap();
    assert_eq!(names(&projects), ["a", "d"]);
    let a_tasks = s.related(&projects[0], Project::tasks).unwrap();
    assert_eq!(titles(&a_tasks), ["a1"]);
    let a_labels = s.related(&projects[0], Project::labels).unwrap();
    assert_eq!(a_labels.len(), 1);
    assert_eq!(a_labels[0].read().name, "red");
    assert!(s.related(&projects[1], Project::tasks).unwrap().is_empty());

    let (tasks, labels) = load();
    let plain = s
        .fetch_all(
            select::<Project>()
                .order_by(Project::name)
                .load(tasks)
                .load(labels),
        )
        .await
        .unwrap();
    assert_eq!(plain.len(), 2);
    let a_tasks: Vec<&str> = plain[0]
        .tasks
        .get()
        .unwrap()
        .iter()
        .map(|t| t.title.as_str())
        .collect();
    assert_eq!(a_tasks, ["a1"]);
    let a_labels: Vec<&str> = plain[0]
        .labels
        .get()
        .unwrap()
        .iter()
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(a_labels, ["red"]);
    assert!(plain[1].tasks.get().unwrap().is_empty());
}

#[tokio::test]
async fn selectin_loads_leave_out_filtered_children() {
    let f = fixture().await;
    check_loads(&f, || {
        (Project::tasks.selectin(), Project::labels.selectin())
    })
    .await;
}

#[tokio::test]
async fn joined_loads_filter_in_the_join_and_keep_parents_without_children() {
    let f = fixture().await;
    check_loads(&f, || (Project::tasks.joined(), Project::labels.joined())).await;
}

#[tokio::test]
async fn subquery_loads_leave_out_filtered_children() {
    let f = fixture().await;
    check_loads(&f, || {
        (Project::tasks.subquery(), Project::labels.subquery())
    })
    .await;
}

#[tokio::test]
async fn explicit_loads_and_nested_loads_are_filtered() {
    let f = fixture().await;
    let mut s = f.t.session();
    // Loaded before the criteria: every project, of both tenants.
    let projects = s
        .all(select::<Project>().order_by(Project::name))
        .await
        .unwrap();
    assert_eq!(projects.len(), 4);
    s.with_criteria::<Task>(Task::tenant_id.eq(1).and(Task::deleted_at.is_null()))
        .unwrap();
    s.load(&projects, Project::tasks.selectin()).await.unwrap();
    let loaded: Vec<Vec<String>> = projects
        .iter()
        .map(|p| titles(&s.related(p, Project::tasks).unwrap()))
        .collect();
    assert_eq!(loaded, [vec!["a1".to_string()], vec![], vec![], vec![]]);

    // Nested: tasks of each task's project (a belongs-to, then has-many) stay filtered.
    let tasks = s
        .all(select::<Task>().load(Task::project.selectin().load(Project::tasks.selectin())))
        .await
        .unwrap();
    assert_eq!(titles(&tasks), ["a1"]);
    let project = s.related_one(&tasks[0], Task::project).unwrap().unwrap();
    assert_eq!(
        titles(&s.related(&project, Project::tasks).unwrap()),
        ["a1"]
    );
}

#[tokio::test]
async fn a_required_parent_the_criteria_exclude_fails_to_load_rather_than_show() {
    let f = fixture().await;
    let mut s = f.t.session();
    s.with_criteria::<Project>(Project::tenant_id.eq(1))
        .unwrap();
    // c1 is tenant 2's task, read without a task criteria: its project is filtered.
    let err = s
        .all(
            select::<Task>()
                .filter(Task::title.eq("c1"))
                .load(Task::project.selectin()),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[tokio::test]
async fn refresh_of_an_excluded_object_is_an_error() {
    let f = fixture().await;
    let mut s = f.t.session();
    let c = s.get::<Project>(f.c).await.unwrap().unwrap();
    let a = s.get::<Project>(f.a).await.unwrap().unwrap();
    s.with_criteria::<Project>(Project::tenant_id.eq(1))
        .unwrap();
    let err = s.refresh(&c).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::ObjectState(_)), "{err}");
    assert!(err.to_string().contains("criteria"), "{err}");
    s.refresh(&a).await.unwrap();
}

#[tokio::test]
async fn bulk_update_and_delete_through_the_session_touch_only_visible_rows() {
    let f = fixture().await;
    let mut s = tenant_session(&f, 1);
    let n = s
        .execute(update::<Task>().set(Task::title, "renamed"))
        .await
        .unwrap();
    assert_eq!(n, 1, "only a1");
    let n = s
        .execute(delete::<Project>().filter(Project::name.ne("a")))
        .await
        .unwrap();
    assert_eq!(n, 1, "only d: b is deleted, c is tenant 2's");
    s.commit().await.unwrap();
    // Read back through Core, which takes no criteria.
    let mut all: Vec<(String, String)> =
        f.db.fetch_all(
            select::<Task>()
                .join_fk::<Project>()
                .columns((Project::name, Task::title)),
        )
        .await
        .unwrap();
    all.sort();
    let expect = [("a", "a2"), ("a", "renamed"), ("c", "c1")];
    let expect: Vec<(String, String)> = expect
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
    assert_eq!(all, expect);
    let projects: Vec<String> =
        f.db.fetch_all(
            select::<Project>()
                .order_by(Project::name)
                .columns(Project::name),
        )
        .await
        .unwrap();
    assert_eq!(projects, ["a", "b", "c"]);
}

#[tokio::test]
async fn the_escape_hatches_return_the_filtered_rows() {
    let f = fixture().await;
    let mut s = tenant_session(&f, 1);
    let all = s
        .all(
            select::<Project>()
                .without_criteria()
                .order_by(Project::name),
        )
        .await
        .unwrap();
    assert_eq!(names(&all), ["a", "b", "c", "d"]);
    // Its loads take none either.
    let plain = s
        .fetch_all(
            select::<Project>()
                .without_criteria()
                .filter(Project::name.eq("a"))
                .load(Project::tasks.selectin()),
        )
        .await
        .unwrap();
    assert_eq!(plain[0].tasks.get().unwrap().len(), 2);
    let n = s
        .fetch_one(select::<Task>().without_criteria().count())
        .await
        .unwrap();
    assert_eq!(n, 4);
    // Core on the database handle runs as written.
    let n = f.db.fetch_one(select::<Project>().count()).await.unwrap();
    assert_eq!(n, 4);
    // The session-wide hatch.
    assert!(s.remove_criteria::<Project>());
    assert!(!s.remove_criteria::<Project>());
    let all = s.all(select::<Project>()).await.unwrap();
    assert_eq!(all.len(), 4);
    assert!(s.criteria().covers::<Task>());
}

#[tokio::test]
async fn two_tenants_run_the_same_sql() {
    let f = fixture().await;
    let log = f.t.statement_log();
    for tenant in [1, 2] {
        let mut s = tenant_session(&f, tenant);
        s.all(select::<Project>().load(Project::tasks.selectin()))
            .await
            .unwrap();
        s.rollback().await.unwrap();
    }
    let sql: Vec<String> = log
        .finish()
        .into_iter()
        .filter(|q| q.starts_with("SELECT"))
        .collect();
    assert_eq!(sql.len(), 4, "{sql:#?}");
    assert_eq!(sql[0], sql[2]);
    assert_eq!(sql[1], sql[3]);
    assert!(
        sql[1].contains(r#""cr_task"."tenant_id" = $"#),
        "{}",
        sql[1]
    );
}

/// The README's "Global criteria" example, line for line.
#[tokio::test]
async fn the_readme_example_runs() -> orm_postgres::Result<()> {
    let f = fixture().await;
    let (db, tenant, other_tenants_project) = (f.t.db.clone(), 1, f.c);

    // Soft delete in every session opened on this handle.
    let db = db.with_criteria::<Project>(Project::deleted_at.is_null())?;

    // Per request: the caller's tenant.
    let mut s = db.session();
    s.with_criteria::<Project>(Project::tenant_id.eq(tenant))?;
    s.with_criteria::<Task>(Task::tenant_id.eq(tenant))?;

    let projects = s
        .all(select::<Project>().load(Project::tasks.joined()))
        .await?;
    assert!(s.get::<Project>(other_tenants_project).await?.is_none());
    let renamed = s.execute(update::<Task>().set(Task::title, "x")).await?;

    // The escape hatches: one statement, or the whole session.
    let everything = s.all(select::<Project>().without_criteria()).await?;
    s.remove_criteria::<Project>();

    assert_eq!(projects.len(), 2, "a and d");
    assert_eq!(
        renamed, 3,
        "a1, a2 and d2: this handle has no soft delete on tasks"
    );
    assert_eq!(everything.len(), 4);
    assert_eq!(s.all(select::<Project>()).await?.len(), 4);
    Ok(())
}

#[tokio::test]
async fn merge_never_reaches_a_row_the_criteria_hide() {
    let f = fixture().await;
    let project = |id: i64, name: &str| Project {
        id,
        tenant_id: 1,
        name: name.into(),
        ..Project::default()
    };
    let stored = |id: i64| {
        let t = &f.t;
        async move {
            t.fetch_one(select::<Project>().by_pk(id))
                .await
                .map(|p| (p.tenant_id, p.name, p.deleted_at.is_some()))
                .unwrap()
        }
    };
    // Another tenant's project and a soft-deleted one: the merge's load does not find them,
    // so the objects are new; whatever the commit then does, those rows stay as they were.
    for (hidden, before) in [
        (f.c, (2, "c".to_string(), false)),
        (f.b, (1, "b".to_string(), true)),
    ] {
        let mut s = tenant_session(&f, 1);
        let merged = s.merge(project(hidden, "taken")).await.unwrap();
        assert_eq!(merged.status(), Status::Pending, "merged into a hidden row");
        let _ = s.commit().await;
        assert_eq!(stored(hidden).await, before);
    }
    // A visible one is loaded and updated, as before.
    let mut s = tenant_session(&f, 1);
    let merged = s.merge(project(f.a, "renamed")).await.unwrap();
    assert_eq!(merged.status(), Status::Persistent);
    s.commit().await.unwrap();
    assert_eq!(stored(f.a).await, (1, "renamed".to_string(), false));
}

#[tokio::test]
async fn keyset_pages_see_only_the_tenants_live_rows() {
    let f = fixture().await;
    let mut s = tenant_session(&f, 1);
    let page = |after: Option<i64>| {
        select::<Project>()
            .keyset(Project::id)
            .after(after)
            .limit(1)
    };
    let first = s.fetch_all(page(None)).await.unwrap();
    let names: Vec<&str> = first.iter().map(|(p, _)| p.name.as_str()).collect();
    // `a`, then the next page's probe row `d`: not `b` (deleted) nor `c` (tenant 2).
    assert_eq!(names, ["a", "d"]);
    let second = s.fetch_all(page(Some(first[0].1))).await.unwrap();
    let names: Vec<&str> = second.iter().map(|(p, _)| p.name.as_str()).collect();
    assert_eq!(names, ["d"]);
    // The escape hatch still reads every row.
    let all = s
        .fetch_all(
            select::<Project>()
                .without_criteria()
                .keyset(Project::id)
                .limit(10),
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 4);
}
