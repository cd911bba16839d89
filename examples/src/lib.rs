//! Runnable examples: see `quickstart.rs` and `books.rs`; run with `cargo run --example <name>`.
