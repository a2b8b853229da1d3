//! Before the import proper: the files a compose file names, followed.
//!
//! Compose reads more than one file: `docker compose -f a.yml -f b.yml`
//! merges overrides, `include:` adds another file's resources, a service's
//! `extends:` starts from a base service (of the same file or of `file:`),
//! and `env_file:` adds the variables of a dotenv file. This module resolves
//! all four into one positioned tree, with compose's merge rules
//! ([`merge`]), so the importer sees the stack compose would run. Every
//! node keeps the span of the file it was written in (each file read is
//! added to the [`Sources`]), so a finding about a port from a base
//! service names the base file's line.
//!
//! Every file is read through the [`Loader`], once: a file included or
//! extended from many places is read, parsed and resolved once, so the
//! work is linear in what is read, not in the number of ways to reach it.
//! What an import takes in is bounded (a [`Budget`]: by default
//! [`MAX_IMPORT_BYTES`] and [`MAX_IMPORT_FILES`]); past the budget the
//! import stops with an `E0008` that names the chain of files that led
//! there.
//!
//! What cannot be followed (no path was given, a file is missing, a
//! cycle) is a `W6001` at the key that names it; the key is then dropped
//! from the tree, so the importer does not report it a second time. A
//! file that is there but must not be read (a device, too large, not
//! UTF-8) ends the import with its finding.

mod dotenv;
mod include;
mod merge;
mod services;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::yaml::{self, Kind, Node};
use crate::diagnostics::{Code, Diagnostic};
use crate::loader::{LoadError, Loader, MAX_FILE};
use crate::source::Sources;
use crate::span::{FileId, Span};
use dotenv::dotenv;
use merge::merge_files;

/// How deep `extends` and `include` may chain before the import stops
/// following them (compose has no limit; a cycle is caught separately).
const MAX_CHAIN: usize = 32;

/// The bytes one import takes in: every file read, and again each time a
/// resolved file is merged in from another place (an `include` of a file
/// already included, a dotenv file named by another service). Real stacks
/// are a few hundred kilobytes; this bounds a crafted one.
pub const MAX_IMPORT_BYTES: u64 = 32 << 20;

/// The files one import reads (compose files and dotenv files).
pub const MAX_IMPORT_FILES: usize = 256;

/// How a user whose stack is this large on purpose raises the budget.
pub(crate) const RAISE_BYTES: &str =
    "for a stack this large on purpose, raise the budget: `infrac import --max-bytes 128M`";

/// What one import may take in: bytes (every file read, and each merge of
/// a resolved file again) and files. The default is
/// [`MAX_IMPORT_BYTES`] and [`MAX_IMPORT_FILES`]; `infrac import
/// --max-bytes` raises the bytes for a stack known to be larger (a
/// generated one of 100,000 services is 46.5 MB). The other bounds on
/// hostile input (a file's own size, alias expansion, interpolation, the
/// chain depth) do not move with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub bytes: u64,
    pub files: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            bytes: MAX_IMPORT_BYTES,
            files: MAX_IMPORT_FILES,
        }
    }
}

pub(crate) struct Resolver<'s> {
    loader: &'s dyn Loader,
    sources: &'s mut Sources,
    /// The canonical path of every file that may be followed (relative
    /// names resolve against its directory). A file without one is text only.
    paths: HashMap<FileId, PathBuf>,
    /// Files already read, by canonical path.
    read: HashMap<PathBuf, (FileId, Rc<Node>)>,
    /// Dotenv files already read (a base service resolved twice reads its
    /// `env_file` once).
    env_read: HashMap<PathBuf, FileId>,
    /// Files already resolved, with the bytes their resolution took in.
    files_done: HashMap<FileId, (Node, u64)>,
    /// Files resolved at least once. A resolution cut by a cycle or the
    /// depth limit is not memoised, so a file included from many places
    /// past the cut is walked again each time: each walk after the first
    /// is charged its text (at least 4 KiB: the walk is the cost), or a
    /// doubling include tree deeper than the
    /// chain limit would be walked 2^depth ways within the budget.
    resolved_once: std::collections::HashSet<FileId>,
    /// Services already resolved, by file and name.
    services_done: HashMap<(FileId, String), Option<Node>>,
    /// Each file's services by name (their position in its `services`),
    /// built once per file: `extends` looks its base up for every service,
    /// and a search of the mapping made that quadratic in the services.
    service_index: HashMap<FileId, HashMap<String, usize>>,
    /// How many times a cycle or the depth limit cut a resolution short:
    /// a result computed across a cut depends on where it was reached
    /// from, and is not reused.
    cuts: usize,
    /// The files being resolved, outermost first: a cycle guard, and the
    /// chain a budget finding names.
    chain: Vec<(PathBuf, FileId)>,
    /// The services whose `extends` is being resolved: a cycle guard.
    extending: Vec<(FileId, String)>,
    /// What the import has taken in so far (bytes, files), and what it may.
    taken: (u64, usize),
    budget: Budget,
    /// The project's variables (`.env`), interpolated into every file as
    /// it is read, before its `extends` and `env_file` are followed.
    pub vars: super::interp::Vars,
    pub diagnostics: Vec<Diagnostic>,
    /// A top-level `include` was present (the file may then have no
    /// `services` of its own and still be valid).
    pub had_include: bool,
}

