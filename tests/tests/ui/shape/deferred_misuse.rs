use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
#[model(table = "documents")]
pub struct Document {
    #[model(primary_key, deferred)]
    pub id: Deferred<i64>,
    // `deferred` needs a field that can be "not loaded".
    #[model(deferred)]
    pub body: String,
    // A `Deferred<T>` field must say it is deferred.
    pub summary: Deferred<String>,
}

fn main() {}
