//! The CLI's output layer (`infrac::cli::Streams`, what every printing
//! command writes through) over writers that fail where the input says:
//! after some bytes, with a broken pipe, a full disk, a zero-length write
//! or another error, that take a few bytes per call, that are interrupted
//! now and then, whose flush fails (issue 15.1: every printing command
//! panicked when its stream could not be written).
//!
//! Checked against a model of the rules in `compiler/src/cli/output.rs`:
//! no panic; each stream receives a prefix of what was written to it, all
//! of it when its writer never failed; a failed writer is never called
//! again; a broken pipe keeps the command's exit code, any other failure
//! is exit 2 with one line on stderr (when stderr still takes it).
#![no_main]

use std::io::{self, ErrorKind, Write};

use infrac::cli::{Outcome, Streams};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq)]
enum Fault {
    Never,
    BrokenPipe,
    Full,
    /// `Ok(0)`: `write_all` turns it into a `WriteZero` error.
    Zero,
    Other,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct Plan {
    fault: Fault,
    /// Bytes taken before the fault.
    after: u16,
    /// The most bytes one call takes (0 taken as 1): short writes.
    chunk: u8,
    /// Every how many calls one is `Interrupted` (0: never); at most 16.
    interrupt_every: u8,
    /// The flush fails with the fault (or `Other`).
    flush_fails: bool,
}

#[derive(Arbitrary, Debug)]
struct Input {
    out: Plan,
    err: Plan,
    outcome: u8,
    writes: Vec<(bool, String)>,
}

struct Faulty {
    plan: Plan,
    taken: Vec<u8>,
    calls: usize,
    interrupts: usize,
    /// The kind of the error it returned (`WriteZero` for `Ok(0)`).
    failed: Option<ErrorKind>,
    calls_after_failure: usize,
}

impl Faulty {
    fn new(plan: Plan) -> Self {
        Faulty {
            plan,
            taken: Vec::new(),
            calls: 0,
            interrupts: 0,
            failed: None,
            calls_after_failure: 0,
        }
    }

    fn kind(&self) -> ErrorKind {
        match self.plan.fault {
            Fault::BrokenPipe => ErrorKind::BrokenPipe,
            Fault::Full => ErrorKind::StorageFull,
            _ => ErrorKind::Other,
        }
    }
}

impl Write for Faulty {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.failed.is_some() {
            self.calls_after_failure += 1;
        }
        self.calls += 1;
        let every = self.plan.interrupt_every as usize;
        if every > 0 && self.calls % every == 0 && self.interrupts < 16 {
            self.interrupts += 1;
            return Err(ErrorKind::Interrupted.into());
        }
        let mut room = buf.len().min(usize::from(self.plan.chunk).max(1));
        if self.plan.fault != Fault::Never {
            let left = usize::from(self.plan.after).saturating_sub(self.taken.len());
            if left == 0 && !buf.is_empty() {
                if self.plan.fault == Fault::Zero {
                    self.failed = Some(ErrorKind::WriteZero);
                    return Ok(0);
                }
                self.failed = Some(self.kind());
                return Err(self.kind().into());
            }
            room = room.min(left);
        }
        self.taken.extend_from_slice(&buf[..room]);
        Ok(room)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.plan.flush_fails {
            let kind = match self.plan.fault {
                Fault::Never | Fault::Zero => ErrorKind::Other,
                _ => self.kind(),
            };
            self.failed.get_or_insert(kind);
            return Err(kind.into());
        }
        Ok(())
    }
}

fuzz_target!(|input: Input| {
    let outcome = match input.outcome % 3 {
        0 => Outcome::Clean,
        1 => Outcome::Findings,
        _ => Outcome::UsageOrIo,
    };
    let mut streams = Streams::new(Faulty::new(input.out), Faulty::new(input.err));
    let (mut out_text, mut err_text) = (Vec::new(), Vec::new());
    for (to_err, text) in &input.writes {
        if *to_err {
            streams.stderr(text);
            err_text.extend_from_slice(text.as_bytes());
        } else {
            streams.stdout(text);
            out_text.extend_from_slice(text.as_bytes());
        }
    }
    let err_failed_before_finish = streams.err.failed;
    let code = streams.finish(outcome);
    let (out, err) = (&streams.out, &streams.err);

    assert!(
        out_text.starts_with(&out.taken),
        "stdout got bytes never written"
    );
    if out.failed.is_none() {
        assert_eq!(out.taken, out_text, "stdout lost bytes without a failure");
    }
    assert_eq!(out.calls_after_failure, 0, "stdout written after it failed");
    assert_eq!(err.calls_after_failure, 0, "stderr written after it failed");

    let out_fatal = out.failed.is_some_and(|k| k != ErrorKind::BrokenPipe);
    let err_fatal = err_failed_before_finish.is_some_and(|k| k != ErrorKind::BrokenPipe);
    let expected = match out_fatal || err_fatal {
        true => Outcome::UsageOrIo,
        false => outcome,
    };
    assert_eq!(code, expected, "{:?} / {:?}", out.failed, err.failed);

    // stderr: what was written to it, then (stdout failed, not by a broken
    // pipe, stderr still open) the one line saying so.
    let (written, tail) = err.taken.split_at(err.taken.len().min(err_text.len()));
    assert_eq!(
        written,
        &err_text[..written.len()],
        "stderr got bytes never written"
    );
    if err_failed_before_finish.is_none() {
        assert_eq!(
            written,
            &err_text[..],
            "stderr lost bytes without a failure"
        );
    }
    let line = b"error: cannot write to stdout: ";
    if out_fatal && err_failed_before_finish.is_none() {
        let whole = err.failed.is_none();
        assert!(
            line.starts_with(tail) || (tail.starts_with(line) && (!whole || tail.ends_with(b"\n"))),
            "not the one line: {:?}",
            String::from_utf8_lossy(tail)
        );
        if whole {
            assert_eq!(tail.iter().filter(|&&b| b == b'\n').count(), 1);
        }
    } else {
        assert!(
            tail.is_empty(),
            "stderr got more: {:?}",
            String::from_utf8_lossy(tail)
        );
    }
});
