//! How a `SELECT` compiles: the joins and columns of its joined loads, then the global
//! criteria (which so reach the joins' `ON` clauses).

use super::Statement;
use super::criteria::Criteria;
use super::option::{JoinedOption, OptionSet};
use super::select::Select;
use crate::ast::{Node, Query};
use crate::compile::{self, CompiledQuery};
use crate::error::Result;
use crate::meta::PolymorphicLoad;
use crate::row::Decode;

impl<O: Decode, S> Statement for Select<O, S> {
    type Row = O;
    fn compile(&self) -> Result<CompiledQuery> {
        self.compile_criteria(None)
    }

    fn compile_with(&self, criteria: &Criteria) -> Result<CompiledQuery> {
        self.compile_criteria(Some(criteria).filter(|_| !self.skip_criteria))
    }

    fn into_compiled(mut self, criteria: Option<&Criteria>) -> Result<CompiledQuery> {
        let criteria = criteria.filter(|_| !self.skip_criteria);
        let joined = self
            .option_list()
            .is_some_and(|options| options.iter().any(|o| o.joined_width().is_some()));
        match criteria {
            // The common case, as `compile_criteria` compiles it, with the values moved.
            None if !joined => {
                let out = compile::Output::of::<O>(O::WIDTH);
                compile::select_statement_shaped_owned(&mut self.core, out)
            }
            _ => self.compile_criteria(criteria),
        }
    }

    fn uses_criteria(&self) -> bool {
        !self.skip_criteria
    }

    fn tree(&self) -> Option<crate::ast::Tree<'_>> {
        Some(crate::ast::Tree::Select(&self.core))
    }

    fn options(&self) -> Option<OptionSet<O::Output>> {
        let options = self.option_list()?;
        if options.is_empty() {
            return None;
        }
        Some(OptionSet {
            options: options.clone(),
            query: self.clone().into_query(),
        })
    }

    fn polymorphic_selectin(&self) -> Option<Query> {
        // Read without building a planned tree: most statements stop here.
        let table = self.core.first_table()?;
        let joined = table.joined.filter(|j| j.outer)?;
        let chosen = self
            .option_list()
            .and_then(|options| {
                options.iter().rev().find_map(|o| {
                    o.as_any()
                        .downcast_ref::<super::option::Polymorphic>()
                        .map(|p| p.0)
                })
            })
            .unwrap_or(joined.load);
        // Only a select of the enum's own rows (not `count()`, not `columns(...)`): its columns
        // (a deferred one may be its placeholder), then its column properties.
        let whole = self.core.columns.len() == table.columns.len() + table.properties.len()
            && self
                .core
                .columns
                .iter()
                .zip(table.columns)
                .all(|(n, c)| match n {
                    Node::Column(r) => r.name == c.name,
                    n => c.deferred && super::is_deferred_placeholder(n),
                });
        (chosen == PolymorphicLoad::SelectIn && whole).then(|| self.clone().into_query())
    }
}

impl<O: Decode, S> Select<O, S> {
    /// Compiles, with the joined loads' joins, then the criteria (which so reach the joins'
    /// `ON` clauses).
    fn compile_criteria(&self, criteria: Option<&Criteria>) -> Result<CompiledQuery> {
        let joined: Vec<JoinedOption<'_, O::Output>> = self
            .option_list()
            .map(|options| {
                options
                    .iter()
                    .filter_map(|o| Some((o, o.joined_width()?)))
                    .collect()
            })
            .unwrap_or_default();
        if joined.is_empty() {
            let out = compile::Output::of::<O>(O::WIDTH);
            return match criteria {
                None => compile::select_statement_shaped(&self.core, out),
                Some(c) => {
                    // Without conditions of its own, the criteria only add the models' own
                    // (`#[model(criteria)]`): when no table the statement reads has one, it
                    // compiles as written, without copying the tree.
                    if c.is_empty() {
                        let q = compile::select_statement_shaped(&self.core, out)?;
                        if q.reads.tables.iter().all(|t| t.criteria.is_none()) {
                            return Ok(q);
                        }
                    }
                    let mut core = (*self.core).clone();
                    c.apply_select(&mut core);
                    compile::select_statement(&core, out)
                }
            };
        }
        let (mut core, width) =
            super::option::joined_core(&self.core, O::WIDTH, &joined, criteria)?;
        if let Some(c) = criteria {
            c.apply_select(&mut core);
        }
        compile::select_statement_width(&core, width)
    }
}
