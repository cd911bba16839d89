//! Pagila relationships on the real data: every kind loaded with each strategy, compared with
//! the same graph built from hand-written SQL; two relationships to one table; chains of
//! belongs_to; nested paths; filters through relationships; unloaded relationships.
//!
//! Statement counts: a `selectin` or `subquery` load costs one statement per relationship per
//! level, a `joined` one none at the first level (below it, a joined load runs as selectin).
//!
//! Over 800 lines on purpose: one catalogue of independent relationship checks, run from the
//! list in `run`; each builds the same graph with the ORM and by hand.

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_tests::pagila::*;

use crate::rel_common::{
    attach_many, attach_one, attach_optional, by_hand, counts, each_way, each_way_on, loaded,
    not_loaded, same_graph,
};
use crate::{Outcome, Report, ensure, run_queries, same_rows};

/// Runs the relationship checks into the dataset's report.
pub async fn run(report: &mut Report, db: &Database) {
    run_queries!(report, db;
        rel_film_language_and_original_language,
        rel_film_four_relationships_in_one_query,
        rel_film_actors_and_categories_many_to_many,
        rel_actor_films_many_to_many_inferred,
        rel_category_films_many_to_many,
        rel_language_films_named_among_two_foreign_keys,
        rel_film_actor_association_object,
        rel_customer_address_city_country_chain,
        rel_customer_rentals_and_payments,
        rel_nested_customer_rentals_inventory_film,
        rel_store_inventories_has_many_inferred,
        rel_store_staff_customers_address,
        rel_staff_store_and_address,
        rel_payment_customer_rental_staff,
        rel_country_cities_has_many,
        rel_filter_films_with_an_actor,
        rel_filter_films_of_a_category_and_language,
        rel_filter_customers_who_rented_nc17,
        rel_filter_customers_in_a_country,
        rel_unloaded_relationships_are_errors,
    );
}

/// Films with id < 50.
fn some_films() -> Select<Film> {
    select::<Film>()
        .filter(Film::film_id.lt(50))
        .order_by(Film::film_id)
}

const SOME_FILMS: &str = "SELECT * FROM film WHERE film_id < 50 ORDER BY film_id";

/// The customers of store 1.
fn store_one_customers() -> Select<Customer> {
    select::<Customer>()
        .filter(Customer::store_id.eq(1))
        .order_by(Customer::customer_id)
}

const STORE_ONE_CUSTOMERS: &str = "SELECT * FROM customer WHERE store_id = 1 ORDER BY customer_id";

/// Film -> language and film -> original language: two belongs_to to the same table through
/// different foreign keys. In the dataset no film has an original language: all `None` (a
/// mix-up of the two keys would show the film's language there).
async fn rel_film_language_and_original_language(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            some_films()
                .load(w.of(Film::language))
                .load(w.of(Film::original_language))
        },
        // selectin sends no query for `original_language`, whose key is NULL in every parent;
        // subquery cannot know that before it asks.
        [2, 3, 1],
    )
    .await?;
    let mut expected = by_hand(db, query::<Film>(SOME_FILMS)).await?;
    let languages = by_hand(
        db,
        query::<(i32, Language)>("SELECT l.language_id, l.* FROM language l"),
    )
    .await?;
    attach_one(
        &mut expected,
        languages.clone(),
        |f| f.language_id,
        |f| &mut f.language,
    )?;
    attach_optional(
        &mut expected,
        languages,
        |f| f.original_language_id,
        |f| &mut f.original_language,
    );
    same_graph("films with both languages", &got, &expected)?;
    let languages: std::collections::BTreeSet<&str> = got
        .iter()
        .filter_map(|f| f.language.as_option())
        .map(|l| l.name.trim_end())
        .collect();
    let originals = got
        .iter()
        .filter(|f| !matches!(f.original_language.as_option(), Some(None)))
        .count();
    ensure(languages.len() > 1 && originals == 0, || {
        format!("languages {languages:?}, {originals} films with an original language")
    })
}

