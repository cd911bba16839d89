//! `#[derive(DbEnum)]`: errors and expansion.

use super::*;

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
