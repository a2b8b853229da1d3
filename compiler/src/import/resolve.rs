//! Before the import proper: the files a compose file names, followed.
//!
//! Compose reads more than one file: `docker compose -f a.yml -f b.yml`
//! merges overrides, `include:` adds another file's resources, a service's
//! `extends:` starts from a base service (of the same file or of `file:`),
//! and `env_file:` adds the variables of a dotenv file. This module resolves
//! all four into one positioned tree, with compose's merge rules, so the
//! importer sees the stack compose would run. Every node keeps the span of
//! the file it was written in (each file read is added to the
//! [`Sources`]), so a finding about a port from a base service names the
//! base file's line.
//!
//! What cannot be followed (no file system was given, a file is missing,
//! a cycle) is a `W6001` at the key that names it; the key is then dropped
//! from the tree, so the importer does not report it a second time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::yaml::{self, Kind, Node};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Sources;
use crate::span::{FileId, Span};

/// How deep `extends` and `include` may chain before the import stops
/// following them (compose has no limit; a cycle is caught separately).
const MAX_CHAIN: usize = 32;

/// Keys whose value a later file replaces rather than merges (compose's
/// merge rules: commands are one value, not a list to extend).
const REPLACED: &[&str] = &["command", "entrypoint", "test"];

/// Keys that are mappings in compose but may be written as lists of
/// `KEY=VALUE` (or of names): merged as mappings.
const KEYED_LISTS: &[&str] = &[
    "environment",
    "labels",
    "annotations",
    "depends_on",
    "networks",
    "sysctls",
    "extra_hosts",
];

/// Keys whose list items are merged by their container path.
const BY_TARGET: &[&str] = &["volumes", "secrets", "configs", "devices"];

pub(crate) struct Loader<'s> {
    sources: &'s mut Sources,
    /// The real path of every file that may be followed (relative names
    /// resolve against its directory). A file without one is text only.
    paths: HashMap<FileId, PathBuf>,
    /// Files already read, by canonical path.
    read: HashMap<PathBuf, (FileId, Node)>,
    /// Dotenv files already read (a base service resolved twice reads its
    /// `env_file` once).
    env_read: HashMap<PathBuf, FileId>,
    /// The files being resolved, outermost first: a cycle guard.
    chain: Vec<PathBuf>,
    /// The services whose `extends` is being resolved: a cycle guard.
    extending: Vec<(FileId, String)>,
    pub diagnostics: Vec<Diagnostic>,
    /// A top-level `include` was present (the file may then have no
    /// `services` of its own and still be valid).
    pub had_include: bool,
    /// The project's variables (`.env`), interpolated into every file as
    /// it is read, before its `extends` and `env_file` are followed.
    pub vars: super::interp::Vars,
}