/// Four relationships of one model in one query: language, original language (set for some
/// films in a transaction, rolled back afterwards), actors and categories. With selectin or
/// subquery, 5 statements (the four loads go out together, pipelined on the connection); with
/// joined, one.
async fn rel_film_four_relationships_in_one_query(db: &Database) -> Outcome {
    let tx = db.begin().await.map_err(|e| e.to_string())?;
    tx.batch_execute(
        "UPDATE film SET original_language_id = 2 + film_id % 5 \
         WHERE film_id < 50 AND film_id % 3 = 0",
    )
    .await
    .map_err(|e| e.to_string())?;
    let outcome = async {
        let got = each_way_on(
            db,
            &tx,
            |w| {
                some_films()
                    .load(w.of(Film::language))
                    .load(w.of(Film::original_language))
                    .load(w.of(Film::actors))
                    .load(w.of(Film::categories))
            },
            [5, 5, 1],
        )
        .await?;
        let mut expected = by_hand(&tx, query::<Film>(SOME_FILMS)).await?;
        let languages = by_hand(
            &tx,
            query::<(i32, Language)>("SELECT l.language_id, l.* FROM language l"),
        )
        .await?;
        let actors = by_hand(
            &tx,
            query::<(i32, Actor)>(
                "SELECT fa.film_id, a.* FROM film_actor fa \
                 JOIN actor a ON a.actor_id = fa.actor_id \
                 WHERE fa.film_id < 50 ORDER BY a.last_name, a.first_name, a.actor_id",
            ),
        )
        .await?;
        let categories = by_hand(
            &tx,
            query::<(i32, Category)>(
                "SELECT fc.film_id, c.* FROM film_category fc \
                 JOIN category c ON c.category_id = fc.category_id \
                 WHERE fc.film_id < 50 ORDER BY c.name",
            ),
        )
        .await?;
        attach_one(
            &mut expected,
            languages.clone(),
            |f| f.language_id,
            |f| &mut f.language,
        )?;
        attach_optional(
            &mut expected,
            languages,
            |f| f.original_language_id,
            |f| &mut f.original_language,
        );
        attach_many(&mut expected, actors, |f| f.film_id, |f| &mut f.actors);
        attach_many(
            &mut expected,
            categories,
            |f| f.film_id,
            |f| &mut f.categories,
        );
        same_graph("films with four relationships", &got, &expected)?;
        let set = got
            .iter()
            .filter(|f| matches!(f.original_language.as_option(), Some(Some(_))))
            .count();
        ensure(set == 16, || {
            format!("{set} films with an original language")
        })
    }
    .await;
    tx.rollback().await.map_err(|e| e.to_string())?;
    outcome
}

/// Film <-> actors (link columns named) and film <-> categories (inferred): two
/// many_to_many loads of the same films.
async fn rel_film_actors_and_categories_many_to_many(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            some_films()
                .load(w.of(Film::actors))
                .load(w.of(Film::categories))
        },
        [3, 3, 1],
    )
    .await?;
    let mut expected = by_hand(db, query::<Film>(SOME_FILMS)).await?;
    let actors = by_hand(
        db,
        query::<(i32, Actor)>(
            "SELECT fa.film_id, a.* FROM film_actor fa JOIN actor a ON a.actor_id = fa.actor_id \
             WHERE fa.film_id < 50 ORDER BY a.last_name, a.first_name, a.actor_id",
        ),
    )
    .await?;
    let categories = by_hand(
        db,
        query::<(i32, Category)>(
            "SELECT fc.film_id, c.* FROM film_category fc \
             JOIN category c ON c.category_id = fc.category_id \
             WHERE fc.film_id < 50 ORDER BY c.name",
        ),
    )
    .await?;
    attach_many(&mut expected, actors, |f| f.film_id, |f| &mut f.actors);
    attach_many(
        &mut expected,
        categories,
        |f| f.film_id,
        |f| &mut f.categories,
    );
    same_graph("films with actors and categories", &got, &expected)?;
    let (actors, _) = counts(&got, |f| f.actors.as_option());
    let (categories, _) = counts(&got, |f| f.categories.as_option());
    ensure(got.len() == 49 && actors > 150 && categories >= 49, || {
        format!(
            "{} films, {actors} actors, {categories} categories",
            got.len()
        )
    })
}

