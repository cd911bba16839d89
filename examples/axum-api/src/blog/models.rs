//! The blog's tables: users, posts, comments and tags (many-to-many through `blog_post_tags`).

use orm_postgres::prelude::*;

use super::password;

/// A writer or reader of the blog. Its password is hashed by the session's hooks before it is
/// written: assign the plain password, the flush stores its argon2id PHC string.
#[derive(Model, Debug, Clone, Default)]
#[model(table = "blog_users", hooks)]
pub struct BlogUser {
    /// Generated key.
    #[model(primary_key, generated)]
    pub id: i64,
    /// Unique login name.
    #[model(unique, len = 40)]
    pub username: String,
    /// The plain password until the flush, its PHC string after (and in the database, always).
    pub password: String,
}

impl Hooks for BlogUser {
    fn before_insert(&mut self, _: &mut HookContext) -> orm_postgres::Result<()> {
        self.hash_password()
    }

    fn before_update(
        &mut self,
        changed: ColumnSet,
        _: &mut HookContext,
    ) -> orm_postgres::Result<()> {
        if changed.contains(BlogUser::password) {
            self.hash_password()?;
        }
        Ok(())
    }
}

impl BlogUser {
    /// Replaces the plain password with its hash.
    fn hash_password(&mut self) -> orm_postgres::Result<()> {
        if self.password.is_empty() {
            return Err(orm_postgres::Error::validation(
                "BlogUser",
                "password",
                "must not be empty",
            ));
        }
        self.password = password::hash(&self.password)
            .map_err(|e| orm_postgres::Error::validation("BlogUser", "password", e.to_string()))?;
        Ok(())
    }
}

/// A post.
#[derive(Model, Debug, Clone, Default)]
#[model(table = "blog_posts")]
pub struct BlogPost {
    /// Generated key.
    #[model(primary_key, generated)]
    pub id: i64,
    /// The writer.
    #[model(references = "blog_users.id", on_delete = "cascade", index)]
    pub author_id: i64,
    /// Its title.
    #[model(len = 200)]
    pub title: String,
    /// Its text.
    pub body: String,
    /// Shown in the feed.
    pub published: bool,
    /// The writer.
    #[relationship(belongs_to = BlogUser, foreign_key = "author_id")]
    pub author: Related<BlogUser>,
    /// Its comments, oldest first.
    #[relationship(has_many = BlogComment, foreign_key = "post_id", order_by = "id", cascade = "all, delete-orphan")]
    pub comments: Related<Vec<BlogComment>>,
    /// Its tags, by name.
    #[relationship(many_to_many = BlogTag, secondary = BlogPostTag, order_by = "name")]
    pub tags: Related<Vec<BlogTag>>,
}

/// A comment on a post.
#[derive(Model, Debug, Clone, Default)]
#[model(table = "blog_comments")]
pub struct BlogComment {
    /// Generated key.
    #[model(primary_key, generated)]
    pub id: i64,
    /// The post.
    #[model(references = "blog_posts.id", on_delete = "cascade", index)]
    pub post_id: i64,
    /// Who wrote it.
    #[model(references = "blog_users.id", on_delete = "cascade", index)]
    pub author_id: i64,
    /// Its text.
    pub body: String,
    /// Who wrote it.
    #[relationship(belongs_to = BlogUser, foreign_key = "author_id")]
    pub author: Related<BlogUser>,
}

/// A tag.
#[derive(Model, Debug, Clone, Default)]
#[model(table = "blog_tags")]
pub struct BlogTag {
    /// Generated key.
    #[model(primary_key, generated)]
    pub id: i64,
    /// Unique.
    #[model(unique, len = 40)]
    pub name: String,
}

/// Posts and their tags.
#[derive(Model, Debug, Clone, Default)]
#[model(table = "blog_post_tags")]
pub struct BlogPostTag {
    /// The post.
    #[model(primary_key, references = "blog_posts.id", on_delete = "cascade")]
    pub post_id: i64,
    /// The tag.
    #[model(primary_key, references = "blog_tags.id", on_delete = "cascade", index)]
    pub tag_id: i64,
}

/// Every table of the blog.
pub const TABLES: &[&orm_postgres::Table] = &[
    BlogUser::TABLE,
    BlogPost::TABLE,
    BlogComment::TABLE,
    BlogTag::TABLE,
    BlogPostTag::TABLE,
];
