//! The session's API for objects: adding, getting and querying, relationships, deleting,
//! expiring, refreshing, merging.

use orm_core::compile::CompiledQuery;
use orm_core::driver::RowAccess;
use orm_core::driver::Status;
use orm_core::driver::{load_plan, pk_filter};
use orm_core::expr::access::Deferrable;
use orm_core::load::IntoLoader;
use orm_core::relation::{Relation, Relationship};
use orm_core::session::{Persist, Tracked, UnitOfWork};
use orm_core::stmt::{Statement, select};
use orm_core::{Column, Decode, RowOf};

use std::future::Future;
use std::panic::Location;

use super::Session;
use crate::executor::{Executor, Site, fetch_all_at, fetch_one_at, fetch_optional_at};
use crate::{Error, Result};

impl Session {
    // ----- adding, getting, querying ---------------------------------------------------

    /// Adds a new object, and the objects in its loaded relationships (`save-update`
    /// cascade): the next flush inserts them, parents first, filling generated keys into the
    /// children's foreign keys.
    pub fn add<M: Persist>(&mut self, object: M) -> Tracked<M> {
        self.uow.add(object)
    }

    /// Adds several new objects.
    pub fn add_all<M: Persist>(&mut self, objects: impl IntoIterator<Item = M>) -> Vec<Tracked<M>> {
        self.uow.add_all(objects)
    }

    /// Adds several new objects that the next flush inserts with binary `COPY … FROM STDIN`,
    /// whatever their number (batches of at least
    /// [`SessionOptions::copy_threshold`](crate::SessionOptions::copy_threshold) objects go by
    /// `COPY` anyway): every new `M` of that flush goes in one `COPY` per dependency level,
    /// inside the session's transaction. Everything else is as with
    /// [`add_all`](Session::add_all): the objects are pending until the flush, then
    /// persistent and in the identity map; hooks and validators run; a constraint violation
    /// is the same typed error and needs the same rollback.
    ///
    /// `COPY` returns nothing. An integer identity or `serial` key that is `M`'s only
    /// server-generated column is taken from its sequence first (one
    /// `SELECT nextval(…) FROM generate_series(1, n)` for all the objects, the keys written
    /// into them) and copied with the rows. A model with other server-generated columns (a
    /// `#[model(generated)]` default, a computed column, a composite generated key) is refused
    /// with [`CopyNeedsReturning`](crate::ErrorKind::CopyNeedsReturning), nothing added. A
    /// trigger that rewrites the copied key is not seen by the session.
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # use orm_postgres::__doc_fixture::Tag;
    /// # async fn run(db: Database) -> orm_postgres::Result<()> {
    /// let mut s = db.session();
    /// s.add_all_copy((0..100_000).map(|i| Tag { id: i, label: format!("tag {i}") }))?;
    /// s.commit().await?; // BEGIN; COPY "tags" ("id", "label") FROM STDIN (FORMAT binary); COMMIT
    /// # Ok(()) }
    /// ```
    pub fn add_all_copy<M: Persist>(
        &mut self,
        objects: impl IntoIterator<Item = M>,
    ) -> Result<Vec<Tracked<M>>> {
        self.uow.add_all_copy(objects)
    }

    /// The object with this primary key: from the identity map without a query when it is
    /// there (and not expired), else loaded. `None` when no such row exists (or the object
    /// is deleted in this session). When `M` has [criteria](Session::with_criteria), it always
    /// asks the database (and returns the object the session holds when the row passes):
    /// `None` for a row the criteria exclude, even one loaded before they were set.
    ///
    /// Answering from the map reads no object: a guard held on it does not matter. Reloading
    /// an expired object replaces its values, which a guard held on it refuses
    /// ([`ObjectInUse`](crate::ErrorKind::ObjectInUse), operation `load`).
    #[track_caller]
    pub fn get<M: Persist>(
        &mut self,
        pk: M::Pk,
    ) -> impl Future<Output = Result<Option<Tracked<M>>>> {
        let site = Location::caller();
        async move {
            self.check()?;
            if let Some(t) = self.uow.lookup::<M>(&pk) {
                match t.status() {
                    Status::Deleted => return Ok(None),
                    _ if !self.uow.is_expired(&t) && !self.has_criteria::<M>() => {
                        return Ok(Some(t));
                    }
                    _ => {}
                }
            }
            let mut rows = self
                .all_at(select::<M>().filter(pk_filter::<M>(pk)), site)
                .await?;
            match rows.len() {
                0 | 1 => Ok(rows.pop()),
                n => Err(Error::row_count(1, n)),
            }
        }
    }

