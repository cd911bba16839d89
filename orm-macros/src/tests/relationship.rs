//! `#[relationship]` attributes: options, field types, foreign keys, cascades, expansion.

use super::*;

#[test]
fn valid_relationships_have_no_errors() {
    let errors = model_errors(parse_quote! {
        struct Employee {
            #[model(primary_key)]
            id: i64,
            manager_id: Option<i64>,
            org: i64,
            team: i32,
            #[relationship(belongs_to = Self, foreign_key = "manager_id", back_populates = "reports")]
            manager: Related<Option<Employee>>,
            #[relationship(has_many = Employee, foreign_key = "manager_id", order_by = ("-hired", "id"))]
            reports: orm::Related<Vec<Self>>,
            #[relationship(has_one = Badge)]
            badge: Related<Option<Badge>>,
            #[relationship(belongs_to = crate::Team, foreign_key = ("org", "team"))]
            team_row: Related<crate::Team>,
            #[relationship(many_to_many = Project, secondary = Assignment, foreign_key = "employee_id", target_key = "project_id")]
            #[relationship(order_by = "name")]
            projects: Related<Vec<Project>>,
            /// Not a relationship: skipped.
            #[model(skip)]
            cache: Related<Vec<Project>>,
        }
    });
    assert_eq!(errors, Vec::<String>::new());
}

#[test]
fn relationship_attribute_errors() {
    let errors = model_errors(parse_quote! {
        struct User {
            #[model(primary_key)]
            id: i64,
            #[relationship(has_many = Order, foriegn_key = "user_id", lazy = "selectin", fk = "x")]
            a: Related<Vec<Order>>,
            #[relationship(foreign_key = "x")]
            b: Related<Vec<Order>>,
            #[relationship(has_many = Order, belongs_to = Order, has_many = Order)]
            c: Related<Vec<Order>>,
            #[relationship(has_many)]
            d: Related<Vec<Order>>,
            #[relationship(has_many = "Order", secondary = [u8], back_populates = "a b")]
            e: Related<Vec<Order>>,
            #[relationship(has_many = Order, foreign_key = 3, target_key = ())]
            f: Related<Vec<Order>>,
            #[relationship(has_many = Order, foreign_key = ("a.b", "id", "id"), order_by)]
            g: Related<Vec<Order>>,
            #[relationship(has_many = Order, foreign_key = ("self", "_", "", "r#self", "1a"))]
            h: Related<Vec<Order>>,
            #[relationship(has_many = Order, foreign_key = ("type", "r#match", "été"), back_populates = "self")]
            i: Related<Vec<Order>>,
        }
    });
    assert_eq!(
        errors,
        [
            "unknown relationship attribute `foriegn_key`; did you mean `foreign_key`?",
            "unknown relationship attribute `lazy`; loading is chosen by each query, not by the relationship: `User::orders.selectin()`",
            "unknown relationship attribute `fk`; did you mean `foreign_key`?",
            "a relationship needs its kind and target model: `belongs_to = Model`, `has_one = Model`, `has_many = Model` or `many_to_many = Model`",
            "`belongs_to` conflicts with `has_many`: a relationship has exactly one kind",
            "duplicate relationship attribute `has_many`",
            "expected a model: `has_many = Model`",
            "expected a model type, not a string: `has_many = Order`",
            "expected a model type: `secondary = LinkModel`",
            "`back_populates` names the relationship field on the other model: `a b` is not a field name",
            "expected a field name or a tuple of field names: `foreign_key = \"field\"`, or `foreign_key = (\"field_a\", \"field_b\")` for a composite key",
            "`target_key` needs at least one field",
            "`foreign_key` names fields: `a.b` is not a field name",
            "field `id` is listed twice in `foreign_key`",
            "expected a value: `order_by = \"column\"`, `\"-column\"` for descending, or a tuple: `order_by = (\"-created_at\", \"id\")`",
            "`foreign_key` names fields: `self` is not a field name",
            "`foreign_key` names fields: `_` is not a field name",
            "`foreign_key` names fields: the name must not be empty",
            "`foreign_key` names fields: `r#self` is not a field name",
            "`foreign_key` names fields: `1a` is not a field name",
            "`back_populates` names the relationship field on the other model: `self` is not a field name",
            // Keywords and Unicode names are field names (`r#type`).
            "`foreign_key` names 3 fields, but the primary key of `User` has 1 column (`id`): name one field per key column, in key order",
        ]
    );
}

