//! Writing the user's disk, with one rule: infrac only ever replaces what
//! infrac wrote.
//!
//! - An output directory (`build -o`, `migrate -o`) is filled in a fresh
//!   staging directory beside it, which then replaces it in one rename.
//!   It is replaced only when it is absent, empty, or holds nothing but
//!   what the last build listed in its manifest (`.infrac-output`); a
//!   directory holding the program itself, or any file infrac did not
//!   write, is refused.
//! - An interrupted build (SIGINT, SIGTERM, SIGHUP) removes its staging
//!   directory before it exits; one left by a build that was killed
//!   outright (SIGKILL, a power cut) is removed by the next build beside
//!   it, once its process is gone.
//! - A single file (`fmt`, `import -o`, `migrate --program`) is replaced
//!   by a rename of a temporary file beside it, and only when it is a
//!   regular file (or absent); through a symlink, the file it points to
//!   is replaced, never the link; a device, FIFO or socket is refused.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::output::errln;
use super::Outcome;
use crate::backend::Artifact;
use crate::loader::{FsLoader, Loader};

/// The manifest that marks a directory as infrac's to replace.
const MARKER: &str = ".infrac-output";

/// The first line of the manifest; the paths written follow, one a line,
/// each as a JSON string (so no name can break a line).
const MARKER_HEAD: &str =
    "This directory is written by `infrac build` and replaced whole on every build. Files:";

/// The staging directories of this process, removed on a signal. Held
/// while a file is written or the directories are swapped, so the
/// signal's cleanup never runs between the two halves of a step.
static STAGING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Writes as [`write_atomically`] does and says how it went on stderr:
/// `done(bytes)` when the files are written, the error otherwise.
pub(super) fn write_and_say(
    dir: &Path,
    artifacts: &[Artifact],
    inputs: &[&Path],
    done: impl FnOnce(usize) -> String,
) -> Outcome {
    match write_atomically(dir, artifacts, inputs) {
        Ok(bytes) => {
            errln!("{}", done(bytes));
            Outcome::Clean
        }
        Err(e) => {
            errln!("error: {e}");
            Outcome::UsageOrIo
        }
    }
}

/// Writes `artifacts` under `dir`, replacing it whole; returns the bytes
/// written. `inputs` are the files the build read: a `dir` that holds one
/// of them is refused.
pub fn write_atomically(
    dir: &Path,
    artifacts: &[Artifact],
    inputs: &[&Path],
) -> Result<usize, String> {
    let mut staged = Staged::begin(dir)?;
    for a in artifacts {
        staged.file(&a.path, &a.contents);
    }
    staged.commit(inputs)
}

/// An output directory being written: each file goes into the staging
/// directory as it comes ([`Staged::file`]); [`Staged::commit`] swaps it
/// into place, and dropping it uncommitted removes it, with the parent
/// directories it had to create. So a build writes its files one at a
/// time and still never leaves a partial output directory.
pub(crate) struct Staged {
    dir: PathBuf,
    parent: PathBuf,
    /// `None` once committed.
    staging: Option<Staging>,
    /// The parents of `dir` this build created, innermost first.
    created: Vec<PathBuf>,
    /// Each directory is created once: 10,000 manifests share `k8s/`, and
    /// asking for it again costs a failed mkdir and a stat per file.
    made: Vec<PathBuf>,
    /// Every path written, for the manifest.
    paths: Vec<PathBuf>,
    bytes: usize,
    /// The first write that failed; the files after it are not written.
    failed: Option<String>,
}

