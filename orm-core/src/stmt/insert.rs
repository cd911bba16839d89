use std::fmt;
use std::marker::PhantomData;

use super::source::{Cons, Inner, Nil};
use super::{Selection, Statement, and_filter, model_columns};
use crate::ast::{ConflictAction, ConflictTarget, InsertCore, InsertSource, OnConflict, Query};
use crate::compile::{self, CompiledQuery};
use crate::error::Result;
use crate::expr::access::Writable;
use crate::expr::{Column, Expr, IntoExpr, Node};
use crate::model::Model;
use crate::row::Decode;
use crate::types::SqlType;

/// An `INSERT` into model `M`'s table whose `RETURNING` rows decode into `O`.
///
/// [`insert`] and [`insert_many`] return the inserted rows as models (with server-generated
/// keys and defaults filled in); [`returning`](Insert::returning) picks other columns and
/// [`no_returning`](Insert::no_returning) drops the clause. Upserts add an `ON CONFLICT` clause:
/// [`on_conflict_do_nothing`](Insert::on_conflict_do_nothing),
/// [`on_conflict(columns)`](Insert::on_conflict) or [`on_constraint(name)`](Insert::on_constraint)
/// followed by `.do_nothing()` or `.do_update(...)`.
pub struct Insert<M, O = M> {
    pub(crate) core: InsertCore,
    /// Whether `core.returning` is the every-column list [`insert`] and [`insert_many`] add by
    /// default, which [`Statement::compile_discarding_rows`] leaves out.
    default_returning: bool,
    _out: PhantomData<fn() -> (M, O)>,
}

impl<M, O> Clone for Insert<M, O> {
    fn clone(&self) -> Self {
        Insert {
            core: InsertCore {
                joined: self.core.joined,
                table: self.core.table,
                columns: self.core.columns.clone(),
                source: self.core.source.clone(),
                on_conflict: self.core.on_conflict.clone(),
                returning: self.core.returning.clone(),
            },
            default_returning: self.default_returning,
            _out: PhantomData,
        }
    }
}

impl<M, O> fmt::Debug for Insert<M, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Insert")
            .field("table", &self.core.table)
            .field("columns", &self.core.columns)
            .field("source", &self.core.source)
            .field("on_conflict", &self.core.on_conflict)
            .field("returning", &self.core.returning)
            .finish()
    }
}

fn insert_column_names<M: Model>() -> Vec<&'static str> {
    M::TABLE.insert_columns().map(|c| c.name).collect()
}

/// `INSERT INTO table (...) VALUES (...) RETURNING *` for one object. Server-generated columns
/// are left out and come back in the returned row.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let jane = User { id: 0, name: "Jane".into(), email: None };
/// let q = insert(&jane);
/// assert_eq!(q.compile().unwrap().sql, r#"INSERT INTO "users" ("name", "email") VALUES ($1, $2) RETURNING "users"."id", "users"."name", "users"."email""#);
/// ```
pub fn insert<M: Model>(row: &M) -> Insert<M> {
    let values = row.insert_params().into_iter().map(Node::Param).collect();
    Insert {
        core: InsertCore {
            joined: M::TABLE.joined.map(|_| M::TABLE),
            table: M::TABLE.as_ref(),
            columns: insert_column_names::<M>(),
            source: InsertSource::Values(vec![values]),
            on_conflict: None,
            returning: model_columns(M::TABLE),
        },
        default_returning: true,
        _out: PhantomData,
    }
}

