//! Chinook relationships on the real data: every kind loaded with each strategy, compared with
//! the same graph built from hand-written SQL; nested paths; filters through relationships;
//! unloaded relationships.
//!
//! Statement counts: a `selectin` or `subquery` load costs one statement per relationship per
//! level, a `joined` one none at the first level (it rides on the query's own rows; below the
//! first level a joined load runs as selectin).
//!
//! Over 800 lines on purpose: one catalogue of independent relationship checks, run from the
//! list in `run`; each builds the same graph with the ORM and by hand.

use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_tests::chinook::*;

use crate::rel_common::{
    attach_many, attach_one, attach_optional, by_hand, counts, each_way, loaded, not_loaded,
    same_graph,
};
use crate::{Outcome, Report, ensure, run_queries, same_rows};

/// Runs the relationship checks into the dataset's report.
pub async fn run(report: &mut Report, db: &Database) {
    run_queries!(report, db;
        rel_artist_albums_has_many,
        rel_album_artist_belongs_to,
        rel_album_tracks_has_many,
        rel_track_album_genre_media_type_belongs_to,
        rel_playlist_tracks_many_to_many,
        rel_track_playlists_many_to_many_inferred,
        rel_invoice_lines_association_object,
        rel_customer_invoices_and_support_rep,
        rel_employee_manager_and_reports_self_referential,
        rel_nested_artist_albums_tracks_genre,
        rel_nested_invoice_lines_track,
        rel_nested_playlist_tracks_album_artist,
        rel_explicit_load_of_rows_in_hand,
        rel_filter_artists_with_a_long_album,
        rel_filter_tracks_of_an_artist_has_chain,
        rel_filter_playlists_with_a_genre,
        rel_filter_customers_of_a_support_rep,
        rel_filter_self_referential,
        rel_unloaded_relationships_are_errors,
        rel_joined_with_limit_ordered_by_another_table,
        rel_joined_keeps_repeated_parents,
        rel_nested_self_referential_filters,
    );
}

/// The first 30 artists by id (with `LIMIT`, so a joined load wraps the query).
fn first_artists() -> Select<Artist> {
    select::<Artist>().order_by(Artist::artist_id).limit(30)
}

const FIRST_ARTISTS: &str = "SELECT * FROM artist ORDER BY artist_id LIMIT 30";

/// Artist -> albums (has_many, ordered by title): each strategy against hand-written SQL.
async fn rel_artist_albums_has_many(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| first_artists().load(w.of(Artist::albums)),
        [2, 2, 1],
    )
    .await?;
    let mut expected = by_hand(db, query::<Artist>(FIRST_ARTISTS)).await?;
    let albums = by_hand(
        db,
        query::<(i32, Album)>(
            "SELECT al.artist_id, al.* FROM album al \
             WHERE al.artist_id IN (SELECT artist_id FROM artist ORDER BY artist_id LIMIT 30) \
             ORDER BY al.title, al.album_id",
        ),
    )
    .await?;
    attach_many(&mut expected, albums, |a| a.artist_id, |a| &mut a.albums);
    same_graph("artists with albums", &got, &expected)?;
    let (total, empty) = counts(&got, |a| a.albums.as_option());
    ensure(got.len() == 30 && total > 30 && empty > 0, || {
        format!("expected 30 artists, some without albums: {total} albums, {empty} empty")
    })
}

/// Album -> artist (belongs_to, required key).
async fn rel_album_artist_belongs_to(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            select::<Album>()
                .filter(Album::album_id.le(40))
                .order_by(Album::album_id)
                .load(w.of(Album::artist))
        },
        [2, 2, 1],
    )
    .await?;
    let mut expected = by_hand(
        db,
        query::<Album>("SELECT * FROM album WHERE album_id <= 40 ORDER BY album_id"),
    )
    .await?;
    let artists = by_hand(
        db,
        query::<(i32, Artist)>(
            "SELECT ar.artist_id, ar.* FROM artist ar \
             WHERE ar.artist_id IN (SELECT artist_id FROM album WHERE album_id <= 40)",
        ),
    )
    .await?;
    attach_one(&mut expected, artists, |a| a.artist_id, |a| &mut a.artist)?;
    same_graph("albums with their artist", &got, &expected)?;
    let first = loaded(&got[0].artist)?;
    ensure(first.name.as_deref() == Some("AC/DC"), || {
        format!("album 1 is by AC/DC, got {first:?}")
    })
}

