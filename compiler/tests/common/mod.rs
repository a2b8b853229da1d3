//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use infrac::diagnostics::render::{self, HumanStyle};
use infrac::source::Sources;
use infrac::Compiled;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the repository, when it exists (CI and developers
/// have it; a user's clone does not, and tests that need it skip), or the
/// directory `INFRAC_SHARED` names (a git worktree elsewhere on the disk).
pub fn shared() -> Option<PathBuf> {
    let p = std::env::var_os("INFRAC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared"));
    p.is_dir().then_some(p)
}

/// Checks a source text as the CLI would: [`infrac::compile`], through a
/// memory loader holding only it. The texts read come back beside the
/// result, as the snapshot helpers take them.
pub fn check_text(name: &str, text: &str) -> (Compiled, Sources) {
    let mut compiled = infrac::compile::compile_text(name, text);
    let sources = std::mem::take(&mut compiled.sources);
    (compiled, sources)
}

/// The human report without colour at width 80, as snapshots hold it.
pub fn render_plain(checked: &Compiled, sources: &Sources) -> String {
    render::human(
        &checked.diagnostics,
        sources,
        &checked.redactions,
        HumanStyle {
            color: false,
            width: 80,
        },
    )
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Fenced code blocks tagged ```inf TAG in a Markdown text: (tag, line, body).
pub fn inf_blocks(markdown: &str) -> Vec<(String, usize, String)> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let Some(tag) = line.strip_prefix("```inf") else {
            continue;
        };
        let tag = tag.trim().to_string();
        let mut body = String::new();
        for (_, l) in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        blocks.push((tag, n + 1, body));
    }
    blocks
}

/// Every example program: (name, path of main.inf), sorted.
pub fn examples() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(root().join("examples"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("main.inf").is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                p.join("main.inf"),
            )
        })
        .collect();
    out.sort();
    out
}

/// Checks a program and builds one target; panics with the report when
/// the program does not check clean.
pub fn build(
    name: &str,
    text: &str,
    target: infrac::backend::Target,
) -> (
    Vec<infrac::backend::Artifact>,
    Vec<infrac::diagnostics::Diagnostic>,
) {
    let (checked, sources) = check_text(name, text);
    let model = checked.model.as_ref().unwrap_or_else(|| {
        panic!(
            "{name} does not check:\n{}",
            render_plain(&checked, &sources)
        )
    });
    // As the CLI names it: a `main.inf` by its directory, else by its stem.
    let path = std::path::Path::new(name);
    let stem = match path.file_stem().and_then(|s| s.to_str()) {
        Some("main") => path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|s| s.to_str())
            .unwrap_or("main"),
        Some(stem) => stem,
        None => name,
    };
    let options = infrac::backend::Options {
        project: infrac::backend::project_name(stem),
        source: name.to_string(),
    };
    infrac::backend::emit(model, target, &options)
}

/// Builds as [`build`] does: the files, and the codes of the errors found.
pub fn build_errors(
    name: &str,
    text: &str,
    target: infrac::backend::Target,
) -> (
    Vec<infrac::backend::Artifact>,
    Vec<infrac::diagnostics::Code>,
) {
    let (artifacts, diagnostics) = build(name, text, target);
    let errors = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code)
        .collect();
    (artifacts, errors)
}

/// The real binary, to be given its arguments.
pub fn infrac() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_infrac"))
}

/// Asserts the exit code of a run, showing its stderr when it is another.
pub fn assert_exit(out: &std::process::Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs the real binary in `cwd` with `env` added (and colour off).
pub fn run_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_infrac"));
    cmd.current_dir(cwd).args(args).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

/// One entry of a directory tree: a directory, or a file's mode and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Dir,
    File { mode: u32, bytes: Vec<u8> },
}

/// Every path under `dir` (hidden ones too), relative to it, with what is
/// there; empty when `dir` does not exist.
pub fn tree(dir: &Path) -> std::collections::BTreeMap<PathBuf, Entry> {
    let mut out = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let rel = path.strip_prefix(dir).unwrap().to_path_buf();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                out.insert(rel, Entry::Dir);
                todo.push(path);
            } else {
                let mode = mode_of(&meta);
                let bytes = std::fs::read(&path).unwrap();
                out.insert(rel, Entry::File { mode, bytes });
            }
        }
    }
    out
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    u32::from(meta.permissions().readonly())
}

/// Asserts two trees are the same, naming the first difference.
pub fn assert_same_tree(
    a: &std::collections::BTreeMap<PathBuf, Entry>,
    b: &std::collections::BTreeMap<PathBuf, Entry>,
    what: &str,
) {
    let paths_a: Vec<_> = a.keys().collect();
    let paths_b: Vec<_> = b.keys().collect();
    assert_eq!(paths_a, paths_b, "{what}: the file lists differ");
    for (path, ea) in a {
        let eb = &b[path];
        if ea != eb {
            let describe = |e: &Entry| match e {
                Entry::Dir => ("directory".to_string(), String::new()),
                Entry::File { mode, bytes } => (
                    format!("file, mode {mode:o}, {} bytes", bytes.len()),
                    String::from_utf8_lossy(bytes).into_owned(),
                ),
            };
            let ((kind_a, text_a), (kind_b, text_b)) = (describe(ea), describe(eb));
            let line = text_a
                .lines()
                .zip(text_b.lines())
                .position(|(x, y)| x != y)
                .unwrap_or(0);
            panic!(
                "{what}: {} differs ({kind_a} / {kind_b}); first differing line {}:\n  {:?}\n  {:?}",
                path.display(),
                line + 1,
                text_a.lines().nth(line).unwrap_or(""),
                text_b.lines().nth(line).unwrap_or(""),
            );
        }
    }
}

/// An output as (exit code, stdout, stderr), the texts decoded lossily.
pub fn split_output(out: std::process::Output) -> (Option<i32>, String, String) {
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the real binary in `dir` (no stdin, colour off) for at most 20 s:
/// a read that blocks (a FIFO) or runs away (a device) fails the test
/// instead of hanging it.
pub fn run_bounded(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    use std::time::{Duration, Instant};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_infrac"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("{args:?} did not finish in 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    split_output(child.wait_with_output().expect("output"))
}

/// Makes a FIFO at `path`.
#[cfg(unix)]
pub fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo touches nothing else.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// The programs the tests over "every example and every fixture" build:
/// each example, every `.inf` under `fixtures/` (failing ones included:
/// those that check are built), the route programs of `routes/`, the
/// deployment corners of `deploy/` and the exposure corners; (name
/// relative to the root, text), sorted.
pub fn program_files() -> Vec<(String, String)> {
    let mut files: Vec<PathBuf> = examples().into_iter().map(|(_, p)| p).collect();
    let tests = root().join("compiler/tests");
    let mut stack = vec![
        tests.join("fixtures"),
        tests.join("routes"),
        tests.join("deploy"),
    ];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "inf") {
                files.push(path);
            }
        }
    }
    files.push(tests.join("exposure/corners.inf"));
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.strip_prefix(root()).unwrap().display().to_string();
            (name, read(&path))
        })
        .collect()
}
