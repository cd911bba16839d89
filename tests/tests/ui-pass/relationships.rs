//! Every kind of `#[relationship(...)]`, and the metadata and handles they produce.

#![deny(missing_docs)]

use orm_postgres::__private::{Relation, RelationKind};
use orm_postgres::prelude::*;

/// A user.
#[derive(Debug, Clone, Model)]
#[model(table = "users")]
pub struct User {
    /// The key.
    #[model(primary_key, generated)]
    pub id: i64,
    /// The name.
    pub name: String,
    /// Their orders, newest first.
    #[relationship(has_many = Order, foreign_key = "user_id", order_by = ("-placed_at", "id"), back_populates = "user")]
    pub orders: Related<Vec<Order>>,
    /// Their profile, if any.
    #[relationship(has_one = Profile, foreign_key = "user_id")]
    pub profile: Related<Option<Profile>>,
    /// Their groups, through `memberships`.
    #[relationship(many_to_many = Group, secondary = Membership, foreign_key = "user_id", target_key = "group_id", order_by = "name")]
    pub groups: Related<Vec<Group>>,
}

/// An order.
#[derive(Debug, Clone, Model)]
#[model(table = "orders")]
pub struct Order {
    /// The key.
    #[model(primary_key, generated)]
    pub id: i64,
    /// The buyer.
    #[model(references = "users.id")]
    pub user_id: i64,
    /// Who reviewed it, if anyone.
    #[model(references = "users.id")]
    pub reviewer_id: Option<i64>,
    /// When.
    pub placed_at: i64,
    /// The buyer.
    #[relationship(belongs_to = User, foreign_key = "user_id", back_populates = "orders")]
    pub user: Related<User>,
    /// The reviewer: a second relationship to `User`, through another foreign key.
    #[relationship(belongs_to = User, foreign_key = "reviewer_id")]
    pub reviewer: Related<Option<User>>,
    /// The lines.
    #[relationship(has_many = OrderLine)]
    pub lines: Related<Vec<OrderLine>>,
}

/// A profile.
#[derive(Debug, Clone, Model)]
#[model(table = "profiles")]
pub struct Profile {
    /// The key.
    #[model(primary_key)]
    pub id: i64,
    /// The user, unique.
    #[model(references = "users.id", unique)]
    pub user_id: Option<i64>,
}

/// A group.
#[derive(Debug, Clone, Model)]
#[model(table = "groups")]
pub struct Group {
    /// The key.
    #[model(primary_key)]
    pub id: i64,
    /// The name.
    pub name: String,
    /// Its members: link fields inferred from the declared foreign keys.
    #[relationship(many_to_many = User, secondary = Membership)]
    pub members: Related<Vec<User>>,
    /// Its labels: keywords as names.
    #[relationship(has_many = Label, foreign_key = "for")]
    pub r#ref: Related<Vec<Label>>,
}

/// A label of a group.
#[derive(Debug, Clone, Model)]
#[model(table = "labels")]
pub struct Label {
    /// The key.
    #[model(primary_key)]
    pub id: i64,
    /// The group.
    #[model(references = "groups.id")]
    pub r#for: i64,
}

/// The association of users and groups.
#[derive(Debug, Clone, Model)]
#[model(table = "memberships")]
pub struct Membership {
    /// The user.
    #[model(primary_key, references = "users.id")]
    pub user_id: i64,
    /// The group.
    #[model(primary_key, references = "groups.id")]
    pub group_id: i64,
}

/// A line of an order: a composite key.
#[derive(Debug, Clone, Model)]
#[model(table = "order_lines")]
pub struct OrderLine {
    /// The order.
    #[model(primary_key, references = "orders.id")]
    pub order_id: i64,
    /// The position.
    #[model(primary_key)]
    pub line_no: i32,
    /// The shipments of this line: a composite foreign key on the target.
    #[relationship(has_many = Shipment, foreign_key = ("order_id", "line_no"))]
    pub shipments: Related<Vec<Shipment>>,
}