/// Actor <-> films, the other side of film_actor (link columns inferred), by title.
async fn rel_actor_films_many_to_many_inferred(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            select::<Actor>()
                .filter(Actor::actor_id.le(10))
                .order_by(Actor::actor_id)
                .load(w.of(Actor::films))
        },
        [2, 2, 1],
    )
    .await?;
    let mut expected = by_hand(
        db,
        query::<Actor>("SELECT * FROM actor WHERE actor_id <= 10 ORDER BY actor_id"),
    )
    .await?;
    let films = by_hand(
        db,
        query::<(i32, Film)>(
            "SELECT fa.actor_id, f.* FROM film_actor fa JOIN film f ON f.film_id = fa.film_id \
             WHERE fa.actor_id <= 10 ORDER BY f.title, f.film_id",
        ),
    )
    .await?;
    attach_many(&mut expected, films, |a| a.actor_id, |a| &mut a.films);
    same_graph("actors with films", &got, &expected)?;
    let (total, _) = counts(&got, |a| a.films.as_option());
    ensure(total > 200, || format!("{total} films"))
}

/// Category <-> films: every category, every film.
async fn rel_category_films_many_to_many(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            select::<Category>()
                .order_by(Category::name)
                .load(w.of(Category::films))
        },
        [2, 2, 1],
    )
    .await?;
    let mut expected = by_hand(
        db,
        query::<Category>("SELECT * FROM category ORDER BY name"),
    )
    .await?;
    let films = by_hand(
        db,
        query::<(i32, Film)>(
            "SELECT fc.category_id, f.* FROM film_category fc \
             JOIN film f ON f.film_id = fc.film_id ORDER BY f.title, f.film_id",
        ),
    )
    .await?;
    attach_many(&mut expected, films, |c| c.category_id, |c| &mut c.films);
    same_graph("categories with films", &got, &expected)?;
    let (total, _) = counts(&got, |c| c.films.as_option());
    ensure(got.len() == 16 && total > 1000, || {
        format!("{} categories, {total} films", got.len())
    })
}

/// Language -> films: has_many through one of two foreign keys of `film` to `language`,
/// named.
async fn rel_language_films_named_among_two_foreign_keys(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            select::<Language>()
                .order_by(Language::language_id)
                .load(w.of(Language::films))
        },
        [2, 2, 1],
    )
    .await?;
    let mut expected = by_hand(
        db,
        query::<Language>("SELECT * FROM language ORDER BY language_id"),
    )
    .await?;
    let films = by_hand(
        db,
        query::<(i32, Film)>("SELECT f.language_id, f.* FROM film f ORDER BY f.film_id"),
    )
    .await?;
    attach_many(&mut expected, films, |l| l.language_id, |l| &mut l.films);
    same_graph("languages with films", &got, &expected)?;
    let (total, empty) = counts(&got, |l| l.films.as_option());
    ensure(got.len() == 6 && total == 1000 && empty == 0, || {
        format!(
            "{} languages, {total} films, {empty} languages without",
            got.len()
        )
    })
}

/// The link rows themselves (the association object): film_actor -> actor and -> film.
async fn rel_film_actor_association_object(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            select::<FilmActor>()
                .filter(FilmActor::film_id.le(10))
                .order_by(FilmActor::film_id)
                .order_by(FilmActor::actor_id)
                .load(w.of(FilmActor::actor))
                .load(w.of(FilmActor::film))
        },
        [3, 3, 1],
    )
    .await?;
    let mut expected = by_hand(
        db,
        query::<FilmActor>(
            "SELECT * FROM film_actor WHERE film_id <= 10 ORDER BY film_id, actor_id",
        ),
    )
    .await?;
    let actors = by_hand(
        db,
        query::<(i32, Actor)>("SELECT a.actor_id, a.* FROM actor a"),
    )
    .await?;
    let films = by_hand(
        db,
        query::<(i32, Film)>("SELECT f.film_id, f.* FROM film f WHERE f.film_id <= 10"),
    )
    .await?;
    attach_one(&mut expected, actors, |l| l.actor_id, |l| &mut l.actor)?;
    attach_one(&mut expected, films, |l| l.film_id, |l| &mut l.film)?;
    same_graph("film_actor rows with actor and film", &got, &expected)
}

