//! The template chain of a service, merged: the service block completes
//! and overrides its templates (attributes by key, ports by container port
//! and protocol, routes and waivers added); a chain that loops is
//! `template-cycle`, reported once whichever service enters it.

use indexmap::IndexMap;

use super::SERVICE_ATTRS;
use crate::ast::{self, Attribute, Decl, DeclKind, Protocol, Stmt};
use crate::check::Ctx;
use crate::diagnostics::{Code, Diagnostic};

/// A service with its template chain merged, still in AST terms.
pub(super) struct Merged<'a> {
    pub(super) decl: &'a Decl,
    pub(super) template: Option<String>,
    pub(super) attrs: IndexMap<&'a str, &'a Attribute>,
    pub(super) ports: IndexMap<(u16, Protocol), &'a ast::PortDecl>,
    pub(super) routes: Vec<&'a ast::RouteDecl>,
    /// A template of the chain could not be resolved (already reported):
    /// what it would have supplied is unknown, so "missing" is not said.
    pub(super) unresolved_template: bool,
}

impl<'a> Ctx<'a> {
    /// The service and its templates, outermost template first.
    pub(super) fn chain(&self, decl: &'a Decl) -> Vec<&'a Decl> {
        let mut chain = vec![decl];
        let mut current = decl;
        while let Some(parent) = &current.extends {
            match self.tables.get(DeclKind::Template, &parent.node) {
                Some(t) if !chain.iter().any(|c| std::ptr::eq(*c, t)) => {
                    chain.push(t);
                    current = t;
                }
                _ => break,
            }
        }
        chain.reverse();
        chain
    }

    pub(super) fn merge(&mut self, decl: &'a Decl) -> Merged<'a> {
        let mut chain = vec![decl];
        let mut current = decl;
        let mut unresolved_template = false;
        while let Some(parent) = &current.extends {
            let Some(t) = self.resolve(DeclKind::Template, parent, "`:`") else {
                unresolved_template = true;
                break;
            };
            if let Some(k) = chain.iter().position(|c| std::ptr::eq(*c, t)) {
                // chain[k..] is the cycle: each extends the next, and the
                // last (`current`) extends chain[k] again at `parent`.
                // Rotated to start at the template written first, so that
                // services entering the cycle at different templates report
                // one and the same finding.
                let mut members: Vec<&Decl> = chain[k..].to_vec();
                let first = (0..members.len())
                    .min_by_key(|i| members[*i].span)
                    .expect("a cycle has members");
                members.rotate_left(first);
                let closing = members
                    .last()
                    .and_then(|m| m.extends.as_ref())
                    .map_or(parent.span, |e| e.span);
                let message = if members.len() == 1 {
                    format!("template `{}` extends itself", t.name.node)
                } else {
                    let mut names: Vec<String> = members
                        .iter()
                        .map(|m| format!("`{}`", m.name.node))
                        .collect();
                    names.push(names[0].clone());
                    format!(
                        "templates extend each other in a cycle: {}",
                        names.join(" → ")
                    )
                };
                let mut d = Diagnostic::new(Code::TemplateCycle, closing, message)
                    .label("closes the cycle")
                    .help("a template may extend another, but the chain must end: remove one `: TEMPLATE`");
                for pair in members.windows(2) {
                    if let Some(e) = &pair[0].extends {
                        d = d.secondary(
                            e.span,
                            format!(
                                "`{}` extends `{}` here",
                                pair[0].name.node, pair[1].name.node
                            ),
                        );
                    }
                }
                self.diagnostics.push(d);
                break;
            }
            chain.push(t);
            current = t;
        }
        let template = decl.extends.as_ref().map(|e| e.node.clone());
        let mut attrs = IndexMap::new();
        let mut ports = IndexMap::new();
        let mut routes = Vec::new();
        for block in chain.iter().rev() {
            let block_attrs = if std::ptr::eq(*block, decl) {
                self.attributes(block, SERVICE_ATTRS)
            } else {
                // Templates were checked once already; read without reporting again.
                block
                    .body
                    .iter()
                    .filter_map(|s| match s {
                        Stmt::Attribute(a) if SERVICE_ATTRS.contains(&a.key.node.as_str()) => {
                            Some((a.key.node.as_str(), a))
                        }
                        _ => None,
                    })
                    .collect()
            };
            attrs.extend(block_attrs);
            let mut own_ports: IndexMap<(u16, Protocol), &'a ast::PortDecl> = IndexMap::new();
            for stmt in &block.body {
                match stmt {
                    Stmt::Port(p) => {
                        let proto = p.protocol.as_ref().map_or(Protocol::Tcp, |s| s.node);
                        let key = (p.container.node.min(65535) as u16, proto);
                        if let Some(first) = own_ports.get(&key) {
                            self.diagnostics.push(
                                Diagnostic::new(
                                    Code::DuplicateAttribute,
                                    p.span,
                                    format!("port {}/{} is declared twice", key.0, proto.as_str()),
                                )
                                .label("declared again here")
                                .secondary(first.span, "first declared here")
                                .help("keep one `port` line per container port and protocol"),
                            );
                            continue;
                        }
                        own_ports.insert(key, p);
                    }
                    Stmt::Route(r) => routes.push(r),
                    // A waiver covers the findings in the block it stands in:
                    // a template's own waivers cover what the template sets
                    // (node-exporter's read-only /proc), once per user.
                    Stmt::Allow(allow) => self.waivers.push(crate::check::waivers::Allow {
                        decl_span: block.span,
                        allow,
                        owner: Some(crate::check::waivers::Owner::Service(
                            decl.name.node.as_str(),
                        )),
                    }),
                    Stmt::Attribute(_) => {}
                }
            }
            ports.extend(own_ports);
        }
        Merged {
            decl,
            template,
            attrs,
            ports,
            routes,
            unresolved_template,
        }
    }
}
