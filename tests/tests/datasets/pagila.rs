//! Pagila (a DVD rental store): every query written with the builder and by hand in SQL.
//!
//! Over 800 lines on purpose: it is one catalogue of independent checks, each a query written
//! twice (builder and hand SQL) in a function of its own, run from the list in `pagila_queries`.
//! Reading a check never needs another; splitting the catalogue would only separate the list
//! from what it runs.

use std::io::Cursor;
use std::path::Path;
use std::str::FromStr;
use std::time::Instant;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;

use futures_util::SinkExt;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_tests::pagila::*;

use crate::{
    Outcome, Report, dataset_files, ensure, fresh_database, run_queries, same_rows,
    same_rows_or_none, say,
};

orm_postgres::alias!(
    /// A film's original language (`language AS "OriginalLanguage"`).
    OriginalLanguage = Language
);
orm_postgres::alias!(
    /// A second copy of `actor`.
    OtherActor = Actor
);
orm_postgres::alias!(
    /// A staff member in the role of a store's manager.
    ManagerStaff = Staff
);

/// The columns of `film` as the model reads them, for hand-written SQL (a macro, to splice
/// into literals with `concat!`).
macro_rules! film_columns {
    () => {
        "film_id, title, description, release_year, language_id, original_language_id, \
         rental_duration, rental_rate, length, replacement_cost, rating, last_update, \
         special_features, fulltext"
    };
}

#[tokio::test]
async fn pagila_queries() {
    let Some(files) = dataset_files(
        "pagila",
        &["pagila/pagila-schema.sql", "pagila/pagila-data.sql"],
    ) else {
        return;
    };
    let t = fresh_database().await;
    let start = Instant::now();
    load(&t, &files[0], &files[1]).await;
    say(&format!("pagila: loaded in {:.2?}", start.elapsed()));

    let db = &t.db;
    let mut report = Report::new("pagila");
    run_queries!(report, db;
        all_films_decode,
        all_staff_decode,
        languages_are_blank_padded,
        films_of_an_actor_with_categories,
        films_never_rented,
        films_not_in_inventory,
        customers_with_their_country,
        films_with_both_languages,
        join_fk_refuses_two_foreign_keys,
        long_films_by_rating,
        films_of_family_ratings,
        films_by_release_year,
        payments_of_a_week,
        keyset_pagination_over_payments,
        customers_by_name_pattern,
        rental_details_on_foreign_keys,
        actors_sharing_a_last_name,
        first_rental_of_each_customer,
        last_three_rentals_per_customer,
        films_in_stock_at_store_one,
        comedy_or_family_films,
        rated_r_action_films,
        documentaries_nobody_stocks,
        rentals_still_out,
        rentals_with_film_and_store,
        latest_rental_per_customer,
        canadian_customers_cte,
        store_managers,
        count_of_open_rentals,
        count_of_june_renters,
        inventory_locked_skip_locked,
        payments_per_month,
        overdue_rentals,
        full_text_search,
        full_text_search_ranked,
        full_text_search_plain_and_web,
        films_with_trailers,
        films_with_trailers_and_commentaries,
        special_feature_count_distribution,
        running_payment_total_per_customer,
        revenue_per_category,
        top_actors_by_film_count,
        customers_per_country_having,
        store_inventory_counts,
        rating_distribution,
        average_rental_duration_per_category,
        staff_revenue,
        top_renters_per_store,
        frequent_payers_having,
        films_above_average_rental_rate,
        time_between_rentals_lag_lead,
        audience_of_each_film_simple_case,
        cast_of_each_film_array_agg,
        rentals_per_store_with_filter,
        customer_lifetime_value_coalesce,
        rentals_by_weekday,
        category_share_of_revenue,
        customer_spending_quartiles,
    );
    crate::rel_pagila::run(&mut report, db).await;
    report.finish();
}

/// Loads the schema and the data into the test's database, on a connection of its own: the
/// dump's `SET` lines (an empty `search_path` among them) must not stay on a pooled
/// connection, and its data comes as `COPY ... FROM stdin` blocks, sent with `COPY` here.
/// `ALTER ... OWNER TO postgres` lines are left out, so the load works as any user that may
/// create objects in the database.
async fn load(t: &orm_testing::TestDatabase, schema: &Path, data: &Path) {
    let read = |p: &Path| {
        std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
    };
    let mut config = tokio_postgres::Config::from_str(t.admin_url())
        .unwrap_or_else(|e| panic!("parsing the admin URL: {e}"));
    config.dbname(t.name());
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connecting to load pagila: {e}"));
    let driver = tokio::spawn(connection);

    let schema_sql: String = read(schema)
        .lines()
        .filter(|l| !l.contains(" OWNER TO "))
        .flat_map(|l| [l, "\n"])
        .collect();
    client
        .batch_execute(&schema_sql)
        .await
        .unwrap_or_else(|e| panic!("loading {}: {e:?}", schema.display()));

    let data_sql = read(data);
    let mut lines = data_sql.lines();
    let mut statements = String::new();
    while let Some(line) = lines.next() {
        if line.starts_with("COPY ") && line.ends_with("FROM stdin;") {
            client
                .batch_execute(&statements)
                .await
                .unwrap_or_else(|e| panic!("loading {}: {e:?}", data.display()));
            statements.clear();
            let mut rows = String::new();
            for row in lines.by_ref() {
                if row == "\\." {
                    break;
                }
                rows.push_str(row);
                rows.push('\n');
            }
            let copy = async {
                let sink = client.copy_in(line.trim_end_matches(';')).await?;
                futures_util::pin_mut!(sink);
                sink.send(Cursor::new(rows.into_bytes())).await?;
                sink.finish().await
            };
            copy.await
                .unwrap_or_else(|e| panic!("{line} from {}: {e:?}", data.display()));
        } else {
            statements.push_str(line);
            statements.push('\n');
        }
    }
    client
        .batch_execute(&statements)
        .await
        .unwrap_or_else(|e| panic!("loading {}: {e:?}", data.display()));
    client
        .batch_execute("ANALYZE")
        .await
        .unwrap_or_else(|e| panic!("ANALYZE: {e:?}"));
    drop(client);
    let _ = driver.await;
    // The types (the `mpaa_rating` enum, the `year` domain) came from another client: in the
    // unnamed statement mode, the pool's connections must load them anew.
    t.db.types_changed();
}

/// Every film as a whole model: the `year` domain, the `mpaa_rating` enum, `text[]`,
/// `numeric` and `smallint` columns decode.
async fn all_films_decode(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Film>().order_by(Film::film_id),
        query(concat!(
            "SELECT ",
            film_columns!(),
            " FROM film ORDER BY film_id"
        )),
    )
    .await?;
    ensure(rows.len() == 1000, || {
        format!("expected 1000 films, got {}", rows.len())
    })
}

fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("valid timestamp")
}

/// Every staff member as a whole model (`bytea` picture, boolean, nullable text).
async fn all_staff_decode(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Staff>().order_by(Staff::staff_id),
        query(
            "SELECT staff_id, first_name, last_name, address_id, email, store_id, active, \
             username, password, last_update, picture FROM staff ORDER BY staff_id",
        ),
    )
    .await?;
    ensure(rows.len() == 1500, || {
        format!("expected 1500 staff, got {}", rows.len())
    })
}

