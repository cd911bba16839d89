//! Models of the Pagila sample database (a DVD rental store), matching the tables of
//! `pagila-schema.sql` column for column. Pagila exercises the less common types: the `year`
//! domain (decoded as its base type, `integer`), the `mpaa_rating` enum, `text[]`, `bytea`,
//! `tsvector`, `numeric` amounts, `date`, timestamps with time zone, `character(20)`, and a
//! table partitioned by range (`payment`, modelled by its parent table).
//!
//! The relationships between them are `Related<...>` fields with `#[relationship(...)]`: not
//! columns, not loaded unless a query asks (`Film::actors.selectin()`).
//!
//! The dataset is not part of the project: the tests in `tests/tests/datasets` load it at run
//! time from `../shared/datasets` (or `ORM_DATASETS`).

use chrono::{DateTime, NaiveDate, Utc};
use orm_postgres::prelude::*;
use orm_postgres::types::TsVector;
use rust_decimal::Decimal;

/// The `mpaa_rating` enum type, with the labels exactly as the schema declares them.
#[derive(DbEnum, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[db_enum(name = "mpaa_rating")]
pub enum MpaaRating {
    #[db_enum(rename = "G")]
    G,
    #[db_enum(rename = "PG")]
    Pg,
    #[db_enum(rename = "PG-13")]
    Pg13,
    #[db_enum(rename = "R")]
    R,
    #[db_enum(rename = "NC-17")]
    Nc17,
}

/// `actor`
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "actor")]
pub struct Actor {
    #[model(
        primary_key,
        generated,
        default = "nextval('actor_actor_id_seq'::regclass)"
    )]
    pub actor_id: i32,
    #[model(index)]
    pub first_name: String,
    pub last_name: String,
    #[model(default = "now()")]
    pub last_update: DateTime<Utc>,
    /// The actor's films, through `film_actor` (link columns inferred), by title.
    #[relationship(many_to_many = Film, secondary = FilmActor, order_by = ("title", "film_id"), back_populates = "actors")]
    pub films: Related<Vec<Film>>,
}

/// `country`
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "country")]
pub struct Country {
    #[model(
        primary_key,
        generated,
        default = "nextval('country_country_id_seq'::regclass)"
    )]
    pub country_id: i32,
    pub country: String,
    #[model(default = "now()")]
    pub last_update: DateTime<Utc>,
    /// The country's cities, by name.
    #[relationship(has_many = City, foreign_key = "country_id", order_by = ("city", "city_id"), back_populates = "country")]
    pub cities: Related<Vec<City>>,
}

/// `city`
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "city")]
pub struct City {
    #[model(
        primary_key,
        generated,
        default = "nextval('city_city_id_seq'::regclass)"
    )]
    pub city_id: i32,
    pub city: String,
    #[model(
        references = "country.country_id",
        on_update = "cascade",
        on_delete = "restrict",
        index
    )]
    pub country_id: i32,
    #[model(default = "now()")]
    pub last_update: DateTime<Utc>,
    /// The country.
    #[relationship(belongs_to = Country, foreign_key = "country_id", back_populates = "cities")]
    pub country: Related<Country>,
}

/// `address`
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "address")]
pub struct Address {
    #[model(
        primary_key,
        generated,
        default = "nextval('address_address_id_seq'::regclass)"
    )]
    pub address_id: i32,
    pub address: String,
    pub address2: Option<String>,
    pub district: String,
    #[model(
        references = "city.city_id",
        on_update = "cascade",
        on_delete = "restrict",
        index
    )]
    pub city_id: i32,
    pub postal_code: Option<String>,
    pub phone: String,
    #[model(default = "now()")]
    pub last_update: DateTime<Utc>,
    /// The city.
    #[relationship(belongs_to = City, foreign_key = "city_id")]
    pub city: Related<City>,
}

/// `category`
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "category")]
pub struct Category {
    #[model(
        primary_key,
        generated,
        default = "nextval('category_category_id_seq'::regclass)"
    )]
    pub category_id: i32,
    pub name: String,
    #[model(default = "now()")]
    pub last_update: DateTime<Utc>,
    /// The category's films, through `film_category`, by title.
    #[relationship(many_to_many = Film, secondary = FilmCategory, order_by = ("title", "film_id"), back_populates = "categories")]
    pub films: Related<Vec<Film>>,
}

