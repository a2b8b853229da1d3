//! The one entry point: a program (or a compose file) read through a
//! [`Loader`], parsed, checked, and handed back as a [`Compiled`] whose
//! model exists only when the program is sound.
//!
//! ```text
//! Loader ─ read ─▶ Sources ─ syntax::parse ─▶ ast::File ─ check ─▶ Compiled { model if sound }
//! Loader ─ read ─▶ Sources ─ import (resolve, map) ─▶ ast::File ─ check ─▶ Compiled
//! ```
//!
//! Every command (`check`, `build`, `graph`, `migrate`), the benches, the
//! fuzz targets and the tests' helpers go through here, so "sound" means
//! one thing everywhere: no error among the findings of reading, parsing,
//! the stdlib modules and the checker (warnings allowed; `--deny-warnings`
//! is the CLI's policy on top). Emitting is the caller's next step:
//! [`crate::backend::emit`] takes the model.

use std::path::{Path, PathBuf};

use crate::diagnostics::{self, Diagnostic};
use crate::import::{self, Imported};
use crate::ir::Model;
use crate::loader::{LoadError, Loader, MemoryLoader, MAX_FILE};
use crate::source::Sources;
use crate::span::{FileId, Span};
use crate::syntax::print::Trivia;
use crate::{check, syntax};

/// What compiling one program produced.
#[derive(Debug)]
pub struct Compiled {
    /// Every text read (the program, the stdlib modules it uses, the YAML
    /// of an import): what the diagnostics' spans point into.
    pub sources: Sources,
    /// Every finding, sorted and de-duplicated.
    pub diagnostics: Vec<Diagnostic>,
    /// Spans of secret values: renderers mask them in source snippets.
    pub redactions: Vec<Span>,
    /// The checked model, present only when no finding is an error: the
    /// only thing a backend may build.
    pub model: Option<Model>,
    /// The model of a program whose names and values were sound but whose
    /// rules found errors: never buildable, but drawable (`infrac graph`
    /// shows what is wrong with it).
    pub rejected: Option<Model>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The model to draw: the sound one, or the rejected one.
    pub fn drawable(&self) -> Option<&Model> {
        self.model.as_ref().or(self.rejected.as_ref())
    }

    /// A compilation that ended at a finding before there was a program.
    fn refused(sources: Sources, diagnostics: Vec<Diagnostic>) -> Compiled {
        Compiled {
            sources,
            diagnostics,
            redactions: Vec::new(),
            model: None,
            rejected: None,
        }
    }
}

/// A file the operating system would not give (missing, a directory, no
/// permission): a usage or IO error, not a finding about a program.
#[derive(Debug)]
pub struct Unreadable {
    pub path: PathBuf,
    pub error: std::io::Error,
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot read {}: {}", self.path.display(), self.error)
    }
}

/// Compiles the program `entry` as `loader` reads it. The program is named
/// in reports as `entry` is spelled.
pub fn compile(loader: &dyn Loader, entry: &Path) -> Result<Compiled, Unreadable> {
    compile_in(loader, Sources::new(), entry)
}

/// As [`compile`], adding to `sources` that already hold other programs'
/// texts, so several programs report as one (`infrac check A B`).
pub fn compile_in(
    loader: &dyn Loader,
    sources: Sources,
    entry: &Path,
) -> Result<Compiled, Unreadable> {
    compile_parsed(loader, sources, entry).map(|(compiled, _)| compiled)
}

/// As [`compile`], with the program's syntax tree (`None` when the file
/// was refused before it was parsed): the language server indexes the
/// names of the tree the check read, instead of parsing the text again.
pub fn compile_with_tree(
    loader: &dyn Loader,
    entry: &Path,
) -> Result<(Compiled, Option<crate::ast::File>), Unreadable> {
    compile_parsed(loader, Sources::new(), entry)
}

fn compile_parsed(
    loader: &dyn Loader,
    mut sources: Sources,
    entry: &Path,
) -> Result<(Compiled, Option<crate::ast::File>), Unreadable> {
    let name = entry.display().to_string();
    let text = match read(loader, &mut sources, entry, &name, None)? {
        Ok(text) => text,
        Err(refused) => return Ok((Compiled::refused(sources, vec![refused]), None)),
    };
    // Parsed before it is added, so the text is moved, not copied.
    let id = sources.next_id();
    let (ast, parse_diagnostics) = syntax::parse(id, &text);
    sources.add(name, text);
    let compiled = check_program(sources, &ast, parse_diagnostics, Vec::new(), true);
    Ok((compiled, Some(ast)))
}

/// A program given as text, named `name`: [`compile`] through a
/// [`MemoryLoader`] that holds only it. For tests and tools.
pub fn compile_text(name: &str, text: &str) -> Compiled {
    let loader = MemoryLoader::single(name, text);
    compile(&loader, Path::new(name)).expect("the memory loader holds the file it was given")
}