    /// Runs a query of model rows and returns the session's objects for them (relationship
    /// loads of the query are linked in the session too).
    ///
    /// A row of an object the session already has replaces its values only when it is
    /// expired: a guard held on such an object fails the query with
    /// [`ObjectInUse`](crate::ErrorKind::ObjectInUse) (operation `load`; the transaction stays
    /// usable). Objects that are not expired are returned as they are, guards or not.
    #[track_caller]
    pub fn all<M, S>(&mut self, query: S) -> impl Future<Output = Result<Vec<Tracked<M>>>>
    where
        M: Persist,
        S: Statement<Row = M>,
    {
        self.all_at(query, Location::caller())
    }

    /// [`all`](Session::all), sent from `site`.
    async fn all_at<M, S>(&mut self, query: S, site: Site) -> Result<Vec<Tracked<M>>>
    where
        M: Persist,
        S: Statement<Row = M>,
    {
        self.check()?;
        self.criteria.check(query.tree())?;
        self.autoflush().await?;
        if load_plan(&query).is_some() {
            // Relationship loads fill the rows' fields first; the session then links them.
            let criteria = self.criteria.clone();
            let r = fetch_all_at(&self.filtered(&criteria).await?, query, site).await;
            let rows = r.map_err(|e| self.fail(e))?;
            self.uow.reserve::<M>(rows.len());
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(self.uow.register_loaded(row)?);
            }
            return Ok(out);
        }
        // Without loads, each row goes into the identity map as it is decoded.
        let mut q = if query.uses_criteria() {
            query.compile_with(&self.criteria)?
        } else {
            query.compile()?
        };
        self.tx().await?.conn().tag(&mut q, site);
        let mut out: Vec<Tracked<M>> = Vec::new();
        self.for_each_row(&q, |uow, row| {
            let value = <M as Decode>::decode(row, 0)?;
            out.push(uow.register_loaded(value)?);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// Runs `q` in the session's transaction (begun if needed), handing each row to `sink`
    /// with the unit of work; a failure is recorded (the transaction needs a rollback).
    async fn for_each_row(
        &mut self,
        q: &CompiledQuery,
        mut sink: impl FnMut(&mut UnitOfWork, &dyn RowAccess) -> Result<()> + Send,
    ) -> Result<()> {
        self.tx().await?;
        let Session { tx, uow, .. } = self;
        let conn = tx
            .as_ref()
            .ok_or_else(|| Error::transaction_state("no transaction"))?
            .conn();
        let r = conn.for_each_row(q, &mut |row| sink(uow, row)).await;
        r.map(drop).map_err(|e| self.fail(e))
    }

    /// Like [`all`](Session::all), for exactly one row (a row-count error otherwise).
    #[track_caller]
    pub fn one<M, S>(&mut self, query: S) -> impl Future<Output = Result<Tracked<M>>>
    where
        M: Persist,
        S: Statement<Row = M>,
    {
        let site = Location::caller();
        async move {
            let mut rows = self.all_at(query, site).await?;
            match rows.len() {
                1 => rows.pop().ok_or_else(|| Error::row_count(1, 0)),
                n => Err(Error::row_count(1, n)),
            }
        }
    }

    /// Like [`all`](Session::all), for at most one row.
    #[track_caller]
    pub fn optional<M, S>(&mut self, query: S) -> impl Future<Output = Result<Option<Tracked<M>>>>
    where
        M: Persist,
        S: Statement<Row = M>,
    {
        let site = Location::caller();
        async move {
            let mut rows = self.all_at(query, site).await?;
            match rows.len() {
                0 | 1 => Ok(rows.pop()),
                n => Err(Error::row_count(1, n)),
            }
        }
    }

    /// A no-tracking read: runs any statement in the session's transaction (after an
    /// autoflush) and returns plain values, without identity map or snapshots.
    #[track_caller]
    pub fn fetch_all<S: Statement>(
        &mut self,
        statement: S,
    ) -> impl Future<Output = Result<Vec<RowOf<S>>>> {
        let site = Location::caller();
        async move {
            self.check()?;
            self.criteria.check(statement.tree())?;
            self.autoflush().await?;
            let criteria = self.criteria.clone();
            let r = fetch_all_at(&self.filtered(&criteria).await?, statement, site).await;
            r.map_err(|e| self.fail(e))
        }
    }

    /// A no-tracking read of exactly one row.
    #[track_caller]
    pub fn fetch_one<S: Statement>(
        &mut self,
        statement: S,
    ) -> impl Future<Output = Result<RowOf<S>>> {
        let site = Location::caller();
        async move {
            self.check()?;
            self.criteria.check(statement.tree())?;
            self.autoflush().await?;
            let criteria = self.criteria.clone();
            let r = fetch_one_at(&self.filtered(&criteria).await?, statement, site).await;
            r.map_err(|e| self.fail(e))
        }
    }

    /// A no-tracking read of at most one row.
    #[track_caller]
    pub fn fetch_optional<S: Statement>(
        &mut self,
        statement: S,
    ) -> impl Future<Output = Result<Option<RowOf<S>>>> {
        let site = Location::caller();
        async move {
            self.check()?;
            self.criteria.check(statement.tree())?;
            self.autoflush().await?;
            let criteria = self.criteria.clone();
            let r = fetch_optional_at(&self.filtered(&criteria).await?, statement, site).await;
            r.map_err(|e| self.fail(e))
        }
    }

    /// Runs a Core statement (a bulk `UPDATE`, say) in the session's transaction, with the
    /// session's [criteria](Session::with_criteria) (so it never changes a row they exclude);
    /// objects it changes are not refreshed (expire them, or use `refresh`).
    pub async fn execute<S: Statement>(&mut self, statement: S) -> Result<u64> {
        self.check()?;
        self.criteria.check(statement.tree())?;
        self.autoflush().await?;
        let criteria = self.criteria.clone();
        let r = self.filtered(&criteria).await?.execute(statement).await;
        r.map_err(|e| self.fail(e))
    }

    /// Loads a relationship of objects in hand (one query per level, whatever their number)
    /// and links the loaded objects in the session: `s.load(&users, User::orders.selectin())`.
    pub async fn load<P, L>(&mut self, parents: &[Tracked<P>], load: L) -> Result<()>
    where
        P: Persist,
        L: IntoLoader<P>,
    {
        self.check()?;
        // Refused before the autoflush, which would have flushed for nothing.
        for p in parents {
            self.uow.check_member(p, "load")?;
        }
        self.autoflush().await?;
        let mut copies = parents
            .iter()
            .map(|p| self.uow.columns_of(p, "load"))
            .collect::<Result<Vec<P>>>()?;
        let criteria = self.criteria.clone();
        let r = self
            .filtered(&criteria)
            .await?
            .load(&mut copies, load)
            .await;
        r.map_err(|e| self.fail(e))?;
        for (parent, copy) in parents.iter().zip(copies) {
            self.uow.attach_loaded(parent, copy)?;
        }
        Ok(())
    }

    /// Loads a deferred column (`#[model(deferred)]`) of an object in hand that its query left
    /// out: `s.load_deferred(&user, User::bio).await?`, one query. A column already loaded is
    /// kept as it is (with any unsaved change). For an inheritance enum, name its variant's
    /// column: `s.load_deferred(&employee, Manager::notes)`.
    pub async fn load_deferred<M, N, T>(
        &mut self,
        object: &Tracked<M>,
        column: Column<N, T, Deferrable>,
    ) -> Result<()>
    where
        M: Persist,
        N: orm_core::model::PartOf<M>,
    {
        self.check()?;
        let pk = self.uow.columns_of(object, "load_deferred")?.pk();
        let query = select::<M>().load_only(column).filter(pk_filter::<M>(pk));
        self.criteria.check(query.tree())?;
        let r = self.tx().await?.fetch_optional(query).await;
        match r.map_err(|e| self.fail(e))? {
            Some(row) => self.uow.fill_deferred(object, &row),
            None => Err(Error::object_state(format!(
                "cannot load `{}.{}`: the object's row no longer exists",
                M::TABLE.model,
                column.name()
            ))),
        }
    }

    // ----- relationships ---------------------------------------------------------------

    /// The objects linked to `parent` through a relationship: `s.related(&user, User::orders)`.
    /// A `NotLoaded` error when the session never loaded (or set) it for this object.
    pub fn related<R: Relation>(
        &self,
        parent: &Tracked<R::Parent>,
        rel: Relationship<R>,
    ) -> Result<Vec<Tracked<R::Target>>>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        let _ = rel;
        self.uow.related::<R>(parent)
    }

    /// The one object of a to-one relationship (`None` when there is none).
    pub fn related_one<R: Relation>(
        &self,
        parent: &Tracked<R::Parent>,
        rel: Relationship<R>,
    ) -> Result<Option<Tracked<R::Target>>>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        Ok(self.related(parent, rel)?.into_iter().next())
    }