#[test]
fn relationship_option_rules() {
    let errors = model_errors(parse_quote! {
        struct User {
            #[model(primary_key)]
            id: i64,
            #[relationship(has_one = Profile, secondary = Link, target_key = "x")]
            a: Related<Option<Profile>>,
            #[relationship(many_to_many = Group)]
            b: Related<Vec<Group>>,
            #[relationship(belongs_to = Org)]
            c: Related<Org>,
            #[relationship(belongs_to = Org, foreign_key = "a.b")]
            d: Related<Org>,
            #[relationship(has_many = Order, order_by = ("", "-", "total desc", "a b", "x", "-x", "total asc"))]
            e: Related<Vec<Order>>,
            #[relationship(belongs_to = Org, foreign_key = "id", order_by = "name")]
            g: Related<Org>,
            #[model(skip)]
            #[relationship(has_many = Order)]
            f: Related<Vec<Order>>,
        }
    });
    assert_eq!(
        errors,
        [
            "`secondary` is only for `many_to_many`; this relationship is `has_one`",
            "`target_key` is only for `many_to_many`; this relationship is `has_one`",
            "`many_to_many` needs `secondary = LinkModel`: the model of the association table",
            "`belongs_to` needs `foreign_key = \"field\"`: the field of this struct holding the target's key (a tuple of fields for a composite key)",
            // Given but refused: not reported as missing.
            "`foreign_key` names fields: `a.b` is not a field name",
            "malformed `order_by` entry \"\": expected a column of the target, prefixed with `-` for descending order",
            "malformed `order_by` entry \"-\": expected a column of the target, prefixed with `-` for descending order",
            "malformed `order_by` entry \"total desc\": expected a column of the target, prefixed with `-` for descending order; for descending order write \"-total\"",
            "malformed `order_by` entry \"a b\": expected a column of the target, prefixed with `-` for descending order",
            "column `x` is listed twice in `order_by`",
            "malformed `order_by` entry \"total asc\": expected a column of the target, prefixed with `-` for descending order; ascending is the default: write \"total\"",
            "`order_by` orders a collection (`has_many`, `many_to_many`) or picks a `has_one`'s row; a `belongs_to` loads one row",
            "field `f` is a relationship, not a column: it takes no #[model(...)] attributes",
        ]
    );
}

#[test]
fn relationship_field_types() {
    let errors = model_errors(parse_quote! {
        struct User {
            #[model(primary_key)]
            id: i64,
            org_id: Option<i64>,
            #[relationship(has_many = Order)]
            a: Related<Order>,
            #[relationship(has_many = Order)]
            b: Vec<Order>,
            #[relationship(has_one = Profile)]
            c: Related<Profile>,
            #[relationship(belongs_to = Org, foreign_key = "org_id")]
            d: Related<Vec<Org>>,
            #[relationship(many_to_many = Group, secondary = Link)]
            e: Related<Option<Group>>,
            #[relationship(belongs_to = Org, foreign_key = "org_id")]
            f: Related<Org>,
            g: Related<Vec<Order>>,
        }
    });
    assert_eq!(
        errors,
        [
            "`has_many` needs a field of type `Related<Vec<Order>>`, not `Related<Order>`",
            "a relationship field holds the related rows once loaded: `has_many` needs a field of type `Related<Vec<Order>>`",
            "`has_one` needs a field of type `Related<Option<Profile>>`, not `Related<Profile>`",
            "`belongs_to` needs a field of type `Related<Org>` (a required foreign key) or `Related<Option<Org>>` (a nullable one), not `Related<Vec<Org>>`",
            "`many_to_many` needs a field of type `Related<Vec<Group>>`, not `Related<Option<Group>>`",
            "field `g` holds related rows, not a column: declare the relationship with #[relationship(...)], e.g. `#[relationship(has_many = Order, foreign_key = \"user_id\")]`",
            "the foreign key `org_id` is nullable, so the related row may be missing: make the field `Related<Option<Org>>`",
        ]
    );
}