/// Checks a parsed program after `found` (the parser's or the importer's
/// findings): the stdlib modules it uses are added to `sources`, and the
/// model is kept only when nothing found is an error. A program whose
/// parse failed is not checked (`stop_at_errors`: its tree is empty); an
/// imported one is, since the import's errors leave the rest of the stack
/// worth reporting on.
fn check_program(
    mut sources: Sources,
    ast: &crate::ast::File,
    mut found: Vec<Diagnostic>,
    mut redactions: Vec<Span>,
    stop_at_errors: bool,
) -> Compiled {
    if stop_at_errors && found.iter().any(Diagnostic::is_error) {
        diagnostics::sort_and_dedup(&mut found);
        return Compiled {
            redactions,
            ..Compiled::refused(sources, found)
        };
    }
    let (modules, mut module_diagnostics) = check::load_modules(&mut sources, ast);
    found.append(&mut module_diagnostics);
    let checked = check::check_parsed(ast, &modules);
    found.extend(checked.diagnostics);
    redactions.extend(checked.redactions);
    redactions.sort();
    redactions.dedup();
    diagnostics::sort_and_dedup(&mut found);
    let mut compiled = Compiled {
        sources,
        diagnostics: found,
        redactions,
        model: checked.model,
        rejected: checked.rejected,
    };
    if compiled.has_errors() {
        compiled.rejected = compiled.model.take().or(compiled.rejected);
    }
    compiled
}

/// Imports the compose files `files` (in `-f` order) as `loader` reads
/// them, following what they name (`include`, `extends.file`, `env_file`)
/// through the same loader, with the project's variables and the budget
/// of `options`; returns the texts read with the import. Each file is
/// named in reports as spelled.
pub fn import(
    loader: &dyn Loader,
    files: &[PathBuf],
    options: &import::Options,
) -> Result<(Sources, Imported), Unreadable> {
    let mut sources = Sources::new();
    let mut ids = Vec::new();
    for path in files {
        let name = path.display().to_string();
        // Within the import's budget from the first byte: the resolver
        // charges these files too, but only once they have been read.
        match read_at_most(
            loader,
            &mut sources,
            path,
            &name,
            None,
            options.budget.bytes,
        )? {
            Ok(text) => ids.push((sources.add(name, text), Some(path.clone()))),
            Err(mut refused) => {
                if refused.code == crate::diagnostics::Code::InputTooLarge
                    && options.budget.bytes < MAX_FILE
                {
                    refused = refused.note(import::RAISE_BYTES);
                }
                let imported = Imported {
                    program: None,
                    trivia: Trivia::new(),
                    diagnostics: vec![refused],
                    redactions: Vec::new(),
                    project: None,
                    connections: Vec::new(),
                };
                return Ok((sources, imported));
            }
        }
    }
    let imported = import::import_files_with(loader, &mut sources, &ids, options);
    Ok((sources, imported))
}

/// Checks an imported program as it stands, its spans pointing into the
/// YAML, after the import's own findings: sound only when neither the
/// import nor the checker found an error.
pub fn check_imported(sources: Sources, imported: &Imported) -> Compiled {
    let found = imported.diagnostics.clone();
    let redactions = imported.redactions.clone();
    match &imported.program {
        Some(program) => check_program(sources, program, found, redactions, false),
        None => Compiled {
            redactions,
            ..Compiled::refused(sources, found)
        },
    }
}

/// Reads `path` as text (not yet added to `sources`): `Ok(Ok(text))`, or a refusal
/// said as a finding (`Ok(Err)`, the file added to `sources` so the
/// finding can show it), or an operating-system error.
///
/// `at` is where another file names this one; a refusal of a file named
/// on the command line points at the start of the file itself.
pub(crate) fn read(
    loader: &dyn Loader,
    sources: &mut Sources,
    path: &Path,
    name: &str,
    at: Option<Span>,
) -> Result<Result<String, Diagnostic>, Unreadable> {
    read_at_most(loader, sources, path, name, at, MAX_FILE)
}

/// [`read`], refusing a file of more than `limit` bytes.
fn read_at_most(
    loader: &dyn Loader,
    sources: &mut Sources,
    path: &Path,
    name: &str,
    at: Option<Span>,
    limit: u64,
) -> Result<Result<String, Diagnostic>, Unreadable> {
    match loader.text(path, limit.min(MAX_FILE)) {
        Ok(text) => Ok(Ok(text)),
        Err(LoadError::Io(error)) => Err(Unreadable {
            path: path.to_path_buf(),
            error,
        }),
        Err(refused) => Ok(Err(refusal(sources, &refused, name, at))),
    }
}

/// The finding for a refused read of the file `name`, adding the file to
/// `sources`: its text as far as it can be shown (an invalid byte is shown
/// as U+FFFD), or nothing when it was not read.
pub(crate) fn refusal(
    sources: &mut Sources,
    refused: &LoadError,
    name: &str,
    at: Option<Span>,
) -> Diagnostic {
    let (text, at_byte) = match refused {
        LoadError::NotUtf8 { offset, text, .. } => {
            let end = offset + char::REPLACEMENT_CHARACTER.len_utf8();
            (text.clone(), Some((*offset, end)))
        }
        _ => (String::new(), None),
    };
    let id: FileId = match (at, at_byte) {
        (Some(at), None) => at.file,
        _ => sources.add(name, text),
    };
    let span = at.unwrap_or(Span::new(id, 0, 0));
    let at_byte = at_byte.map(|(start, end)| Span::new(id, start, end));
    let mut d = refused
        .diagnostic(name, span, at_byte)
        .expect("an operating-system error is not a refusal");
    if let (Some(at), Some(_)) = (at, at_byte) {
        d = d.secondary(at, "named here");
    }
    d
}