impl Staged {
    pub(crate) fn begin(dir: &Path) -> Result<Staged, String> {
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let created: Vec<PathBuf> = parent
            .ancestors()
            .take_while(|p| !p.as_os_str().is_empty() && fs::symlink_metadata(p).is_err())
            .map(Path::to_path_buf)
            .collect();
        fs::create_dir_all(&parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        remove_stale(&parent);
        let staging = match Staging::new(&parent) {
            Ok(staging) => staging,
            Err(e) => {
                remove_created(&created);
                return Err(e);
            }
        };
        Ok(Staged {
            dir: dir.to_path_buf(),
            parent,
            staging: Some(staging),
            created,
            made: Vec::new(),
            paths: Vec::new(),
            bytes: 0,
            failed: None,
        })
    }

    /// Writes one file, `path` relative to the output directory.
    pub(crate) fn file(&mut self, path: &Path, contents: &str) {
        if self.failed.is_some() {
            return;
        }
        if let Err(e) = self.write(path, contents) {
            self.failed = Some(e);
        }
    }

    fn write(&mut self, rel: &Path, contents: &str) -> Result<(), String> {
        let Some(staging) = &self.staging else {
            return Err("the output was already committed".to_string());
        };
        let _held = lock();
        let path = staging.path.join(rel);
        if let Some(p) = path.parent() {
            // A handful of directories: a list beats hashing a path.
            if !self.made.iter().any(|m| m.as_os_str() == p.as_os_str()) {
                fs::create_dir_all(p).map_err(|e| format!("cannot create {}: {e}", p.display()))?;
                self.made.push(p.to_path_buf());
            }
        }
        // Named as it would be in DIR: the staging directory is gone by
        // the time the user reads this.
        fs::write(&path, contents).map_err(|e| {
            format!(
                "cannot write {}: {e}; {} was left as it was",
                self.dir.join(rel).display(),
                self.dir.display()
            )
        })?;
        self.paths.push(rel.to_path_buf());
        self.bytes += contents.len();
        Ok(())
    }

    /// The number of files written so far.
    pub(crate) fn files(&self) -> usize {
        self.paths.len()
    }

    /// Replaces `dir` with what was written, unless a write failed or
    /// `dir` is not infrac's to replace (it holds one of `inputs`, or a
    /// file infrac did not write); returns the bytes written.
    pub(crate) fn commit(mut self, inputs: &[&Path]) -> Result<usize, String> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        refuse_unless_ours(&self.dir, inputs)?;
        let Some(staging) = self.staging.take() else {
            return Err("the output was already committed".to_string());
        };
        fs::write(staging.path.join(MARKER), manifest(&self.paths))
            .map_err(|e| format!("cannot write the marker file: {e}"))?;
        sync_written(&staging.path).map_err(|e| {
            format!(
                "cannot flush the new output to disk: {e}; {} was left as it was",
                self.dir.display()
            )
        })?;
        staging.swap_into(&self.dir, &self.parent)?;
        // The renames themselves, once: the entries of the parent.
        // Best effort: the output is in place either way.
        let _ = fs::File::open(&self.parent).and_then(|d| d.sync_all());
        // The parents hold the output now.
        self.created.clear();
        Ok(self.bytes)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // The staging directory first (its own `Drop`), then the parents
        // that were made for it.
        drop(self.staging.take());
        remove_created(&self.created);
    }
}

/// Makes every file written into the staging directory durable before it
/// replaces the output, so a power cut leaves the old output or the whole
/// new one, never a new directory of empty files: one `syncfs` of the file
/// system that holds it (a single call however many files; an fsync per
/// file would wait on the disk once per file). Elsewhere than Linux, each
/// file is synced (there is no `syncfs`).
#[cfg(target_os = "linux")]
fn sync_written(staging: &Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let dir = fs::File::open(staging)?;
    // SAFETY: syncfs reads nothing but the open descriptor it is given.
    match unsafe { libc::syncfs(dir.as_raw_fd()) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

#[cfg(not(target_os = "linux"))]
fn sync_written(staging: &Path) -> std::io::Result<()> {
    let mut todo = vec![staging.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in fs::read_dir(&d)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                todo.push(entry.path());
            } else {
                fs::File::open(entry.path())?.sync_all()?;
            }
        }
    }
    Ok(())
}

/// Removes the directories a failed build created, innermost first, as
/// long as they are empty.
fn remove_created(created: &[PathBuf]) {
    for dir in created {
        if fs::remove_dir(dir).is_err() {
            break;
        }
    }
}

/// The manifest's text: the head line, then every path written.
fn manifest(paths: &[PathBuf]) -> String {
    let mut out = format!("{MARKER_HEAD}\n");
    for path in paths {
        let path = path.to_string_lossy();
        out.push_str(&serde_json::to_string(&path).expect("a string serialises"));
        out.push('\n');
    }
    out
}

/// Refuses a `dir` that holds an input or anything its manifest does not list.
fn refuse_unless_ours(dir: &Path, inputs: &[&Path]) -> Result<(), String> {
    let Ok(meta) = fs::symlink_metadata(dir) else {
        return Ok(());
    };
    let refuse = |why: String| {
        Err(format!(
            "refusing to replace {}: {why}; choose another directory with -o",
            dir.display()
        ))
    };
    if !meta.is_dir() {
        return refuse("it exists and is not a directory infrac wrote".to_string());
    }
    let real = FsLoader.canonical(dir);
    for input in inputs {
        if FsLoader.canonical(input).starts_with(&real) {
            return refuse(format!(
                "it holds {}, which this build reads",
                input.display()
            ));
        }
    }
    // Read as every input is: a manifest that is a FIFO or a gigabyte is
    // not infrac's, and lists nothing.
    let listed: HashSet<PathBuf> = match FsLoader.text(&dir.join(MARKER), 64 << 20) {
        Ok(text) => listed_paths(&text),
        Err(_) => HashSet::new(),
    };
    let has_marker = fs::symlink_metadata(dir.join(MARKER)).is_ok_and(|m| m.is_file());
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let entries = fs::read_dir(&d).map_err(|e| format!("cannot read {}: {e}", d.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", d.display()))?;
            let path = entry.path();
            let rel = path.strip_prefix(dir).unwrap_or(&path).to_path_buf();
            let kind = entry
                .file_type()
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            if kind.is_dir() {
                todo.push(path);
            } else if !(kind.is_file() && (listed.contains(&rel) || rel == Path::new(MARKER))) {
                let why = match has_marker {
                    true => format!("{} was not written by infrac", rel.display()),
                    false => format!("it exists and was not written by infrac (no {MARKER} in it)"),
                };
                return refuse(why);
            }
        }
    }
    Ok(())
}