#[test]
fn relationship_foreign_keys_are_checked() {
    let errors = model_errors(parse_quote! {
        struct Line {
            #[model(primary_key)]
            order_id: i64,
            #[model(primary_key)]
            pos: i32,
            user_id: i64,
            #[model(skip)]
            cache: i64,
            #[relationship(belongs_to = User, foreign_key = "usr_id")]
            a: Related<User>,
            #[relationship(belongs_to = User, foreign_key = ("cache", "zzz"))]
            b: Related<User>,
            #[relationship(has_many = Shipment, foreign_key = "line_id")]
            c: Related<Vec<Shipment>>,
            #[relationship(many_to_many = Tag, secondary = LineTag, foreign_key = ("a", "b", "c"))]
            d: Related<Vec<Tag>>,
            #[relationship(has_many = Shipment, foreign_key = ("order_id", "pos"))]
            e: Related<Vec<Shipment>>,
        }
    });
    assert_eq!(
        errors,
        [
            "`Line` has no field `usr_id`: the `foreign_key` of `belongs_to` names fields of this struct; did you mean `user_id`?",
            "field `cache` in `foreign_key` is not a column",
            "`Line` has no field `zzz`: the `foreign_key` of `belongs_to` names fields of this struct; the columns are `order_id`, `pos` and `user_id`",
            "`foreign_key` names 1 field, but the primary key of `Line` has 2 columns (`order_id`, `pos`): name one field per key column, in key order",
            "`foreign_key` names 3 fields, but the primary key of `Line` has 2 columns (`order_id`, `pos`): name one field per key column, in key order",
        ]
    );
}

