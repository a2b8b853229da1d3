//! The checker: from a parsed file to a checked [`Model`], or to the
//! findings that say why there is none.
//!
//! Phases, in order: load the stdlib modules the file `use`s and the
//! catalogue; build the symbol tables ([`names`]); elaborate every item into
//! the IR ([`items`], [`services`]); then, if names and values were sound,
//! build the graph and compute effective exposure ([`exposure`]) and run the
//! rules ([`rules`]); finally apply `allow` waivers ([`waivers`]).

mod catalogue;
mod catalogue_table;
mod exposure;
mod items;
mod names;
mod rules;
mod services;
mod values;
mod waivers;

use std::collections::HashMap;

use indexmap::IndexMap;

pub use catalogue::{repository_path, Catalogue, Entry as CatalogueEntry};
pub(crate) use names::closest as closest_finding;
pub use rules::env_credential;
pub use services::{is_duration, memory_bytes};

use crate::ast::{self, Attribute, Decl, DeclKind, Item, Stmt, Value};
use crate::diagnostics::{self, Code, Diagnostic};
use crate::ir::Model;
use crate::source::Sources;
use crate::span::{FileId, Span};
use crate::{stdlib, syntax};

/// What checking one parsed file produced. [`crate::compile`] is the
/// entry point that reads, parses and checks; this is the checker's stage
/// alone (for its benchmark and stage tests).
#[derive(Debug)]
pub struct Checked {
    /// The model, when the checker found no errors (warnings allowed).
    pub model: Option<Model>,
    /// The model of a program whose names and values were sound but whose
    /// rules found errors: not buildable, but drawable (`infrac graph`).
    pub rejected: Option<Model>,
    /// Every finding, sorted and de-duplicated.
    pub diagnostics: Vec<Diagnostic>,
    /// Spans of secret values: renderers mask them in source snippets.
    pub redactions: Vec<Span>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The checked model, buildable or not.
    pub fn analysed(&self) -> Option<&Model> {
        self.model.as_ref().or(self.rejected.as_ref())
    }
}

/// A stdlib module parsed as file `id`. The stdlib is the same text in
/// every compilation (the catalogue alone is some 300 entries), so each
/// (module, file id) is parsed once per process and cloned after: a test
/// or tool that compiles thousands of programs does not parse the
/// catalogue thousands of times. The ids a program gives its modules are
/// few (its own files come first), so the memo stays small; past a bound
/// it stops growing.
fn parse_module(id: crate::span::FileId, source: &'static str) -> (ast::File, Vec<Diagnostic>) {
    // Keyed by the module's text (its address: the stdlib is embedded).
    type Parsed = HashMap<(usize, u32), (ast::File, Vec<Diagnostic>)>;
    static PARSED: std::sync::OnceLock<std::sync::Mutex<Parsed>> = std::sync::OnceLock::new();
    let memo = PARSED.get_or_init(Default::default);
    let key = (source.as_ptr() as usize, id.0);
    if let Some(hit) = memo.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return hit;
    }
    let parsed = syntax::parse(id, source);
    if let Ok(mut m) = memo.lock() {
        if m.len() < 64 {
            m.insert(key, parsed.clone());
        }
    }
    parsed
}

