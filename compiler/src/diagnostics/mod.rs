//! Findings and how they are reported.
//!
//! Every error and warning of every phase is a [`Diagnostic`]: a [`Code`]
//! from the permanent catalogue, a message, a primary label on the text that
//! causes it, secondary labels (for exposure findings: the route chain that
//! widened the reach) and a help line whenever the fix is knowable.
//! [`render`] turns them into miette's graphical report, JSON or SARIF.

pub mod codes;
pub mod render;

pub use codes::{Code, Severity, Waivable};

use crate::span::Span;

/// A span with the text shown under it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// A finding that was waived with `allow NAME "reason"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Waiver {
    pub reason: String,
    /// The `allow` statement.
    pub span: Span,
}

/// One finding. Build it with [`Diagnostic::new`] and the chained setters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{message}")]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    pub notes: Vec<String>,
    /// Set when an `allow` accepted this finding; it then no longer counts
    /// as an error or warning but is still listed.
    pub waived: Option<Waiver>,
}

impl Diagnostic {
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            primary: Label {
                span,
                message: String::new(),
            },
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
            waived: None,
        }
    }

    /// The text under the primary span.
    pub fn label(mut self, message: impl Into<String>) -> Self {
        self.primary.message = message.into();
        self
    }

    pub fn secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// The severity this finding counts with: `None` once waived.
    pub fn effective_severity(&self) -> Option<Severity> {
        match self.waived {
            Some(_) => None,
            None => Some(self.code.severity()),
        }
    }

    pub fn is_error(&self) -> bool {
        self.effective_severity() == Some(Severity::Error)
    }

    pub fn is_warning(&self) -> bool {
        self.effective_severity() == Some(Severity::Warning)
    }
}

/// Puts diagnostics in report order (file, offset, code) and drops exact
/// repeats, so every output is stable whatever order the phases found them in.
pub fn sort_and_dedup(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| {
        (
            a.primary.span.file,
            a.primary.span.start,
            a.code,
            &a.message,
        )
            .cmp(&(
                b.primary.span.file,
                b.primary.span.start,
                b.code,
                &b.message,
            ))
    });
    diagnostics.dedup();
}

/// Counts of what a compilation found, for the summary line and exit code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub errors: usize,
    pub warnings: usize,
    pub waived: usize,
}

impl Tally {
    pub fn of(diagnostics: &[Diagnostic]) -> Tally {
        let mut tally = Tally::default();
        for d in diagnostics {
            match d.effective_severity() {
                Some(Severity::Error) => tally.errors += 1,
                Some(Severity::Warning) => tally.warnings += 1,
                None => tally.waived += 1,
            }
        }
        tally
    }
}
