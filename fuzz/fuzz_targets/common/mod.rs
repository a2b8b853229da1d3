//! What the fuzz targets share: the checks every diagnostic must pass,
//! whatever input produced it.
#![allow(dead_code)]

use infrac::diagnostics::render::{self, HumanStyle};
use infrac::diagnostics::Diagnostic;
use infrac::source::Sources;
use infrac::span::Span;

/// Every label of every diagnostic points into a known file, inside its
/// text, on character boundaries: a span that does not is a bug even when
/// the renderer happens to cope with it.
pub fn assert_spans(diagnostics: &[Diagnostic], sources: &Sources) {
    for d in diagnostics {
        let labels = std::iter::once(&d.primary).chain(&d.secondary);
        for span in labels
            .map(|l| l.span)
            .chain(d.waived.as_ref().map(|w| w.span))
        {
            assert_span(span, sources, d);
        }
    }
}

fn assert_span(span: Span, sources: &Sources, d: &Diagnostic) {
    let known = sources.iter().any(|(id, _)| id == span.file);
    assert!(known, "{:?}: span in an unknown file: {span:?}", d.code);
    let text = &sources.get(span.file).text;
    assert!(
        span.start <= span.end && span.end as usize <= text.len(),
        "{:?} {:?}: span {span:?} outside a text of {} bytes",
        d.code,
        d.message,
        text.len()
    );
    assert!(
        text.is_char_boundary(span.start as usize) && text.is_char_boundary(span.end as usize),
        "{:?} {:?}: span {span:?} splits a character",
        d.code,
        d.message
    );
}

/// Renders the diagnostics every way the CLI can: the human report with
/// and without colour, at a narrow and a normal width, JSON and SARIF.
pub fn render_all(diagnostics: &[Diagnostic], sources: &Sources, redactions: &[Span]) {
    for (color, width) in [(false, 80), (true, 20)] {
        let _ = render::human(
            diagnostics,
            sources,
            redactions,
            HumanStyle { color, width },
        );
    }
    let _ = render::json(diagnostics, sources);
    let _ = render::sarif(diagnostics, sources, Some("https://example.invalid/book"));
}
