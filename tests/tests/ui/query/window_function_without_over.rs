use orm_postgres::prelude::*;

#[derive(Model, Debug, Clone)]
pub struct Score {
    #[model(primary_key)]
    pub id: i64,
    pub points: i32,
}

fn main() {
    // A window function is not an expression until `.over(...)` gives it its window.
    let _ = select::<Score>().columns((Score::id, func::row_number()));
    let _ = select::<Score>().filter(func::rank().eq(1_i64));
    let _ = select::<Score>().order_by(func::lag(Score::points, 1, 0));
}
