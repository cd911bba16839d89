//! Deleting and cascades.

use super::*;

async fn blog(t: &TestDatabase) -> (i64, i64) {
    let mut s = t.session();
    let mut post = Post {
        title: "hello".into(),
        ..Post::default()
    };
    post.comments = Related::loaded(
        (0..3)
            .map(|i| Comment {
                body: format!("c{i}"),
                ..Comment::default()
            })
            .collect(),
    );
    let mut author = Author {
        name: "ann".into(),
        ..Author::default()
    };
    author.posts = Related::loaded(vec![post]);
    let a = s.add(author);
    s.commit().await.unwrap();
    let p = s.related(&a, Author::posts).unwrap()[0].clone();
    let author_id = a.read().id;
    let post_id = p.read().id;
    (author_id, post_id)
}

#[tokio::test]
async fn deleting_a_post_deletes_its_comments() {
    let t = setup().await;
    let (_, post_id) = blog(&t).await;
    assert_eq!(count(&t, "SELECT count(*) FROM b_comment").await, 3);
    let mut s = t.session();
    let post = s.get::<Post>(post_id).await.unwrap().unwrap();
    s.delete(&post).unwrap();
    assert_eq!(post.status(), Status::Deleted);
    let before = t.statement_count();
    s.commit().await.unwrap();
    // SELECT the comments (not loaded), DELETE comments, DELETE post, COMMIT.
    assert_eq!(t.statement_count() - before, 4);
    assert_eq!(count(&t, "SELECT count(*) FROM b_comment").await, 0);
    assert_eq!(count(&t, "SELECT count(*) FROM b_post").await, 0);
    assert_eq!(post.status(), Status::Detached);
    assert!(s.get::<Post>(post_id).await.unwrap().is_none());
}

#[tokio::test]
async fn passive_deletes_rely_on_on_delete_cascade() {
    let t = setup().await;
    let (author_id, _) = blog(&t).await;
    let mut s = t.session();
    let author = s.get::<Author>(author_id).await.unwrap().unwrap();
    s.delete(&author).unwrap();
    let before = t.statement_count();
    s.flush().await.unwrap();
    assert_eq!(
        t.statement_count() - before,
        1,
        "only the author's DELETE: posts not loaded"
    );
    s.commit().await.unwrap();
    assert_eq!(
        count(&t, "SELECT count(*) FROM b_post").await,
        0,
        "the database cascaded"
    );
}

#[tokio::test]
async fn removing_a_comment_from_its_post_deletes_it() {
    let t = setup().await;
    let (_, post_id) = blog(&t).await;
    let mut s = t.session();
    let post = s
        .one(
            select::<Post>()
                .filter(Post::id.eq(post_id))
                .load(Post::comments.selectin()),
        )
        .await
        .unwrap();
    let comments = s.related(&post, Post::comments).unwrap();
    assert_eq!(comments.len(), 3);
    s.remove(&post, Post::comments, &comments[1]).unwrap();
    s.commit().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM b_comment").await, 2);
    assert_eq!(
        count(&t, "SELECT count(*) FROM b_comment WHERE body = 'c1'").await,
        0
    );
}

#[tokio::test]
async fn appending_to_an_unloaded_collection_writes_the_link_only() {
    let t = setup().await;
    let mut s = t.session();
    let mut u = User::named("ann");
    u.orders = Related::loaded(vec![Order::of(1)]);
    s.add(u);
    s.commit().await.unwrap();

    let mut s = t.session();
    let ann = s.one(select::<User>()).await.unwrap();
    let order = s.add(Order::of(2));
    s.append(&ann, User::orders, &order).unwrap();
    // Only the appended order is known: the collection is still not loaded.
    let err = s.related(&ann, User::orders).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotLoaded { .. }), "{err}");
    // Replacing it needs it loaded.
    let err = s.set_related(&ann, User::orders, vec![]).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::ObjectState(_)), "{err}");
    s.commit().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM s_order").await, 2);
    let ann_id = ann.read().id;
    assert_eq!(order.read().user_id, ann_id);
}

