//! Unit tests of the parse and check passes, on inputs built with `parse_quote!`.

use proc_macro2::TokenStream;
use syn::{DeriveInput, parse_quote};

use crate::ctxt::Ctxt;
use crate::{ast, check, derive};

/// Every error `#[derive(Model)]` reports for `input`, in order.
fn model_errors(input: DeriveInput) -> Vec<String> {
    let cx = Ctxt::new();
    let model = ast::Model::from_ast(&cx, &input);
    check::check_model(&cx, &model);
    messages(cx)
}

/// Every error `#[derive(FromRow)]` reports for `input`, in order.
fn row_errors(input: DeriveInput) -> Vec<String> {
    let cx = Ctxt::new();
    let row = ast::RowStruct::from_ast(&cx, &input);
    check::check_from_row(&cx, &row);
    messages(cx)
}

/// Every error `#[derive(DbEnum)]` reports for `input`, in order.
fn enum_errors(input: DeriveInput) -> Vec<String> {
    let cx = Ctxt::new();
    let db_enum = ast::DbEnum::from_ast(&cx, &input);
    check::check_db_enum(&cx, &db_enum);
    messages(cx)
}

fn messages(cx: Ctxt) -> Vec<String> {
    match cx.check() {
        Ok(()) => Vec::new(),
        Err(err) => err.into_iter().map(|e| e.to_string()).collect(),
    }
}

/// The expansion, as a string with token spacing.
fn expansion(tokens: TokenStream) -> String {
    tokens.to_string()
}

#[test]
fn valid_model_has_no_errors() {
    let errors = model_errors(parse_quote! {
        #[model(table = "users", schema = "auth", index(name, email), unique(email))]
        #[model(check = "length(name) > 0", crate = "orm_core")]
        struct User {
            #[model(primary_key, generated)]
            id: i64,
            #[model(len = 80, unique, index, check = "name <> ''", default = "'x'")]
            name: String,
            #[model(column = "e_mail")]
            email: Option<String>,
            #[model(references = "auth.orgs.id", on_delete = "set null", on_update = "CASCADE")]
            org: Option<i64>,
            #[model(skip)]
            cache: Vec<u8>,
        }
    });
    assert_eq!(errors, Vec::<String>::new());
}

#[test]
fn unknown_attribute_suggests_the_closest_key() {
    let errors = model_errors(parse_quote! {
        struct User {
            #[model(primay_key)]
            id: i64,
            #[model(colum = "x", frobnicate, table = "t", nullable)]
            name: String,
        }
    });
    assert_eq!(
        errors,
        [
            "unknown model attribute `primay_key`; did you mean `primary_key`?",
            "unknown model attribute `colum`; did you mean `column`?",
            "unknown model attribute `frobnicate`; expected `primary_key`, `generated`, `column`, `unique`, `index`, `len`, `default`, `references`, `on_delete`, `on_update`, `check`, `version`, `validate` or `skip`",
            "`table` is not a model attribute here; it goes on the struct, not on a field",
            "unknown model attribute `nullable`; a column is nullable when the field's type is `Option<T>`",
        ]
    );
}

#[test]
fn unknown_container_attribute() {
    let errors = model_errors(parse_quote! {
        #[model(tabel = "users", primary_key)]
        struct User {
            #[model(primary_key)]
            id: i64,
        }
    });
    assert_eq!(
        errors,
        [
            "unknown model attribute `tabel`; did you mean `table`?",
            "`primary_key` is not a model attribute here; it goes on a field, not on the struct",
        ]
    );
}

#[test]
fn duplicate_attributes() {
    let errors = model_errors(parse_quote! {
        #[model(table = "a")]
        #[model(table = "b")]
        struct User {
            #[model(primary_key, unique)]
            #[model(unique, len = 3, len = 4)]
            id: i64,
        }
    });
    assert_eq!(
        errors,
        [
            "duplicate model attribute `table`",
            "duplicate model attribute `unique`",
            "duplicate model attribute `len`",
        ]
    );
}

