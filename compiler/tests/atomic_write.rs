//! No partial writes: a build that fails at any point leaves the output
//! directory as it was — a fresh one absent, an existing one byte for byte
//! the same, no staging directory left beside it.
//!
//! The failure is a real one from the kernel, not a simulated one: the
//! binary runs with a file-size limit (`RLIMIT_FSIZE`, with `SIGXFSZ`
//! ignored so the write returns `EFBIG` instead of killing the process),
//! chosen so that the first files of the build fit and a later one does
//! not. Permission tricks would not do: the tests may run as root.

#![cfg(unix)]

use crate::common;

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

/// Runs the binary in `cwd`; with `limit`, no file it writes may exceed
/// that many bytes.
fn run_limited(cwd: &Path, args: &[&str], limit: Option<u64>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_infrac"));
    cmd.current_dir(cwd).args(args).env("NO_COLOR", "1");
    if let Some(limit) = limit {
        // SAFETY: between fork and exec only async-signal-safe calls
        // (signal, setrlimit), touching no memory of the parent.
        unsafe {
            cmd.pre_exec(move || {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let lim = libc::rlimit {
                    rlim_cur: limit as libc::rlim_t,
                    rlim_max: limit as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    cmd.output().expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The files a build writes, in the order it writes them, with their sizes
/// (from `--stdout`, which prints them in that order).
fn planned(source: &Path, target: &str) -> Vec<(String, u64)> {
    let out = run_in(
        &root(),
        &[
            "build",
            source.to_str().unwrap(),
            "--target",
            target,
            "--stdout",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut files: Vec<(String, u64)> = Vec::new();
    for line in text.split_inclusive('\n') {
        match line.strip_prefix("# ---- ") {
            Some(name) => files.push((name.trim_end().to_string(), 0)),
            None => files.last_mut().expect("a file header first").1 += line.len() as u64,
        }
    }
    files
}

/// A size limit under which the build writes at least one file and then
/// fails on a later one; that file's name.
fn midway_limit(files: &[(String, u64)]) -> (u64, String) {
    let mut largest = 0;
    for (i, (name, size)) in files.iter().enumerate() {
        if i > 0 && *size > largest {
            return (largest, name.clone());
        }
        largest = largest.max(*size);
    }
    panic!("no file is larger than every file before it: {files:?}");
}

/// The names in a directory (not recursive), sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn example(name: &str) -> PathBuf {
    root().join("examples").join(name).join("main.inf")
}

/// The build of every target of the voting app, failing midway.
fn failing_build() -> (Vec<String>, u64, String) {
    let source = example("voting-app");
    let files = planned(&source, "all");
    assert!(files.len() > 10, "{files:?}");
    let (limit, fails_at) = midway_limit(&files);
    let args = vec![
        "build".to_string(),
        source.to_str().unwrap().to_string(),
        "--target".to_string(),
        "all".to_string(),
    ];
    (args, limit, fails_at)
}

fn assert_failed_midway(out: &Output, fails_at: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot write") && err.contains(fails_at) && err.contains("File too large"),
        "not the expected failure on {fails_at}:\n{err}"
    );
}

#[test]
fn a_failure_midway_leaves_no_fresh_directory() {
    let parent = tempfile::tempdir().unwrap();
    let (mut args, limit, fails_at) = failing_build();
    args.extend(["-o".to_string(), "out".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_limited(parent.path(), &args, Some(limit));
    assert_failed_midway(&out, &fails_at);
    assert!(
        listing(parent.path()).is_empty(),
        "left behind: {:?}",
        listing(parent.path())
    );
    // The same build without the limit succeeds: the limit was the cause.
    let out = run_limited(parent.path(), &args, None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(listing(parent.path()), ["out"]);
}

#[test]
fn a_failure_midway_leaves_an_existing_output_unchanged() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("out");
    let first = run_in(
        parent.path(),
        &[
            "build",
            example("quickstart").to_str().unwrap(),
            "--target",
            "compose",
            "-o",
            "out",
        ],
        &[],
    );
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let before: BTreeMap<PathBuf, Entry> = tree(&dir);
    assert!(before.contains_key(Path::new(".infrac-output")));
    let (mut args, limit, fails_at) = failing_build();
    args.extend(["-o".to_string(), dir.to_str().unwrap().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_limited(parent.path(), &args, Some(limit));
    assert_failed_midway(&out, &fails_at);
    assert_same_tree(&before, &tree(&dir), "the output after a failed build");
    assert_eq!(
        listing(parent.path()),
        ["out"],
        "a staging directory was left"
    );
}

#[test]
fn a_failed_migrate_leaves_an_existing_output_unchanged() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED: ../shared is not beside the repository");
        return;
    };
    let stack = shared.join("corpus/public/dockersamples+example-voting-app/docker-stack.yml");
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("out");
    let migrate = |limit| {
        run_limited(
            parent.path(),
            &[
                "migrate",
                stack.to_str().unwrap(),
                "--to",
                "k8s",
                "-o",
                "out",
            ],
            limit,
        )
    };
    let first = migrate(None);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let before = tree(&dir);
    // Replace the output with a different one, limited to the size of its
    // smallest file: the first file of any size fails. (A file of the
    // user's in it would be refused before anything is written: see
    // `what_infrac_did_not_write_is_never_replaced`.)
    let smallest = before
        .values()
        .filter_map(|e| match e {
            Entry::File { bytes, .. } if bytes.len() > 200 => Some(bytes.len() as u64),
            _ => None,
        })
        .min()
        .unwrap();
    let out = migrate(Some(smallest - 1));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("File too large"), "{}", stderr(&out));
    assert_same_tree(&before, &tree(&dir), "after a failed migrate");
    assert_eq!(listing(parent.path()), ["out"]);
}

const EXPOSED: &str = "service db {\n  image = \"redis:7.4\"\n  port 6379 public\n}\n";
const WARNS: &str = "service s {\n  image = \"ghcr.io/acme/s\"\n}\n";

#[test]
fn a_program_with_errors_writes_nothing() {
    let parent = tempfile::tempdir().unwrap();
    let bad = parent.path().join("bad.inf");
    let warns = parent.path().join("warns.inf");
    std::fs::write(&bad, EXPOSED).unwrap();
    std::fs::write(&warns, WARNS).unwrap();
    let (bad, warns) = (bad.to_str().unwrap(), warns.to_str().unwrap());
    for target in ["all", "compose", "swarm", "k8s", "terraform"] {
        // A fresh directory is not created.
        let out = run_in(
            parent.path(),
            &["build", bad, "-t", target, "-o", "fresh"],
            &[],
        );
        assert_eq!(out.status.code(), Some(1), "{target}");
        assert!(
            stderr(&out).contains("nothing was written"),
            "{}",
            stderr(&out)
        );
        let out = run_in(
            parent.path(),
            &[
                "build",
                warns,
                "-t",
                target,
                "-o",
                "fresh",
                "--deny-warnings",
            ],
            &[],
        );
        assert_eq!(out.status.code(), Some(1), "{target} --deny-warnings");
        assert_eq!(listing(parent.path()), ["bad.inf", "warns.inf"], "{target}");
    }
    // An existing output is left as it was.
    let good = example("quickstart");
    let out = run_in(
        parent.path(),
        &["build", good.to_str().unwrap(), "-t", "all", "-o", "out"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let before = tree(&parent.path().join("out"));
    let out = run_in(
        parent.path(),
        &["build", bad, "-t", "all", "-o", "out"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_same_tree(&before, &tree(&parent.path().join("out")), "after errors");
    assert_eq!(listing(parent.path()), ["bad.inf", "out", "warns.inf"]);
}

/// Checks clean; compose refuses its external secret (E5002) while it is
/// emitted, after the first files of the build were written aside.
const EXTERNAL: &str = "secret token {\n  from = external(\"app/token\")\n}\n\nservice app {\n  image = \"redis:7.4\"\n  secrets = [token]\n}\n";

#[test]
fn an_error_found_while_emitting_writes_nothing() {
    let parent = tempfile::tempdir().unwrap();
    let source = parent.path().join("ext.inf");
    std::fs::write(&source, EXTERNAL).unwrap();
    let source = source.to_str().unwrap();
    let out = run_in(parent.path(), &["check", source], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for target in ["k8s", "compose", "all"] {
        // Nested: the parents made for the staging directory go too.
        let out = run_in(
            parent.path(),
            &["build", source, "-t", target, "-o", "new/sub/out"],
            &[],
        );
        let wanted = if target == "k8s" { 0 } else { 1 };
        assert_eq!(
            out.status.code(),
            Some(wanted),
            "{target}: {}",
            stderr(&out)
        );
        if wanted == 0 {
            std::fs::remove_dir_all(parent.path().join("new")).unwrap();
            continue;
        }
        assert!(
            stderr(&out).contains("nothing was written"),
            "{}",
            stderr(&out)
        );
        assert_eq!(listing(parent.path()), ["ext.inf"], "{target}");
        let out = run_in(
            parent.path(),
            &["build", source, "-t", target, "--stdout"],
            &[],
        );
        assert_eq!(out.status.code(), Some(1), "{target} --stdout");
        assert!(
            out.stdout.is_empty(),
            "{target}: a failed build printed files"
        );
    }
}

#[test]
fn what_infrac_did_not_write_is_never_replaced() {
    let parent = tempfile::tempdir().unwrap();
    let good = example("quickstart");
    let good = good.to_str().unwrap();
    // A directory of the user's.
    let mine = parent.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "mine\n").unwrap();
    // A regular file where the directory would be.
    std::fs::write(parent.path().join("file"), "a file\n").unwrap();
    // A directory infrac wrote, and then the user added a file to.
    let ours = parent.path().join("ours");
    let first = run_in(
        parent.path(),
        &["build", good, "-t", "compose", "-o", "ours"],
        &[],
    );
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    std::fs::write(ours.join("notes.txt"), "mine too\n").unwrap();
    // A program kept inside its own output directory (it used to be
    // deleted with the old output).
    let kept = parent.path().join("kept");
    let first = run_in(
        parent.path(),
        &["build", good, "-t", "compose", "-o", "kept"],
        &[],
    );
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    std::fs::copy(good, kept.join("main.inf")).unwrap();
    let before = tree(parent.path());
    for (program, o) in [
        (good, "mine"),
        (good, "file"),
        (good, "file/out"),
        (good, "ours"),
        ("kept/main.inf", "kept"),
    ] {
        let out = run_in(
            parent.path(),
            &["build", program, "-t", "all", "-o", o],
            &[],
        );
        assert_eq!(out.status.code(), Some(2), "-o {o}: {}", stderr(&out));
        // (Where DIR's parent is a file, creating DIR is what fails.)
        if o != "file/out" {
            let err = stderr(&out);
            assert!(err.contains("refusing to replace"), "{err}");
        }
        assert_same_tree(&before, &tree(parent.path()), &format!("-o {o}"));
    }
    // What infrac wrote, and only that, is replaced.
    std::fs::remove_file(ours.join("notes.txt")).unwrap();
    let out = run_in(
        parent.path(),
        &["build", good, "-t", "all", "-o", "ours"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(ours.join("k8s").is_dir());
}

/// `import -o`, `fmt` and `migrate --program` replace only regular files:
/// through a symlink they write the file it points to, and a FIFO (or a
/// device) is refused and left as it was.
#[cfg(unix)]
#[test]
fn a_file_is_replaced_only_when_it_is_a_regular_file() {
    use std::os::unix::fs::FileTypeExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path();
    std::fs::write(
        dir.join("compose.yml"),
        "services:\n  web:\n    image: nginx:1.27\n",
    )
    .unwrap();
    // A symlink to a regular file: the file changes, the link stays.
    std::fs::write(dir.join("real.inf"), "old\n").unwrap();
    std::os::unix::fs::symlink("real.inf", dir.join("link.inf")).unwrap();
    let out = run_in(dir, &["import", "compose.yml", "-o", "link.inf"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let link = std::fs::symlink_metadata(dir.join("link.inf")).unwrap();
    assert!(
        link.file_type().is_symlink(),
        "the link was replaced by a file"
    );
    assert!(read(&dir.join("real.inf")).contains("service web"));
    // fmt through a link as well.
    std::fs::write(
        dir.join("real.inf"),
        "service   web {\n image = \"nginx:1.27\"\n}\n",
    )
    .unwrap();
    let out = run_in(dir, &["fmt", "link.inf"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(dir.join("link.inf"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        read(&dir.join("real.inf")),
        "service web {\n  image = \"nginx:1.27\"\n}\n"
    );
    // A FIFO, and a link to one, are refused and stay FIFOs.
    let fifo = dir.join("pipe.inf");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    std::os::unix::fs::symlink("pipe.inf", dir.join("to-pipe.inf")).unwrap();
    for o in ["pipe.inf", "to-pipe.inf"] {
        let out = run_in(dir, &["import", "compose.yml", "-o", o], &[]);
        assert_eq!(out.status.code(), Some(2), "-o {o}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("not a regular file"),
            "{}",
            stderr(&out)
        );
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }
    let leftovers: Vec<String> = listing(dir)
        .into_iter()
        .filter(|n| n.starts_with(".infrac"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// An interrupted build removes its staging directory; one left by a
/// build that was killed outright is removed by the next build.
#[cfg(unix)]
#[test]
fn an_interrupted_build_leaves_nothing_behind() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path();
    let program = run_in(dir, &["workload", "3000"], &[]);
    std::fs::write(dir.join("big.inf"), &program.stdout).unwrap();
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_infrac"))
            .current_dir(dir)
            .args(["build", "big.inf", "-t", "all", "-o", "out"])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Wait for the staging directory, then interrupt the writing.
        let started = std::time::Instant::now();
        let staged = loop {
            let staged = listing(dir).iter().any(|n| n.starts_with(".infrac-build-"));
            if staged || started.elapsed() > std::time::Duration::from_secs(60) {
                break staged;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        };
        assert!(staged, "the build never started writing");
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(128 + signal), "{status:?}");
        assert_eq!(listing(dir), ["big.inf"], "after signal {signal}");
    }
    // A staging directory of a process that is gone (no pid is this
    // large), and one of a process still running (this test's).
    let stale = dir.join(".infrac-build-4194305-abc");
    let live = dir.join(format!(".infrac-build-{}-abc", std::process::id()));
    for d in [&stale, &live] {
        std::fs::create_dir(d).unwrap();
        std::fs::write(d.join("compose.yaml"), "x\n").unwrap();
    }
    std::fs::write(
        dir.join("small.inf"),
        "service web {\n  image = \"nginx:1.27\"\n}\n",
    )
    .unwrap();
    let out = run_in(
        dir,
        &["build", "small.inf", "-t", "compose", "-o", "out"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        !stale.exists(),
        "the stale staging directory is still there"
    );
    assert!(
        live.exists(),
        "a running build's staging directory was removed"
    );
}

/// `fmt` and `import -o` replace one file by a rename: a failed write
/// leaves the file as it was and no temporary file beside it.
#[test]
fn a_failed_file_replacement_leaves_the_file() {
    let parent = tempfile::tempdir().unwrap();
    let text = read(&example("voting-app"));
    // Spoiled layout, so fmt has to write: every line indented twice as far.
    let spoiled: String = text
        .lines()
        .map(|l| format!("{}{l}\n", &l[..l.len() - l.trim_start().len()]))
        .collect();
    let path = parent.path().join("main.inf");
    std::fs::write(&path, &spoiled).unwrap();
    let out = run_limited(
        parent.path(),
        &["fmt", "main.inf"],
        Some(text.len() as u64 / 2),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), spoiled);
    assert_eq!(listing(parent.path()), ["main.inf"]);
    let out = run_limited(parent.path(), &["fmt", "main.inf"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_ne!(std::fs::read_to_string(&path).unwrap(), spoiled);

    let Some(shared) = shared() else {
        return;
    };
    let stack = shared.join("corpus/public/dockersamples+example-voting-app/docker-stack.yml");
    std::fs::write(parent.path().join("imported.inf"), "// mine\n").unwrap();
    let out = run_limited(
        parent.path(),
        &["import", stack.to_str().unwrap(), "-o", "imported.inf"],
        Some(100),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(parent.path().join("imported.inf")).unwrap(),
        "// mine\n"
    );
    assert_eq!(listing(parent.path()), ["imported.inf", "main.inf"]);
}