/// The stdlib a program reads: the modules it `use`s, parsed, and the
/// catalogue, which every program reads.
#[derive(Debug, Clone, Default)]
pub struct Modules {
    /// The parsed modules (the catalogue among them when it could not be
    /// read as a table).
    pub files: Vec<ast::File>,
    /// The catalogue read as a table ([`catalogue_table`]), and its file.
    catalogue: Option<(&'static catalogue_table::Table, FileId)>,
}

/// Reads the catalogue and every `use std/NAME` module of `ast`, adding
/// their texts to `sources`. The catalogue is read as a table, not parsed,
/// whenever it is in the table's form (it always is, a test says).
pub fn load_modules(sources: &mut Sources, ast: &ast::File) -> (Modules, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut wanted: Vec<&str> = vec![stdlib::CATALOGUE];
    for item in &ast.items {
        let Item::Use { path, .. } = item else {
            continue;
        };
        let name = path.node.strip_prefix("std/").filter(|n| !n.contains('/'));
        match name.filter(|n| stdlib::module(n).is_some() && *n != stdlib::CATALOGUE) {
            Some(n) => {
                if !wanted.contains(&n) {
                    wanted.push(n)
                }
            }
            None => {
                let asked = name.unwrap_or(&path.node);
                let mut d = Diagnostic::new(
                    Code::UnknownModule,
                    path.span,
                    format!("there is no module `{}`", path.node),
                )
                .label("not in the standard library");
                let all: Vec<&str> = stdlib::template_names().collect();
                d = match names::closest(asked, all.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `use std/{s}`?")),
                    None if all.is_empty() => d.help("the standard library has no templates"),
                    None => d.help(format!("the standard library has: {}", all.join(", "))),
                };
                diagnostics.push(d);
            }
        }
    }
    let mut modules = Modules::default();
    for name in wanted {
        // Only the catalogue can be missing here, and only while the stdlib
        // is being written; the stdlib registry test keeps it present.
        let Some(source) = stdlib::module(name) else {
            continue;
        };
        let id = sources.add(stdlib::display_name(name), source);
        if name == stdlib::CATALOGUE {
            if let Some(table) = catalogue_table::stdlib() {
                modules.catalogue = Some((table, id));
                continue;
            }
        }
        let (module, mut errs) = parse_module(id, source);
        diagnostics.append(&mut errs);
        modules.files.push(module);
    }
    (modules, diagnostics)
}

/// Checks an already parsed file against already parsed stdlib modules.
/// A model whose rules found errors is returned as `rejected`, never as
/// `model`.
pub fn check_parsed(ast: &ast::File, modules: &Modules) -> Checked {
    let mut ctx = Ctx {
        stdlib_table: modules.catalogue,
        ..Ctx::default()
    };
    for module in &modules.files {
        ctx.collect(module, true);
    }
    ctx.collect(ast, false);
    ctx.load_catalogue();
    let model = ctx.elaborate();
    let sound = !ctx.diagnostics.iter().any(Diagnostic::is_error);
    if sound {
        let graph = crate::graph::Graph::build(&model);
        let effective = exposure::compute(&model);
        let model = exposure::apply(model, &effective);
        rules::run(&mut ctx, &model, &graph, &effective);
        ctx.apply_waivers();
        let mut model = model;
        for a in std::mem::take(&mut ctx.accepted) {
            let accepted = match a.owner {
                waivers::Owner::Service(name) => model
                    .services
                    .iter_mut()
                    .find(|s| s.name == name)
                    .map(|s| &mut s.accepted),
                waivers::Owner::Node(name) => model
                    .nodes
                    .iter_mut()
                    .find(|n| n.name == name)
                    .map(|n| &mut n.accepted),
            };
            if let Some(accepted) = accepted {
                if !accepted.iter().any(|(c, _)| *c == a.code) {
                    accepted.push((a.code, a.reason));
                }
            }
        }
        return ctx.finish(Some(model));
    }
    ctx.finish(None)
}

/// Everything the checker's phases share.
#[derive(Default)]
pub(crate) struct Ctx<'a> {
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) redactions: Vec<Span>,
    tables: names::Tables<'a>,
    lets: HashMap<&'a str, &'a Value>,
    /// Every `class` item, and whether it is the stdlib's.
    all_class_decls: Vec<(&'a Decl, bool)>,
    /// The stdlib catalogue as a table, when it was read as one (else its
    /// `class` items are among the declarations above).
    stdlib_table: Option<(&'static catalogue_table::Table, FileId)>,
    catalogue: Catalogue,
    /// `allow` statements with the span of the block they stand in.
    waivers: Vec<waivers::Allow<'a>>,
    /// What the waivers accepted, per service or node.
    accepted: Vec<waivers::Accepted<'a>>,
    /// Id of every declaration by kind and name (name order), built on
    /// first use once the tables are complete.
    ids: HashMap<DeclKind, HashMap<&'a str, u32>>,
    /// The model has the implicit `default` network (some service names no
    /// network and none is declared with that name): it takes an id.
    implicit_default_network: bool,
}

impl<'a> Ctx<'a> {
    fn collect(&mut self, file: &'a ast::File, stdlib: bool) {
        for item in &file.items {
            match item {
                Item::Use { .. } => {}
                Item::Let { name, value, .. } => {
                    if let Some(first) = self.tables.lets.get(name.node.as_str()) {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::DuplicateName,
                                name.span,
                                format!("`let {}` is declared twice", name.node),
                            )
                            .label("declared again here")
                            .secondary(*first, "first declared here")
                            .help("rename one of them"),
                        );
                    } else {
                        self.tables.lets.insert(name.node.as_str(), name.span);
                        self.lets.insert(name.node.as_str(), value);
                    }
                }
                Item::Decl(decl) => {
                    if decl.kind == DeclKind::Class {
                        self.all_class_decls.push((decl, stdlib));
                    } else if !(stdlib && decl.kind != DeclKind::Template) {
                        self.declare(decl);
                    }
                }
            }
        }
    }

    fn finish(mut self, model: Option<Model>) -> Checked {
        diagnostics::sort_and_dedup(&mut self.diagnostics);
        self.redactions.sort();
        self.redactions.dedup();
        let sound = !self.diagnostics.iter().any(Diagnostic::is_error);
        let (model, rejected) = match sound {
            true => (model, None),
            false => (None, model),
        };
        Checked {
            model,
            rejected,
            diagnostics: self.diagnostics,
            redactions: self.redactions,
        }
    }

    /// The attributes of one block, by key, checked against the keys the
    /// item takes; `port`, `route` and `allow` statements are skipped (the
    /// caller reads them).
    pub(super) fn attributes(
        &mut self,
        decl: &'a Decl,
        allowed: &[&str],
    ) -> IndexMap<&'a str, &'a Attribute> {
        let mut out: IndexMap<&'a str, &'a Attribute> = IndexMap::new();
        for stmt in &decl.body {
            let Stmt::Attribute(attr) = stmt else {
                continue;
            };
            let key = attr.key.node.as_str();
            if !allowed.contains(&key) {
                let mut d = Diagnostic::new(
                    Code::UnknownAttribute,
                    attr.key.span,
                    format!("`{}` has no attribute `{key}`", decl.kind.keyword()),
                )
                .label("unknown attribute");
                let closest = names::closest(key, allowed.iter().copied());
                d = match (syntax::compose_habit(key), closest) {
                    (Some(spelling), _) => {
                        d.help(format!("compose's `{key}` is {spelling} in infrac"))
                    }
                    (None, Some(s)) => d.help(format!("did you mean `{s}`?")),
                    (None, None) => d.help(format!(
                        "a {} takes: {}",
                        decl.kind.keyword(),
                        allowed.join(", ")
                    )),
                };
                self.diagnostics.push(d);
                continue;
            }
            if let Some(first) = out.get(key) {
                let first_span = first.key.span;
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::DuplicateAttribute,
                        attr.key.span,
                        format!("`{key}` is set twice"),
                    )
                    .label("set again here")
                    .secondary(first_span, "first set here")
                    .help("keep one of them"),
                );
                continue;
            }
            out.insert(key, attr);
        }
        out
    }

    /// Reports a `port` or `route` statement in a block that has none.
    pub(super) fn not_here(&mut self, stmt: &Stmt, kind: DeclKind) {
        let word = match stmt {
            Stmt::Port(_) => "port",
            Stmt::Route(_) => "route",
            Stmt::Allow(_) | Stmt::Attribute(_) => return,
        };
        self.diagnostics.push(
            Diagnostic::new(
                Code::UnknownAttribute,
                stmt.span(),
                format!("a {} cannot have a `{word}`", kind.keyword()),
            )
            .label(format!("`{word}` is only allowed in a service or template")),
        );
    }
}