/// Customer -> address -> city -> country: a chain of belongs_to, nested three levels.
async fn rel_customer_address_city_country_chain(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            store_one_customers().load(
                w.of(Customer::address)
                    .load(w.of(Address::city).load(w.of(City::country))),
            )
        },
        [4, 4, 3],
    )
    .await?;
    let mut expected = by_hand(db, query::<Customer>(STORE_ONE_CUSTOMERS)).await?;
    let mut addresses = by_hand(
        db,
        query::<(i32, Address)>(
            "SELECT a.address_id, a.* FROM address a \
             WHERE a.address_id IN (SELECT address_id FROM customer WHERE store_id = 1)",
        ),
    )
    .await?;
    let mut cities = by_hand(
        db,
        query::<(i32, City)>("SELECT c.city_id, c.* FROM city c"),
    )
    .await?;
    let countries = by_hand(
        db,
        query::<(i32, Country)>("SELECT co.country_id, co.* FROM country co"),
    )
    .await?;
    attach_one(
        cities.iter_mut().map(|(_, c)| c),
        countries,
        |c| c.country_id,
        |c| &mut c.country,
    )?;
    attach_one(
        addresses.iter_mut().map(|(_, a)| a),
        cities,
        |a| a.city_id,
        |a| &mut a.city,
    )?;
    attach_one(
        &mut expected,
        addresses,
        |c| c.address_id,
        |c| &mut c.address,
    )?;
    same_graph("customers -> address -> city -> country", &got, &expected)?;
    let mary = &got[0];
    let country = loaded(&mary.address)
        .and_then(|a| loaded(&a.city))
        .and_then(|c| loaded(&c.country))?;
    ensure(got.len() == 326 && country.country == "Japan", || {
        format!(
            "{} customers; the first lives in {}",
            got.len(),
            country.country
        )
    })
}

/// Customer -> rentals (oldest first) and -> payments (newest first; `payment` is partitioned,
/// with a composite key).
async fn rel_customer_rentals_and_payments(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            store_one_customers()
                .filter(Customer::customer_id.le(150))
                .load(w.of(Customer::rentals))
                .load(w.of(Customer::payments))
        },
        [3, 3, 1],
    )
    .await?;
    let mut expected = by_hand(
        db,
        query::<Customer>(
            "SELECT * FROM customer WHERE store_id = 1 AND customer_id <= 150 ORDER BY customer_id",
        ),
    )
    .await?;
    let rentals = by_hand(
        db,
        query::<(i32, Rental)>(
            "SELECT r.customer_id, r.* FROM rental r \
             WHERE r.customer_id IN (SELECT customer_id FROM customer \
                                     WHERE store_id = 1 AND customer_id <= 150) \
             ORDER BY r.rental_date, r.rental_id",
        ),
    )
    .await?;
    let payments = by_hand(
        db,
        query::<(i32, Payment)>(
            "SELECT p.customer_id, p.* FROM payment p \
             WHERE p.customer_id IN (SELECT customer_id FROM customer \
                                     WHERE store_id = 1 AND customer_id <= 150) \
             ORDER BY p.payment_date DESC, p.payment_id DESC",
        ),
    )
    .await?;
    attach_many(
        &mut expected,
        rentals,
        |c| c.customer_id,
        |c| &mut c.rentals,
    );
    attach_many(
        &mut expected,
        payments,
        |c| c.customer_id,
        |c| &mut c.payments,
    );
    same_graph("customers with rentals and payments", &got, &expected)?;
    let (rentals, _) = counts(&got, |c| c.rentals.as_option());
    let (payments, _) = counts(&got, |c| c.payments.as_option());
    ensure(rentals > 1500 && payments > 1500, || {
        format!("{rentals} rentals, {payments} payments")
    })
}

