//! A composite primary key: `Pk` is a tuple in field order.

use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Enrollment {
    #[model(primary_key)]
    pub student: i32,
    pub grade: Option<i16>,
    #[model(primary_key, column = "course_code")]
    pub course: String,
}

fn main() {
    // Default table name: the struct's name in snake_case.
    assert_eq!(Enrollment::TABLE.name, "enrollment");
    let key: Vec<&str> = Enrollment::TABLE.primary_key().map(|c| c.name).collect();
    assert_eq!(key, ["student", "course_code"]);

    let e = Enrollment {
        student: 1,
        grade: Some(5),
        course: "math".into(),
    };
    let pk: (i32, String) = e.pk();
    assert_eq!(pk, (1, "math".to_string()));
    assert_eq!(Enrollment::pk_params(pk).len(), 2);
    assert_eq!(e.insert_params().len(), 3);
    assert_eq!(e.update_params().len(), 1);

    let q = select::<Enrollment>()
        .filter(Enrollment::student.eq(1).and(Enrollment::course.eq("math")))
        .compile()
        .unwrap();
    assert_eq!(
        q.sql,
        r#"SELECT "enrollment"."student", "enrollment"."grade", "enrollment"."course_code" FROM "enrollment" WHERE ("enrollment"."student" = $1) AND ("enrollment"."course_code" = $2)"#
    );
}
