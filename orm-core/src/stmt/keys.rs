//! Key lists: one or more key expressions (a column, an expression, or a tuple of them), used by
//! `group_by`, `distinct_on` and keyset pagination (`after`).

use crate::ast::Node;
use crate::expr::Expression;
use crate::types::param_of;

/// One or more key expressions: a column, an expression, or a tuple of them. Used by
/// `group_by`, `distinct_on` and keyset pagination (where `Values` are the cursor's values).
pub trait KeyList {
    /// The values of a cursor over these keys (a value, or a tuple of them).
    type Values;
    /// The key expressions.
    fn key_nodes(self) -> Vec<Node>;
    /// The key expressions and the cursor's values as parameters.
    fn nodes(self, values: Self::Values) -> (Vec<Node>, Vec<Node>);
}

impl<E: Expression> KeyList for E
where
    E::Value: crate::types::SqlType,
{
    type Values = E::Value;
    fn key_nodes(self) -> Vec<Node> {
        vec![self.into_node()]
    }
    fn nodes(self, values: E::Value) -> (Vec<Node>, Vec<Node>) {
        (vec![self.into_node()], vec![Node::Param(param_of(values))])
    }
}

macro_rules! tuple_keys {
    ($($name:ident $idx:tt)+) => {
        impl<$($name: Expression),+> KeyList for ($($name,)+) {
            type Values = ($($name::Value,)+);
            fn key_nodes(self) -> Vec<Node> {
                vec![$(self.$idx.into_node()),+]
            }
            fn nodes(self, values: Self::Values) -> (Vec<Node>, Vec<Node>) {
                (
                    vec![$(self.$idx.into_node()),+],
                    vec![$(Node::Param(param_of(values.$idx))),+],
                )
            }
        }
    };
}

tuple_keys!(A 0);
tuple_keys!(A 0 B 1);
tuple_keys!(A 0 B 1 C 2);
tuple_keys!(A 0 B 1 C 2 D 3);
tuple_keys!(A 0 B 1 C 2 D 3 E 4);
tuple_keys!(A 0 B 1 C 2 D 3 E 4 F 5);
