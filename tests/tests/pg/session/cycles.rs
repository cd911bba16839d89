//! Flush plan: cycles.

use super::*;

#[tokio::test]
async fn two_rows_pointing_at_each_other_use_a_post_update() {
    let t = setup().await;
    let mut s = t.session();
    let a = s.add(Node {
        name: "a".into(),
        ..Node::default()
    });
    let b = s.add(Node {
        name: "b".into(),
        ..Node::default()
    });
    s.set_related(&a, Node::partner, vec![b.clone()]).unwrap();
    s.set_related(&b, Node::partner, vec![a.clone()]).unwrap();
    let before = t.statement_count();
    s.commit().await.unwrap();
    // BEGIN, INSERT one, INSERT the other, UPDATE (post-update), COMMIT.
    assert_eq!(t.statement_count() - before, 5);
    let (aid, bid) = (a.read().id, b.read().id);
    assert_eq!(a.read().partner_id, Some(bid));
    assert_eq!(b.read().partner_id, Some(aid));
    assert_eq!(
        count(&t, "SELECT count(*) FROM c_node x JOIN c_node y ON x.partner_id = y.id AND y.partner_id = x.id").await,
        2
    );
}

#[tokio::test]
async fn hundreds_of_cycles_in_one_flush_are_all_closed() {
    let t = setup().await;
    let mut s = t.session();
    let pairs: Vec<_> = (0..500)
        .map(|i| {
            let a = s.add(Node {
                name: format!("a{i}"),
                ..Node::default()
            });
            let b = s.add(Node {
                name: format!("b{i}"),
                ..Node::default()
            });
            s.set_related(&a, Node::partner, vec![b.clone()]).unwrap();
            s.set_related(&b, Node::partner, vec![a.clone()]).unwrap();
            (a, b)
        })
        .collect();
    s.commit().await.unwrap();
    for (a, b) in &pairs {
        let (aid, bid) = (a.read().id, b.read().id);
        assert_eq!(a.read().partner_id, Some(bid));
        assert_eq!(b.read().partner_id, Some(aid));
    }
    assert_eq!(
        count(&t, "SELECT count(*) FROM c_node x JOIN c_node y ON x.partner_id = y.id AND y.partner_id = x.id AND substr(x.name, 2) = substr(y.name, 2)").await,
        1000
    );
}

/// Rows pointing at each other, deleted together: one `DELETE` for both (PostgreSQL checks
/// the foreign key at the statement's end), not one each in an order that leaves the second
/// pointing at the first.
#[tokio::test]
async fn two_rows_pointing_at_each_other_are_deleted_in_one_statement() {
    let t = setup().await;
    let mut s = t.session();
    let a = s.add(Node {
        name: "a".into(),
        ..Node::default()
    });
    let b = s.add(Node {
        name: "b".into(),
        ..Node::default()
    });
    let c = s.add(Node {
        name: "c".into(),
        ..Node::default()
    });
    s.set_related(&a, Node::partner, vec![b.clone()]).unwrap();
    s.set_related(&b, Node::partner, vec![a.clone()]).unwrap();
    // c points into the cycle: it goes first.
    s.set_related(&c, Node::partner, vec![a.clone()]).unwrap();
    s.commit().await.unwrap();
    s.delete(&a).unwrap();
    s.delete(&b).unwrap();
    s.delete(&c).unwrap();
    let before = t.statement_count();
    s.commit().await.unwrap();
    // BEGIN, DELETE c, DELETE a and b, COMMIT.
    assert_eq!(t.statement_count() - before, 4);
    assert_eq!(count(&t, "SELECT count(*) FROM c_node").await, 0);

    // A ring of three: one DELETE too.
    let ring: Vec<_> = ["x", "y", "z"]
        .iter()
        .map(|n| {
            s.add(Node {
                name: (*n).into(),
                ..Node::default()
            })
        })
        .collect();
    for i in 0..3 {
        s.set_related(&ring[i], Node::partner, vec![ring[(i + 1) % 3].clone()])
            .unwrap();
    }
    s.commit().await.unwrap();
    for n in &ring {
        s.delete(n).unwrap();
    }
    let before = t.statement_count();
    s.commit().await.unwrap();
    assert_eq!(t.statement_count() - before, 3);
    assert_eq!(count(&t, "SELECT count(*) FROM c_node").await, 0);
}
