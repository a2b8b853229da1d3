//! Symbol tables: one namespace per kind of item, duplicate detection, and
//! resolution of references with "did you mean" and wrong-kind messages.

use indexmap::IndexMap;

use super::Ctx;
use crate::ast::{Decl, DeclKind, Ident};
use crate::diagnostics::{Code, Diagnostic};
use crate::span::Span;

/// The declarations of one program, by kind and name, in source order.
#[derive(Default)]
pub(super) struct Tables<'a> {
    pub(super) by_kind: IndexMap<DeclKind, IndexMap<&'a str, &'a Decl>>,
    /// `let` names and where they were declared.
    pub(super) lets: IndexMap<&'a str, Span>,
}

impl<'a> Tables<'a> {
    pub(super) fn get(&self, kind: DeclKind, name: &str) -> Option<&'a Decl> {
        self.by_kind.get(&kind)?.get(name).copied()
    }

    pub(super) fn names(&self, kind: DeclKind) -> impl Iterator<Item = &'a str> + '_ {
        self.by_kind
            .get(&kind)
            .into_iter()
            .flat_map(|t| t.keys().copied())
    }

    pub(super) fn decls(&self, kind: DeclKind) -> impl Iterator<Item = &'a Decl> + '_ {
        self.by_kind
            .get(&kind)
            .into_iter()
            .flat_map(|t| t.values().copied())
    }
}

/// The candidate closest to `name`, if any is close enough to suggest.
pub(crate) fn closest<'c>(
    name: &str,
    candidates: impl Iterator<Item = &'c str>,
) -> Option<&'c str> {
    candidates
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, c)| *score >= 0.8 && *c != name)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

fn article(kind: DeclKind) -> &'static str {
    match kind {
        DeclKind::Provider => "a provider",
        DeclKind::Node => "a node",
        DeclKind::Network => "a network",
        DeclKind::Volume => "a volume",
        DeclKind::Secret => "a secret",
        DeclKind::Service => "a service",
        DeclKind::Template => "a template",
        DeclKind::Class => "a class",
    }
}

impl<'a> Ctx<'a> {
    /// Adds a declaration to its kind's table, reporting a second definition.
    pub(super) fn declare(&mut self, decl: &'a Decl) {
        let table = self.tables.by_kind.entry(decl.kind).or_default();
        match table.get(decl.name.node.as_str()) {
            Some(first) if decl.kind != DeclKind::Class => {
                let first_span = first.name.span;
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::DuplicateName,
                        decl.name.span,
                        format!(
                            "{} named `{}` is declared twice",
                            article(decl.kind),
                            decl.name.node
                        ),
                    )
                    .label("declared again here")
                    .secondary(first_span, "first declared here")
                    .help(format!(
                        "rename one of them, or merge the two `{}` blocks",
                        decl.kind.keyword()
                    )),
                );
            }
            Some(_) => {}
            None => {
                table.insert(decl.name.node.as_str(), decl);
            }
        }
    }

    /// Resolves a reference that must name an item of `kind`.
    pub(super) fn resolve(
        &mut self,
        kind: DeclKind,
        name: &Ident,
        context: &str,
    ) -> Option<&'a Decl> {
        if let Some(d) = self.tables.get(kind, &name.node) {
            return Some(d);
        }
        // Declared, but as something else?
        for other in [
            DeclKind::Service,
            DeclKind::Network,
            DeclKind::Volume,
            DeclKind::Secret,
            DeclKind::Node,
            DeclKind::Template,
        ] {
            if other == kind {
                continue;
            }
            if let Some(d) = self.tables.get(other, &name.node) {
                let d_span = d.name.span;
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::WrongKind,
                        name.span,
                        format!(
                            "`{}` is {}, but {context} takes {}",
                            name.node,
                            article(other),
                            plural(kind)
                        ),
                    )
                    .label(format!("expected {}", article(kind)))
                    .secondary(
                        d_span,
                        format!("`{}` is declared as {} here", name.node, article(other)),
                    ),
                );
                return None;
            }
        }
        let suggestion = closest(&name.node, self.tables.names(kind)).map(str::to_string);
        let mut d = Diagnostic::new(
            Code::UnknownName,
            name.span,
            format!("no {} named `{}`", kind.keyword(), name.node),
        )
        .label(format!("not a declared {}", kind.keyword()));
        d = match suggestion {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None if kind == DeclKind::Template && crate::stdlib::module(&name.node).is_some() => d.help(
                format!("the standard library has this template: add `use std/{}` at the top of the file", name.node),
            ),
            None => d.help(format!("declare it: `{} {} {{ ... }}`", kind.keyword(), name.node)),
        };
        self.diagnostics.push(d);
        None
    }
}

fn plural(kind: DeclKind) -> &'static str {
    match kind {
        DeclKind::Provider => "providers",
        DeclKind::Node => "nodes",
        DeclKind::Network => "networks",
        DeclKind::Volume => "volumes",
        DeclKind::Secret => "secrets",
        DeclKind::Service => "services",
        DeclKind::Template => "templates",
        DeclKind::Class => "classes",
    }
}
