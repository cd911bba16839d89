use orm_postgres::prelude::*;

// The relationship `back_populates` names must lead back to this model: `Order.user` names
// `User.tickets`, whose target is `Ticket`. A relationship of a variant struct may be named
// from the enum's side and the other way round (`Team.members` to `Staff`, `Chief.team`).
#[derive(Model)]
#[model(table = "users")]
pub struct User {
    #[model(primary_key)]
    pub id: i64,
    #[relationship(has_many = Ticket, foreign_key = "user_id")]
    pub tickets: Related<Vec<Ticket>>,
}

#[derive(Model)]
#[model(table = "orders")]
pub struct Order {
    #[model(primary_key)]
    pub id: i64,
    pub user_id: i64,
    #[relationship(belongs_to = User, foreign_key = "user_id", back_populates = "tickets")]
    pub user: Related<User>,
}

#[derive(Model)]
#[model(table = "tickets")]
pub struct Ticket {
    #[model(primary_key)]
    pub id: i64,
    pub user_id: i64,
}

#[derive(Model)]
#[model(table = "teams")]
pub struct Team {
    #[model(primary_key)]
    pub id: i64,
    #[relationship(has_many = Staff, foreign_key = "team_id", back_populates = "team")]
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

fn main() {}