/// Album -> tracks (has_many, ordered by track id).
async fn rel_album_tracks_has_many(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            select::<Album>()
                .filter(Album::artist_id.le(30))
                .order_by(Album::title)
                .order_by(Album::album_id)
                .load(w.of(Album::tracks))
        },
        [2, 2, 1],
    )
    .await?;
    let mut expected = by_hand(
        db,
        query::<Album>("SELECT * FROM album WHERE artist_id <= 30 ORDER BY title, album_id"),
    )
    .await?;
    let tracks = by_hand(
        db,
        query::<(i32, Track)>(
            "SELECT t.album_id, t.* FROM track t JOIN album al ON al.album_id = t.album_id \
             WHERE al.artist_id <= 30 ORDER BY t.track_id",
        ),
    )
    .await?;
    attach_many(&mut expected, tracks, |a| a.album_id, |a| &mut a.tracks);
    same_graph("albums with tracks", &got, &expected)?;
    let (total, _) = counts(&got, |a| a.tracks.as_option());
    ensure(total > 300, || format!("only {total} tracks compared"))
}

/// Track -> album, genre (nullable keys) and media type (required): three belongs_to loads of
/// the same parents in one query.
async fn rel_track_album_genre_media_type_belongs_to(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            select::<Track>()
                .filter(Track::track_id.gt(3300))
                .order_by(Track::track_id)
                .load(w.of(Track::album))
                .load(w.of(Track::genre))
                .load(w.of(Track::media_type))
        },
        [4, 4, 1],
    )
    .await?;
    let mut expected = by_hand(
        db,
        query::<Track>("SELECT * FROM track WHERE track_id > 3300 ORDER BY track_id"),
    )
    .await?;
    let albums = by_hand(
        db,
        query::<(i32, Album)>(
            "SELECT al.album_id, al.* FROM album al \
             WHERE al.album_id IN (SELECT album_id FROM track WHERE track_id > 3300)",
        ),
    )
    .await?;
    let genres = by_hand(
        db,
        query::<(i32, Genre)>(
            "SELECT g.genre_id, g.* FROM genre g \
             WHERE g.genre_id IN (SELECT genre_id FROM track WHERE track_id > 3300)",
        ),
    )
    .await?;
    let media = by_hand(
        db,
        query::<(i32, MediaType)>(
            "SELECT m.media_type_id, m.* FROM media_type m \
             WHERE m.media_type_id IN (SELECT media_type_id FROM track WHERE track_id > 3300)",
        ),
    )
    .await?;
    attach_optional(&mut expected, albums, |t| t.album_id, |t| &mut t.album);
    attach_optional(&mut expected, genres, |t| t.genre_id, |t| &mut t.genre);
    attach_one(
        &mut expected,
        media,
        |t| t.media_type_id,
        |t| &mut t.media_type,
    )?;
    same_graph("tracks with album, genre, media type", &got, &expected)?;
    let genres: std::collections::BTreeSet<i32> = got
        .iter()
        .filter_map(|t| t.genre.as_option().cloned().flatten())
        .map(|g| g.genre_id)
        .collect();
    ensure(got.len() == 203 && genres.len() > 3, || {
        format!("{} tracks over {} genres", got.len(), genres.len())
    })
}

/// Playlist <-> tracks (many_to_many through playlist_track, named link columns, ordered by
/// name): all playlists, some of them empty.
async fn rel_playlist_tracks_many_to_many(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            select::<Playlist>()
                .order_by(Playlist::playlist_id)
                .load(w.of(Playlist::tracks))
        },
        [2, 2, 1],
    )
    .await?;
    let mut expected = by_hand(
        db,
        query::<Playlist>("SELECT * FROM playlist ORDER BY playlist_id"),
    )
    .await?;
    let tracks = by_hand(
        db,
        query::<(i32, Track)>(
            "SELECT pt.playlist_id, t.* FROM playlist_track pt \
             JOIN track t ON t.track_id = pt.track_id ORDER BY t.name, t.track_id",
        ),
    )
    .await?;
    attach_many(&mut expected, tracks, |p| p.playlist_id, |p| &mut p.tracks);
    same_graph("playlists with tracks", &got, &expected)?;
    let (total, empty) = counts(&got, |p| p.tracks.as_option());
    ensure(got.len() == 18 && total == 8715 && empty > 0, || {
        format!("{} playlists, {total} tracks, {empty} empty", got.len())
    })
}

