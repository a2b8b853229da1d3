//! `infrac build FILE --target T [-o DIR] [--stdout]`: check, then write the
//! target's files.
//!
//! The contract: nothing is written when checking or building finds an
//! error; otherwise every file is written into a fresh temporary directory
//! beside DIR, which then replaces DIR in one rename. A run that fails at
//! any point leaves DIR as it was. DIR is only ever replaced when it is
//! absent, empty, or was written by infrac (it holds `.infrac-output`).

use std::fs;
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use super::{Color, Outcome};
use crate::backend::{self, Artifact, Target};
use crate::check;
use crate::diagnostics::{Diagnostic, Tally};

/// The file that marks a directory as infrac's to replace.
const MARKER: &str = ".infrac-output";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The program to build.
    pub file: PathBuf,
    /// What to generate.
    #[arg(long, short, value_enum)]
    pub target: TargetArg,
    /// The output directory.
    #[arg(long, short, default_value = "out")]
    pub output: PathBuf,
    /// Print the generated files to stdout instead of writing them.
    #[arg(long)]
    pub stdout: bool,
    /// Treat warnings as errors.
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetArg {
    Compose,
    Swarm,
    K8s,
    Terraform,
    All,
}

impl TargetArg {
    fn targets(self) -> Vec<Target> {
        match self {
            TargetArg::Compose => vec![Target::Compose],
            TargetArg::Swarm => vec![Target::Swarm],
            TargetArg::K8s => vec![Target::K8s],
            TargetArg::Terraform => vec![Target::Terraform],
            TargetArg::All => Target::ALL.to_vec(),
        }
    }
}

pub fn run(args: Args, color: Color) -> Outcome {
    let (mut sources, id) = match super::load(&args.file) {
        Ok(loaded) => loaded,
        Err(outcome) => return outcome,
    };
    let checked = check::check(&mut sources, id);
    let mut diagnostics: Vec<Diagnostic> = checked.diagnostics;
    let mut artifacts: Vec<Artifact> = Vec::new();
    if let Some(model) = &checked.model {
        let options = backend::Options {
            project: project_of(&args.file),
            // Relative to the output where that makes sense: a header
            // never spells out the machine's directories.
            source: std::env::current_dir()
                .map(|cwd| crate::comment::source_for_output(&args.file, &cwd.join(&args.output)))
                .unwrap_or_else(|_| args.file.clone())
                .display()
                .to_string(),
        };
        // Serially, on purpose: a thread per target cut user time by a
        // fifth but held every target's tree at once (peak memory 200 MB
        // to 380 MB at 10,000 services) and its arenas' page faults added
        // more system time than it saved (the performance page).
        let results = args
            .target
            .targets()
            .into_iter()
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
    let tally = Tally::of(&diagnostics);
    super::eprint_report(&diagnostics, &sources, &checked.redactions, color);
    let failed =
        tally.errors > 0 || (args.deny_warnings && tally.warnings > 0) || checked.model.is_none();
    if failed {
        eprintln!(
            "build failed: {} error(s), {} warning(s); nothing was written",
            tally.errors, tally.warnings
        );
        return Outcome::Findings;
    }
    if args.stdout {
        let many = artifacts.len() > 1;
        for a in &artifacts {
            if many {
                println!("# ---- {}", a.path.display());
            }
            print!("{}", a.contents);
        }
        return Outcome::Clean;
    }
    match write_atomically(&args.output, &artifacts) {
        Ok(bytes) => {
            eprintln!(
                "built {} file(s), {bytes} bytes, into {} ({} warning(s))",
                artifacts.len(),
                args.output.display(),
                tally.warnings
            );
            Outcome::Clean
        }
        Err(e) => {
            eprintln!("error: {e}");
            Outcome::UsageOrIo
        }
    }
}

/// The project name: the program's directory for `main.inf`, else its stem.
fn project_of(file: &Path) -> String {
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("infra");
    let raw = if stem == "main" {
        fs::canonicalize(file)
            .ok()
            .and_then(|p| p.parent()?.file_name()?.to_str().map(str::to_string))
            .unwrap_or_else(|| stem.to_string())
    } else {
        stem.to_string()
    };
    backend::project_name(&raw)
}

/// Writes `artifacts` under `dir`, replacing it whole; returns the bytes written.
pub fn write_atomically(dir: &Path, artifacts: &[Artifact]) -> Result<usize, String> {
    if dir.exists() {
        let replaceable = dir.is_dir()
            && (dir.join(MARKER).is_file()
                || fs::read_dir(dir)
                    .map(|mut d| d.next().is_none())
                    .unwrap_or(false));
        if !replaceable {
            return Err(format!(
                "refusing to replace {}: it exists and was not written by infrac (no {MARKER} in it); choose another directory with -o",
                dir.display()
            ));
        }
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".infrac-build-")
        .tempdir_in(&parent)
        .map_err(|e| {
            format!(
                "cannot create a temporary directory in {}: {e}",
                parent.display()
            )
        })?;
    let mut bytes = 0;
    // Each directory is created once: 60,000 manifests share `k8s/`, and
    // asking for it again costs a failed mkdir and a stat per file.
    let mut made: Vec<PathBuf> = Vec::new();
    for a in artifacts {
        let path = staging.path().join(&a.path);
        if let Some(p) = path.parent() {
            // A handful of directories: a list beats hashing a path.
            if !made.iter().any(|m| m.as_os_str() == p.as_os_str()) {
                fs::create_dir_all(p).map_err(|e| format!("cannot create {}: {e}", p.display()))?;
                made.push(p.to_path_buf());
            }
        }
        // Named as it would be in DIR: the staging directory is gone by
        // the time the user reads this.
        fs::write(&path, &a.contents).map_err(|e| {
            format!(
                "cannot write {}: {e}; {} was left as it was",
                dir.join(&a.path).display(),
                dir.display()
            )
        })?;
        bytes += a.contents.len();
    }
    fs::write(
        staging.path().join(MARKER),
        "This directory is written by `infrac build` and replaced whole on every build.\n",
    )
    .map_err(|e| format!("cannot write the marker file: {e}"))?;
    // Swap: move the old output aside, move the new one in, drop the old.
    let old = if dir.exists() {
        let aside = tempfile::Builder::new()
            .prefix(".infrac-old-")
            .tempdir_in(&parent)
            .map_err(|e| {
                format!(
                    "cannot create a temporary directory in {}: {e}",
                    parent.display()
                )
            })?;
        let aside_path = aside.path().join("old");
        fs::rename(dir, &aside_path)
            .map_err(|e| format!("cannot move {} aside: {e}", dir.display()))?;
        Some(aside)
    } else {
        None
    };
    let staged = staging.keep();
    if let Err(e) = fs::rename(&staged, dir) {
        // Put the old output back; the new one is dropped.
        if let Some(aside) = &old {
            let _ = fs::rename(aside.path().join("old"), dir);
        }
        let _ = fs::remove_dir_all(&staged);
        return Err(format!(
            "cannot move the new output into {}: {e}",
            dir.display()
        ));
    }
    drop(old); // removes the previous output
    Ok(bytes)
}