/// `character(20)` decodes into `String`, blank-padded.
async fn languages_are_blank_padded(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Language>().order_by(Language::language_id),
        query("SELECT language_id, name, last_update FROM language ORDER BY language_id"),
    )
    .await?;
    ensure(
        rows.len() == 6 && rows[0].name == format!("{:<20}", "English"),
        || format!("unexpected languages: {rows:?}"),
    )
}

/// An actor's films with their categories: actor -> film_actor -> film -> film_category ->
/// category, each joined on its declared foreign key.
async fn films_of_an_actor_with_categories(db: &Database) -> Outcome {
    same_rows(
        db,
        select::<Actor>()
            .join_fk::<FilmActor>()
            .join_fk::<Film>()
            .join_fk::<FilmCategory>()
            .join_fk::<Category>()
            .filter(Actor::first_name.eq("PENELOPE") & Actor::last_name.eq("GUINESS"))
            .columns((Film::title, Category::name, Film::rating))
            .order_by(Film::title)
            .order_by(Category::name),
        query(
            "SELECT f.title, c.name, f.rating FROM actor a \
             JOIN film_actor fa ON fa.actor_id = a.actor_id \
             JOIN film f ON fa.film_id = f.film_id \
             JOIN film_category fc ON fc.film_id = f.film_id \
             JOIN category c ON fc.category_id = c.category_id \
             WHERE a.first_name = 'PENELOPE' AND a.last_name = 'GUINESS' \
             ORDER BY f.title, c.name",
        ),
    )
    .await
    .map(drop)
}

/// Films no copy of which was ever rented: `NOT EXISTS` over a join.
async fn films_never_rented(db: &Database) -> Outcome {
    same_rows(
        db,
        select::<Film>()
            .filter(!exists(
                select::<Inventory>()
                    .join_fk::<Rental>()
                    .filter(Inventory::film_id.eq(Film::film_id)),
            ))
            .order_by(Film::film_id),
        query(concat!(
            "SELECT ",
            film_columns!(),
            " FROM film f WHERE NOT EXISTS ( \
               SELECT 1 FROM inventory i JOIN rental r ON r.inventory_id = i.inventory_id \
               WHERE i.film_id = f.film_id) ORDER BY film_id"
        )),
    )
    .await
    .map(drop)
}

/// Films with no copy in any store: `NOT IN (subquery)`.
async fn films_not_in_inventory(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Film>()
            .filter(Film::film_id.not_in_query(select::<Inventory>().columns(Inventory::film_id)))
            .columns((Film::film_id, Film::title))
            .order_by(Film::title),
        query(
            "SELECT film_id, title FROM film \
             WHERE film_id NOT IN (SELECT film_id FROM inventory) ORDER BY title",
        ),
    )
    .await?;
    ensure(rows.len() == 42, || {
        format!("expected 42 films, got {}", rows.len())
    })
}

/// Customers with city and country, through address and city on foreign keys.
async fn customers_with_their_country(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Customer>()
            .join_fk::<Address>()
            .join_fk::<City>()
            .join_fk::<Country>()
            .columns((
                Country::country,
                City::city,
                Customer::last_name,
                Customer::first_name,
                Address::postal_code,
            ))
            .order_by(Country::country)
            .order_by(City::city)
            .order_by(Customer::customer_id),
        query(
            "SELECT co.country, ci.city, cu.last_name, cu.first_name, a.postal_code \
             FROM customer cu JOIN address a ON cu.address_id = a.address_id \
             JOIN city ci ON a.city_id = ci.city_id \
             JOIN country co ON ci.country_id = co.country_id \
             ORDER BY co.country, ci.city, cu.customer_id",
        ),
    )
    .await?;
    ensure(rows.len() == 599, || {
        format!("expected 599 customers, got {}", rows.len())
    })
}

/// A film's language and original language: the same table joined twice, once through an
/// alias (and outer: the original language is optional).
async fn films_with_both_languages(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Film>()
            .join::<Language>(Language::language_id.eq(Film::language_id))
            .left_join::<OriginalLanguage>(
                OriginalLanguage::col(Language::language_id).eq(Film::original_language_id),
            )
            .filter(Film::title.starts_with("B"))
            .columns((
                Film::title,
                Language::name,
                OriginalLanguage::col(Language::name),
            ))
            .order_by(Film::title),
        query(
            "SELECT f.title, l.name, o.name FROM film f \
             JOIN language l ON l.language_id = f.language_id \
             LEFT JOIN language o ON o.language_id = f.original_language_id \
             WHERE f.title LIKE 'B%' ORDER BY f.title",
        ),
    )
    .await?;
    ensure(rows.iter().all(|r| r.2.is_none()), || {
        "no film of the dataset has an original language".into()
    })
}

/// `join_fk` between film and language is ambiguous (two foreign keys): an error naming the
/// problem, not a guess.
async fn join_fk_refuses_two_foreign_keys(db: &Database) -> Outcome {
    match db
        .fetch_all(select::<Film>().join_fk::<Language>().columns(Film::title))
        .await
    {
        Ok(_) => Err("join_fk picked one of two foreign keys".into()),
        Err(e) => ensure(e.to_string().contains("2 foreign keys"), || {
            format!("unexpected error: {e}")
        }),
    }
}

/// Long films of one rating: comparing an enum column with a variant.
async fn long_films_by_rating(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Film>()
            .filter(Film::rating.eq(MpaaRating::Pg13))
            .filter(Film::length.gt(170_i16))
            .columns((Film::title, Film::length, Film::rating))
            .order_by(Film::length.desc())
            .order_by(Film::title),
        query(
            "SELECT title, length, rating FROM film \
             WHERE rating = 'PG-13' AND length > 170 ORDER BY length DESC, title",
        ),
    )
    .await?;
    ensure(rows.iter().all(|r| r.2 == Some(MpaaRating::Pg13)), || {
        "a film of another rating came back".into()
    })
}

/// Films of several ratings: `= ANY($1)` with an array of enum values, ordered by the enum's
/// declaration order.
async fn films_of_family_ratings(db: &Database) -> Outcome {
    same_rows(
        db,
        select::<Film>()
            .filter(Film::rating.is_in([MpaaRating::G, MpaaRating::Pg]))
            .filter(Film::replacement_cost.ge(Decimal::new(2899, 2)))
            .columns((Film::rating, Film::title, Film::replacement_cost))
            .order_by(Film::rating.desc())
            .order_by(Film::title),
        query(
            "SELECT rating, title, replacement_cost FROM film \
             WHERE rating IN ('G', 'PG') AND replacement_cost >= 28.99 \
             ORDER BY rating DESC, title",
        ),
    )
    .await
    .map(drop)
}

/// Films released in a range of years: comparisons on the `year` domain.
async fn films_by_release_year(db: &Database) -> Outcome {
    same_rows(
        db,
        select::<Film>()
            .filter(Film::release_year.between(2010, 2011))
            .filter(Film::title.starts_with("S"))
            .columns((Film::release_year, Film::title))
            .order_by(Film::release_year)
            .order_by(Film::title),
        query(
            "SELECT release_year, title FROM film \
             WHERE release_year BETWEEN 2010 AND 2011 AND title LIKE 'S%' \
             ORDER BY release_year, title",
        ),
    )
    .await
    .map(drop)
}