/// Track <-> playlists, the other side (link columns inferred from the declared foreign keys).
async fn rel_track_playlists_many_to_many_inferred(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            select::<Track>()
                .filter(Track::album_id.le(5))
                .order_by(Track::track_id)
                .load(w.of(Track::playlists))
        },
        [2, 2, 1],
    )
    .await?;
    let mut expected = by_hand(
        db,
        query::<Track>("SELECT * FROM track WHERE album_id <= 5 ORDER BY track_id"),
    )
    .await?;
    let playlists = by_hand(
        db,
        query::<(i32, Playlist)>(
            "SELECT pt.track_id, p.* FROM playlist_track pt \
             JOIN playlist p ON p.playlist_id = pt.playlist_id \
             WHERE pt.track_id IN (SELECT track_id FROM track WHERE album_id <= 5) \
             ORDER BY p.playlist_id",
        ),
    )
    .await?;
    attach_many(
        &mut expected,
        playlists,
        |t| t.track_id,
        |t| &mut t.playlists,
    );
    same_graph("tracks with playlists", &got, &expected)?;
    let (total, _) = counts(&got, |t| t.playlists.as_option());
    ensure(total > got.len(), || format!("{total} playlist entries"))
}

/// Invoice -> lines (has_many of the association object between invoices and tracks), and each
/// line -> its track (belongs_to).
async fn rel_invoice_lines_association_object(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            select::<Invoice>()
                .filter(Invoice::customer_id.le(3))
                .order_by(Invoice::invoice_id)
                .load(w.of(Invoice::lines))
        },
        [2, 2, 1],
    )
    .await?;
    let mut expected = by_hand(
        db,
        query::<Invoice>("SELECT * FROM invoice WHERE customer_id <= 3 ORDER BY invoice_id"),
    )
    .await?;
    let lines = by_hand(
        db,
        query::<(i32, InvoiceLine)>(
            "SELECT il.invoice_id, il.* FROM invoice_line il \
             JOIN invoice i ON i.invoice_id = il.invoice_id \
             WHERE i.customer_id <= 3 ORDER BY il.invoice_line_id",
        ),
    )
    .await?;
    attach_many(&mut expected, lines, |i| i.invoice_id, |i| &mut i.lines);
    same_graph("invoices with lines", &got, &expected)?;

    // The lines' tracks: the lines of invoice 1 to 20.
    let got = each_way(
        db,
        |w| {
            select::<InvoiceLine>()
                .filter(InvoiceLine::invoice_id.le(20))
                .order_by(InvoiceLine::invoice_line_id)
                .load(w.of(InvoiceLine::track))
                .load(w.of(InvoiceLine::invoice))
        },
        [3, 3, 1],
    )
    .await?;
    let mut expected = by_hand(
        db,
        query::<InvoiceLine>(
            "SELECT * FROM invoice_line WHERE invoice_id <= 20 ORDER BY invoice_line_id",
        ),
    )
    .await?;
    let tracks = by_hand(
        db,
        query::<(i32, Track)>(
            "SELECT t.track_id, t.* FROM track t \
             WHERE t.track_id IN (SELECT track_id FROM invoice_line WHERE invoice_id <= 20)",
        ),
    )
    .await?;
    let invoices = by_hand(
        db,
        query::<(i32, Invoice)>("SELECT i.invoice_id, i.* FROM invoice i WHERE i.invoice_id <= 20"),
    )
    .await?;
    attach_one(&mut expected, tracks, |l| l.track_id, |l| &mut l.track)?;
    attach_one(
        &mut expected,
        invoices,
        |l| l.invoice_id,
        |l| &mut l.invoice,
    )?;
    same_graph("lines with track and invoice", &got, &expected)?;
    ensure(got.len() > 50, || format!("only {} lines", got.len()))
}