/// `language`: `name` is a `character(20)`, so it comes back blank-padded.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "language")]
pub struct Language {
    #[model(
        primary_key,
        generated,
        default = "nextval('language_language_id_seq'::regclass)"
    )]
    pub language_id: i32,
    pub name: String,
    #[model(default = "now()")]
    pub last_update: DateTime<Utc>,
    /// The films in this language: `film` has two foreign keys to `language`, so this one
    /// names its own.
    #[relationship(has_many = Film, foreign_key = "language_id", order_by = "film_id", back_populates = "language")]
    pub films: Related<Vec<Film>>,
}

/// `film`. `release_year` is of the domain `year` (over `integer`); `fulltext` is kept up to
/// date by a trigger from the title and description.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "film")]
pub struct Film {
    #[model(
        primary_key,
        generated,
        default = "nextval('film_film_id_seq'::regclass)"
    )]
    pub film_id: i32,
    #[model(index)]
    pub title: String,
    pub description: Option<String>,
    pub release_year: Option<i32>,
    #[model(
        references = "language.language_id",
        on_update = "cascade",
        on_delete = "restrict",
        index
    )]
    pub language_id: i32,
    #[model(
        references = "language.language_id",
        on_update = "cascade",
        on_delete = "restrict",
        index
    )]
    pub original_language_id: Option<i32>,
    #[model(default = "3")]
    pub rental_duration: i16,
    #[model(default = "4.99")]
    pub rental_rate: Decimal,
    pub length: Option<i16>,
    #[model(default = "19.99")]
    pub replacement_cost: Decimal,
    #[model(default = "'G'")]
    pub rating: Option<MpaaRating>,
    #[model(default = "now()")]
    pub last_update: DateTime<Utc>,
    pub special_features: Option<Vec<String>>,
    pub fulltext: TsVector,
    /// The language (a required foreign key).
    #[relationship(belongs_to = Language, foreign_key = "language_id", back_populates = "films")]
    pub language: Related<Language>,
    /// The original language: a second relationship to `language`, through another (nullable)
    /// foreign key.
    #[relationship(belongs_to = Language, foreign_key = "original_language_id")]
    pub original_language: Related<Option<Language>>,
    /// The cast, through `film_actor` (link columns named), by name.
    #[relationship(many_to_many = Actor, secondary = FilmActor, foreign_key = "film_id", target_key = "actor_id", order_by = ("last_name", "first_name", "actor_id"), back_populates = "films")]
    pub actors: Related<Vec<Actor>>,
    /// The categories, through `film_category`.
    #[relationship(many_to_many = Category, secondary = FilmCategory, order_by = "name", back_populates = "films")]
    pub categories: Related<Vec<Category>>,
    /// The copies in the stores.
    #[relationship(has_many = Inventory, foreign_key = "film_id", order_by = "inventory_id", back_populates = "film")]
    pub inventories: Related<Vec<Inventory>>,
}

/// `film_actor`: which actors play in which films (composite key).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "film_actor")]
pub struct FilmActor {
    #[model(
        primary_key,
        references = "actor.actor_id",
        on_update = "cascade",
        on_delete = "restrict"
    )]
    pub actor_id: i32,
    #[model(
        primary_key,
        references = "film.film_id",
        on_update = "cascade",
        on_delete = "restrict",
        index
    )]
    pub film_id: i32,
    #[model(default = "now()")]
    pub last_update: DateTime<Utc>,
    /// The actor (the link row as an association object).
    #[relationship(belongs_to = Actor, foreign_key = "actor_id")]
    pub actor: Related<Actor>,
    /// The film.
    #[relationship(belongs_to = Film, foreign_key = "film_id")]
    pub film: Related<Film>,
}

/// `film_category`: the categories of each film (composite key).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "film_category")]
pub struct FilmCategory {
    #[model(
        primary_key,
        references = "film.film_id",
        on_update = "cascade",
        on_delete = "restrict"
    )]
    pub film_id: i32,
    #[model(
        primary_key,
        references = "category.category_id",
        on_update = "cascade",
        on_delete = "restrict"
    )]
    pub category_id: i32,
    #[model(default = "now()")]
    pub last_update: DateTime<Utc>,
}