/// Payments of one week, read from the partitioned parent across two partitions.
async fn payments_of_a_week(db: &Database) -> Outcome {
    let (from, to) = (utc(2022, 1, 28, 0), utc(2022, 2, 4, 0));
    let rows = same_rows(
        db,
        select::<Payment>()
            .filter(Payment::payment_date.ge(from))
            .filter(Payment::payment_date.lt(to))
            .order_by(Payment::payment_date)
            .order_by(Payment::payment_id),
        query(
            "SELECT payment_id, customer_id, staff_id, rental_id, amount, payment_date \
             FROM payment WHERE payment_date >= :from AND payment_date < :to \
             ORDER BY payment_date, payment_id",
        )
        .bind("from", from)
        .bind("to", to),
    )
    .await?;
    ensure(
        rows.iter().any(|p| p.payment_date < utc(2022, 2, 1, 0))
            && rows.iter().any(|p| p.payment_date >= utc(2022, 2, 1, 0)),
        || "expected payments from both partitions".into(),
    )
}

/// Walks the payments of one customer range by (payment_date, payment_id) with keyset
/// pagination.
async fn keyset_pagination_over_payments(db: &Database) -> Outcome {
    const PAGE: i64 = 700;
    let base = || {
        select::<Payment>()
            .filter(Payment::customer_id.le(150))
            .columns((Payment::payment_id, Payment::payment_date, Payment::amount))
    };
    let mut walked = Vec::new();
    let mut cursor: Option<(DateTime<Utc>, i32)> = None;
    loop {
        let page = match cursor {
            None => {
                same_rows(
                    db,
                    base()
                        .order_by(Payment::payment_date)
                        .order_by(Payment::payment_id)
                        .limit(PAGE),
                    query(
                        "SELECT payment_id, payment_date, amount FROM payment \
                         WHERE customer_id <= 150 ORDER BY payment_date, payment_id LIMIT :n",
                    )
                    .bind("n", PAGE),
                )
                .await?
            }
            Some((date, id)) => {
                same_rows_or_none(
                    db,
                    base()
                        .after((Payment::payment_date, Payment::payment_id), (date, id))
                        .limit(PAGE),
                    query(
                        "SELECT payment_id, payment_date, amount FROM payment \
                         WHERE customer_id <= 150 AND (payment_date, payment_id) > (:d, :id) \
                         ORDER BY payment_date, payment_id LIMIT :n",
                    )
                    .bind("d", date)
                    .bind("id", id)
                    .bind("n", PAGE),
                )
                .await?
            }
        };
        let Some(last) = page.last() else { break };
        cursor = Some((last.1, last.0));
        let full = page.len() as i64 == PAGE;
        walked.extend(page);
        if !full {
            break;
        }
    }
    let all: Vec<(i32, DateTime<Utc>, Decimal)> = db
        .fetch_all(query::<(i32, DateTime<Utc>, Decimal)>(
            "SELECT payment_id, payment_date, amount FROM payment \
             WHERE customer_id <= 150 ORDER BY payment_date, payment_id",
        ))
        .await
        .map_err(|e| e.to_string())?;
    ensure(walked == all && all.len() > 3 * PAGE as usize, || {
        format!(
            "the walk returned {} rows, one query {}",
            walked.len(),
            all.len()
        )
    })
}

/// Name searches: `starts_with` (escaped `LIKE`) or `ILIKE`.
async fn customers_by_name_pattern(db: &Database) -> Outcome {
    same_rows(
        db,
        select::<Customer>()
            .filter(
                Customer::last_name
                    .starts_with("MC")
                    .or(Customer::email.ilike("%son@%")),
            )
            .columns((Customer::customer_id, Customer::last_name, Customer::email))
            .order_by(Customer::last_name)
            .order_by(Customer::customer_id),
        query(
            "SELECT customer_id, last_name, email FROM customer \
             WHERE last_name LIKE 'MC%' OR email ILIKE '%son@%' \
             ORDER BY last_name, customer_id",
        ),
    )
    .await
    .map(drop)
}

/// One day's rentals with film, customer and staff: a chain of `join_fk`.
async fn rental_details_on_foreign_keys(db: &Database) -> Outcome {
    let (from, to) = (utc(2022, 6, 15, 0), utc(2022, 6, 16, 0));
    same_rows(
        db,
        select::<Rental>()
            .join_fk::<Inventory>()
            .join_fk::<Film>()
            .join_fk::<Customer>()
            .join_fk::<Staff>()
            .filter(Rental::rental_date.ge(from).and(Rental::rental_date.lt(to)))
            .columns((
                Rental::rental_id,
                Rental::rental_date,
                Film::title,
                Customer::last_name,
                Staff::username,
                Rental::return_date,
            ))
            .order_by(Rental::rental_date)
            .order_by(Rental::rental_id),
        query(
            "SELECT r.rental_id, r.rental_date, f.title, c.last_name, s.username, r.return_date \
             FROM rental r JOIN inventory i ON r.inventory_id = i.inventory_id \
             JOIN film f ON i.film_id = f.film_id \
             JOIN customer c ON r.customer_id = c.customer_id \
             JOIN staff s ON r.staff_id = s.staff_id \
             WHERE r.rental_date >= :from AND r.rental_date < :to \
             ORDER BY r.rental_date, r.rental_id",
        )
        .bind("from", from)
        .bind("to", to),
    )
    .await
    .map(drop)
}

/// Pairs of actors with the same last name: a self-join through an alias.
async fn actors_sharing_a_last_name(db: &Database) -> Outcome {
    same_rows(
        db,
        select::<Actor>()
            .join::<OtherActor>(
                OtherActor::col(Actor::last_name)
                    .eq(Actor::last_name)
                    .and(OtherActor::col(Actor::actor_id).gt(Actor::actor_id)),
            )
            .columns((
                Actor::last_name,
                Actor::first_name,
                OtherActor::col(Actor::first_name),
            ))
            .order_by(Actor::last_name)
            .order_by(Actor::actor_id)
            .order_by(OtherActor::col(Actor::actor_id)),
        query(
            "SELECT a.last_name, a.first_name, b.first_name FROM actor a \
             JOIN actor b ON b.last_name = a.last_name AND b.actor_id > a.actor_id \
             ORDER BY a.last_name, a.actor_id, b.actor_id",
        ),
    )
    .await
    .map(drop)
}

/// Each customer's first rental: `DISTINCT ON (customer_id)`.
async fn first_rental_of_each_customer(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Rental>()
            .distinct_on(Rental::customer_id)
            .columns((Rental::customer_id, Rental::rental_id, Rental::rental_date))
            .order_by(Rental::customer_id)
            .order_by(Rental::rental_date)
            .order_by(Rental::rental_id),
        query(
            "SELECT DISTINCT ON (customer_id) customer_id, rental_id, rental_date FROM rental \
             ORDER BY customer_id, rental_date, rental_id",
        ),
    )
    .await?;
    ensure(rows.len() == 599, || {
        format!("expected 599 customers, got {}", rows.len())
    })
}

