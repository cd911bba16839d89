//! Full-text search.

use super::*;

async fn docs() -> TestDatabase {
    let t = test_database().await.unwrap();
    t.create_all(&[Doc::TABLE]).await.unwrap();
    let bodies = [
        "The fat cat sat on the mat",
        "A fat rat ate the cheese",
        "Rats and cats are not friends",
        "Nothing to see here",
    ];
    let docs: Vec<Doc> = bodies
        .iter()
        .zip(1..)
        .map(|(body, id)| Doc {
            id,
            body: body.to_string(),
            search: TsVector::new(),
            span: Interval::default(),
            maybe_span: None,
        })
        .collect();
    t.execute(insert_many(&docs)).await.unwrap();
    t.batch_execute("UPDATE docs SET search = to_tsvector('english', body)")
        .await
        .unwrap();
    t
}

#[tokio::test]
async fn full_text_match_and_rank() {
    let t = docs().await;
    let ids = same(
        &t,
        select::<Doc>()
            .filter(Doc::search.matches(func::to_tsquery("english", "fat & (rat | cat)")))
            .order_by(Doc::id)
            .columns(Doc::id),
        "SELECT id FROM docs WHERE search @@ to_tsquery('english', 'fat & (rat | cat)') ORDER BY id",
    )
    .await;
    assert_eq!(ids, vec![1, 2]);
    let ids = same(
        &t,
        select::<Doc>()
            .filter(
                func::to_tsvector("english", Doc::body)
                    .matches(func::websearch_to_tsquery("english", "rats -cheese")),
            )
            .order_by(Doc::id)
            .columns(Doc::id),
        "SELECT id FROM docs WHERE to_tsvector('english', body) @@ websearch_to_tsquery('english', 'rats -cheese') ORDER BY id",
    )
    .await;
    assert_eq!(ids, vec![3]);
    let ids = same(
        &t,
        select::<Doc>()
            .filter(Doc::search.matches(func::plainto_tsquery("simple", "fat cat")))
            .filter(Doc::search.matches(func::phraseto_tsquery("english", "fat cat")))
            .columns(Doc::id),
        "SELECT id FROM docs WHERE search @@ plainto_tsquery('simple', 'fat cat') \
         AND search @@ phraseto_tsquery('english', 'fat cat')",
    )
    .await;
    assert_eq!(ids, vec![1]);
    let ranked = same(
        &t,
        select::<Doc>()
            .filter(Doc::search.matches(func::to_tsquery("english", "rat | cat")))
            .order_by(func::ts_rank(Doc::search, func::to_tsquery("english", "rat | cat")).desc())
            .order_by(Doc::id)
            .columns((
                Doc::id,
                func::ts_rank(Doc::search, func::to_tsquery("english", "rat | cat")),
            )),
        "SELECT id, ts_rank(search, to_tsquery('english', 'rat | cat')) FROM docs \
         WHERE search @@ to_tsquery('english', 'rat | cat') \
         ORDER BY ts_rank(search, to_tsquery('english', 'rat | cat')) DESC, id",
    )
    .await;
    assert_eq!(ranked.len(), 3);
    assert!(ranked[0].1 >= ranked[1].1 && ranked[1].1 >= ranked[2].1 && ranked[2].1 > 0.0);
}

