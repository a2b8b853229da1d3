//! `infrac lsp`: the language server on stdin and stdout.
//!
//! The server itself is the library's ([`crate::lsp`]); what is here is
//! what touches the file system: the stdlib modules and the finding pages
//! written once per version under the user's cache directory, so that a
//! definition can open `std/postgres.inf` and a diagnostic's link can open
//! its page without a network.

use std::path::{Path, PathBuf};

use super::output::errln;
use super::Outcome;
use crate::lsp::{Book, Config};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Base address of the published book: diagnostics link to
    /// `URL/errors/CODE.html` (default: the pages as files in the cache).
    #[arg(long, value_name = "URL")]
    pub book_url: Option<String>,
}

pub fn run(args: Args) -> Outcome {
    let dir = cache_dir();
    let written = dir.as_deref().and_then(|d| write_files(d).ok());
    let config = Config {
        stdlib_dir: written.as_ref().map(|d| d.join("std")),
        book: match (args.book_url, &written) {
            (Some(url), _) => Book::Url(url),
            (None, Some(d)) => Book::Dir(d.join("errors")),
            (None, None) => Book::None,
        },
    };
    let (connection, io) = lsp_server::Connection::stdio();
    let served = crate::lsp::run(&connection, config);
    drop(connection);
    let joined = io.join();
    match (served, joined) {
        (Ok(()), Ok(())) => Outcome::Clean,
        (Err(e), _) => {
            errln!("error: infrac lsp: {e}");
            Outcome::UsageOrIo
        }
        (_, Err(e)) => {
            errln!("error: infrac lsp: {e}");
            Outcome::UsageOrIo
        }
    }
}

/// `$XDG_CACHE_HOME/infrac/VERSION`, else `~/.cache/infrac/VERSION`.
fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("infrac").join(env!("CARGO_PKG_VERSION")))
}

/// Writes the stdlib and the finding pages under `dir` (unchanged files
/// are left alone); returns `dir`.
fn write_files(dir: &Path) -> std::io::Result<PathBuf> {
    let std_dir = dir.join("std");
    let errors = dir.join("errors");
    std::fs::create_dir_all(&std_dir)?;
    std::fs::create_dir_all(&errors)?;
    for (name, text) in crate::stdlib::MODULES {
        write_if_changed(&std_dir.join(format!("{name}.inf")), text)?;
    }
    for code in crate::diagnostics::Code::ALL {
        write_if_changed(&errors.join(format!("{}.md", code.code())), code.page())?;
    }
    Ok(dir.to_path_buf())
}

fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    // Written beside and renamed: two servers starting at once never see
    // a half-written module.
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(text.as_bytes())?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}