impl<'s> Resolver<'s> {
    pub fn new(loader: &'s dyn Loader, sources: &'s mut Sources, budget: Budget) -> Self {
        Resolver {
            loader,
            sources,
            paths: HashMap::new(),
            read: HashMap::new(),
            env_read: HashMap::new(),
            files_done: HashMap::new(),
            resolved_once: std::collections::HashSet::new(),
            services_done: HashMap::new(),
            service_index: HashMap::new(),
            cuts: 0,
            chain: Vec::new(),
            extending: Vec::new(),
            taken: (0, 0),
            budget,
            vars: super::interp::Vars::new(),
            diagnostics: Vec::new(),
            had_include: false,
        }
    }

    fn lose(&mut self, span: Span, message: impl Into<String>, label: &str, help: &str) {
        let mut d = Diagnostic::new(Code::ImportLoss, span, message).label(label);
        if !help.is_empty() {
            d = d.help(help);
        }
        self.diagnostics.push(d);
    }

    /// The files `files` (in `-f` order, each with its path when it may
    /// be followed) resolved and merged into one tree.
    pub fn resolve(&mut self, files: &[(FileId, Option<PathBuf>)]) -> Result<Node, Diagnostic> {
        let mut merged: Option<Node> = None;
        for (id, path) in files {
            let text = self.sources.get(*id).text.clone();
            let start = Span::new(*id, 0, 0);
            self.count(start)?;
            self.charge(text.len() as u64, start)?;
            let mut pushed = false;
            if let Some(p) = path {
                let canonical = self.loader.canonical(p);
                self.paths.insert(*id, canonical.clone());
                self.chain.push((canonical, *id));
                pushed = true;
            }
            let mut parsed = yaml::parse(*id, &text)?;
            self.diagnostics.extend(parsed.warnings);
            super::interp::substitute_tree(&mut parsed.root, &self.vars);
            let root = self.file(*id, parsed.root)?;
            if pushed {
                self.chain.pop();
            }
            merged = Some(match merged {
                None => root,
                Some(base) => merge_files(&base, &root),
            });
        }
        Ok(merged.unwrap_or_else(|| Node {
            kind: Kind::Map(Vec::new()),
            span: Span::new(FileId(0), 0, 0),
        }))
    }

    /// One file's tree with its `include`, `extends` and `env_file` resolved.
    fn file(&mut self, id: FileId, mut root: Node) -> Result<Node, Diagnostic> {
        let Kind::Map(entries) = &mut root.kind else {
            return Ok(root);
        };
        // Services first: their `extends` may name services of this file.
        // Most files have neither key: they are not copied for nothing.
        let follows = |(_, body): &(Node, Node)| {
            body.get("extends").is_some() || body.get("env_file").is_some()
        };
        let any = entries
            .iter()
            .find(|(k, _)| k.scalar() == Some("services"))
            .and_then(|(_, s)| s.entries())
            .is_some_and(|list| list.iter().any(follows));
        if any {
            let original = Node {
                kind: Kind::Map(entries.clone()),
                span: root.span,
            };
            if let Some((_, services)) = entries
                .iter_mut()
                .find(|(k, _)| k.scalar() == Some("services"))
            {
                if let Kind::Map(list) = &mut services.kind {
                    for (key, body) in list.iter_mut() {
                        let name = key.scalar().unwrap_or_default().to_string();
                        if let Some(s) = self.service(id, &original, &name, 0)? {
                            *body = s;
                        }
                    }
                }
            }
        }
        let include = entries
            .iter()
            .position(|(k, _)| k.scalar() == Some("include"));
        if let Some(at) = include {
            self.had_include = true;
            let (_, list) = entries.remove(at);
            self.include(id, &mut root, &list)?;
        }
        Ok(root)
    }

