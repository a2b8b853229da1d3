//! Findings as LSP diagnostics: the code, its severity, the primary span
//! as the range, the secondary labels (for an exposure finding, the route
//! path that widened the port) as related locations, and the finding's
//! book page as `codeDescription`. A waived finding is a hint: still
//! there to read, no longer a squiggle that asks for a fix.

use lsp_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, NumberOrString,
};

use super::analysis::{Analysis, MAIN};
use super::Config;
use crate::diagnostics::{self as findings, Severity};

pub fn of(analysis: &Analysis, config: &Config) -> Vec<Diagnostic> {
    analysis
        .compiled
        .diagnostics
        .iter()
        .map(|d| one(analysis, config, d))
        .collect()
}

pub fn one(analysis: &Analysis, config: &Config, d: &findings::Diagnostic) -> Diagnostic {
    // A finding in a stdlib module is shown at the `use` that read it
    // (the start of the file when none can be found).
    let range = if d.primary.span.file == MAIN {
        analysis.range(d.primary.span)
    } else {
        match use_of(analysis, d) {
            Some(span) => analysis.range(span),
            None => lsp_types::Range::default(),
        }
    };
    let severity = match (&d.waived, d.code.severity()) {
        (Some(_), _) => DiagnosticSeverity::HINT,
        (None, Severity::Error) => DiagnosticSeverity::ERROR,
        (None, Severity::Warning) => DiagnosticSeverity::WARNING,
    };
    let mut message = d.message.clone();
    if let Some(w) = &d.waived {
        message = format!("waived: {message} (reason: {})", w.reason);
    }
    if !d.primary.message.is_empty() {
        message.push_str(&format!("\n{}", d.primary.message));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    for note in &d.notes {
        message.push_str(&format!("\nnote: {note}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .filter_map(|label| {
            Some(DiagnosticRelatedInformation {
                location: config.location(analysis, label.span)?,
                message: label.message.clone(),
            })
        })
        .collect();
    Diagnostic {
        range,
        severity: Some(severity),
        code: Some(NumberOrString::String(d.code.code().to_string())),
        code_description: config.page(d.code).map(|href| CodeDescription { href }),
        source: Some("infrac".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: Some(serde_json::json!({ "name": d.code.name() })),
    }
}

/// The `use std/NAME` of the module a finding is in.
fn use_of(analysis: &Analysis, d: &findings::Diagnostic) -> Option<crate::span::Span> {
    let name = &analysis.compiled.sources.get(d.primary.span.file).name;
    let module = name.strip_prefix("std/")?.strip_suffix(".inf")?;
    analysis.ast.items.iter().find_map(|item| match item {
        crate::ast::Item::Use { path, .. } if path.node == format!("std/{module}") => {
            Some(path.span)
        }
        _ => None,
    })
}
