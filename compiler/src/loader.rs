//! Every file the library reads, it reads through a [`Loader`] (Typst's
//! `World`, Gleam's file-system reader): the program, the compose files of
//! an import and everything they name (`-f` overrides, `include`,
//! `extends.file`, `env_file`). The stdlib is embedded and needs none.
//!
//! The CLI passes an [`FsLoader`]; tests, fuzz targets and (later) the
//! editor server pass a [`MemoryLoader`] of unsaved buffers. This is the
//! only module of the library that touches `std::fs`.
//!
//! A read is bounded whatever the file is: only regular files are read
//! (a device, a FIFO or a socket is refused before a byte is taken, and
//! opening never waits for a FIFO's writer); the size limit is enforced
//! while reading, so a file that is larger than its metadata says (a
//! device, a file still growing) is cut off at the limit rather than
//! read whole; and text that is not UTF-8 is refused at its first bad
//! byte. What a refusal becomes is up to the caller: [`LoadError::diagnostic`]
//! says it as a finding (`E0005`–`E0007`) where a finding is wanted.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::diagnostics::{Code, Diagnostic};
use crate::span::Span;

/// The largest file a span can address: spans are 32-bit byte offsets.
pub const MAX_FILE: u64 = u32::MAX as u64;

/// Where a compilation's files come from.
pub trait Loader {
    /// The bytes of the regular file at `path`, refused when there are
    /// more than `limit` of them.
    fn read(&self, path: &Path, limit: u64) -> Result<Vec<u8>, LoadError>;

    /// The one name of the file `path` names, for telling two spellings
    /// of one file apart (`a/../b.yml` and `b.yml`): the key under which
    /// a file is read once and a cycle is recognised. A path that names
    /// nothing is returned as it was given.
    fn canonical(&self, path: &Path) -> PathBuf;

    /// The text of the file at `path`: [`Loader::read`], then UTF-8.
    fn text(&self, path: &Path, limit: u64) -> Result<String, LoadError> {
        decode(self.read(path, limit)?)
    }
}

/// Why a file was not read.
#[derive(Debug)]
pub enum LoadError {
    /// The operating system refused (missing, a directory, no permission).
    Io(std::io::Error),
    /// The path names something other than a regular file.
    NotRegular(&'static str),
    /// The file holds more than `limit` bytes.
    TooLarge { limit: u64 },
    /// The bytes are not UTF-8: the first bad one is at `offset`. `text`
    /// is the file with every bad sequence replaced by U+FFFD (the same
    /// bytes up to `offset`), so a report can show where it is.
    NotUtf8 {
        offset: usize,
        byte: u8,
        text: String,
    },
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Io(e) => write!(f, "{e}"),
            LoadError::NotRegular(kind) => write!(f, "it is {kind}, not a regular file"),
            LoadError::TooLarge { limit } => write!(f, "it holds more than {limit} bytes"),
            LoadError::NotUtf8 { offset, byte, .. } => {
                write!(
                    f,
                    "it is not UTF-8 text (byte 0x{byte:02x} at offset {offset})"
                )
            }
        }
    }
}

impl LoadError {
    /// The finding for a refused read of the file `shown`, at `span`
    /// (where the program or compose file names it, or the start of the
    /// file itself); `None` for an operating-system error, which is the
    /// caller's to report (a usage error for a program, an import-loss
    /// for a file a compose file names).
    ///
    /// For text that is not UTF-8, `span` is ignored: the finding points
    /// at the bad byte in `at_byte`, the file as added to the sources.
    pub fn diagnostic(&self, shown: &str, span: Span, at_byte: Option<Span>) -> Option<Diagnostic> {
        Some(match self {
            LoadError::Io(_) => return None,
            LoadError::NotRegular(kind) => Diagnostic::new(
                Code::NotARegularFile,
                span,
                format!("{shown} is {kind}, not a regular file; it is not read"),
            )
            .label("not a regular file")
            .help("name a file: infrac never reads devices, FIFOs, sockets or the kernel's /proc and /sys files, which may never end or never answer"),
            LoadError::TooLarge { limit } => Diagnostic::new(
                Code::InputTooLarge,
                span,
                format!("{shown} is too large: it holds more than {limit} bytes, and is not read"),
            )
            .label("too large")
            .help(format!("infrac reads files of up to {limit} bytes: split it, or check that it is the file you meant")),
            LoadError::NotUtf8 { offset, byte, .. } => Diagnostic::new(
                Code::NotUtf8,
                at_byte.unwrap_or(span),
                format!("{shown} is not UTF-8 text: byte 0x{byte:02x} at offset {offset} is not part of a character"),
            )
            .label("not UTF-8")
            .help("save the file as UTF-8 (a Latin-1 or UTF-16 editor setting is the usual cause)"),
        })
    }
}

