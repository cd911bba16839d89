//! Hostile identifiers.

use super::*;

/// A table named `user` (reserved) in a schema with a space, with a column named with a
/// quote, capitals and spaces.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "user", schema = "My App")]
struct Member {
    #[model(primary_key, generated, column = "ID")]
    id: i64,
    #[model(column = "Select\"Me", unique)]
    select_me: String,
    #[model(column = "group by")]
    group: Option<i32>,
}

/// `order` (reserved), referencing `user`.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "order", schema = "My App")]
struct Purchase {
    #[model(primary_key, generated, column = "Order")]
    id: i64,
    #[model(
        column = "User ID",
        references = "user.ID",
        on_delete = "cascade",
        index
    )]
    member: i64,
    #[model(column = "from")]
    from: String,
}

orm_postgres::alias!(Friend = Member);

#[derive(Debug, PartialEq, FromRow)]
struct MemberPurchase {
    name: String,
    from: String,
}

fn member(name: &str) -> Member {
    Member {
        id: 0,
        select_me: name.into(),
        group: None,
    }
}

#[tokio::test]
async fn quoted_reserved_and_spaced_identifiers_work_everywhere() {
    let t = test_database().await.unwrap();
    t.create_all(&[Purchase::TABLE, Member::TABLE])
        .await
        .unwrap();
    t.create_all(&[Purchase::TABLE, Member::TABLE])
        .await
        .expect("create_all is idempotent");

    // insert, insert_many
    let ann = t.fetch_one(insert(&member("Ann \"A\""))).await.unwrap();
    let others = t
        .fetch_all(insert_many(&[member("bob's"), member("select")]))
        .await
        .unwrap();
    let bob = &others[0];
    for (m, from) in [(&ann, "x"), (&ann, "y"), (bob, "z")] {
        t.execute(insert(&Purchase {
            id: 0,
            member: m.id,
            from: from.into(),
        }))
        .await
        .unwrap();
    }

    // select with a filter and a join on the declared foreign key, into a FromRow struct
    let rows = t
        .fetch_all(
            select::<Purchase>()
                .join_fk::<Member>()
                .filter(Member::select_me.eq("Ann \"A\""))
                .columns((Member::select_me, Purchase::from))
                .order_by(Purchase::from)
                .into_rows::<MemberPurchase>(),
        )
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![
            MemberPurchase {
                name: "Ann \"A\"".into(),
                from: "x".into()
            },
            MemberPurchase {
                name: "Ann \"A\"".into(),
                from: "y".into()
            },
        ]
    );

    // update, and update ... from
    let n = t
        .execute(
            update::<Member>()
                .set(Member::group, Some(7))
                .filter(Member::select_me.ne("select")),
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    let renamed: Vec<String> = t
        .fetch_all(
            update::<Purchase>()
                .from::<Member>()
                .set(Purchase::from, Member::select_me.concat(" bought"))
                .filter(Member::id.eq(Purchase::member) & Member::group.eq(7))
                .returning(Purchase::from),
        )
        .await
        .unwrap();
    assert_eq!(renamed.len(), 3);
    assert!(renamed.contains(&"bob's bought".to_owned()));

    // self-join through an alias
    let pairs: Vec<(String, Option<String>)> = t
        .fetch_all(
            select::<Member>()
                .left_join::<Friend>(
                    Friend::col(Member::group).eq(Member::group)
                        & Friend::col(Member::id).ne(Member::id),
                )
                .columns((Member::select_me, Friend::col(Member::select_me)))
                .order_by(Member::select_me),
        )
        .await
        .unwrap();
    assert_eq!(
        pairs,
        vec![
            ("Ann \"A\"".into(), Some("bob's".into())),
            ("bob's".into(), Some("Ann \"A\"".into())),
            ("select".into(), None),
        ]
    );

    // upsert on the quoted unique column
    let upserted = t
        .fetch_one(
            insert(&Member {
                id: 0,
                select_me: "select".into(),
                group: Some(1),
            })
            .on_conflict(Member::select_me)
            .do_update(|u| u.set_all_excluded().where_(Member::group.is_null())),
        )
        .await
        .unwrap();
    assert_eq!(upserted.group, Some(1));
    assert_eq!(upserted.id, others[1].id);

    // delete ... using, then delete
    let gone: Vec<String> = t
        .fetch_all(
            delete::<Purchase>()
                .using::<Member>()
                .filter(Member::id.eq(Purchase::member) & Member::select_me.eq("bob's"))
                .returning(Purchase::from),
        )
        .await
        .unwrap();
    assert_eq!(gone, vec!["bob's bought".to_owned()]);
    let n = t
        .execute(delete::<Member>().filter(Member::id.eq(ann.id)))
        .await
        .unwrap();
    assert_eq!(n, 1);
    let left: i64 = t.fetch_one(select::<Purchase>().count()).await.unwrap();
    assert_eq!(left, 0, "the cascade removed ann's purchases");
}