/// Inserts many objects in one statement, returning them in the same order.
///
/// The rows travel as one array parameter per column
/// (`INSERT ... SELECT * FROM unnest($1::int8[], $2::text[])`), so the SQL text is the same for
/// any number of rows and the prepared statement is reused. An array column (PostgreSQL arrays
/// do not nest) travels flattened, as its rows' lengths, each element's row number and the
/// elements, and is put back together per row with `array_agg`: still a fixed number of
/// parameters and one SQL text (see [`ColumnArray`](crate::types::ColumnArray)).
///
/// To load many rows without reading anything back, binary `COPY` is faster still:
/// `Executor::copy_in(&rows)` in orm-postgres takes the same slice (it returns the number of
/// rows copied, not the rows, and runs no `ON CONFLICT`).
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::{Post, User};
/// let rows = [User { id: 0, name: "Jane".into(), email: None }, User { id: 0, name: "Joe".into(), email: None }];
/// let q = insert_many(&rows);
/// assert_eq!(q.compile().unwrap().params.len(), 2); // one array per column, whatever the row count
/// assert_eq!(q.compile().unwrap().sql, r#"INSERT INTO "users" ("name", "email") SELECT * FROM unnest($1::TEXT[], $2::TEXT[]) RETURNING "users"."id", "users"."name", "users"."email""#);
/// ```
pub fn insert_many<M: Model>(rows: &[M]) -> Insert<M> {
    let table = M::TABLE;
    let source = InsertSource::Unnest(
        M::insert_arrays(rows)
            .into_iter()
            .zip(table.insert_columns().map(|c| c.ty))
            .collect(),
    );
    Insert {
        core: InsertCore {
            joined: table.joined.map(|_| table),
            table: table.as_ref(),
            columns: insert_column_names::<M>(),
            source,
            on_conflict: None,
            returning: model_columns(table),
        },
        default_returning: true,
        _out: PhantomData,
    }
}

/// `INSERT INTO table (columns) SELECT ...`: the query's columns fill `columns`, in order.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
///
/// let q = insert_select::<User, _, _>(
///     (User::name, User::email),
///     select::<User>().columns((User::name.concat(" (copy)"), User::email)),
/// );
/// assert_eq!(
///     q.compile().unwrap().sql,
///     r#"INSERT INTO "users" ("name", "email") SELECT "users"."name" || $1, "users"."email" FROM "users""#
/// );
/// ```
pub fn insert_select<M: Model, C: ColumnList<M>, Q: Into<Query>>(
    columns: C,
    query: Q,
) -> Insert<M, ()> {
    Insert {
        core: InsertCore {
            joined: M::TABLE.joined.map(|_| M::TABLE),
            table: M::TABLE.as_ref(),
            columns: columns.names(),
            source: InsertSource::Query(Box::new(query.into())),
            on_conflict: None,
            returning: Vec::new(),
        },
        default_returning: false,
        _out: PhantomData,
    }
}

/// One column of model `M`, or a tuple of them: the target columns of `insert_select`.
pub trait ColumnList<M> {
    /// The column names, in order.
    fn names(self) -> Vec<&'static str>;
}

impl<M, T, A> ColumnList<M> for crate::expr::Column<M, T, A> {
    fn names(self) -> Vec<&'static str> {
        vec![self.name()]
    }
}

macro_rules! tuple_columns {
    ($($name:ident $acc:ident $idx:tt)+) => {
        impl<M, $($name, $acc),+> ColumnList<M> for ($(crate::expr::Column<M, $name, $acc>,)+) {
            fn names(self) -> Vec<&'static str> {
                vec![$(self.$idx.name()),+]
            }
        }
    };
}

tuple_columns!(A Ac 0);
tuple_columns!(A Ac 0 B Bc 1);
tuple_columns!(A Ac 0 B Bc 1 C Cc 2);
tuple_columns!(A Ac 0 B Bc 1 C Cc 2 D Dc 3);
tuple_columns!(A Ac 0 B Bc 1 C Cc 2 D Dc 3 E Ec 4);
tuple_columns!(A Ac 0 B Bc 1 C Cc 2 D Dc 3 E Ec 4 F Fc 5);
tuple_columns!(A Ac 0 B Bc 1 C Cc 2 D Dc 3 E Ec 4 F Fc 5 G Gc 6);
tuple_columns!(A Ac 0 B Bc 1 C Cc 2 D Dc 3 E Ec 4 F Fc 5 G Gc 6 H Hc 7);