/// Bytes as text, or where they stop being UTF-8.
pub fn decode(bytes: Vec<u8>) -> Result<String, LoadError> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            Err(LoadError::NotUtf8 {
                offset,
                byte: bytes[offset],
                text: String::from_utf8_lossy(&bytes).into_owned(),
            })
        }
    }
}

/// The file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsLoader;

impl Loader for FsLoader {
    fn read(&self, path: &Path, limit: u64) -> Result<Vec<u8>, LoadError> {
        let file = open(path).map_err(LoadError::Io)?;
        // The metadata of the handle that was opened, not of the path: the
        // file read is the file checked.
        let meta = file.metadata().map_err(LoadError::Io)?;
        let kind = meta.file_type();
        // A directory is left to the read, which fails as the system says
        // (a usage error, not a finding).
        if !kind.is_file() && !kind.is_dir() {
            return Err(LoadError::NotRegular(kind_name(&kind)));
        }
        if let Some(kind) = pseudo_file(&file) {
            return Err(LoadError::NotRegular(kind));
        }
        // A regular file's length is an early answer, not the check: the
        // read below stops at the limit whatever the length said.
        if kind.is_file() && meta.len() > limit {
            return Err(LoadError::TooLarge { limit });
        }
        let hint = meta.len().min(limit) as usize;
        let mut bytes = Vec::with_capacity(hint.saturating_add(1));
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(LoadError::Io)?;
        if bytes.len() as u64 > limit {
            return Err(LoadError::TooLarge { limit });
        }
        Ok(bytes)
    }

    fn canonical(&self, path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
    }
}

/// Opens for reading without waiting: a FIFO without a writer would block
/// `open` itself, before its metadata could say what it is.
#[cfg(unix)]
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// A file of the kernel's pseudo-file systems (`/proc`, `/sys`, debugfs,
/// tracefs) says it is regular and holds 0 bytes, then invents what it
/// gives: `/proc/self/pagemap` gives gigabytes (the fuzzing page's
/// adversarial run: `infrac import /proc/self/pagemap` read until memory
/// ran out), `trace_pipe` never ends. None is a program or a compose file.
#[cfg(target_os = "linux")]
fn pseudo_file(file: &std::fs::File) -> Option<&'static str> {
    use std::os::fd::AsRawFd;
    const PROC: i64 = 0x9fa0;
    const SYSFS: i64 = 0x6265_6572;
    const DEBUGFS: i64 = 0x6462_6720;
    const TRACEFS: i64 = 0x7472_6163;
    // SAFETY: `statfs` is plain data, and fstatfs only writes into it.
    let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: a descriptor this function borrows, open for its duration.
    if unsafe { libc::fstatfs(file.as_raw_fd(), &mut fs) } != 0 {
        return None;
    }
    #[allow(clippy::unnecessary_cast)] // f_type's width differs by platform
    match fs.f_type as i64 {
        PROC | SYSFS | DEBUGFS | TRACEFS => Some("a file of the kernel's /proc or /sys"),
        _ => None,
    }
}

#[cfg(not(target_os = "linux"))]
fn pseudo_file(_: &std::fs::File) -> Option<&'static str> {
    None
}

#[cfg(unix)]
fn kind_name(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

#[cfg(not(unix))]
fn kind_name(_: &std::fs::FileType) -> &'static str {
    "not a file"
}

