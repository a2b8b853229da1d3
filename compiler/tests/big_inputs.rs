//! Big and hostile inputs through the real binary: deep nesting, very long
//! lines and identifiers give diagnostics (exit 0 or 1), never a crash
//! (exit 101 or a signal); a 50 MB program and a 100,000-service program
//! compile within bounded memory, measured as the child's peak RSS
//! (`wait4`'s `ru_maxrss`).
//!
//! The two big programs take minutes in a debug build: they are
//! `#[ignore]`d here and run in release by `scripts/big-inputs.sh`, which
//! prints the figures the book's hardening page quotes.

#![cfg(unix)]

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// What a run of the binary did.
struct Run {
    code: Option<i32>,
    signal: Option<i32>,
    stderr: String,
    stdout_bytes: usize,
    peak_rss: u64,
    wall: Duration,
}

/// Runs the binary in `cwd`, keeping at most 64 KB of stderr, and
/// measures its peak resident memory.
///
/// Through GNU time when it is there: `ru_maxrss` of a direct child also
/// counts the test process's own peak (Linux folds the spawning process's
/// high-water mark in at exec), while time's child starts from time's.
/// Without it, `wait4` on the binary: an overestimate, by at most the
/// test's peak (the bounds leave room for that).
// The child is reaped by `wait4` (for its rusage), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn measured(cwd: &Path, args: &[&str]) -> Run {
    let started = Instant::now();
    let gnu_time = Path::new("/usr/bin/time");
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = if gnu_time.is_file() {
        let mut c = Command::new(gnu_time);
        c.arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(report.path())
            .arg(env!("CARGO_BIN_EXE_infrac"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_infrac"))
    };
    let mut child = cmd
        .current_dir(cwd)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut buf = [0u8; 1 << 16];
        let mut n = 0;
        while let Ok(k) = out.read(&mut buf) {
            if k == 0 {
                break;
            }
            n += k;
        }
        n
    });
    let err_thread = std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 1 << 16];
        while let Ok(k) = err.read(&mut buf) {
            if k == 0 {
                break;
            }
            if kept.len() < 1 << 16 {
                kept.extend_from_slice(&buf[..k]);
            }
        }
        String::from_utf8_lossy(&kept).into_owned()
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, by pid, once; `child` is not waited
    // for again (it is dropped without wait, which does nothing).
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert!(pid > 0, "wait4: {}", std::io::Error::last_os_error());
    let wall = started.elapsed();
    let stdout_bytes = out_thread.join().unwrap();
    let stderr = err_thread.join().unwrap();
    let mut code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let mut signal = libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status));
    // Linux reports kilobytes.
    let mut peak_rss = usage.ru_maxrss as u64 * 1024;
    if gnu_time.is_file() {
        let text = std::fs::read_to_string(report.path()).unwrap_or_default();
        // "Command terminated by signal N" comes before the figure.
        if let Some(n) = text
            .split("terminated by signal ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next()?.parse().ok())
        {
            signal = Some(n);
            code = None;
        }
        peak_rss = text
            .lines()
            .last()
            .and_then(|l| l.trim().parse::<u64>().ok())
            .map_or(peak_rss, |kb| kb * 1024);
    }
    Run {
        code,
        signal,
        stderr,
        stdout_bytes,
        peak_rss,
        wall,
    }
}

/// Checks `text` as a file; asserts a diagnostic outcome, not a crash.
fn check_handles(name: &str, text: &str, expect: Option<&str>) -> Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), text).unwrap();
    let run = measured(dir.path(), &["check", name]);
    assert!(
        run.signal.is_none() && matches!(run.code, Some(0 | 1)),
        "{name}: exit {:?}, signal {:?}:\n{}",
        run.code,
        run.signal,
        run.stderr
    );
    if let Some(code) = expect {
        assert!(
            run.stderr.contains(code),
            "{name}: no {code}:\n{}",
            run.stderr
        );
    }
    eprintln!(
        "{name}: {} bytes, exit {:?}, {:.2} s, peak {} MB",
        text.len(),
        run.code,
        run.wall.as_secs_f64(),
        run.peak_rss >> 20
    );
    run
}

