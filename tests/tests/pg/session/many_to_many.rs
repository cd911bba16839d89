//! Many-to-many.

use super::*;

#[tokio::test]
async fn students_enroll_by_assigning_collections() {
    let t = setup().await;
    let mut s = t.session();
    let (courses, ann) = courses_and_ann(&mut s);
    s.set_related(
        &ann,
        Student::courses,
        vec![courses[0].clone(), courses[1].clone()],
    )
    .unwrap();
    let before = t.statement_count();
    s.commit().await.unwrap();
    // BEGIN, INSERT courses + INSERT students (one level, pipelined), INSERT links, COMMIT.
    assert_eq!(t.statement_count() - before, 5);
    assert_eq!(count(&t, "SELECT count(*) FROM e_enrollment").await, 2);

    // Re-assign: drop biology, add chemistry: one DELETE and one INSERT of links.
    let mut s = t.session();
    let ann = s
        .one(select::<Student>().load(Student::courses.selectin()))
        .await
        .unwrap();
    let titles: Vec<String> = s
        .related(&ann, Student::courses)
        .unwrap()
        .iter()
        .map(|c| c.read().title.clone())
        .collect();
    assert_eq!(titles, ["algebra", "biology"]);
    let all = s
        .all(select::<Course>().order_by(Course::title))
        .await
        .unwrap();
    s.set_related(&ann, Student::courses, vec![all[0].clone(), all[2].clone()])
        .unwrap();
    let before = t.statement_count();
    s.flush().await.unwrap();
    assert_eq!(t.statement_count() - before, 2);
    s.commit().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM e_enrollment e JOIN e_course c ON c.id = e.course_id WHERE c.title IN ('algebra', 'chemistry')").await,
        2
    );
    assert_eq!(count(&t, "SELECT count(*) FROM e_enrollment").await, 2);

    // Deleting the student deletes its association rows too.
    let mut s = t.session();
    let ann = s.one(select::<Student>()).await.unwrap();
    s.delete(&ann).unwrap();
    s.commit().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM e_enrollment").await, 0);
    assert_eq!(count(&t, "SELECT count(*) FROM e_course").await, 3);
}

/// A course removed from a student's courses and deleted in the same flush: the association
/// row goes first (the course's model declares no many-to-many of its own to take it).
#[tokio::test]
async fn a_removed_and_deleted_target_takes_its_association_row() {
    let t = setup().await;
    let mut s = t.session();
    let courses = s.add_all(["algebra", "biology"].map(|c| Course {
        title: c.into(),
        ..Course::default()
    }));
    let ann = s.add(Student {
        name: "ann".into(),
        ..Student::default()
    });
    s.set_related(&ann, Student::courses, courses.to_vec())
        .unwrap();
    s.commit().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM e_enrollment").await, 2);

    let mut s = t.session();
    let ann = s
        .one(select::<Student>().load(Student::courses.selectin()))
        .await
        .unwrap();
    let algebra = s.related(&ann, Student::courses).unwrap()[0].clone();
    assert_eq!(algebra.read().title, "algebra");
    s.remove(&ann, Student::courses, &algebra).unwrap();
    s.delete(&algebra).unwrap();
    s.commit().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM e_enrollment").await, 1);
    assert_eq!(count(&t, "SELECT count(*) FROM e_course").await, 1);
}

/// With autoflush off, a query that loads a collection the session changed and has not
/// flushed keeps the session's version (SQLAlchemy does not overwrite a loaded attribute with
/// pending changes either). Before, the load put the database's rows in its place: the
/// course just assigned vanished from `related`, and the flush lost its association row.
#[tokio::test]
async fn a_load_keeps_a_collection_changed_and_not_flushed() {
    let t = ann_in_algebra().await;
    let mut s = t.session_with(SessionOptions::default().autoflush(false));
    let ann = s
        .one(select::<Student>().load(Student::courses.selectin()))
        .await
        .unwrap();
    let chemistry = s
        .one(select::<Course>().filter(Course::title.eq("chemistry")))
        .await
        .unwrap();
    // Complete and changed: algebra out, chemistry in.
    let algebra = s.related(&ann, Student::courses).unwrap()[0].clone();
    s.remove(&ann, Student::courses, &algebra).unwrap();
    s.append(&ann, Student::courses, &chemistry).unwrap();
    let again = s
        .one(select::<Student>().load(Student::courses.selectin()))
        .await
        .unwrap();
    assert!(Tracked::ptr_eq(&again, &ann));
    let titles = |s: &Session, ann: &Tracked<Student>| -> Vec<String> {
        s.related(ann, Student::courses)
            .unwrap()
            .iter()
            .map(|c| c.read().title.clone())
            .collect()
    };
    assert_eq!(
        titles(&s, &ann),
        ["chemistry"],
        "the load kept the session's change"
    );
    s.commit().await.unwrap();
    let rows: Vec<String> = t
        .fetch_all(orm_postgres::raw::query::<(String,)>(
            "SELECT c.title FROM e_enrollment e JOIN e_course c ON c.id = e.course_id",
        ))
        .await
        .unwrap()
        .into_iter()
        .map(|(t,)| t)
        .collect();
    assert_eq!(rows, ["chemistry"]);

    // Only appended to (never loaded): the load completes it with the database's rows, and the
    // appended course stays.
    let mut s = t.session_with(SessionOptions::default().autoflush(false));
    let ann = s.one(select::<Student>()).await.unwrap();
    let biology = s
        .one(select::<Course>().filter(Course::title.eq("biology")))
        .await
        .unwrap();
    s.append(&ann, Student::courses, &biology).unwrap();
    assert!(s.related(&ann, Student::courses).is_err(), "not loaded yet");
    s.one(select::<Student>().load(Student::courses.selectin()))
        .await
        .unwrap();
    let mut now = titles(&s, &ann);
    now.sort();
    assert_eq!(now, ["biology", "chemistry"]);
    s.commit().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM e_enrollment").await, 2);
}
