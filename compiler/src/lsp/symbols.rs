//! The outline (document symbols) and formatting, both from the syntax
//! alone: they answer at once, without waiting for the checker.

use lsp_types::{DocumentSymbol, Position, Range, SymbolKind, TextEdit};

use super::analysis::MAIN;
use super::lines::Lines;
use crate::ast::{Item, LevelExpr, Stmt};
use crate::span::Span;

#[allow(deprecated)] // `DocumentSymbol::deprecated` must be spelt out.
fn symbol(
    (lines, text): (&Lines, &str),
    name: String,
    detail: Option<String>,
    kind: SymbolKind,
    full: Span,
    name_span: Span,
    children: Vec<DocumentSymbol>,
) -> DocumentSymbol {
    DocumentSymbol {
        name,
        detail,
        kind,
        tags: None,
        deprecated: None,
        range: lines.range(text, full),
        selection_range: lines.range(text, name_span),
        children: (!children.is_empty()).then_some(children),
    }
}

pub fn outline(text: &str) -> Vec<DocumentSymbol> {
    let (file, _) = crate::syntax::parse(MAIN, text);
    let lines = Lines::new(text);
    let mut out = Vec::new();
    for item in &file.items {
        match item {
            Item::Use { path, span } => out.push(symbol(
                (&lines, text),
                path.node.clone(),
                Some("use".into()),
                SymbolKind::MODULE,
                *span,
                path.span,
                Vec::new(),
            )),
            Item::Let { name, span, .. } => out.push(symbol(
                (&lines, text),
                name.node.clone(),
                Some("let".into()),
                SymbolKind::CONSTANT,
                *span,
                name.span,
                Vec::new(),
            )),
            Item::Decl(d) => {
                let mut children = Vec::new();
                for stmt in &d.body {
                    match stmt {
                        Stmt::Port(p) => {
                            let level = match &p.level.node {
                                LevelExpr::Local => "local",
                                LevelExpr::Internal => "internal",
                                LevelExpr::Public => "public",
                                LevelExpr::Restricted(_) => "restricted",
                            };
                            children.push(symbol(
                                (&lines, text),
                                format!("port {}", p.container.node),
                                Some(level.into()),
                                SymbolKind::FIELD,
                                p.span,
                                p.container.span,
                                Vec::new(),
                            ));
                        }
                        Stmt::Route(r) => children.push(symbol(
                            (&lines, text),
                            format!("route {:?}", r.matcher.node),
                            Some(format!("-> {}:{}", r.target.node, r.port.node)),
                            SymbolKind::EVENT,
                            r.span,
                            r.matcher.span,
                            Vec::new(),
                        )),
                        _ => {}
                    }
                }
                let kind = match d.kind {
                    crate::ast::DeclKind::Service => SymbolKind::CLASS,
                    crate::ast::DeclKind::Template => SymbolKind::INTERFACE,
                    crate::ast::DeclKind::Network => SymbolKind::NAMESPACE,
                    crate::ast::DeclKind::Node => SymbolKind::OBJECT,
                    crate::ast::DeclKind::Secret => SymbolKind::KEY,
                    crate::ast::DeclKind::Volume => SymbolKind::PACKAGE,
                    _ => SymbolKind::STRUCT,
                };
                out.push(symbol(
                    (&lines, text),
                    d.name.node.clone(),
                    Some(d.kind.keyword().into()),
                    kind,
                    d.span,
                    d.name.span,
                    children,
                ));
            }
        }
    }
    out
}

/// The whole buffer replaced by its canonical form (`infrac fmt`), or
/// nothing when it does not parse (the text is left as it is).
pub fn format(text: &str) -> Option<Vec<TextEdit>> {
    let formatted = crate::syntax::print::format(MAIN, text).ok()?;
    if formatted == text {
        return Some(Vec::new());
    }
    let lines = Lines::new(text);
    let end = lines.position(text, text.len());
    Some(vec![TextEdit::new(
        Range::new(Position::new(0, 0), end),
        formatted,
    )])
}
