//! `check --watch` and `build --watch`: the same run again whenever a
//! program changes, printing only what changed in the findings (the new
//! ones in full, the fixed ones in a line each) and the summary.
//!
//! The directories holding the programs are watched, not the files:
//! editors save by writing a new file and renaming it over the old one,
//! which ends a watch on the old file. Events are debounced (a save is
//! several events) by `notify-debouncer-mini`. A build writes through the
//! atomic writer as `build` does: a rebuild that finds errors leaves the
//! previous output as it was.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use notify_debouncer_mini::{new_debouncer, notify::RecursiveMode};

use super::output::errln;
use super::{build, check, Color, Outcome};
use crate::diagnostics::{Diagnostic, Tally};
use crate::source::Sources;

/// How long a burst of events must be quiet before a run.
const DEBOUNCE: Duration = Duration::from_millis(100);

/// What identifies a finding from one run to the next: where it is (file,
/// line, column), its code and its message.
type Key = (String, usize, usize, &'static str, String);

fn key(d: &Diagnostic, sources: &Sources) -> Key {
    let file = sources.get(d.primary.span.file);
    let (line, column) = file.line_col(d.primary.span.start as usize);
    (
        file.name.clone(),
        line,
        column,
        d.code.code(),
        d.message.clone(),
    )
}

/// The findings of this run that the last did not have, and a line for
/// each of the last run's that is gone.
fn changes(
    last: &BTreeSet<Key>,
    diagnostics: &[Diagnostic],
    sources: &Sources,
) -> (BTreeSet<Key>, Vec<Diagnostic>, Vec<String>) {
    let now: BTreeSet<Key> = diagnostics.iter().map(|d| key(d, sources)).collect();
    let new = diagnostics
        .iter()
        .filter(|d| !last.contains(&key(d, sources)))
        .cloned()
        .collect();
    let gone = last
        .difference(&now)
        .map(|(file, line, column, code, message)| {
            format!("fixed: {code} {file}:{line}:{column}: {message}")
        })
        .collect();
    (now, new, gone)
}

pub fn check(args: &check::Args, color: Color) -> Outcome {
    let mut last = BTreeSet::new();
    watch(&args.files, || {
        let checked = match check::check(args) {
            Ok(checked) => checked,
            Err(outcome) => return outcome,
        };
        let (now, new, gone) = changes(&last, &checked.diagnostics, &checked.sources);
        last = now;
        check::report(args, &checked, &new, color);
        for line in gone {
            errln!("{line}");
        }
        let tally = Tally::of(&checked.diagnostics);
        errln!("{}", check::summary(tally, args.files.len()));
        check::outcome(args, tally)
    })
}

pub fn build(args: &build::Args, color: Color) -> Outcome {
    let mut last = BTreeSet::new();
    watch(std::slice::from_ref(&args.file), || {
        let built = match build::build(args) {
            Ok(built) => built,
            Err(outcome) => return outcome,
        };
        let (now, new, gone) = changes(&last, &built.diagnostics, &built.sources);
        last = now;
        super::eprint_report(&new, &built.sources, &built.redactions, color);
        for line in gone {
            errln!("{line}");
        }
        build::write(args, built)
    })
}

/// Runs `run` now and after every change to one of `files`, until the
/// watch itself fails (the process is ended by the user).
fn watch(files: &[PathBuf], mut run: impl FnMut() -> Outcome) -> Outcome {
    let (tx, rx) = mpsc::channel();
    let mut debouncer = match new_debouncer(DEBOUNCE, tx) {
        Ok(d) => d,
        Err(e) => return watch_failed(&e),
    };
    let wanted: Vec<PathBuf> = files.iter().map(|f| absolute(f)).collect();
    let mut dirs: Vec<PathBuf> = wanted
        .iter()
        .map(|f| {
            f.parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in &dirs {
        if let Err(e) = debouncer.watcher().watch(dir, RecursiveMode::NonRecursive) {
            return watch_failed(&e);
        }
    }
    let mut last = contents(&wanted);
    run();
    errln!(
        "watching {} for changes (Ctrl-C ends)",
        plural_files(files.len())
    );
    for result in rx {
        match result {
            Ok(events) => {
                if !events.iter().any(|e| wanted.contains(&absolute(&e.path))) {
                    continue;
                }
                let now = contents(&wanted);
                // Reading a file is an event too (inotify reports opens
                // and closes), as is a save that changed nothing: only new
                // contents are a change.
                if now == last {
                    continue;
                }
                // A file written in place is empty between its truncation
                // and its write (which may come much later on a loaded
                // machine): an empty program waits for the write's event.
                if now.iter().any(|c| c.as_deref() == Some(&[][..])) {
                    continue;
                }
                last = now;
                errln!("--- changed, checking again");
                run();
            }
            Err(e) => return watch_failed(&e),
        }
    }
    Outcome::Clean
}

/// The bytes of each file, `None` where it cannot be read.
fn contents(files: &[PathBuf]) -> Vec<Option<Vec<u8>>> {
    use crate::loader::{FsLoader, Loader, MAX_FILE};
    files
        .iter()
        .map(|f| FsLoader.read(f, MAX_FILE).ok())
        .collect()
}

fn plural_files(n: usize) -> String {
    match n {
        1 => "1 file".to_string(),
        n => format!("{n} files"),
    }
}

/// `path` made absolute lexically (a removed file cannot be canonicalised).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn watch_failed(e: &dyn std::fmt::Display) -> Outcome {
    errln!("error: cannot watch for changes: {e}");
    Outcome::UsageOrIo
}