/// Files held in memory, by path: tests, fuzz targets, an editor's
/// unsaved buffers. Paths are compared after lexical normalisation (`.`
/// and `..` resolved), the canonical form of a tree without links.
#[derive(Debug, Clone, Default)]
pub struct MemoryLoader {
    files: BTreeMap<PathBuf, Vec<u8>>,
}

impl MemoryLoader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the file `path`.
    pub fn insert(&mut self, path: impl AsRef<Path>, bytes: impl Into<Vec<u8>>) -> &mut Self {
        self.files.insert(normalise(path.as_ref()), bytes.into());
        self
    }

    /// A loader holding one file.
    pub fn single(path: impl AsRef<Path>, bytes: impl Into<Vec<u8>>) -> Self {
        let mut loader = Self::new();
        loader.insert(path, bytes);
        loader
    }
}

impl Loader for MemoryLoader {
    fn read(&self, path: &Path, limit: u64) -> Result<Vec<u8>, LoadError> {
        let bytes = self.files.get(&normalise(path)).ok_or_else(|| {
            LoadError::Io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "No such file or directory (os error 2)",
            ))
        })?;
        if bytes.len() as u64 > limit {
            return Err(LoadError::TooLarge { limit });
        }
        Ok(bytes.clone())
    }

    fn canonical(&self, path: &Path) -> PathBuf {
        normalise(path)
    }
}

/// `path` with `.` dropped and `..` taking the component before it.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The text of every example program (`examples/*/main.inf`), for the
/// library's own unit tests: here, so no other module of the library
/// touches the file system.
#[cfg(test)]
pub(crate) fn example_programs() -> Vec<String> {
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(examples)
        .expect("the examples directory")
        .flatten()
        .map(|e| e.path().join("main.inf"))
        .collect();
    dirs.sort();
    dirs.iter()
        .filter_map(|p| FsLoader.text(p, MAX_FILE).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_paths_are_normalised() {
        let loader = MemoryLoader::single("a/b/../c.yml", "x");
        assert_eq!(loader.text(Path::new("./a/c.yml"), 10).unwrap(), "x");
        assert_eq!(
            loader.canonical(Path::new("a/./d/../c.yml")),
            PathBuf::from("a/c.yml")
        );
    }

    #[test]
    fn the_limit_is_inclusive() {
        let loader = MemoryLoader::single("f", "12345");
        assert!(loader.read(Path::new("f"), 5).is_ok());
        assert!(matches!(
            loader.read(Path::new("f"), 4),
            Err(LoadError::TooLarge { limit: 4 })
        ));
    }

    #[test]
    fn the_first_bad_byte_is_found() {
        let Err(LoadError::NotUtf8 { offset, byte, text }) = decode(b"ok\n\xffrest".to_vec())
        else {
            panic!("not refused")
        };
        assert_eq!((offset, byte), (3, 0xff));
        assert_eq!(text, "ok\n\u{fffd}rest");
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_refused_before_reading() {
        let started = std::time::Instant::now();
        let refused = FsLoader.read(Path::new("/dev/zero"), 1 << 30);
        assert!(matches!(
            refused,
            Err(LoadError::NotRegular("a character device"))
        ));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    /// A file whose metadata says 0 bytes while it holds more (the
    /// kernel's pseudo-files, where the size guard once looked at the
    /// metadata): refused before a byte is read, however large the limit.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_kernels_pseudo_files_are_refused_whatever_their_metadata_says() {
        let status = Path::new("/proc/self/status");
        assert_eq!(std::fs::metadata(status).unwrap().len(), 0);
        assert!(matches!(
            FsLoader.read(status, 1 << 30),
            Err(LoadError::NotRegular(_))
        ));
    }

    #[test]
    fn a_directory_is_an_operating_system_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            FsLoader.read(dir.path(), 100),
            Err(LoadError::Io(_))
        ));
    }

    #[test]
    fn the_size_is_checked_while_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "0123456789").unwrap();
        assert_eq!(FsLoader.read(&path, 10).unwrap().len(), 10);
        assert!(matches!(
            FsLoader.read(&path, 9),
            Err(LoadError::TooLarge { limit: 9 })
        ));
    }
}
