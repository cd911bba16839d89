//! Rebuilds the crate when a revision directory is added to or removed from `migrations/`
//! (`embed_migrations!` includes the files it saw; a new directory is something only this sees).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
