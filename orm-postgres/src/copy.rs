//! Binary `COPY` for models: [`Executor::copy_in`](crate::Executor::copy_in),
//! [`copy_in_stream`](crate::Executor::copy_in_stream) and
//! [`copy_out`](crate::Executor::copy_out).
//!
//! The fastest way in and out of PostgreSQL: rows travel in the binary copy format, written
//! from references to the objects' fields (no parameter is built per value) and decoded by
//! position like any other row. The columns' types, which the format needs, come from a
//! prepared (never run) `SELECT … LIMIT 0`, cached per connection like every statement.

use std::marker::PhantomData;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use deadpool_postgres::tokio_postgres::CopyInSink;
use deadpool_postgres::tokio_postgres::binary_copy::{BinaryCopyOutRow, BinaryCopyOutStream};
use deadpool_postgres::tokio_postgres::types::{FromSql, ToSql, Type};
use futures_util::{SinkExt, Stream, StreamExt, pin_mut};
use orm_core::copy::CopyRows;

use crate::acquire::sealed::ConnRef;
use crate::conn::{Conn, StreamState};
use crate::types::domain_base;
use crate::{BoxError, ColumnDef, Decode, Model, Result, Table};

/// The types of `sql`'s result columns, domains replaced by their base types (a domain value is
/// sent and received as its base type).
async fn column_types(conn: &Conn, sql: &str) -> Result<Vec<Type>> {
    let stmt = conn.prepare(sql).await?;
    Ok(stmt
        .columns()
        .iter()
        .map(|c| domain_base(c.type_()).unwrap_or(c.type_()).clone())
        .collect())
}

/// Bytes of copy data gathered before they are handed to the connection.
const CHUNK: usize = 64 * 1024;

/// A `COPY … FROM STDIN` under way: binary copy data gathered in a buffer and sent in chunks.
struct CopyWriter<'c> {
    conn: &'c Conn,
    sink: Pin<Box<CopyInSink<Bytes>>>,
    buf: BytesMut,
    types: Vec<Type>,
}

impl<'c> CopyWriter<'c> {
    /// Starts the copy of `table`'s insert columns (after `key`'s, when given).
    async fn start(
        conn: &'c Conn,
        table: &'static Table,
        key: Option<&'static ColumnDef>,
        copy_sql: &str,
    ) -> Result<Self> {
        let types_sql = orm_core::copy::insert_types_sql_keyed(table, key)?;
        let started = async {
            let types = column_types(conn, &types_sql).await?;
            let stmt = conn.prepare(copy_sql).await?;
            let sink = conn
                .obj()?
                .copy_in(&stmt)
                .await
                .map_err(|e| conn.pg_error(e))?;
            Ok((types, sink))
        };
        let (types, sink) = conn.bounded(pin!(started)).await?;
        let mut buf = BytesMut::with_capacity(CHUNK + 1024);
        buf.extend_from_slice(orm_core::copy::BINARY_HEADER);
        Ok(CopyWriter {
            conn,
            sink: Box::pin(sink),
            buf,
            types,
        })
    }

    /// Sends what the buffer holds.
    async fn send(&mut self) -> Result<()> {
        let chunk = self.buf.split().freeze();
        // The sent chunk keeps the old allocation: one buffer of a chunk's size for the next,
        // instead of growing from the old one's last bytes by doubling and copying.
        self.buf.reserve(CHUNK + 1024);
        let sent = self.sink.send(chunk);
        let sent = async { sent.await.map_err(|e| self.conn.pg_error(e)) };
        self.conn.bounded(pin!(sent)).await
    }

    /// Writes every row of `rows`.
    async fn rows(&mut self, rows: &mut dyn CopyRows) -> Result<()> {
        while rows.write_rows(&self.types, &mut self.buf, CHUNK)? {
            self.send().await?;
        }
        Ok(())
    }

    /// Writes one row of a model.
    async fn row<M: Model>(&mut self, row: &M) -> Result<()> {
        let mut values: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(self.types.len());
        row.insert_values(&mut values);
        orm_core::copy::write_row(&mut self.buf, M::TABLE, &self.types, &values)?;
        if self.buf.len() >= CHUNK {
            self.send().await?;
        }
        Ok(())
    }

    /// Ends the copy; the number of rows copied.
    async fn finish(mut self) -> Result<u64> {
        self.buf.extend_from_slice(orm_core::copy::BINARY_TRAILER);
        self.send().await?;
        let conn = self.conn;
        let finished = self.sink.as_mut().finish();
        let finished = async { finished.await.map_err(|e| conn.pg_error(e)) };
        conn.bounded(pin!(finished)).await
    }
}

