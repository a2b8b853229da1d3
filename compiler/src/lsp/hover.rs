//! Hover: what the checker knows about the thing under the cursor.
//!
//! - a port: its declared and effective exposure and, when routes widened
//!   it, the path that did (proxy → route → port), farthest first;
//! - a service's name: its class and where the class came from;
//! - an attribute key: its line of the attribute table;
//! - a finding's code or name (`allow admin-public`, `E2001` in a
//!   comment): its summary.

use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind};

use super::analysis::{Analysis, MAIN};
use super::index;
use crate::ast::{Item, Stmt};
use crate::diagnostics::{Code, Waivable};
use crate::ir::{ClassOrigin, Model, Port, Service};
use crate::span::Span;

pub fn hover(analysis: &Analysis, offset: usize) -> Option<Hover> {
    let (text, span) = port(analysis, offset)
        .or_else(|| service(analysis, offset))
        .or_else(|| attribute(analysis, offset))
        .or_else(|| finding(analysis, offset))?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: Some(analysis.range(span)),
    })
}

fn covers(span: Span, offset: usize) -> bool {
    span.file == MAIN && span.start as usize <= offset && offset <= span.end as usize
}

fn port(analysis: &Analysis, offset: usize) -> Option<(String, Span)> {
    let model = analysis.model()?;
    let (service, port) = model.services.iter().find_map(|s| {
        s.ports
            .iter()
            .find(|p| covers(p.span, offset))
            .map(|p| (s, p))
    })?;
    Some((port_text(model, service, port), port.span))
}

/// The hover of one port; public for the editor tests' wording.
pub fn port_text(model: &Model, service: &Service, port: &Port) -> String {
    let mut out = format!(
        "**port {}/{}** of `{}` ({} service)\n\n",
        port.container,
        port.protocol.as_str(),
        service.name,
        service.class.as_str()
    );
    out.push_str(&format!(
        "- declared: `{}`\n- effective: `{}`\n",
        port.declared, port.effective
    ));
    if port.witness.is_empty() {
        out.push_str("\nThe effective exposure is the declared one: no route widens it.\n");
        return out;
    }
    out.push_str("\nWidened by routes (proxy → route → port):\n\n");
    // The witness runs nearest first; the story reads from the outside in.
    for (i, hop) in port.witness.iter().rev().enumerate() {
        let proxy = model.service(hop.proxy);
        let route = &proxy.routes[hop.route];
        let target = model.service(route.target);
        if i == 0 {
            let reach = proxy
                .reach()
                .map_or_else(|| "no port".to_string(), |r| r.to_string());
            out.push_str(&format!("1. `{}` is reachable `{}`\n", proxy.name, reach));
        }
        let narrowed = match &route.restriction {
            Some(r) => format!(
                " restricted to {}",
                crate::ir::Exposure::Restricted(r.clone())
            ),
            None => String::new(),
        };
        out.push_str(&format!(
            "{}. → route `\"{}\"`{} → `{}:{}`{}\n",
            i + 2,
            route.matcher,
            narrowed,
            target.name,
            route.port,
            // The nearest hop, printed last, is the route into this port.
            if i + 1 == port.witness.len() {
                " (this port)"
            } else {
                ""
            }
        ));
    }
    out
}

fn service(analysis: &Analysis, offset: usize) -> Option<(String, Span)> {
    let model = analysis.model()?;
    let s = model
        .services
        .iter()
        .find(|s| covers(s.name_span, offset))?;
    let origin = match &s.class_origin {
        ClassOrigin::Declared(span) if span.file == MAIN => "declared in the service".to_string(),
        ClassOrigin::Declared(span) => format!(
            "declared by its template `{}` ({})",
            s.template.as_deref().unwrap_or("?"),
            analysis.compiled.sources.get(span.file).name
        ),
        ClassOrigin::Image(entry) => format!(
            "inferred from its image `{}`: the catalogue entry `{entry}`",
            s.image
        ),
        ClassOrigin::Port(port, what) => format!(
            "its image `{}` is not in the catalogue, but it listens on port {port} ({what})",
            s.image
        ),
        ClassOrigin::Default => {
            "the default: no class declared, and the image is not in the catalogue".to_string()
        }
    };
    let mut out = format!(
        "**service `{}`**: class `{}`\n\n{}\n",
        s.name,
        s.class.as_str(),
        capitalise(&origin)
    );
    if let Some(t) = &s.template {
        out.push_str(&format!("\nExtends the template `{t}`.\n"));
    }
    if !s.ports.is_empty() {
        out.push_str("\nPorts:\n\n");
        for p in &s.ports {
            out.push_str(&format!(
                "- {}/{}: declared `{}`, effective `{}`\n",
                p.container,
                p.protocol.as_str(),
                p.declared,
                p.effective
            ));
        }
    }
    Some((out, s.name_span))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn attribute(analysis: &Analysis, offset: usize) -> Option<(String, Span)> {
    for item in &analysis.ast.items {
        let Item::Decl(d) = item else { continue };
        if !covers(d.span, offset) {
            continue;
        }
        let table = index::table(d.kind)?;
        for stmt in &d.body {
            let Stmt::Attribute(a) = stmt else { continue };
            if covers(a.key.span, offset) {
                let attr = crate::schema::find(table, &a.key.node)?;
                return Some((
                    format!(
                        "**{}** (`{}`)\n\n{}\n",
                        attr.key,
                        d.kind.keyword(),
                        attr.doc
                    ),
                    a.key.span,
                ));
            }
        }
    }
    None
}

fn finding(analysis: &Analysis, offset: usize) -> Option<(String, Span)> {
    let text = &analysis.text;
    let word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut start = offset.min(text.len());
    while start > 0 && text[..start].chars().next_back().is_some_and(word) {
        start -= text[..start].chars().next_back().map_or(1, char::len_utf8);
    }
    let end = start
        + text[start..]
            .find(|c: char| !word(c))
            .unwrap_or(text.len() - start);
    let code = Code::find(text.get(start..end)?)?;
    let waivable = match code.waiver() {
        Waivable::Yes => "may be waived with `allow` and a reason",
        Waivable::Never => "may never be waived",
        Waivable::NotAFinding => "is about the program text: fix it",
    };
    let severity = match code.severity() {
        crate::diagnostics::Severity::Error => "error",
        crate::diagnostics::Severity::Warning => "warning",
    };
    Some((
        format!(
            "**{} {}** ({severity}): {}\n\nIt {waivable}. `infrac explain {}` prints its page.\n",
            code.code(),
            code.name(),
            code.summary(),
            code.code()
        ),
        Span::new(MAIN, start, end),
    ))
}
