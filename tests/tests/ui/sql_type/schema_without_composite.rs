use orm_postgres::prelude::*;

// `schema` names a composite type's schema; alone it means nothing.
#[derive(SqlType, Debug, Clone, PartialEq)]
#[sql_type(schema = "app")]
pub struct Email(String);

impl CustomType for Email {
    type Repr = String;
    fn to_repr(&self) -> String {
        self.0.clone()
    }
    fn from_repr(text: String) -> Result<Self, BoxError> {
        Ok(Email(text))
    }
}

fn main() {}
