//! The employee / manager / engineer story of joined-table inheritance: a `staff` base table
//! with the shared columns and a `role` discriminator, and one table per subtype (`chiefs`,
//! `developers`) holding its own columns, keyed by the base table's key.

use orm_postgres::prelude::*;

/// Every staff member: a chief or a developer. Loaded with a `LEFT JOIN` of both subtype tables
/// unless a query asks for `selectin`. Every member's team is a relationship of the enum
/// (`Staff::team`); a chief's projects are one too, for chiefs only (`Staff::projects`).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "staff", discriminator = "role", relationships(team))]
pub enum Staff {
    #[model(value = "chief", relationships(projects))]
    Chief(Chief),
    #[model(value = "developer")]
    Developer(Developer),
}

/// A chief: the shared `name` and team (in `staff`) and a budget (in `chiefs`); the team it
/// belongs to is a relationship of the variant.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Staff, table = "chiefs")]
pub struct Chief {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(shared, unique)]
    pub name: String,
    #[model(shared, references = "teams.id", index)]
    pub team_id: Option<i64>,
    pub budget: i32,
    #[relationship(belongs_to = Team, foreign_key = "team_id")]
    pub team: Related<Option<Team>>,
    /// The projects this chief leads: saved with the chief, deleted with it (loaded ones by
    /// the session, the others by the foreign key's `ON DELETE CASCADE`).
    #[relationship(has_many = Project, foreign_key = "lead_id", order_by = "id", cascade = "all, delete-orphan", passive_deletes)]
    pub projects: Related<Vec<Project>>,
}

/// A developer: the shared `name` and team and a language and level (in `developers`).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Staff, table = "developers")]
pub struct Developer {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(shared, unique)]
    pub name: String,
    #[model(shared, references = "teams.id", index)]
    pub team_id: Option<i64>,
    pub language: String,
    pub level: Option<i16>,
    #[relationship(belongs_to = Team, foreign_key = "team_id")]
    pub team: Related<Option<Team>>,
}

/// A project led by a chief (`lead_id` references the base table's key).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "projects")]
pub struct Project {
    #[model(primary_key, generated)]
    pub id: i64,
    pub title: String,
    #[model(references = "staff.id", on_delete = "cascade", index)]
    pub lead_id: i64,
}

impl Project {
    pub fn new(title: &str) -> Project {
        Project {
            id: 0,
            title: title.into(),
            lead_id: 0,
        }
    }
}

/// A team: its members are staff of either kind (a relationship to the enum).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "teams")]
pub struct Team {
    #[model(primary_key, generated)]
    pub id: i64,
    pub title: String,
    #[relationship(has_many = Staff, foreign_key = "team_id")]
    pub members: Related<Vec<Staff>>,
}

impl Chief {
    pub fn new(name: &str, budget: i32) -> Chief {
        Chief {
            id: 0,
            name: name.into(),
            team_id: None,
            budget,
            team: Related::default(),
            projects: Related::default(),
        }
    }
}

impl Developer {
    pub fn new(name: &str, language: &str) -> Developer {
        Developer {
            id: 0,
            name: name.into(),
            team_id: None,
            language: language.into(),
            level: None,
            team: Related::default(),
        }
    }
}

/// The same tables seen through an enum that loads its subtype rows the *selectin* way by
/// default (`polymorphic = "selectin"`).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "staff", discriminator = "role", polymorphic = "selectin")]
pub enum Crew {
    #[model(value = "chief")]
    Lead(Lead),
    #[model(value = "developer")]
    Coder(Coder),
}

/// `Chief` as a variant of [`Crew`].
#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Crew, table = "chiefs")]
pub struct Lead {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(shared, unique)]
    pub name: String,
    pub budget: i32,
}

/// `Developer` as a variant of [`Crew`].
#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Crew, table = "developers")]
pub struct Coder {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(shared, unique)]
    pub name: String,
    pub language: String,
    pub level: Option<i16>,
}

/// A hierarchy keyed by two columns (`owner`, `n`), loaded *selectin* by default: cars and
/// boats share `assets`, each with its own table.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "assets", discriminator = "kind", polymorphic = "selectin")]
pub enum Asset {
    #[model(value = "car")]
    Car(Car),
    #[model(value = "boat")]
    Boat(Boat),
}

/// A car: the shared label (in `assets`) and its wheels (in `cars`).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Asset, table = "cars")]
pub struct Car {
    #[model(primary_key)]
    pub owner: i64,
    #[model(primary_key)]
    pub n: i32,
    #[model(shared)]
    pub label: String,
    pub wheels: i16,
}

/// A boat: the shared label and its sails (in `boats`).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Asset, table = "boats")]
pub struct Boat {
    #[model(primary_key)]
    pub owner: i64,
    #[model(primary_key)]
    pub n: i32,
    #[model(shared)]
    pub label: String,
    pub sails: Option<i16>,
}