#[test]
fn no_primary_key() {
    let errors = model_errors(parse_quote! {
        struct User {
            id: i64,
        }
    });
    assert_eq!(
        errors,
        ["a model needs a primary key: mark a field with #[model(primary_key)]"]
    );
}

#[test]
fn misspelled_primary_key_is_reported_once() {
    let errors = model_errors(parse_quote! {
        struct User {
            #[model(primary_ky)]
            id: i64,
        }
    });
    assert_eq!(
        errors,
        ["unknown model attribute `primary_ky`; did you mean `primary_key`?"]
    );
}

#[test]
fn field_option_conflicts() {
    let errors = model_errors(parse_quote! {
        struct User {
            #[model(primary_key)]
            id: Option<i64>,
            #[model(skip, unique, column = "n")]
            name: String,
            #[model(on_delete = "cascade", on_update = "restrict")]
            org: i64,
            #[model(references = "orgs")]
            team: i64,
            #[model(references = "a.b.c.d")]
            group: i64,
            #[model(references = "orgs.id", on_delete = "explode")]
            owner: i64,
            #[model(len = 0)]
            code: String,
        }
    });
    assert_eq!(
        errors,
        [
            "`skip` cannot be combined with other model attributes: a skipped field is not a column (remove `column` and `unique`)",
            "`on_delete` needs `references`: add `references = \"table.column\"` to make this column a foreign key",
            "`on_update` needs `references`: add `references = \"table.column\"` to make this column a foreign key",
            "malformed `references = \"orgs\"`: expected \"table.column\" or \"schema.table.column\"",
            "malformed `references = \"a.b.c.d\"`: expected \"table.column\" or \"schema.table.column\"",
            "unknown `on_delete` action \"explode\"; expected \"cascade\", \"restrict\", \"set null\", \"set default\" or \"no action\"",
            "`len` must be at least 1",
            "a primary key cannot be nullable: field `id` is an `Option`; remove the `Option` or `primary_key`",
        ]
    );
}

#[test]
fn duplicate_columns_and_index_lists() {
    let errors = model_errors(parse_quote! {
        #[model(index(name, nme), unique(name, name), index(cache), unique())]
        struct User {
            #[model(primary_key)]
            id: i64,
            name: String,
            #[model(column = "name")]
            full_name: String,
            #[model(column = "id")]
            other: i64,
            #[model(skip)]
            cache: u8,
        }
    });
    assert_eq!(
        errors,
        [
            "`unique(...)` needs at least one field",
            "duplicate column `name`: fields `name` and `full_name` both map to it",
            "duplicate column `id`: fields `id` and `other` both map to it",
            "unknown field `nme` in `index(...)`; did you mean `name`?",
            "field `name` is listed twice in `unique(...)`",
            "field `cache` in `index(...)` is not a column",
        ]
    );
}

#[test]
fn attribute_values_are_checked() {
    let errors = model_errors(parse_quote! {
        #[model(table = users, schema = "", crate = "not a path", unique = "a")]
        struct User {
            #[model(primary_key = true, len = "80", column)]
            id: i64,
        }
    });
    assert_eq!(
        errors,
        [
            "expected a string literal: `model(table = \"...\")`",
            "the schema name must not be empty",
            "`crate` must be a path to the ORM crate, like `crate = \"orm_postgres\"`, not `not a path`",
            "expected a list of fields: `unique(field_a, field_b)`; to make one column unique, put `#[model(unique)]` on its field",
            "`primary_key` takes no value: write `model(primary_key)`",
            "expected an integer literal: `model(len = 80)`",
            "expected a value: `model(column = \"...\")`",
        ]
    );
}

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
        "fn __orm_check (__row : & Line) -> orm_core :: __private :: Option < < Order as orm_core :: __private :: Model > :: Pk >",
        // `Self` is the model, also inside the field's type.
        "type Target = Order ;",
        "type Value = Vec < Order > ;",
        "fn __orm_check (__row : & Link) -> orm_core :: __private :: Option < < Order as orm_core :: __private :: Model > :: Pk >",
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
fn shapes_and_generics() {
    assert_eq!(
        model_errors(parse_quote!(
            struct Pair(i64, i64);
        )),
        [
            "#[derive(Model)] needs a struct with named fields: each field's name is its column's name"
        ]
    );
    assert_eq!(
        model_errors(parse_quote!(
            enum E {
                A,
            }
        )),
        [
            "#[derive(Model)] only supports structs with named fields; for a PostgreSQL enum type use #[derive(DbEnum)]"
        ]
    );
    assert_eq!(
        model_errors(parse_quote! {
            struct User<T> {
                #[model(primary_key)]
                id: T,
            }
        }),
        ["#[derive(Model)] does not support generic parameters: a model maps to one table"]
    );
}

