//! Stock analytics.
