//! `#[derive(FromRow)]`: errors, shapes and expansion.

use super::*;

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
        // A `SqlType` field decodes with its decode check, any other `FromSql` without.
        "use orm_core :: __private :: { DecodeFromSql as _ , DecodeSqlType as _ } ;",
        r#"r#type : (& orm_core :: __private :: Field :: < String > :: NEW) . decode_column (__row , __start , "Report" , "type") ?"#,
        "user : < User as orm_core :: __private :: FromRow > :: from_row (__row , __start + 1) ?",
        "cache : < u32 as orm_core :: __private :: Default > :: default ()",
        r#"total : (& orm_core :: __private :: Field :: < Option < i64 > > :: NEW) . decode_column (__row , __start + 1 + < User as orm_core :: __private :: FromRow > :: WIDTH , "Report" , "total") ?"#,
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
