//! Identity map.

use super::*;

#[tokio::test]
async fn one_object_per_row_and_get_answers_from_the_map() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let jane = s.add(User::named("jane"));
    s.commit().await.unwrap();
    let id = jane.read().id;
    assert!(id > 0, "the generated key came back");
    assert_eq!(jane.status(), Status::Persistent);

    let before = t.statement_count();
    let again = s.get::<User>(id).await.unwrap().unwrap();
    assert!(Tracked::ptr_eq(&jane, &again));
    assert_eq!(
        t.statement_count(),
        before,
        "get answered from the identity map"
    );

    // A query returning the row gives the same object too.
    let all = s.all(select::<User>()).await.unwrap();
    assert_eq!(all.len(), 1);
    assert!(Tracked::ptr_eq(&jane, &all[0]));

    // A fresh session loads it again (one query), and twice is still one object.
    let mut s2 = t.session();
    let a = s2.get::<User>(id).await.unwrap().unwrap();
    let b = s2.get::<User>(id).await.unwrap().unwrap();
    assert!(Tracked::ptr_eq(&a, &b));
    assert!(!Tracked::ptr_eq(&a, &jane));
    assert!(s2.get::<User>(id + 1000).await.unwrap().is_none());
}

#[tokio::test]
async fn relationship_loads_give_the_objects_of_the_identity_map() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let mut u = User::named("ann");
    u.orders = Related::loaded(vec![Order::of(1), Order::of(2)]);
    let ann = s.add(u);
    s.commit().await.unwrap();
    let first = s.related(&ann, User::orders).unwrap()[0].clone();
    let first_id = first.read().id;

    let mut s2 = t.session();
    let order = s2.get::<Order>(first_id).await.unwrap().unwrap();
    let users = s2
        .all(select::<User>().load(User::orders.selectin()))
        .await
        .unwrap();
    let orders = s2.related(&users[0], User::orders).unwrap();
    assert_eq!(orders.len(), 2);
    assert!(
        Tracked::ptr_eq(&orders[0], &order),
        "the loader found the object in the map"
    );
    // back_populates: the order knows its user without a query.
    let owner = s2.related_one(&order, Order::user).unwrap().unwrap();
    assert!(Tracked::ptr_eq(&owner, &users[0]));
    // Never loaded: an error, not a query.
    let err = s2.related(&orders[0], Order::user).err();
    assert!(err.is_none(), "loaded through back_populates");
    let lone = s2.add(User::named("zed"));
    let err = s2.related(&lone, User::orders).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotLoaded { .. }));
}

/// `add_all` of many objects: their identity keys taken from the sequence in one statement,
/// then one `COPY`; each key lands in its own object (titles given out of key order, so a key
/// written to the wrong object shows as a title the row does not have), every object in the
/// identity map under its key.
#[tokio::test]
async fn add_all_writes_each_generated_key_back_to_its_own_object() {
    keys_land_in_their_own_objects(
        2_500,
        4,
        "BEGIN, the keys from the sequence, one COPY, COMMIT",
    )
    .await;
}

/// The same below the `COPY` threshold: one `INSERT … SELECT FROM unnest(…) RETURNING`, whose
/// rows come back in the objects' order.
#[tokio::test]
async fn an_insert_returns_each_generated_key_to_its_own_object() {
    keys_land_in_their_own_objects(997, 3, "BEGIN, one INSERT … RETURNING, COMMIT").await;
}

/// `n` new objects through `add_all` and a commit of `statements` statements: each generated
/// key is in its own object and row, and each object in the identity map under it.
async fn keys_land_in_their_own_objects(n: usize, statements: u64, what: &str) {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    // A permutation of 0..n (7919 is prime, so coprime with n).
    let titles: Vec<String> = (0..n).map(|i| format!("c{:05}", (i * 7919) % n)).collect();
    let before = t.statement_count();
    let courses = s.add_all(titles.iter().map(|title| Course {
        id: 0,
        title: title.clone(),
    }));
    assert_eq!(courses.len(), n);
    s.commit().await.unwrap();
    assert_eq!(t.statement_count() - before, statements, "{what}");

    let mut fresh = t.session();
    let rows = fresh.all(select::<Course>()).await.unwrap();
    let in_db: std::collections::HashMap<i64, String> = rows
        .iter()
        .map(|c| {
            let c = c.read();
            (c.id, c.title.clone())
        })
        .collect();
    assert_eq!(in_db.len(), n);
    let mut ids = std::collections::HashSet::new();
    for (course, title) in courses.iter().zip(&titles) {
        let c = course.read();
        assert_eq!(&c.title, title, "the object kept its own values");
        assert_eq!(
            in_db.get(&c.id),
            Some(title),
            "key {} written back to the object of another row",
            c.id
        );
        assert!(ids.insert(c.id), "key {} given twice", c.id);
        drop(c);
        assert_eq!(course.status(), Status::Persistent);
    }
    // Each object is in the identity map under its own key: `get` answers without a query.
    let before = t.statement_count();
    for course in &courses {
        let id = course.read().id;
        let found = s.get::<Course>(id).await.unwrap().expect("in the map");
        assert!(Tracked::ptr_eq(&found, course), "key {id}");
    }
    assert_eq!(
        t.statement_count(),
        before,
        "answered from the identity map"
    );
}

