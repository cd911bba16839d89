//! Not public API: what the driver crate (`orm-postgres`) needs of the Core and the ORM to run
//! them — the IO seams it implements, the loads it drives and the unit of work behind its
//! `Session`. Users never name these; they may change in any release.

pub use crate::compile::SqlWriter;
pub use crate::load::joined::JoinedFold;
pub use crate::load::run::{LoadPlan, plan as load_plan, run_loads};
pub use crate::load::runner::{BoxFuture, QueryRunner, RowAccess, RowSink, WithCriteria};
pub use crate::session::{FlushJob, SavepointToken, Status, UnitOfWork};
pub use crate::stmt::pk_filter;
pub use crate::types::encode::encode_value;
