use orm_postgres::prelude::*;
use orm_tests::{Order, User};

fn main() {
    // Orders are not in the UPDATE's FROM list: their columns cannot be returned.
    let _ = update::<User>().set(User::age, 1).returning(Order::total);
    // With `.from::<Order>()` they can.
    let _ = update::<User>()
        .from::<Order>()
        .set(User::age, Order::total)
        .filter(Order::user_id.eq(User::id))
        .returning((User::name, Order::total));
    let _ = delete::<Order>().returning(User::name);
}
