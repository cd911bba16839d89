use orm_postgres::prelude::*;

// The representation is the impl's `type Repr`, not an attribute.
#[derive(SqlType, Debug, Clone, PartialEq)]
#[sql_type(repr = "text")]
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
