//! Pagination, both kinds: offset (`?page=2&per_page=20`, with the total) and keyset
//! (`?after=41&limit=20`, with the cursor of the next page). Offset pages are numbered and can be
//! jumped to, but a row inserted meanwhile shifts them; keyset pages never skip or repeat a row
//! and cost the same at any depth (an index range scan from the cursor).

use orm_postgres::prelude::*;
use orm_postgres::{Decode, Select};
use serde::{Deserialize, Serialize};

use super::error::ApiError;

/// The largest page.
pub const MAX_PER_PAGE: i64 = 100;

/// `?page=2&per_page=20` (offset pagination: page 1 is the first) or `?after=41&limit=20`
/// (keyset pagination: the rows whose id is greater than `after`). Without either, the first
/// page of 20.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// The page number, from 1.
    pub page: Option<i64>,
    /// Rows per page, 1 to [`MAX_PER_PAGE`].
    pub per_page: Option<i64>,
    /// The id after which the page starts (keyset).
    pub after: Option<i64>,
    /// Rows per page with `after`, 1 to [`MAX_PER_PAGE`].
    pub limit: Option<i64>,
}

/// A checked [`PageParams`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// `LIMIT per_page OFFSET (page - 1) * per_page`.
    Offset {
        /// From 1.
        page: i64,
        /// Rows per page.
        per_page: i64,
    },
    /// `WHERE id > after ORDER BY id LIMIT limit`.
    Keyset {
        /// The last id of the previous page (0 for the first).
        after: i64,
        /// Rows per page.
        limit: i64,
    },
}

impl PageParams {
    /// Checks the ranges and that the two kinds are not mixed.
    pub fn paging(&self) -> Result<Paging, ApiError> {
        let size = |field: &str, n: Option<i64>| match n {
            None => Ok(20),
            Some(n) if (1..=MAX_PER_PAGE).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::invalid(
                field,
                format!("must be between 1 and {MAX_PER_PAGE}"),
            )),
        };
        match (self.page, self.per_page, self.after, self.limit) {
            (None, None, Some(after), limit) => Ok(Paging::Keyset {
                after,
                limit: size("limit", limit)?,
            }),
            (page, per_page, None, None) => {
                let page = page.unwrap_or(1);
                if page < 1 {
                    return Err(ApiError::invalid("page", "must be 1 or more"));
                }
                Ok(Paging::Offset {
                    page,
                    per_page: size("per_page", per_page)?,
                })
            }
            _ => Err(ApiError::Invalid {
                field: None,
                message: "use either page and per_page, or after and limit".to_owned(),
            }),
        }
    }
}

/// A model's id column and how to read it from a row: `(User::id, |u| u.id)`.
pub type IdOf<M> = (Column<M, i64>, fn(&M) -> i64);

/// One page of a list, as JSON: the items, and the offset page's position and total, or the
/// keyset page's next cursor (`null` on the last page).
#[derive(Debug, Serialize)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Offset pages: this page's number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i64>,
    /// Offset pages: rows per page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_page: Option<i64>,
    /// Offset pages: rows in all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    /// Keyset pages: the `after` of the next page, `null` when this is the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<Option<i64>>,
}

impl Paging {
    /// Orders `query` by `id` and limits it to this page. A keyset page asks for one row more
    /// than it shows, to know whether another page follows.
    fn apply<M: Model, O, S>(self, query: Select<O, S>, id: Column<M, i64>) -> Select<O, S> {
        match self {
            Paging::Offset { page, per_page } => query.order_by(id).page(page, per_page),
            Paging::Keyset { after, limit } => query.after(id, after).limit(limit + 1),
        }
    }

    /// Makes the page from the rows of [`apply`](Paging::apply)'s query, `total` (for offset
    /// pages: the query's count) and each row's id.
    fn page<R>(self, mut rows: Vec<R>, total: Option<i64>, id: impl Fn(&R) -> i64) -> Page<R> {
        match self {
            Paging::Offset { page, per_page } => Page {
                items: rows,
                page: Some(page),
                per_page: Some(per_page),
                total,
                next_after: None,
            },
            Paging::Keyset { limit, .. } => {
                let more = rows.len() as i64 > limit;
                rows.truncate(usize::try_from(limit).unwrap_or(0));
                let next = if more { rows.last().map(&id) } else { None };
                Page {
                    items: rows,
                    page: None,
                    per_page: None,
                    total: None,
                    next_after: Some(next),
                }
            }
        }
    }

    /// Runs `query` (no tracking) for this page, ordered by `id` (whose value in a row is
    /// `id_of`), with the query's total count for an offset page, and shows each row with `out`:
    /// two statements for an offset page, one for a keyset page (plus the query's loads).
    pub async fn fetch<M, S, T>(
        self,
        s: &mut Session,
        query: Select<M, S>,
        id: IdOf<M>,
        out: impl Fn(M) -> Result<T, ApiError>,
    ) -> Result<Page<T>, ApiError>
    where
        M: Model + Decode<Output = M>,
    {
        let total = match self {
            Paging::Offset { .. } => Some(s.fetch_one(query.clone().count()).await?),
            Paging::Keyset { .. } => None,
        };
        let rows: Vec<M> = s.fetch_all(self.apply(query, id.0)).await?;
        let page = self.page(rows, total, id.1);
        let items = page.items.into_iter().map(out).collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            page: page.page,
            per_page: page.per_page,
            total: page.total,
            next_after: page.next_after,
        })
    }
}