impl<M: Model, O> Insert<M, O> {
    fn with_returning<O2>(self, returning: Vec<Node>) -> Insert<M, O2> {
        Insert {
            core: InsertCore {
                joined: self.core.joined,
                table: self.core.table,
                columns: self.core.columns,
                source: self.core.source,
                on_conflict: self.core.on_conflict,
                returning,
            },
            default_returning: false,
            _out: PhantomData,
        }
    }

    /// `RETURNING` the given columns or expressions instead.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let jane = User { id: 0, name: "Jane".into(), email: None };
    /// let q = insert(&jane).returning(User::id);
    /// assert_eq!(q.compile().unwrap().sql, r#"INSERT INTO "users" ("name", "email") VALUES ($1, $2) RETURNING "users"."id""#);
    /// ```
    pub fn returning<Sel: Selection<Cons<Inner<M>, Nil>, I>, I>(
        self,
        selection: Sel,
    ) -> Insert<M, Sel::Output> {
        let mut returning = Vec::new();
        selection.push_nodes(&mut returning);
        self.with_returning(returning)
    }

    /// No `RETURNING` clause.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let jane = User { id: 0, name: "Jane".into(), email: None };
    /// let q = insert(&jane).no_returning();
    /// assert_eq!(q.compile().unwrap().sql, r#"INSERT INTO "users" ("name", "email") VALUES ($1, $2)"#);
    /// ```
    pub fn no_returning(self) -> Insert<M, ()> {
        self.with_returning(Vec::new())
    }

    /// `ON CONFLICT DO NOTHING`: rows that would violate any unique or exclusion constraint are
    /// skipped (and not returned by `RETURNING`).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::User;
    ///
    /// let jane = User { id: 0, name: "Jane".into(), email: None };
    /// let q = insert(&jane).no_returning().on_conflict_do_nothing();
    /// assert_eq!(
    ///     q.compile().unwrap().sql,
    ///     r#"INSERT INTO "users" ("name", "email") VALUES ($1, $2) ON CONFLICT DO NOTHING"#
    /// );
    /// ```
    pub fn on_conflict_do_nothing(mut self) -> Self {
        self.core.on_conflict = Some(OnConflict {
            target: ConflictTarget::Any,
            target_filter: None,
            action: ConflictAction::Nothing,
        });
        self
    }

    /// `ON CONFLICT (columns)`: the conflict target is the unique index (or constraint) on
    /// exactly these columns of `M` (one column or a tuple). Finish with
    /// [`do_nothing`](Conflict::do_nothing) or [`do_update`](Conflict::do_update).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::User;
    ///
    /// let jane = User { id: 0, name: "Jane".into(), email: Some("j@example.com".into()) };
    /// let q = insert(&jane)
    ///     .on_conflict(User::name)
    ///     .do_update(|u| u.set(User::email, excluded(User::email)))
    ///     .returning(User::id);
    /// assert_eq!(
    ///     q.compile().unwrap().sql,
    ///     r#"INSERT INTO "users" ("name", "email") VALUES ($1, $2) ON CONFLICT ("name") DO UPDATE SET "email" = EXCLUDED."email" RETURNING "users"."id""#
    /// );
    /// ```
    pub fn on_conflict<C: ColumnList<M>>(self, columns: C) -> Conflict<M, O> {
        Conflict {
            insert: self,
            target: ConflictTarget::Columns(columns.names()),
            target_filter: None,
        }
    }

