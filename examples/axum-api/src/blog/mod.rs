//! The blog engine.
