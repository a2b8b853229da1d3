//! Go to definition and find references, for every kind of name: the
//! items of the program, its `let`s, the templates it extends (into the
//! stdlib file when the template is the stdlib's) and `use std/x` (into
//! the module).

use lsp_types::{Location, Position, Range};

use super::analysis::{Analysis, MAIN};
use super::index::{self, Kind};
use super::Config;
use crate::stdlib;

pub fn definition(analysis: &Analysis, config: &Config, offset: usize) -> Option<Location> {
    let (kind, name) = analysis.index.at(MAIN, offset)?;
    if kind == Kind::Module {
        stdlib::module(name)?;
        let uri = config.std_uri(name)?;
        return Some(Location::new(
            uri,
            Range::new(Position::new(0, 0), Position::new(0, 0)),
        ));
    }
    if let Some(symbol) = analysis.index.declaration(kind, name) {
        return config.location(analysis, symbol.span);
    }
    if kind == Kind::Template {
        let t = index::std_templates().iter().find(|t| t.name == name)?;
        return config.std_location(t.module, t.start, t.end);
    }
    None
}

pub fn references(
    analysis: &Analysis,
    config: &Config,
    offset: usize,
    include_declaration: bool,
) -> Vec<Location> {
    let Some((kind, name)) = analysis.index.at(MAIN, offset) else {
        return Vec::new();
    };
    let mut spans: Vec<crate::span::Span> = Vec::new();
    if include_declaration {
        spans.extend(
            analysis
                .index
                .symbols
                .iter()
                .filter(|s| s.kind == kind && s.name == name)
                .map(|s| s.span),
        );
    }
    spans.extend(
        analysis
            .index
            .references
            .iter()
            .filter(|r| r.kind == kind && r.name == name)
            .map(|r| r.span),
    );
    spans.sort();
    spans
        .into_iter()
        .filter_map(|s| config.location(analysis, s))
        .collect()
}
