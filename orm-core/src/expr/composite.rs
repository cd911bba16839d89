//! Reading one attribute of a composite value: `(expr)."attribute"`.

use super::{Expr, Expression, Node};
use crate::types::{Composite, CompositeField, Retype, Retyped, SqlType};

/// The attribute access of composite expressions (a column of a
/// [composite type](crate::types::Composite), or an expression of one).
pub trait CompositeExpression: Expression {
    /// `(self)."attribute"`: one attribute of the composite value, typed as the struct's
    /// field (nullable when `self` is).
    ///
    /// ```
    /// use orm_core::prelude::*;
    /// use orm_core::types::Composite;
    ///
    /// #[derive(Debug, Clone, PartialEq, SqlType)]
    /// # #[sql_type(crate = "orm_core")]
    /// #[sql_type(composite = "address")]
    /// pub struct Address {
    ///     pub street: String,
    ///     pub city: String,
    /// }
    ///
    /// #[derive(Model, Debug, Clone, PartialEq)]
    /// # #[model(crate = "orm_core")]
    /// #[model(table = "customers")]
    /// pub struct Customer {
    ///     #[model(primary_key, generated)]
    ///     pub id: i64,
    ///     pub home: Address,
    /// }
    ///
    /// let q = select::<Customer>().filter(Customer::home.field(Address::city).eq("Paris"));
    /// assert!(q.compile().unwrap().sql.ends_with(r#"WHERE ("customers"."home")."city" = $1"#));
    /// ```
    fn field<T: SqlType>(
        self,
        field: CompositeField<<Self::Value as SqlType>::Base, T>,
    ) -> Expr<Retyped<Self::Value, T>>
    where
        Self::Value: Retype<T>,
    {
        Expr::new(Node::Field(Box::new(self.into_node()), field.name()))
    }
}

impl<E: Expression> CompositeExpression for E where <E::Value as SqlType>::Base: Composite {}