/// Customer -> invoices (has_many, newest first: a descending order_by) and customer ->
/// support rep (belongs_to an employee, nullable key), loaded together.
async fn rel_customer_invoices_and_support_rep(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            select::<Customer>()
                .order_by(Customer::customer_id)
                .load(w.of(Customer::invoices))
                .load(w.of(Customer::support_rep))
        },
        [3, 3, 1],
    )
    .await?;
    let mut expected = by_hand(
        db,
        query::<Customer>("SELECT * FROM customer ORDER BY customer_id"),
    )
    .await?;
    let invoices = by_hand(
        db,
        query::<(i32, Invoice)>(
            "SELECT i.customer_id, i.* FROM invoice i ORDER BY i.invoice_date DESC, i.invoice_id DESC",
        ),
    )
    .await?;
    let reps = by_hand(
        db,
        query::<(i32, Employee)>(
            "SELECT e.employee_id, e.* FROM employee e \
             WHERE e.employee_id IN (SELECT support_rep_id FROM customer)",
        ),
    )
    .await?;
    attach_many(
        &mut expected,
        invoices,
        |c| c.customer_id,
        |c| &mut c.invoices,
    );
    attach_optional(
        &mut expected,
        reps,
        |c| c.support_rep_id,
        |c| &mut c.support_rep,
    );
    same_graph("customers with invoices and support rep", &got, &expected)?;
    let (total, _) = counts(&got, |c| c.invoices.as_option());
    ensure(got.len() == 59 && total == 412, || {
        format!("{} customers, {total} invoices", got.len())
    })
}

/// Employee -> manager (belongs_to the same table, nullable) and -> reports (has_many of the
/// same table), and -> the customers they support.
async fn rel_employee_manager_and_reports_self_referential(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            select::<Employee>()
                .order_by(Employee::employee_id)
                .load(w.of(Employee::manager))
                .load(w.of(Employee::reports))
                .load(w.of(Employee::customers))
        },
        [4, 4, 1],
    )
    .await?;
    let mut expected = by_hand(
        db,
        query::<Employee>("SELECT * FROM employee ORDER BY employee_id"),
    )
    .await?;
    let managers = by_hand(
        db,
        query::<(i32, Employee)>("SELECT m.employee_id, m.* FROM employee m"),
    )
    .await?;
    let reports = by_hand(
        db,
        query::<(i32, Employee)>(
            "SELECT r.reports_to, r.* FROM employee r \
             WHERE r.reports_to IS NOT NULL ORDER BY r.employee_id",
        ),
    )
    .await?;
    let customers = by_hand(
        db,
        query::<(i32, Customer)>(
            "SELECT c.support_rep_id, c.* FROM customer c \
             WHERE c.support_rep_id IS NOT NULL ORDER BY c.customer_id",
        ),
    )
    .await?;
    attach_optional(
        &mut expected,
        managers,
        |e| e.reports_to,
        |e| &mut e.manager,
    );
    attach_many(
        &mut expected,
        reports,
        |e| e.employee_id,
        |e| &mut e.reports,
    );
    attach_many(
        &mut expected,
        customers,
        |e| e.employee_id,
        |e| &mut e.customers,
    );
    same_graph(
        "employees with manager, reports, customers",
        &got,
        &expected,
    )?;
    let top = got
        .iter()
        .filter(|e| matches!(e.manager.as_option(), Some(None)))
        .count();
    let (reports, _) = counts(&got, |e| e.reports.as_option());
    ensure(got.len() == 8 && top == 1 && reports == 7, || {
        format!(
            "{} employees, {top} without manager, {reports} reports",
            got.len()
        )
    })
}

/// Three levels: artist -> albums -> tracks -> genre. One statement per level with selectin or
/// subquery (4); a joined first level saves one (joined loads below the first level run as
/// selectin: they have no query of their own to join to).
async fn rel_nested_artist_albums_tracks_genre(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            first_artists().load(
                w.of(Artist::albums)
                    .load(w.of(Album::tracks).load(w.of(Track::genre))),
            )
        },
        [4, 4, 3],
    )
    .await?;
    let mut expected = by_hand(db, query::<Artist>(FIRST_ARTISTS)).await?;
    let mut albums = by_hand(
        db,
        query::<(i32, Album)>(
            "SELECT al.artist_id, al.* FROM album al \
             WHERE al.artist_id IN (SELECT artist_id FROM artist ORDER BY artist_id LIMIT 30) \
             ORDER BY al.title, al.album_id",
        ),
    )
    .await?;
    let mut tracks = by_hand(
        db,
        query::<(i32, Track)>(
            "SELECT t.album_id, t.* FROM track t JOIN album al ON al.album_id = t.album_id \
             WHERE al.artist_id IN (SELECT artist_id FROM artist ORDER BY artist_id LIMIT 30) \
             ORDER BY t.track_id",
        ),
    )
    .await?;
    let genres = by_hand(
        db,
        query::<(i32, Genre)>("SELECT g.genre_id, g.* FROM genre g"),
    )
    .await?;
    attach_optional(
        tracks.iter_mut().map(|(_, t)| t),
        genres,
        |t| t.genre_id,
        |t| &mut t.genre,
    );
    attach_many(
        albums.iter_mut().map(|(_, a)| a),
        tracks,
        |a| a.album_id,
        |a| &mut a.tracks,
    );
    attach_many(&mut expected, albums, |a| a.artist_id, |a| &mut a.albums);
    same_graph("artists -> albums -> tracks -> genre", &got, &expected)?;
    let deepest = got
        .iter()
        .filter_map(|a| a.albums.as_option())
        .flatten()
        .filter_map(|al| al.tracks.as_option())
        .flatten()
        .filter(|t| matches!(t.genre.as_option(), Some(Some(_))))
        .count();
    ensure(deepest > 200, || {
        format!("only {deepest} tracks with a genre")
    })
}