#[test]
fn deep_nesting_of_every_kind_is_a_diagnostic() {
    let n = 200_000;
    check_handles(
        "brackets.inf",
        &format!("let x = {}{}\n", "[".repeat(n), "]".repeat(n)),
        Some("E0004"),
    );
    check_handles(
        "maps.inf",
        &format!("let x = {}1{}\n", "{a = ".repeat(n), "}".repeat(n)),
        Some("E0004"),
    );
    check_handles(
        "calls.inf",
        &format!("let x = {}1{}\n", "f(".repeat(n), ")".repeat(n)),
        Some("E0004"),
    );
    check_handles(
        "mixed.inf",
        &format!("let x = {}\n", "[{a = f(".repeat(n / 3)),
        Some("E0004"),
    );
    // Nested block comments recurse in the grammar too.
    check_handles(
        "comments.inf",
        &format!("{}{}\nlet x = 1\n", "/*".repeat(n), "*/".repeat(n)),
        Some("E0001"),
    );
    // Closing brackets too many, a long chain of lets, deep templates.
    check_handles("closers.inf", &"}".repeat(n), Some("E0001"));
    let mut lets = String::from("let a0 = 1\n");
    for i in 1..50_000 {
        lets.push_str(&format!("let a{i} = a{}\n", i - 1));
    }
    lets.push_str("service s {\n  image = \"x:1\"\n  replicas = a49999\n}\n");
    check_handles("lets.inf", &lets, Some("E1005"));
    let mut templates = String::from("template t0 {\n  image = \"nginx:1.27\"\n}\n");
    for i in 1..10_000 {
        templates.push_str(&format!("template t{i} : t{} {{}}\n", i - 1));
    }
    templates.push_str("service s : t9999 {}\n");
    check_handles("templates.inf", &templates, None);
}

#[test]
fn very_long_lines_and_names_are_diagnostics() {
    // A 10 MB string on one line, in a finding's snippet: reported with
    // its location in words, not drawn.
    let run = check_handles(
        "long-string.inf",
        &format!("service s {{\n  image = \"{}\"\n}}\n", "a".repeat(10 << 20)),
        Some("W4001"),
    );
    assert!(run.stderr.contains("too long to show"), "{}", run.stderr);
    // An error at column 1,000,000: miette used to panic padding to it.
    let run = check_handles(
        "unterminated.inf",
        &format!("let x = \"{}\n", "a".repeat(1 << 20)),
        Some("E0001"),
    );
    assert!(run.stderr.contains("unterminated.inf:1:"), "{}", run.stderr);
    // A 1 MB identifier.
    check_handles(
        "long-name.inf",
        &format!(
            "service {} {{\n  image = \"nginx:1.27\"\n}}\n",
            "a".repeat(1 << 20)
        ),
        None,
    );
    check_handles(
        "long-unknown.inf",
        &format!(
            "service s {{\n  image = \"nginx:1.27\"\n  depends = [{}]\n}}\n",
            "b".repeat(1 << 20)
        ),
        Some("E1001"),
    );
}

#[test]
fn a_file_over_4_gib_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    // Sparse: no disk is used, and the binary must not read it.
    let f = std::fs::File::create(dir.path().join("huge.inf")).unwrap();
    f.set_len((4 << 30) + 1).unwrap();
    for args in [
        &["check", "huge.inf"][..],
        &["build", "huge.inf", "-t", "compose", "--stdout"],
        &["import", "huge.inf"],
    ] {
        let run = measured(dir.path(), args);
        // A finding about the input (E0007), not a usage error.
        assert_eq!(run.code, Some(1), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("E0007"), "{}", run.stderr);
        assert!(run.stderr.contains("too large"), "{}", run.stderr);
        assert!(run.peak_rss < 64 << 20, "{args:?} read the file");
    }
}

