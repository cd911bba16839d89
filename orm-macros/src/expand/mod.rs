//! Code generation, for input that passed every check. [`handles`] holds the items the
//! fallback emits too; nothing here imports the fallback or the pipelines of `crate::derive`.

pub(crate) mod back_populates;
pub(crate) mod bounds;
pub(crate) mod composite;
pub(crate) mod custom_type;
pub(crate) mod db_enum;
pub(crate) mod from_row;
pub(crate) mod handles;
pub(crate) mod inherit;
pub(crate) mod inherit_relations;
pub(crate) mod model;
pub(crate) mod persist;
pub(crate) mod relationship;