#[test]
fn long_names_are_refused() {
    let long = "x".repeat(64);
    let errors = model_errors(parse_quote! {
        #[model(table = #long)]
        struct User {
            #[model(primary_key)]
            id: i64,
        }
    });
    assert_eq!(
        errors,
        [format!(
            "the table name `{long}` is 64 bytes long; PostgreSQL allows at most 63"
        )]
    );
}

#[test]
fn db_enum_errors() {
    let errors = enum_errors(parse_quote! {
        #[db_enum(nam = "mood", rename = "x")]
        enum Mood<T> {
            Happy,
            #[db_enum(rename = "happy")]
            Glad,
            Sad(T),
            #[db_enum(rename = "s", rename = "t", label = "u")]
            Meh,
        }
    });
    assert_eq!(
        errors,
        [
            "unknown db_enum attribute `nam`; did you mean `name`?",
            "`rename` is not a db_enum attribute here; it goes on a variant, not on the enum",
            "#[derive(DbEnum)] does not support generic parameters: it maps to one database type",
            "DbEnum variants cannot have fields: `Sad` maps to a label of a PostgreSQL enum, which holds no data",
            "duplicate db_enum attribute `rename`",
            "unknown db_enum attribute `label`; did you mean `rename`?",
            "duplicate enum label `happy`: variants `Happy` and `Glad` both map to it",
        ]
    );
    assert_eq!(
        enum_errors(parse_quote!(
            struct S;
        )),
        ["#[derive(DbEnum)] only supports enums whose variants have no fields"]
    );
    assert_eq!(
        enum_errors(parse_quote!(
            enum Never {}
        )),
        ["#[derive(DbEnum)] needs at least one variant: each variant is a label of the enum type"]
    );
}

#[test]
fn model_expansion() {
    let out = expansion(derive::model(&parse_quote! {
        #[model(crate = "orm_core")]
        pub struct OrderItem {
            #[model(primary_key)]
            pub order: i64,
            #[model(primary_key, column = "line_no")]
            pub line: i32,
            #[model(generated, default = "now()")]
            pub created: String,
            #[model(skip)]
            pub note: String,
            pub r#type: Option<String>,
        }
    }));
    let expected = [
        // Default table name; metadata through the const builders.
        r#"orm_core :: __private :: Table :: new ("OrderItem" , "order_item" ,"#,
        r#"orm_core :: __private :: ColumnDef :: new ("line_no" , "line" , < i32 as orm_core :: __private :: SqlType > :: COLUMN_TYPE) . primary_key ()"#,
        r#". generated () . default ("now()")"#,
        r#"orm_core :: __private :: ColumnDef :: new ("type" , "type" ,"#,
        // Composite key.
        "type Pk = (i64 , i32 ,) ;",
        "let (__k0 , __k1 ,) = __pk ;",
        // Decoding by position; skipped fields from Default.
        "const WIDTH : usize = 4 ;",
        r#"order : orm_core :: __private :: decode_field (__row , __start , "OrderItem" , "order") ?"#,
        r#"r#type : orm_core :: __private :: decode_field (__row , __start + 3 , "OrderItem" , "type") ?"#,
        "note : < String as orm_core :: __private :: Default > :: default ()",
        // Column constants.
        r#"pub const r#type : orm_core :: __private :: Column < Self , Option < String > > = orm_core :: __private :: Column :: new ("order_item" , "type") ;"#,
        // Inserts leave out `created`; updates leave out the key.
        "fn insert_params (& self) -> orm_core :: __private :: Vec < orm_core :: __private :: Param > { < orm_core :: __private :: Vec < orm_core :: __private :: Param >> :: from ([orm_core :: __private :: param (< i64 as orm_core :: __private :: Clone > :: clone (& self . order)) , orm_core :: __private :: param (< i32 as orm_core :: __private :: Clone > :: clone (& self . line)) , orm_core :: __private :: param (< Option < String > as orm_core :: __private :: Clone > :: clone (& self . r#type))]) }",
        "fn update_params (& self) -> orm_core :: __private :: Vec < orm_core :: __private :: Param > { < orm_core :: __private :: Vec < orm_core :: __private :: Param >> :: from ([orm_core :: __private :: param (< String as orm_core :: __private :: Clone > :: clone (& self . created)) , orm_core :: __private :: param (< Option < String > as orm_core :: __private :: Clone > :: clone (& self . r#type))]) }",
    ];
    for snippet in expected {
        assert!(out.contains(snippet), "missing `{snippet}` in:\n{out}");
    }
    assert!(!out.contains("compile_error"), "{out}");
}