/// The last three rentals of the first ten customers: `CROSS JOIN LATERAL`.
async fn last_three_rentals_per_customer(db: &Database) -> Outcome {
    let (last3, (rental_id, rental_date)) = select::<Rental>()
        .filter(Rental::customer_id.eq(Customer::customer_id))
        .columns((Rental::rental_id, Rental::rental_date))
        .order_by(Rental::rental_date.desc())
        .order_by(Rental::rental_id.desc())
        .limit(3)
        .subquery("last3");
    let rows = same_rows(
        db,
        select::<Customer>()
            .join_lateral(&last3)
            .filter(Customer::customer_id.le(10))
            .columns((Customer::customer_id, rental_id, rental_date))
            .order_by(Customer::customer_id)
            .order_by(rental_date.desc())
            .order_by(rental_id.desc()),
        query(
            "SELECT c.customer_id, l.rental_id, l.rental_date FROM customer c \
             CROSS JOIN LATERAL (SELECT r.rental_id, r.rental_date FROM rental r \
               WHERE r.customer_id = c.customer_id \
               ORDER BY r.rental_date DESC, r.rental_id DESC LIMIT 3) l \
             WHERE c.customer_id <= 10 \
             ORDER BY c.customer_id, l.rental_date DESC, l.rental_id DESC",
        ),
    )
    .await?;
    ensure(rows.len() == 30, || {
        format!("expected 30 rentals, got {}", rows.len())
    })
}

/// Films stocked by store 1: `IN (subquery)`.
async fn films_in_stock_at_store_one(db: &Database) -> Outcome {
    same_rows(
        db,
        select::<Film>()
            .filter(
                Film::film_id.in_query(
                    select::<Inventory>()
                        .filter(Inventory::store_id.eq(1))
                        .columns(Inventory::film_id),
                ),
            )
            .columns((Film::film_id, Film::title))
            .order_by(Film::film_id),
        query(
            "SELECT film_id, title FROM film \
             WHERE film_id IN (SELECT film_id FROM inventory WHERE store_id = 1) \
             ORDER BY film_id",
        ),
    )
    .await
    .map(drop)
}

/// The films of one category, by name.
fn films_in_category(name: &'static str) -> Select<(i32, String), impl Sized> {
    select::<Film>()
        .join_fk::<FilmCategory>()
        .join_fk::<Category>()
        .filter(Category::name.eq(name))
        .columns((Film::film_id, Film::title))
}

/// Comedies and family films: `UNION`.
async fn comedy_or_family_films(db: &Database) -> Outcome {
    same_rows(
        db,
        films_in_category("Comedy")
            .union(films_in_category("Family"))
            .order_by(Film::title)
            .order_by(Film::film_id),
        query(
            "SELECT f.film_id, f.title FROM film f \
               JOIN film_category fc ON fc.film_id = f.film_id \
               JOIN category c ON fc.category_id = c.category_id WHERE c.name = 'Comedy' \
             UNION SELECT f.film_id, f.title FROM film f \
               JOIN film_category fc ON fc.film_id = f.film_id \
               JOIN category c ON fc.category_id = c.category_id WHERE c.name = 'Family' \
             ORDER BY title, film_id",
        ),
    )
    .await
    .map(drop)
}

/// Action films rated R: `INTERSECT`.
async fn rated_r_action_films(db: &Database) -> Outcome {
    same_rows(
        db,
        films_in_category("Action")
            .intersect(
                select::<Film>()
                    .filter(Film::rating.eq(MpaaRating::R))
                    .columns((Film::film_id, Film::title)),
            )
            .order_by(Film::title),
        query(
            "SELECT f.film_id, f.title FROM film f \
               JOIN film_category fc ON fc.film_id = f.film_id \
               JOIN category c ON fc.category_id = c.category_id WHERE c.name = 'Action' \
             INTERSECT SELECT film_id, title FROM film WHERE rating = 'R' \
             ORDER BY title",
        ),
    )
    .await
    .map(drop)
}

/// Documentaries no store stocks: `EXCEPT`.
async fn documentaries_nobody_stocks(db: &Database) -> Outcome {
    same_rows(
        db,
        films_in_category("Documentary")
            .except(
                select::<Film>()
                    .join_fk::<Inventory>()
                    .columns((Film::film_id, Film::title)),
            )
            .order_by(Film::title),
        query(
            "SELECT f.film_id, f.title FROM film f \
               JOIN film_category fc ON fc.film_id = f.film_id \
               JOIN category c ON fc.category_id = c.category_id WHERE c.name = 'Documentary' \
             EXCEPT SELECT f.film_id, f.title FROM film f \
               JOIN inventory i ON i.film_id = f.film_id \
             ORDER BY title",
        ),
    )
    .await
    .map(drop)
}

/// Copies still out (`return_date IS NULL`), with who has them.
async fn rentals_still_out(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Rental>()
            .join_fk::<Customer>()
            .join_fk::<Inventory>()
            .join_fk::<Film>()
            .filter(Rental::return_date.is_null())
            .columns((
                Rental::rental_date,
                Customer::last_name,
                Customer::email,
                Film::title,
            ))
            .order_by(Rental::rental_date)
            .order_by(Rental::rental_id),
        query(
            "SELECT r.rental_date, c.last_name, c.email, f.title FROM rental r \
             JOIN customer c ON r.customer_id = c.customer_id \
             JOIN inventory i ON r.inventory_id = i.inventory_id \
             JOIN film f ON i.film_id = f.film_id \
             WHERE r.return_date IS NULL ORDER BY r.rental_date, r.rental_id",
        ),
    )
    .await?;
    ensure(rows.len() == 183, || {
        format!("expected 183 open rentals, got {}", rows.len())
    })
}

/// A rental with its film title and store: a `FromRow` struct with the whole model flattened
/// into it.
#[derive(FromRow, Debug, PartialEq)]
struct RentalWithFilm {
    #[from_row(flatten)]
    rental: Rental,
    title: String,
    store_id: i32,
}

/// One customer's rentals decoded into a struct holding the `Rental` model and two columns.
async fn rentals_with_film_and_store(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Rental>()
            .join_fk::<Inventory>()
            .join_fk::<Film>()
            .filter(Rental::customer_id.eq(148))
            .columns((Rental::star(), Film::title, Inventory::store_id))
            .order_by(Rental::rental_date)
            .order_by(Rental::rental_id)
            .into_rows::<RentalWithFilm>(),
        query(
            "SELECT r.rental_id, r.rental_date, r.inventory_id, r.customer_id, r.return_date, \
                    r.staff_id, r.last_update, f.title, i.store_id \
             FROM rental r JOIN inventory i ON r.inventory_id = i.inventory_id \
             JOIN film f ON i.film_id = f.film_id \
             WHERE r.customer_id = 148 ORDER BY r.rental_date, r.rental_id",
        ),
    )
    .await?;
    ensure(rows.iter().all(|r| r.rental.customer_id == 148), || {
        "a rental of another customer came back".into()
    })
}

/// Each customer's latest rental: a correlated scalar subquery.
async fn latest_rental_per_customer(db: &Database) -> Outcome {
    let latest = select::<Rental>()
        .filter(Rental::customer_id.eq(Customer::customer_id))
        .columns(Rental::rental_date)
        .order_by(Rental::rental_date.desc())
        .limit(1)
        .scalar();
    same_rows(
        db,
        select::<Customer>()
            .filter(Customer::store_id.eq(1))
            .columns((Customer::customer_id, func::label(latest, "latest")))
            .order_by(Customer::customer_id),
        query(
            "SELECT c.customer_id, (SELECT r.rental_date FROM rental r \
               WHERE r.customer_id = c.customer_id ORDER BY r.rental_date DESC LIMIT 1) \
             FROM customer c WHERE c.store_id = 1 ORDER BY c.customer_id",
        ),
    )
    .await
    .map(drop)
}

