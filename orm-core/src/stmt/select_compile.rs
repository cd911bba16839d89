//! How a `SELECT` compiles: the joins and columns of its joined loads, then the global
//! criteria (which so reach the joins' `ON` clauses).

use super::Statement;
use super::criteria::Criteria;
use super::option::{JoinedOption, OptionSet};
use super::select::Select;
use crate::compile::{self, CompiledQuery};
use crate::error::Result;
use crate::row::Decode;

impl<O: Decode, S> Statement for Select<O, S> {
    type Row = O;
    fn compile(&self) -> Result<CompiledQuery> {
        self.compile_criteria(None)
    }

    fn compile_with(&self, criteria: &Criteria) -> Result<CompiledQuery> {
        self.compile_criteria(Some(criteria).filter(|_| !self.skip_criteria))
    }

    fn uses_criteria(&self) -> bool {
        !self.skip_criteria
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
}

impl<O: Decode, S> Select<O, S> {
    /// Compiles, with the joined loads' joins, then the criteria (which so reach the joins'
    /// `ON` clauses).
    fn compile_criteria(&self, criteria: Option<&Criteria>) -> Result<CompiledQuery> {
        let criteria = criteria.filter(|c| !c.is_empty());
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
                None => compile::select_statement(&self.core, out),
                Some(c) => {
                    let mut core = (*self.core).clone();
                    c.apply_select(&mut core);
                    compile::select_statement(&core, out)
                }
            };
        }
        let (mut core, width) = super::option::joined_core(&self.core, O::WIDTH, &joined)?;
        if let Some(c) = criteria {
            c.apply_select(&mut core);
        }
        compile::select_statement_width(&core, width)
    }
}
