//! Model attributes: parsing, the rules spanning fields, shapes, names, and the expansion.

use super::*;

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
            "unknown model attribute `frobnicate`; expected `primary_key`, `generated`, `column`, `unique`, `index`, `len`, `precision`, `scale`, `collation`, `comment`, `default`, `computed`, `deferred`, `shared`, `column_property`, `references`, `on_delete`, `on_update`, `check`, `version`, `shard_key`, `validate`, `renamed_from` or `skip`",
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
        r#"pub const r#type : orm_core :: __private :: Column < Self , Option < String > , orm_core :: __private :: access :: ReadWrite > = orm_core :: __private :: Column :: new ("order_item" , "type") ;"#,
        // Inserts leave out `created`; updates leave out the key.
        "fn insert_params (& self) -> orm_core :: __private :: Vec < orm_core :: __private :: Param > { < orm_core :: __private :: Vec < orm_core :: __private :: Param >> :: from ([orm_core :: __private :: param_of :: < i64 > (< i64 as orm_core :: __private :: Clone > :: clone (& self . order)) , orm_core :: __private :: param_of :: < i32 > (< i32 as orm_core :: __private :: Clone > :: clone (& self . line)) , orm_core :: __private :: param_of :: < Option < String > > (< Option < String > as orm_core :: __private :: Clone > :: clone (& self . r#type))]) }",
        "fn update_params (& self) -> orm_core :: __private :: Vec < orm_core :: __private :: Param > { < orm_core :: __private :: Vec < orm_core :: __private :: Param >> :: from ([orm_core :: __private :: param_of :: < String > (< String as orm_core :: __private :: Clone > :: clone (& self . created)) , orm_core :: __private :: param_of :: < Option < String > > (< Option < String > as orm_core :: __private :: Clone > :: clone (& self . r#type))]) }",
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