/// Customer -> rentals -> inventory -> film: four levels, 4 statements with selectin.
async fn rel_nested_customer_rentals_inventory_film(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            store_one_customers().load(
                w.of(Customer::rentals)
                    .load(w.of(Rental::inventory).load(w.of(Inventory::film))),
            )
        },
        [4, 4, 3],
    )
    .await?;
    let mut expected = by_hand(db, query::<Customer>(STORE_ONE_CUSTOMERS)).await?;
    let mut rentals = by_hand(
        db,
        query::<(i32, Rental)>(
            "SELECT r.customer_id, r.* FROM rental r \
             WHERE r.customer_id IN (SELECT customer_id FROM customer WHERE store_id = 1) \
             ORDER BY r.rental_date, r.rental_id",
        ),
    )
    .await?;
    let mut inventories = by_hand(
        db,
        query::<(i32, Inventory)>(
            "SELECT i.inventory_id, i.* FROM inventory i WHERE i.inventory_id IN ( \
               SELECT r.inventory_id FROM rental r JOIN customer c ON c.customer_id = r.customer_id \
               WHERE c.store_id = 1)",
        ),
    )
    .await?;
    let films = by_hand(
        db,
        query::<(i32, Film)>("SELECT f.film_id, f.* FROM film f"),
    )
    .await?;
    attach_one(
        inventories.iter_mut().map(|(_, i)| i),
        films,
        |i| i.film_id,
        |i| &mut i.film,
    )?;
    attach_one(
        rentals.iter_mut().map(|(_, r)| r),
        inventories,
        |r| r.inventory_id,
        |r| &mut r.inventory,
    )?;
    attach_many(
        &mut expected,
        rentals,
        |c| c.customer_id,
        |c| &mut c.rentals,
    );
    same_graph("customers -> rentals -> inventory -> film", &got, &expected)?;
    let (rentals, _) = counts(&got, |c| c.rentals.as_option());
    ensure(rentals > 8000, || format!("{rentals} rentals"))
}

/// Store -> inventories: has_many with the foreign key inferred; 500 stores, two of them with
/// some 2,300 copies each, the others with none.
async fn rel_store_inventories_has_many_inferred(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            select::<Store>()
                .order_by(Store::store_id)
                .load(w.of(Store::inventories))
        },
        [2, 2, 1],
    )
    .await?;
    let mut expected = by_hand(db, query::<Store>("SELECT * FROM store ORDER BY store_id")).await?;
    let inventories = by_hand(
        db,
        query::<(i32, Inventory)>(
            "SELECT i.store_id, i.* FROM inventory i ORDER BY i.inventory_id",
        ),
    )
    .await?;
    attach_many(
        &mut expected,
        inventories,
        |s| s.store_id,
        |s| &mut s.inventories,
    );
    same_graph("stores with inventories", &got, &expected)?;
    let (total, empty) = counts(&got, |s| s.inventories.as_option());
    ensure(got.len() == 500 && total == 4581 && empty == 498, || {
        format!(
            "{} stores, {total} copies, {empty} stores without",
            got.len()
        )
    })
}

/// Store -> staff and -> customers (two collections: a joined load multiplies them) and ->
/// address.
async fn rel_store_staff_customers_address(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            select::<Store>()
                .order_by(Store::store_id)
                .load(w.of(Store::staff))
                .load(w.of(Store::customers))
                .load(w.of(Store::address))
        },
        [4, 4, 1],
    )
    .await?;
    let mut expected = by_hand(db, query::<Store>("SELECT * FROM store ORDER BY store_id")).await?;
    let staff = by_hand(
        db,
        query::<(i32, Staff)>("SELECT s.store_id, s.* FROM staff s ORDER BY s.staff_id"),
    )
    .await?;
    let customers = by_hand(
        db,
        query::<(i32, Customer)>("SELECT c.store_id, c.* FROM customer c ORDER BY c.customer_id"),
    )
    .await?;
    let addresses = by_hand(
        db,
        query::<(i32, Address)>(
            "SELECT a.address_id, a.* FROM address a \
             WHERE a.address_id IN (SELECT address_id FROM store)",
        ),
    )
    .await?;
    attach_many(&mut expected, staff, |s| s.store_id, |s| &mut s.staff);
    attach_many(
        &mut expected,
        customers,
        |s| s.store_id,
        |s| &mut s.customers,
    );
    attach_one(
        &mut expected,
        addresses,
        |s| s.address_id,
        |s| &mut s.address,
    )?;
    same_graph("stores with staff, customers, address", &got, &expected)?;
    let (customers, _) = counts(&got, |s| s.customers.as_option());
    ensure(customers == 599, || format!("{customers} customers"))
}

