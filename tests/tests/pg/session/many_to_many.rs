//! Many-to-many.

use super::*;

#[tokio::test]
async fn students_enroll_by_assigning_collections() {
    let t = setup().await;
    let mut s = t.session();
    let courses = s.add_all(["algebra", "biology", "chemistry"].map(|c| Course {
        title: c.into(),
        ..Course::default()
    }));
    let ann = s.add(Student {
        name: "ann".into(),
        ..Student::default()
    });
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
