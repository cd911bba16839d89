//! Derived tables: a subquery under an alias, or a CTE, that later queries read from or join.

use crate::ast::FromItem;

/// A derived table: a subquery under an alias, or a CTE. Made by [`Select::subquery`](super::Select::subquery) and
/// [`Select::cte`](super::Select::cte); read from it with [`select_from`](super::select_from) or join it with
/// [`Select::join_derived`](super::Select::join_derived).
#[derive(Clone, Debug)]
pub struct Derived {
    pub(super) item: FromItem,
}

impl Derived {
    pub(crate) fn from_item(item: FromItem) -> Self {
        Derived { item }
    }

    /// Its `FROM` item.
    pub fn item(&self) -> &FromItem {
        &self.item
    }

    /// The name its columns are qualified by.
    pub fn name(&self) -> &'static str {
        self.item.qualifier()
    }
}
