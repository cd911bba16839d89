//! Inheritance against a real server: the employee / manager / engineer story.
//!
//! `single_table`: one `employees` table with a `kind` discriminator; `Employee` (an enum
//! deriving `Model`) reads every row as its variant, `Manager` and `Engineer` read their own.
//!
//! `joined_table`: a `staff` base table and one table per subtype (`chiefs`, `developers`).
//!
//! `generated`: stored generated columns on variant structs, in both layouts.
//!
//! `deferred`: deferred columns on variant structs, in both layouts and both loading forms.
//!
//! `versioned`: a version column shared by the variant structs, in both layouts.
//!
//! `properties`: column properties of variant structs, in both layouts and both loading forms.
//!
//! `arrays`: array columns of variant structs through the session, in both layouts.
//!
//! `streamed`: `stream` of a joined-table enum loaded selectin, a batch at a time.

mod arrays;
mod deferred;
mod generated;
mod joined_filters;
mod joined_relations;
mod joined_table;
mod properties;
mod single_table;
mod streamed;
mod versioned;