/// The objects of one `add_all` are undone together: a rollback detaches every one of them
/// (flushed or not), and a guard held on any of them stops it before anything changes.
#[tokio::test]
async fn rollback_detaches_every_object_of_an_add_all() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let kept = s.add(Course {
        id: 0,
        title: "kept".into(),
    });
    s.commit().await.unwrap();

    let flushed = s.add_all((0..3).map(|i| Course {
        id: 0,
        title: format!("flushed {i}"),
    }));
    s.flush().await.unwrap();
    let ids: Vec<i64> = flushed.iter().map(|c| c.read().id).collect();
    let pending = s.add_all((0..3).map(|i| Course {
        id: 0,
        title: format!("pending {i}"),
    }));
    assert!(s.has_changes());

    // A guard on one flushed object refuses the rollback, changing nothing.
    let guard = flushed[1].write();
    let err = s
        .rollback()
        .await
        .expect_err("a guard holds an object to detach");
    assert!(err.is_object_in_use(), "{err}");
    drop(guard);
    assert!(flushed.iter().all(|c| c.status() == Status::Persistent));
    assert!(pending.iter().all(|c| c.status() == Status::Pending));

    s.rollback().await.unwrap();
    for c in flushed.iter().chain(&pending) {
        assert_eq!(c.status(), Status::Detached, "{:?}", c.read().title);
    }
    assert_eq!(kept.status(), Status::Persistent);
    assert!(!s.has_changes(), "{:?}", s.unit_of_work());
    for id in ids {
        assert!(
            s.get::<Course>(id).await.unwrap().is_none(),
            "row {id} rolled back and out of the identity map"
        );
    }
    assert_eq!(
        count(&t, "SELECT count(*) FROM e_course").await,
        1,
        "only the committed row"
    );
    // The session works on: the detached objects' values can be added again.
    let again = s.add_all(pending.iter().map(|c| c.read().clone()));
    s.commit().await.unwrap();
    assert!(again.iter().all(|c| c.status() == Status::Persistent));
    assert_eq!(count(&t, "SELECT count(*) FROM e_course").await, 4);
}

/// A table whose every column the server writes (here only an identity key).
#[derive(Model, Debug, Clone, Default)]
#[model(table = "tickets")]
struct Ticket {
    #[model(primary_key, generated)]
    id: i64,
}

/// New objects of a model with no column to send: one `INSERT … DEFAULT VALUES RETURNING` per
/// object, each key back in its own object.
#[tokio::test]
async fn objects_with_only_server_written_columns_are_inserted_with_default_values() {
    let t = test_database().await.unwrap();
    t.create_all(&[Ticket::TABLE]).await.unwrap();
    let mut s = t.session_with(no_expire());
    let tickets = s.add_all((0..3).map(|_| Ticket::default()));
    let before = t.statement_count();
    s.commit().await.unwrap();
    assert_eq!(
        t.statement_count() - before,
        5,
        "BEGIN, three INSERT … DEFAULT VALUES, COMMIT"
    );
    let mut keys: Vec<i64> = tickets.iter().map(|t| t.read().id).collect();
    assert!(keys.iter().all(|&k| k > 0), "every key came back: {keys:?}");
    let rows = t.fetch_all(select::<Ticket>()).await.unwrap();
    let mut in_db: Vec<i64> = rows.iter().map(|r| r.id).collect();
    keys.sort_unstable();
    in_db.sort_unstable();
    assert_eq!(
        keys, in_db,
        "each object holds a row's key, no two the same"
    );
    for ticket in &tickets {
        let id = ticket.read().id;
        let found = s.get::<Ticket>(id).await.unwrap().expect("in the map");
        assert!(Tracked::ptr_eq(&found, ticket));
    }
}