    /// `ON CONFLICT ON CONSTRAINT name`: the conflict target is a named unique or exclusion
    /// constraint. `name` is quoted as an identifier.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let jane = User { id: 0, name: "Jane".into(), email: None };
    /// let q = insert(&jane).no_returning().on_constraint("users_name_key").do_nothing();
    /// assert_eq!(q.compile().unwrap().sql, r#"INSERT INTO "users" ("name", "email") VALUES ($1, $2) ON CONFLICT ON CONSTRAINT "users_name_key" DO NOTHING"#);
    /// ```
    pub fn on_constraint(self, name: &'static str) -> Conflict<M, O> {
        Conflict {
            insert: self,
            target: ConflictTarget::Constraint(name),
            target_filter: None,
        }
    }
}

/// An `INSERT` whose conflict target is chosen: finish it with [`do_nothing`](Conflict::do_nothing)
/// or [`do_update`](Conflict::do_update). Made by [`Insert::on_conflict`] and
/// [`Insert::on_constraint`].
#[must_use = "finish the upsert with .do_nothing() or .do_update(...)"]
pub struct Conflict<M, O> {
    insert: Insert<M, O>,
    target: ConflictTarget,
    target_filter: Option<Node>,
}

impl<M, O> fmt::Debug for Conflict<M, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conflict")
            .field("insert", &self.insert)
            .field("target", &self.target)
            .field("target_filter", &self.target_filter)
            .finish()
    }
}

impl<M: Model, O> Conflict<M, O> {
    /// `ON CONFLICT (columns) WHERE predicate`: the target is a *partial* unique index whose
    /// predicate this one implies. Only with a column target (`on_conflict`); on a constraint
    /// target the statement does not compile. Several calls are `AND`ed.
    ///
    /// The server matches the index when it plans the statement, before parameter values are
    /// known (prepared statements switch to a generic plan after a few runs), so the predicate
    /// cannot hold values: compare columns with constants through
    /// [`raw::text`](crate::raw::text) (`text::<bool>("age >= 18")`) or use value-free
    /// conditions (`User::email.is_not_null()`). A predicate with a value is an
    /// [`InvalidStatement`](crate::ErrorKind::InvalidStatement) error when it compiles.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let jane = User { id: 0, name: "Jane".into(), email: None };
    /// let q = insert(&jane).no_returning().on_conflict(User::name).where_(User::email.is_null()).do_nothing();
    /// assert_eq!(q.compile().unwrap().sql, r#"INSERT INTO "users" ("name", "email") VALUES ($1, $2) ON CONFLICT ("name") WHERE "users"."email" IS NULL DO NOTHING"#);
    /// ```
    pub fn where_(mut self, predicate: impl Into<Expr<bool>>) -> Self {
        self.target_filter = and_filter(self.target_filter.take(), predicate.into());
        self
    }

    fn finish(mut self, action: ConflictAction) -> Insert<M, O> {
        self.insert.core.on_conflict = Some(OnConflict {
            target: self.target,
            target_filter: self.target_filter,
            action,
        });
        self.insert
    }

    /// `... DO NOTHING`: conflicting rows are skipped (and not returned by `RETURNING`).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let jane = User { id: 0, name: "Jane".into(), email: None };
    /// let q = insert(&jane).no_returning().on_conflict(User::name).do_nothing();
    /// assert_eq!(q.compile().unwrap().sql, r#"INSERT INTO "users" ("name", "email") VALUES ($1, $2) ON CONFLICT ("name") DO NOTHING"#);
    /// ```
    pub fn do_nothing(self) -> Insert<M, O> {
        self.finish(ConflictAction::Nothing)
    }