#[test]
fn failed_model_emits_errors_and_a_stub() {
    let out = expansion(derive::model(&parse_quote! {
        pub struct User {
            #[model(primary_key, unknown)]
            pub id: i64,
            pub name: String,
        }
    }));
    assert!(out.contains("compile_error"), "{out}");
    assert!(
        out.contains("impl :: orm_postgres :: __private :: Model for User"),
        "{out}"
    );
    assert!(out.contains("type Pk = i64 ;"), "{out}");
    assert!(out.contains("pub const name :"), "{out}");
}

#[test]
fn db_enum_expansion() {
    let out = expansion(derive::db_enum(&parse_quote! {
        #[db_enum(schema = "app")]
        pub enum MoodKind {
            VeryHappy,
            #[db_enum(rename = "so-so")]
            SoSo,
        }
    }));
    for snippet in [
        r#"__ty . name () == "mood_kind""#,
        r#"Self :: VeryHappy => "very_happy" ,"#,
        r#"b"so-so" => :: orm_postgres :: __private :: Ok (Self :: SoSo) ,"#,
        r#"labels : & ["very_happy" , "so-so"]"#,
        r#"schema : :: orm_postgres :: __private :: Some ("app")"#,
    ] {
        assert!(out.contains(snippet), "missing `{snippet}` in:\n{out}");
    }
}

#[test]
fn valid_from_row_has_no_errors() {
    let errors = row_errors(parse_quote! {
        #[from_row(crate = "orm_core")]
        struct Report {
            name: String,
            #[from_row(flatten)]
            user: User,
            #[from_row(skip)]
            cache: Vec<u8>,
        }
    });
    assert_eq!(errors, Vec::<String>::new());
}

#[test]
fn from_row_errors() {
    let errors = row_errors(parse_quote! {
        #[from_row(table = "x", skip)]
        struct Report<T> {
            #[from_row(column = "n", flaten, crate = "x")]
            name: String,
            #[from_row(skip, flatten, skip)]
            other: T,
            #[from_row(flatten = true)]
            third: i64,
        }
    });
    assert_eq!(
        errors,
        [
            "unknown from_row attribute `table`; #[derive(FromRow)] decodes query results and maps to no table; for a table derive Model",
            "`skip` is not a from_row attribute here; it goes on a field, not on the struct",
            "#[derive(FromRow)] does not support generic parameters: a row type is decoded the same way for every row",
            "unknown from_row attribute `column`; fields are decoded by position, in declaration order, not by name: select the columns in the order of the fields",
            "unknown from_row attribute `flaten`; did you mean `flatten`?",
            "`crate` is not a from_row attribute here; it goes on the struct, not on a field",
            "duplicate from_row attribute `skip`",
            "`skip` and `flatten` cannot be combined: a skipped field reads no column",
            "`flatten` takes no value: write `from_row(flatten)`",
        ]
    );
}

