//! Models of the Chinook sample database (a digital music store), matching the tables of
//! `Chinook_PostgreSql.sql` column for column: `INT` is `i32`, `VARCHAR(n)` a `String` with
//! `len = n`, `NUMERIC(10,2)` a `Decimal`, `TIMESTAMP` a `NaiveDateTime`; nullable columns are
//! `Option`s. Foreign keys are declared with `references`, so `join_fk` can use them.
//!
//! The dataset is not part of the project: the tests in `tests/tests/datasets` load it at run
//! time from `../shared/datasets` (or `ORM_DATASETS`).

use chrono::NaiveDateTime;
use orm_postgres::prelude::*;
use rust_decimal::Decimal;

/// `artist`
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "artist")]
pub struct Artist {
    #[model(primary_key)]
    pub artist_id: i32,
    #[model(len = 120)]
    pub name: Option<String>,
}

/// `album`
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "album")]
pub struct Album {
    #[model(primary_key)]
    pub album_id: i32,
    #[model(len = 160)]
    pub title: String,
    #[model(references = "artist.artist_id", index)]
    pub artist_id: i32,
}

/// `genre`
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "genre")]
pub struct Genre {
    #[model(primary_key)]
    pub genre_id: i32,
    #[model(len = 120)]
    pub name: Option<String>,
}

/// `media_type`
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "media_type")]
pub struct MediaType {
    #[model(primary_key)]
    pub media_type_id: i32,
    #[model(len = 120)]
    pub name: Option<String>,
}

/// `track`
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "track")]
pub struct Track {
    #[model(primary_key)]
    pub track_id: i32,
    #[model(len = 200)]
    pub name: String,
    #[model(references = "album.album_id", index)]
    pub album_id: Option<i32>,
    #[model(references = "media_type.media_type_id", index)]
    pub media_type_id: i32,
    #[model(references = "genre.genre_id", index)]
    pub genre_id: Option<i32>,
    #[model(len = 220)]
    pub composer: Option<String>,
    pub milliseconds: i32,
    pub bytes: Option<i32>,
    pub unit_price: Decimal,
}

/// `playlist`
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "playlist")]
pub struct Playlist {
    #[model(primary_key)]
    pub playlist_id: i32,
    #[model(len = 120)]
    pub name: Option<String>,
}

/// `playlist_track`: the many-to-many link between playlists and tracks (composite key).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "playlist_track")]
pub struct PlaylistTrack {
    #[model(primary_key, references = "playlist.playlist_id", index)]
    pub playlist_id: i32,
    #[model(primary_key, references = "track.track_id", index)]
    pub track_id: i32,
}

/// `employee`: `reports_to` references another employee (the org chart).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "employee")]
pub struct Employee {
    #[model(primary_key)]
    pub employee_id: i32,
    #[model(len = 20)]
    pub last_name: String,
    #[model(len = 20)]
    pub first_name: String,
    #[model(len = 30)]
    pub title: Option<String>,
    #[model(references = "employee.employee_id", index)]
    pub reports_to: Option<i32>,
    pub birth_date: Option<NaiveDateTime>,
    pub hire_date: Option<NaiveDateTime>,
    #[model(len = 70)]
    pub address: Option<String>,
    #[model(len = 40)]
    pub city: Option<String>,
    #[model(len = 40)]
    pub state: Option<String>,
    #[model(len = 40)]
    pub country: Option<String>,
    #[model(len = 10)]
    pub postal_code: Option<String>,
    #[model(len = 24)]
    pub phone: Option<String>,
    #[model(len = 24)]
    pub fax: Option<String>,
    #[model(len = 60)]
    pub email: Option<String>,
}

/// `customer`: each has a support representative (an employee).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "customer")]
pub struct Customer {
    #[model(primary_key)]
    pub customer_id: i32,
    #[model(len = 40)]
    pub first_name: String,
    #[model(len = 20)]
    pub last_name: String,
    #[model(len = 80)]
    pub company: Option<String>,
    #[model(len = 70)]
    pub address: Option<String>,
    #[model(len = 40)]
    pub city: Option<String>,
    #[model(len = 40)]
    pub state: Option<String>,
    #[model(len = 40)]
    pub country: Option<String>,
    #[model(len = 10)]
    pub postal_code: Option<String>,
    #[model(len = 24)]
    pub phone: Option<String>,
    #[model(len = 24)]
    pub fax: Option<String>,
    #[model(len = 60)]
    pub email: String,
    #[model(references = "employee.employee_id", index)]
    pub support_rep_id: Option<i32>,
}

/// `invoice`
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "invoice")]
pub struct Invoice {
    #[model(primary_key)]
    pub invoice_id: i32,
    #[model(references = "customer.customer_id", index)]
    pub customer_id: i32,
    pub invoice_date: NaiveDateTime,
    #[model(len = 70)]
    pub billing_address: Option<String>,
    #[model(len = 40)]
    pub billing_city: Option<String>,
    #[model(len = 40)]
    pub billing_state: Option<String>,
    #[model(len = 40)]
    pub billing_country: Option<String>,
    #[model(len = 10)]
    pub billing_postal_code: Option<String>,
    pub total: Decimal,
}

/// `invoice_line`
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "invoice_line")]
pub struct InvoiceLine {
    #[model(primary_key)]
    pub invoice_line_id: i32,
    #[model(references = "invoice.invoice_id", index)]
    pub invoice_id: i32,
    #[model(references = "track.track_id", index)]
    pub track_id: i32,
    pub unit_price: Decimal,
    pub quantity: i32,
}