    /// `... DO UPDATE SET ... [WHERE ...]`: a conflicting row is updated instead. `f` receives an
    /// empty [`ConflictUpdate`] and adds the `SET`s (and an optional `WHERE`); refer to the
    /// value the row would have been inserted with through [`excluded`]. A row the `WHERE`
    /// rejects is left alone and not returned by `RETURNING`.
    ///
    /// `PostgreSQL` refuses to update one row twice in a statement: a multi-row upsert whose
    /// rows conflict with each other fails (SQLSTATE 21000).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let jane = User { id: 0, name: "Jane".into(), email: Some("j@x.org".into()) };
    /// let q = insert(&jane).no_returning().on_conflict(User::name).do_update(|u| u.set_excluded(User::email));
    /// assert_eq!(q.compile().unwrap().sql, r#"INSERT INTO "users" ("name", "email") VALUES ($1, $2) ON CONFLICT ("name") DO UPDATE SET "email" = EXCLUDED."email""#);
    /// ```
    pub fn do_update(self, f: impl FnOnce(ConflictUpdate<M>) -> ConflictUpdate<M>) -> Insert<M, O> {
        let mut keys: Vec<&'static str> = M::TABLE.primary_key().map(|c| c.name).collect();
        if let ConflictTarget::Columns(cols) = &self.target {
            keys.extend(cols.iter().copied());
        }
        let update = f(ConflictUpdate {
            inserted: self.insert.core.columns.clone(),
            keys,
            sets: Vec::new(),
            filter: None,
            _model: PhantomData,
        });
        self.finish(ConflictAction::Update {
            sets: update.sets,
            filter: update.filter,
        })
    }
}

/// The `SET` list and `WHERE` of `ON CONFLICT ... DO UPDATE`; see [`Conflict::do_update`].
pub struct ConflictUpdate<M> {
    /// The columns the `INSERT` writes.
    inserted: Vec<&'static str>,
    /// The primary key's and the conflict target's columns.
    keys: Vec<&'static str>,
    sets: Vec<(&'static str, Node)>,
    filter: Option<Node>,
    _model: PhantomData<fn() -> M>,
}

impl<M> fmt::Debug for ConflictUpdate<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConflictUpdate")
            .field("sets", &self.sets)
            .field("filter", &self.filter)
            .finish()
    }
}

impl<M: Model> ConflictUpdate<M> {
    /// `SET column = value`: like [`Update::set`](super::Update::set), the value is anything of
    /// the column's type: a value, a column of the existing row (`User::age.add(1)`), or the
    /// proposed value [`excluded(column)`](excluded).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let jane = User { id: 0, name: "Jane".into(), email: None };
    /// let q = insert(&jane).no_returning().on_conflict(User::name).do_update(|u| u.set(User::email, None::<String>));
    /// assert_eq!(q.compile().unwrap().sql, r#"INSERT INTO "users" ("name", "email") VALUES ($1, $2) ON CONFLICT ("name") DO UPDATE SET "email" = $3"#);
    /// ```
    pub fn set<T: SqlType, A: Writable, V: IntoExpr<T::Base>>(
        mut self,
        column: Column<M, T, A>,
        value: V,
    ) -> Self {
        self.sets.push((column.name(), value.into_expr_node()));
        self
    }

    /// `SET column = EXCLUDED.column`: takes the value the row would have been inserted with.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let jane = User { id: 0, name: "Jane".into(), email: Some("j@x.org".into()) };
    /// let q = insert(&jane).no_returning().on_conflict(User::name).do_update(|u| u.set_excluded(User::email));
    /// assert_eq!(q.compile().unwrap().sql, r#"INSERT INTO "users" ("name", "email") VALUES ($1, $2) ON CONFLICT ("name") DO UPDATE SET "email" = EXCLUDED."email""#);
    /// ```
    pub fn set_excluded<T: SqlType, A: Writable>(self, column: Column<M, T, A>) -> Self {
        let name = column.name();
        self.set_node(name, Node::Excluded(name))
    }

