//! Column properties (`#[model(column_property = path)]`) on the variant structs of an
//! inheritance enum: the enum's rows carry every variant's properties after its columns, each
//! computed only for its own variant's rows (`CASE WHEN kind = ... THEN ... END`); a variant's
//! own query computes its properties plainly; joined tables compute them in both loading forms;
//! the session loads them, never writes them, and a refresh reloads them.

use orm_postgres::assert_queries;
use orm_postgres::meta::PolymorphicLoad;
use orm_postgres::prelude::*;

/// Single-table: a member is an author (with the number of its posts) or a reader (with the
/// length of its name).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "pv_members", discriminator = "kind")]
pub enum Member {
    #[model(value = "author")]
    Author(Author),
    #[model(value = "reader")]
    Reader(Reader),
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(inherits = Member)]
pub struct Author {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    #[model(column_property = Author::post_count_expr)]
    pub post_count: i64,
}

impl Author {
    /// `coalesce((SELECT count(*) FROM pv_posts WHERE author_id = pv_members.id), 0)`.
    pub fn post_count_expr() -> Expr<i64> {
        func::coalesce(
            select::<Post>()
                .filter(Post::author_id.eq(Author::id))
                .columns(func::count_all())
                .scalar(),
            0_i64,
        )
    }
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(inherits = Member)]
pub struct Reader {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    #[model(column_property = Reader::name_length_expr)]
    pub name_length: i32,
}

impl Reader {
    /// `length(pv_members.name)`.
    pub fn name_length_expr() -> Expr<i32> {
        func::length(Reader::name).cast::<i32>()
    }
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "pv_posts")]
pub struct Post {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "pv_members.id")]
    pub author_id: i64,
    pub title: String,
}

fn author(name: &str) -> Member {
    Member::from(Author {
        name: name.into(),
        ..Author::default()
    })
}

fn reader(name: &str) -> Member {
    Member::from(Reader {
        name: name.into(),
        ..Reader::default()
    })
}

/// (name, post_count or name_length) of each member.
fn summary(all: &[Member]) -> Vec<(String, i64)> {
    all.iter()
        .map(|m| match m {
            Member::Author(a) => (a.name.clone(), a.post_count),
            Member::Reader(r) => (r.name.clone(), i64::from(r.name_length)),
        })
        .collect()
}

#[orm_postgres::test(tables(Member, Post))]
async fn each_variant_computes_its_own_properties(db: Database) {
    let members = db
        .fetch_all(insert_many(&[author("ann"), reader("bobby"), author("cy")]))
        .await
        .unwrap();
    // The enum's insert reads the properties back too.
    assert_eq!(
        summary(&members),
        [("ann".into(), 0), ("bobby".into(), 5), ("cy".into(), 0)]
    );
    let ann = match &members[0] {
        Member::Author(a) => a.id,
        other => panic!("{other:?}"),
    };
    for title in ["one", "two"] {
        db.execute(insert(&Post {
            author_id: ann,
            title: title.into(),
            ..Post::default()
        }))
        .await
        .unwrap();
    }

    let q = select::<Member>().order_by(Author::id);
    assert_eq!(
        q.compile().unwrap().sql,
        r#"SELECT "pv_members"."id", "pv_members"."name", "pv_members"."kind", CASE WHEN "pv_members"."kind" = $1 THEN coalesce((SELECT count(*) FROM "pv_posts" WHERE "pv_posts"."author_id" = "pv_members"."id"), $2) END, CASE WHEN "pv_members"."kind" = $3 THEN CAST(length("pv_members"."name") AS INTEGER) END FROM "pv_members" ORDER BY "pv_members"."id""#
    );
    let all = db.fetch_all(q).await.unwrap();
    assert_eq!(
        summary(&all),
        [("ann".into(), 2), ("bobby".into(), 5), ("cy".into(), 0)]
    );
    // Filtered by a variant's column.
    let some = db
        .fetch_all(select::<Member>().filter(Reader::name.eq("bobby")))
        .await
        .unwrap();
    assert_eq!(summary(&some), [("bobby".into(), 5)]);

    // A variant's own query: its properties, plainly.
    let authors = db
        .fetch_all(select::<Author>().order_by(Author::id))
        .await
        .unwrap();
    let counts: Vec<i64> = authors.iter().map(|a| a.post_count).collect();
    assert_eq!(counts, [2, 0]);

    // The session: loaded, never written, reloaded by a refresh.
    let mut s = db.session();
    let a = s.get::<Member>(ann).await.unwrap().unwrap();
    match &mut *a.write() {
        Member::Author(author) => {
            assert_eq!(author.post_count, 2);
            author.post_count = 99;
        }
        other => panic!("{other:?}"),
    }
    let log = db.statement_log();
    s.flush().await.unwrap();
    assert!(log.finish().is_empty(), "a property is not a change");
    s.add(Post {
        author_id: ann,
        title: "three".into(),
        ..Post::default()
    });
    s.flush().await.unwrap();
    s.refresh(&a).await.unwrap();
    assert!(matches!(&*a.read(), Member::Author(author) if author.post_count == 3));
    s.commit().await.unwrap();
}

/// Joined-table: a shop is a cafe (seats in `pv_cafes`, and twice that as a property reading
/// its own table) or a store (its name in capitals).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "pv_shops", discriminator = "kind")]
pub enum Shop {
    #[model(value = "cafe")]
    Cafe(Cafe),
    #[model(value = "store")]
    Store(Store),
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(inherits = Shop, table = "pv_cafes")]
pub struct Cafe {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(shared)]
    pub name: String,
    pub seats: i32,
    #[model(column_property = Cafe::double_seats_expr)]
    pub double_seats: i32,
}

