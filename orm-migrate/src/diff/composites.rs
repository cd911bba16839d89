//! Composite types: created when new (each after the new composite types its attributes use),
//! dropped when gone (after the tables, each before the types it uses), and altered attribute
//! by attribute. Attributes are matched by name: the binary format the ORM reads them in
//! matches attributes to fields by name, so an attribute added last (PostgreSQL's `ADD
//! ATTRIBUTE` can put it nowhere else) is no difference.

use crate::op::Op;
use crate::render::qualified;
use crate::schema::{CompositeType, Schema};

/// The operations from `from`'s composite types to `to`'s.
pub(super) struct CompositeOps {
    /// `CREATE TYPE` and `ALTER TYPE`, before the tables.
    pub(super) create: Vec<Op>,
    /// `DROP TYPE`, after the tables.
    pub(super) drop: Vec<Op>,
    /// What loses data.
    pub(super) warnings: Vec<String>,
}

pub(super) fn diff_composites(from: &Schema, to: &Schema) -> CompositeOps {
    let mut out = CompositeOps {
        create: Vec::new(),
        drop: Vec::new(),
        warnings: Vec::new(),
    };
    let new: Vec<&CompositeType> = to
        .composites
        .values()
        .filter(|c| !from.composites.contains_key(&c.name))
        .collect();
    out.create.extend(
        dependency_order(new)
            .into_iter()
            .map(|c| Op::CreateComposite(c.clone())),
    );
    for c in to.composites.values() {
        let Some(f) = from.composites.get(&c.name) else {
            continue;
        };
        for a in &f.attributes {
            match c.attributes.iter().find(|b| b.name == a.name) {
                None => {
                    out.warnings.push(format!(
                        "drop attribute {} of type {} loses its values",
                        a.name, c.name
                    ));
                    out.create.push(Op::DropAttribute {
                        name: c.name.clone(),
                        attribute: a.clone(),
                    });
                }
                Some(b) if b.data_type != a.data_type => out.create.push(Op::AlterAttribute {
                    name: c.name.clone(),
                    from: a.clone(),
                    to: b.clone(),
                }),
                Some(_) => {}
            }
        }
        for b in &c.attributes {
            if !f.attributes.iter().any(|a| a.name == b.name) {
                out.create.push(Op::AddAttribute {
                    name: c.name.clone(),
                    attribute: b.clone(),
                });
            }
        }
    }
    let gone: Vec<&CompositeType> = from
        .composites
        .values()
        .filter(|c| !to.composites.contains_key(&c.name))
        .collect();
    out.drop.extend(
        dependency_order(gone)
            .into_iter()
            .rev()
            .map(|c| Op::DropComposite(c.clone())),
    );
    out
}

/// `types` with each one after those of `types` its attributes use (by name, or an array of
/// it); a cycle (which PostgreSQL cannot create) keeps the rest in name order.
fn dependency_order(mut types: Vec<&CompositeType>) -> Vec<&CompositeType> {
    let mut out: Vec<&CompositeType> = Vec::with_capacity(types.len());
    while !types.is_empty() {
        let uses = |c: &CompositeType, other: &CompositeType| {
            let name = qualified(&other.name);
            c.attributes
                .iter()
                .any(|a| a.data_type.trim_end_matches("[]") == name)
        };
        let ready = types
            .iter()
            .position(|c| !types.iter().any(|o| o.name != c.name && uses(c, o)))
            .unwrap_or(0);
        out.push(types.remove(ready));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{CompositeAttribute, QualifiedName};

    fn composite(name: &str, attributes: &[(&str, &str)]) -> CompositeType {
        CompositeType {
            name: QualifiedName::new("public", name),
            attributes: attributes
                .iter()
                .map(|(n, t)| CompositeAttribute {
                    name: (*n).to_owned(),
                    data_type: (*t).to_owned(),
                })
                .collect(),
        }
    }

    fn schema(types: &[CompositeType]) -> Schema {
        let mut s = Schema::default();
        for t in types {
            s.composites.insert(t.name.clone(), t.clone());
        }
        s
    }

    #[test]
    fn types_come_after_the_types_they_use_and_go_before() {
        let site = composite("a_site", &[("at", "public.address[]")]);
        let address = composite("address", &[("city", "text")]);
        let ops = diff_composites(
            &Schema::default(),
            &schema(&[site.clone(), address.clone()]),
        );
        let sql: Vec<String> = ops.create.iter().flat_map(Op::up).collect();
        assert_eq!(
            sql,
            [
                "CREATE TYPE public.address AS (city text)",
                "CREATE TYPE public.a_site AS (at public.address[])"
            ]
        );
        let ops = diff_composites(&schema(&[site, address]), &Schema::default());
        let sql: Vec<String> = ops.drop.iter().flat_map(Op::up).collect();
        assert_eq!(sql, ["DROP TYPE public.a_site", "DROP TYPE public.address"]);
    }

    #[test]
    fn attributes_are_added_dropped_and_altered_by_name() {
        let before = composite(
            "address",
            &[("city", "text"), ("zip", "integer"), ("old", "text")],
        );
        let after = composite(
            "address",
            &[("street", "text"), ("city", "text"), ("zip", "text")],
        );
        let ops = diff_composites(&schema(&[before]), &schema(&[after]));
        let sql: Vec<String> = ops.create.iter().flat_map(Op::up).collect();
        assert_eq!(
            sql,
            [
                "ALTER TYPE public.address ALTER ATTRIBUTE zip TYPE text",
                "ALTER TYPE public.address DROP ATTRIBUTE old",
                "ALTER TYPE public.address ADD ATTRIBUTE street text",
            ]
        );
        assert_eq!(ops.warnings.len(), 1, "{:?}", ops.warnings);
        let down: Vec<String> = ops.create.iter().rev().flat_map(Op::down).collect();
        assert_eq!(
            down,
            [
                "ALTER TYPE public.address DROP ATTRIBUTE street",
                "ALTER TYPE public.address ADD ATTRIBUTE old text",
                "ALTER TYPE public.address ALTER ATTRIBUTE zip TYPE integer",
            ]
        );
    }
}