/// `store`. `manager_staff_id` names a staff member, but the schema declares no foreign key
/// for it (only a unique index), so neither does the model.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "store")]
pub struct Store {
    #[model(
        primary_key,
        generated,
        default = "nextval('store_store_id_seq'::regclass)"
    )]
    pub store_id: i32,
    #[model(unique)]
    pub manager_staff_id: i32,
    #[model(
        references = "address.address_id",
        on_update = "cascade",
        on_delete = "restrict"
    )]
    pub address_id: i32,
    #[model(default = "now()")]
    pub last_update: DateTime<Utc>,
    /// The store's address.
    #[relationship(belongs_to = Address, foreign_key = "address_id")]
    pub address: Related<Address>,
    /// The copies the store holds (foreign key inferred from `inventory.store_id`).
    #[relationship(has_many = Inventory, order_by = "inventory_id", back_populates = "store")]
    pub inventories: Related<Vec<Inventory>>,
    /// The store's staff.
    #[relationship(has_many = Staff, foreign_key = "store_id", order_by = "staff_id", back_populates = "store")]
    pub staff: Related<Vec<Staff>>,
    /// The store's customers.
    #[relationship(has_many = Customer, foreign_key = "store_id", order_by = "customer_id", back_populates = "store")]
    pub customers: Related<Vec<Customer>>,
}

/// `staff`; `picture` is a `bytea`.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "staff")]
pub struct Staff {
    #[model(
        primary_key,
        generated,
        default = "nextval('staff_staff_id_seq'::regclass)"
    )]
    pub staff_id: i32,
    pub first_name: String,
    pub last_name: String,
    #[model(
        references = "address.address_id",
        on_update = "cascade",
        on_delete = "restrict"
    )]
    pub address_id: i32,
    pub email: Option<String>,
    #[model(references = "store.store_id")]
    pub store_id: i32,
    #[model(default = "true")]
    pub active: bool,
    pub username: String,
    pub password: Option<String>,
    #[model(default = "now()")]
    pub last_update: DateTime<Utc>,
    pub picture: Option<Vec<u8>>,
    /// The store the staff member works at.
    #[relationship(belongs_to = Store, foreign_key = "store_id", back_populates = "staff")]
    pub store: Related<Store>,
    /// The staff member's address.
    #[relationship(belongs_to = Address, foreign_key = "address_id")]
    pub address: Related<Address>,
}

/// `customer`: `activebool` is the boolean flag, `active` a legacy integer; `last_update` is
/// nullable here (unlike the other tables).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "customer")]
pub struct Customer {
    #[model(
        primary_key,
        generated,
        default = "nextval('customer_customer_id_seq'::regclass)"
    )]
    pub customer_id: i32,
    #[model(
        references = "store.store_id",
        on_update = "cascade",
        on_delete = "restrict",
        index
    )]
    pub store_id: i32,
    pub first_name: String,
    #[model(index)]
    pub last_name: String,
    pub email: Option<String>,
    #[model(
        references = "address.address_id",
        on_update = "cascade",
        on_delete = "restrict",
        index
    )]
    pub address_id: i32,
    #[model(default = "true")]
    pub activebool: bool,
    #[model(default = "CURRENT_DATE")]
    pub create_date: NaiveDate,
    #[model(default = "now()")]
    pub last_update: Option<DateTime<Utc>>,
    pub active: Option<i32>,
    /// The customer's store.
    #[relationship(belongs_to = Store, foreign_key = "store_id", back_populates = "customers")]
    pub store: Related<Store>,
    /// The customer's address (then its city, then its country).
    #[relationship(belongs_to = Address, foreign_key = "address_id")]
    pub address: Related<Address>,
    /// The customer's rentals, oldest first.
    #[relationship(has_many = Rental, foreign_key = "customer_id", order_by = ("rental_date", "rental_id"), back_populates = "customer")]
    pub rentals: Related<Vec<Rental>>,
    /// The customer's payments, newest first (`payment` has a composite key).
    #[relationship(has_many = Payment, foreign_key = "customer_id", order_by = ("-payment_date", "-payment_id"), back_populates = "customer")]
    pub payments: Related<Vec<Payment>>,
}

