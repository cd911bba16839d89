//! JSONB and arrays.

use super::*;

async fn items() -> TestDatabase {
    let t = test_database().await.unwrap();
    t.create_all(&[Item::TABLE]).await.unwrap();
    let item = |id, doc, tags: &[&str], nums: Vec<i32>, maybe_nums| Item {
        id,
        doc,
        tags: tags.iter().map(|s| s.to_string()).collect(),
        nums,
        maybe_nums,
    };
    t.execute(insert_many(&[
        item(
            1,
            serde_json::json!({"kind": "book", "n": 1, "list": [10, 20, 30], "meta": {"lang": "en"}}),
            &["a", "b"],
            vec![1, 2, 3],
            Some(vec![]),
        ),
        item(
            2,
            serde_json::json!({"kind": "film", "n": 2, "list": ["x"], "meta": {"lang": "fr", "year": 1999}}),
            &["b", "c"],
            vec![3, 4],
            None,
        ),
        item(3, serde_json::json!(["kind", "other"]), &[], vec![], Some(vec![7])),
    ]))
    .await
    .unwrap();
    t
}

#[tokio::test]
async fn jsonb_operators() {
    let t = items().await;
    let rows = same(
        &t,
        select::<Item>().order_by(Item::id).columns((
            Item::doc.get("kind"),
            Item::doc.get("list").get_index(1),
            Item::doc.get_index(0),
            Item::doc.get_text("kind"),
            Item::doc.path(["meta", "lang"]),
            Item::doc.path_text(["list", "0"]),
            Item::doc.get("meta").get_text("year"),
            Item::doc.has_key("kind"),
            Item::doc.contains_json(serde_json::json!({"meta": {"lang": "en"}})),
            Item::doc.contained_in_json(serde_json::json!({"kind": "film", "n": 2, "list": ["x"], "meta": {"lang": "fr", "year": 1999}, "extra": true})),
        )),
        "SELECT doc -> 'kind', (doc -> 'list') -> 1, doc -> 0, doc ->> 'kind', doc #> '{meta,lang}', \
         doc #>> '{list,0}', (doc -> 'meta') ->> 'year', doc ? 'kind', \
         doc @> '{\"meta\": {\"lang\": \"en\"}}', \
         doc <@ '{\"kind\": \"film\", \"n\": 2, \"list\": [\"x\"], \"meta\": {\"lang\": \"fr\", \"year\": 1999}, \"extra\": true}' \
         FROM items ORDER BY id",
    )
    .await;
    assert_eq!(rows[0].0, Some(serde_json::json!("book")));
    assert_eq!(rows[0].1, Some(serde_json::json!(20)));
    assert_eq!(rows[0].2, None, "an object has no index 0");
    assert_eq!(rows[2].2, Some(serde_json::json!("kind")));
    assert_eq!(rows[0].3.as_deref(), Some("book"));
    assert_eq!(rows[1].4, Some(serde_json::json!("fr")));
    assert_eq!(rows[0].5.as_deref(), Some("10"));
    assert_eq!(rows[1].6.as_deref(), Some("1999"));
    assert_eq!(
        rows.iter().map(|r| (r.7, r.8, r.9)).collect::<Vec<_>>(),
        vec![
            (true, true, false),
            (true, false, true),
            (true, false, false)
        ],
        "`?` also finds a string element of an array"
    );
    let ids = same(
        &t,
        select::<Item>()
            .filter(
                Item::doc.get_text("kind").eq("film")
                    | Item::doc.contains_json(serde_json::json!({"n": 1})),
            )
            .order_by(Item::id)
            .columns(Item::id),
        "SELECT id FROM items WHERE doc ->> 'kind' = 'film' OR doc @> '{\"n\": 1}' ORDER BY id",
    )
    .await;
    assert_eq!(ids, vec![1, 2]);
}

#[tokio::test]
async fn array_operators_and_functions() {
    let t = items().await;
    let rows = same(
        &t,
        select::<Item>().order_by(Item::id).columns((
            Item::tags.contains_all(vec!["b".to_string()]),
            Item::nums.contained_by(vec![1, 2, 3, 4]),
            Item::nums.overlaps(vec![4, 5]),
            Item::tags.has_element("a"),
            Item::nums.has_element(Item::id),
            Item::maybe_nums.has_element(7).nullable(),
            func::array_length(Item::nums, 1),
            func::cardinality(Item::nums),
            func::cardinality(Item::maybe_nums),
            func::array_length(Item::maybe_nums, 1),
        )),
        "SELECT tags @> ARRAY['b'], nums <@ ARRAY[1, 2, 3, 4], nums && ARRAY[4, 5], 'a' = ANY(tags), \
         id = ANY(nums), 7 = ANY(maybe_nums), array_length(nums, 1), cardinality(nums), \
         cardinality(maybe_nums), array_length(maybe_nums, 1) FROM items ORDER BY id",
    )
    .await;
    assert_eq!(
        rows[0],
        (
            true,
            true,
            false,
            true,
            true,
            Some(false),
            Some(3),
            3,
            Some(0),
            None
        )
    );
    assert_eq!(rows[1].5, None, "NULL array");
    assert_eq!(rows[2].6, None, "array_length of an empty array is NULL");
    assert_eq!(rows[2].7, 0);
    assert_eq!(rows[2].5, Some(true));
}
