//! `infrac check FILE...`: check each program and report every finding.

use super::output::{errln, outln};
use std::path::PathBuf;

use clap::ValueEnum;

use super::{Color, Outcome};
use crate::diagnostics::{render, Diagnostic, Tally};
use crate::loader::FsLoader;
use crate::source::Sources;

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

pub fn run(args: Args, color: Color) -> Outcome {
    let mut sources = Sources::new();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut redactions = Vec::new();
    for path in &args.files {
        let checked = match crate::compile::compile_in(&FsLoader, sources, path) {
            Ok(compiled) => compiled,
            Err(e) => return super::unreadable(e),
        };
        sources = checked.sources;
        diagnostics.extend(checked.diagnostics);
        redactions.extend(checked.redactions);
    }
    crate::diagnostics::sort_and_dedup(&mut diagnostics);
    let tally = Tally::of(&diagnostics);
    match args.format {
        Format::Human => {
            super::eprint_report(&diagnostics, &sources, &redactions, color);
            errln!("{}", summary(tally, args.files.len()));
        }
        Format::Json => outln!("{}", render::json(&diagnostics, &sources)),
        Format::Sarif => outln!(
            "{}",
            render::sarif(&diagnostics, &sources, args.book_url.as_deref())
        ),
    }
    if tally.errors > 0 || (args.deny_warnings && tally.warnings > 0) {
        Outcome::Findings
    } else {
        Outcome::Clean
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn summary(tally: Tally, files: usize) -> String {
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
