//! A service's `port` and `route` statements: numbers in range, the
//! declared level, and a route's target and port resolved.

use crate::ast::{self, DeclKind, LevelExpr, Protocol, Stmt};
use crate::check::Ctx;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::*;
use crate::span::Span;

impl<'a> Ctx<'a> {
    pub(super) fn port(&mut self, p: &ast::PortDecl) -> Option<Port> {
        let container = self.port_in_range(p.container.node, p.container.span)?;
        let host = match &p.host {
            Some(h) => self.port_in_range(h.node, h.span)?,
            None => container,
        };
        let declared = self.level(&p.level.node)?;
        Some(Port {
            container,
            protocol: p.protocol.as_ref().map_or(Protocol::Tcp, |s| s.node),
            host,
            effective: declared.clone(),
            witness: Vec::new(),
            declared,
            span: p.span,
            level_span: p.level.span,
        })
    }

    fn port_in_range(&mut self, n: u64, span: Span) -> Option<u16> {
        if (1..=65535).contains(&n) {
            return Some(n as u16);
        }
        self.diagnostics.push(
            Diagnostic::new(
                Code::InvalidValue,
                span,
                format!("{n} is not a port number"),
            )
            .label("ports run from 1 to 65535"),
        );
        None
    }

    fn level(&mut self, level: &LevelExpr) -> Option<Exposure> {
        Some(match level {
            LevelExpr::Local => Exposure::Local,
            LevelExpr::Internal => Exposure::Internal,
            LevelExpr::Public => Exposure::Public,
            LevelExpr::Restricted(v) => Exposure::Restricted(self.cidrs(v, "`restricted`")?),
        })
    }

    pub(super) fn route(&mut self, r: &ast::RouteDecl) -> Option<Route> {
        let target = self.resolve(DeclKind::Service, &r.target, "a route")?;
        let id = ServiceId(self.id_of(DeclKind::Service, &target.name.node)?);
        let port = self.port_in_range(r.port.node, r.port.span)?;
        let declared: Vec<u16> = self
            .chain(target)
            .iter()
            .flat_map(|d| d.body.iter())
            .filter_map(|s| match s {
                Stmt::Port(p) => Some(p.container.node.min(65535) as u16),
                _ => None,
            })
            .collect();
        if !declared.contains(&port) {
            let list: Vec<String> = declared.iter().map(u16::to_string).collect();
            let d = Diagnostic::new(
                Code::UnknownPort,
                r.port.span,
                format!("service `{}` declares no port {port}", r.target.node),
            )
            .label("no such port")
            .secondary(
                target.name.span,
                format!("`{}` is declared here", r.target.node),
            );
            let d = if list.is_empty() {
                d.help(format!(
                    "declare it in `{}`: `port {port} internal`",
                    r.target.node
                ))
            } else {
                d.help(format!("`{}` declares: {}", r.target.node, list.join(", ")))
            };
            self.diagnostics.push(d);
            return None;
        }
        let restriction = match &r.restriction {
            Some(v) => Some(self.cidrs(&v.node, "`restricted`")?),
            None => None,
        };
        Some(Route {
            matcher: r.matcher.node.clone(),
            target: id,
            port,
            restriction,
            handed: None,
            span: r.span,
        })
    }
}
