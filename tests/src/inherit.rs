//! The employee / manager / engineer story of single-table inheritance: one `employees` table,
//! a `kind` discriminator, and an enum whose variants wrap the subtypes.

use orm_postgres::prelude::*;

/// Every employee: a manager or an engineer, stored in `employees`.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "employees", discriminator = "kind")]
pub enum Employee {
    #[model(value = "manager")]
    Manager(Manager),
    #[model(value = "engineer")]
    Engineer(Engineer),
}

/// A manager: the shared columns, and a budget.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Employee)]
pub struct Manager {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    #[model(references = "departments.id", index)]
    pub department_id: Option<i64>,
    pub budget: i32,
}

/// An engineer: the shared columns, and a language.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Employee)]
pub struct Engineer {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    #[model(references = "departments.id", index)]
    pub department_id: Option<i64>,
    pub language: String,
    pub level: Option<i16>,
}

/// A department employees belong to.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "departments")]
pub struct Department {
    #[model(primary_key, generated)]
    pub id: i64,
    pub title: String,
}

impl Manager {
    pub fn new(name: &str, budget: i32) -> Manager {
        Manager {
            id: 0,
            name: name.into(),
            department_id: None,
            budget,
        }
    }
}

impl Engineer {
    pub fn new(name: &str, language: &str) -> Engineer {
        Engineer {
            id: 0,
            name: name.into(),
            department_id: None,
            language: language.into(),
            level: None,
        }
    }
}

/// A review of an employee of either kind: a relationship to the inheritance enum.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "reviews")]
pub struct Review {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "employees.id")]
    pub employee_id: i64,
    pub score: i32,
    #[relationship(belongs_to = Employee, foreign_key = "employee_id")]
    pub employee: Related<Employee>,
}