/// Invoice -> lines -> track: the association object and what it points to.
async fn rel_nested_invoice_lines_track(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            select::<Invoice>()
                .filter(Invoice::billing_country.eq("Germany"))
                .order_by(Invoice::invoice_date.desc())
                .order_by(Invoice::invoice_id)
                .load(w.of(Invoice::lines).load(w.of(InvoiceLine::track)))
        },
        [3, 3, 2],
    )
    .await?;
    let mut expected = by_hand(
        db,
        query::<Invoice>(
            "SELECT * FROM invoice WHERE billing_country = 'Germany' \
             ORDER BY invoice_date DESC, invoice_id",
        ),
    )
    .await?;
    let mut lines = by_hand(
        db,
        query::<(i32, InvoiceLine)>(
            "SELECT il.invoice_id, il.* FROM invoice_line il \
             JOIN invoice i ON i.invoice_id = il.invoice_id \
             WHERE i.billing_country = 'Germany' ORDER BY il.invoice_line_id",
        ),
    )
    .await?;
    let tracks = by_hand(
        db,
        query::<(i32, Track)>(
            "SELECT t.track_id, t.* FROM track t WHERE t.track_id IN ( \
               SELECT il.track_id FROM invoice_line il \
               JOIN invoice i ON i.invoice_id = il.invoice_id \
               WHERE i.billing_country = 'Germany')",
        ),
    )
    .await?;
    attach_one(
        lines.iter_mut().map(|(_, l)| l),
        tracks,
        |l| l.track_id,
        |l| &mut l.track,
    )?;
    attach_many(&mut expected, lines, |i| i.invoice_id, |i| &mut i.lines);
    same_graph("invoices -> lines -> track", &got, &expected)?;
    let (total, _) = counts(&got, |i| i.lines.as_option());
    ensure(got.len() == 28 && total > 100, || {
        format!("{} German invoices, {total} lines", got.len())
    })
}

/// Playlist -> tracks -> album -> artist: a many_to_many level with belongs_to levels under
/// it (the nested subquery loads filter by the many_to_many loader's own query); the small
/// playlists, two of them empty.
async fn rel_nested_playlist_tracks_album_artist(db: &Database) -> Outcome {
    let got = each_way(
        db,
        |w| {
            select::<Playlist>()
                .filter(Playlist::playlist_id.ge(6).and(Playlist::playlist_id.ne(8)))
                .order_by(Playlist::playlist_id)
                .load(
                    w.of(Playlist::tracks)
                        .load(w.of(Track::album).load(w.of(Album::artist))),
                )
        },
        [4, 4, 3],
    )
    .await?;
    let mut expected = by_hand(
        db,
        query::<Playlist>(
            "SELECT * FROM playlist WHERE playlist_id >= 6 AND playlist_id <> 8 \
             ORDER BY playlist_id",
        ),
    )
    .await?;
    let mut tracks = by_hand(
        db,
        query::<(i32, Track)>(
            "SELECT pt.playlist_id, t.* FROM playlist_track pt \
             JOIN track t ON t.track_id = pt.track_id \
             WHERE pt.playlist_id >= 6 AND pt.playlist_id <> 8 ORDER BY t.name, t.track_id",
        ),
    )
    .await?;
    let mut albums = by_hand(
        db,
        query::<(i32, Album)>("SELECT al.album_id, al.* FROM album al"),
    )
    .await?;
    let artists = by_hand(
        db,
        query::<(i32, Artist)>("SELECT ar.artist_id, ar.* FROM artist ar"),
    )
    .await?;
    attach_one(
        albums.iter_mut().map(|(_, a)| a),
        artists,
        |a| a.artist_id,
        |a| &mut a.artist,
    )?;
    attach_optional(
        tracks.iter_mut().map(|(_, t)| t),
        albums,
        |t| t.album_id,
        |t| &mut t.album,
    );
    attach_many(&mut expected, tracks, |p| p.playlist_id, |p| &mut p.tracks);
    same_graph("playlists -> tracks -> album -> artist", &got, &expected)?;
    let (total, empty) = counts(&got, |p| p.tracks.as_option());
    ensure(total > 300 && empty > 0, || {
        format!("{total} tracks, {empty} empty playlists")
    })
}

