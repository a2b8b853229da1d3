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
                IndexedSource::new(file.name.clone(), bytes)
            })
            .collect();
        MaskedSources { files }
    }

    fn get(&self, id: FileId) -> &IndexedSource {
        &self.files[id.0 as usize]
    }
}

/// Lines longer than this (in bytes) are not drawn. miette pads to a
/// label's column with a format width, which panics past 65,535 columns
/// (a finding at the end of a 10 MB line crashed the report), and a long
/// line copied into every snippet near it buries the report. A finding
/// near such a line gives its location in words instead.
const MAX_DRAWN_LINE: usize = 4096;

/// A source text with its line starts, for miette.
///
/// miette's own `SourceCode` for a string finds a span by scanning the text
/// from its first byte, for every label of every diagnostic: 500 findings
/// in a 27 MB program took a minute to print. This one finds the lines
/// around a span by binary search and lets miette scan only those, with
/// the same result (line numbers and offsets stay those of the whole text).
struct IndexedSource {
    name: String,
    text: Vec<u8>,
    /// Where each line starts, with miette's line breaks (`\n`, `\r\n`
    /// and a lone `\r`), so line numbers agree with its own count.
    line_starts: Vec<usize>,
}

impl IndexedSource {
    fn new(name: String, text: Vec<u8>) -> Self {
        let mut line_starts = vec![0];
        let mut i = 0;
        while i < text.len() {
            match text[i] {
                b'\r' if text.get(i + 1) == Some(&b'\n') => {
                    i += 1;
                    line_starts.push(i + 1);
                }
                b'\r' | b'\n' => line_starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        IndexedSource {
            name,
            text,
            line_starts,
        }
    }

    /// Whether a line around `span` (its own and the context lines miette
    /// draws) is longer than [`MAX_DRAWN_LINE`].
    fn long_line_near(&self, span: Span, context: usize) -> bool {
        let first = self.line_of(span.start as usize).saturating_sub(context);
        let last = self.line_of(span.end as usize) + context;
        (first..=last.min(self.line_starts.len() - 1)).any(|i| {
            let end = self
                .line_starts
                .get(i + 1)
                .copied()
                .unwrap_or(self.text.len());
            end - self.line_starts[i] > MAX_DRAWN_LINE
        })
    }

    /// The 0-based line holding byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }
}

impl SourceCode for IndexedSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // A window of whole lines: the context before, the span, and more
        // than the context after (miette stops there on its own).
        let first = self
            .line_of(span.offset())
            .saturating_sub(context_lines_before);
        let last = self.line_of(span.offset() + span.len()) + context_lines_after + 2;
        let start = self.line_starts[first];
        let end = self
            .line_starts
            .get(last)
            .copied()
            .unwrap_or(self.text.len());
        let window = &self.text[start..end];
        let local = SourceSpan::new(span.offset().saturating_sub(start).into(), span.len());
        let found = window.read_span(&local, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            found.data(),
            SourceSpan::new((found.span().offset() + start).into(), found.span().len()),
            found.line() + first,
            found.column(),
            found.line_count() + first,
        )))
    }
}

/// One diagnostic in miette's terms, borrowing the (masked) source it points into.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: Option<&'a dyn SourceCode>,
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
        self.source
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
    let source = masked.get(file);
    let drawn = !std::iter::once(d.primary.span)
        .chain(
            d.secondary
                .iter()
                .map(|l| l.span)
                .filter(|s| s.file == file),
        )
        .any(|s| source.long_line_near(s, CONTEXT_LINES));
    if !drawn {
        notes.insert(
            0,
            format!(
                "note: at {} (a line there is too long to show)",
                location(sources, d.primary.span)
            ),
        );
    }
    let help = match (&d.help, notes.is_empty()) {
        (Some(h), true) => Some(h.clone()),
        (Some(h), false) => Some(format!("{h}\n{}", notes.join("\n"))),
        (None, false) => Some(notes.join("\n")),
        (None, true) => None,
    };
    Report {
        diagnostic: d,
        source: drawn.then_some(source as &dyn SourceCode),
        labels,
        help,
        code: format!("{}({})", d.code.code(), d.code.name()),
    }
}

/// Lines drawn before and after a label (miette's default).
const CONTEXT_LINES: usize = 1;

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
        .with_links(false)
        .with_context_lines(CONTEXT_LINES);
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
            "artifactLocation": { "uri": uri_reference(&r.file) },
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

/// A file name as the URI reference SARIF's `artifactLocation.uri` must
/// be (RFC 3986): every byte but the unreserved characters and `/`
/// percent-encoded, so a space, `#`, `?`, `%`, `:` or non-ASCII name
/// stays one path (a `:` in the first segment would read as a scheme).
fn uri_reference(file: &str) -> String {
    use std::fmt::Write;
    let mut uri = String::with_capacity(file.len());
    for b in file.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            uri.push(char::from(b));
        } else {
            let _ = write!(uri, "%{b:02X}");
        }
    }
    uri
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Code;

    /// The indexed source renders exactly as miette's own scan of the
    /// whole text: labels near the start and the end, labels whose
    /// contexts merge, and every kind of line break.
    #[test]
    fn indexed_source_renders_as_the_whole_text_does() {
        let mut text = String::new();
        for i in 0..60 {
            let brk = ["\n", "\r\n", "\r"][i % 3];
            text.push_str(&format!("line {i} service s{i} {{ port 80 public }}{brk}"));
        }
        let mut sources = Sources::new();
        let id = sources.add("t.inf", text.clone());
        let at = |needle: &str| {
            let start = text.find(needle).expect("in the text");
            Span::new(id, start, start + needle.len())
        };
        let diagnostics = [
            Diagnostic::new(Code::DataExposed, at("s0 "), "first").label("here"),
            Diagnostic::new(Code::DataExposed, at("s30 "), "middle")
                .label("here")
                .secondary(at("s31 "), "merged context")
                .secondary(at("s50 "), "far context"),
            Diagnostic::new(Code::DataExposed, at("s59 "), "last").label("here"),
            Diagnostic::new(
                Code::DataExposed,
                Span::new(id, text.len(), text.len()),
                "at the end",
            ),
        ];
        let whole = miette::NamedSource::new("t.inf", text.clone());
        let indexed = IndexedSource::new("t.inf".into(), text.clone().into_bytes());
        let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(80)
            .with_links(false);
        let masked = MaskedSources::new(&sources, &[]);
        for d in &diagnostics {
            let render = |source: &dyn SourceCode| {
                let mut r = report(d, &sources, &masked);
                r.source = Some(source);
                let mut out = String::new();
                handler.render_report(&mut out, &r).expect("renders");
                out
            };
            assert_eq!(render(&indexed), render(&whole), "{}", d.message);
        }
    }
}
