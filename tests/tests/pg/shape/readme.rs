//! The README's sample of generated columns, deferred columns, column properties and hybrids,
//! as written there, run against the server.

use orm_postgres::prelude::*;
use orm_testing::test_database;

#[derive(Model, Debug, Clone, Default)]
#[model(table = "people")]
pub struct Person {
    #[model(primary_key, generated)]
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub age: i32,
    // GENERATED ALWAYS AS (...) STORED: never written, read back after every insert and update
    #[model(computed = "first_name || ' ' || last_name")]
    pub full_name: String,
    // left out of SELECTs unless asked for: reading it unloaded is the NotLoaded error
    #[model(deferred)]
    pub bio: Deferred<String>,
    // read-only, loaded from an expression built with the typed builder (not a table column)
    #[model(column_property = Person::order_count_expr)]
    pub order_count: i64,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "person_orders")]
pub struct PersonOrder {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "people.id")]
    pub person_id: i64,
}

impl Person {
    fn order_count_expr() -> Expr<i64> {
        select::<PersonOrder>()
            .filter(PersonOrder::person_id.eq(Person::id))
            .columns(func::count_all())
            .scalar()
            .cast::<i64>()
    }
}

orm_postgres::hybrid! {
    impl Person as pub PersonHybrids {
        /// SQL in queries, Rust on a loaded object: the same body, type-checked both ways.
        pub fn is_adult(age) -> bool {
            age.ge(18)
        }
    }
}

#[tokio::test]
async fn the_readme_sample_runs() -> orm_postgres::Result<()> {
    let db = test_database().await?;
    db.create_all(&[Person::TABLE, PersonOrder::TABLE]).await?;
    let mut person = db
        .fetch_one(insert(&Person {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            age: 36,
            bio: Deferred::new("Wrote the first program.".into()),
            ..Person::default()
        }))
        .await?;
    assert_eq!(person.full_name, "Ada Lovelace");
    db.execute(insert(&PersonOrder {
        person_id: person.id,
        ..PersonOrder::default()
    }))
    .await?;

    let adults = db
        .fetch_all(
            select::<Person>()
                .filter(Person::is_adult())
                .undefer(Person::bio),
        )
        .await?;
    assert!(adults.iter().all(|p| p.is_adult()));
    assert_eq!(adults[0].bio.get()?, "Wrote the first program.");
    assert_eq!(adults[0].order_count, 1);

    let mut person_again = db.fetch_one(select::<Person>().by_pk(person.id)).await?;
    assert!(person_again.bio.get().is_err());
    db.load_deferred(&mut person_again, Person::bio).await?;
    assert_eq!(person_again.bio.get()?, "Wrote the first program.");
    db.load_deferred(&mut person, Person::bio).await?;
    Ok(())
}
