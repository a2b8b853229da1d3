//! Turns diagnostics into text for people (miette's graphical report) or for
//! tools (JSON, SARIF 2.1.0). Rendering never sees a secret's value: spans
//! listed as redactions are masked in the source text before any snippet is
//! drawn.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use serde::Serialize;

use super::{Code, Diagnostic, Severity};
use crate::source::Sources;
use crate::span::{FileId, Span};

/// Options for the human report.
#[derive(Debug, Clone, Copy)]
pub struct HumanStyle {
    pub color: bool,
    pub width: usize,
}

/// Source texts with every redacted span overwritten by `*`, byte for byte,
/// so offsets stay valid and no secret reaches a rendered snippet.
pub struct MaskedSources {
    files: Vec<IndexedSource>,
}

/// A masked source text with the offsets of its lines. miette's own
/// `read_span` scans the text from its start for every snippet, which is
/// quadratic in a report of thousands of findings about one big file (an
/// imported stack of 1,000 services: seconds); this one starts at the
/// snippet's first line.
pub struct IndexedSource {
    name: String,
    text: String,
    line_starts: Vec<usize>,
}

impl SourceCode for IndexedSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let offset = span.offset().min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1) - 1;
        // Two lines of slack before the context: miette decides which line
        // an offset at a line boundary belongs to, and reads the same
        // window here as in the whole text.
        let first = line.saturating_sub(context_lines_before + 2);
        let base = self.line_starts[first];
        let window: &'a str = &self.text[base..];
        let local = SourceSpan::new((offset - base).into(), span.len());
        let inner = window.read_span(&local, context_lines_before, context_lines_after)?;
        let contents = MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            SourceSpan::new((inner.span().offset() + base).into(), inner.span().len()),
            inner.line() + first,
            inner.column(),
            // miette counts the lines from the start of the text.
            inner.line_count() + first,
        )
        .with_language("inf");
        Ok(Box::new(contents))
    }
}

impl MaskedSources {
    pub fn new(sources: &Sources, redactions: &[Span]) -> Self {
        let files = sources
            .iter()
            .map(|(id, file)| {
                let mut bytes = file.text.clone().into_bytes();
                for span in redactions.iter().filter(|s| s.file == id) {
                    for b in bytes
                        .iter_mut()
                        .take(span.end as usize)
                        .skip(span.start as usize)
                    {
                        // Overwrite whole UTF-8 sequences: every byte becomes
                        // an ASCII `*`, which keeps the text valid UTF-8.
                        *b = b'*';
                    }
                }
                let text =
                    String::from_utf8(bytes).expect("only ASCII was written over whole characters");
                let line_starts = std::iter::once(0)
                    .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                    .collect();
                IndexedSource {
                    name: file.name.clone(),
                    text,
                    line_starts,
                }
            })
            .collect();
        MaskedSources { files }
    }

    fn get(&self, id: FileId) -> &IndexedSource {
        &self.files[id.0 as usize]
    }
}

