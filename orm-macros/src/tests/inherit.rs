//! `#[derive(Model)]` on an enum (single-table inheritance) and `inherits` on its variant
//! structs: errors and expansion.

use super::*;

#[test]
fn an_enum_of_unit_variants_is_pointed_at_db_enum() {
    assert_eq!(
        model_enum_errors(parse_quote!(
            enum E {
                A,
            }
        )),
        [
            "#[derive(Model)] on an enum is single-table inheritance, whose variants wrap structs (`Manager(Manager)`); for a PostgreSQL enum type use #[derive(DbEnum)]"
        ]
    );
}

#[test]
fn enum_errors_are_reported_together() {
    let errors = model_enum_errors(parse_quote! {
        #[model(table = "employees", inherits = Person, index(a, b))]
        enum Employee {
            #[model(value = "m")]
            Manager(Manager),
            #[model(value = "m", identity = "x")]
            Boss(Boss),
            Engineer(Engineer),
            #[model(value = "i")]
            Intern { id: i64 },
        }
    });
    assert_eq!(
        errors,
        [
            "unknown model attribute `identity`; did you mean `value`?",
            "a variant of an inheritance enum wraps one struct: `Intern(Intern)`, where `Intern` derives Model with #[model(inherits = Employee)]",
            "an inheritance enum needs a discriminator column, telling which variant a row is: `#[model(discriminator = \"kind\")]`",
            "`inherits` goes on a variant struct, not on the inheritance enum",
            "an inheritance enum takes only `table`, `schema`, `comment`, `discriminator`, `polymorphic`, `relationships`, `cache_ttl` and `crate`; hooks, indexes, exclusions and checks go on the variant structs",
            "duplicate discriminator value `m`: variants `Manager` and `Boss` both have it",
            "variant `Engineer` needs its discriminator value: `#[model(value = \"...\")]`",
        ]
    );
}

#[test]
fn an_exclusion_on_the_enum_is_refused_not_dropped() {
    // The enum has no table of its own to hold it: before this was checked, the constraint
    // was parsed and silently left out of the schema.
    let errors = model_enum_errors(parse_quote! {
        #[model(table = "bookings", discriminator = "kind", exclude(room = "=", during = "&&"))]
        enum Booking {
            #[model(value = "m")]
            Meeting(Meeting),
        }
    });
    assert_eq!(
        errors,
        [
            "an inheritance enum takes only `table`, `schema`, `comment`, `discriminator`, `polymorphic`, `relationships`, `cache_ttl` and `crate`; hooks, indexes, exclusions and checks go on the variant structs"
        ]
    );
}

#[test]
fn variant_struct_rules() {
    let errors = model_errors(parse_quote! {
        #[model(inherits = Employee, table = "managers", schema = "hr", discriminator = "kind")]
        struct Manager {
            #[model(primary_key)]
            id: i64,
            #[model(version)]
            version: i32,
            #[relationship(belongs_to = Department, foreign_key = "id")]
            department: Related<Department>,
        }
    });
    assert_eq!(
        errors,
        [
            "a variant struct's tables are in its enum's schema: remove `schema`",
            "`discriminator` goes on the inheritance enum, not on a variant struct",
        ]
    );
    assert_eq!(
        model_errors(parse_quote! {
            #[model(table = "t", discriminator = "kind")]
            struct Plain {
                #[model(primary_key)]
                id: i64,
            }
        }),
        [
            "`discriminator` goes on an inheritance enum (`#[derive(Model)] enum Employee { ... }`), not on a struct"
        ]
    );
    // Parsed, and once silently ignored on a struct: a plain one or a variant.
    const POLYMORPHIC: &str = "`polymorphic` goes on a joined-table inheritance enum: it chooses how `select::<Enum>()` loads the subtype columns";
    assert_eq!(
        model_errors(parse_quote! {
            #[model(table = "t", polymorphic = "selectin")]
            struct Plain {
                #[model(primary_key)]
                id: i64,
            }
        }),
        [POLYMORPHIC]
    );
    assert_eq!(
        model_errors(parse_quote! {
            #[model(inherits = Employee, table = "managers", polymorphic = "joined")]
            struct Manager {
                #[model(primary_key)]
                id: i64,
            }
        }),
        [POLYMORPHIC]
    );
}

#[test]
fn the_enum_expands_to_its_impls_and_the_discriminator_handle() {
    let out = expansion(derive::model(&parse_quote! {
        #[model(table = "employees", discriminator = "type")]
        pub enum Employee {
            #[model(value = "manager")]
            Manager(Manager),
        }
    }));
    for expected in [
        "impl :: orm_postgres :: __private :: Inheritance for Employee",
        "const DISCRIMINATOR : & 'static str = \"type\"",
        "impl :: orm_postgres :: __private :: Variant for Manager",
        "impl :: orm_postgres :: __private :: PartOf < Employee > for Manager",
        "impl :: orm_postgres :: __private :: Persist for Employee",
        "pub const r#type : :: orm_postgres :: __private :: Column < Employee , :: orm_postgres :: __private :: String >",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in {out}");
    }
    assert!(!out.contains("compile_error"), "{out}");
}
