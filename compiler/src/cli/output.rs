//! The one way the CLI writes to the terminal: every byte for stdout or
//! stderr goes through here ([`stdout`], [`stderr`] and the `outln!`,
//! `err!` and `errln!` macros), never through `print!` or `println!`, which panic when the
//! stream cannot be written.
//!
//! A failed write is remembered, not raised: the first failure of each
//! stream stops further writes to it, and [`finish`] turns it into the
//! process's exit code once the command is done.
//!
//! - A **broken pipe** (the reader went away: `infrac build --stdout |
//!   head -c1`) ends quietly, as `git` does: no message, and the exit
//!   code is the command's own (0 for a clean run; a check that found
//!   errors still exits 1, so a reader that stopped early never turns a
//!   rejected program into an accepted one).
//! - **Any other write error** (`>/dev/full`: the disk is full) is an IO
//!   error: one line on stderr, when stderr can still take it, and exit 2.

use std::io::{ErrorKind, Write};
use std::sync::Mutex;

use super::Outcome;

/// Which stream a write went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// The first write error of each stream (stdout, stderr).
static FAILED: Mutex<[Option<std::io::Error>; 2]> = Mutex::new([None, None]);

fn write(stream: Stream, bytes: &[u8]) {
    let slot = stream as usize;
    let mut failed = FAILED.lock().unwrap_or_else(|e| e.into_inner());
    if failed[slot].is_some() {
        return;
    }
    let result = match stream {
        Stream::Stdout => std::io::stdout().lock().write_all(bytes),
        Stream::Stderr => std::io::stderr().lock().write_all(bytes),
    };
    if let Err(e) = result {
        failed[slot] = Some(e);
    }
}

/// Writes `text` to stdout.
pub(crate) fn stdout(text: &str) {
    write(Stream::Stdout, text.as_bytes());
}

/// Writes `text` to stderr.
pub(crate) fn stderr(text: &str) {
    write(Stream::Stderr, text.as_bytes());
}

/// Flushes stdout (what is still buffered can fail too) and gives the exit
/// code: the command's `outcome`, unless a write failed with something
/// other than a broken pipe.
pub(crate) fn finish(outcome: Outcome) -> Outcome {
    if let Err(e) = std::io::stdout().lock().flush() {
        let mut failed = FAILED.lock().unwrap_or_else(|e| e.into_inner());
        failed[Stream::Stdout as usize].get_or_insert(e);
    }
    let failed = FAILED.lock().unwrap_or_else(|e| e.into_inner());
    let mut code = outcome;
    for (stream, error) in [Stream::Stdout, Stream::Stderr].iter().zip(failed.iter()) {
        let Some(error) = error else { continue };
        if error.kind() == ErrorKind::BrokenPipe {
            continue;
        }
        code = Outcome::UsageOrIo;
        if *stream == Stream::Stdout && failed[Stream::Stderr as usize].is_none() {
            // The one line; if stderr cannot take it either, the exit code
            // is all that is left to say it.
            let _ = writeln!(
                std::io::stderr(),
                "error: cannot write to {}: {error}",
                stream.name()
            );
        }
    }
    code
}

/// `println!` through the output layer.
macro_rules! outln {
    () => { $crate::cli::output::stdout("\n") };
    ($($arg:tt)*) => { $crate::cli::output::stdout(&format!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!` through the output layer.
macro_rules! err {
    ($($arg:tt)*) => { $crate::cli::output::stderr(&format!($($arg)*)) };
}

/// `eprintln!` through the output layer.
macro_rules! errln {
    ($($arg:tt)*) => { $crate::cli::output::stderr(&format!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {err, errln, outln};
