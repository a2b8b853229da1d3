//! `infrac lsp`: a Language Server for `.inf` files.
//!
//! Built on rust-analyzer's `lsp-server` (the message loop, stdio
//! transport, initialize and shutdown handshakes) and `lsp-types` (the
//! protocol's types): synchronous, no async runtime. A server for one
//! small language needs two threads, the one that reads messages and one
//! that compiles (see [`server`]); an async runtime would bring a
//! scheduler, a second ecosystem of channels and locks, and nothing this
//! server waits on (it never does IO but stdio).
//!
//! Every open buffer is compiled through the library's
//! [`crate::loader::MemoryLoader`] ([`analysis`]), so what the editor
//! shows is what `infrac check` says of the buffer as it is, saved or
//! not. The modules, one per kind of request:
//!
//! - [`server`]: the loop, the documents, and the compiler thread;
//! - [`analysis`]: one compiled buffer; [`index`]: its names;
//! - [`diagnostics`], [`hover`], [`navigate`] (definition, references),
//!   [`completion`], [`actions`] (code actions), [`symbols`] (outline
//!   and formatting); [`lines`]: offsets as LSP positions.

mod actions;
pub mod analysis;
mod completion;
mod diagnostics;
mod hover;
mod index;
mod lines;
mod navigate;
mod server;
mod symbols;

use std::path::PathBuf;

use lsp_types::{Location, Url};

pub use server::run;

/// Where the server finds what it links to.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// A directory holding the stdlib modules as files (`postgres.inf`):
    /// definitions into the stdlib open them. None: no such definitions.
    pub stdlib_dir: Option<PathBuf>,
    /// Where a finding's page is, for `codeDescription`.
    pub book: Book,
}

/// Where the finding pages are.
#[derive(Debug, Clone, Default)]
pub enum Book {
    /// The published book: `{base}/errors/E2001.html`.
    Url(String),
    /// A directory of the pages as Markdown (`E2001.md`).
    Dir(PathBuf),
    #[default]
    None,
}

impl Config {
    /// The page of finding `code`.
    pub fn page(&self, code: crate::diagnostics::Code) -> Option<Url> {
        match &self.book {
            Book::Url(base) => Url::parse(&format!(
                "{}/errors/{}.html",
                base.trim_end_matches('/'),
                code.code()
            ))
            .ok(),
            Book::Dir(dir) => Url::from_file_path(dir.join(format!("{}.md", code.code()))).ok(),
            Book::None => None,
        }
    }

    /// The file of stdlib module `name`.
    pub fn std_uri(&self, name: &str) -> Option<Url> {
        let dir = self.stdlib_dir.as_ref()?;
        Url::from_file_path(dir.join(format!("{name}.inf"))).ok()
    }

    /// Bytes `start..end` of stdlib module `name`.
    pub fn std_location(&self, name: &str, start: usize, end: usize) -> Option<Location> {
        let text = crate::stdlib::module(name)?;
        let lines = lines::Lines::new(text);
        let span = crate::span::Span::new(analysis::MAIN, start, end);
        Some(Location::new(self.std_uri(name)?, lines.range(text, span)))
    }

    /// Where `span` of a compilation is: in the buffer, or in a stdlib
    /// module it read.
    pub fn location(
        &self,
        analysis: &analysis::Analysis,
        span: crate::span::Span,
    ) -> Option<Location> {
        if span.file == analysis::MAIN {
            return Some(Location::new(analysis.uri.clone(), analysis.range(span)));
        }
        let name = &analysis.compiled.sources.get(span.file).name;
        let module = name.strip_prefix("std/")?.strip_suffix(".inf")?;
        self.std_location(module, span.start as usize, span.end as usize)
    }
}
