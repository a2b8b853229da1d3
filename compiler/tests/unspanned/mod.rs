//! Comparing syntax trees modulo spans: a printed and re-parsed program
//! must be the tree it was printed from.

use infrac::ast::*;
use infrac::span::Span;

/// The tree with every span zeroed, to compare two parses.
pub fn unspanned(mut file: File) -> File {
    fn span(s: &mut Span) {
        *s = Span::default();
    }
    fn value(v: &mut Value) {
        span(&mut v.span);
        match &mut v.kind {
            ValueKind::List(items) => items.iter_mut().for_each(value),
            ValueKind::Map(entries) => {
                for e in entries {
                    span(&mut e.span);
                    span(&mut e.key.span);
                    value(&mut e.value);
                }
            }
            ValueKind::Call { func, args } => {
                span(&mut func.span);
                args.iter_mut().for_each(value);
            }
            ValueKind::Mount { source, target, .. } => {
                value(source);
                value(target);
            }
            _ => {}
        }
    }
    fn level(l: &mut LevelExpr) {
        if let LevelExpr::Restricted(v) = l {
            value(v);
        }
    }
    span(&mut file.span);
    for item in &mut file.items {
        match item {
            Item::Use { path, span: s } => {
                span(&mut path.span);
                span(s);
            }
            Item::Let {
                name,
                value: v,
                span: s,
            } => {
                span(&mut name.span);
                value(v);
                span(s);
            }
            Item::Decl(d) => {
                span(&mut d.span);
                span(&mut d.name.span);
                if let Some(e) = &mut d.extends {
                    span(&mut e.span);
                }
                for stmt in &mut d.body {
                    match stmt {
                        Stmt::Attribute(a) => {
                            span(&mut a.span);
                            span(&mut a.key.span);
                            value(&mut a.value);
                        }
                        Stmt::Port(p) => {
                            span(&mut p.span);
                            span(&mut p.container.span);
                            if let Some(pr) = &mut p.protocol {
                                span(&mut pr.span);
                            }
                            span(&mut p.level.span);
                            level(&mut p.level.node);
                            if let Some(h) = &mut p.host {
                                span(&mut h.span);
                            }
                        }
                        Stmt::Route(r) => {
                            span(&mut r.span);
                            span(&mut r.matcher.span);
                            span(&mut r.target.span);
                            span(&mut r.port.span);
                            if let Some(v) = &mut r.restriction {
                                span(&mut v.span);
                                value(&mut v.node);
                            }
                        }
                        Stmt::Allow(a) => {
                            span(&mut a.span);
                            span(&mut a.finding.span);
                            span(&mut a.reason.span);
                        }
                    }
                }
            }
        }
    }
    file
}