/// One diagnostic in miette's terms, borrowing the (masked) source it points into.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: &'a IndexedSource,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
    code: String,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.diagnostic.waived {
            Some(_) => write!(f, "waived: {}", self.diagnostic.message),
            None => f.write_str(&self.diagnostic.message),
        }
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.effective_severity() {
            Some(Severity::Error) => miette::Severity::Error,
            Some(Severity::Warning) => miette::Severity::Warning,
            None => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

fn source_span(span: Span) -> SourceSpan {
    SourceSpan::new((span.start as usize).into(), span.len())
}

fn location(sources: &Sources, span: Span) -> String {
    let file = sources.get(span.file);
    let (line, column) = file.line_col(span.start as usize);
    format!("{}:{line}:{column}", file.name)
}

fn report<'a>(d: &'a Diagnostic, sources: &Sources, masked: &'a MaskedSources) -> Report<'a> {
    let file = d.primary.span.file;
    let primary_text = (!d.primary.message.is_empty()).then(|| d.primary.message.clone());
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        primary_text,
        source_span(d.primary.span),
    )];
    // miette draws one source per report: labels in other files (a stdlib
    // template, say) become notes that give their location instead.
    let mut notes = Vec::new();
    for l in &d.secondary {
        if l.span.file == file {
            labels.push(LabeledSpan::new_with_span(
                Some(l.message.clone()),
                source_span(l.span),
            ));
        } else {
            notes.push(format!(
                "note: {} ({})",
                l.message,
                location(sources, l.span)
            ));
        }
    }
    notes.extend(d.notes.iter().map(|n| format!("note: {n}")));
    if let Some(w) = &d.waived {
        notes.push(format!(
            "note: waived at {}: \"{}\"",
            location(sources, w.span),
            w.reason
        ));
    }
    let help = match (&d.help, notes.is_empty()) {
        (Some(h), true) => Some(h.clone()),
        (Some(h), false) => Some(format!("{h}\n{}", notes.join("\n"))),
        (None, false) => Some(notes.join("\n")),
        (None, true) => None,
    };
    Report {
        diagnostic: d,
        source: masked.get(file),
        labels,
        help,
        code: format!("{}({})", d.code.code(), d.code.name()),
    }
}

/// The graphical report: every diagnostic, then nothing else (the CLI adds
/// the summary line).
pub fn human(
    diagnostics: &[Diagnostic],
    sources: &Sources,
    redactions: &[Span],
    style: HumanStyle,
) -> String {
    let masked = MaskedSources::new(sources, redactions);
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let mut out = String::new();
    for d in diagnostics {
        let r = report(d, sources, &masked);
        handler
            .render_report(&mut out, &r)
            .expect("writing to a String cannot fail");
    }
    out
}

/// A position in JSON output: 1-based line and column, start and end.
#[derive(Debug, Serialize)]
pub struct JsonRange {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl JsonRange {
    fn of(sources: &Sources, span: Span) -> Self {
        let file = sources.get(span.file);
        let (line, column) = file.line_col(span.start as usize);
        let (end_line, end_column) = file.line_col(span.end as usize);
        JsonRange {
            file: file.name.clone(),
            line,
            column,
            end_line,
            end_column,
        }
    }
}

#[derive(Debug, Serialize)]
struct JsonLabel {
    message: String,
    primary: bool,
    #[serde(flatten)]
    range: JsonRange,
}

#[derive(Debug, Serialize)]
struct JsonWaiver {
    reason: String,
    #[serde(flatten)]
    range: JsonRange,
}

/// One item of `--format json`; the book's "JSON diagnostics" page documents it.
#[derive(Debug, Serialize)]
struct JsonDiagnostic {
    code: &'static str,
    name: &'static str,
    severity: &'static str,
    message: String,
    #[serde(flatten)]
    range: JsonRange,
    labels: Vec<JsonLabel>,
    help: Option<String>,
    notes: Vec<String>,
    waived: Option<JsonWaiver>,
}

fn severity_word(d: &Diagnostic) -> &'static str {
    match d.effective_severity() {
        Some(Severity::Error) => "error",
        Some(Severity::Warning) => "warning",
        None => "waived",
    }
}

/// `--format json`: a JSON array, one object per diagnostic, in report order.
pub fn json(diagnostics: &[Diagnostic], sources: &Sources) -> String {
    let items: Vec<JsonDiagnostic> = diagnostics
        .iter()
        .map(|d| {
            let mut labels = vec![JsonLabel {
                message: d.primary.message.clone(),
                primary: true,
                range: JsonRange::of(sources, d.primary.span),
            }];
            labels.extend(d.secondary.iter().map(|l| JsonLabel {
                message: l.message.clone(),
                primary: false,
                range: JsonRange::of(sources, l.span),
            }));
            JsonDiagnostic {
                code: d.code.code(),
                name: d.code.name(),
                severity: severity_word(d),
                message: d.message.clone(),
                range: JsonRange::of(sources, d.primary.span),
                labels,
                help: d.help.clone(),
                notes: d.notes.clone(),
                waived: d.waived.as_ref().map(|w| JsonWaiver {
                    reason: w.reason.clone(),
                    range: JsonRange::of(sources, w.span),
                }),
            }
        })
        .collect();
    serde_json::to_string_pretty(&items).expect("diagnostics serialise to JSON")
}