#[test]
fn from_row_shapes() {
    let tuple = row_errors(parse_quote! { struct Pair(String, i64); });
    assert_eq!(tuple.len(), 1);
    assert!(
        tuple[0].contains("needs a struct with named fields"),
        "{tuple:?}"
    );
    assert_eq!(row_errors(parse_quote! { struct Unit; }).len(), 1);
    assert_eq!(row_errors(parse_quote! { enum E { A } }).len(), 1);
    assert_eq!(
        row_errors(parse_quote! {
            struct Nothing {
                #[from_row(skip)]
                a: i32,
            }
        }),
        ["#[derive(FromRow)] needs at least one field that reads a column (not `skip`)"]
    );
}

#[test]
fn from_row_expansion() {
    let out = expansion(derive::from_row(&parse_quote! {
        #[from_row(crate = "orm_core")]
        pub struct Report {
            pub r#type: String,
            #[from_row(flatten)]
            pub user: User,
            #[from_row(skip)]
            pub cache: u32,
            pub total: Option<i64>,
        }
    }));
    for snippet in [
        "const WIDTH : usize = 2 + < User as orm_core :: __private :: FromRow > :: WIDTH ;",
        r#"r#type : orm_core :: __private :: decode_field (__row , __start , "Report" , "type") ?"#,
        "user : < User as orm_core :: __private :: FromRow > :: from_row (__row , __start + 1) ?",
        "cache : < u32 as orm_core :: __private :: Default > :: default ()",
        r#"total : orm_core :: __private :: decode_field (__row , __start + 1 + < User as orm_core :: __private :: FromRow > :: WIDTH , "Report" , "total") ?"#,
        "for < '__orm > String : orm_core :: __private :: FromSql < '__orm > ,",
        "for < '__orm > User : orm_core :: __private :: FromRow ,",
    ] {
        assert!(out.contains(snippet), "missing `{snippet}` in:\n{out}");
    }
    assert!(!out.contains("compile_error"), "{out}");
}

#[test]
fn failed_from_row_emits_errors_and_a_stub() {
    let out = expansion(derive::from_row(&parse_quote! {
        pub struct Report(String);
    }));
    assert!(out.contains("compile_error"), "{out}");
    assert!(
        out.contains("impl :: orm_postgres :: __private :: FromRow for Report"),
        "{out}"
    );
}

#[test]
fn valid_session_attributes_have_no_errors() {
    let errors = model_errors(parse_quote! {
        #[model(table = "authors", hooks)]
        struct Author {
            #[model(primary_key, generated)]
            id: i64,
            #[model(validate = not_blank, len = 80)]
            name: String,
            #[model(validate = crate::rules::short)]
            nickname: Option<String>,
            #[model(version, default = "1")]
            version: i32,
            #[relationship(has_many = Post, cascade = "all, delete-orphan", passive_deletes)]
            posts: Related<Vec<Post>>,
            #[relationship(has_one = Profile, cascade = " save-update ,merge,refresh-expire ")]
            profile: Related<Option<Profile>>,
            #[relationship(has_many = Comment, cascade = "none")]
            #[relationship(passive_deletes)]
            comments: Related<Vec<Comment>>,
        }
    });
    assert_eq!(errors, Vec::<String>::new());
}

