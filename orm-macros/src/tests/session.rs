//! The session attributes (`version`, `validate`, `hooks`) and the generated `impl Persist`.

use super::*;

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
        "1 => orm_core :: __private :: Some (orm_core :: __private :: param_of (orm_core :: __private :: Clone :: clone (& self . name))) ,",
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
