use orm_postgres::prelude::*;

#[derive(Model)]
#[model(table = "documents", discriminator = "kind")]
enum Doc {
    #[model(value = "note")]
    Note(Note),
    #[model(value = "scan")]
    Scan(Scan),
}

#[derive(Model)]
#[model(inherits = Doc)]
struct Note {
    #[model(primary_key)]
    id: i64,
    #[model(deferred)]
    body: Deferred<String>,
}

// The same column, not deferred: one column cannot be both.
#[derive(Model)]
#[model(inherits = Doc)]
struct Scan {
    #[model(primary_key)]
    id: i64,
    body: String,
}

fn main() {}
