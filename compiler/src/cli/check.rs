//! `infrac check FILE...`: check each program and report every finding.
//!
//! With `--target T`, also what `build --target T` would refuse or
//! narrow (a level the target cannot enforce, a name too long for it):
//! the target's own findings, without writing anything. With `--watch`,
//! again on every change ([`super::watch`]).

use super::output::{errln, outln};
use std::path::PathBuf;

use clap::ValueEnum;

use super::{Color, Outcome};
use crate::backend;
use crate::diagnostics::{render, Diagnostic, Tally};
use crate::loader::FsLoader;
use crate::source::Sources;
use crate::span::Span;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The programs to check (`.inf` files).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// How to print findings.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Treat warnings as errors for the exit code.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Base address of the published book, for SARIF `helpUri`s.
    #[arg(long, value_name = "URL")]
    pub book_url: Option<String>,
    /// Also report what building for this target (or `all`) would refuse.
    #[arg(long, short, value_parser = super::targets(true))]
    pub target: Option<super::Targets>,
    /// List the findings the stdlib's templates waive, not only count them.
    #[arg(long)]
    pub show_waived: bool,
    /// Check again whenever a program changes, printing what changed.
    #[arg(long)]
    pub watch: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

/// What checking every file found.
pub(super) struct Checked {
    pub sources: Sources,
    pub diagnostics: Vec<Diagnostic>,
    pub redactions: Vec<Span>,
}

pub fn run(args: Args, color: Color) -> Outcome {
    if args.watch {
        return super::watch::check(&args, color);
    }
    let checked = match check(&args) {
        Ok(checked) => checked,
        Err(outcome) => return outcome,
    };
    let tally = Tally::of(&checked.diagnostics);
    match args.format {
        Format::Human => {
            report(&args, &checked, &checked.diagnostics, color);
            errln!("{}", summary(tally, args.files.len()));
        }
        Format::Json => outln!("{}", render::json(&checked.diagnostics, &checked.sources)),
        Format::Sarif => outln!(
            "{}",
            render::sarif(
                &checked.diagnostics,
                &checked.sources,
                args.book_url.as_deref()
            )
        ),
    }
    outcome(&args, tally)
}

pub(super) fn outcome(args: &Args, tally: Tally) -> Outcome {
    if tally.errors > 0 || (args.deny_warnings && tally.warnings > 0) {
        Outcome::Findings
    } else {
        Outcome::Clean
    }
}

/// Compiles every file (and emits for `--target`, keeping only findings).
pub(super) fn check(args: &Args) -> Result<Checked, Outcome> {
    let mut sources = Sources::new();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut redactions = Vec::new();
    for path in &args.files {
        let checked = match crate::compile::compile_in(&FsLoader, sources, path) {
            Ok(compiled) => compiled,
            Err(e) => return Err(super::unreadable(e)),
        };
        sources = checked.sources;
        diagnostics.extend(checked.diagnostics);
        redactions.extend(checked.redactions);
        // A program with errors has no model to emit: its errors already
        // fail the check, as they would fail the build.
        if let (Some(targets), Some(model)) = (&args.target, &checked.model) {
            let options = backend::Options {
                project: super::project_of(path, None, false),
                source: path.display().to_string(),
            };
            for target in &targets.0 {
                let found = backend::emit_into(model, *target, &options, &mut backend::Discard);
                diagnostics.extend(found);
            }
        }
    }
    crate::diagnostics::sort_and_dedup(&mut diagnostics);
    Ok(Checked {
        sources,
        diagnostics,
        redactions,
    })
}

/// Whether `d` was waived by an `allow` of a stdlib template.
fn waived_by_stdlib(d: &Diagnostic, sources: &Sources) -> bool {
    d.waived
        .as_ref()
        .is_some_and(|w| sources.get(w.span.file).name.starts_with("std/"))
}

/// The human report of `shown` (all or some of `checked`'s findings): the
/// findings the stdlib waived are counted in one line unless
/// `--show-waived` asks for them.
pub(super) fn report(args: &Args, checked: &Checked, shown: &[Diagnostic], color: Color) {
    let (hidden, listed): (Vec<&Diagnostic>, Vec<&Diagnostic>) = shown
        .iter()
        .partition(|d| !args.show_waived && waived_by_stdlib(d, &checked.sources));
    let listed: Vec<Diagnostic> = listed.into_iter().cloned().collect();
    super::eprint_report(&listed, &checked.sources, &checked.redactions, color);
    if !hidden.is_empty() {
        errln!("{}", stdlib_waivers(&hidden));
    }
}

/// "3 findings waived by the stdlib's templates (sensitive-host-mount
/// ×3); --show-waived lists them".
fn stdlib_waivers(hidden: &[&Diagnostic]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for d in hidden {
        match counts.iter_mut().find(|(n, _)| *n == d.code.name()) {
            Some((_, n)) => *n += 1,
            None => counts.push((d.code.name(), 1)),
        }
    }
    let list: Vec<String> = counts
        .iter()
        .map(|(name, n)| match n {
            1 => name.to_string(),
            n => format!("{name} ×{n}"),
        })
        .collect();
    format!(
        "{} waived by the stdlib's templates ({}); --show-waived lists them",
        plural(hidden.len(), "finding"),
        list.join(", ")
    )
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

pub(super) fn summary(tally: Tally, files: usize) -> String {
    let checked = plural(files, "file");
    let mut parts = vec![
        plural(tally.errors, "error"),
        plural(tally.warnings, "warning"),
    ];
    if tally.waived > 0 {
        parts.push(format!("{} waived", tally.waived));
    }
    let verdict = if tally.errors > 0 { "failed" } else { "ok" };
    format!("check {verdict}: {checked}, {}", parts.join(", "))
}
