//! SeaORM 2: entities derived with `DeriveEntityModel`, `find_by_id`, `insert_many`,
//! `ActiveModel::update`, and `load_many` for the nested load.

use std::cell::RefCell;

use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectOptions, Database, DatabaseConnection,
    EntityTrait, LoaderTrait, QueryFilter, QueryOrder, TransactionTrait,
};

use super::data::{Comment, NewRow, Tree, lookup_digest};
use super::raw_side::{flush_values, keys_back};
use super::{FLUSH_ROWS, POOL_LOOKUPS, POOL_SIZE, POOL_TASKS, next_key_at};
use crate::BoxError;

/// `users`.
#[allow(missing_docs)]
pub mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::post::Entity")]
        Post,
    }

    impl Related<super::post::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Post.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// `posts`.
#[allow(missing_docs)]
pub mod post {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "posts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub user_id: i32,
        pub title: String,
        pub body: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::user::Entity",
            from = "Column::UserId",
            to = "super::user::Column::Id"
        )]
        User,
        #[sea_orm(has_many = "super::comment::Entity")]
        Comment,
    }

    impl Related<super::user::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::User.def()
        }
    }

    impl Related<super::comment::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Comment.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// `comments`.
#[allow(missing_docs)]
pub mod comment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "comments")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub post_id: i32,
        pub text: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::post::Entity",
            from = "Column::PostId",
            to = "super::post::Column::Id"
        )]
        Post,
    }

    impl Related<super::post::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Post.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// `session_users`.
#[allow(missing_docs)]
pub mod session_user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "session_users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub email: Option<String>,
        pub age: i32,
        pub score: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `session_new_users`.
#[allow(missing_docs)]
pub mod new_user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "session_new_users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub email: Option<String>,
        pub age: i32,
        pub score: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// SeaORM's connections and the flushes' objects.
pub struct Sea {
    db: DatabaseConnection,
    pool: DatabaseConnection,
    objects: RefCell<Vec<session_user::Model>>,
}

async fn connect(url: &str, size: u32) -> Result<DatabaseConnection, BoxError> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(size)
        .min_connections(1)
        .sqlx_logging(false);
    Ok(Database::connect(options).await?)
}

fn active(rows: &[NewRow]) -> Vec<new_user::ActiveModel> {
    rows.iter()
        .map(|r| new_user::ActiveModel {
            id: ActiveValue::NotSet,
            name: ActiveValue::Set(r.name.clone()),
            email: ActiveValue::Set(r.email.clone()),
            age: ActiveValue::Set(r.age),
            score: ActiveValue::Set(r.score),
        })
        .collect()
}

/// The flushes' 1,000 objects.
async fn load_objects(db: &DatabaseConnection) -> Result<Vec<session_user::Model>, sea_orm::DbErr> {
    session_user::Entity::find()
        .filter(session_user::Column::Id.lte(FLUSH_ROWS))
        .order_by_asc(session_user::Column::Id)
        .all(db)
        .await
}

/// Rows per `insert_many`: as many as PostgreSQL's 65,535 parameters allow (4 a row).
const ROWS_PER_INSERT: usize = 65_535 / 4;

impl Sea {
    /// Connects: one connection, and a pool of [`POOL_SIZE`].
    pub async fn connect(url: &str) -> Result<Sea, BoxError> {
        let db = connect(url, 1).await?;
        let pool = connect(url, POOL_SIZE as u32).await?;
        let objects = load_objects(&db).await?;
        Ok(Sea {
            db,
            pool,
            objects: RefCell::new(objects),
        })
    }

    /// `Entity::find_by_id(id).one(&db)`.
    pub async fn by_key(&self, id: i32) -> Result<Comment, BoxError> {
        let c = comment::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or("no such comment")?;
        Ok(Comment {
            id: c.id,
            post_id: c.post_id,
            text: c.text,
        })
    }

    /// `Entity::insert_many(active models).exec_without_returning(&db)`.
    pub async fn insert_execute(&self, rows: &[NewRow]) -> Result<u64, BoxError> {
        Ok(new_user::Entity::insert_many(active(rows))
            .exec_without_returning(&self.db)
            .await?)
    }

    /// In a transaction, `insert_many(...).exec_with_returning_keys`, the keys written back.
    pub async fn insert_objects(&self, mut rows: Vec<NewRow>) -> Result<usize, BoxError> {
        let txn = self.db.begin().await?;
        let keys = new_user::Entity::insert_many(active(&rows))
            .exec_with_returning_keys(&txn)
            .await?;
        txn.commit().await?;
        for (row, key) in rows.iter_mut().zip(keys) {
            row.id = key;
        }
        Ok(keys_back(&rows))
    }

    /// Users, then `users.load_many(post::Entity)` and `posts.load_many(comment::Entity)`.
    pub async fn nested(&self) -> Result<Tree, BoxError> {
        let users = user::Entity::find()
            .order_by_asc(user::Column::Id)
            .all(&self.db)
            .await?;
        let posts = users.load_many(post::Entity, &self.db).await?;
        let flat: Vec<post::Model> = posts.iter().flatten().cloned().collect();
        let comments = flat.load_many(comment::Entity, &self.db).await?;
        let mut tree = Tree::default();
        let mut comments = comments.iter();
        for (u, posts) in users.iter().zip(&posts) {
            tree.user(u.id, &u.name);
            for p in posts {
                tree.post(u.id, p.id, &p.title, p.body.as_deref());
                for c in comments.next().into_iter().flatten() {
                    tree.comment(p.id, c.id, &c.text);
                }
            }
        }
        Ok(tree)
    }

    /// In a transaction, `insert_many(...).exec_without_returning` per [`ROWS_PER_INSERT`]
    /// rows.
    pub async fn bulk(&self, rows: &[NewRow]) -> Result<u64, BoxError> {
        let txn = self.db.begin().await?;
        let mut n = 0;
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            n += new_user::Entity::insert_many(active(chunk))
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(n)
    }

    /// (With `load`: the 1,000 objects loaded first.) In a transaction, `ActiveModel::update`
    /// per changed object.
    pub async fn flush(&self, v: i32, load: bool) -> Result<u64, BoxError> {
        if load {
            *self.objects.borrow_mut() = load_objects(&self.db).await?;
        }
        let objects = {
            let mut objects = self.objects.borrow_mut();
            for (i, u) in objects.iter_mut().enumerate() {
                (u.age, u.score) = flush_values(i, v);
            }
            objects.clone()
        };
        let txn = self.db.begin().await?;
        let mut n = 0;
        for u in objects {
            let changed = session_user::ActiveModel {
                id: ActiveValue::Unchanged(u.id),
                age: ActiveValue::Set(u.age),
                score: ActiveValue::Set(u.score),
                ..Default::default()
            };
            changed.update(&txn).await?;
            n += 1;
        }
        txn.commit().await?;
        Ok(n)
    }

    /// [`POOL_TASKS`] concurrent tasks, each [`POOL_LOOKUPS`] lookups on the pool.
    pub async fn pool_lookups(&self) -> Result<(usize, i64), BoxError> {
        let tasks = (0..POOL_TASKS).map(|t| async move {
            let mut sum = 0i64;
            for i in 0..POOL_LOOKUPS {
                let c = comment::Entity::find_by_id(next_key_at(t, i))
                    .one(&self.pool)
                    .await?
                    .ok_or("no such comment")?;
                sum += lookup_digest(c.post_id, &c.text);
            }
            Ok::<i64, BoxError>(sum)
        });
        super::orm_side::sum_tasks(futures_util::future::join_all(tasks).await)
    }
}
