//! Runnable examples: see `quickstart.rs`, `books.rs` and `tutorial.rs`; run with
//! `cargo run --example <name>`. The migrations story lives in [`tutorial`], so its test can run
//! it too.

pub mod tutorial;
