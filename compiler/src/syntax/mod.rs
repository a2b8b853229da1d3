//! Text to [`crate::ast`]: the pest grammar (`grammar.pest`), the
//! translation of pest's errors into diagnostics that name what was expected
//! in words, and [`lower`], which turns pest pairs into the owned AST. pest
//! types never leave this module.

mod errors;
mod lower;

use pest::Parser;

use crate::ast;
use crate::diagnostics::Diagnostic;
use crate::span::FileId;

#[derive(pest_derive::Parser)]
#[grammar = "compiler/src/syntax/grammar.pest"]
pub(super) struct InfParser;

/// Parses one file. On a syntax error the returned file is empty and the
/// diagnostics hold the error; on success they hold what lowering found
/// (invalid escapes, numbers out of range).
pub fn parse(file: FileId, text: &str) -> (ast::File, Vec<Diagnostic>) {
    match InfParser::parse(Rule::file, text) {
        Ok(mut pairs) => {
            let root = pairs
                .next()
                .expect("the `file` rule always yields one pair");
            lower::file(file, root)
        }
        Err(error) => {
            let empty = ast::File {
                items: Vec::new(),
                span: crate::span::Span::new(file, 0, text.len()),
            };
            (empty, vec![errors::syntax_error(file, text, error)])
        }
    }
}