impl<'s> Loader<'s> {
    pub fn new(sources: &'s mut Sources) -> Self {
        Loader {
            sources,
            paths: HashMap::new(),
            read: HashMap::new(),
            env_read: HashMap::new(),
            chain: Vec::new(),
            extending: Vec::new(),
            diagnostics: Vec::new(),
            had_include: false,
            vars: super::interp::Vars::new(),
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
            if let Some(p) = path {
                let canonical = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
                self.paths.insert(*id, canonical.clone());
                self.chain.push(canonical);
            }
            let text = self.sources.get(*id).text.clone();
            let mut parsed = yaml::parse(*id, &text)?;
            self.diagnostics.extend(parsed.warnings);
            super::interp::substitute_tree(&mut parsed.root, &self.vars);
            let root = self.file(*id, parsed.root)?;
            if path.is_some() {
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

    /// The service `name` of the file `id` (tree `root`) with its
    /// `extends` and `env_file` resolved; `None` when it has none of them.
    fn service(
        &mut self,
        id: FileId,
        root: &Node,
        name: &str,
        depth: usize,
    ) -> Result<Option<Node>, Diagnostic> {
        let Some(body) = root.get("services").and_then(|s| s.get(name)) else {
            return Ok(None);
        };
        if body.get("extends").is_none() && body.get("env_file").is_none() {
            return Ok(None);
        }
        let mut body = body.clone();
        if let Some((ek, ev)) = take(&mut body, "extends") {
            let me = (id, name.to_string());
            if self.extending.contains(&me) {
                self.lose(
                    ek.span,
                    format!("the `extends` of `{name}` leads back to `{name}`; it is dropped"),
                    "a cycle",
                    "a service cannot extend itself, directly or through others",
                );
                return Ok(Some(body));
            }
            self.extending.push(me);
            let base = self.extends(id, root, name, &ek, &ev, depth);
            self.extending.pop();
            if let Some(base) = base? {
                body = merge(None, &base, &body);
            }
        }
        if let Some((fk, fv)) = take(&mut body, "env_file") {
            self.env_file(id, &mut body, &fk, &fv);
        }
        Ok(Some(body))
    }

    /// The base service an `extends` names, resolved itself.
    fn extends(
        &mut self,
        id: FileId,
        root: &Node,
        name: &str,
        key: &Node,
        value: &Node,
        depth: usize,
    ) -> Result<Option<Node>, Diagnostic> {
        let (base, file) = match &value.kind {
            Kind::Scalar { .. } => (value.scalar().map(str::to_string), None),
            Kind::Map(_) => (
                value
                    .get("service")
                    .and_then(Node::scalar)
                    .map(str::to_string),
                value.get("file"),
            ),
            Kind::Seq(_) => (None, None),
        };
        let Some(base) = base else {
            return Err(Diagnostic::new(
                Code::ImportInvalid,
                value.span,
                format!("`extends` of `{name}` names no service"),
            )
            .label("no `service` here")
            .help(
                "write `extends: { service: BASE }` or `extends: { file: FILE, service: BASE }`",
            ));
        };
        if depth >= MAX_CHAIN {
            self.lose(
                key.span,
                format!("`extends` of `{name}` chains more than {MAX_CHAIN} deep and is not followed further"),
                "not followed",
                "copy what the base services set into this one",
            );
            return Ok(None);
        }
        let Some(file) = file else {
            if base == name {
                self.lose(
                    key.span,
                    format!("`{name}` extends itself; the `extends` is dropped"),
                    "a cycle",
                    "name another service, or of another file with `file:`",
                );
                return Ok(None);
            }
            if root.get("services").and_then(|s| s.get(&base)).is_none() {
                self.lose(
                    value.span,
                    format!("`{name}` extends `{base}`, which this file does not define"),
                    "not followed",
                    "name a service of this file, or of another with `file:`",
                );
                return Ok(None);
            }
            let resolved = self.service(id, root, &base, depth + 1)?;
            return Ok(resolved.or_else(|| root.get("services")?.get(&base).cloned()));
        };
        let Some(rel) = file.scalar() else {
            return Ok(None);
        };
        let Some((other, other_root)) = self.load(id, rel, file.span, "`extends`")? else {
            return Ok(None);
        };
        if other_root
            .get("services")
            .and_then(|s| s.get(&base))
            .is_none()
        {
            self.lose(
                value.span,
                format!("`{name}` extends `{base}` of {rel}, which does not define it"),
                "not followed",
                "",
            );
            return Ok(None);
        }
        let path = self.paths.get(&other).cloned();
        if let Some(p) = &path {
            self.chain.push(p.clone());
        }
        let resolved = self.service(other, &other_root, &base, depth + 1)?;
        if path.is_some() {
            self.chain.pop();
        }
        Ok(resolved.or_else(|| other_root.get("services")?.get(&base).cloned()))
    }

    /// The files of a top-level `include`, their resources added to `root`
    /// where it does not define them itself.
    fn include(&mut self, id: FileId, root: &mut Node, list: &Node) -> Result<(), Diagnostic> {
        let items: Vec<Node> = match &list.kind {
            Kind::Seq(items) => items.clone(),
            _ if list.is_null() => Vec::new(),
            _ => vec![list.clone()],
        };
        for item in items {
            let mut paths: Vec<Node> = Vec::new();
            match &item.kind {
                Kind::Scalar { .. } => paths.push(item.clone()),
                Kind::Map(entries) => {
                    for (k, v) in entries {
                        match k.scalar() {
                            Some("path") => match &v.kind {
                                Kind::Seq(ps) => paths.extend(ps.iter().cloned()),
                                _ => paths.push(v.clone()),
                            },
                            Some(other) => self.lose(
                                k.span,
                                format!("`{other}` of an `include` is not carried over"),
                                "not imported",
                                "the included file is imported from its own directory, with no environment",
                            ),
                            None => {}
                        }
                    }
                }
                Kind::Seq(_) => {}
            }
            // Several paths of one item are merged as `-f` would merge them.
            let mut merged: Option<Node> = None;
            for p in paths {
                let Some(rel) = p.scalar() else { continue };
                let Some((other, other_root)) = self.load(id, rel, p.span, "`include`")? else {
                    continue;
                };
                let path = self.paths.get(&other).cloned();
                if let Some(p) = &path {
                    self.chain.push(p.clone());
                }
                let resolved = self.file(other, other_root)?;
                if path.is_some() {
                    self.chain.pop();
                }
                if self.dir_of(other) != self.dir_of(id) {
                    self.lose(
                        p.span,
                        format!("{rel} is in another directory: relative paths in it are relative to that directory in compose, and to this file in the program"),
                        "approximated",
                        "check its bind mounts and secret files in the imported program",
                    );
                }
                merged = Some(match merged {
                    None => resolved,
                    Some(base) => merge_files(&base, &resolved),
                });
            }
            if let Some(included) = merged {
                self.add_resources(root, &included);
            }
        }
        Ok(())
    }

    fn dir_of(&self, id: FileId) -> Option<PathBuf> {
        self.paths.get(&id)?.parent().map(Path::to_path_buf)
    }

    /// Adds the services, networks, volumes, secrets and configs of
    /// `included` that `root` does not define; a conflict keeps `root`'s
    /// (compose refuses it).
    fn add_resources(&mut self, root: &mut Node, included: &Node) {
        let Kind::Map(entries) = &mut root.kind else {
            return;
        };
        for section in ["services", "networks", "volumes", "secrets", "configs"] {
            let Some(theirs) = included.get(section).and_then(Node::entries) else {
                continue;
            };
            let at = match entries
                .iter()
                .position(|(k, _)| k.scalar() == Some(section))
            {
                Some(at) => at,
                None => {
                    let span = included.get(section).map_or(included.span, |n| n.span);
                    entries.push((
                        scalar(section, span),
                        Node {
                            kind: Kind::Map(Vec::new()),
                            span,
                        },
                    ));
                    entries.len() - 1
                }
            };
            let ours = &mut entries[at].1;
            if ours.is_null() {
                ours.kind = Kind::Map(Vec::new());
            }
            let Kind::Map(mine) = &mut ours.kind else {
                continue;
            };
            for (k, v) in theirs {
                let name = k.scalar().unwrap_or_default();
                match mine.iter().find(|(m, _)| m.scalar() == Some(name)) {
                    Some((first, _)) => {
                        let d = Diagnostic::new(
                            Code::ImportLoss,
                            k.span,
                            format!("{section} `{name}` of an included file is also defined by the including file; the including file's is kept"),
                        )
                        .label("defined twice")
                        .secondary(first.span, "kept")
                        .help("compose refuses this conflict: rename one of them");
                        self.diagnostics.push(d);
                    }
                    None => mine.push((k.clone(), v.clone())),
                }
            }
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
    ) -> Result<Option<(FileId, Node)>, Diagnostic> {
        let Some(path) = self.resolve_path(from, rel, at, what) else {
            return Ok(None);
        };
        if self.chain.contains(&path) {
            self.lose(
                at,
                format!("{what} of {rel} is a cycle and is not followed"),
                "a cycle",
                "a file cannot include or extend itself, directly or through others",
            );
            return Ok(None);
        }
        if self.chain.len() >= MAX_CHAIN {
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
            return Ok(Some((*id, node.clone())));
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
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
        let id = self.sources.add(self.display(from, rel), text.clone());
        self.paths.insert(id, path.clone());
        let mut parsed = yaml::parse(id, &text)?;
        self.diagnostics.extend(parsed.warnings);
        super::interp::substitute_tree(&mut parsed.root, &self.vars);
        self.read.insert(path, (id, parsed.root.clone()));
        Ok(Some((id, parsed.root)))
    }

    /// The canonical path of `rel` relative to the file `from`, or `None`
    /// (reported) when there is no file system to read it from.
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
        Some(std::fs::canonicalize(&joined).unwrap_or(joined))
    }

    /// Adds the variables of the service's `env_file`s under its
    /// `environment` (which wins, as in compose).
    fn env_file(&mut self, from: FileId, body: &mut Node, key: &Node, value: &Node) {
        let items: Vec<Node> = match &value.kind {
            Kind::Seq(items) => items.clone(),
            _ if value.is_null() => Vec::new(),
            _ => vec![value.clone()],
        };
        let mut vars: Vec<(Node, Node)> = Vec::new();
        for item in items {
            let (path_node, required) = match &item.kind {
                Kind::Map(_) => (
                    item.get("path").cloned(),
                    item.get("required").and_then(Node::boolean).unwrap_or(true),
                ),
                _ => (Some(item.clone()), true),
            };
            if let Some(format) = item.get("format") {
                self.lose(
                    format.span,
                    "`format` of an `env_file` is not carried over; the file is read as a dotenv file",
                    "approximated",
                    "",
                );
            }
            let Some(path_node) = path_node else { continue };
            let Some(rel) = path_node.scalar().map(str::to_string) else {
                continue;
            };
            let Some(path) = self.resolve_path(from, &rel, path_node.span, "`env_file`") else {
                continue;
            };
            let read = match self.env_read.get(&path) {
                Some(id) => Ok(*id),
                None => std::fs::read_to_string(&path).map(|text| {
                    let id = self.sources.add(self.display(from, &rel), text);
                    self.env_read.insert(path.clone(), id);
                    id
                }),
            };
            let id = match read {
                Ok(id) => id,
                Err(e) => {
                    let (label, help) = if required {
                        ("not carried over", "list the variables the service needs in `environment`, credentials as secrets, and import again")
                    } else {
                        (
                            "optional, and absent here",
                            "compose skips it too when it is absent where you deploy",
                        )
                    };
                    self.lose(
                        path_node.span,
                        format!("`env_file` {rel} cannot be read ({e}); its variables are not carried over"),
                        label,
                        help,
                    );
                    continue;
                }
            };
            let text = self.sources.get(id).text.clone();
            self.lose(
                path_node.span,
                format!("the variables of `env_file` {rel} are copied into the program"),
                "read at import time",
                "later edits of the file are not followed: edit `env` in the program (credentials among them became secrets)",
            );
            for (k, v) in dotenv(id, &text) {
                vars.retain(|(old, _)| old.scalar() != k.scalar());
                vars.push((k, v));
            }
        }
        if vars.is_empty() {
            return;
        }
        let from_file = Node {
            kind: Kind::Map(vars),
            span: key.span,
        };
        let Kind::Map(entries) = &mut body.kind else {
            return;
        };
        match entries
            .iter_mut()
            .find(|(k, _)| k.scalar() == Some("environment"))
        {
            Some((_, env)) => *env = merge(Some("environment"), &from_file, env),
            None => entries.push((scalar("environment", key.span), from_file)),
        }
    }
}

impl Loader<'_> {
    /// The variables of a dotenv file of the project (`.env` beside the
    /// first file, or one given with `--env-file`), added to the sources
    /// under `name`, with the span of each key and value.
    pub fn read_dotenv(
        &mut self,
        path: &Path,
        name: String,
    ) -> std::io::Result<(FileId, Vec<(Node, Node)>)> {
        let text = std::fs::read_to_string(path)?;
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

/// The variables of a dotenv file: `KEY=VALUE`, `export KEY=VALUE`,
/// quoted values, `#` comments; each with the span of its key and value.
fn dotenv(id: FileId, text: &str) -> Vec<(Node, Node)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let line_start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (body, skip) = match trimmed.strip_prefix("export ") {
            Some(rest) => (rest.trim_start(), trimmed.len() - rest.trim_start().len()),
            None => (trimmed, 0),
        };
        let key_start = line_start + indent + skip;
        let (key, value, value_at) = match body.split_once('=') {
            Some((k, v)) => (k.trim_end(), Some(v), key_start + k.len() + 1),
            None => (body.trim_end(), None, key_start + body.len()),
        };
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
        {
            continue;
        }
        let key_node = scalar(key, Span::new(id, key_start, key_start + key.len()));
        let value_node = match value {
            None => Node {
                kind: Kind::Scalar {
                    text: String::new(),
                    plain: true,
                },
                span: key_node.span,
            },
            Some(v) => {
                let lead = v.len() - v.trim_start().len();
                let v = v.trim_start();
                let (text, len) = unquote(v);
                let start = value_at + lead;
                Node {
                    kind: Kind::Scalar { text, plain: false },
                    span: Span::new(id, start, start + len),
                }
            }
        };
        out.push((key_node, value_node));
    }
    out
}

/// A dotenv value's text and how many bytes of the line it took.
fn unquote(v: &str) -> (String, usize) {
    for q in ['"', '\''] {
        if let Some(rest) = v.strip_prefix(q) {
            if let Some(end) = rest.find(q) {
                let inner = &rest[..end];
                let text = if q == '"' {
                    inner.replace("\\n", "\n").replace("\\\"", "\"")
                } else {
                    inner.to_string()
                };
                return (text, end + 2);
            }
        }
    }
    let cut = v.find(" #").unwrap_or(v.len());
    let text = v[..cut].trim_end();
    (text.to_string(), text.len())
}

fn scalar(text: &str, span: Span) -> Node {
    Node {
        kind: Kind::Scalar {
            text: text.to_string(),
            plain: true,
        },
        span,
    }
}

/// Removes `key` from a mapping, returning its key and value nodes.
fn take(node: &mut Node, key: &str) -> Option<(Node, Node)> {
    let Kind::Map(entries) = &mut node.kind else {
        return None;
    };
    let at = entries.iter().position(|(k, _)| k.scalar() == Some(key))?;
    Some(entries.remove(at))
}

/// Two whole compose files merged (`-f base -f over`): the resources of
/// each section merge by name, one by one (a service named `command` is
/// a service, not a command), other top-level keys by the rules below.
fn merge_files(base: &Node, over: &Node) -> Node {
    const SECTIONS: &[&str] = &["services", "networks", "volumes", "secrets", "configs"];
    let (Kind::Map(b), Kind::Map(o)) = (&base.kind, &over.kind) else {
        return over.clone();
    };
    let mut out: Vec<(Node, Node)> = b.clone();
    for (ok, ov) in o {
        let key = ok.scalar();
        match out.iter_mut().find(|(bk, _)| bk.scalar() == key) {
            Some(slot) => {
                let merged = match (&slot.1.kind, &ov.kind) {
                    (Kind::Map(bs), Kind::Map(os))
                        if key.is_some_and(|k| SECTIONS.contains(&k)) =>
                    {
                        merge_maps(bs, os, ov.span)
                    }
                    _ => merge(key, &slot.1, ov),
                };
                *slot = (ok.clone(), merged);
            }
            None => out.push((ok.clone(), ov.clone())),
        }
    }
    Node {
        kind: Kind::Map(out),
        span: over.span,
    }
}

/// `over` merged onto `base` with compose's rules: mappings merge key by
/// key, commands are replaced, mounts and secrets merge by container
/// path, `KEY=VALUE` lists merge as mappings, other lists append (without
/// repeating an item), and anything else is replaced. `key` is the key
/// the two values stand under.
pub(crate) fn merge(key: Option<&str>, base: &Node, over: &Node) -> Node {
    let key_is = |set: &[&str]| key.is_some_and(|k| set.contains(&k));
    if key_is(REPLACED) || over.is_null() && !base.is_null() && key_is(KEYED_LISTS) {
        return over.clone();
    }
    if key_is(KEYED_LISTS) {
        if let (Some(b), Some(o)) = (as_mapping(base), as_mapping(over)) {
            return merge_maps(&b, &o, over.span);
        }
    }
    match (&base.kind, &over.kind) {
        (Kind::Map(b), Kind::Map(o)) => {
            let mut out: Vec<(Node, Node)> = Vec::with_capacity(b.len() + o.len());
            for (bk, bv) in b {
                match o.iter().find(|(ok, _)| ok.scalar() == bk.scalar()) {
                    Some((ok, ov)) => out.push((ok.clone(), merge(bk.scalar(), bv, ov))),
                    None => out.push((bk.clone(), bv.clone())),
                }
            }
            for (ok, ov) in o {
                if !b.iter().any(|(bk, _)| bk.scalar() == ok.scalar()) {
                    out.push((ok.clone(), ov.clone()));
                }
            }
            Node {
                kind: Kind::Map(out),
                span: over.span,
            }
        }
        (Kind::Seq(b), Kind::Seq(o)) if key_is(BY_TARGET) => {
            let mut out: Vec<Node> = Vec::new();
            for item in b.iter().chain(o) {
                let t = target_of(item);
                out.retain(|old| t.is_none() || target_of(old) != t);
                out.push(item.clone());
            }
            Node {
                kind: Kind::Seq(out),
                span: over.span,
            }
        }
        (Kind::Seq(b), Kind::Seq(o)) => {
            let mut out: Vec<Node> = b.clone();
            for item in o {
                let repeated =
                    item.scalar().is_some() && out.iter().any(|old| old.scalar() == item.scalar());
                if !repeated {
                    out.push(item.clone());
                }
            }
            Node {
                kind: Kind::Seq(out),
                span: over.span,
            }
        }
        _ => over.clone(),
    }
}

fn merge_maps(base: &[(Node, Node)], over: &[(Node, Node)], span: Span) -> Node {
    let mut out: Vec<(Node, Node)> = base.to_vec();
    for (k, v) in over {
        match out.iter_mut().find(|(old, _)| old.scalar() == k.scalar()) {
            Some(slot) => {
                let merged = merge(None, &slot.1, v);
                *slot = (k.clone(), merged);
            }
            None => out.push((k.clone(), v.clone())),
        }
    }
    Node {
        kind: Kind::Map(out),
        span,
    }
}

/// A mapping, or a list of `KEY=VALUE` / `NAME` items read as one.
fn as_mapping(node: &Node) -> Option<Vec<(Node, Node)>> {
    match &node.kind {
        Kind::Map(entries) => Some(entries.clone()),
        _ if node.is_null() => Some(Vec::new()),
        Kind::Seq(items) => items
            .iter()
            .map(|item| {
                let text = item.scalar()?;
                let (k, v) = match text.split_once('=') {
                    Some((k, v)) => (k, Some(v)),
                    None => (text, None),
                };
                let value = match v {
                    Some(v) => Node {
                        kind: Kind::Scalar {
                            text: v.to_string(),
                            plain: false,
                        },
                        span: item.span,
                    },
                    None => Node {
                        kind: Kind::Scalar {
                            text: String::new(),
                            plain: true,
                        },
                        span: item.span,
                    },
                };
                Some((scalar(k, item.span), value))
            })
            .collect(),
        Kind::Scalar { .. } => None,
    }
}

/// The container path (or name) a mount, secret or config item is for.
fn target_of(item: &Node) -> Option<String> {
    match &item.kind {
        Kind::Scalar { text, .. } => {
            let parts: Vec<&str> = text.split(':').collect();
            Some(match parts.len() {
                1 => parts[0].to_string(),
                _ => parts[1].to_string(),
            })
        }
        Kind::Map(_) => item
            .get("target")
            .or_else(|| item.get("source"))
            .and_then(Node::scalar)
            .map(str::to_string),
        Kind::Seq(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(text: &str) -> Node {
        yaml::parse(FileId(0), text).expect("parses").root
    }

    fn keys(n: &Node) -> Vec<String> {
        n.entries()
            .unwrap_or_default()
            .iter()
            .map(|(k, _)| k.scalar().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn merge_follows_compose_rules() {
        let base = node("image: a\ncommand: [x, y]\nenvironment: [A=1, B=2]\nports: ['80']\nvolumes: ['d:/data', './c:/etc/c']\n");
        let over =
            node("command: [z]\nenvironment: {B: 3, C: 4}\nports: ['443']\nvolumes: ['e:/data']\n");
        let m = merge(None, &base, &over);
        assert_eq!(
            keys(&m),
            ["image", "command", "environment", "ports", "volumes"]
        );
        assert_eq!(
            m.get("command").and_then(Node::items).map(<[Node]>::len),
            Some(1)
        );
        let env = m.get("environment").expect("environment");
        assert_eq!(keys(env), ["A", "B", "C"]);
        assert_eq!(env.get("B").and_then(Node::scalar), Some("3"));
        assert_eq!(
            m.get("ports").and_then(Node::items).map(<[Node]>::len),
            Some(2)
        );
        let volumes: Vec<&str> = m
            .get("volumes")
            .and_then(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::scalar)
            .collect();
        assert_eq!(volumes, ["./c:/etc/c", "e:/data"]);
    }

    #[test]
    fn files_merge_services_by_name_whatever_their_names() {
        let base = node("services:\n  command:\n    image: a\n    ports: ['80']\n");
        let over = node("services:\n  command:\n    user: '1'\n  test:\n    image: b\n");
        let m = merge_files(&base, &over);
        let services = m.get("services").expect("services");
        assert_eq!(keys(services), ["command", "test"]);
        assert_eq!(
            keys(services.get("command").expect("command")),
            ["image", "ports", "user"]
        );
    }

    #[test]
    fn dotenv_lines() {
        let text = "# comment\nA=1\nexport B = \"two words\"\nC='x#y'\nD=v # note\nE\n\n";
        let vars = dotenv(FileId(3), text);
        let got: Vec<(&str, &str)> = vars
            .iter()
            .map(|(k, v)| {
                (
                    k.scalar().unwrap_or_default(),
                    match &v.kind {
                        Kind::Scalar { text, .. } => text.as_str(),
                        _ => "",
                    },
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("A", "1"),
                ("B", "two words"),
                ("C", "x#y"),
                ("D", "v"),
                ("E", "")
            ]
        );
        let (_, b) = &vars[1];
        assert_eq!(&text[b.span.range()], "\"two words\"");
    }
}