#[test]
fn session_attribute_errors() {
    let errors = model_errors(parse_quote! {
        #[model(hooks = true, hook)]
        struct Doc {
            #[model(primary_key, version)]
            id: i64,
            #[model(version, generated)]
            a: i64,
            #[model(version = 1, validate)]
            b: i64,
            #[model(validate = "check_c", validator = x)]
            c: String,
            #[model(validate = |x| x > 0)]
            d: i64,
            #[model(validate = a, validate = b)]
            e: i64,
            #[model(skip, version, validate = f)]
            f: i64,
            #[relationship(has_many = Post, cascade = "all, delete_orphan, explode", passive_deletes = true)]
            #[model(validate = posts_ok)]
            posts: Related<Vec<Post>>,
            #[relationship(has_many = Post, cascade = "", cascade = "none")]
            more: Related<Vec<Post>>,
            #[relationship(has_many = Post, cascade = all, cascades = "all")]
            others: Related<Vec<Post>>,
            #[relationship(has_many = Post, cascade = "all,,delete", on_delete = "cascade")]
            last: Related<Vec<Post>>,
        }
    });
    assert_eq!(
        errors,
        [
            "`hooks` takes no value: write `model(hooks)`",
            "unknown model attribute `hook`; did you mean `hooks`?",
            "`version` cannot be combined with `primary_key`: a key never changes, while the version changes with every update",
            "`version` cannot be combined with `generated`: the session writes the version itself, incrementing it on every insert and update",
            "`version` takes no value: write `model(version)`",
            "expected a function: `validate = path::to::function`, a `fn(&T) -> Result<(), E>` where `T` is the field's type and `E: Display`",
            "expected a path to a function, not a string: `validate = check_c`",
            "unknown model attribute `validator`; did you mean `validate`?",
            "expected a path to a function: `validate = path::to::function`, a `fn(&T) -> Result<(), E>` where `T` is the field's type and `E: Display`",
            "duplicate model attribute `validate`",
            "`skip` cannot be combined with other model attributes: a skipped field is not a column (remove `version` and `validate`)",
            "field `posts` is a relationship, not a column: it takes no #[model(...)] attributes",
            "unknown cascade option \"delete_orphan\"; did you mean \"delete-orphan\"? expected comma-separated options among \"save-update\", \"merge\", \"delete\", \"delete-orphan\", \"expunge\", \"refresh-expire\", \"all\" or \"none\"",
            "unknown cascade option \"explode\"; expected comma-separated options among \"save-update\", \"merge\", \"delete\", \"delete-orphan\", \"expunge\", \"refresh-expire\", \"all\" or \"none\"",
            "`passive_deletes` takes no value: write `relationship(passive_deletes)`",
            "`cascade` needs at least one option (comma-separated options among \"save-update\", \"merge\", \"delete\", \"delete-orphan\", \"expunge\", \"refresh-expire\", \"all\" or \"none\"); for no cascade at all write `cascade = \"none\"`",
            "expected a string literal: `relationship(cascade = \"...\")`",
            "unknown relationship attribute `cascades`; did you mean `cascade`?",
            "empty option in `cascade = \"all,,delete\"`: expected comma-separated options among \"save-update\", \"merge\", \"delete\", \"delete-orphan\", \"expunge\", \"refresh-expire\", \"all\" or \"none\"",
            "unknown relationship attribute `on_delete`; `on_delete` goes in `#[model(...)]` on the foreign-key field; to delete the children with the parent in a session write `cascade = \"all\"` (and `passive_deletes` to leave it to the database's ON DELETE CASCADE)",
        ]
    );
}

#[test]
fn version_column_rules() {
    let errors = model_errors(parse_quote! {
        struct Doc {
            #[model(primary_key)]
            id: i64,
            #[model(version)]
            a: Option<i64>,
            #[model(version)]
            b: i32,
        }
    });
    assert_eq!(
        errors,
        [
            "a version column cannot be nullable: the session compares it in every UPDATE and DELETE; make the field `i16`, `i32` or `i64`, not `Option<i64>`",
            "a model has at most one version column: `a` already is one, so `b` cannot be",
        ]
    );
    let wrong = |ty: syn::Type| {
        model_errors(parse_quote! {
            struct Doc {
                #[model(primary_key)]
                id: i64,
                #[model(version)]
                v: #ty,
            }
        })
    };
    for ty in [
        parse_quote!(String),
        parse_quote!(u64),
        parse_quote!(std::string::String),
        parse_quote!(chrono::DateTime<chrono::Utc>),
        parse_quote!(&'static str),
        parse_quote!((i64, i64)),
    ] {
        let errors = wrong(ty);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("a version column must be `i16`, `i32` or `i64`"),
            "{errors:?}"
        );
    }
    // Integers, and types the derive cannot judge (left to the generated code's bound).
    for ty in [
        parse_quote!(i16),
        parse_quote!(i32),
        parse_quote!(std::primitive::i64),
        parse_quote!(Revision),
    ] {
        assert_eq!(wrong(ty), Vec::<String>::new());
    }
}