/// `Executor::load` on rows already in hand: one statement per level, the same graph as
/// loading in the query.
async fn rel_explicit_load_of_rows_in_hand(db: &Database) -> Outcome {
    let in_query = db
        .fetch_all(first_artists().load(Artist::albums.selectin().load(Album::tracks.selectin())))
        .await
        .map_err(|e| e.to_string())?;
    let mut artists = db
        .fetch_all(first_artists())
        .await
        .map_err(|e| e.to_string())?;
    let before = db.statement_count();
    db.load(
        &mut artists,
        Artist::albums.selectin().load(Album::tracks.subquery()),
    )
    .await
    .map_err(|e| e.to_string())?;
    let sent = db.statement_count() - before;
    ensure(sent == 2, || format!("{sent} statements, expected 2"))?;
    same_graph("explicit load vs load in the query", &artists, &in_query)?;
    // Loading again replaces the value, with the same result.
    db.load(&mut artists, Artist::albums.subquery())
        .await
        .map_err(|e| e.to_string())?;
    let again: Vec<usize> = artists
        .iter()
        .map(|a| a.albums.as_option().map_or(0, Vec::len))
        .collect();
    let first: Vec<usize> = in_query
        .iter()
        .map(|a| a.albums.as_option().map_or(0, Vec::len))
        .collect();
    ensure(again == first, || format!("{again:?} vs {first:?}"))
}

/// Artists with an album of more than 20 tracks: `Artist::albums.any(..)` with a correlated
/// count inside.
async fn rel_filter_artists_with_a_long_album(db: &Database) -> Outcome {
    let tracks_of_album = select::<Track>()
        .filter(Track::album_id.eq(Album::album_id))
        .count()
        .scalar();
    let rows = same_rows(
        db,
        select::<Artist>()
            .filter(Artist::albums.any(tracks_of_album.gt(20_i64)))
            .order_by(Artist::artist_id),
        query(
            "SELECT ar.* FROM artist ar WHERE EXISTS ( \
               SELECT 1 FROM album al WHERE al.artist_id = ar.artist_id \
               AND (SELECT count(*) FROM track t WHERE t.album_id = al.album_id) > 20) \
             ORDER BY ar.artist_id",
        ),
    )
    .await?;
    let with_albums: i64 = db
        .fetch_one(select::<Artist>().filter(Artist::albums.exists()).count())
        .await
        .map_err(|e| e.to_string())?;
    ensure(rows.len() > 5 && with_albums == 204, || {
        format!(
            "{} artists with a long album, {with_albums} with any album",
            rows.len()
        )
    })
}

/// Tracks whose album's artist is Iron Maiden: `has` through two belongs_to.
async fn rel_filter_tracks_of_an_artist_has_chain(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Track>()
            .filter(Track::album.has(Album::artist.has(Artist::name.eq("Iron Maiden"))))
            .filter(Track::media_type.has(MediaType::name.eq("MPEG audio file")))
            .order_by(Track::track_id),
        query(
            "SELECT t.* FROM track t \
             JOIN album al ON al.album_id = t.album_id \
             JOIN artist ar ON ar.artist_id = al.artist_id \
             JOIN media_type m ON m.media_type_id = t.media_type_id \
             WHERE ar.name = 'Iron Maiden' AND m.name = 'MPEG audio file' ORDER BY t.track_id",
        ),
    )
    .await?;
    ensure(rows.len() > 100, || {
        format!("{} Iron Maiden tracks", rows.len())
    })
}

