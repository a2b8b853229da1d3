//! Where `build` puts each file as a backend finishes it: the staging
//! directory of the output ([`super::write::Staged`]), or a spool for
//! `--stdout`. Either way a file is written as soon as it is complete and
//! then dropped, and nothing is published until the build has found no
//! error: the staging directory is swapped into place, the spool copied
//! to stdout.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::write::Staged;

/// The files of one build, not yet published.
pub(super) struct Output {
    to: To,
    /// The paths written: targets may share a file (compose and swarm
    /// both write the compose-lint exclusions); it is the same file,
    /// written once. Hashed as bytes (`Path`'s hash splits components).
    seen: HashSet<Vec<u8>>,
}

pub(super) enum To {
    /// The build cannot be published (it failed already): the files are
    /// dropped as they come, and only the diagnostics are kept.
    Nowhere,
    /// The output could not be opened; said after the diagnostics.
    Unopened(String),
    Dir(Staged),
    Stdout(Spool),
}

impl Output {
    pub(super) fn new(to: To) -> Output {
        Output {
            to,
            seen: HashSet::new(),
        }
    }

    pub(super) fn into_inner(self) -> To {
        self.to
    }
}

impl crate::backend::Sink for Output {
    fn file(&mut self, path: &Path, contents: &str) {
        if !self
            .seen
            .insert(path.as_os_str().as_encoded_bytes().to_vec())
        {
            return;
        }
        match &mut self.to {
            To::Nowhere | To::Unopened(_) => {}
            To::Dir(staged) => staged.file(path, contents),
            To::Stdout(spool) => spool.file(path, contents),
        }
    }
}

/// `--stdout`'s files, kept aside until the build is known to be clean:
/// in an unnamed temporary file (the memory of a file per file already
/// written would be the output's size), or in memory where no temporary
/// file can be made.
pub(super) struct Spool {
    store: Store,
    files: usize,
    /// The length of the first file's `# ---- path` line, which a build of
    /// one file does not print.
    first_marker: usize,
    failed: Option<std::io::Error>,
}

enum Store {
    File(BufWriter<File>),
    Memory(Vec<u8>),
}

impl Spool {
    pub(super) fn new() -> Spool {
        let store = match tempfile::tempfile() {
            Ok(file) => Store::File(BufWriter::with_capacity(256 << 10, file)),
            Err(_) => Store::Memory(Vec::new()),
        };
        Spool {
            store,
            files: 0,
            first_marker: 0,
            failed: None,
        }
    }

    fn file(&mut self, path: &Path, contents: &str) {
        if self.failed.is_some() {
            return;
        }
        // Every file under a line naming it; the first one's is skipped
        // when it turns out to be the only file.
        let marker = format!("# ---- {}\n", path.display());
        if self.files == 0 {
            self.first_marker = marker.len();
        }
        self.files += 1;
        let result = match &mut self.store {
            Store::File(w) => w
                .write_all(marker.as_bytes())
                .and_then(|()| w.write_all(contents.as_bytes())),
            Store::Memory(v) => {
                v.extend_from_slice(marker.as_bytes());
                v.extend_from_slice(contents.as_bytes());
                Ok(())
            }
        };
        if let Err(e) = result {
            self.failed = Some(e);
        }
    }

    /// Copies what was spooled to stdout.
    pub(super) fn publish(self) -> Result<(), String> {
        let failed = |e: std::io::Error| format!("cannot spool the output for --stdout: {e}");
        if let Some(e) = self.failed {
            return Err(failed(e));
        }
        let skip = if self.files == 1 {
            self.first_marker
        } else {
            0
        };
        match self.store {
            Store::Memory(v) => {
                super::output::stdout_bytes(&v[skip..]);
                Ok(())
            }
            Store::File(w) => {
                let mut file = w.into_inner().map_err(|e| failed(e.into_error()))?;
                file.seek(SeekFrom::Start(skip as u64)).map_err(failed)?;
                let mut block = vec![0u8; 256 << 10];
                loop {
                    let n = file.read(&mut block).map_err(failed)?;
                    // A reader that went away stops the copy (output.rs).
                    if n == 0 || !super::output::stdout_bytes(&block[..n]) {
                        return Ok(());
                    }
                }
            }
        }
    }
}
