//! One open buffer, compiled: what every request about it reads.
//!
//! The buffer is compiled through a [`MemoryLoader`] holding only its
//! text, under the path its URI names, so unsaved edits are what is
//! checked, `use std/x` reads the embedded stdlib as the CLI does, and
//! the findings are the ones `infrac check` gives for the saved file.

use std::path::{Path, PathBuf};

use lsp_types::Url;

use super::index::Index;
use super::lines::Lines;
use crate::ast;
use crate::compile::{self, Compiled};
use crate::loader::MemoryLoader;
use crate::span::FileId;

/// The program's own file: the first text a compilation reads.
pub const MAIN: FileId = FileId(0);

#[derive(Debug)]
pub struct Analysis {
    pub uri: Url,
    pub version: i32,
    pub text: String,
    pub lines: Lines,
    pub compiled: Compiled,
    /// The program's syntax tree (empty items when it does not parse).
    pub ast: ast::File,
    pub index: Index,
}

/// The path a document is compiled as: its file path, or (for an
/// unsaved `untitled:` buffer) its URI's path.
pub fn path_of(uri: &Url) -> PathBuf {
    uri.to_file_path()
        .unwrap_or_else(|_| PathBuf::from(uri.path().trim_start_matches('/')))
}

pub fn analyse(uri: Url, version: i32, text: String) -> Analysis {
    let path = path_of(&uri);
    let loader = MemoryLoader::single(&path, text.as_bytes());
    // The tree the check parsed (the program is the first text read, so
    // its spans are in `MAIN`): one parse per edit, not two.
    let (compiled, ast) = compile::compile_with_tree(&loader, Path::new(&path))
        .expect("the memory loader holds the buffer it was given");
    let ast = ast.unwrap_or(ast::File {
        items: Vec::new(),
        span: crate::span::Span::new(MAIN, 0, 0),
    });
    let index = Index::of(&ast);
    Analysis {
        uri,
        version,
        lines: Lines::new(&text),
        text,
        compiled,
        ast,
        index,
    }
}

impl Analysis {
    /// The byte offset of an LSP position in the buffer.
    pub fn offset(&self, position: lsp_types::Position) -> usize {
        self.lines.offset(&self.text, position)
    }

    pub fn range(&self, span: crate::span::Span) -> lsp_types::Range {
        self.lines.range(&self.text, span)
    }

    /// The model to answer from: the sound one, or the one whose rules
    /// found errors (the very program the user is fixing).
    pub fn model(&self) -> Option<&crate::ir::Model> {
        self.compiled.drawable()
    }
}