/// Playlists with a Jazz track (many_to_many `any`, then `has` on the track's genre), and
/// playlists with no track at all (`!exists()`).
async fn rel_filter_playlists_with_a_genre(db: &Database) -> Outcome {
    same_rows(
        db,
        select::<Playlist>()
            .filter(Playlist::tracks.any(Track::genre.has(Genre::name.eq("Jazz"))))
            .order_by(Playlist::playlist_id),
        query(
            "SELECT p.* FROM playlist p WHERE EXISTS ( \
               SELECT 1 FROM playlist_track pt JOIN track t ON t.track_id = pt.track_id \
               JOIN genre g ON g.genre_id = t.genre_id \
               WHERE pt.playlist_id = p.playlist_id AND g.name = 'Jazz') \
             ORDER BY p.playlist_id",
        ),
    )
    .await?;
    let empty = same_rows(
        db,
        select::<Playlist>()
            .filter(!Playlist::tracks.exists())
            .order_by(Playlist::playlist_id),
        query(
            "SELECT p.* FROM playlist p WHERE NOT EXISTS ( \
               SELECT 1 FROM playlist_track pt WHERE pt.playlist_id = p.playlist_id) \
             ORDER BY p.playlist_id",
        ),
    )
    .await?;
    ensure(empty.len() == 4, || {
        format!("{} empty playlists", empty.len())
    })
}

/// Customers whose support rep is Jane Peacock, with invoices over 15 (`has` on a nullable
/// belongs_to, `any` on a has_many).
async fn rel_filter_customers_of_a_support_rep(db: &Database) -> Outcome {
    let rows = same_rows(
        db,
        select::<Customer>()
            .filter(Customer::support_rep.has(Employee::last_name.eq("Peacock")))
            .filter(Customer::invoices.any(Invoice::total.gt(rust_decimal::Decimal::new(15, 0))))
            .order_by(Customer::customer_id),
        query(
            "SELECT c.* FROM customer c JOIN employee e ON e.employee_id = c.support_rep_id \
             WHERE e.last_name = 'Peacock' \
             AND EXISTS (SELECT 1 FROM invoice i WHERE i.customer_id = c.customer_id AND i.total > 15) \
             ORDER BY c.customer_id",
        ),
    )
    .await?;
    ensure(!rows.is_empty(), || "no customer".into())
}

/// Reading a relationship nobody loaded is a `NotLoaded` error naming it, and sends nothing:
/// on rows of the builder, of raw SQL, and below a level that was loaded.
async fn rel_unloaded_relationships_are_errors(db: &Database) -> Outcome {
    let artists = db
        .fetch_all(first_artists())
        .await
        .map_err(|e| e.to_string())?;
    not_loaded(db, &artists[0].albums, "Artist", "albums")?;
    let tracks = db
        .fetch_all(query::<Track>("SELECT * FROM track WHERE track_id <= 3"))
        .await
        .map_err(|e| e.to_string())?;
    not_loaded(db, &tracks[0].album, "Track", "album")?;
    not_loaded(db, &tracks[0].media_type, "Track", "media_type")?;
    not_loaded(db, &tracks[0].playlists, "Track", "playlists")?;
    let employees = db
        .fetch_all(select::<Employee>().load(Employee::reports.selectin()))
        .await
        .map_err(|e| e.to_string())?;
    not_loaded(db, &employees[0].manager, "Employee", "manager")?;
    let report = employees
        .iter()
        .find_map(|e| e.reports.as_option().and_then(|r| r.first()))
        .ok_or("no employee has reports")?;
    not_loaded(db, &report.reports, "Employee", "reports")?;
    let line = db
        .fetch_one(
            select::<InvoiceLine>()
                .by_pk(1)
                .load(InvoiceLine::track.joined()),
        )
        .await
        .map_err(|e| e.to_string())?;
    let track = loaded(&line.track)?;
    not_loaded(db, &track.genre, "Track", "genre")?;
    not_loaded(db, &line.invoice, "InvoiceLine", "invoice")
}

/// Filters through self-referential relationships: managers of someone named Jane
/// (`Employee::reports.any`), reports of Andrew Adams (`Employee::manager.has`), and employees
/// with reports (`exists`). The inner `employee` must be told apart from the outer one.
async fn rel_filter_self_referential(db: &Database) -> Outcome {
    let managers = same_rows(
        db,
        select::<Employee>()
            .filter(Employee::reports.any(Employee::first_name.eq("Jane")))
            .order_by(Employee::employee_id),
        query(
            "SELECT m.* FROM employee m WHERE EXISTS ( \
               SELECT 1 FROM employee r WHERE r.reports_to = m.employee_id \
               AND r.first_name = 'Jane') ORDER BY m.employee_id",
        ),
    )
    .await?;
    let reports = same_rows(
        db,
        select::<Employee>()
            .filter(Employee::manager.has(Employee::last_name.eq("Adams")))
            .order_by(Employee::employee_id),
        query(
            "SELECT e.* FROM employee e JOIN employee m ON m.employee_id = e.reports_to \
             WHERE m.last_name = 'Adams' ORDER BY e.employee_id",
        ),
    )
    .await?;
    let with_reports = same_rows(
        db,
        select::<Employee>()
            .filter(Employee::reports.exists())
            .order_by(Employee::employee_id),
        query(
            "SELECT m.* FROM employee m WHERE EXISTS ( \
               SELECT 1 FROM employee r WHERE r.reports_to = m.employee_id) \
             ORDER BY m.employee_id",
        ),
    )
    .await?;
    ensure(
        managers.len() == 1 && reports.len() == 2 && with_reports.len() == 3,
        || {
            format!(
                "{} managers of Jane, {} reports of Adams, {} with reports",
                managers.len(),
                reports.len(),
                with_reports.len()
            )
        },
    )
}

