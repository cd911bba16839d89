use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
#[model(table = "documents")]
pub struct Document {
    #[model(primary_key, generated)]
    pub id: i64,
    pub title: String,
    #[model(deferred)]
    pub body: Deferred<String>,
}

fn main() {
    // Only a deferred column can be left out: `title` is always loaded.
    let _ = select::<Document>().defer(Document::title);
}