/// Addresses in Canada as a CTE, joined to the customers living there.
async fn canadian_customers_cte(db: &Database) -> Outcome {
    let (canadian, (address_id, city)) = select::<Address>()
        .join_fk::<City>()
        .join_fk::<Country>()
        .filter(Country::country.eq("Canada"))
        .columns((Address::address_id, City::city))
        .cte("canadian_addresses");
    let rows = same_rows(
        db,
        select::<Customer>()
            .join_derived(&canadian, Customer::address_id.eq(address_id))
            .columns((city, Customer::first_name, Customer::last_name))
            .order_by(city)
            .order_by(Customer::last_name),
        query(
            "WITH canadian_addresses AS ( \
               SELECT a.address_id, ci.city FROM address a \
               JOIN city ci ON a.city_id = ci.city_id \
               JOIN country co ON ci.country_id = co.country_id WHERE co.country = 'Canada') \
             SELECT ca.city, c.first_name, c.last_name FROM customer c \
             JOIN canadian_addresses ca ON c.address_id = ca.address_id \
             ORDER BY ca.city, c.last_name",
        ),
    )
    .await?;
    ensure(rows.len() == 5, || {
        format!("expected 5 customers, got {}", rows.len())
    })
}

/// Stores with their manager (a staff member, joined through an alias on a column with no
/// declared foreign key) and the manager's city.
async fn store_managers(db: &Database) -> Outcome {
    same_rows(
        db,
        select::<Store>()
            .join::<ManagerStaff>(ManagerStaff::col(Staff::staff_id).eq(Store::manager_staff_id))
            .join::<Address>(Address::address_id.eq(Store::address_id))
            .join_fk::<City>()
            .filter(Store::store_id.lt(20))
            .columns((
                Store::store_id,
                ManagerStaff::col(Staff::first_name),
                ManagerStaff::col(Staff::last_name),
                City::city,
            ))
            .order_by(Store::store_id),
        query(
            "SELECT s.store_id, m.first_name, m.last_name, ci.city FROM store s \
             JOIN staff m ON m.staff_id = s.manager_staff_id \
             JOIN address a ON a.address_id = s.address_id \
             JOIN city ci ON a.city_id = ci.city_id \
             WHERE s.store_id < 20 ORDER BY s.store_id",
        ),
    )
    .await
    .map(drop)
}

/// `count()` of a filtered query.
async fn count_of_open_rentals(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Rental>()
            .filter(Rental::return_date.is_null())
            .count(),
        query("SELECT count(*) FROM rental WHERE return_date IS NULL"),
    )
    .await?;
    ensure(rows == [183], || format!("expected 183, got {rows:?}"))
}

/// `count()` of a `DISTINCT` selection: customers who rented in June 2022.
async fn count_of_june_renters(db: &Database) -> Outcome {
    let (from, to) = (utc(2022, 6, 1, 0), utc(2022, 7, 1, 0));
    same_rows(
        db,
        select::<Rental>()
            .filter(Rental::rental_date.ge(from) & Rental::rental_date.lt(to))
            .columns(Rental::customer_id)
            .distinct()
            .count(),
        query(
            "SELECT count(*) FROM (SELECT DISTINCT customer_id FROM rental \
             WHERE rental_date >= :from AND rental_date < :to) s",
        )
        .bind("from", from)
        .bind("to", to),
    )
    .await
    .map(drop)
}

/// `FOR UPDATE SKIP LOCKED` in a transaction: a worker claiming copies of a film.
async fn inventory_locked_skip_locked(db: &Database) -> Outcome {
    let tx = db.begin().await.map_err(|e| e.to_string())?;
    let rows = same_rows(
        &tx,
        select::<Inventory>()
            .filter(Inventory::film_id.eq(1))
            .order_by(Inventory::inventory_id)
            .limit(5)
            .for_update()
            .skip_locked(),
        query(
            "SELECT inventory_id, film_id, store_id, last_update FROM inventory \
             WHERE film_id = 1 ORDER BY inventory_id LIMIT 5 FOR UPDATE SKIP LOCKED",
        ),
    )
    .await;
    tx.rollback().await.map_err(|e| e.to_string())?;
    rows.map(drop)
}

/// Payments per month across the partitions: `date_trunc('month', ...)` on a `timestamptz`
/// (in the session's time zone), `count(*)`, `sum`.
async fn payments_per_month(db: &Database) -> Outcome {
    let month = || func::date_trunc(func::DatePart::Month, Payment::payment_date);
    let rows = same_rows(
        db,
        select::<Payment>()
            .group_by(month())
            .columns((month(), func::count_all(), func::sum(Payment::amount)))
            .order_by(month()),
        query(
            "SELECT date_trunc('month', payment_date), count(*), sum(amount) FROM payment \
             GROUP BY 1 ORDER BY 1",
        ),
    )
    .await?;
    let total: i64 = rows.iter().map(|r| r.1).sum();
    ensure(total == 16049, || {
        format!("expected 16049 payments, got {total}")
    })
}

/// Rentals returned late or not at all: `rental_date + rental_duration days`. The builder has
/// no `interval * number`, so the due date uses `make_interval` through the `func` escape hatch.
async fn overdue_rentals(db: &Database) -> Outcome {
    let due = || {
        Rental::rental_date.add_interval(orm_postgres::expr::func::<Interval>(
            "make_interval",
            [
                func::value(0_i32).into_node(),
                func::value(0_i32).into_node(),
                func::value(0_i32).into_node(),
                Film::rental_duration.cast::<i32>().into_node(),
            ],
        ))
    };
    let rows = same_rows(
        db,
        select::<Rental>()
            .join_fk::<Inventory>()
            .join_fk::<Film>()
            .join_fk::<Customer>()
            .filter(
                Rental::return_date
                    .gt(due())
                    .or(Rental::return_date.is_null()),
            )
            .columns((
                Rental::rental_id,
                Customer::last_name,
                Film::title,
                func::label(due(), "due"),
                Rental::return_date,
            ))
            .order_by(Rental::rental_date)
            .order_by(Rental::rental_id)
            .limit(200),
        query(
            "SELECT r.rental_id, c.last_name, f.title, \
                    r.rental_date + f.rental_duration * interval '1 day' AS due, r.return_date \
             FROM rental r JOIN inventory i ON r.inventory_id = i.inventory_id \
             JOIN film f ON i.film_id = f.film_id \
             JOIN customer c ON r.customer_id = c.customer_id \
             WHERE r.return_date > r.rental_date + f.rental_duration * interval '1 day' \
                OR r.return_date IS NULL \
             ORDER BY r.rental_date, r.rental_id LIMIT 200",
        ),
    )
    .await?;
    ensure(rows.iter().all(|r| r.4.is_none_or(|ret| ret > r.3)), || {
        "a rental returned in time came back".into()
    })
}

/// The README's full-text example: `fulltext @@ to_tsquery('english', 'fate&india')`.
async fn full_text_search(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Film>()
            .filter(Film::fulltext.matches(func::to_tsquery("english", "fate&india")))
            .columns((Film::film_id, Film::title))
            .order_by(Film::title),
        query(
            "SELECT film_id, title FROM film \
             WHERE fulltext @@ to_tsquery('english', 'fate&india') ORDER BY title",
        ),
    )
    .await?;
    ensure(rows.len() == 3, || {
        format!("expected 3 films, got {rows:?}")
    })
}