/// A shipment of one order line.
#[derive(Debug, Clone, Model)]
#[model(table = "shipments")]
pub struct Shipment {
    /// The key.
    #[model(primary_key)]
    pub id: i64,
    /// The line's order.
    pub order_id: i64,
    /// The line's position (nullable).
    pub line_no: Option<i32>,
    /// The line: a composite foreign key on this struct.
    #[relationship(belongs_to = OrderLine, foreign_key = ("order_id", "line_no"))]
    pub line: Related<Option<OrderLine>>,
}

/// An employee: relationships to the same model.
#[derive(Debug, Clone, Model)]
#[model(table = "employees")]
pub struct Employee {
    /// The key.
    #[model(primary_key)]
    pub id: i64,
    /// The manager's key.
    #[model(references = "employees.id")]
    pub manager_id: Option<i64>,
    /// The manager.
    #[relationship(belongs_to = Self, foreign_key = "manager_id", back_populates = "reports")]
    pub manager: Related<Option<Employee>>,
    /// The reports.
    #[relationship(has_many = Self, foreign_key = "manager_id", back_populates = "manager")]
    pub reports: Related<Vec<Employee>>,
}

/// A category tree: `Self` inside the field types too, and a required parent.
#[derive(Debug, Clone, Model)]
#[model(table = "categories")]
pub struct Category {
    /// The key.
    #[model(primary_key)]
    pub id: i32,
    /// The parent's key (the root is its own parent).
    pub parent_id: i32,
    /// The parent.
    #[relationship(belongs_to = Category, foreign_key = "parent_id")]
    pub parent: Related<Self>,
    /// The children.
    #[relationship(has_many = Category, foreign_key = "parent_id", order_by = "id")]
    pub children: Related<Vec<Self>>,
}

