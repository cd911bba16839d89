//! Every attribute of `#[derive(Model)]`, and the metadata they produce.

use orm_postgres::meta::FkAction;
use orm_postgres::prelude::*;
use orm_postgres::{ColumnType, Model};

#[derive(Model, Debug, Clone, PartialEq)]
#[model(
    table = "order_lines",
    schema = "shop",
    index(order_id, position),
    unique(order_id, sku),
    check = "quantity * price_cents < 100000000",
    crate = "::orm_postgres"
)]
#[model(check = "position >= 0")]
pub struct OrderLine {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(
        references = "shop.orders.id",
        on_delete = "cascade",
        on_update = "no action"
    )]
    pub order_id: i64,
    pub position: i32,
    #[model(column = "stock_keeping_unit", len = 32, index)]
    pub sku: String,
    #[model(check = "quantity > 0", default = "1")]
    pub quantity: i32,
    pub price_cents: i64,
    #[model(unique, generated, default = "gen_random_uuid()::text")]
    pub token: String,
    #[model(references = "users.id", on_delete = "SET NULL")]
    pub reviewer: Option<i64>,
    #[model(skip)]
    pub cached_total: u64,
}

fn main() {
    let table = OrderLine::TABLE;
    assert_eq!(table.name, "order_lines");
    assert_eq!(table.schema, Some("shop"));
    assert_eq!(table.model, "OrderLine");
    assert_eq!(
        table.checks,
        &["quantity * price_cents < 100000000", "position >= 0"]
    );
    assert_eq!(table.indexes.len(), 2);
    assert_eq!(table.indexes[0].columns, &["order_id", "position"]);
    assert!(!table.indexes[0].unique);
    assert_eq!(
        table.indexes[1].columns,
        &["order_id", "stock_keeping_unit"]
    );
    assert!(table.indexes[1].unique);

    let names: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "id",
            "order_id",
            "position",
            "stock_keeping_unit",
            "quantity",
            "price_cents",
            "token",
            "reviewer"
        ]
    );

    let id = &table.columns[0];
    assert!(id.primary_key && id.generated && !id.nullable);
    assert_eq!(id.ty, ColumnType::BigInt);

    let fk = table.columns[1]
        .references
        .expect("order_id is a foreign key");
    assert_eq!(
        (fk.schema, fk.table, fk.column),
        (Some("shop"), "orders", "id")
    );
    assert_eq!(fk.on_delete, Some(FkAction::Cascade));
    assert_eq!(fk.on_update, Some(FkAction::NoAction));

    let sku = &table.columns[3];
    assert_eq!((sku.field, sku.len, sku.index), ("sku", Some(32), true));

    let quantity = &table.columns[4];
    assert_eq!(quantity.check, Some("quantity > 0"));
    assert_eq!(quantity.default, Some("1"));

    let token = &table.columns[6];
    assert!(token.unique && token.generated);

    let reviewer = &table.columns[7];
    assert!(reviewer.nullable);
    assert_eq!(
        reviewer.references.and_then(|fk| fk.on_delete),
        Some(FkAction::SetNull)
    );

    // Parameters: inserts leave out generated columns, updates the key.
    let line = OrderLine {
        id: 7,
        order_id: 1,
        position: 0,
        sku: "A-1".into(),
        quantity: 2,
        price_cents: 250,
        token: String::new(),
        reviewer: None,
        cached_total: 500,
    };
    assert_eq!(line.pk(), 7);
    assert_eq!(OrderLine::pk_params(7).len(), 1);
    assert_eq!(line.insert_params().len(), 6);
    assert_eq!(line.update_params().len(), 7);
    assert_eq!(OrderLine::insert_arrays(&[line.clone(), line]).len(), 6);
    assert_eq!(<OrderLine as FromRow>::WIDTH, 8);

    // Column handles carry the column's name and the table.
    assert_eq!(OrderLine::sku.name(), "stock_keeping_unit");
    assert_eq!(OrderLine::sku.table(), "order_lines");
}