/// Staff -> store and -> address (`staff.picture` is a bytea).
async fn rel_staff_store_and_address(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            select::<Staff>()
                .order_by(Staff::staff_id)
                .load(w.of(Staff::store))
                .load(w.of(Staff::address))
        },
        [3, 3, 1],
    )
    .await?;
    let mut expected = by_hand(db, query::<Staff>("SELECT * FROM staff ORDER BY staff_id")).await?;
    let stores = by_hand(
        db,
        query::<(i32, Store)>("SELECT s.store_id, s.* FROM store s"),
    )
    .await?;
    let addresses = by_hand(
        db,
        query::<(i32, Address)>(
            "SELECT a.address_id, a.* FROM address a \
             WHERE a.address_id IN (SELECT address_id FROM staff)",
        ),
    )
    .await?;
    attach_one(&mut expected, stores, |s| s.store_id, |s| &mut s.store)?;
    attach_one(
        &mut expected,
        addresses,
        |s| s.address_id,
        |s| &mut s.address,
    )?;
    same_graph("staff with store and address", &got, &expected)
}

/// Payment -> customer, rental and staff (belongs_to from a partitioned table).
async fn rel_payment_customer_rental_staff(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            select::<Payment>()
                .filter(Payment::customer_id.le(5))
                .order_by(Payment::payment_date)
                .order_by(Payment::payment_id)
                .load(w.of(Payment::customer))
                .load(w.of(Payment::rental))
                .load(w.of(Payment::staff))
        },
        [4, 4, 1],
    )
    .await?;
    let mut expected = by_hand(
        db,
        query::<Payment>(
            "SELECT * FROM payment WHERE customer_id <= 5 ORDER BY payment_date, payment_id",
        ),
    )
    .await?;
    let customers = by_hand(
        db,
        query::<(i32, Customer)>(
            "SELECT c.customer_id, c.* FROM customer c WHERE c.customer_id <= 5",
        ),
    )
    .await?;
    let rentals = by_hand(
        db,
        query::<(i32, Rental)>("SELECT r.rental_id, r.* FROM rental r WHERE r.customer_id <= 5"),
    )
    .await?;
    let staff = by_hand(
        db,
        query::<(i32, Staff)>("SELECT s.staff_id, s.* FROM staff s"),
    )
    .await?;
    attach_one(
        &mut expected,
        customers,
        |p| p.customer_id,
        |p| &mut p.customer,
    )?;
    attach_one(&mut expected, rentals, |p| p.rental_id, |p| &mut p.rental)?;
    attach_one(&mut expected, staff, |p| p.staff_id, |p| &mut p.staff)?;
    same_graph("payments with customer, rental, staff", &got, &expected)?;
    ensure(got.len() > 100, || format!("{} payments", got.len()))
}

/// Country -> cities (has_many, by name).
async fn rel_country_cities_has_many(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            select::<Country>()
                .filter(Country::country.starts_with("C"))
                .order_by(Country::country)
                .load(w.of(Country::cities))
        },
        [2, 2, 1],
    )
    .await?;
    let mut expected = by_hand(
        db,
        query::<Country>("SELECT * FROM country WHERE country LIKE 'C%' ORDER BY country"),
    )
    .await?;
    let cities = by_hand(
        db,
        query::<(i32, City)>(
            "SELECT ci.country_id, ci.* FROM city ci ORDER BY ci.city, ci.city_id",
        ),
    )
    .await?;
    attach_many(&mut expected, cities, |c| c.country_id, |c| &mut c.cities);
    same_graph("countries with cities", &got, &expected)?;
    let (total, _) = counts(&got, |c| c.cities.as_option());
    ensure(total > 60, || format!("{total} cities"))
}

/// Films with an actor named PENELOPE (`any` through film_actor).
async fn rel_filter_films_with_an_actor(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Film>()
            .filter(Film::actors.any(Actor::first_name.eq("PENELOPE")))
            .order_by(Film::film_id),
        query(
            "SELECT f.* FROM film f WHERE EXISTS ( \
               SELECT 1 FROM film_actor fa JOIN actor a ON a.actor_id = fa.actor_id \
               WHERE fa.film_id = f.film_id AND a.first_name = 'PENELOPE') \
             ORDER BY f.film_id",
        ),
    )
    .await?;
    ensure(rows.len() > 50, || format!("{} films", rows.len()))
}

