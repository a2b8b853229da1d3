//! `infrac build FILE --target T [-o DIR] [--stdout]`: check, then write the
//! target's files.
//!
//! The contract: nothing is written when checking or building finds an
//! error. Each file is written as it is emitted, into a fresh temporary
//! directory beside DIR (`--stdout`: a temporary file), which replaces DIR
//! in one rename once the build is known to be clean (is copied to
//! stdout). A run that fails at
//! any point leaves DIR as it was. DIR is only ever replaced when it holds
//! nothing but what infrac wrote there (see [`super::write`]).

use super::output::errln;
use std::path::PathBuf;

use super::sink::{Output, Spool, To};
use super::write::Staged;
use super::{Color, Outcome};
use crate::backend;
use crate::diagnostics::{Diagnostic, Tally};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The program to build.
    pub file: PathBuf,
    /// What to generate: a target, or `all`.
    #[arg(long, short, value_parser = super::targets(true))]
    pub target: super::Targets,
    /// The output directory.
    #[arg(long, short, default_value = "out")]
    pub output: PathBuf,
    /// Print the generated files to stdout instead of writing them.
    #[arg(long)]
    pub stdout: bool,
    /// Treat warnings as errors.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Build again whenever the program changes, printing what changed.
    #[arg(long, conflicts_with = "stdout")]
    pub watch: bool,
}

/// One build's findings, and its files written but not yet published.
pub(super) struct Built {
    pub sources: crate::source::Sources,
    pub diagnostics: Vec<Diagnostic>,
    pub redactions: Vec<crate::span::Span>,
    pub sound: bool,
    output: To,
}

pub fn run(args: Args, color: Color) -> Outcome {
    if args.watch {
        return super::watch::build(&args, color);
    }
    let built = match build(&args) {
        Ok(built) => built,
        Err(outcome) => return outcome,
    };
    super::eprint_report(&built.diagnostics, &built.sources, &built.redactions, color);
    write(&args, built)
}

/// Whether `diagnostics` fail the build: nothing is published then.
fn fails(args: &Args, diagnostics: &[Diagnostic]) -> bool {
    let tally = Tally::of(diagnostics);
    tally.errors > 0 || (args.deny_warnings && tally.warnings > 0)
}

/// Compiles and emits every target, each file written aside as it is
/// emitted ([`super::sink`]): what was found, and the files to publish.
pub(super) fn build(args: &Args) -> Result<Built, Outcome> {
    let checked = super::compile(&args.file)?;
    let mut diagnostics: Vec<Diagnostic> = checked.diagnostics;
    let sources = checked.sources;
    let mut output = Output::new(To::Nowhere);
    if let Some(model) = &checked.model {
        // A build the check already failed is emitted for its diagnostics
        // alone: no file of it is written anywhere.
        if !fails(args, &diagnostics) {
            output = Output::new(match args.stdout {
                true => To::Stdout(Spool::new()),
                false => match Staged::begin(&args.output) {
                    Ok(staged) => To::Dir(staged),
                    Err(e) => To::Unopened(e),
                },
            });
        }
        let options = backend::Options {
            project: super::project_of(&args.file, None, false),
            source: args.file.display().to_string(),
        };
        // Serially, on purpose: a thread per target cut user time by a
        // fifth but held every target's tree at once (peak memory 200 MB
        // to 380 MB at 10,000 services) and its arenas' page faults added
        // more system time than it saved (the performance page).
        for &target in &args.target.0 {
            let mut found = backend::emit_into(model, target, &options, &mut output);
            diagnostics.append(&mut found);
        }
    }
    crate::diagnostics::sort_and_dedup(&mut diagnostics);
    Ok(Built {
        sources,
        diagnostics,
        redactions: checked.redactions,
        sound: checked.model.is_some(),
        output: output.into_inner(),
    })
}

/// Publishes a build's files, unless it found errors (or warnings under
/// `--deny-warnings`): then they are dropped, and nothing is written.
pub(super) fn write(args: &Args, built: Built) -> Outcome {
    let tally = Tally::of(&built.diagnostics);
    if fails(args, &built.diagnostics) || !built.sound {
        errln!(
            "build failed: {} error(s), {} warning(s); nothing was written",
            tally.errors,
            tally.warnings
        );
        return Outcome::Findings;
    }
    let written = match built.output {
        To::Stdout(spool) => spool.publish().map(|()| None),
        To::Dir(staged) => {
            let files = staged.files();
            staged
                .commit(&[&args.file])
                .map(|bytes| Some((files, bytes)))
        }
        To::Unopened(e) => Err(e),
        To::Nowhere => Err("the build was not emitted".to_string()),
    };
    match written {
        Ok(None) => Outcome::Clean,
        Ok(Some((files, bytes))) => {
            errln!(
                "built {files} file(s), {bytes} bytes, into {} ({} warning(s))",
                args.output.display(),
                tally.warnings
            );
            Outcome::Clean
        }
        Err(e) => {
            errln!("error: {e}");
            Outcome::UsageOrIo
        }
    }
}
