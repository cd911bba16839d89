//! Hybrid properties (`hybrid!`): one body, an SQL expression in queries and a Rust value on
//! loaded objects; the law: both give the same value for any row.

use orm_postgres::prelude::*;
use orm_testing::test_database;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "h_person")]
pub struct Person {
    #[model(primary_key, generated)]
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub age: i32,
}

orm_postgres::hybrid! {
    impl Person as pub PersonHybrids {
        /// First and last name.
        pub fn full_name(first_name, last_name) -> String {
            first_name.concat(" ").concat(last_name)
        }
        /// 18 or older.
        pub fn is_adult(age) -> bool {
            age.ge(18)
        }
        /// The age in ten years.
        pub fn age_in_ten(age) -> i32 {
            age.add(10)
        }
        /// A teenager whose first name sorts before the last.
        pub fn teen_sorted(age, first_name, last_name) -> bool {
            age.ge(13).and(age.le(19)).and(first_name.eq(last_name).not())
        }
    }
}

fn person(first: &str, last: &str, age: i32) -> Person {
    Person {
        id: 0,
        first_name: first.into(),
        last_name: last.into(),
        age,
    }
}

#[tokio::test]
async fn usable_in_filters_ordering_and_on_loaded_objects() {
    let t = test_database().await.unwrap();
    t.create_all(&[Person::TABLE]).await.unwrap();
    t.fetch_all(insert_many(&[
        person("Ada", "Lovelace", 36),
        person("Tim", "Tom", 12),
        person("Bea", "Bea", 15),
    ]))
    .await
    .unwrap();
    let q = select::<Person>()
        .filter(Person::is_adult().not())
        .order_by(Person::full_name().desc());
    assert_eq!(
        q.compile().unwrap().sql,
        r#"SELECT "h_person"."id", "h_person"."first_name", "h_person"."last_name", "h_person"."age" FROM "h_person" WHERE NOT ("h_person"."age" >= $1) ORDER BY ("h_person"."first_name" || $2) || "h_person"."last_name" DESC"#
    );
    let minors = t.fetch_all(q).await.unwrap();
    let names: Vec<String> = minors.iter().map(|p| p.full_name()).collect();
    assert_eq!(names, ["Tim Tom", "Bea Bea"]);
    assert!(minors.iter().all(|p| !p.is_adult()));
    // Selected as a column.
    let tens: Vec<(String, i32)> = t
        .fetch_all(
            select::<Person>()
                .order_by(Person::id)
                .columns((Person::full_name(), Person::age_in_ten())),
        )
        .await
        .unwrap();
    assert_eq!(tens[0], ("Ada Lovelace".to_string(), 46));
}

/// The law: for generated rows, the SQL side computed by the server equals the Rust side
/// computed on the loaded object.
#[tokio::test]
async fn the_rust_value_equals_the_sql_value() {
    let t = test_database().await.unwrap();
    t.create_all(&[Person::TABLE]).await.unwrap();
    let strategy = ("[a-zA-Zé' ]{0,12}", "[a-zA-Zé' ]{0,12}", -1000_i32..1000)
        .prop_map(|(f, l, a)| person(&f, &l, a));
    let mut runner = TestRunner::deterministic();
    let people: Vec<Person> = (0..300)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect();
    let inserted = t.fetch_all(insert_many(&people)).await.unwrap();
    let sql: Vec<(i64, String, bool, i32, bool)> = t
        .fetch_all(select::<Person>().order_by(Person::id).columns((
            Person::id,
            Person::full_name(),
            Person::is_adult(),
            Person::age_in_ten(),
            Person::teen_sorted(),
        )))
        .await
        .unwrap();
    assert_eq!(sql.len(), inserted.len());
    for (p, row) in inserted.iter().zip(&sql) {
        let rust = (
            p.id,
            p.full_name(),
            p.is_adult(),
            p.age_in_ten(),
            p.teen_sorted(),
        );
        assert_eq!(&rust, row, "{p:?}");
    }
    // And as filters: the server picks the rows the Rust side picks.
    let adults = t
        .fetch_one(select::<Person>().filter(Person::is_adult()).count())
        .await
        .unwrap();
    assert_eq!(
        adults as usize,
        inserted.iter().filter(|p| p.is_adult()).count()
    );
}
