use orm_postgres::prelude::*;

#[derive(Model, Debug)]
pub struct Event {
    #[model(primary_key)]
    pub id: i32,
    pub at: chrono::NaiveDateTime,
}

fn main() {
    // `timestamp - timestamp` is an interval on the server, not a timestamp: use `age` or
    // `sub_interval` instead. Arithmetic is for numbers (and intervals).
    let _ = select::<Event>().columns(Event::at.sub(Event::at));
}