    /// The file `id` (tree `root`, as read) resolved, once: a file that
    /// is included again is merged in from the first resolution, and
    /// charged what that resolution took in.
    fn resolved_file(&mut self, id: FileId, root: &Node, at: Span) -> Result<Node, Diagnostic> {
        if let Some((node, bytes)) = self.files_done.get(&id) {
            let (node, bytes) = (node.clone(), *bytes);
            self.charge(bytes, at)?;
            return Ok(node);
        }
        if !self.resolved_once.insert(id) {
            self.charge(self.sources.get(id).text.len().max(4096) as u64, at)?;
        }
        let (before, cuts) = (self.taken.0, self.cuts);
        let resolved = self.file(id, root.clone())?;
        if self.cuts == cuts {
            let took = self.taken.0 - before + self.sources.get(id).text.len() as u64;
            self.files_done.insert(id, (resolved.clone(), took));
        }
        Ok(resolved)
    }

    /// Pushes the file `id` onto the chain when it has a path; whether it did.
    fn push_chain(&mut self, id: FileId) -> bool {
        match self.paths.get(&id) {
            Some(p) => {
                self.chain.push((p.clone(), id));
                true
            }
            None => false,
        }
    }

    /// Reads the file `rel` names relative to the file `from`, parsed.
    /// `None` (reported) when it cannot be followed.
    fn load(
        &mut self,
        from: FileId,
        rel: &str,
        at: Span,
        what: &str,
    ) -> Result<Option<(FileId, Rc<Node>)>, Diagnostic> {
        let Some(path) = self.resolve_path(from, rel, at, what) else {
            return Ok(None);
        };
        if self.chain.iter().any(|(p, _)| *p == path) {
            self.cuts += 1;
            self.lose(
                at,
                format!("{what} of {rel} is a cycle and is not followed"),
                "a cycle",
                "a file cannot include or extend itself, directly or through others",
            );
            return Ok(None);
        }
        if self.chain.len() >= MAX_CHAIN {
            self.cuts += 1;
            self.lose(
                at,
                format!(
                    "{what} of {rel} chains more than {MAX_CHAIN} files deep and is not followed"
                ),
                "not followed",
                "",
            );
            return Ok(None);
        }
        if let Some((id, node)) = self.read.get(&path) {
            return Ok(Some((*id, Rc::clone(node))));
        }
        let id = match self.read(from, &path, rel, at)? {
            Ok(id) => id,
            Err(e) => {
                self.lose(
                    at,
                    format!("{what}: cannot read {rel}: {e}"),
                    "not followed",
                    "import from the directory that holds the file, or copy what it defines into this one",
                );
                return Ok(None);
            }
        };
        self.paths.insert(id, path.clone());
        let text = self.sources.get(id).text.clone();
        let mut parsed = yaml::parse(id, &text)?;
        self.diagnostics.extend(parsed.warnings);
        super::interp::substitute_tree(&mut parsed.root, &self.vars);
        let root = Rc::new(parsed.root);
        self.read.insert(path, (id, Rc::clone(&root)));
        Ok(Some((id, root)))
    }

    /// Reads the file at `path` (`rel` as the file `from` names it, at
    /// `at`) through the loader into the sources, within the budget.
    /// `Ok(Err)` is an operating-system error (the caller's to report as
    /// an import-loss); a file that must not be read ends the import.
    fn read(
        &mut self,
        from: FileId,
        path: &Path,
        rel: &str,
        at: Span,
    ) -> Result<Result<FileId, std::io::Error>, Diagnostic> {
        self.count(at)?;
        let left = self.budget.bytes.saturating_sub(self.taken.0);
        let shown = self.display(from, rel);
        match self.loader.text(path, left.min(MAX_FILE)) {
            Ok(text) => {
                self.charge(text.len() as u64, at)?;
                Ok(Ok(self.sources.add(shown, text)))
            }
            Err(LoadError::Io(e)) => Ok(Err(e)),
            Err(LoadError::TooLarge { limit }) if limit < MAX_FILE => Err(self
                .over_budget(
                    at,
                    format!("{shown} would take it past {} bytes", self.budget.bytes),
                )
                .note(RAISE_BYTES)),
            Err(refused) => Err(crate::compile::refusal(
                self.sources,
                &refused,
                &shown,
                Some(at),
            )),
        }
    }

    /// Counts one more file read, refusing the one past the budget.
    fn count(&mut self, at: Span) -> Result<(), Diagnostic> {
        self.taken.1 += 1;
        if self.taken.1 > self.budget.files {
            let why = format!("it names more than {} files", self.budget.files);
            return Err(self.over_budget(at, why));
        }
        Ok(())
    }

