//! [`ColumnSet`]: which columns of a model an operation touches.

use std::fmt;

use crate::expr::Column;
use crate::model::Model;

/// A set of a model's columns, by position in [`Table::columns`](crate::meta::Table): what
/// changed in a dirty object, what a hook may look at.
///
/// ```
/// # use orm_core::__doc_fixture::User;
/// use orm_core::session::ColumnSet;
/// let changed = ColumnSet::of::<User>(&["name"]);
/// assert!(changed.contains(User::name));
/// assert!(!changed.contains(User::email));
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ColumnSet(u128);

impl ColumnSet {
    /// The most columns a model may have for change tracking.
    pub const MAX: usize = 128;

    /// No column.
    pub const fn empty() -> Self {
        ColumnSet(0)
    }

    /// The columns `0..n`.
    pub const fn all(n: usize) -> Self {
        if n >= 128 {
            ColumnSet(u128::MAX)
        } else {
            ColumnSet((1u128 << n) - 1)
        }
    }

    /// The named columns (SQL names) of model `M`; unknown names are ignored.
    pub fn of<M: Model>(names: &[&str]) -> Self {
        let mut set = ColumnSet::empty();
        for (i, c) in M::TABLE.columns.iter().enumerate() {
            if names.contains(&c.name) {
                set.insert(i);
            }
        }
        set
    }

    /// Adds column `idx`.
    pub const fn with(self, idx: usize) -> Self {
        if idx >= 128 {
            self
        } else {
            ColumnSet(self.0 | (1u128 << idx))
        }
    }

    /// Adds column `idx`.
    pub fn insert(&mut self, idx: usize) {
        *self = self.with(idx);
    }

    /// Removes column `idx`.
    pub fn remove(&mut self, idx: usize) {
        if idx < 128 {
            self.0 &= !(1u128 << idx);
        }
    }

    /// Whether column `idx` is in the set.
    pub const fn contains_index(&self, idx: usize) -> bool {
        idx < 128 && self.0 & (1u128 << idx) != 0
    }

    /// Whether `column` is in the set.
    pub fn contains<M: Model, T, A>(&self, column: Column<M, T, A>) -> bool {
        M::TABLE
            .columns
            .iter()
            .position(|c| c.name == column.name())
            .is_some_and(|i| self.contains_index(i))
    }

    /// Whether the set is empty.
    pub const fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The number of columns in the set.
    pub const fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    /// Both sets' columns.
    pub const fn union(self, other: ColumnSet) -> Self {
        ColumnSet(self.0 | other.0)
    }

    /// The column positions, ascending.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        let bits = self.0;
        (0..128).filter(move |i| bits & (1u128 << i) != 0)
    }
}

impl FromIterator<usize> for ColumnSet {
    fn from_iter<I: IntoIterator<Item = usize>>(iter: I) -> Self {
        let mut set = ColumnSet::empty();
        for i in iter {
            set.insert(i);
        }
        set
    }
}

impl fmt::Debug for ColumnSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}
