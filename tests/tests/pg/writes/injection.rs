//! Injection corpus.

use super::*;

/// Strings that would break or subvert SQL built by concatenation. NUL is handled apart: text
/// cannot hold it.
const HOSTILE: &[&str] = &[
    "'",
    "''",
    "\\",
    "\\'",
    "$1",
    "$2::text",
    "'; DROP TABLE users; --",
    "\"; DROP TABLE users; --",
    "Robert'); DROP TABLE students;--",
    "＇ full-width apostrophe",
    "ʼ modifier apostrophe",
    "%",
    "_",
    "50%_off\\",
    "line\nbreak",
    "cr\r\nlf\ttab",
    "emoji 🎉 👩‍👩‍👧",
    ":name",
    "::text",
    "/* comment */",
    "-- comment",
    "E'\\x41'",
    "$$ dollar $$",
    "$tag$ x $tag$",
    "\u{202E}rtl override",
    "\u{FEFF}bom",
    "NULL",
    "",
    " ",
];

/// Compiles `make(value)` and `make("benign")`: the SQL text must not depend on the value, and
/// a distinctive value must not appear in it.
fn assert_value_not_in_sql<S: Statement>(value: &str, make: impl Fn(&str) -> S) {
    let hostile = make(value).compile().unwrap().sql;
    let benign = make("benign").compile().unwrap().sql;
    assert_eq!(
        hostile, benign,
        "the SQL text changed with the value {value:?}"
    );
    if value.chars().count() >= 3 {
        assert!(!hostile.contains(value), "{value:?} is in {hostile}");
    }
}

fn hostile_user(i: usize, v: &str) -> User {
    User {
        id: 0,
        name: v.to_owned(),
        email: Some(format!("{i}{v}")),
        age: i as i32,
    }
}

#[tokio::test]
async fn hostile_values_round_trip_through_every_value_path() {
    let t = users_db().await;

    // insert (VALUES)
    for (i, v) in HOSTILE.iter().enumerate() {
        assert_value_not_in_sql(v, |v| insert(&hostile_user(i, v)));
        let back = t.fetch_one(insert(&hostile_user(i, v))).await.unwrap();
        assert_eq!(back.name, *v);
        assert_eq!(back.email, Some(format!("{i}{v}")));
    }
    assert_eq!(count_users(&t.db).await, HOSTILE.len() as i64);
    let table_is_there = t.fetch_all(select::<User>()).await.unwrap();
    assert_eq!(table_is_there.len(), HOSTILE.len());

    for (i, v) in HOSTILE.iter().enumerate() {
        // filter eq
        assert_value_not_in_sql(v, |v| select::<User>().filter(User::name.eq(v)));
        let found = t
            .fetch_one(select::<User>().filter(User::name.eq(*v)))
            .await
            .unwrap();
        assert_eq!(found.email, Some(format!("{i}{v}")));

        // LIKE with the value escaped: matches itself only
        assert_value_not_in_sql(v, |v| {
            select::<User>().filter(User::name.like(escape_like(v)))
        });
        let like: Vec<String> = t
            .fetch_all(
                select::<User>()
                    .columns(User::name)
                    .filter(User::name.like(escape_like(v))),
            )
            .await
            .unwrap();
        assert_eq!(like, vec![(*v).to_owned()], "LIKE {v:?}");

        // contains: a literal substring, wildcards included
        let mut contains: Vec<String> = t
            .fetch_all(
                select::<User>()
                    .columns(User::name)
                    .filter(User::name.contains(v)),
            )
            .await
            .unwrap();
        contains.sort();
        let mut expected: Vec<String> = HOSTILE
            .iter()
            .filter(|h| h.contains(*v))
            .map(|h| (*h).to_owned())
            .collect();
        expected.sort();
        assert_eq!(contains, expected, "contains {v:?}");

        // is_in
        assert_value_not_in_sql(v, |v| {
            select::<User>().filter(User::name.is_in([v.to_owned()]))
        });
        let ids: Vec<i32> = t
            .fetch_all(
                select::<User>()
                    .columns(User::age)
                    .filter(User::name.is_in([(*v).to_owned(), "nobody".to_owned()])),
            )
            .await
            .unwrap();
        assert_eq!(ids, vec![i as i32]);

        // raw text binds
        let raw: i64 = t
            .fetch_one(
                select::<User>()
                    .filter(text::<bool>("\"users\".\"name\" = :v").bind("v", (*v).to_owned()))
                    .count(),
            )
            .await
            .unwrap();
        assert_eq!(raw, 1, "raw bind {v:?}");
        let echoed: String = t
            .fetch_one(query::<String>("SELECT :v::text").bind("v", (*v).to_owned()))
            .await
            .unwrap();
        assert_eq!(echoed, *v);
    }
    let all: i64 = t
        .fetch_one(
            select::<User>()
                .filter(User::name.is_in(HOSTILE.iter().map(|s| (*s).to_owned())))
                .count(),
        )
        .await
        .unwrap();
    assert_eq!(all, HOSTILE.len() as i64);

    // update set
    for (i, v) in HOSTILE.iter().enumerate() {
        let new = format!("{v}|{i}");
        assert_value_not_in_sql(&new, |v| {
            update::<User>().set(User::email, v).filter(User::age.eq(0))
        });
        let back: Option<String> = t
            .fetch_one(
                update::<User>()
                    .set(User::email, new.as_str())
                    .filter(User::name.eq(*v))
                    .returning(User::email),
            )
            .await
            .unwrap();
        assert_eq!(back, Some(new));
    }

    // upsert through EXCLUDED
    for (i, v) in HOSTILE.iter().enumerate() {
        let mut row = hostile_user(i, v);
        row.email = Some(format!("excluded {v}"));
        assert_value_not_in_sql(v, |v| {
            insert(&hostile_user(0, v))
                .on_conflict(User::name)
                .do_update(|u| u.set(User::email, excluded(User::email)))
        });
        let back = t
            .fetch_one(
                insert(&row)
                    .on_conflict(User::name)
                    .do_update(|u| u.set(User::email, excluded(User::email))),
            )
            .await
            .unwrap();
        assert_eq!(back.name, *v);
        assert_eq!(back.email, Some(format!("excluded {v}")));
    }
    assert_eq!(count_users(&t.db).await, HOSTILE.len() as i64);

    // delete by value
    for v in HOSTILE {
        assert_value_not_in_sql(v, |v| delete::<User>().filter(User::name.eq(v)));
        let n = t
            .execute(delete::<User>().filter(User::name.eq(*v)))
            .await
            .unwrap();
        assert_eq!(n, 1, "delete {v:?}");
    }
    assert_eq!(count_users(&t.db).await, 0);
}

