//! Code actions: the fixes a finding's help spells out, where they are
//! mechanical.
//!
//! - an exposure finding on a port's level: make the port `internal`;
//! - a credential written in `env`: declare a `secret` from the deploying
//!   machine's variable, list it in `secrets`, and point the service at
//!   the file (what E3001's help says; rotating the value is the user's);
//! - any waivable finding: an `allow` skeleton in its block, with a reason
//!   left for the user to write (a waiver without a real reason is what
//!   the reason exists to prevent, so the placeholder says so).

use std::collections::HashMap;

use lsp_types::{CodeAction, CodeActionKind, CodeActionOrCommand, TextEdit, WorkspaceEdit};

use super::analysis::{Analysis, MAIN};
use crate::ast::{Decl, Item, Stmt, Value, ValueKind};
use crate::diagnostics::{Code, Diagnostic, Waivable};
use crate::span::Span;

/// The placeholder reason of a waiver skeleton.
pub const REASON: &str = "TODO: why this is accepted, and who accepted it";

pub fn actions(
    analysis: &Analysis,
    config: &super::Config,
    start: usize,
    end: usize,
) -> Vec<CodeActionOrCommand> {
    let mut out = Vec::new();
    for d in &analysis.compiled.diagnostics {
        let span = d.primary.span;
        if span.file != MAIN || (span.end as usize) < start || (span.start as usize) > end {
            continue;
        }
        let lsp = super::diagnostics::one(analysis, config, d);
        let mut push = |title: String, edits: Vec<TextEdit>, preferred: bool| {
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![lsp.clone()]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(analysis.uri.clone(), edits)])),
                    ..WorkspaceEdit::default()
                }),
                is_preferred: Some(preferred),
                ..CodeAction::default()
            }))
        };
        if let Some((title, edits)) = make_internal(analysis, d) {
            push(title, edits, true);
        }
        if let Some((title, edits)) = into_secret(analysis, d) {
            push(title, edits, true);
        }
        if let Some((title, edits)) = waiver(analysis, d) {
            push(title, edits, false);
        }
    }
    out
}

fn edit(analysis: &Analysis, span: Span, text: impl Into<String>) -> TextEdit {
    TextEdit::new(analysis.range(span), text.into())
}

fn insert(analysis: &Analysis, at: usize, text: impl Into<String>) -> TextEdit {
    edit(analysis, Span::new(MAIN, at, at), text)
}

fn decl_at(analysis: &Analysis, span: Span) -> Option<&Decl> {
    analysis.ast.items.iter().find_map(|item| match item {
        Item::Decl(d) if d.span.start <= span.start && span.end <= d.span.end => Some(d),
        _ => None,
    })
}

fn make_internal(analysis: &Analysis, d: &Diagnostic) -> Option<(String, Vec<TextEdit>)> {
    if !matches!(
        d.code,
        Code::DataExposed | Code::AdminPublic | Code::RemoteAdminPublic
    ) {
        return None;
    }
    let decl = decl_at(analysis, d.primary.span)?;
    let port = decl.body.iter().find_map(|s| match s {
        Stmt::Port(p) if p.level.span == d.primary.span => Some(p),
        _ => None,
    })?;
    Some((
        format!("Make port {} `internal`", port.container.node),
        vec![edit(analysis, port.level.span, "internal")],
    ))
}

fn into_secret(analysis: &Analysis, d: &Diagnostic) -> Option<(String, Vec<TextEdit>)> {
    if d.code != Code::PlaintextSecret {
        return None;
    }
    let decl = decl_at(analysis, d.primary.span)?;
    let mut env = None;
    let mut secrets: Option<&Value> = None;
    for stmt in &decl.body {
        let Stmt::Attribute(a) = stmt else { continue };
        match (a.key.node.as_str(), &a.value.kind) {
            ("env", ValueKind::Map(entries)) => {
                if let Some(e) = entries.iter().find(|e| e.value.span == d.primary.span) {
                    env = Some((a, e));
                }
            }
            ("secrets", ValueKind::List(_)) => secrets = Some(&a.value),
            _ => {}
        }
    }
    let (env_attr, entry) = env?;
    let key = &entry.key.node;
    let name: String = key
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() {
            true => c.to_ascii_lowercase(),
            false => '_',
        })
        .collect();
    if analysis
        .index
        .symbols
        .iter()
        .any(|s| s.name == name && s.kind == super::index::Kind::Secret)
    {
        return None;
    }
    let text = &analysis.text;
    let line_start = |at: usize| text[..at].rfind('\n').map_or(0, |i| i + 1);
    let mut edits = vec![
        insert(
            analysis,
            line_start(decl.span.start as usize),
            format!("secret {name} {{ from = env(\"{key}\") }}\n\n"),
        ),
        edit(
            analysis,
            entry.span,
            format!("{key}_FILE = \"/run/secrets/{name}\""),
        ),
    ];
    match secrets {
        Some(Value {
            kind: ValueKind::List(items),
            span,
        }) => {
            let close = span.end as usize - 1;
            let sep = if items.is_empty() { "" } else { ", " };
            edits.push(insert(analysis, close, format!("{sep}{name}")));
        }
        _ => {
            let at = line_start(env_attr.span.start as usize);
            let indent: String = text[at..]
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            edits.push(insert(
                analysis,
                at,
                format!("{indent}secrets = [{name}]\n"),
            ));
        }
    }
    Some((
        format!("Move `{key}` into `secret {name}` (then rotate the value)"),
        edits,
    ))
}

fn waiver(analysis: &Analysis, d: &Diagnostic) -> Option<(String, Vec<TextEdit>)> {
    if d.code.waiver() != Waivable::Yes || d.waived.is_some() {
        return None;
    }
    let decl = decl_at(analysis, d.primary.span)?;
    let text = &analysis.text;
    let open = decl.span.start as usize + text[decl.span.range()].find('{')?;
    let rest_of_line = &text[open + 1..];
    let line_end = rest_of_line.find('\n').map(|i| open + 1 + i);
    let statement = format!("allow {} \"{REASON}\"", d.code.name());
    let edit = match line_end {
        Some(end) if text[open + 1..end].trim().is_empty() => {
            insert(analysis, end + 1, format!("  {statement}\n"))
        }
        _ => insert(analysis, open + 1, format!("\n  {statement}\n")),
    };
    Some((
        format!(
            "Waive {} in `{}` (write the reason)",
            d.code.name(),
            decl.name.node
        ),
        vec![edit],
    ))
}
