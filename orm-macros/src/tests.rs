//! Unit tests of the parse and check passes, on inputs built with `parse_quote!`.

use proc_macro2::TokenStream;
use syn::{DeriveInput, parse_quote};

use crate::ctxt::Ctxt;
use crate::{ast, check, expand};

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
            "unknown model attribute `frobnicate`; expected `primary_key`, `generated`, `column`, `unique`, `index`, `len`, `default`, `references`, `on_delete`, `on_update`, `check` or `skip`",
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
fn relationships_are_reserved() {
    let errors = model_errors(parse_quote! {
        struct User {
            #[model(primary_key)]
            id: i64,
            #[relationship(has_many)]
            posts: Vec<Post>,
        }
    });
    assert_eq!(errors, ["relationships are not supported yet"]);
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
    let out = expansion(expand::derive_model(&parse_quote! {
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
    let out = expansion(expand::derive_model(&parse_quote! {
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
    let out = expansion(expand::derive_db_enum(&parse_quote! {
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
    let out = expansion(expand::derive_from_row(&parse_quote! {
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
    let out = expansion(expand::derive_from_row(&parse_quote! {
        pub struct Report(String);
    }));
    assert!(out.contains("compile_error"), "{out}");
    assert!(
        out.contains("impl :: orm_postgres :: __private :: FromRow for Report"),
        "{out}"
    );
}
