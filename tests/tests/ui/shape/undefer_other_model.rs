use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
#[model(table = "documents")]
pub struct Document {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(deferred)]
    pub body: Deferred<String>,
}

#[derive(Model, Debug, Clone)]
#[model(table = "drafts")]
pub struct Draft {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(deferred)]
    pub body: Deferred<String>,
}

fn main() {
    // A query of `Document` loads its own columns (or its variants'), not another model's.
    let _ = select::<Document>().undefer(Draft::body);
}
