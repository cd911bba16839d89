//! Global criteria (soft delete, tenants) added to statements before they compile: where each
//! condition goes (WHERE, a LEFT JOIN's ON, a wrapped table under RIGHT/FULL joins, subqueries,
//! DML), and that the SQL does not depend on the tenant's value.

use orm_postgres::prelude::*;
use orm_postgres::stmt::Criteria;
use orm_tests::criteria::{Label, Project, Task};

/// Soft delete on the three models, and tenant `tenant` on projects and tasks.
fn criteria(tenant: i64) -> Criteria {
    let mut c = Criteria::new();
    c.add::<Project>(Project::deleted_at.is_null()).unwrap();
    c.add::<Project>(Project::tenant_id.eq(tenant)).unwrap();
    c.add::<Task>(Task::deleted_at.is_null().and(Task::tenant_id.eq(tenant)))
        .unwrap();
    c.add::<Label>(Label::deleted_at.is_null()).unwrap();
    c
}

fn sql(s: impl Statement) -> String {
    s.compile_with(&criteria(7)).unwrap().to_string()
}

#[test]
fn a_select_filters_its_table_in_where() {
    insta::assert_snapshot!(sql(select::<Project>().filter(Project::name.eq("x"))));
}

#[test]
fn inner_joins_filter_both_tables_and_left_joins_keep_their_parents() {
    insta::assert_snapshot!(sql(select::<Task>().join_fk::<Project>()));
    insta::assert_snapshot!(sql(select::<Project>()
        .left_join::<Task>(Task::project_id.eq(Project::id))
        .columns((Project::id, Task::id))));
}

orm_postgres::alias!(Other = Project);

#[test]
fn an_alias_takes_the_criteria_under_its_name() {
    insta::assert_snapshot!(sql(select::<Project>()
        .join::<Other>(Other::col(Project::name).eq(Project::name))
        .columns((Project::id, Other::col(Project::id)))));
}

#[test]
fn right_and_full_joins_filter_a_wrapped_table() {
    insta::assert_snapshot!(sql(select::<Task>()
        .right_join::<Project>(Task::project_id.eq(Project::id))
        .columns((Task::id, Project::id))));
}

#[test]
fn subqueries_exists_ctes_and_set_operations_are_filtered_at_every_depth() {
    let active = select::<Task>()
        .filter(Task::project_id.eq(Project::id))
        .columns(Task::id);
    insta::assert_snapshot!(sql(select::<Project>().filter(exists(active))));
    let (big, id) = select::<Project>().columns(Project::id).cte("big");
    insta::assert_snapshot!(sql(select::<Task>()
        .join_derived(&big, Task::project_id.eq(id))
        .union(select::<Task>().filter(Task::title.eq("x")))));
}

#[test]
fn count_and_exists_are_filtered() {
    insta::assert_snapshot!(sql(select::<Project>().count()));
    insta::assert_snapshot!(sql(select::<Project>().limit(5).count()));
    insta::assert_snapshot!(sql(select::<Project>().exists()));
}

#[test]
fn joined_loads_filter_in_the_left_join() {
    insta::assert_snapshot!(sql(select::<Project>()
        .load(Project::tasks.joined())
        .load(Project::labels.joined())
        .limit(10)));
    // Without a limit, joined as it is: the project's criteria in its WHERE, the targets' in
    // their joins (a project without tasks keeps its row).
    insta::assert_snapshot!(sql(select::<Project>()
        .load(Project::tasks.joined())
        .load(Project::labels.joined())));
}

#[test]
fn a_joined_load_stays_wrapped_where_joined_rows_would_change_what_a_condition_means() {
    let wrapped = |c: &Criteria, s: Select<Project>| {
        let sql = s.load(Project::tasks.joined()).compile_with(c).unwrap().sql;
        sql.contains(r#"AS "orm_p""#)
    };
    let flat = criteria(7);
    assert!(!wrapped(&flat, select::<Project>().order_by(Project::name)));
    // A criterion in raw SQL names `deleted_at`, which the tasks have too.
    let mut raw = Criteria::new();
    raw.add::<Project>(orm_postgres::raw::text::<bool>("deleted_at IS NULL"))
        .unwrap();
    assert!(wrapped(&raw, select::<Project>()));
    // A function evaluated per row: once per joined row, the tasks would come in no order.
    let random = orm_postgres::expr::func::<f64>("random", []);
    assert!(wrapped(&flat, select::<Project>().order_by(random)));
    // A function of the row's own columns is the same for each of its joined rows.
    let lower = orm_postgres::expr::func::<String>("lower", [Project::name.into_node()]);
    assert!(!wrapped(&flat, select::<Project>().order_by(lower)));
    // Another table's column is not the project's row: wrapped, it is refused as before (joined
    // as it is, it would have filtered the joined tasks).
    let other = select::<Project>()
        .filter(Task::title.eq("x"))
        .load(Project::tasks.joined())
        .compile_with(&flat);
    assert!(other.is_err(), "{other:?}");
}

#[test]
fn bulk_update_delete_and_upsert_are_filtered() {
    insta::assert_snapshot!(sql(update::<Task>()
        .set(Task::title, "done")
        .filter(Task::project_id.eq(1))));
    insta::assert_snapshot!(sql(delete::<Task>().filter(Task::title.eq("x"))));
    let label = Label {
        id: 1,
        name: "red".into(),
        deleted_at: None,
    };
    insta::assert_snapshot!(sql(insert(&label)
        .no_returning()
        .on_conflict(Label::id)
        .do_update(|u| u.set_excluded(Label::name))));
}

#[test]
fn without_criteria_compiles_as_written() {
    let q = select::<Project>().without_criteria().count();
    assert_eq!(sql(q), "SELECT count(*) FROM \"cr_project\"\n-- params: []");
    let d = delete::<Task>().without_criteria();
    assert_eq!(sql(d), "DELETE FROM \"cr_task\"\n-- params: []");
}

#[test]
fn the_sql_does_not_depend_on_the_tenant() {
    let q = || select::<Project>().load(Project::tasks.joined());
    let a = q().compile_with(&criteria(1)).unwrap();
    let b = q().compile_with(&criteria(2)).unwrap();
    assert_eq!(a.sql, b.sql);
    assert_ne!(format!("{:?}", a.params), format!("{:?}", b.params));
}

#[test]
fn a_criteria_may_name_only_its_model_columns() {
    let mut c = Criteria::new();
    let err = c.add::<Task>(Project::tenant_id.eq(1)).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidStatement(_)),
        "{err}"
    );
    assert!(err.to_string().contains("cr_project"), "{err}");
    assert!(c.is_empty());
    // A subquery may read other tables.
    c.add::<Task>(Task::project_id.in_query(select::<Project>().columns(Project::id)))
        .unwrap();
    assert!(c.covers::<Task>());
}
