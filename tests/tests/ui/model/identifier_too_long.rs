use orm_postgres::prelude::*;

#[derive(Model, Debug)]
#[model(table = "a_table_name_that_is_much_longer_than_sixty_three_bytes_in_total_length")]
pub struct Long {
    #[model(primary_key, column = "a_column_name_that_is_also_much_longer_than_sixty_three_bytes_long")]
    pub id: i32,
}

fn main() {}