#[tokio::test]
async fn deleting_a_pending_object_cancels_its_insert() {
    let t = setup().await;
    let mut s = t.session();
    let u = s.add(User::named("gone"));
    s.delete(&u).unwrap();
    assert_eq!(u.status(), Status::Detached);
    let before = t.statement_count();
    s.commit().await.unwrap();
    assert_eq!(
        t.statement_count(),
        before,
        "nothing to write, no transaction"
    );
}

/// A comment the session moved to another post (by `append`, or by writing its foreign key)
/// is no longer its old post's, and survives the old post's deletion under its new post:
/// whether the old post's comments were loaded before (still listing it), or are loaded by
/// the flush, before its updates (the row still reads as the old post's).
#[tokio::test]
async fn a_comment_moved_to_another_post_survives_deleting_its_old_post() {
    for (by_hand, loaded) in [(false, false), (true, false), (false, true), (true, true)] {
        let t = setup().await;
        let (author_id, post_id) = blog(&t).await;
        let mut s = t.session();
        let q = s.add(Post {
            author_id,
            title: "other".into(),
            ..Post::default()
        });
        s.flush().await.unwrap();
        let p = if loaded {
            s.one(
                select::<Post>()
                    .filter(Post::id.eq(post_id))
                    .load(Post::comments.selectin()),
            )
            .await
            .unwrap()
        } else {
            s.get::<Post>(post_id).await.unwrap().unwrap()
        };
        let c = s
            .one(select::<Comment>().filter(Comment::body.eq("c0")))
            .await
            .unwrap();
        if by_hand {
            c.write().post_id = q.read().id;
        } else {
            s.append(&q, Post::comments, &c).unwrap();
        }
        s.delete(&p).unwrap();
        s.commit().await.unwrap();
        let where_c0 = t
            .fetch_all(orm_postgres::raw::query::<String>(
                "SELECT p.title FROM b_comment c JOIN b_post p ON p.id = c.post_id WHERE c.body = 'c0'",
            ))
            .await
            .unwrap();
        assert_eq!(where_c0, ["other"], "by hand: {by_hand}, loaded: {loaded}");
        assert_eq!(
            count(&t, "SELECT count(*) FROM b_comment").await,
            1,
            "the other two went with their post (by hand: {by_hand}, loaded: {loaded})"
        );
    }
}

/// A collection only appended to is not the whole collection: deleting its parent still loads
/// the children the database has, and deletes them with the appended one. Before, the appended
/// item was taken for the collection: the database's comments were left to `ON DELETE
/// CASCADE` behind the session's back, and the session's objects for them stayed persistent.
#[tokio::test]
async fn a_delete_cascade_loads_the_children_of_a_collection_only_appended_to() {
    let t = setup().await;
    let (_, post_id) = blog(&t).await;
    let mut s = t.session();
    let post = s.get::<Post>(post_id).await.unwrap().unwrap();
    let first = s
        .one(select::<Comment>().order_by(Comment::id.asc()).limit(1))
        .await
        .unwrap();
    let new = s.add(Comment {
        body: "late".into(),
        ..Comment::default()
    });
    s.append(&post, Post::comments, &new).unwrap();
    s.delete(&post).unwrap();
    let before = t.statement_count();
    s.commit().await.unwrap();
    // SELECT the comments, DELETE comments, DELETE post, COMMIT (the new comment is never
    // inserted: it went with its parent).
    assert_eq!(t.statement_count() - before, 4);
    assert_eq!(first.status(), Status::Detached, "deleted by the cascade");
    assert_eq!(new.status(), Status::Detached);
    assert_eq!(count(&t, "SELECT count(*) FROM b_comment").await, 0);
    assert_eq!(count(&t, "SELECT count(*) FROM b_post").await, 0);
}
