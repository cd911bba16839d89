//! Lifecycle hooks of a model ([`Hooks`]); what a hook can do besides changing its object is
//! [`HookContext`] (in `unit.rs`: it reaches the unit of work).

use super::columns::ColumnSet;
use super::unit::HookContext;
use crate::error::Result;

/// Lifecycle hooks of a model, called by the session's flush. Every method does nothing by
/// default.
///
/// The derive implements this trait with the defaults; to write your own, put
/// `#[model(hooks)]` on the struct and implement it:
///
/// ```
/// use orm_core::prelude::*;
/// use orm_core::session::{ColumnSet, HookContext, Hooks};
///
/// #[derive(Model)]
/// #[model(table = "accounts", hooks, crate = "orm_core")]
/// struct Account {
///     #[model(primary_key, generated)]
///     id: i64,
///     password: String,
/// }
///
/// fn hash(password: &str) -> String {
///     format!("hashed({password})")
/// }
///
/// impl Hooks for Account {
///     fn before_insert(&mut self, _: &mut HookContext) -> Result<()> {
///         self.password = hash(&self.password);
///         Ok(())
///     }
///     fn before_update(&mut self, changed: ColumnSet, _: &mut HookContext) -> Result<()> {
///         if changed.contains(Account::password) {
///             self.password = hash(&self.password); // only when it changed
///         }
///         Ok(())
///     }
/// }
/// # let mut a = Account { id: 0, password: "pw".into() };
/// # a.before_insert(&mut HookContext::default()).unwrap();
/// # assert_eq!(a.password, "hashed(pw)");
/// ```
///
/// # Behavior
/// - `before_insert` runs before any SQL of the flush, `before_update` / `before_delete` just
///   before the object's statement is built; what they change is written (an update
///   re-computes the changed columns after the hook). An error from any hook aborts the flush:
///   nothing of it is kept (and the session needs a rollback if statements were already sent).
/// - `after_*` run once the flush's statements succeeded, before the flush returns.
/// - Hooks must not block: they run inside the flush, on the caller's task.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has `#[model(hooks)]` but does not implement `Hooks`",
    note = "write `impl Hooks for {Self} {{ ... }}`, or remove `hooks` from `#[model(...)]`"
)]
pub trait Hooks: Sized {
    /// Before the object's `INSERT`.
    fn before_insert(&mut self, ctx: &mut HookContext) -> Result<()> {
        let _ = ctx;
        Ok(())
    }
    /// After the object's `INSERT` (generated keys are filled in).
    fn after_insert(&self, ctx: &mut HookContext) -> Result<()> {
        let _ = ctx;
        Ok(())
    }
    /// Before the object's `UPDATE`; `changed` are the columns that differ from the database.
    fn before_update(&mut self, changed: ColumnSet, ctx: &mut HookContext) -> Result<()> {
        let _ = (changed, ctx);
        Ok(())
    }
    /// Just before the object's `UPDATE` is built, after [`before_update`](Hooks::before_update)
    /// and the validators: `old` holds the values the database has (as loaded or last flushed),
    /// `self` the values about to be written, `changed` the columns that differ. For audit
    /// trails and history tables: add the audit row with [`HookContext::add`] and the same
    /// transaction writes it.
    fn audit_update(&self, old: &Self, changed: ColumnSet, ctx: &mut HookContext) -> Result<()> {
        let _ = (old, changed, ctx);
        Ok(())
    }
    /// After the object's `UPDATE`.
    fn after_update(&self, changed: ColumnSet, ctx: &mut HookContext) -> Result<()> {
        let _ = (changed, ctx);
        Ok(())
    }
    /// Before the object's `DELETE`.
    fn before_delete(&self, ctx: &mut HookContext) -> Result<()> {
        let _ = ctx;
        Ok(())
    }
    /// After the object's `DELETE`.
    fn after_delete(&self, ctx: &mut HookContext) -> Result<()> {
        let _ = ctx;
        Ok(())
    }
}
