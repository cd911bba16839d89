//! Raw SQL and FromRow.

use super::*;

#[derive(Debug, PartialEq, FromRow)]
struct NameAge {
    name: String,
    age: i32,
    #[from_row(skip)]
    note: String,
}

#[derive(Debug, PartialEq, FromRow)]
struct OrderWithBuyer {
    order_id: i64,
    #[from_row(flatten)]
    buyer: User,
    #[from_row(flatten)]
    summary: NameAge,
    total: i32,
}

#[tokio::test]
async fn raw_text_in_a_filter_and_a_select_list() {
    let t = users_db().await;
    add_users(&t.db, &[("al", 1), ("bob", 2), ("carla", 3)]).await;
    let rows: Vec<(String, i32)> = t
        .fetch_all(
            select::<User>()
                .filter(text::<bool>("length(\"users\".\"name\") > :n").bind("n", 2_i32))
                .columns((
                    User::name,
                    text::<i32>("length(\"users\".\"name\") * :k")
                        .bind("k", 10_i32)
                        .expr(),
                ))
                .order_by(User::name),
        )
        .await
        .unwrap();
    assert_eq!(rows, owned(&[("bob", 30), ("carla", 50)]));

    // A raw fragment with its own OR stays one operand when ANDed with more conditions.
    let q = select::<User>()
        .filter(text::<bool>(
            "\"users\".\"name\" = 'al' OR \"users\".\"name\" = 'bob'",
        ))
        .filter(User::age.gt(1))
        .columns(User::name);
    assert!(
        q.compile()
            .unwrap()
            .sql
            .contains("(\"users\".\"name\" = 'al' OR ")
    );
    assert_eq!(t.fetch_all(q).await.unwrap(), ["bob"]);
}

#[tokio::test]
async fn raw_query_into_a_from_row_struct() {
    let t = users_db().await;
    add_users(&t.db, &[("al", 1), ("bob", 2)]).await;
    let rows = t
        .fetch_all(
            query::<NameAge>("SELECT name, age FROM users WHERE name <> :name ORDER BY name")
                .bind("name", "al".to_owned()),
        )
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![NameAge {
            name: "bob".into(),
            age: 2,
            note: String::new()
        }]
    );
}

#[tokio::test]
async fn from_row_struct_with_flattened_model_through_into_rows() {
    let t = users_db().await;
    let u = add_users(&t.db, &[("al", 40)]).await;
    let o = add_order(&t.db, u[0].id, 7).await;
    let rows = t
        .fetch_all(
            select::<Order>()
                .join::<User>(User::id.eq(Order::user_id))
                .columns((
                    Order::id,
                    User::star(),
                    User::name.concat("?"),
                    User::age.add(1),
                    Order::total,
                ))
                .into_rows::<OrderWithBuyer>(),
        )
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![OrderWithBuyer {
            order_id: o.id,
            buyer: u[0].clone(),
            summary: NameAge {
                name: "al?".into(),
                age: 41,
                note: String::new()
            },
            total: 7,
        }]
    );
    assert_eq!(OrderWithBuyer::WIDTH, 8);

    // A column that does not decode names the struct and the field.
    let err = t
        .fetch_all(query::<NameAge>("SELECT name, name FROM users"))
        .await
        .unwrap_err();
    match err.kind() {
        ErrorKind::Decode { model, column, .. } => {
            assert_eq!((*model, column.as_str()), ("NameAge", "age"));
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    // Raw SQL is not analysed: a missing column is a decode error naming the field.
    let err = t
        .fetch_all(query::<NameAge>("SELECT name FROM users"))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Decode { model: "NameAge", column, .. } if column == "age"),
        "{err:?}"
    );
}

#[tokio::test]
async fn raw_missing_binding_is_an_invalid_statement() {
    let t = users_db().await;
    let err = t
        .fetch_all(query::<NameAge>(
            "SELECT name, age FROM users WHERE name = :who",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidStatement(_)),
        "{err:?}"
    );
    assert!(err.to_string().contains(":who"), "{err}");
    let err = t
        .fetch_all(select::<User>().filter(text::<bool>("age > :min").bind("max", 1_i32)))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidStatement(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn raw_casts_literals_quoted_names_and_comments_are_left_alone() {
    let t = users_db().await;
    let q = query::<(String, i32, String, String)>(
        "SELECT ':not_a_param'::text, '42'::int4, :x::text AS \"odd:name\", \
         'it''s :also_not' -- :nor_this\n",
    )
    .bind("x", "bound".to_owned());
    let compiled = q.compile().unwrap();
    assert_eq!(compiled.params.len(), 1);
    assert!(compiled.sql.contains("$1::text"), "{}", compiled.sql);
    let row = t.fetch_one(q).await.unwrap();
    assert_eq!(
        row,
        (
            ":not_a_param".into(),
            42,
            "bound".into(),
            "it's :also_not".into()
        )
    );
}
