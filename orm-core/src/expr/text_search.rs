//! Full-text search: `to_tsvector`, `to_tsquery` and friends, `@@` ([`Expression::matches`])
//! and `ts_rank`.
//!
//! The text search configuration (`'english'`, `'simple'`, ...) is a value like any other: it is
//! bound as a parameter and cast to `regconfig` (`CAST(CAST($1 AS TEXT) AS REGCONFIG)`), so the
//! SQL text does not depend on it.
//!
//! ```
//! use orm_core::prelude::*;
//! # use orm_core::__doc_fixture::User;
//!
//! let q = select::<User>().filter(
//!     func::to_tsvector("english", User::name)
//!         .matches(func::websearch_to_tsquery("english", "jane -doe")),
//! );
//! assert!(q.compile().unwrap().sql.ends_with(
//!     r#"WHERE to_tsvector(CAST(CAST($1 AS TEXT) AS REGCONFIG), "users"."name") @@ websearch_to_tsquery(CAST(CAST($2 AS TEXT) AS REGCONFIG), $3)"#
//! ));
//! ```
//!
//! [`Expression::matches`]: super::Expression::matches

use super::{CastType, Expr, IntoExpr, Node};
use crate::types::{TsQuery, TsVector};

/// The configuration as a `regconfig`: a bare parameter is cast to `TEXT` first (a `String`
/// cannot be sent as a `regconfig`, which is an OID on the wire).
fn regconfig(config: Node) -> Node {
    let text = match config {
        p @ Node::Param(_) => Node::Cast(Box::new(p), CastType::Named("TEXT")),
        other => other,
    };
    Node::Cast(Box::new(text), CastType::Named("REGCONFIG"))
}

fn search_func<T>(name: &'static str, config: Node, text: Node) -> Expr<T> {
    Expr::new(Node::Func(name, vec![regconfig(config), text]))
}

/// `to_tsvector(config, text)`: the document's normalized lexemes with their positions.
///
/// Typed as a (non-null) [`TsVector`]: selecting it for a `NULL` text fails to decode; in a
/// condition (`.matches(...)`) a `NULL` just does not match.
pub fn to_tsvector<C, T>(config: C, text: T) -> Expr<TsVector>
where
    C: IntoExpr<String>,
    T: IntoExpr<String>,
{
    search_func(
        "to_tsvector",
        config.into_expr_node(),
        text.into_expr_node(),
    )
}

/// `to_tsquery(config, query)`: a query in the `tsquery` syntax (`'fat & (rat | cat)'`); a
/// syntax error in `query` is an error from the server.
pub fn to_tsquery<C, Q>(config: C, query: Q) -> Expr<TsQuery>
where
    C: IntoExpr<String>,
    Q: IntoExpr<String>,
{
    search_func(
        "to_tsquery",
        config.into_expr_node(),
        query.into_expr_node(),
    )
}

/// `plainto_tsquery(config, text)`: all words of plain text (`&`ed); never a syntax error.
pub fn plainto_tsquery<C, Q>(config: C, text: Q) -> Expr<TsQuery>
where
    C: IntoExpr<String>,
    Q: IntoExpr<String>,
{
    search_func(
        "plainto_tsquery",
        config.into_expr_node(),
        text.into_expr_node(),
    )
}

/// `phraseto_tsquery(config, text)`: the words of plain text as a phrase (`<->`).
pub fn phraseto_tsquery<C, Q>(config: C, text: Q) -> Expr<TsQuery>
where
    C: IntoExpr<String>,
    Q: IntoExpr<String>,
{
    search_func(
        "phraseto_tsquery",
        config.into_expr_node(),
        text.into_expr_node(),
    )
}

/// `websearch_to_tsquery(config, text)`: web-search syntax (`"quoted phrase" or -excluded`);
/// never a syntax error, so it suits user input.
pub fn websearch_to_tsquery<C, Q>(config: C, text: Q) -> Expr<TsQuery>
where
    C: IntoExpr<String>,
    Q: IntoExpr<String>,
{
    search_func(
        "websearch_to_tsquery",
        config.into_expr_node(),
        text.into_expr_node(),
    )
}

/// `ts_rank(vector, query)`: how well the document matches, as the server's `real`.
pub fn ts_rank<V, Q>(vector: V, query: Q) -> Expr<f32>
where
    V: IntoExpr<TsVector>,
    Q: IntoExpr<TsQuery>,
{
    Expr::new(Node::Func(
        "ts_rank",
        vec![vector.into_expr_node(), query.into_expr_node()],
    ))
}
