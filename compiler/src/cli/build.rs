//! `infrac build FILE --target T [-o DIR] [--stdout]`: check, then write the
//! target's files.
//!
//! The contract: nothing is written when checking or building finds an
//! error; otherwise every file is written into a fresh temporary directory
//! beside DIR, which then replaces DIR in one rename. A run that fails at
//! any point leaves DIR as it was. DIR is only ever replaced when it holds
//! nothing but what infrac wrote there (see [`super::write`]).

use super::output::{errln, outln};
use std::path::PathBuf;

use super::{Color, Outcome};
use crate::backend::{self, Artifact};
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

/// One build's findings and files, before anything is written.
pub(super) struct Built {
    pub sources: crate::source::Sources,
    pub diagnostics: Vec<Diagnostic>,
    pub redactions: Vec<crate::span::Span>,
    pub artifacts: Vec<Artifact>,
    pub sound: bool,
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
    write(&args, &built)
}

/// Compiles and emits every target: the files, and what was found.
pub(super) fn build(args: &Args) -> Result<Built, Outcome> {
    let checked = super::compile(&args.file)?;
    let mut diagnostics: Vec<Diagnostic> = checked.diagnostics;
    let sources = checked.sources;
    let mut artifacts: Vec<Artifact> = Vec::new();
    if let Some(model) = &checked.model {
        let options = backend::Options {
            project: super::project_of(&args.file, None, false),
            source: args.file.display().to_string(),
        };
        // Serially, on purpose: a thread per target cut user time by a
        // fifth but held every target's tree at once (peak memory 200 MB
        // to 380 MB at 10,000 services) and its arenas' page faults added
        // more system time than it saved (the performance page).
        let results = args
            .target
            .0
            .iter()
            .copied()
            .map(|t| backend::emit(model, t, &options));
        for (files, mut found) in results {
            artifacts.extend(files);
            diagnostics.append(&mut found);
        }
    }
    // Targets may share a file (compose and swarm both write the
    // compose-lint exclusions); it is the same file, written once.
    // Hashing the bytes of each path, not its components (`Path`'s hash
    // splits it), and without a copy of each.
    let keep: Vec<bool> = {
        let mut seen = std::collections::HashSet::new();
        artifacts
            .iter()
            .map(|a| seen.insert(a.path.as_os_str().as_encoded_bytes()))
            .collect()
    };
    let mut keep = keep.into_iter();
    artifacts.retain(|_| keep.next().unwrap_or(true));
    crate::diagnostics::sort_and_dedup(&mut diagnostics);
    Ok(Built {
        sources,
        diagnostics,
        redactions: checked.redactions,
        artifacts,
        sound: checked.model.is_some(),
    })
}

/// Writes a build's files, unless it found errors (or warnings under
/// `--deny-warnings`): then nothing is written.
pub(super) fn write(args: &Args, built: &Built) -> Outcome {
    let tally = Tally::of(&built.diagnostics);
    let artifacts = &built.artifacts;
    let failed = tally.errors > 0 || (args.deny_warnings && tally.warnings > 0) || !built.sound;
    if failed {
        errln!(
            "build failed: {} error(s), {} warning(s); nothing was written",
            tally.errors,
            tally.warnings
        );
        return Outcome::Findings;
    }
    if args.stdout {
        let many = artifacts.len() > 1;
        for a in artifacts {
            if many {
                outln!("# ---- {}", a.path.display());
            }
            super::output::stdout(&a.contents);
        }
        return Outcome::Clean;
    }
    super::write::write_and_say(&args.output, artifacts, &[&args.file], |bytes| {
        format!(
            "built {} file(s), {bytes} bytes, into {} ({} warning(s))",
            artifacts.len(),
            args.output.display(),
            tally.warnings
        )
    })
}