    /// `SET c = EXCLUDED.c` for every column the `INSERT` writes except the primary key and the
    /// conflict target's columns: "insert, or overwrite the existing row".
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let jane = User { id: 0, name: "Jane".into(), email: Some("j@x.org".into()) };
    /// let q = insert(&jane).no_returning().on_conflict(User::name).do_update(|u| u.set_all_excluded());
    /// assert_eq!(q.compile().unwrap().sql, r#"INSERT INTO "users" ("name", "email") VALUES ($1, $2) ON CONFLICT ("name") DO UPDATE SET "email" = EXCLUDED."email""#);
    /// ```
    pub fn set_all_excluded(mut self) -> Self {
        let columns: Vec<&'static str> = self
            .inserted
            .iter()
            .copied()
            .filter(|c| !self.keys.contains(c))
            .collect();
        for c in columns {
            self = self.set_node(c, Node::Excluded(c));
        }
        self
    }

    fn set_node(mut self, column: &'static str, value: Node) -> Self {
        self.sets.push((column, value));
        self
    }

    /// `WHERE condition`: only rows (existing row and [`excluded`] values) meeting it are
    /// updated; the others are left alone. Several calls are `AND`ed.
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let jane = User { id: 0, name: "Jane".into(), email: Some("j@x.org".into()) };
    /// let q = insert(&jane)
    ///     .no_returning()
    ///     .on_conflict(User::name)
    ///     .do_update(|u| u.set_excluded(User::email).where_(User::email.is_null()));
    /// assert_eq!(q.compile().unwrap().sql, r#"INSERT INTO "users" ("name", "email") VALUES ($1, $2) ON CONFLICT ("name") DO UPDATE SET "email" = EXCLUDED."email" WHERE "users"."email" IS NULL"#);
    /// ```
    pub fn where_(mut self, condition: impl Into<Expr<bool>>) -> Self {
        self.filter = and_filter(self.filter.take(), condition.into());
        self
    }
}

/// `EXCLUDED.column` inside `ON CONFLICT ... DO UPDATE`: the value the conflicting row would have
/// been inserted with, typed like the column.
///
/// ```
/// use orm_core::prelude::*;
/// # use orm_core::__doc_fixture::User;
///
/// let rows = [User { id: 0, name: "Jane".into(), email: None }];
/// let q = insert_many(&rows)
///     .no_returning()
///     .on_conflict(User::name)
///     .do_update(|u| {
///         u.set(User::email, excluded(User::email))
///             .where_(excluded(User::email).is_not_null())
///     });
/// assert_eq!(
///     q.compile().unwrap().sql,
///     r#"INSERT INTO "users" ("name", "email") SELECT * FROM unnest($1::TEXT[], $2::TEXT[]) ON CONFLICT ("name") DO UPDATE SET "email" = EXCLUDED."email" WHERE EXCLUDED."email" IS NOT NULL"#
/// );
/// ```
pub fn excluded<M, T: SqlType, A>(column: Column<M, T, A>) -> Expr<T> {
    Expr::new(Node::Excluded(column.name()))
}

impl<M: Model, O: Decode> Statement for Insert<M, O> {
    type Row = O;

    fn tree(&self) -> Option<crate::ast::Tree<'_>> {
        Some(crate::ast::Tree::Insert(&self.core, M::TABLE))
    }

    fn compile(&self) -> Result<CompiledQuery> {
        compile::insert(&self.core, true)
    }

    fn compile_with(&self, criteria: &super::Criteria) -> Result<CompiledQuery> {
        self.compile_criteria(Some(criteria), true)
    }

    fn compile_discarding_rows(&self, criteria: Option<&super::Criteria>) -> Result<CompiledQuery> {
        self.compile_criteria(criteria, !self.default_returning)
    }
}

impl<M, O> Insert<M, O> {
    /// Compiles with `criteria` (when some apply), with or without the `RETURNING` clause.
    fn compile_criteria(
        &self,
        criteria: Option<&super::Criteria>,
        returning: bool,
    ) -> Result<CompiledQuery> {
        match criteria {
            Some(criteria) => {
                let mut core = self.core.clone();
                criteria.apply_insert(&mut core);
                compile::insert(&core, returning)
            }
            _ => compile::insert(&self.core, returning),
        }
    }
}
