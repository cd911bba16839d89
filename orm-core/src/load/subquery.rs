//! The *subquery* strategy: one more query per relationship level, filtering the children by
//! the parent query itself (as a subquery) instead of by the parents' keys. Without a parent
//! query (objects in hand, nested levels) it runs as *selectin*.

use super::{Load, Strategy};
use crate::ast::{FromItem, Node, Query, SelectCore};
use crate::error::Result;
use crate::relation::{Relation, Relationship};
use crate::stmt::rel_join;

impl<R: Relation> Relationship<R>
where
    R::Target: Clone,
{
    /// Load with one extra query filtering by the parent query itself (as a subquery); falls
    /// back to `selectin` when there is no parent query (explicit loads).
    pub fn subquery(self) -> Load<R> {
        Load::with_strategy(Strategy::Subquery)
    }
}

impl<R: Relation> Load<R> {
    pub(super) fn subquery_query(&self, parent_query: &Query) -> Result<Option<Query>> {
        let meta = R::META;
        let r = meta.resolve()?;
        let parent_cols: Vec<Node> = r
            .parent_cols
            .iter()
            .map(|c| rel_join::col("orm_parent", c))
            .collect();
        let parent_query = parent_query.clone();
        self.build(move |keys| {
            let sub = SelectCore {
                columns: parent_cols,
                from: vec![FromItem::Subquery {
                    query: Box::new(parent_query),
                    alias: "orm_parent",
                    lateral: false,
                }],
                ..SelectCore::default()
            };
            let expr = if keys.len() == 1 {
                keys[0].clone()
            } else {
                Node::Row(keys.to_vec())
            };
            Ok(Node::InSubquery {
                expr: Box::new(expr),
                query: Box::new(Query::from(sub)),
                negated: false,
            })
        })
        .map(Some)
    }
}