/// `--format sarif`: a SARIF 2.1.0 log with one run, the rule metadata of
/// every code that occurs, and waived findings as in-source suppressions.
pub fn sarif(diagnostics: &[Diagnostic], sources: &Sources, book_url: Option<&str>) -> String {
    use serde_json::{json, Value};
    let mut rules: Vec<Code> = diagnostics.iter().map(|d| d.code).collect();
    rules.sort();
    rules.dedup();
    let rule_objects: Vec<Value> = rules
        .iter()
        .map(|c| {
            let mut rule = json!({
                "id": c.code(),
                "name": c.name(),
                "shortDescription": { "text": c.summary() },
                "help": { "text": c.page(), "markdown": c.page() },
                "defaultConfiguration": { "level": sarif_level(c.severity()) },
                "properties": { "waivable": c.waiver() == super::Waivable::Yes },
            });
            if let Some(base) = book_url {
                rule["helpUri"] = json!(format!(
                    "{}/errors/{}.html",
                    base.trim_end_matches('/'),
                    c.code()
                ));
            }
            rule
        })
        .collect();
    let region = |span: Span| {
        let r = JsonRange::of(sources, span);
        json!({
            "artifactLocation": { "uri": r.file },
            "region": {
                "startLine": r.line, "startColumn": r.column,
                "endLine": r.end_line, "endColumn": r.end_column,
            }
        })
    };
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            if let Some(h) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(h);
            }
            let mut result = json!({
                "ruleId": d.code.code(),
                "ruleIndex": rules.binary_search(&d.code).expect("every code of a result is a rule"),
                "level": sarif_level(d.code.severity()),
                "message": { "text": text },
                "locations": [{ "physicalLocation": region(d.primary.span),
                                "message": { "text": d.primary.message } }],
                "relatedLocations": d.secondary.iter().enumerate().map(|(i, l)| json!({
                    "id": i + 1,
                    "physicalLocation": region(l.span),
                    "message": { "text": l.message },
                })).collect::<Vec<_>>(),
            });
            if let Some(w) = &d.waived {
                result["suppressions"] = json!([{
                    "kind": "inSource",
                    "justification": w.reason,
                    "location": { "physicalLocation": region(w.span) },
                }]);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "infrac",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rule_objects,
            }},
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&log).expect("SARIF serialises to JSON")
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

#[cfg(test)]
mod indexed_tests {
    use super::*;

    /// The indexed source reads every span as miette's own `str` does.
    #[test]
    fn reads_spans_as_miette_does() {
        let text = "service api {\n  image = \"a\"\n  port 80 public\n\n  image = \"b\"\n}\nlast line without newline";
        let indexed = IndexedSource {
            name: "f.inf".to_string(),
            text: text.to_string(),
            line_starts: std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        };
        for start in 0..text.len() {
            for len in [0, 1, 5, 20, 60] {
                let len = len.min(text.len() - start);
                for ctx in [0, 1, 2] {
                    let span = SourceSpan::new(start.into(), len);
                    let a = text.read_span(&span, ctx, ctx).expect("str");
                    let b = indexed.read_span(&span, ctx, ctx).expect("indexed");
                    let at = format!("{start}+{len} ctx {ctx}");
                    assert_eq!(a.data(), b.data(), "{at}");
                    assert_eq!(a.span(), b.span(), "{at}");
                    assert_eq!(
                        (a.line(), a.column(), a.line_count()),
                        (b.line(), b.column(), b.line_count()),
                        "{at}"
                    );
                }
            }
        }
    }
}
