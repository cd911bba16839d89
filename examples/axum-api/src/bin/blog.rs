//! The blog engine on the local default database: `cargo run -p orm-example-axum --bin blog`.
//! Seeds a blog (passwords hashed by a session hook), checks a login, prints the feed and how
//! many statements loading it took.

use orm_example_axum::{blog, connect_and_migrate};
use orm_postgres::prelude::*;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let db = connect_and_migrate().await?;
    db.batch_execute("TRUNCATE blog_users, blog_tags CASCADE")
        .await?;
    blog::seed(&db, 6).await?;

    let stored: String = db
        .fetch_one(
            select::<blog::BlogUser>()
                .filter(blog::BlogUser::username.eq("ada"))
                .columns(blog::BlogUser::password),
        )
        .await?;
    println!("ada's password as stored: {stored}");
    println!(
        "login ada / analytical engine: {}",
        blog::login(&db, "ada", "analytical engine")
            .await?
            .is_some()
    );
    println!(
        "login ada / wrong: {}",
        blog::login(&db, "ada", "wrong").await?.is_some()
    );

    let before = db.statement_count();
    let posts = blog::feed(&db, 10).await?;
    println!(
        "\nthe feed ({} posts, {} statements):",
        posts.len(),
        db.statement_count() - before
    );
    print!("{}", blog::render(&posts)?);
    Ok(())
}
