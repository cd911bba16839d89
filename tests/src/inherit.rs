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

/// A manager: the shared columns, and a budget. Its hooks record budget changes (old, new) in
/// [`BUDGET_CHANGES`], which the enum hands to the variant.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(inherits = Employee, hooks)]
pub struct Manager {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    #[model(references = "departments.id", index)]
    pub department_id: Option<i64>,
    pub budget: i32,
}

/// The budget changes the managers' `audit_update` hook saw: (name, old budget, new budget).
pub static BUDGET_CHANGES: std::sync::Mutex<Vec<(String, i32, i32)>> =
    std::sync::Mutex::new(Vec::new());

impl Hooks for Manager {
    fn audit_update(&self, old: &Self, changed: ColumnSet, _: &mut HookContext) -> Result<()> {
        if changed.contains(Manager::budget) {
            let mut seen = BUDGET_CHANGES.lock().unwrap_or_else(|e| e.into_inner());
            seen.push((self.name.clone(), old.budget, self.budget));
        }
        Ok(())
    }
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
