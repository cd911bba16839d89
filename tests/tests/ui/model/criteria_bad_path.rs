use orm_postgres::prelude::*;

// `criteria = path` names a function returning `Expr<bool>`: a misspelled path, a function
// returning another type and SQL text are each reported at what the user wrote.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(criteria = Self::not_delete)]
pub struct Note {
    #[model(primary_key)]
    pub id: i64,
    pub deleted_at: Option<i64>,
}

impl Note {
    fn not_deleted() -> Expr<bool> {
        Note::deleted_at.is_null()
    }
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(criteria = Self::id_of)]
pub struct Page {
    #[model(primary_key)]
    pub id: i64,
}

impl Page {
    fn id_of() -> Expr<i64> {
        func::value(1_i64)
    }
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(criteria = "deleted_at IS NULL")]
pub struct Text {
    #[model(primary_key)]
    pub id: i64,
}

fn main() {
    let _ = Note::not_deleted();
}
