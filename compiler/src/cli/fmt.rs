//! `infrac fmt FILE... [--check]`: rewrite programs in the canonical form
//! (see [`crate::syntax::print`]), comments kept.
//!
//! A file is replaced atomically (a temporary file beside it, renamed over
//! it; see [`super::write::replace`]) and only when its text changes. A file with a syntax error is
//! reported like `check` does and left untouched. `--check` writes nothing
//! and lists the files that would change.

use super::output::{errln, outln};
use std::path::PathBuf;

use super::{Color, Outcome};
use crate::loader::FsLoader;
use crate::source::Sources;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The programs to format (`.inf` files).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write nothing; exit 1 and list the files whose formatting differs.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: Args, color: Color) -> Outcome {
    let mut sources = Sources::new();
    let mut failed = false;
    let mut unformatted = Vec::new();
    for path in &args.files {
        let name = path.display().to_string();
        let text = match crate::compile::read(&FsLoader, &mut sources, path, &name, None) {
            Ok(Ok(text)) => text,
            Ok(Err(refused)) => {
                super::eprint_report(&[refused], &sources, &[], color);
                errln!("{}: not formatted (fix the errors above)", path.display());
                failed = true;
                continue;
            }
            Err(e) => return super::unreadable(e),
        };
        let id = sources.add(name, text.clone());
        match crate::syntax::format(id, &text) {
            Err(mut diagnostics) => {
                crate::diagnostics::sort_and_dedup(&mut diagnostics);
                super::eprint_report(&diagnostics, &sources, &[], color);
                errln!("{}: not formatted (fix the errors above)", path.display());
                failed = true;
            }
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                if args.check {
                    unformatted.push(path);
                    continue;
                }
                if let Err(e) = super::write::replace(path, &formatted) {
                    errln!("error: cannot write {}: {e}", path.display());
                    return Outcome::UsageOrIo;
                }
                errln!("formatted {}", path.display());
            }
        }
    }
    for path in &unformatted {
        outln!("{}", path.display());
    }
    if !unformatted.is_empty() {
        errln!(
            "{} file(s) would be reformatted; run `infrac fmt` on them",
            unformatted.len()
        );
    }
    if failed || !unformatted.is_empty() {
        Outcome::Findings
    } else {
        Outcome::Clean
    }
}
