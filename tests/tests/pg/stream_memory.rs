//! `stream` keeps memory bounded whatever the result's size: measured, not assumed. A counting
//! allocator tracks the bytes live on the test's thread (a current-thread runtime, so the
//! driver's connection task and the decoding both run there); streaming 48 MiB of rows keeps the
//! peak under 1 MiB (about 25 KB measured), where `fetch_all` of the same rows needs all of them at once.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use futures_util::TryStreamExt;
use orm_postgres::prelude::*;
use orm_postgres::raw::query;
use orm_testing::test_database;

/// The system allocator, counting live bytes per thread while a thread asks it to.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    // `try_with`: during thread teardown the slots may be gone; then nothing is counted.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let live = LIVE.with(|l| {
                l.set(l.get() + delta);
                l.get()
            });
            PEAK.with(|p| p.set(p.get().max(live)));
        }
    });
}

// SAFETY: every call is forwarded to `System` unchanged; the counting touches only
// const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its output with the peak of bytes allocated on this thread, above what
/// was live when it started.
async fn peak_of<T>(f: impl std::future::Future<Output = T>) -> (T, usize) {
    LIVE.with(|l| l.set(0));
    PEAK.with(|p| p.set(0));
    COUNTING.with(|c| c.set(true));
    let out = f.await;
    COUNTING.with(|c| c.set(false));
    (out, PEAK.with(Cell::get).max(0) as usize)
}

const ROWS: i32 = 50_000;
const WIDTH: i32 = 1_000; // bytes of text per row: 50 MB in all
const MB: usize = 1 << 20;

fn rows(n: i32) -> orm_postgres::raw::RawQuery<(i32, String)> {
    query::<(i32, String)>("SELECT g, repeat('x', :width) FROM generate_series(1, :rows) g")
        .bind("width", WIDTH)
        .bind("rows", n)
}

#[tokio::test(flavor = "current_thread")]
async fn a_stream_of_50_mb_keeps_a_few_mb_in_memory() {
    let t = test_database().await.unwrap();
    let db: Database = (*t).clone();
    // Warm the pool and the statement cache, so neither counts.
    db.fetch_all(rows(1)).await.unwrap();

    let ((count, bytes), streamed_peak) = peak_of(async {
        let mut stream = db.stream(rows(ROWS)).await.unwrap();
        let (mut count, mut bytes) = (0_i32, 0_usize);
        while let Some((_, text)) = stream.try_next().await.unwrap() {
            count += 1;
            bytes += text.len();
        }
        (count, bytes)
    })
    .await;
    assert_eq!(count, ROWS);
    assert_eq!(bytes, (ROWS * WIDTH) as usize);

    let (all, collected_peak) = peak_of(async { db.fetch_all(rows(ROWS)).await.unwrap() }).await;
    assert_eq!(all.len(), ROWS as usize);
    drop(all);

    eprintln!("peak bytes: stream {streamed_peak}, fetch_all {collected_peak}");
    // The measurement can tell: holding every row takes the whole 48 MiB.
    assert!(
        collected_peak > 40 * MB,
        "fetch_all peaked at {} MB",
        collected_peak / MB
    );
    assert!(
        streamed_peak < MB,
        "the stream peaked at {} MB for 50 MB of rows",
        streamed_peak / MB
    );
}