/// The paths a manifest lists; a manifest of an older infrac (no list)
/// lists nothing, so only an empty directory of it is replaced.
fn listed_paths(text: &str) -> HashSet<PathBuf> {
    let mut lines = text.lines();
    if lines.next() != Some(MARKER_HEAD) {
        return HashSet::new();
    }
    lines
        .filter_map(|l| serde_json::from_str::<String>(l).ok())
        .map(PathBuf::from)
        .collect()
}

fn lock() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    STAGING.lock().unwrap_or_else(|e| e.into_inner())
}

/// The name prefix of this process's staging directories: the pid tells
/// a later build whether the one that made it is still running.
fn prefix(kind: &str) -> String {
    format!(".infrac-{kind}-{}-", std::process::id())
}

/// A staging directory beside the output, removed when dropped or on a
/// signal, unless it became the output.
struct Staging {
    path: PathBuf,
}

impl Staging {
    fn new(parent: &Path) -> Result<Staging, String> {
        install_signal_cleanup();
        let dir = tempfile::Builder::new()
            .prefix(&prefix("build"))
            .tempdir_in(parent)
            .map_err(|e| {
                format!(
                    "cannot create a temporary directory in {}: {e}",
                    parent.display()
                )
            })?;
        let path = dir.keep();
        lock().push(path.clone());
        Ok(Staging { path })
    }

    /// Moves the old output aside, this one in, and drops the old one.
    fn swap_into(self, dir: &Path, parent: &Path) -> Result<(), String> {
        let mut held = lock();
        let aside = match dir.exists() {
            true => {
                let aside = tempfile::Builder::new()
                    .prefix(&prefix("old"))
                    .tempdir_in(parent)
                    .map_err(|e| {
                        format!(
                            "cannot create a temporary directory in {}: {e}",
                            parent.display()
                        )
                    })?
                    .keep();
                fs::rename(dir, aside.join("old")).map_err(|e| {
                    let _ = fs::remove_dir(&aside);
                    format!("cannot move {} aside: {e}", dir.display())
                })?;
                Some(aside)
            }
            false => None,
        };
        if let Err(e) = fs::rename(&self.path, dir) {
            // Put the old output back; the new one is dropped (by `Drop`).
            if let Some(aside) = &aside {
                let _ = fs::rename(aside.join("old"), dir);
                let _ = fs::remove_dir_all(aside);
            }
            drop(held);
            return Err(format!(
                "cannot move the new output into {}: {e}",
                dir.display()
            ));
        }
        held.retain(|p| *p != self.path);
        drop(held);
        std::mem::forget(self);
        if let Some(aside) = aside {
            let _ = fs::remove_dir_all(aside);
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let mut held = lock();
        let _ = fs::remove_dir_all(&self.path);
        held.retain(|p| *p != self.path);
    }
}

/// Once per process: on SIGINT, SIGTERM or SIGHUP, remove every staging
/// directory and exit as the signal would have (128 + its number).
#[cfg(unix)]
fn install_signal_cleanup() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                // Taken and kept: no file is written, and no swap begins,
                // after this point.
                let held = lock();
                for path in held.iter() {
                    let _ = fs::remove_dir_all(path);
                }
                std::process::exit(128 + signal);
            }
        });
    });
}

#[cfg(not(unix))]
fn install_signal_cleanup() {}

/// Removes staging directories of builds that are no longer running
/// (killed outright) from `parent`.
fn remove_stale(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name
            .strip_prefix(".infrac-build-")
            .or_else(|| name.strip_prefix(".infrac-old-"))
        else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !running(pid) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Whether a process `pid` exists (a process of another user counts).
#[cfg(unix)]
fn running(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // SAFETY: signal 0 checks for the process and sends nothing.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    alive || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn running(_: u32) -> bool {
    true
}

/// Replaces the file `path` with `text` in one rename, keeping its
/// permissions. Through a symlink, the file it points to is replaced; a
/// path that is not a regular file (a device, a FIFO, a socket, a
/// directory) is refused, and nothing is written.
pub(crate) fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let target = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            let real = fs::canonicalize(path)?;
            regular_or_refuse(&real, &fs::metadata(&real)?)?;
            real
        }
        Ok(meta) => {
            regular_or_refuse(path, &meta)?;
            path.to_path_buf()
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => path.to_path_buf(),
        Err(e) => return Err(e),
    };
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".infrac-fmt-")
        .tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    if let Ok(meta) = fs::metadata(&target) {
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    tmp.persist(&target).map_err(|e| e.error)?;
    Ok(())
}

fn regular_or_refuse(path: &Path, meta: &fs::Metadata) -> std::io::Result<()> {
    if meta.is_file() {
        return Ok(());
    }
    Err(std::io::Error::other(format!(
        "{} is not a regular file; infrac replaces only regular files",
        path.display()
    )))
}
