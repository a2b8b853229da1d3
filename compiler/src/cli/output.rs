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

/// The rules of the layer over any pair of writers: the process's stdout
/// and stderr below, and in the `output` fuzz target writers that fail,
/// write short or break at chosen points. Public for that target only.
#[doc(hidden)]
pub struct Streams<O: Write, E: Write> {
    pub out: O,
    pub err: E,
    /// The first write error of each stream (stdout, stderr).
    failed: [Option<std::io::Error>; 2],
}

impl<O: Write, E: Write> Streams<O, E> {
    pub fn new(out: O, err: E) -> Self {
        Streams {
            out,
            err,
            failed: [None, None],
        }
    }

    fn write(&mut self, stream: Stream, bytes: &[u8]) {
        let slot = stream as usize;
        if self.failed[slot].is_some() {
            return;
        }
        let result = match stream {
            Stream::Stdout => self.out.write_all(bytes),
            Stream::Stderr => self.err.write_all(bytes),
        };
        if let Err(e) = result {
            self.failed[slot] = Some(e);
        }
    }

    /// Writes `text` to stdout, unless a write to it failed before.
    pub fn stdout(&mut self, text: &str) {
        self.write(Stream::Stdout, text.as_bytes());
    }

    /// Writes `bytes` to stdout, unless a write to it failed before;
    /// whether stdout still takes writes.
    pub fn stdout_bytes(&mut self, bytes: &[u8]) -> bool {
        self.write(Stream::Stdout, bytes);
        self.failed[Stream::Stdout as usize].is_none()
    }

    /// Writes `text` to stderr, unless a write to it failed before.
    pub fn stderr(&mut self, text: &str) {
        self.write(Stream::Stderr, text.as_bytes());
    }

    /// Flushes stdout (what is still buffered can fail too) and gives the
    /// exit code: the command's `outcome`, unless a write failed with
    /// something other than a broken pipe.
    pub fn finish(&mut self, outcome: Outcome) -> Outcome {
        if self.failed[Stream::Stdout as usize].is_none() {
            if let Err(e) = self.out.flush() {
                self.failed[Stream::Stdout as usize] = Some(e);
            }
        }
        let mut code = outcome;
        for stream in [Stream::Stdout, Stream::Stderr] {
            let Some(error) = &self.failed[stream as usize] else {
                continue;
            };
            if error.kind() == ErrorKind::BrokenPipe {
                continue;
            }
            code = Outcome::UsageOrIo;
            if stream == Stream::Stdout && self.failed[Stream::Stderr as usize].is_none() {
                // The one line; if stderr cannot take it either, the exit
                // code is all that is left to say it.
                let _ = writeln!(
                    self.err,
                    "error: cannot write to {}: {error}",
                    stream.name()
                );
            }
        }
        code
    }
}

/// The process's streams. `std::io::Stdout` buffers by line and locks
/// itself; the mutex is for the failure record kept beside it.
static STREAMS: Mutex<Option<Streams<std::io::Stdout, std::io::Stderr>>> = Mutex::new(None);

fn with(f: impl FnOnce(&mut Streams<std::io::Stdout, std::io::Stderr>)) {
    let mut streams = STREAMS.lock().unwrap_or_else(|e| e.into_inner());
    f(streams.get_or_insert_with(|| Streams::new(std::io::stdout(), std::io::stderr())));
}

/// Writes `text` to stdout.
pub(crate) fn stdout(text: &str) {
    with(|s| s.stdout(text));
}

/// Writes `bytes` to stdout (a spooled build); whether stdout still
/// takes writes.
pub(crate) fn stdout_bytes(bytes: &[u8]) -> bool {
    let mut ok = false;
    with(|s| ok = s.stdout_bytes(bytes));
    ok
}

/// Writes `text` to stderr.
pub(crate) fn stderr(text: &str) {
    with(|s| s.stderr(text));
}

/// Flushes stdout and gives the exit code ([`Streams::finish`]).
pub(crate) fn finish(outcome: Outcome) -> Outcome {
    let mut code = outcome;
    with(|s| code = s.finish(outcome));
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
