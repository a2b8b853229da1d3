//! Turns diagnostics into text for people (miette's graphical report) or for
//! tools (JSON, SARIF 2.1.0). Rendering never sees a secret's value: spans
//! listed as redactions are masked in the source text before any snippet is
//! drawn.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
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
    files: Vec<NamedSource<Indexed>>,
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
                NamedSource::new(file.name.clone(), Indexed::new(text)).with_language("inf")
            })
            .collect();
        MaskedSources { files }
    }

    fn get(&self, id: FileId) -> &NamedSource<Indexed> {
        &self.files[id.0 as usize]
    }
}

/// A source text with the offsets where miette's lines start, so that
/// drawing a snippet costs the size of the snippet, not of the file.
///
/// miette's own `SourceCode for str` scans from the first byte to the
/// label on every call: a report of N findings in a file of N lines took
/// quadratic time (5,000 unknown names in one file: 8 s, found with
/// pathological inputs tried beside the fuzzers). This starts miette's
/// scan at the first line of the snippet instead and shifts what it
/// returns back to file offsets, so the output is byte for byte what
/// miette draws from the whole text.
pub struct Indexed {
    text: String,
    /// Start of every line as miette counts them: after `\n`, after
    /// `\r\n`, and after a lone `\r`.
    line_starts: Vec<usize>,
}

impl Indexed {
    fn new(text: String) -> Self {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    i += 2;
                    line_starts.push(i);
                }
                b'\r' | b'\n' => {
                    i += 1;
                    line_starts.push(i);
                }
                _ => i += 1,
            }
        }
        Indexed { text, line_starts }
    }
}

impl miette::SourceCode for Indexed {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        // The line of the span's start, and the line the snippet starts
        // on: miette would keep `context_lines_before` lines above it.
        // miette takes an empty span to end a byte before its start (on the
        // line above, when it starts a line): its scan must see that byte.
        let anchor = (span.offset() + span.len())
            .saturating_sub(1)
            .min(span.offset());
        let line = self
            .line_starts
            .partition_point(|&start| start <= anchor)
            .saturating_sub(1);
        let first = line.saturating_sub(context_lines_before);
        let base = self.line_starts[first];
        // From a line start, miette's scan sees the same lines around the
        // span as from the top of the file; it stops by itself after the
        // context lines below, so the rest of the text costs nothing.
        let shifted = SourceSpan::new((span.offset() - base).into(), span.len());
        let inner = <str as miette::SourceCode>::read_span(
            &self.text[base..],
            &shifted,
            context_lines_before,
            context_lines_after,
        )?;
        Ok(Box::new(miette::MietteSpanContents::new(
            inner.data(),
            SourceSpan::new((inner.span().offset() + base).into(), inner.span().len()),
            inner.line() + first,
            // The column is counted from a line start, and `base` is one.
            inner.column(),
            inner.line_count() + first,
        )))
    }
}

/// One diagnostic in miette's terms, borrowing the (masked) source it points into.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: &'a NamedSource<Indexed>,
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
mod tests {
    use super::*;
    use miette::SourceCode;

    /// What a snippet read returns, comparable.
    fn read(
        source: &dyn SourceCode,
        span: SourceSpan,
        before: usize,
        after: usize,
    ) -> Option<(Vec<u8>, SourceSpan, usize, usize, usize)> {
        let c = source.read_span(&span, before, after).ok()?;
        Some((
            c.data().to_vec(),
            *c.span(),
            c.line(),
            c.column(),
            c.line_count(),
        ))
    }

    #[test]
    fn indexed_reads_exactly_what_miette_reads_from_the_whole_text() {
        // Every kind of line end miette knows, empty lines, and a file
        // that ends without one.
        let text = "a\nbb\r\nccc\rdd\n\n\r\r\nlast line ∀ é\nx = 1";
        let indexed = Indexed::new(text.to_string());
        // Every span inside the text (the fuzz targets check that every
        // finding's span is).
        for start in 0..=text.len() {
            for len in 0..=(text.len() - start) {
                for before in 0..3 {
                    for after in 0..3 {
                        let span = SourceSpan::new(start.into(), len);
                        assert_eq!(
                            read(&indexed, span, before, after),
                            read(&text.to_string(), span, before, after),
                            "span {start}+{len}, context {before}/{after}"
                        );
                    }
                }
            }
        }
    }
}