    /// Replaces the objects linked to `parent` through a relationship (assigning a
    /// collection): the flush sets foreign keys, deletes orphans (`delete-orphan`) or sets
    /// their key to `NULL`, and inserts / deletes many-to-many association rows.
    pub fn set_related<R: Relation>(
        &mut self,
        parent: &Tracked<R::Parent>,
        rel: Relationship<R>,
        targets: Vec<Tracked<R::Target>>,
    ) -> Result<()>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        self.check()?;
        self.uow.set_related(parent, rel, targets)
    }

    /// Adds an object to a relationship collection.
    pub fn append<R: Relation>(
        &mut self,
        parent: &Tracked<R::Parent>,
        rel: Relationship<R>,
        target: &Tracked<R::Target>,
    ) -> Result<()>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        self.check()?;
        self.uow.append(parent, rel, target)
    }

    /// Removes an object from a relationship collection.
    pub fn remove<R: Relation>(
        &mut self,
        parent: &Tracked<R::Parent>,
        rel: Relationship<R>,
        target: &Tracked<R::Target>,
    ) -> Result<()>
    where
        R::Parent: Persist,
        R::Target: Persist,
    {
        self.check()?;
        self.uow.remove(parent, rel, target)
    }

    // ----- deleting, expiring, refreshing, merging -------------------------------------

    /// Marks an object for deletion (with its `delete` cascades); the next flush deletes it.
    /// A guard held on one of them fails it with
    /// [`ObjectInUse`](crate::ErrorKind::ObjectInUse), nothing changed.
    pub fn delete<M: Persist>(&mut self, object: &Tracked<M>) -> Result<()> {
        self.check()?;
        self.uow.delete(object)
    }

    /// Removes an object from the session (with its `expunge` cascades): it is no longer
    /// tracked. A guard held on one of them fails it with
    /// [`ObjectInUse`](crate::ErrorKind::ObjectInUse), nothing changed.
    pub fn expunge<M: Persist>(&mut self, object: &Tracked<M>) -> Result<()> {
        self.uow.expunge(object)
    }

    /// Expires an object (with its `refresh-expire` cascades): unflushed changes are dropped,
    /// and the next query or `get` that touches it reloads its values.
    ///
    /// As in SQLAlchemy ("expiring an object also discards pending changes to its
    /// attributes"), that includes its unflushed relationship changes: children appended to
    /// or removed from its collections (`append`, `remove`, `set_related`), its many-to-one
    /// set, its own foreign key pointed at another parent through that parent's collection,
    /// many-to-many rows to insert or delete. No later flush writes them; its collections,
    /// those foreign keys and the `back_populates` sides are back as loaded (a child back in
    /// its old parent's loaded collection comes last). Two things stay: the links a new object
    /// holds (a new child's foreign key, a many-to-many row to or from a new object), since its
    /// `INSERT` takes its parents' keys like its other columns and it has no row to go back
    /// to; and an orphan that a removal deleted (`delete-orphan`), a deletion of its own.
    ///
    /// Where SQLAlchemy keeps a change that a backref also recorded on the other object, this
    /// session drops it: it records a link once for both ends (the child's foreign key, or
    /// the association row), so expiring either end drops it. The relationship changes it
    /// drops are in the undo log like any change: rolling back a savepoint begun before them
    /// leaves the session as the savepoint found it.
    ///
    /// A guard held on one of them, or on an object whose foreign key a dropped change set,
    /// fails it with [`ObjectInUse`](crate::ErrorKind::ObjectInUse), nothing changed.
    pub fn expire<M: Persist>(&mut self, object: &Tracked<M>) -> Result<()> {
        self.uow.expire(object)
    }

    /// Expires every object of the session, dropping their unflushed changes, relationship
    /// changes between them included (see [`expire`](Self::expire)). A guard held on one of
    /// them fails it with [`ObjectInUse`](crate::ErrorKind::ObjectInUse), nothing changed.
    pub fn expire_all(&mut self) -> Result<()> {
        self.uow.expire_all()
    }

    /// Reloads an object's columns from the database now (dropping unflushed changes, those
    /// of its relationships too, as [`expire`](Self::expire) does). A
    /// guard held on it fails it with [`ObjectInUse`](crate::ErrorKind::ObjectInUse) before
    /// the query, nothing changed.
    pub async fn refresh<M: Persist>(&mut self, object: &Tracked<M>) -> Result<()> {
        self.check()?;
        let pk = self.uow.key_to_replace(object, "refresh")?;
        let criteria = self.criteria.clone();
        let r = self
            .filtered(&criteria)
            .await?
            .fetch_optional(select::<M>().filter(pk_filter::<M>(pk)))
            .await;
        match r.map_err(|e| self.fail(e))? {
            Some(row) => self.uow.refresh_with(object, row),
            None if self.has_criteria::<M>() => Err(Error::object_state(format!(
                "cannot refresh this `{}`: its row no longer exists or the session's criteria exclude it",
                M::TABLE.model
            ))),
            None => Err(Error::object_state(format!(
                "cannot refresh this `{}`: its row no longer exists",
                M::TABLE.model
            ))),
        }
    }

    /// Brings a detached object (built by hand, or from another session) into the session
    /// by primary key: its column values are copied onto the session's object for that key
    /// (loaded if needed), which is returned; only the columns that differ are updated by the
    /// next flush. Without such a row it is added as new.
    ///
    /// Relationships whose `cascade` has `merge` (the default, `"save-update, merge"`) and
    /// that are loaded on `object` are merged too, as in SQLAlchemy: each related object is
    /// merged the same way (and its own relationships after it), and the session's object's
    /// relationship is set to the merged objects, so the flush points foreign keys at the
    /// right rows, deletes orphans under `delete-orphan` and writes many-to-many rows. One
    /// query per relationship and level loads the related objects the identity map lacks,
    /// under the session's criteria: a row they hide is not merged into (the object is new).
    /// Relationships not loaded on `object` are left as they are.
    ///
    /// All or nothing: when it fails (a guard held on an object it must change is an
    /// [`ObjectInUse`](crate::ErrorKind::ObjectInUse); a load's error also leaves the
    /// session pending a rollback), every object changed since it began is back to its state
    /// before it, the objects of earlier levels included. A merge cancelled part way (its
    /// future dropped while a level loads) leaves the session pending a rollback, which
    /// restores them.
    ///
    /// ```no_run
    /// # use orm_postgres::prelude::*;
    /// # use orm_postgres::__doc_fixture::User;
    /// # async fn run(db: Database) -> orm_postgres::Result<()> {
    /// let mut s = db.session();
    /// let detached = User { id: 7, name: "Jane".into(), email: None };
    /// let jane = s.merge(detached).await?; // SELECT ... users 7, unless the session has it
    /// s.commit().await?;                   // UPDATE of the columns that differ
    /// # Ok(()) }
    /// ```
    pub async fn merge<M: Persist>(&mut self, object: M) -> Result<Tracked<M>> {
        self.check()?;
        self.autoflush().await?;
        // Every object merged saves its state in a frame of its own, which a failure unwinds.
        let frame = self.uow.begin_savepoint();
        self.interrupted = Some(
            "a merge was cancelled before it finished: a rollback restores the objects it merged",
        );
        let outcome = self.merge_levels(object).await;
        self.interrupted = None;
        match outcome {
            Ok(merged) => {
                self.uow.release_savepoint(frame);
                Ok(merged)
            }
            Err(e) => {
                // An object a guard took meanwhile stays merged: the session then needs a
                // rollback (`needs_rollback`), which restores it.
                let _ = self.uow.abandon_savepoint(frame, "merge");
                Err(e)
            }
        }
    }

    /// [`merge`](Self::merge)'s levels: each level's loads, then its objects merged.
    async fn merge_levels<M: Persist>(&mut self, object: M) -> Result<Tracked<M>> {
        let mut merge = self.uow.merge_begin(object);
        loop {
            for (batch, query) in merge.loads(&self.uow, Some(&self.criteria))? {
                self.for_each_row(&query, |uow, row| merge.register_row(batch, uow, row))
                    .await?;
            }
            if !self.uow.merge_next(&mut merge)? {
                break;
            }
        }
        merge.finish()
    }
}
