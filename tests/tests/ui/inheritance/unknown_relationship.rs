use orm_postgres::prelude::*;

// `relationships(...)` names relationships the variant structs declare: a misspelling gets the
// closest name, another name the list of what the struct declares, and a name on the enum that
// one variant lacks says where it goes instead.
#[derive(Model)]
#[model(table = "staff", discriminator = "role", polymorphic = "joined", relationships(teem))]
enum Staff {
    #[model(value = "chief", relationships(desk))]
    Chief(Chief),
    #[model(value = "developer")]
    Developer(people::Developer),
}

#[derive(Model)]
#[model(table = "teams")]
struct Team {
    #[model(primary_key, generated)]
    id: i64,
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
    #[model(shared)]
    office_id: Option<i64>,
    #[relationship(belongs_to = Team, foreign_key = "office_id")]
    office: Related<Option<Team>>,
}

mod people {
    use super::Staff;
    use orm_postgres::prelude::*;

    #[derive(Model)]
    #[model(inherits = Staff, table = "developers")]
    pub struct Developer {
        #[model(primary_key, generated)]
        pub id: i64,
        #[model(shared)]
        pub team_id: Option<i64>,
        #[model(shared)]
        pub office_id: Option<i64>,
    }
}

fn main() {}