/// `inventory`: one copy of a film in a store.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "inventory", index(store_id, film_id))]
pub struct Inventory {
    #[model(
        primary_key,
        generated,
        default = "nextval('inventory_inventory_id_seq'::regclass)"
    )]
    pub inventory_id: i32,
    #[model(
        references = "film.film_id",
        on_update = "cascade",
        on_delete = "restrict"
    )]
    pub film_id: i32,
    #[model(
        references = "store.store_id",
        on_update = "cascade",
        on_delete = "restrict"
    )]
    pub store_id: i32,
    #[model(default = "now()")]
    pub last_update: DateTime<Utc>,
    /// The film this copy is of.
    #[relationship(belongs_to = Film, foreign_key = "film_id", back_populates = "inventories")]
    pub film: Related<Film>,
    /// The store holding it.
    #[relationship(belongs_to = Store, foreign_key = "store_id", back_populates = "inventories")]
    pub store: Related<Store>,
    /// Its rentals, oldest first.
    #[relationship(has_many = Rental, foreign_key = "inventory_id", order_by = ("rental_date", "rental_id"), back_populates = "inventory")]
    pub rentals: Related<Vec<Rental>>,
}

/// `rental`: `return_date` is `NULL` while the copy is out.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "rental", unique(rental_date, inventory_id, customer_id))]
pub struct Rental {
    #[model(
        primary_key,
        generated,
        default = "nextval('rental_rental_id_seq'::regclass)"
    )]
    pub rental_id: i32,
    pub rental_date: DateTime<Utc>,
    #[model(
        references = "inventory.inventory_id",
        on_update = "cascade",
        on_delete = "restrict",
        index
    )]
    pub inventory_id: i32,
    #[model(
        references = "customer.customer_id",
        on_update = "cascade",
        on_delete = "restrict"
    )]
    pub customer_id: i32,
    pub return_date: Option<DateTime<Utc>>,
    #[model(
        references = "staff.staff_id",
        on_update = "cascade",
        on_delete = "restrict"
    )]
    pub staff_id: i32,
    #[model(default = "now()")]
    pub last_update: DateTime<Utc>,
    /// The copy rented.
    #[relationship(belongs_to = Inventory, foreign_key = "inventory_id", back_populates = "rentals")]
    pub inventory: Related<Inventory>,
    /// The customer.
    #[relationship(belongs_to = Customer, foreign_key = "customer_id", back_populates = "rentals")]
    pub customer: Related<Customer>,
    /// The staff member who handled it.
    #[relationship(belongs_to = Staff, foreign_key = "staff_id")]
    pub staff: Related<Staff>,
    /// Its payments.
    #[relationship(has_many = Payment, foreign_key = "rental_id", order_by = ("payment_date", "payment_id"), back_populates = "rental")]
    pub payments: Related<Vec<Payment>>,
}

/// `payment`: the parent of a table partitioned by month of `payment_date` (`payment_p2022_01`
/// ... `payment_p2022_07`); queries on it read every partition. Its key is
/// `(payment_date, payment_id)`, as a partitioned table's key must contain the partition key.
/// The foreign keys are declared on the partitions; the model declares them on the parent so
/// `join_fk` works.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "payment")]
pub struct Payment {
    #[model(primary_key, default = "nextval('payment_payment_id_seq'::regclass)")]
    pub payment_id: i32,
    #[model(references = "customer.customer_id", index)]
    pub customer_id: i32,
    #[model(references = "staff.staff_id", index)]
    pub staff_id: i32,
    #[model(references = "rental.rental_id")]
    pub rental_id: i32,
    pub amount: Decimal,
    #[model(primary_key)]
    pub payment_date: DateTime<Utc>,
    /// The paying customer.
    #[relationship(belongs_to = Customer, foreign_key = "customer_id", back_populates = "payments")]
    pub customer: Related<Customer>,
    /// The rental paid for.
    #[relationship(belongs_to = Rental, foreign_key = "rental_id", back_populates = "payments")]
    pub rental: Related<Rental>,
    /// The staff member who took it.
    #[relationship(belongs_to = Staff, foreign_key = "staff_id")]
    pub staff: Related<Staff>,
}