/// Comedies in English, longer than two hours: `any` on a many_to_many and `has` on a
/// belongs_to in one filter.
async fn rel_filter_films_of_a_category_and_language(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Film>()
            .filter(Film::categories.any(Category::name.eq("Comedy")))
            .filter(Film::language.has(Language::name.eq("English")))
            .filter(Film::length.gt(120_i16))
            .order_by(Film::title),
        query(
            "SELECT f.* FROM film f \
             JOIN film_category fc ON fc.film_id = f.film_id \
             JOIN category c ON c.category_id = fc.category_id \
             JOIN language l ON l.language_id = f.language_id \
             WHERE c.name = 'Comedy' AND l.name = 'English' AND f.length > 120 \
             ORDER BY f.title",
        ),
    )
    .await?;
    ensure(rows.len() > 10, || format!("{} comedies", rows.len()))
}

/// Customers who rented an NC-17 film: `any` on a has_many, then `has` twice down the chain.
async fn rel_filter_customers_who_rented_nc17(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        store_one_customers().filter(
            Customer::rentals.any(
                Rental::inventory.has(
                    Inventory::film.has(
                        Film::rating
                            .eq(MpaaRating::Nc17)
                            .and(Film::length.gt(180_i16)),
                    ),
                ),
            ),
        ),
        query(
            "SELECT c.* FROM customer c WHERE c.store_id = 1 AND EXISTS ( \
               SELECT 1 FROM rental r JOIN inventory i ON i.inventory_id = r.inventory_id \
               JOIN film f ON f.film_id = i.film_id \
               WHERE r.customer_id = c.customer_id AND f.rating = 'NC-17' AND f.length > 180) \
             ORDER BY c.customer_id",
        ),
    )
    .await?;
    ensure(rows.len() > 10 && rows.len() < 326, || {
        format!("{} customers", rows.len())
    })
}

/// Customers living in Canada: `has` along address -> city -> country.
async fn rel_filter_customers_in_a_country(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Customer>()
            .filter(
                Customer::address
                    .has(Address::city.has(City::country.has(Country::country.eq("Canada")))),
            )
            .order_by(Customer::last_name),
        query(
            "SELECT cu.* FROM customer cu JOIN address a ON a.address_id = cu.address_id \
             JOIN city ci ON ci.city_id = a.city_id \
             JOIN country co ON co.country_id = ci.country_id \
             WHERE co.country = 'Canada' ORDER BY cu.last_name",
        ),
    )
    .await?;
    ensure(rows.len() == 5, || format!("{} Canadians", rows.len()))
}

/// Reading a relationship nobody loaded is a `NotLoaded` error naming it, and sends nothing.
async fn rel_unloaded_relationships_are_errors(db: &Database) -> Outcome {
    let films = db
        .fetch_all(some_films().load(Film::language.selectin()))
        .await
        .map_err(|e| e.to_string())?;
    not_loaded(db, &films[0].actors, "Film", "actors")?;
    not_loaded(db, &films[0].original_language, "Film", "original_language")?;
    let language = loaded(&films[0].language)?;
    not_loaded(db, &language.films, "Language", "films")?;
    let customers = db
        .fetch_all(query::<Customer>(STORE_ONE_CUSTOMERS))
        .await
        .map_err(|e| e.to_string())?;
    not_loaded(db, &customers[0].rentals, "Customer", "rentals")?;
    not_loaded(db, &customers[0].address, "Customer", "address")?;
    let payment = db
        .fetch_one(
            select::<Payment>()
                .order_by(Payment::payment_id)
                .limit(1)
                .load(Payment::rental.joined()),
        )
        .await
        .map_err(|e| e.to_string())?;
    not_loaded(db, &payment.customer, "Payment", "customer")?;
    not_loaded(
        db,
        &loaded(&payment.rental)?.inventory,
        "Rental",
        "inventory",
    )
}
