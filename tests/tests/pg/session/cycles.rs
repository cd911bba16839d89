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