/// Films ranked by `ts_rank` for a web-search query.
async fn full_text_search_ranked(db: &Database) -> Outcome {
    let q = || func::websearch_to_tsquery("english", "astronaut -boat");
    let rank = || func::ts_rank(Film::fulltext, q());
    same_rows(
        db,
        select::<Film>()
            .filter(Film::fulltext.matches(q()))
            .columns((Film::title, rank()))
            .order_by(rank().desc())
            .order_by(Film::title)
            .limit(10),
        query(
            "SELECT title, ts_rank(fulltext, websearch_to_tsquery('english', 'astronaut -boat')) \
             FROM film WHERE fulltext @@ websearch_to_tsquery('english', 'astronaut -boat') \
             ORDER BY 2 DESC, title LIMIT 10",
        ),
    )
    .await
    .map(drop)
}

/// `plainto_tsquery` (all words) and `phraseto_tsquery` (adjacent words), counted.
async fn full_text_search_plain_and_web(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Film>()
            .filter(Film::fulltext.matches(func::plainto_tsquery("english", "mad scientist")))
            .columns((
                func::count_all(),
                func::count_all().filter(
                    Film::fulltext.matches(func::phraseto_tsquery("english", "mad scientist")),
                ),
            )),
        query(
            "SELECT count(*), \
                    count(*) FILTER (WHERE fulltext @@ phraseto_tsquery('english', 'mad scientist')) \
             FROM film WHERE fulltext @@ plainto_tsquery('english', 'mad scientist')",
        ),
    )
    .await?;
    ensure(rows[0].0 >= rows[0].1 && rows[0].1 > 0, || {
        format!("unexpected counts {rows:?}")
    })
}

/// G-rated films with trailers: `'Trailers' = ANY(special_features)`.
async fn films_with_trailers(db: &Database) -> Outcome {
    same_rows(
        db,
        select::<Film>()
            .filter(Film::special_features.has_element("Trailers"))
            .filter(Film::rating.eq(MpaaRating::G))
            .columns((Film::title, Film::special_features))
            .order_by(Film::title),
        query(
            "SELECT title, special_features FROM film \
             WHERE 'Trailers' = ANY(special_features) AND rating = 'G' ORDER BY title",
        ),
    )
    .await
    .map(drop)
}

/// Films with both trailers and commentaries (`@>`) but no deleted scenes (`NOT &&`).
async fn films_with_trailers_and_commentaries(db: &Database) -> Outcome {
    let features = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    let rows = same_rows(
        db,
        select::<Film>()
            .filter(Film::special_features.contains_all(features(&["Trailers", "Commentaries"])))
            .filter(!Film::special_features.overlaps(features(&["Deleted Scenes"])))
            .columns((Film::film_id, Film::title, Film::special_features))
            .order_by(Film::film_id),
        query(
            "SELECT film_id, title, special_features FROM film \
             WHERE special_features @> ARRAY['Trailers', 'Commentaries'] \
               AND NOT special_features && ARRAY['Deleted Scenes'] \
             ORDER BY film_id",
        ),
    )
    .await?;
    ensure(
        rows.iter().all(|r| {
            r.2.as_ref().is_some_and(|f| {
                f.iter().any(|x| x == "Trailers") && !f.iter().any(|x| x == "Deleted Scenes")
            })
        }),
        || "array operators matched the wrong films".into(),
    )
}

/// How many films have how many special features: `cardinality(...)` grouped.
async fn special_feature_count_distribution(db: &Database) -> Outcome {
    let n = || func::cardinality(Film::special_features);
    let rows = same_rows(
        db,
        select::<Film>()
            .group_by(n())
            .columns((n(), func::count_all()))
            .order_by(n()),
        query("SELECT cardinality(special_features), count(*) FROM film GROUP BY 1 ORDER BY 1"),
    )
    .await?;
    ensure(rows.iter().map(|r| r.1).sum::<i64>() == 1000, || {
        format!("unexpected distribution {rows:?}")
    })
}

/// Running totals of payments per customer (window `sum` with a frame).
async fn running_payment_total_per_customer(db: &Database) -> Outcome {
    let running = func::sum(Payment::amount).over(
        func::window()
            .partition_by(Payment::customer_id)
            .order_by(Payment::payment_date)
            .order_by(Payment::payment_id)
            .rows_between(func::unbounded_preceding(), func::current_row()),
    );
    same_rows(
        db,
        select::<Payment>()
            .filter(Payment::customer_id.le(3))
            .columns((
                Payment::customer_id,
                Payment::payment_date,
                Payment::amount,
                running,
            ))
            .order_by(Payment::customer_id)
            .order_by(Payment::payment_date)
            .order_by(Payment::payment_id),
        query(
            "SELECT customer_id, payment_date, amount, \
                    sum(amount) OVER (PARTITION BY customer_id \
                                      ORDER BY payment_date, payment_id \
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) \
             FROM payment WHERE customer_id <= 3 \
             ORDER BY customer_id, payment_date, payment_id",
        ),
    )
    .await
    .map(drop)
}

/// Revenue per film category: payment -> rental -> inventory -> film -> film_category ->
/// category on foreign keys, `sum` grouped.
async fn revenue_per_category(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Payment>()
            .join_fk::<Rental>()
            .join_fk::<Inventory>()
            .join_fk::<Film>()
            .join_fk::<FilmCategory>()
            .join_fk::<Category>()
            .group_by(Category::name)
            .columns((
                Category::name,
                func::sum(Payment::amount),
                func::count_all(),
            ))
            .order_by(func::sum(Payment::amount).desc())
            .order_by(Category::name),
        query(
            "SELECT c.name, sum(p.amount), count(*) FROM payment p \
             JOIN rental r ON p.rental_id = r.rental_id \
             JOIN inventory i ON r.inventory_id = i.inventory_id \
             JOIN film f ON i.film_id = f.film_id \
             JOIN film_category fc ON fc.film_id = f.film_id \
             JOIN category c ON fc.category_id = c.category_id \
             GROUP BY c.name ORDER BY sum(p.amount) DESC, c.name",
        ),
    )
    .await?;
    ensure(rows.len() == 16, || {
        format!("expected 16 categories, got {}", rows.len())
    })
}

/// The ten actors in the most films.
async fn top_actors_by_film_count(db: &Database) -> Outcome {
    same_rows(
        db,
        select::<Actor>()
            .join_fk::<FilmActor>()
            .group_by(Actor::actor_id)
            .columns((Actor::first_name, Actor::last_name, func::count_all()))
            .order_by(func::count_all().desc())
            .order_by(Actor::actor_id)
            .limit(10),
        query(
            "SELECT a.first_name, a.last_name, count(*) FROM actor a \
             JOIN film_actor fa ON fa.actor_id = a.actor_id \
             GROUP BY a.actor_id ORDER BY count(*) DESC, a.actor_id LIMIT 10",
        ),
    )
    .await
    .map(drop)
}

/// Countries with at least 20 customers (joins through address and city, `HAVING`).
async fn customers_per_country_having(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Customer>()
            .join_fk::<Address>()
            .join_fk::<City>()
            .join_fk::<Country>()
            .group_by(Country::country_id)
            .having(func::count_all().ge(20))
            .columns((Country::country, func::count_all()))
            .order_by(func::count_all().desc())
            .order_by(Country::country),
        query(
            "SELECT co.country, count(*) FROM customer cu \
             JOIN address a ON cu.address_id = a.address_id \
             JOIN city ci ON a.city_id = ci.city_id \
             JOIN country co ON ci.country_id = co.country_id \
             GROUP BY co.country_id HAVING count(*) >= 20 \
             ORDER BY count(*) DESC, co.country",
        ),
    )
    .await?;
    ensure(rows[0].0 == "India" && rows[0].1 == 60, || {
        format!("expected India first with 60: {rows:?}")
    })
}

