//! Models of the Chinook sample database (a digital music store), matching the tables of
//! `Chinook_PostgreSql.sql` column for column: `INT` is `i32`, `VARCHAR(n)` a `String` with
//! `len = n`, `NUMERIC(10,2)` a `Decimal`, `TIMESTAMP` a `NaiveDateTime`; nullable columns are
//! `Option`s. Foreign keys are declared with `references`, so `join_fk` can use them.
//!
//! The relationships between them are `Related<...>` fields with `#[relationship(...)]`: not
//! columns, not loaded unless a query asks (`Artist::albums.selectin()`).
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
    /// The artist's albums, by title.
    #[relationship(has_many = Album, foreign_key = "artist_id", order_by = ("title", "album_id"), back_populates = "artist")]
    pub albums: Related<Vec<Album>>,
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
    /// The artist (a required foreign key).
    #[relationship(belongs_to = Artist, foreign_key = "artist_id", back_populates = "albums")]
    pub artist: Related<Artist>,
    /// The album's tracks, in track order.
    #[relationship(has_many = Track, foreign_key = "album_id", order_by = "track_id", back_populates = "album")]
    pub tracks: Related<Vec<Track>>,
}

/// `genre`
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "genre")]
pub struct Genre {
    #[model(primary_key)]
    pub genre_id: i32,
    #[model(len = 120)]
    pub name: Option<String>,
    /// The genre's tracks (foreign key inferred from `track.genre_id`).
    #[relationship(has_many = Track, order_by = "track_id", back_populates = "genre")]
    pub tracks: Related<Vec<Track>>,
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
    /// The album (`album_id` is nullable).
    #[relationship(belongs_to = Album, foreign_key = "album_id", back_populates = "tracks")]
    pub album: Related<Option<Album>>,
    /// The media type (a required foreign key).
    #[relationship(belongs_to = MediaType, foreign_key = "media_type_id")]
    pub media_type: Related<MediaType>,
    /// The genre (`genre_id` is nullable).
    #[relationship(belongs_to = Genre, foreign_key = "genre_id", back_populates = "tracks")]
    pub genre: Related<Option<Genre>>,
    /// The playlists holding the track, through `playlist_track` (link columns inferred).
    #[relationship(many_to_many = Playlist, secondary = PlaylistTrack, order_by = "playlist_id", back_populates = "tracks")]
    pub playlists: Related<Vec<Playlist>>,
}

/// `playlist`
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "playlist")]
pub struct Playlist {
    #[model(primary_key)]
    pub playlist_id: i32,
    #[model(len = 120)]
    pub name: Option<String>,
    /// The playlist's tracks, through `playlist_track`, by name.
    #[relationship(many_to_many = Track, secondary = PlaylistTrack, foreign_key = "playlist_id", target_key = "track_id", order_by = ("name", "track_id"), back_populates = "playlists")]
    pub tracks: Related<Vec<Track>>,
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
    /// The manager: the same table, through `reports_to` (the general manager has none).
    #[relationship(belongs_to = Employee, foreign_key = "reports_to", back_populates = "reports")]
    pub manager: Related<Option<Employee>>,
    /// The direct reports, through `reports_to` on the same table.
    #[relationship(has_many = Employee, foreign_key = "reports_to", order_by = "employee_id", back_populates = "manager")]
    pub reports: Related<Vec<Employee>>,
    /// The customers this employee supports.
    #[relationship(has_many = Customer, foreign_key = "support_rep_id", order_by = "customer_id", back_populates = "support_rep")]
    pub customers: Related<Vec<Customer>>,
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
    /// The support representative (`support_rep_id` is nullable).
    #[relationship(belongs_to = Employee, foreign_key = "support_rep_id", back_populates = "customers")]
    pub support_rep: Related<Option<Employee>>,
    /// The customer's invoices, newest first.
    #[relationship(has_many = Invoice, foreign_key = "customer_id", order_by = ("-invoice_date", "-invoice_id"), back_populates = "customer")]
    pub invoices: Related<Vec<Invoice>>,
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
    /// The customer.
    #[relationship(belongs_to = Customer, foreign_key = "customer_id", back_populates = "invoices")]
    pub customer: Related<Customer>,
    /// The invoice's lines (the association object between invoices and tracks).
    #[relationship(has_many = InvoiceLine, foreign_key = "invoice_id", order_by = "invoice_line_id", back_populates = "invoice")]
    pub lines: Related<Vec<InvoiceLine>>,
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
    /// The invoice.
    #[relationship(belongs_to = Invoice, foreign_key = "invoice_id", back_populates = "lines")]
    pub invoice: Related<Invoice>,
    /// The track sold.
    #[relationship(belongs_to = Track, foreign_key = "track_id")]
    pub track: Related<Track>,
}
