//! Derived tables: a subquery under an alias, or a CTE, that later queries read from or join.
//!
//! A derived table is named by a string (`subquery("counts")`: its handles select as they are)
//! or by a type declared with [`derived!`](crate::derived) (`subquery(Counts)`): then the
//! query's type-level source list knows which derived table each handle belongs to, and the
//! handles of one joined as the outer side of a join come back as `Option`, like a table's.

use std::marker::PhantomData;

use crate::ast::FromItem;

/// A derived table: a subquery under an alias, or a CTE. Made by [`Select::subquery`](super::Select::subquery) and
/// [`Select::cte`](super::Select::cte); read from it with [`select_from`](super::select_from) or join it with
/// [`Select::join_derived`](super::Select::join_derived).
///
/// `D` is its name's type: [`Anonymous`] for a string name, the declared type for a
/// [`derived!`](crate::derived) name.
pub struct Derived<D = Anonymous> {
    pub(super) item: FromItem,
    _name: PhantomData<fn() -> D>,
}

impl<D> Clone for Derived<D> {
    fn clone(&self) -> Self {
        Derived {
            item: self.item.clone(),
            _name: PhantomData,
        }
    }
}

impl<D> std::fmt::Debug for Derived<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Derived").field("item", &self.item).finish()
    }
}

impl<D> Derived<D> {
    pub(crate) fn from_item(item: FromItem) -> Self {
        Derived {
            item,
            _name: PhantomData,
        }
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

/// The name type of a derived table named by a string: its handles are not tied to the query's
/// sources, and select as their own type even when the table is the outer side of a join.
#[derive(Debug, Clone, Copy)]
pub struct Anonymous;

/// What names a derived table: a `&'static str`, or a type declared with
/// [`derived!`](crate::derived).
pub trait DerivedName: Copy {
    /// The type the handles and the query's source list carry.
    type Tag: 'static;
    /// The SQL name (alias or CTE name).
    fn sql_name(self) -> &'static str;
}

impl DerivedName for &'static str {
    type Tag = Anonymous;
    fn sql_name(self) -> &'static str {
        self
    }
}

/// A derived table's name declared as a type (made by [`derived!`](crate::derived)): the
/// table's handles select through the query's source list, so they come back as `Option` when
/// the table is the outer side of a join.
pub trait NamedDerived: DerivedName<Tag = Self> + 'static {}

/// Declares a type naming a derived table (subquery or CTE), so its column handles are typed
/// by how it is joined: `Option` on the outer side of `left_join_derived` and
/// `left_join_lateral`.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// orm_core::derived!(Counts = "counts");
///
/// let (counts, (user_id, n)) = select::<Post>()
///     .columns((Post::user_id, func::count_all()))
///     .group_by(Post::user_id)
///     .subquery(Counts);
/// let q = select::<User>()
///     .left_join_derived(&counts, User::id.eq(user_id))
///     .columns((User::name, n));
/// // A user without posts has no row in `counts`: `n` comes back as `None`.
/// let _: &Select<(String, Option<i64>), _> = &q;
/// ```
#[macro_export]
macro_rules! derived {
    ($(#[$meta:meta])* $vis:vis $name:ident = $sql:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        $vis struct $name;
        impl $crate::stmt::DerivedName for $name {
            type Tag = $name;
            fn sql_name(self) -> &'static str {
                $sql
            }
        }
        impl $crate::stmt::NamedDerived for $name {}
    };
    ($(#[$meta:meta])* $vis:vis $name:ident) => {
        $crate::derived!($(#[$meta])* $vis $name = ::core::stringify!($name));
    };
}
