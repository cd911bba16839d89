use orm_postgres::prelude::*;

// The enum exposes `team`, which the `Developer` variant does not declare, and `desk`, which no
// variant declares.
#[derive(Model)]
#[model(table = "staff", discriminator = "role", relationships(team))]
enum Staff {
    #[model(value = "chief", relationships(desk))]
    Chief(Chief),
    #[model(value = "developer")]
    Developer(Developer),
}

#[derive(Model)]
#[model(inherits = Staff, table = "chiefs")]
struct Chief {
    #[model(primary_key, generated)]
    id: i64,
    #[model(shared)]
    team_id: Option<i64>,
    #[relationship(belongs_to = Team, foreign_key = "team_id")]
    team: Related<Option<Team>>,
}

#[derive(Model)]
#[model(inherits = Staff, table = "developers")]
struct Developer {
    #[model(primary_key, generated)]
    id: i64,
    #[model(shared)]
    team_id: Option<i64>,
}

// On a plain struct, a relationship is a field.
#[derive(Model)]
#[model(table = "teams", relationships(members))]
struct Team {
    #[model(primary_key, generated)]
    id: i64,
}

fn main() {}