#[test]
fn at_most_128_columns() {
    let fields = |n: usize| -> Vec<syn::Field> {
        (0..n)
            .map(|i| {
                let name = quote::format_ident!("c{}", i);
                syn::parse_quote!(#name: i32)
            })
            .collect::<Vec<syn::Field>>()
    };
    let model = |n: usize| -> DeriveInput {
        let fields = fields(n);
        parse_quote! {
            struct Wide {
                #[model(primary_key)]
                id: i64,
                #[model(skip)]
                cache: u8,
                #[relationship(has_many = Other)]
                others: Related<Vec<Other>>,
                #(#fields,)*
            }
        }
    };
    // Skipped and relationship fields are not columns.
    assert_eq!(model_errors(model(127)), Vec::<String>::new());
    assert_eq!(
        model_errors(model(128)),
        [
            "`Wide` has 129 columns; a model may have at most 128 (the session tracks changed columns in a 128-bit set): split the table, or mark fields that are not columns with #[model(skip)]"
        ]
    );
}

#[test]
fn session_expansion() {
    let out = expansion(derive::model(&parse_quote! {
        #[model(crate = "orm_core")]
        pub struct Author {
            #[model(primary_key, generated)]
            pub id: i64,
            #[relationship(has_many = Post, foreign_key = "author_id", cascade = "all, delete-orphan", passive_deletes)]
            pub posts: Related<Vec<Post>>,
            #[model(validate = rules::not_blank, column = "full_name")]
            pub name: String,
            #[model(skip)]
            pub cache: u32,
            #[model(version)]
            pub lock: i32,
            pub nickname: Option<String>,
        }
    }));
    let expected = [
        // The defaults of `Hooks`.
        "impl orm_core :: __private :: Hooks for Author { }",
        // The metadata in `Model`, the rest of what the session needs in `Persist`.
        "impl orm_core :: __private :: Model for Author where",
        "impl orm_core :: __private :: Persist for Author where",
        // The version column's position (in column order, not field order) and its assertion.
        "const VERSION : orm_core :: __private :: Option < usize > = orm_core :: __private :: Some (2) ;",
        "__orm_assert_version :: < i32 > () ;",
        "for < '__orm > i32 : orm_core :: __private :: VersionColumn ,",
        "fn bump_version (& mut self) { self . lock = < i32 as orm_core :: __private :: VersionNumber > :: next_version (& self . lock) ; }",
        // Every column type is comparable (asserted without its `Option`).
        "__orm_assert_partial_eq :: << Option < String > as orm_core :: __private :: SqlType > :: Base > () ;",
        "for < '__orm > Option < String > : orm_core :: __private :: SqlType + orm_core :: __private :: PartialEq ,",
        // The relationships, with their options.
        "__orm_ops :: < __OrmRel_Author_posts > ()",
        ". cascade (orm_core :: __private :: Cascade :: from_bits (63)) . passive_deletes () ;",
        // Column access by position, out of range without a panic.
        "1 => orm_core :: __private :: Some (orm_core :: __private :: param (orm_core :: __private :: Clone :: clone (& self . name))) ,",
        "3 => orm_core :: __private :: Some (orm_core :: __private :: column_array_ref (__rows , | __r : & Self | & __r . nickname)) ,",
        "0 => orm_core :: __private :: Some (& self . id as & (dyn orm_core :: __private :: Any + orm_core :: __private :: Send + orm_core :: __private :: Sync)) ,",
        r#"1 => orm_core :: __private :: assign_any (& mut self . name , __value , "Author" , "full_name") ,"#,
        r#"3 => orm_core :: __private :: assign_null (& mut self . nickname , "Author" , "nickname") ,"#,
        r#"_ => orm_core :: __private :: Err (orm_core :: __private :: no_column ("Author" , __idx)) ,"#,
        r#"2 => { self . lock = orm_core :: __private :: decode_field (__row , __at , "Author" , "lock") ? ; orm_core :: __private :: Ok (()) }"#,
        "_ => orm_core :: __private :: None ,",
        // Snapshots.
        "fn copy_columns (& self) -> Self { Self { id : < i64 as orm_core :: __private :: Clone > :: clone (& self . id) , posts : orm_core :: __private :: Related :: unloaded (__ORM_META_posts) , name : < String as orm_core :: __private :: Clone > :: clone (& self . name) , cache : < u32 as orm_core :: __private :: Default > :: default () ,",
        "if orm_core :: __private :: column_changed :: < Option < String > > (& self . nickname , & __old . nickname) { __changed = __changed . with (3) ; }",
        "let Self { id : __c0 , name : __c1 , lock : __c2 , nickname : __c3 , .. } = __from ; self . id = __c0 ; self . name = __c1 ; self . lock = __c2 ; self . nickname = __c3 ;",
        // Validators, by column.
        r#"if __columns . contains_index (1) { orm_core :: __private :: run_validator (& self . name , rules :: not_blank , "Author" , "name") ? ; }"#,
    ];
    for snippet in expected {
        assert!(out.contains(snippet), "missing `{snippet}` in:\n{out}");
    }
    assert!(!out.contains("compile_error"), "{out}");
}

#[test]
fn session_expansion_without_options() {
    let out = expansion(derive::model(&parse_quote! {
        #[model(hooks)]
        pub struct Plain {
            #[model(primary_key)]
            pub id: i64,
        }
    }));
    // `#[model(hooks)]`: the user implements `Hooks`, asserted at the keyword.
    assert!(!out.contains("Hooks for Plain"), "{out}");
    for snippet in [
        "__orm_assert_hooks :: < Plain > () ;",
        "for < '__orm > Plain : :: orm_postgres :: __private :: Hooks ,",
        "const VERSION : :: orm_postgres :: __private :: Option < usize > = :: orm_postgres :: __private :: None ;",
        "const RELATIONS : & 'static [& 'static dyn :: orm_postgres :: __private :: RelationOps < Self >] = & [] ;",
        "fn bump_version (& mut self) { }",
        "fn validate (& self , __columns : :: orm_postgres :: __private :: ColumnSet) -> :: orm_postgres :: __private :: Result < () > { :: orm_postgres :: __private :: Ok (()) }",
    ] {
        assert!(out.contains(snippet), "missing `{snippet}` in:\n{out}");
    }
    assert!(!out.contains("__orm_assert_version"), "{out}");
    assert!(!out.contains(". cascade ("), "{out}");
}

#[test]
fn failed_model_stub_has_the_session_items() {
    let stub = |input: DeriveInput| expansion(derive::model(&input));
    let out = stub(parse_quote! {
        pub struct User {
            #[model(primary_key, unknown)]
            pub id: i64,
        }
    });
    assert!(out.contains("compile_error"), "{out}");
    for snippet in [
        "impl :: orm_postgres :: __private :: Hooks for User { }",
        "impl :: orm_postgres :: __private :: Model for User {",
        "impl :: orm_postgres :: __private :: Persist for User {",
        "fn column_param (& self , _ : usize) -> :: orm_postgres :: __private :: Option < :: orm_postgres :: __private :: Param > { :: orm_postgres :: __private :: None }",
        "fn copy_columns (& self) -> Self { :: orm_postgres :: __private :: unimplemented ! (",
        "fn bump_version (& mut self) { }",
        r#"fn set_column_null (& mut self , __idx : usize) -> :: orm_postgres :: __private :: Result < () > { :: orm_postgres :: __private :: Err (:: orm_postgres :: __private :: no_column ("User" , __idx)) }"#,
    ] {
        assert!(out.contains(snippet), "missing `{snippet}` in:\n{out}");
    }
    // With `hooks`, even misspelled, the user implements `Hooks`: no second impl.
    for input in [
        parse_quote! {
            #[model(hooks)]
            pub struct User {
                #[model(primary_key, unknown)]
                pub id: i64,
            }
        },
        parse_quote! {
            #[model(hook)]
            pub struct User {
                #[model(primary_key)]
                pub id: i64,
            }
        },
    ] {
        let out = stub(input);
        assert!(out.contains("compile_error"), "{out}");
        assert!(!out.contains("Hooks for User"), "{out}");
    }
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