    /// Charges `bytes` taken in, refusing past the budget.
    fn charge(&mut self, bytes: u64, at: Span) -> Result<(), Diagnostic> {
        self.taken.0 = self.taken.0.saturating_add(bytes);
        if self.taken.0 > self.budget.bytes {
            return Err(self.over_budget(
                at,
                format!("it takes in more than {} bytes (files read, and included files each time they are merged in)", self.budget.bytes),
            ).note(RAISE_BYTES));
        }
        Ok(())
    }

    /// The `E0008` at `at`, naming the chain of files that led there.
    fn over_budget(&self, at: Span, why: String) -> Diagnostic {
        let mut chain: Vec<&str> = self
            .chain
            .iter()
            .map(|(_, id)| self.sources.get(*id).name.as_str())
            .collect();
        let here = self.sources.get(at.file).name.as_str();
        if chain.last() != Some(&here) {
            chain.push(here);
        }
        Diagnostic::new(
            Code::ImportBudget,
            at,
            format!("the import stops here: {why}"),
        )
        .label("past the import's budget")
        .note(format!("reached through {}", chain.join(" → ")))
        .help("a real stack names a few files: look for a file that includes itself through others, or one included from many places")
    }

    /// The canonical path of `rel` relative to the file `from`, or `None`
    /// (reported) when there is no path to read it from.
    fn resolve_path(&mut self, from: FileId, rel: &str, at: Span, what: &str) -> Option<PathBuf> {
        let Some(base) = self.paths.get(&from).and_then(|p| p.parent()) else {
            self.lose(
                at,
                format!("{what} of {rel} is not followed: the import was given the text of the file, not its path"),
                "not followed",
                "run `infrac import FILE` on the file where it lies",
            );
            return None;
        };
        if rel.contains('$') {
            self.lose(
                at,
                format!("{what} of `{rel}` is not followed: the path is interpolated"),
                "not followed",
                "write the path you deploy",
            );
            return None;
        }
        let joined = base.join(rel);
        Some(self.loader.canonical(&joined))
    }
}

impl Resolver<'_> {
    /// The variables of a dotenv file of the project (`.env` beside the
    /// first file, or one given with `--env-file`), read through the
    /// loader within the import's budget and added to the sources under
    /// `name`, with the span of each key and value. A file that must not
    /// be read (a device, not UTF-8, too large) is an error like a
    /// missing one: its variables are not interpolated, and the caller
    /// says so.
    pub fn read_dotenv(
        &mut self,
        path: &Path,
        name: String,
    ) -> std::io::Result<(FileId, Vec<(Node, Node)>)> {
        self.taken.1 += 1;
        let left = self.budget.bytes.saturating_sub(self.taken.0);
        let text = match self.loader.text(path, left.min(MAX_FILE)) {
            Ok(text) => text,
            Err(LoadError::Io(e)) => return Err(e),
            Err(refused) => return Err(std::io::Error::other(refused.to_string())),
        };
        self.taken.0 += text.len() as u64;
        let id = self.sources.add(name, text);
        Ok((id, dotenv(id, &self.sources.get(id).text)))
    }

    /// The dotenv value at `span` was written in single quotes (literal:
    /// compose does not interpolate it).
    pub fn starts_single_quoted(&self, span: Span) -> bool {
        let text = &self.sources.get(span.file).text;
        text.as_bytes().get(span.start as usize) == Some(&b'\'')
    }

    /// How a file read for the import is named in diagnostics: `rel` beside
    /// the name of the file that names it (`stacks/compose.yaml` and
    /// `base.yaml` give `stacks/base.yaml`), as the user would find it.
    fn display(&self, from: FileId, rel: &str) -> String {
        let parent = Path::new(&self.sources.get(from).name)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut out = parent;
        for part in Path::new(rel).components() {
            match part {
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir
                    if out
                        .components()
                        .next_back()
                        .is_some_and(|c| matches!(c, std::path::Component::Normal(_))) =>
                {
                    out.pop();
                }
                other => out.push(other),
            }
        }
        out.display().to_string()
    }
}

pub(super) fn scalar(text: &str, span: Span) -> Node {
    Node {
        kind: Kind::Scalar {
            text: text.to_string(),
            plain: true,
        },
        span,
    }
}

/// Removes `key` from a mapping, returning its key and value nodes.
pub(super) fn take(node: &mut Node, key: &str) -> Option<(Node, Node)> {
    let Kind::Map(entries) = &mut node.kind else {
        return None;
    };
    let at = entries.iter().position(|(k, _)| k.scalar() == Some(key))?;
    Some(entries.remove(at))
}