impl Conn {
    /// `COPY table FROM STDIN (FORMAT binary)` of `rows`; returns the number of rows copied.
    /// Inside a transaction, a failed copy fails the transaction (as the server does).
    pub(crate) async fn copy_in(&self, rows: &mut dyn CopyRows) -> Result<u64> {
        self.run_copy(rows.table(), rows.key(), move |mut writer| async move {
            writer.rows(rows).await?;
            writer.finish().await
        })
        .await
    }

    /// [`copy_in`](Conn::copy_in) of a stream of rows, written as they arrive.
    pub(crate) async fn copy_in_stream<M: Model, S: Stream<Item = M>>(
        &self,
        rows: S,
    ) -> Result<u64> {
        self.run_copy(M::TABLE, None, move |mut writer| async move {
            pin_mut!(rows);
            while let Some(row) = rows.next().await {
                writer.row(&row).await?;
            }
            writer.finish().await
        })
        .await
    }

    /// Starts a copy into `table` (`key` first, when given) and lets `write` send the rows and
    /// finish it.
    async fn run_copy<'c, F, Fut>(
        &'c self,
        table: &'static Table,
        key: Option<&'static ColumnDef>,
        write: F,
    ) -> Result<u64>
    where
        F: FnOnce(CopyWriter<'c>) -> Fut,
        Fut: std::future::Future<Output = Result<u64>>,
    {
        let copy_sql = orm_core::copy::copy_in_sql_keyed(table, key)?;
        self.ready().await?;
        let run = async { write(CopyWriter::start(self, table, key, &copy_sql).await?).await };
        // The query timeout bounds each wait on the server (the start, each chunk sent, the
        // end: see `CopyWriter`), not the copy as a whole, nor the waits on a stream's rows.
        let result = self
            .tracked_within(&copy_sql, pin!(run), |n| Some(*n), None)
            .await;
        if result.is_err() {
            // A value that failed to encode aborted the copy (the unfinished sink sends
            // CopyFail) without a server error reaching the driver; the server failed the
            // transaction all the same.
            self.note_failed();
        }
        result
    }

    /// Starts `COPY table TO STDOUT (FORMAT binary)` of every column of `M`'s table: its rows
    /// and their width.
    pub(crate) async fn copy_out_start<M: Model>(
        &self,
    ) -> Result<((BinaryCopyOutStream, usize), StreamState)> {
        let copy_sql = orm_core::copy::copy_out_sql(M::TABLE)?;
        let types_sql = orm_core::copy::column_types_sql(M::TABLE)?;
        self.ready().await?;
        let started = async {
            let types = column_types(self, &types_sql).await?;
            let stmt = self.prepare(&copy_sql).await?;
            let out = self
                .obj()?
                .copy_out(&stmt)
                .await
                .map_err(|e| self.pg_error(e))?;
            Ok((BinaryCopyOutStream::new(out, &types), types.len()))
        };
        self.start_rows(&copy_sql, started).await
    }
}

/// A row of a binary `COPY … TO STDOUT`, seen through orm-core's [`Row`](crate::Row).
struct CopyRow<'r> {
    row: &'r BinaryCopyOutRow,
    width: usize,
}

impl crate::Row for CopyRow<'_> {
    fn get_at<'a, T: FromSql<'a>>(&'a self, idx: usize) -> std::result::Result<T, BoxError> {
        // The cause itself, as for a query's rows: a typed one (a `ValueOutOfRange`) stays
        // typed, where its text alone would lose it.
        self.row.try_get(idx).map_err(|e| {
            let text = e.to_string();
            e.into_source().unwrap_or_else(|| text.into())
        })
    }

    fn width(&self) -> usize {
        self.width
    }
}

/// The rows of a table read with binary `COPY … TO STDOUT`, decoded as models as they arrive.
/// Returned by [`Executor::copy_out`](crate::Executor::copy_out). The connection is busy until
/// the stream ends; dropping it earlier discards the connection.
pub struct CopyOutStream<'a, M> {
    conn: ConnRef<'a>,
    rows: Pin<Box<BinaryCopyOutStream>>,
    width: usize,
    state: StreamState,
    _out: PhantomData<fn() -> M>,
}

impl<'a, M: Model> CopyOutStream<'a, M> {
    /// The stream of a copy `conn` started ([`Conn::copy_out_start`]).
    pub(crate) fn new(
        conn: ConnRef<'a>,
        ((rows, width), state): ((BinaryCopyOutStream, usize), StreamState),
    ) -> Self {
        CopyOutStream {
            conn,
            rows: Box::pin(rows),
            width,
            state,
            _out: PhantomData,
        }
    }
}

impl<M: Model> Stream for CopyOutStream<'_, M> {
    type Item = Result<M>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let (rows, width) = (&mut this.rows, this.width);
        this.conn.poll_rows(
            &mut this.state,
            cx,
            |cx| rows.as_mut().poll_next(cx),
            |row| <M as Decode>::decode(&CopyRow { row, width }, 0),
        )
    }
}