/// Copies and distinct films per store.
async fn store_inventory_counts(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Inventory>()
            .group_by(Inventory::store_id)
            .columns((
                Inventory::store_id,
                func::count_all(),
                func::count_distinct(Inventory::film_id),
            ))
            .order_by(Inventory::store_id),
        query(
            "SELECT store_id, count(*), count(DISTINCT film_id) FROM inventory \
             GROUP BY store_id ORDER BY store_id",
        ),
    )
    .await?;
    ensure(
        rows.iter().map(|r| r.1).collect::<Vec<_>>() == [2270, 2311],
        || format!("unexpected counts {rows:?}"),
    )
}

/// Films per rating (grouped by the enum, ordered in the enum's order), with length and price
/// statistics.
async fn rating_distribution(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Film>()
            .group_by(Film::rating)
            .columns((
                Film::rating,
                func::count_all(),
                func::avg(Film::length),
                func::min(Film::rental_rate),
                func::max(Film::replacement_cost),
            ))
            .order_by(Film::rating),
        query(
            "SELECT rating, count(*), avg(length), min(rental_rate), max(replacement_cost) \
             FROM film GROUP BY rating ORDER BY rating",
        ),
    )
    .await?;
    let ratings: Vec<_> = rows.iter().filter_map(|r| r.0).collect();
    ensure(
        ratings
            == [
                MpaaRating::G,
                MpaaRating::Pg,
                MpaaRating::Pg13,
                MpaaRating::R,
                MpaaRating::Nc17,
            ],
        || format!("unexpected ratings {ratings:?}"),
    )
}

/// The average rental duration (a `smallint`, averaged as `numeric`) per category.
async fn average_rental_duration_per_category(db: &Database) -> Outcome {
    same_rows(
        db,
        select::<Category>()
            .join_fk::<FilmCategory>()
            .join_fk::<Film>()
            .group_by(Category::category_id)
            .columns((
                Category::name,
                func::avg(Film::rental_duration),
                func::avg(Film::rental_rate),
            ))
            .order_by(func::avg(Film::rental_duration).desc())
            .order_by(Category::name),
        query(
            "SELECT c.name, avg(f.rental_duration), avg(f.rental_rate) FROM category c \
             JOIN film_category fc ON fc.category_id = c.category_id \
             JOIN film f ON fc.film_id = f.film_id \
             GROUP BY c.category_id ORDER BY avg(f.rental_duration) DESC, c.name",
        ),
    )
    .await
    .map(drop)
}

/// Payments taken and revenue per staff member.
async fn staff_revenue(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Payment>()
            .join_fk::<Staff>()
            .group_by(Staff::staff_id)
            .columns((
                Staff::staff_id,
                Staff::first_name,
                Staff::last_name,
                func::count_all(),
                func::sum(Payment::amount),
            ))
            .order_by(Staff::staff_id),
        query(
            "SELECT s.staff_id, s.first_name, s.last_name, count(*), sum(p.amount) \
             FROM payment p JOIN staff s ON p.staff_id = s.staff_id \
             GROUP BY s.staff_id ORDER BY s.staff_id",
        ),
    )
    .await?;
    ensure(rows.len() == 2, || {
        format!("expected 2 staff members: {rows:?}")
    })
}

/// The three customers with the most rentals in each store: `rank() OVER (PARTITION BY store
/// ORDER BY count(*) DESC)` in a subquery, filtered outside.
async fn top_renters_per_store(db: &Database) -> Outcome {
    let (ranked, (store, customer, rentals, position)) = select::<Rental>()
        .join_fk::<Customer>()
        .group_by((Customer::store_id, Customer::customer_id))
        .columns((
            Customer::store_id,
            Customer::customer_id,
            func::label(func::count_all(), "rentals"),
            func::label(
                func::rank().over(
                    func::window()
                        .partition_by(Customer::store_id)
                        .order_by(func::count_all().desc()),
                ),
                "position",
            ),
        ))
        .subquery("ranked");
    let rows = same_rows(
        db,
        select_from(&ranked)
            .filter(position.le(3))
            .columns((store, customer, rentals, position))
            .order_by(store)
            .order_by(position)
            .order_by(customer),
        query(
            "SELECT store_id, customer_id, rentals, position FROM ( \
               SELECT c.store_id, c.customer_id, count(*) AS rentals, \
                      rank() OVER (PARTITION BY c.store_id ORDER BY count(*) DESC) AS position \
               FROM rental r JOIN customer c ON r.customer_id = c.customer_id \
               GROUP BY c.store_id, c.customer_id) ranked \
             WHERE position <= 3 ORDER BY store_id, position, customer_id",
        ),
    )
    .await?;
    ensure(rows.len() >= 6, || {
        format!("expected 3+ per store: {rows:?}")
    })
}

/// Customers with more than 40 payments: `HAVING count(*) > n`.
async fn frequent_payers_having(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Payment>()
            .group_by(Payment::customer_id)
            .having(func::count_all().gt(40))
            .columns((
                Payment::customer_id,
                func::count_all(),
                func::sum(Payment::amount),
            ))
            .order_by(func::count_all().desc())
            .order_by(Payment::customer_id),
        query(
            "SELECT customer_id, count(*), sum(amount) FROM payment GROUP BY customer_id \
             HAVING count(*) > 40 ORDER BY count(*) DESC, customer_id",
        ),
    )
    .await?;
    ensure(rows.iter().all(|r| r.1 > 40), || {
        "HAVING let a row through".into()
    })
}

/// Films whose rental rate is above the average: a scalar subquery of an aggregate.
async fn films_above_average_rental_rate(db: &Database) -> Outcome {
    let average = select::<Film>()
        .columns(func::avg(Film::rental_rate))
        .scalar();
    same_rows(
        db,
        select::<Film>()
            .filter(Film::rental_rate.gt(average))
            .filter(Film::replacement_cost.ge(Decimal::new(2899, 2)))
            .columns((Film::title, Film::rental_rate, Film::replacement_cost))
            .order_by(Film::title),
        query(
            "SELECT title, rental_rate, replacement_cost FROM film \
             WHERE rental_rate > (SELECT avg(rental_rate) FROM film) \
               AND replacement_cost >= 28.99 ORDER BY title",
        ),
    )
    .await
    .map(drop)
}

/// A customer's rentals with the previous and next rental dates (`lag`, `lead`).
async fn time_between_rentals_lag_lead(db: &Database) -> Outcome {
    let order = || {
        func::window()
            .partition_by(Rental::customer_id)
            .order_by(Rental::rental_date)
            .order_by(Rental::rental_id)
    };
    let rows = same_rows(
        db,
        select::<Rental>()
            .filter(Rental::customer_id.is_in([1, 2]))
            .columns((
                Rental::customer_id,
                Rental::rental_date,
                func::lag(Rental::rental_date, 1, None::<DateTime<Utc>>).over(order()),
                func::lead(Rental::rental_date, 1, None::<DateTime<Utc>>).over(order()),
            ))
            .order_by(Rental::customer_id)
            .order_by(Rental::rental_date)
            .order_by(Rental::rental_id),
        query(
            "SELECT customer_id, rental_date, \
                    lag(rental_date) OVER (PARTITION BY customer_id ORDER BY rental_date, rental_id), \
                    lead(rental_date) OVER (PARTITION BY customer_id ORDER BY rental_date, rental_id) \
             FROM rental WHERE customer_id IN (1, 2) \
             ORDER BY customer_id, rental_date, rental_id",
        ),
    )
    .await?;
    ensure(
        rows.windows(2)
            .all(|w| w[0].0 != w[1].0 || w[1].2 == Some(w[0].1)),
        || "lag does not point at the previous rental".into(),
    )
}