/// A primary key changed through `write()` moves the object in the identity map with its
/// row: the old key finds nothing, the new one this object (not a second one); a rollback
/// puts it back under the old key.
#[tokio::test]
async fn a_changed_primary_key_moves_the_object_in_the_map() {
    let t = setup().await;
    let mut s = t.session_with(no_expire());
    let ann = s.add(Student {
        name: "ann".into(),
        ..Student::default()
    });
    let [algebra, biology] = s
        .add_all(["algebra", "biology"].map(|c| Course {
            title: c.into(),
            ..Course::default()
        }))
        .try_into()
        .unwrap_or_else(|_| panic!("two courses"));
    s.commit().await.unwrap();
    let (sid, a, b) = (ann.read().id, algebra.read().id, biology.read().id);
    s.add(Enrollment {
        student_id: sid,
        course_id: a,
    });
    s.commit().await.unwrap();

    let mut s = t.session_with(no_expire());
    let e = s.get::<Enrollment>((sid, a)).await.unwrap().unwrap();
    e.write().course_id = b;
    s.commit().await.unwrap();
    assert!(s.get::<Enrollment>((sid, a)).await.unwrap().is_none());
    let again = s.get::<Enrollment>((sid, b)).await.unwrap().unwrap();
    assert!(Tracked::ptr_eq(&e, &again));

    // Changed back, flushed, rolled back: under the key it has again.
    e.write().course_id = a;
    s.flush().await.unwrap();
    assert!(Tracked::ptr_eq(
        &e,
        &s.get::<Enrollment>((sid, a)).await.unwrap().unwrap()
    ));
    s.rollback().await.unwrap();
    assert_eq!(e.read().course_id, b);
    let back = s.get::<Enrollment>((sid, b)).await.unwrap().unwrap();
    assert!(Tracked::ptr_eq(&e, &back));
    assert!(s.get::<Enrollment>((sid, a)).await.unwrap().is_none());
}

/// An object of one session handed to another: refused by every call that takes objects, each
/// with the session's error, nothing changed in either session. Before, session ids collided
/// (each counts from 1): `related` answered with the other object's collection, `append`
/// linked the foreign object and `delete` deleted a row the other session still tracked.
#[tokio::test]
async fn an_object_of_another_session_is_refused_not_mixed_in() {
    let t = setup().await;
    let mut s1 = t.session_with(no_expire());
    let mut u = User::named("ann");
    u.orders = Related::loaded(vec![Order::of(1), Order::of(2)]);
    let ann = s1.add(u);
    s1.commit().await.unwrap();
    let ann_order = s1.related(&ann, User::orders).unwrap()[0].clone();

    let mut s2 = t.session_with(no_expire());
    let mut b = User::named("bob");
    b.orders = Related::loaded(vec![Order::of(3)]);
    let bob = s2.add(b);
    s2.commit().await.unwrap();
    let bob_order = s2.related(&bob, User::orders).unwrap()[0].clone();

    let refused = |r: orm_postgres::Result<()>, what: &str| {
        let err = r.expect_err(what);
        assert!(
            matches!(err.kind(), ErrorKind::ObjectState(_))
                && err.to_string().contains("belongs to another session"),
            "{what}: {err}"
        );
    };
    refused(s2.related(&ann, User::orders).map(drop), "related");
    refused(s2.append(&bob, User::orders, &ann_order), "append target");
    refused(s2.append(&ann, User::orders, &bob_order), "append parent");
    refused(s2.remove(&bob, User::orders, &ann_order), "remove");
    refused(
        s2.set_related(
            &bob,
            User::orders,
            vec![bob_order.clone(), ann_order.clone()],
        ),
        "set_related",
    );
    refused(s2.delete(&ann), "delete");
    refused(s2.expunge(&ann), "expunge");
    refused(s2.expire(&ann), "expire");
    refused(s2.refresh(&ann).await, "refresh");
    refused(
        s2.load(std::slice::from_ref(&ann), User::orders.selectin())
            .await,
        "load",
    );

    // Nothing moved: both sessions flush nothing, and the rows are as they were.
    assert!(!s2.has_changes());
    s2.commit().await.unwrap();
    s1.commit().await.unwrap();
    assert_eq!(ann.status(), Status::Persistent);
    assert_eq!(s2.related(&bob, User::orders).unwrap().len(), 1);
    let rows = t
        .fetch_all(select::<Order>().order_by(Order::id.asc()))
        .await
        .unwrap();
    let owners: Vec<i64> = rows.iter().map(|o| o.user_id).collect();
    let (ann_id, bob_id) = (ann.read().id, bob.read().id);
    assert_eq!(owners, [ann_id, ann_id, bob_id]);

    // The way across: a copy merged in.
    let copy = s2.merge(ann.to_detached()).await.unwrap();
    assert!(!Tracked::ptr_eq(&copy, &ann));
    s2.delete(&copy).unwrap();
    s2.commit().await.unwrap();
    assert!(
        t.fetch_optional(select::<User>().by_pk(ann_id))
            .await
            .unwrap()
            .is_none()
    );
}