fn main() {
    // The handles exist, and name their relationship.
    assert_eq!(format!("{:?}", User::orders), "Relationship(User.orders)");
    let _ = (
        User::profile,
        User::groups,
        Order::user,
        Order::reviewer,
        Order::lines,
    );
    let _ = (
        OrderLine::shipments,
        Shipment::line,
        Employee::manager,
        Employee::reports,
    );
    let _ = (Group::members, Category::parent, Category::children);

    // has_many
    let m = <__OrmRel_User_orders as Relation>::META;
    assert_eq!(
        (m.model, m.name, m.kind),
        ("User", "orders", RelationKind::HasMany)
    );
    assert_eq!((m.parent.name, m.target.name), ("users", "orders"));
    assert_eq!(m.foreign_key, &["user_id"]);
    assert_eq!(m.order_by, &[("placed_at", true), ("id", false)]);
    assert_eq!(m.back_populates, Some("user"));
    assert!(m.secondary.is_none() && m.secondary_target_key.is_empty());

    // has_one
    let m = <__OrmRel_User_profile as Relation>::META;
    assert_eq!((m.kind, m.target.name), (RelationKind::HasOne, "profiles"));
    assert_eq!(m.foreign_key, &["user_id"]);
    assert_eq!(m.back_populates, None);

    // many_to_many, named and inferred
    let m = <__OrmRel_User_groups as Relation>::META;
    assert_eq!(
        (m.kind, m.target.name),
        (RelationKind::ManyToMany, "groups")
    );
    assert_eq!(m.secondary.map(|t| t.name), Some("memberships"));
    assert_eq!(
        (m.foreign_key, m.secondary_target_key),
        (&["user_id"][..], &["group_id"][..])
    );
    assert_eq!(m.order_by, &[("name", false)]);
    let m = <__OrmRel_Group_members as Relation>::META;
    assert_eq!(m.secondary.map(|t| t.name), Some("memberships"));
    assert!(m.foreign_key.is_empty() && m.secondary_target_key.is_empty());
    let m = <__OrmRel_Group_ref as Relation>::META;
    assert_eq!((m.name, m.foreign_key), ("ref", &["for"][..]));
    let _ = Group::r#ref;

    // belongs_to, twice to the same target
    let m = <__OrmRel_Order_user as Relation>::META;
    assert_eq!((m.kind, m.target.name), (RelationKind::BelongsTo, "users"));
    assert_eq!(m.foreign_key, &["user_id"]);
    assert_eq!(m.back_populates, Some("orders"));
    let m = <__OrmRel_Order_reviewer as Relation>::META;
    assert_eq!(m.foreign_key, &["reviewer_id"]);

    // has_many with the foreign key inferred
    let m = <__OrmRel_Order_lines as Relation>::META;
    assert!(m.foreign_key.is_empty());

    // composite keys
    let m = <__OrmRel_OrderLine_shipments as Relation>::META;
    assert_eq!(m.foreign_key, &["order_id", "line_no"]);
    let m = <__OrmRel_Shipment_line as Relation>::META;
    assert_eq!(
        (m.kind, m.foreign_key),
        (RelationKind::BelongsTo, &["order_id", "line_no"][..])
    );

    // self-referential
    let m = <__OrmRel_Employee_manager as Relation>::META;
    assert_eq!((m.parent.name, m.target.name), ("employees", "employees"));
    let m = <__OrmRel_Employee_reports as Relation>::META;
    assert_eq!(
        (m.kind, m.foreign_key),
        (RelationKind::HasMany, &["manager_id"][..])
    );
    let mut root = Category {
        id: 1,
        parent_id: 1,
        parent: Related::not_loaded(),
        children: Related::not_loaded(),
    };
    assert_eq!(__OrmRel_Category_parent::parent_key(&root), Some(1));
    assert_eq!(__OrmRel_Category_children::parent_key(&root), Some(1));
    let copy = root.clone();
    __OrmRel_Category_parent::slot(&mut root)
        .expect("a plain model always has the field")
        .set(copy);
    assert_eq!(root.parent.get().map(|p| p.id).ok(), Some(1));

    // Relationship fields are not columns.
    assert_eq!(<User as FromRow>::WIDTH, 2);
    assert_eq!(<Order as FromRow>::WIDTH, 4);
    let names: Vec<&str> = Order::TABLE.columns.iter().map(|c| c.name).collect();
    assert_eq!(names, ["id", "user_id", "reviewer_id", "placed_at"]);

    // Keys: this model's primary key, or the foreign key's value (None when NULL).
    let mut order = Order {
        id: 7,
        user_id: 1,
        reviewer_id: None,
        placed_at: 0,
        user: Related::not_loaded(),
        reviewer: Related::not_loaded(),
        lines: Related::not_loaded(),
    };
    assert_eq!(order.insert_params().len(), 3);
    assert_eq!(__OrmRel_Order_user::parent_key(&order), Some(1));
    assert_eq!(__OrmRel_Order_reviewer::parent_key(&order), None);
    assert_eq!(__OrmRel_Order_lines::parent_key(&order), Some(7));
    assert_eq!(__OrmRel_Order_user::key_params(vec![1, 2]).len(), 1);
    __OrmRel_Order_lines::slot(&mut order)
        .expect("a plain model always has the field")
        .set(Vec::new());
    assert!(order.lines.is_loaded());

    let shipment = Shipment {
        id: 1,
        order_id: 7,
        line_no: Some(2),
        line: Related::not_loaded(),
    };
    assert_eq!(__OrmRel_Shipment_line::parent_key(&shipment), Some((7, 2)));
    assert_eq!(
        __OrmRel_Shipment_line::key_params(vec![(7, 2), (8, 1)]).len(),
        2
    );
    let line = OrderLine {
        order_id: 7,
        line_no: 2,
        shipments: Related::not_loaded(),
    };
    assert_eq!(
        __OrmRel_OrderLine_shipments::parent_key(&line),
        Some((7, 2))
    );
    assert_eq!(
        __OrmRel_OrderLine_shipments::key_params(vec![(7, 2)]).len(),
        2
    );
}