#[test]
fn relationship_expansion() {
    let out = expansion(derive::model(&parse_quote! {
        #[model(crate = "orm_core")]
        pub struct Order {
            #[model(primary_key)]
            pub id: i64,
            pub user_id: Option<i64>,
            pub a: i64,
            pub b: i32,
            /// The buyer.
            #[relationship(belongs_to = User, foreign_key = "user_id", back_populates = "orders")]
            pub user: Related<Option<User>>,
            #[relationship(belongs_to = Pair, foreign_key = ("a", "b"))]
            pub(crate) pair: Related<Pair>,
            #[relationship(has_many = Line, foreign_key = "order_id", order_by = ("-pos", "id"))]
            pub lines: Related<Vec<Line>>,
            #[relationship(many_to_many = Self, secondary = Link, target_key = "other_id")]
            pub related: Related<Vec<Self>>,
        }
    }));
    let expected = [
        // Marker types next to the struct, with its visibility.
        "# [doc (hidden)] # [allow (non_camel_case_types)] pub struct __OrmRel_Order_user ;",
        // Metadata: the options, the target's table through a bounded function.
        r#"const __ORM_META_user : & 'static orm_core :: __private :: RelationMeta = & orm_core :: __private :: RelationMeta :: new ("Order" , "user" , orm_core :: __private :: RelationKind :: BelongsTo , < Order as orm_core :: __private :: Model > :: TABLE , __orm_table :: < User > () ,) . foreign_key (& ["user_id"]) . back_populates ("orders") ;"#,
        r#". foreign_key (& ["a" , "b"])"#,
        r#". foreign_key (& ["order_id"]) . order_by (& [("pos" , true) , ("id" , false)]) ;"#,
        r#". secondary (__orm_table :: < Link > ()) . secondary_target_key (& ["other_id"]) ;"#,
        // belongs_to: keyed by the target's key, read from the foreign key.
        "impl orm_core :: __private :: Relation for __OrmRel_Order_user where for < '__orm > User : orm_core :: __private :: Model ,",
        "type Key = < User as orm_core :: __private :: Model > :: Pk ;",
        "type Value = Option < User > ;",
        "< _ as orm_core :: __private :: KeyOf < Self :: Key >> :: key_of (& __parent . user_id)",
        // Composite: one array per key column.
        "orm_core :: __private :: Some ((< _ as orm_core :: __private :: KeyOf < _ >> :: key_of (& __parent . a) ? , < _ as orm_core :: __private :: KeyOf < _ >> :: key_of (& __parent . b) ? ,))",
        "for (__v0 , __v1 ,) in __keys { __k0 . push (__v0) ; __k1 . push (__v1) ; }",
        // has_many: keyed by this model's key; the target's field is checked.
        "type Key = < Order as orm_core :: __private :: Model > :: Pk ;",
        "orm_core :: __private :: Some (< Order as orm_core :: __private :: Model > :: pk (__parent))",
        "fn __orm_check (__row : & < Line as orm_core :: __private :: FieldsOf > :: Fields) -> orm_core :: __private :: Option < < Order as orm_core :: __private :: Model > :: Pk >",
        // `Self` is the model, also inside the field's type.
        "type Target = Order ;",
        "type Value = Vec < Order > ;",
        "fn __orm_check (__row : & < Link as orm_core :: __private :: FieldsOf > :: Fields) -> orm_core :: __private :: Option < < Order as orm_core :: __private :: Model > :: Pk >",
        // The handles, with the field's visibility and docs.
        "# [doc = r\" The buyer.\"] # [doc = \"\"] # [doc = \" The relationship `user`: belongs_to `User`.\"] # [allow (non_upper_case_globals)] pub const user : orm_core :: __private :: Relationship < __OrmRel_Order_user > = orm_core :: __private :: Relationship :: new () ;",
        "pub (crate) const pair :",
        // Not columns: not decoded, not written.
        "const WIDTH : usize = 4 ;",
        "lines : orm_core :: __private :: Related :: unloaded (__ORM_META_lines)",
    ];
    for snippet in expected {
        assert!(out.contains(snippet), "missing `{snippet}` in:\n{out}");
    }
    assert!(!out.contains("compile_error"), "{out}");
    assert!(!out.contains("self . lines"), "{out}");
}

#[test]
fn failed_model_keeps_its_relationship_handles() {
    let out = expansion(derive::model(&parse_quote! {
        pub struct User {
            #[model(primary_key, unknown)]
            pub id: i64,
            #[relationship(has_many = Order, foreign_key = "user_id")]
            pub orders: Related<Vec<Order>>,
            #[relationship(has_many)]
            pub broken: Related<Vec<Order>>,
        }
    }));
    assert!(out.contains("compile_error"), "{out}");
    for snippet in [
        "pub struct __OrmRel_User_orders ;",
        "impl :: orm_postgres :: __private :: Relation for __OrmRel_User_orders {",
        "type Key = () ;",
        "pub const orders : :: orm_postgres :: __private :: Relationship < __OrmRel_User_orders >",
    ] {
        assert!(out.contains(snippet), "missing `{snippet}` in:\n{out}");
    }
    // A relationship whose kind could not be read has no handle.
    assert!(!out.contains("__OrmRel_User_broken"), "{out}");
}

#[test]
fn cascade_options() {
    use crate::attr::relationship::parse_cascade;
    // The bits of orm-core's `Cascade` (checked against `Cascade::parse` by ui-pass).
    assert_eq!(parse_cascade("save-update, merge"), Ok(3));
    assert_eq!(parse_cascade("all"), Ok(1 | 2 | 4 | 16 | 32));
    assert_eq!(parse_cascade(" all ,delete-orphan"), Ok(63));
    assert_eq!(parse_cascade("none"), Ok(0));
    assert_eq!(
        parse_cascade("delete, expunge, refresh-expire"),
        Ok(4 | 16 | 32)
    );
    assert_eq!(
        parse_cascade("all, Delete, save_update"),
        Err(vec!["Delete".to_owned(), "save_update".to_owned()])
    );
}