/// A joined load on a query with `LIMIT`, ordered by a joined table's column or by an
/// expression, gives what selectin gives (the wrapped query carries its order keys out).
async fn rel_joined_with_limit_ordered_by_another_table(db: &Database) -> Outcome {
    let by_genre = || {
        select::<Track>()
            .join_rel(Track::genre)
            .order_by(Genre::name.desc())
            .order_by(Track::track_id)
            .limit(10)
    };
    let by_lower_name = || {
        select::<Track>()
            .order_by(func::lower(Track::name))
            .order_by(Track::track_id)
            .limit(10)
    };
    joined_like_selectin(db, "ordered by genre name", by_genre).await?;
    joined_like_selectin(db, "ordered by lower(name)", by_lower_name).await
}

/// The tracks of `q` with their album joined are those with it loaded by selectin.
async fn joined_like_selectin<S>(
    db: &Database,
    what: &str,
    q: impl Fn() -> Select<Track, S>,
) -> Outcome
where
    Select<Track, S>: Statement<Row = Track>,
{
    let selectin = db
        .fetch_all(q().load(Track::album.selectin()))
        .await
        .map_err(|e| format!("{what}, selectin: {e}"))?;
    let joined = db
        .fetch_all(q().load(Track::album.joined()))
        .await
        .map_err(|e| format!("{what}, joined: {e}"))?;
    same_graph(what, &joined, &selectin)
}

/// A parent query that returns the same row several times (an artist once per album, through
/// `join_rel`) keeps all its rows with a joined load, as with selectin, subquery or no load.
async fn rel_joined_keeps_repeated_parents(db: &Database) -> Outcome {
    let q = || {
        select::<Artist>()
            .join_rel(Artist::albums)
            .filter(Artist::artist_id.le(3))
            .order_by(Artist::artist_id)
    };
    let plain = db.fetch_all(q()).await.map_err(|e| e.to_string())?;
    let got = each_way(db, |w| q().load(w.of(Artist::albums)), [2, 2, 1]).await?;
    ensure(got.len() == plain.len(), || {
        format!("{} rows with the load, {} without", got.len(), plain.len())
    })
}

/// Self-referential filters nested in one another
/// (`Employee::reports.any(Employee::reports.exists())`: managers of managers;
/// `Employee::manager.has(Employee::manager.has(..))`: whose manager's manager is Adams): each
/// level gets its own alias, and the inner `EXISTS` is linked to the middle row.
async fn rel_nested_self_referential_filters(db: &Database) -> Outcome {
    let managers_of_managers = same_rows(
        db,
        select::<Employee>()
            .filter(Employee::reports.any(Employee::reports.exists()))
            .order_by(Employee::employee_id),
        query(
            "SELECT e.* FROM employee e WHERE EXISTS ( \
               SELECT 1 FROM employee r WHERE r.reports_to = e.employee_id AND EXISTS ( \
                 SELECT 1 FROM employee rr WHERE rr.reports_to = r.employee_id)) \
             ORDER BY e.employee_id",
        ),
    )
    .await
    .map(drop);
    let under_adams = same_rows(
        db,
        select::<Employee>()
            .filter(Employee::manager.has(Employee::manager.has(Employee::last_name.eq("Adams"))))
            .order_by(Employee::employee_id),
        query(
            "SELECT e.* FROM employee e JOIN employee m ON m.employee_id = e.reports_to \
             JOIN employee mm ON mm.employee_id = m.reports_to \
             WHERE mm.last_name = 'Adams' ORDER BY e.employee_id",
        ),
    )
    .await
    .map(drop);
    managers_of_managers.and(under_adams)
}
