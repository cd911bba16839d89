//! Row locking of a `SELECT`: `FOR UPDATE`, `FOR NO KEY UPDATE`, `FOR SHARE`, `FOR KEY SHARE`,
//! the sources they lock (`OF`) and what to do with rows another transaction holds (`NOWAIT`,
//! `SKIP LOCKED`).

use super::select::Select;
use super::source::Source;
use crate::ast::{Lock, LockStrength, LockWait};

impl<O, S> Select<O, S> {
    /// The lock, its strength set; `of`, `nowait` and `skip_locked` given before it (or
    /// before another strength) are kept: the calls may come in any order.
    fn lock(mut self, strength: LockStrength) -> Self {
        self.lock_mut().strength = Some(strength);
        self
    }

    /// The lock to modify, made without a strength when there is none yet (a statement
    /// compiled so is refused).
    fn lock_mut(&mut self) -> &mut Lock {
        self.core.lock.get_or_insert_with(|| Lock {
            strength: None,
            of: Vec::new(),
            wait: LockWait::Wait,
        })
    }

    /// `FOR UPDATE`
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::id.eq(1)).for_update();
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."id" = $1 FOR UPDATE"#);
    /// ```
    pub fn for_update(self) -> Self {
        self.lock(LockStrength::Update)
    }

    /// `FOR NO KEY UPDATE`
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().filter(User::id.eq(1)).for_no_key_update();
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."id" = $1 FOR NO KEY UPDATE"#);
    /// ```
    pub fn for_no_key_update(self) -> Self {
        self.lock(LockStrength::NoKeyUpdate)
    }

    /// `FOR SHARE`
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().for_share();
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" FOR SHARE"#);
    /// ```
    pub fn for_share(self) -> Self {
        self.lock(LockStrength::Share)
    }

    /// `FOR KEY SHARE`
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().for_key_share();
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" FOR KEY SHARE"#);
    /// ```
    pub fn for_key_share(self) -> Self {
        self.lock(LockStrength::KeyShare)
    }

    /// `... OF source`: lock only the rows of this source (with `for_update` & co, before or
    /// after it; alone, the statement is refused: [`InvalidStatement`](crate::ErrorKind::InvalidStatement)).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<Post>().join_fk::<User>().for_update().of::<Post>();
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "posts"."id", "posts"."user_id", "posts"."title" FROM "posts" JOIN "users" ON "posts"."user_id" = "users"."id" FOR UPDATE OF "posts""#);
    /// ```
    pub fn of<J: Source>(mut self) -> Self {
        self.lock_mut().of.push(J::NAME);
        self
    }

    /// `NOWAIT`: fail at once if a row is locked (with `for_update` & co, before or after it;
    /// alone, the statement is refused).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().for_update().nowait();
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" FOR UPDATE NOWAIT"#);
    /// ```
    pub fn nowait(mut self) -> Self {
        self.lock_mut().wait = LockWait::NoWait;
        self
    }

    /// `SKIP LOCKED`: leave locked rows out (with `for_update` & co, before or after it;
    /// alone, the statement is refused).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// # use orm_core::__doc_fixture::{Post, User};
    /// let q = select::<User>().limit(1).for_update().skip_locked();
    /// assert_eq!(q.compile().unwrap().sql, r#"SELECT "users"."id", "users"."name", "users"."email" FROM "users" LIMIT $1 FOR UPDATE SKIP LOCKED"#);
    /// ```
    pub fn skip_locked(mut self) -> Self {
        self.lock_mut().wait = LockWait::SkipLocked;
        self
    }
}
