use orm_postgres::Json;
use orm_postgres::prelude::*;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    pub theme: String,
}

#[derive(Model, Debug, Clone)]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    /// The session compares each column with its snapshot: `Settings` needs `PartialEq`.
    pub settings: Json<Settings>,
}

fn main() {}