#[tokio::test]
async fn tsvector_and_tsquery_round_trips() {
    let t = docs().await;
    // Decoded from the server's binary format: the same lexemes as its text form.
    let rows = t
        .fetch_all(select::<Doc>().order_by(Doc::id).columns((
            Doc::search,
            func::to_tsvector("english", Doc::body),
            Doc::search.cast::<String>(),
        )))
        .await
        .unwrap();
    for (stored, computed, text) in &rows {
        assert_eq!(stored, computed);
        assert_eq!(stored.to_string(), *text);
    }
    let first = &rows[0].0;
    assert_eq!(
        first.lexemes().iter().map(|l| l.word()).collect::<Vec<_>>(),
        vec!["cat", "fat", "mat", "sat"]
    );
    assert_eq!(first.get("fat").unwrap().positions(), &[Position::from(2)]);

    // Encoded by us, stored, read back, and understood by the server.
    let mut v = TsVector::new();
    v.insert_weighted(
        "title",
        [Position::new(1, Weight::A), Position::new(7, Weight::B)],
    );
    v.insert("it's", [2, 3]);
    v.insert(r"back\slash", [4]);
    v.insert("nopos", []);
    v.insert("ünïcode", [16_383]);
    t.execute(insert(&Doc {
        id: 10,
        body: String::new(),
        search: v.clone(),
        span: Interval::default(),
        maybe_span: None,
    }))
    .await
    .unwrap();
    let (back, text, hit) = t
        .fetch_one(select::<Doc>().filter(Doc::id.eq(10)).columns((
            Doc::search,
            Doc::search.cast::<String>(),
            Doc::search.matches(func::to_tsquery("simple", "title:A & nopos")),
        )))
        .await
        .unwrap();
    assert_eq!(back, v);
    assert_eq!(text, v.to_string());
    assert!(hit);
    let (parsed,) = t
        .fetch_one(query::<(TsVector,)>(
            r"SELECT CAST($$'title':1A,7B 'it''s':2,3 'back\\slash':4 'nopos' 'ünïcode':16383$$ AS tsvector)",
        ))
        .await
        .unwrap();
    assert_eq!(parsed, v);

    // A query decodes, goes back as a parameter, and equals the server's.
    let q: TsQuery = t
        .fetch_one(select_values(func::to_tsquery(
            "english",
            "fat & (rat | !cat) <-> dogs:*",
        )))
        .await
        .unwrap();
    assert!(q.items().contains(&TsQueryItem::Operand {
        word: "dog".into(),
        weights: 0,
        prefix: true
    }));
    assert!(q.items().contains(&TsQueryItem::Phrase(1)));
    let (same_query, text, raw_text) = t
        .fetch_one(select_values((
            func::value(q.clone()).eq(func::to_tsquery("english", "fat & (rat | !cat) <-> dogs:*")),
            func::value(q.clone()).cast::<String>(),
            func::to_tsquery("english", "fat & (rat | !cat) <-> dogs:*").cast::<String>(),
        )))
        .await
        .unwrap();
    assert!(same_query);
    assert_eq!(text, raw_text);
    let empty: TsQuery = t
        .fetch_one(select_values(func::plainto_tsquery("english", "the")))
        .await
        .unwrap();
    assert!(empty.is_empty(), "a query of stop words only");
}

/// Pagila's `film.fulltext` values (made by `tsvector_update_trigger`) decode, and print as the
/// server does. Two rows are inlined; the whole column is checked when the dataset is present
/// (`../shared/datasets` or `ORM_DATASETS`).
#[tokio::test]
async fn pagila_fulltext_decodes() {
    let t = test_database().await.unwrap();
    let mut texts: Vec<String> = vec![
        "'academi':1 'battl':15 'canadian':20 'dinosaur':2 'drama':5 'epic':4 'feminist':8 'mad':11 'must':14 'rocki':21 'scientist':12 'teacher':17".into(),
        "'ace':1 'administr':9 'ancient':19 'astound':4 'car':17 'china':20 'databas':8 'epistl':5 'explor':12 'find':15 'goldfing':2 'must':14".into(),
    ];
    let dir = std::env::var("ORM_DATASETS").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/datasets").to_string()
    });
    match std::fs::read_to_string(format!("{dir}/pagila/pagila-data.sql")) {
        Ok(data) => {
            let film = data
                .split("COPY public.film (")
                .nth(1)
                .and_then(|rest| rest.split("\n\\.").next())
                .expect("the film table's COPY block");
            let before = texts.len();
            texts.extend(
                film.lines()
                    .skip(1)
                    .filter_map(|line| line.rsplit('\t').next())
                    .map(str::to_owned),
            );
            assert!(texts.len() - before >= 1000, "all films");
        }
        Err(_) => eprintln!("pagila dataset not found under {dir}: checking the inlined rows only"),
    }
    let rows = t
        .fetch_all(
            query::<(TsVector, String)>(
                "SELECT CAST(t AS tsvector), CAST(CAST(t AS tsvector) AS TEXT) \
                 FROM unnest(CAST(:texts AS TEXT[])) AS t",
            )
            .bind("texts", texts.clone()),
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), texts.len());
    for (v, text) in &rows {
        assert_eq!(v.to_string(), *text);
        assert!(!v.is_empty());
    }
    assert_eq!(
        rows[0].0.get("dinosaur").unwrap().positions(),
        &[Position::from(2)]
    );
}
