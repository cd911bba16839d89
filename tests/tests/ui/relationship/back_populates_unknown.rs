use orm_postgres::prelude::*;

// `back_populates` names a relationship of the target model, found by its marker type (the
// compiler suggests the closest one); to an inheritance enum, among the enum's relationships;
// in another module, by its path. On a self-referential relationship the derive knows the
// fields: the closest name, or the list.
#[derive(Model)]
#[model(table = "users")]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    #[relationship(has_many = Order, foreign_key = "user_id", back_populates = "usr")]
    pub orders: Related<Vec<Order>>,
}

#[derive(Model)]
#[model(table = "orders")]
pub struct Order {
    #[model(primary_key)]
    pub id: i64,
    pub user_id: i64,
    #[relationship(belongs_to = User, foreign_key = "user_id", back_populates = "invoices")]
    pub user: Related<User>,
    #[relationship(belongs_to = shop::Shop, foreign_key = "user_id", back_populates = "ordrs")]
    pub shop: Related<shop::Shop>,
}

mod shop {
    use orm_postgres::prelude::*;

    #[derive(Model)]
    #[model(table = "shops")]
    pub struct Shop {
        #[model(primary_key)]
        pub id: i64,
        #[relationship(has_many = super::Order, foreign_key = "user_id", back_populates = "shop")]
        pub orders: Related<Vec<super::Order>>,
    }
}

#[derive(Model)]
#[model(table = "teams")]
pub struct Team {
    #[model(primary_key)]
    pub id: i64,
    #[relationship(has_many = Staff, foreign_key = "team_id", back_populates = "teem")]
    pub members: Related<Vec<Staff>>,
}

#[derive(Model)]
#[model(table = "staff", discriminator = "role", relationships(team))]
pub enum Staff {
    #[model(value = "chief")]
    Chief(Chief),
}

#[derive(Model)]
#[model(inherits = Staff)]
pub struct Chief {
    #[model(primary_key)]
    pub id: i64,
    pub team_id: i64,
    #[relationship(belongs_to = Team, foreign_key = "team_id", back_populates = "members")]
    pub team: Related<Team>,
}

#[derive(Model)]
#[model(table = "employees")]
pub struct Employee {
    #[model(primary_key)]
    pub id: i64,
    pub manager_id: Option<i64>,
    #[relationship(belongs_to = Self, foreign_key = "manager_id", back_populates = "reprts")]
    pub manager: Related<Option<Employee>>,
    #[relationship(has_many = Self, foreign_key = "manager_id", back_populates = "boss")]
    pub reports: Related<Vec<Employee>>,
}

fn main() {}