/// Peak memory allowed: [`CHECK_FACTOR`] per byte read, [`BUILD_FACTOR`]
/// per byte written, plus 64 MB for the binary and its allocator.
fn assert_bounded(what: &str, run: &Run, input: u64, output: u64) {
    let bytes = input + output;
    let bound = CHECK_FACTOR * input + BUILD_FACTOR * output + (64 << 20);
    eprintln!(
        "{what}: exit {:?}, {:.1} s, peak RSS {} MB for {} MB in+out (bound {} MB)",
        run.code,
        run.wall.as_secs_f64(),
        run.peak_rss >> 20,
        bytes >> 20,
        bound >> 20
    );
    assert!(
        run.peak_rss < bound,
        "{what}: peak RSS {} MB over the bound {} MB",
        run.peak_rss >> 20,
        bound >> 20
    );
}

fn big_program(services: usize) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let text = infrac::workload::program(services);
    std::fs::write(dir.path().join("big.inf"), &text).unwrap();
    (dir, text)
}

/// The bounds, from the figures measured in release (see the book's
/// hardening page): the checker holds the AST and the model, about 30
/// bytes per byte of source (38 with a syntax error at the end of a big
/// file, which is parsed again whole); a backend holds its typed trees
/// and their text. Exceeding them means memory grew per service.
const CHECK_FACTOR: u64 = 45;
const BUILD_FACTOR: u64 = 12;

#[test]
#[ignore = "minutes in a debug build; scripts/big-inputs.sh runs it in release"]
fn a_100_000_service_program_compiles_in_bounded_memory() {
    let (dir, text) = big_program(100_000);
    let input = text.len() as u64;
    let run = measured(dir.path(), &["check", "big.inf"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_bounded("check, 100,000 services", &run, input, 0);
    for target in infrac::backend::Target::ALL.iter().map(|t| t.name()) {
        let run = measured(dir.path(), &["build", "big.inf", "-t", target, "--stdout"]);
        assert_eq!(run.code, Some(0), "{target}: {}", run.stderr);
        assert_bounded(
            &format!(
                "build -t {target} --stdout, 100,000 services ({} MB out)",
                run.stdout_bytes >> 20
            ),
            &run,
            input,
            run.stdout_bytes as u64,
        );
    }
}

#[test]
#[ignore = "minutes in a debug build; scripts/big-inputs.sh runs it in release"]
fn a_50_mb_program_compiles_or_fails_clearly_in_bounded_memory() {
    // About 327 bytes per service: 165,000 services is 54 MB (51.5 MiB).
    let (dir, text) = big_program(165_000);
    let input = text.len() as u64;
    assert!(input > 50 << 20, "{input}");
    let run = measured(dir.path(), &["check", "big.inf"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_bounded("check, 50 MB", &run, input, 0);
    let run = measured(
        dir.path(),
        &["build", "big.inf", "-t", "compose", "-o", "out"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let out: u64 = tree(&dir.path().join("out"))
        .values()
        .map(|e| match e {
            Entry::File { bytes, .. } => bytes.len() as u64,
            Entry::Dir => 0,
        })
        .sum();
    assert_bounded(
        &format!("build -t compose, 50 MB ({} MB written)", out >> 20),
        &run,
        input,
        out,
    );
    // A syntax error at the very end of the big file: one clear finding.
    let broken = format!("{text}service broken {{\n  image = \"x:1\n}}\n");
    std::fs::write(dir.path().join("broken.inf"), &broken).unwrap();
    let run = measured(dir.path(), &["check", "broken.inf"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("E0001"), "{}", run.stderr);
    assert_bounded(
        "check, 50 MB with a syntax error at the end",
        &run,
        input,
        0,
    );
    // A 10 MB unterminated string: the error's column is past 10,000,000.
    let run = check_handles(
        "unterminated-10mb.inf",
        &format!("let x = \"{}\n", "a".repeat(10 << 20)),
        Some("E0001"),
    );
    assert!(run.stderr.contains("too long to show"), "{}", run.stderr);
}