/// A simple `CASE rating WHEN ... THEN ... END` in the select list.
async fn audience_of_each_film_simple_case(db: &Database) -> Outcome {
    let audience = func::case(Film::rating)
        .when(MpaaRating::G, "everyone")
        .when(MpaaRating::Pg, "guidance")
        .when(MpaaRating::Pg13, "teens")
        .otherwise("adults");
    same_rows(
        db,
        select::<Film>()
            .filter(Film::film_id.le(40))
            .columns((Film::title, func::label(audience, "audience")))
            .order_by(Film::film_id),
        query(
            "SELECT title, CASE rating WHEN 'G' THEN 'everyone' WHEN 'PG' THEN 'guidance' \
                    WHEN 'PG-13' THEN 'teens' ELSE 'adults' END \
             FROM film WHERE film_id <= 40 ORDER BY film_id",
        ),
    )
    .await
    .map(drop)
}

/// The cast of the first twenty films: `array_agg(last_name ORDER BY ...)` into `Vec<String>`,
/// films without actors kept by the left joins and their `NULL`s filtered out of the array.
async fn cast_of_each_film_array_agg(db: &Database) -> Outcome {
    same_rows(
        db,
        select::<Film>()
            .left_join_fk::<FilmActor>()
            .left_join_fk::<Actor>()
            .filter(Film::film_id.le(20))
            .group_by(Film::film_id)
            .columns((
                Film::title,
                func::array_agg(Actor::last_name)
                    .filter(Actor::last_name.is_not_null())
                    .order_by(Actor::last_name)
                    .order_by(Actor::actor_id),
            ))
            .order_by(Film::film_id),
        query(
            "SELECT f.title, array_agg(a.last_name ORDER BY a.last_name, a.actor_id) \
                    FILTER (WHERE a.last_name IS NOT NULL) \
             FROM film f LEFT JOIN film_actor fa ON fa.film_id = f.film_id \
             LEFT JOIN actor a ON fa.actor_id = a.actor_id \
             WHERE f.film_id <= 20 GROUP BY f.film_id ORDER BY f.film_id",
        ),
    )
    .await
    .map(drop)
}

/// Rentals per store, the open ones among them (`FILTER`), and the first and last dates.
async fn rentals_per_store_with_filter(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Rental>()
            .join_fk::<Inventory>()
            .group_by(Inventory::store_id)
            .columns((
                Inventory::store_id,
                func::count_all(),
                func::count_all().filter(Rental::return_date.is_null()),
                func::min(Rental::rental_date),
                func::max(Rental::rental_date),
            ))
            .order_by(Inventory::store_id),
        query(
            "SELECT i.store_id, count(*), count(*) FILTER (WHERE r.return_date IS NULL), \
                    min(r.rental_date), max(r.rental_date) \
             FROM rental r JOIN inventory i ON r.inventory_id = i.inventory_id \
             GROUP BY i.store_id ORDER BY i.store_id",
        ),
    )
    .await?;
    ensure(rows.iter().map(|r| r.2).sum::<i64>() == 183, || {
        format!("expected 183 open rentals: {rows:?}")
    })
}

/// What each customer paid in all, zero for none: `coalesce(sum(...), 0)` over a left join.
async fn customer_lifetime_value_coalesce(db: &Database) -> Outcome {
    let paid = || func::coalesce(func::sum(Payment::amount), Decimal::ZERO);
    same_rows(
        db,
        select::<Customer>()
            .left_join_fk::<Payment>()
            .group_by(Customer::customer_id)
            .columns((Customer::customer_id, Customer::last_name, paid()))
            .order_by(paid().desc())
            .order_by(Customer::customer_id)
            .limit(25),
        query(
            "SELECT c.customer_id, c.last_name, coalesce(sum(p.amount), 0) FROM customer c \
             LEFT JOIN payment p ON p.customer_id = c.customer_id GROUP BY c.customer_id \
             ORDER BY coalesce(sum(p.amount), 0) DESC, c.customer_id LIMIT 25",
        ),
    )
    .await
    .map(drop)
}

/// Rentals per day of the week: `EXTRACT(DOW ...)` cast to an integer, grouped.
async fn rentals_by_weekday(db: &Database) -> Outcome {
    let dow = || func::extract(func::ExtractField::DayOfWeek, Rental::rental_date).cast::<i32>();
    let rows = same_rows(
        db,
        select::<Rental>()
            .group_by(dow())
            .columns((dow(), func::count_all()))
            .order_by(dow()),
        query(
            "SELECT extract(dow FROM rental_date)::int, count(*) FROM rental \
             GROUP BY 1 ORDER BY 1",
        ),
    )
    .await?;
    ensure(rows.len() == 7, || format!("expected 7 weekdays: {rows:?}"))
}

/// Each category's share of the revenue: `sum(x) / sum(sum(x)) OVER ()`.
async fn category_share_of_revenue(db: &Database) -> Outcome {
    let revenue = || func::sum(Payment::amount);
    same_rows(
        db,
        select::<Payment>()
            .join_fk::<Rental>()
            .join_fk::<Inventory>()
            // No foreign key links film_category and inventory (both reference film): the
            // condition is explicit.
            .join::<FilmCategory>(FilmCategory::film_id.eq(Inventory::film_id))
            .join_fk::<Category>()
            .group_by(Category::category_id)
            .columns((
                Category::name,
                revenue().div(func::sum(revenue()).over(func::window())),
            ))
            .order_by(revenue().desc())
            .order_by(Category::name),
        query(
            "SELECT c.name, sum(p.amount) / sum(sum(p.amount)) OVER () FROM payment p \
             JOIN rental r ON p.rental_id = r.rental_id \
             JOIN inventory i ON r.inventory_id = i.inventory_id \
             JOIN film_category fc ON fc.film_id = i.film_id \
             JOIN category c ON fc.category_id = c.category_id \
             GROUP BY c.category_id ORDER BY sum(p.amount) DESC, c.name",
        ),
    )
    .await
    .map(drop)
}

/// Customers split into spending quartiles: `ntile(4) OVER (ORDER BY sum(...) DESC)`.
async fn customer_spending_quartiles(db: &Database) -> Outcome {
    let spent = || func::sum(Payment::amount);
    let rows = same_rows(
        db,
        select::<Payment>()
            .group_by(Payment::customer_id)
            .columns((
                Payment::customer_id,
                spent(),
                func::ntile(4).over(
                    func::window()
                        .order_by(spent().desc())
                        .order_by(Payment::customer_id),
                ),
            ))
            .order_by(spent().desc())
            .order_by(Payment::customer_id),
        query(
            "SELECT customer_id, sum(amount), \
                    ntile(4) OVER (ORDER BY sum(amount) DESC, customer_id) \
             FROM payment GROUP BY customer_id ORDER BY sum(amount) DESC, customer_id",
        ),
    )
    .await?;
    ensure(
        rows.first().map(|r| r.2) == Some(1) && rows.last().map(|r| r.2) == Some(4),
        || "quartiles out of order".into(),
    )
}