/// A setting keyed by its name (not generated), with entries pointing at it.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "rs_setting")]
pub struct Setting {
    #[model(primary_key)]
    pub name: String,
    pub value: String,
    pub note: Option<String>,
}

/// A row pointing at a setting (no `ON DELETE` action: a `DELETE` of its setting fails).
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "rs_use")]
pub struct SettingUse {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "rs_setting.name")]
    pub setting: String,
}

/// The row switch: an object deleted and a new one with its key added in one flush. Before,
/// the flush inserted the new row first and failed on the key (23505); SQLAlchemy turns the
/// pair into an `UPDATE`, and so does the session now: the row keeps its key (rows pointing
/// at it too), gets the new object's values, and the new object is the session's for that key.
#[tokio::test]
async fn a_deleted_object_replaced_by_a_new_one_with_its_key_is_one_update() {
    let t = setup().await;
    t.create_all(&[Setting::TABLE, SettingUse::TABLE])
        .await
        .unwrap();
    let mut s = t.session_with(no_expire());
    let setting = |name: &str, value: &str| Setting {
        name: name.into(),
        value: value.into(),
        note: Some("first".into()),
    };
    s.add_all([setting("theme", "dark"), setting("lang", "en")]);
    s.commit().await.unwrap();
    t.execute(insert(&SettingUse {
        id: 0,
        setting: "theme".into(),
    }))
    .await
    .unwrap();

    let old = s.get::<Setting>("theme".to_owned()).await.unwrap().unwrap();
    s.delete(&old).unwrap();
    let new = s.add(Setting {
        name: "theme".into(),
        value: "light".into(),
        note: Some("first".into()),
    });
    let log = t.statement_log();
    s.flush().await.unwrap();
    // The transaction's BEGIN and one UPDATE of the changed column; no INSERT, no DELETE.
    let sent = log.statements();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(
        sent[1].starts_with("UPDATE \"rs_setting\" SET \"value\" ="),
        "{sent:?}"
    );
    assert_eq!(new.status(), Status::Persistent);
    assert_eq!(old.status(), Status::Detached);
    let got = s.get::<Setting>("theme".to_owned()).await.unwrap().unwrap();
    assert!(Tracked::ptr_eq(&got, &new), "the new object is the key's");
    s.commit().await.unwrap();
    let rows = t
        .fetch_all(select::<Setting>().order_by(Setting::name.asc()))
        .await
        .unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| (r.name.as_str(), r.value.as_str()))
            .collect::<Vec<_>>(),
        [("lang", "en"), ("theme", "light")]
    );
    assert_eq!(count(&t, "SELECT count(*) FROM rs_use").await, 1);

    // A failed flush puts both back: the old one deleted, the new one new.
    let lang = s.get::<Setting>("lang".to_owned()).await.unwrap().unwrap();
    s.delete(&lang).unwrap();
    let bad = s.add(Setting {
        name: "lang".into(),
        value: "fr".into(),
        note: None,
    });
    let clash = s.add(Setting {
        name: "theme".into(),
        value: "clash".into(),
        note: None,
    });
    let err = s
        .flush()
        .await
        .expect_err("theme is taken by a live object");
    assert_eq!(err.sqlstate(), Some("23505"), "{err}");
    s.rollback().await.unwrap();
    assert_eq!(
        lang.status(),
        Status::Persistent,
        "the rollback undid the delete"
    );
    assert_eq!(bad.status(), Status::Detached);
    assert_eq!(clash.status(), Status::Detached);
    assert_eq!(lang.read().value, "en");

    // Association rows: unenroll and enroll again in one flush is no statement at all.
    let mut s = t.session();
    let student = s.add(Student {
        name: "ann".into(),
        ..Student::default()
    });
    let course = s.add(Course {
        title: "algebra".into(),
        ..Course::default()
    });
    s.flush().await.unwrap();
    let (sid, cid) = (student.read().id, course.read().id);
    let e = s.add(Enrollment {
        student_id: sid,
        course_id: cid,
    });
    s.commit().await.unwrap();
    // Expired by the commit: its values may not be the row's, so no switch (the INSERT
    // fails on the key) until a load in this transaction refreshes it.
    s.delete(&e).unwrap();
    let again = s.add(Enrollment {
        student_id: sid,
        course_id: cid,
    });
    let err = s
        .flush()
        .await
        .expect_err("an expired object is not switched");
    assert_eq!(err.sqlstate(), Some("23505"), "{err}");
    s.rollback().await.unwrap();
    assert_eq!(again.status(), Status::Detached);
    let e = s.get::<Enrollment>((sid, cid)).await.unwrap().unwrap();
    s.delete(&e).unwrap();
    s.add(Enrollment {
        student_id: sid,
        course_id: cid,
    });
    s.commit().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM e_enrollment").await, 1);
}