impl Cafe {
    pub fn double_seats_expr() -> Expr<i32> {
        Cafe::seats.mul(2)
    }
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(inherits = Shop, table = "pv_stores")]
pub struct Store {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(shared)]
    pub name: String,
    pub aisles: i16,
    #[model(column_property = Store::shout_expr)]
    pub shout: String,
}

impl Store {
    pub fn shout_expr() -> Expr<String> {
        func::upper(Store::name)
    }
}

fn shops(all: &[Shop]) -> Vec<(String, String)> {
    all.iter()
        .map(|s| match s {
            Shop::Cafe(c) => (c.name.clone(), c.double_seats.to_string()),
            Shop::Store(s) => (s.name.clone(), s.shout.clone()),
        })
        .collect()
}

#[orm_postgres::test(tables(Shop))]
async fn a_joined_table_enum_computes_them_in_both_loading_forms(db: Database) {
    let mut s = db.session();
    s.add(Shop::from(Cafe {
        name: "bean".into(),
        seats: 12,
        ..Cafe::default()
    }));
    s.add(Shop::from(Store {
        name: "corner".into(),
        aisles: 3,
        ..Store::default()
    }));
    s.commit().await.unwrap();
    let expected = [
        ("bean".to_owned(), "24".to_owned()),
        ("corner".to_owned(), "CORNER".to_owned()),
    ];

    // The joined form: every subtype table is joined, so each CASE reads its own.
    let joined = assert_queries!(
        db,
        [
            r#"SELECT "pv_shops"."id", "pv_shops"."name", "pv_cafes"."seats", "pv_shops"."kind", "pv_stores"."aisles", CASE WHEN "pv_shops"."kind" = $1 THEN "pv_cafes"."seats" * $2 END, CASE WHEN "pv_shops"."kind" = $3 THEN upper("pv_shops"."name") END FROM "pv_shops" LEFT JOIN "pv_cafes" ON "pv_cafes"."id" = "pv_shops"."id" LEFT JOIN "pv_stores" ON "pv_stores"."id" = "pv_shops"."id" ORDER BY "pv_shops"."id""#
        ],
        async { db.fetch_all(select::<Shop>().order_by(Cafe::id)).await }
    )
    .unwrap();
    assert_eq!(shops(&joined), expected);

    // The selectin form: each variant's query computes its own and reads `NULL` for the
    // other's (whose table it does not join).
    let selectin = assert_queries!(
        db,
        [
            r#"SELECT "pv_shops"."id", "pv_shops"."kind" FROM "pv_shops" ORDER BY "pv_shops"."id""#,
            r#"SELECT "pv_shops"."id", "pv_shops"."name", "pv_cafes"."seats", "pv_shops"."kind", NULL, CASE WHEN "pv_shops"."kind" = $1 THEN "pv_cafes"."seats" * $2 END, NULL FROM "pv_shops" JOIN "pv_cafes" ON "pv_cafes"."id" = "pv_shops"."id" WHERE "pv_shops"."id" = ANY($3)"#,
            r#"SELECT "pv_shops"."id", "pv_shops"."name", NULL, "pv_shops"."kind", "pv_stores"."aisles", NULL, CASE WHEN "pv_shops"."kind" = $1 THEN upper("pv_shops"."name") END FROM "pv_shops" JOIN "pv_stores" ON "pv_stores"."id" = "pv_shops"."id" WHERE "pv_shops"."id" = ANY($2)"#
        ],
        async {
            db.fetch_all(
                select::<Shop>()
                    .polymorphic(PolymorphicLoad::SelectIn)
                    .order_by(Cafe::id),
            )
            .await
        }
    )
    .unwrap();
    assert_eq!(shops(&selectin), expected);

    // A variant's own query.
    let cafes = db.fetch_all(select::<Cafe>()).await.unwrap();
    assert_eq!(cafes.len(), 1);
    assert_eq!(cafes[0].double_seats, 24);

    // The session: a change to the column the property reads, then a refresh.
    let mut s = db.session();
    let cafe = s
        .one(select::<Shop>().filter(Cafe::seats.eq(12)))
        .await
        .unwrap();
    match &mut *cafe.write() {
        Shop::Cafe(c) => c.seats = 20,
        other => panic!("{other:?}"),
    }
    s.flush().await.unwrap();
    s.refresh(&cafe).await.unwrap();
    assert!(matches!(&*cafe.read(), Shop::Cafe(c) if c.double_seats == 40));
    s.commit().await.unwrap();

    // `merge` of a detached store: the row is loaded with every table and property.
    let detached = match &joined[1] {
        Shop::Store(st) => Shop::from(Store {
            aisles: 4,
            ..st.clone()
        }),
        other => panic!("{other:?}"),
    };
    let mut s = db.session();
    let merged = s.merge(detached).await.unwrap();
    s.commit().await.unwrap();
    assert!(matches!(&*merged.read(), Shop::Store(st) if st.aisles == 4 && st.shout == "CORNER"));
    let aisles = db
        .fetch_one(orm_postgres::raw::query::<i16>(
            "SELECT aisles FROM pv_stores",
        ))
        .await
        .unwrap();
    assert_eq!(aisles, 4);
}
