//! [`FanOut::stream`]: a query's rows from every shard, merged as they arrive.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use deadpool_postgres::tokio_postgres;
use futures_util::Stream;
use futures_util::future::join_all;
use orm_core::Row;
use orm_core::shard::{self, FanOutQuery, SortValue};

use super::FanOut;
use crate::conn::{Conn, StreamState};
use crate::executor::read_retrying;
use crate::pg_row::PgRow;
use crate::{Decode, Error, Result, Select, Statement};

impl<'a> FanOut<'a> {
    /// Runs the query on the shards and returns its rows as one stream, merged as they arrive
    /// with memory bounded by one row per shard (plus what the driver buffers): in the
    /// query's `ORDER BY` (a k-way merge of the shards' ordered rows, with the same rules as
    /// [`fetch_all`](FanOut::fetch_all)), cut to its `OFFSET` and `LIMIT`; without an
    /// `ORDER BY`, in whatever order the shards answer.
    ///
    /// Each shard's connection is busy until the stream ends; dropping the stream before its
    /// end discards them. A shard that fails to start fails the call, naming it; one that
    /// fails midway yields its error (naming it) and ends the stream. Relationship loads are
    /// refused, as for [`Executor::stream`](crate::Executor::stream).
    pub async fn stream<O: Decode, S>(&self, query: Select<O, S>) -> Result<FanOutStream<O>> {
        if query.options().is_some() {
            return Err(Error::invalid_statement(
                "relationship loads need the whole result: use fetch_all, or load each batch of streamed rows per shard",
            ));
        }
        let targets = self.targets(query.tree())?;
        let plan = shard::fan_out_plan(&query)?;
        let inner = &self.sharded.inner;
        let starts = targets.iter().map(|&i| {
            let plan = &plan;
            async move {
                let start = async {
                    let (conn, started) = read_retrying!(
                        inner.dbs[i].checkout_read(),
                        |conn| conn.start_stream(&plan.query).await,
                        |out| (conn, out)
                    );
                    let (rows, state) = started?;
                    Ok::<_, Error>(ShardRows {
                        shard: inner.names[i].clone(),
                        conn,
                        rows: Box::pin(rows),
                        state,
                        head: None,
                    })
                };
                start.await.map_err(|e| self.sharded.on_shard(i, e))
            }
        });
        let shards = join_all(starts)
            .await
            .into_iter()
            .collect::<Result<Vec<_>>>()?;
        Ok(FanOutStream {
            shards,
            skip: plan.offset,
            left: plan.limit,
            plan,
            _out: PhantomData,
        })
    }
}

/// The merged rows of [`FanOut::stream`], decoded by `D` (yielding `D::Output`).
pub struct FanOutStream<D: Decode> {
    shards: Vec<ShardRows<D::Output>>,
    plan: FanOutQuery,
    /// Rows still to skip (the `OFFSET`).
    skip: u64,
    /// Rows still to yield (the `LIMIT`), `None` without one.
    left: Option<u64>,
    _out: PhantomData<fn() -> D>,
}

/// One shard's rows: its connection, and the next row not yet yielded.
struct ShardRows<T> {
    shard: String,
    conn: Conn,
    rows: Pin<Box<tokio_postgres::RowStream>>,
    state: StreamState,
    head: Option<(T, Vec<SortValue>)>,
}

// Nothing of it is pinned in place: the row streams are boxed.
impl<D: Decode> Unpin for FanOutStream<D> {}

impl<T> ShardRows<T> {
    fn ended(&self) -> bool {
        self.state.ended() && self.head.is_none()
    }
}

impl<D: Decode> std::fmt::Debug for FanOutStream<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shards: Vec<&str> = self.shards.iter().map(|s| s.shard.as_str()).collect();
        f.debug_struct("FanOutStream")
            .field("shards", &shards)
            .field("skip", &self.skip)
            .field("left", &self.left)
            .finish()
    }
}

impl<D: Decode> FanOutStream<D> {
    /// Fills every shard's head that can be; `Pending` while an ordered merge still waits for
    /// one. A shard's error ends the stream.
    fn fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let ordered = !self.plan.order.is_empty();
        let mut waiting = false;
        for s in &mut self.shards {
            if s.head.is_some() || s.state.ended() {
                continue;
            }
            let (width, order) = (self.plan.width, self.plan.order.len());
            let rows = &mut s.rows;
            let polled = s.conn.poll_rows(
                &mut s.state,
                cx,
                |cx| rows.as_mut().poll_next(cx),
                |row| {
                    let row = PgRow(row);
                    let value = D::decode(&row, 0)?;
                    let keys = (width..width + order)
                        .map(|at| {
                            row.get_at::<SortValue>(at).map_err(|e| {
                                Error::decode("fan-out ORDER BY", format!("#{}", at - width + 1), e)
                            })
                        })
                        .collect::<Result<Vec<_>>>()?;
                    Ok((value, keys))
                },
            );
            match polled {
                Poll::Pending => waiting = true,
                Poll::Ready(Some(Ok(head))) => s.head = Some(head),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e.on_shard(&s.shard))),
                Poll::Ready(None) => {}
            }
        }
        let any_head = self.shards.iter().any(|s| s.head.is_some());
        if waiting && (ordered || !any_head) {
            return Poll::Pending;
        }
        Poll::Ready(Ok(()))
    }

    /// Takes the next row: the least head in the `ORDER BY` (the first shard's on a tie), or
    /// any head without one.
    fn take(&mut self) -> Option<D::Output> {
        let mut best: Option<usize> = None;
        for (i, s) in self.shards.iter().enumerate() {
            let Some((_, keys)) = &s.head else { continue };
            best = match best {
                Some(b) => {
                    let current = self.shards[b].head.as_ref().map(|(_, k)| k.as_slice());
                    match current {
                        Some(c) if self.plan.compare(keys, c).is_lt() => Some(i),
                        _ => Some(b),
                    }
                }
                None => Some(i),
            };
        }
        best.and_then(|b| self.shards[b].head.take())
            .map(|(v, _)| v)
    }

    fn end(&mut self) {
        // Dropping the connections discards those still sending.
        self.shards.clear();
    }
}

impl<D: Decode> Stream for FanOutStream<D> {
    type Item = Result<D::Output>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.left == Some(0) || this.shards.iter().all(ShardRows::ended) {
                this.end();
                return Poll::Ready(None);
            }
            match this.fill(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => {
                    this.end();
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Ok(())) => {}
            }
            let Some(row) = this.take() else { continue };
            if this.skip > 0 {
                this.skip -= 1;
                continue;
            }
            if let Some(n) = &mut this.left {
                *n -= 1;
            }
            return Poll::Ready(Some(Ok(row)));
        }
    }
}
