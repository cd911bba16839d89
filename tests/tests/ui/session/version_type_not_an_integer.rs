use orm_postgres::prelude::*;

// An alias the derive cannot see through: the generated code's bound reports it, at the type.
type Revision = f64;

#[derive(Model, Debug, Clone)]
pub struct Document {
    #[model(primary_key)]
    pub id: i64,
    #[model(version)]
    pub revision: Revision,
}

fn main() {}
