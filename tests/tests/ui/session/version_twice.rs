use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct Document {
    #[model(primary_key)]
    pub id: i64,
    #[model(version)]
    pub revision: i32,
    #[model(version)]
    pub edit_count: i64,
}

fn main() {
    // The fallback keeps the columns: this line adds no error of its own.
    let _ = select::<Document>().filter(Document::revision.eq(3));
}