#[tokio::test]
async fn hostile_values_round_trip_through_insert_many_and_upsert_many() {
    let t = users_db().await;
    let rows: Vec<User> = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, v)| hostile_user(i, v))
        .collect();
    let sql = insert_many(&rows).compile().unwrap().sql;
    for v in HOSTILE.iter().filter(|v| v.chars().count() >= 3) {
        assert!(!sql.contains(v), "{v:?} in {sql}");
    }
    let back = t.fetch_all(insert_many(&rows)).await.unwrap();
    let names: Vec<&str> = back.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, HOSTILE);

    // The same rows again, with new emails, through EXCLUDED.
    let again: Vec<User> = rows
        .iter()
        .map(|u| User {
            email: Some(format!("{}#again", u.name)),
            ..u.clone()
        })
        .collect();
    let back = t
        .fetch_all(
            insert_many(&again)
                .on_conflict(User::name)
                .do_update(|u| u.set_excluded(User::email)),
        )
        .await
        .unwrap();
    assert_eq!(back.len(), HOSTILE.len());
    for (u, v) in back.iter().zip(HOSTILE) {
        assert_eq!(u.name, *v);
        assert_eq!(u.email, Some(format!("{v}#again")));
    }
}

#[tokio::test]
async fn nul_in_text_is_a_data_exception_on_every_path() {
    let t = users_db().await;
    add_users(&t.db, &[("a", 1)]).await;
    let nul = "a\0b";
    let errors = [
        t.execute(insert(&user(nul, 1))).await.unwrap_err(),
        t.execute(insert_many(&[user("ok", 1), user(nul, 2)]))
            .await
            .unwrap_err(),
        t.execute(update::<User>().set(User::name, nul))
            .await
            .unwrap_err(),
        t.fetch_all(select::<User>().filter(User::name.eq(nul)))
            .await
            .unwrap_err(),
        t.fetch_all(select::<User>().filter(User::name.is_in([nul.to_owned()])))
            .await
            .unwrap_err(),
        t.fetch_all(query::<String>("SELECT :v::text").bind("v", nul.to_owned()))
            .await
            .unwrap_err(),
    ];
    for err in errors {
        assert!(matches!(err.kind(), ErrorKind::DataException(_)), "{err:?}");
        assert_eq!(err.sqlstate(), Some("22021"));
    }
    assert_eq!(ages(&t.db).await, owned(&[("a", 1)]), "nothing was written");
}

#[tokio::test]
async fn limit_and_offset_are_numbers() {
    let t = users_db().await;
    add_users(&t.db, &[("a", 1), ("b", 2), ("c", 3)]).await;
    let q = |limit: i64, offset: i64| {
        select::<User>()
            .columns(User::name)
            .order_by(User::name)
            .limit(limit)
            .offset(offset)
    };
    assert_eq!(
        q(1, 0).compile().unwrap().sql,
        q(i64::MAX, 2).compile().unwrap().sql
    );
    assert_eq!(t.fetch_all(q(i64::MAX, 1)).await.unwrap(), ["b", "c"]);
    assert_eq!(
        t.fetch_all(q(1, i64::MAX)).await.unwrap(),
        Vec::<String>::new()
    );
    for (limit, offset, state) in [(-1, 0, "2201W"), (1, -1, "2201X")] {
        let err = t.fetch_all(q(limit, offset)).await.unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::DataException(_)), "{err:?}");
        assert_eq!(err.sqlstate(), Some(state));
    }
}
