//! The importer: a compose or swarm stack file to an `.inf` program.
//!
//! ```text
//! YAML ─ yaml::parse ─▶ positioned tree ─ Importer ─▶ ast::File (+ Trivia) ─ syntax::print ─▶ .inf
//! ```
//!
//! It sits before the pipeline, not inside it: what it builds is an
//! ordinary [`ast::File`] whose spans point into the YAML file, so the
//! checker's findings about an imported stack (its open Redis) name the
//! YAML line that opened it. The YAML text is one of the [`Sources`].
//!
//! Nothing is lost silently: every key or value that is not carried over,
//! or only approximately, is a `W6001 import-loss` at its YAML location; a
//! file that is not valid YAML or not a compose file is an `E6001
//! import-invalid`. The mapping key by key is `book/src/import.md`.

// A fatal error (`E6001`) ends the import: it is returned once, on a cold
// path, so the size of `Result<_, Diagnostic>` costs nothing worth boxing.
#![allow(clippy::result_large_err)]

mod connect;
mod deploy;
mod env;
mod interp;
mod items;
mod mounts;
mod ports;
mod project_env;
pub mod reach;
mod resolve;
mod service;
mod stack;
mod top;
mod yaml;

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;

use crate::ast::{self, Attribute, Decl, DeclKind, Entry, Ident, Item, Stmt, Value, ValueKind};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Sources;
use crate::span::{FileId, Span, Spanned};
use crate::syntax::print::{self, Trivia};
pub use connect::Connection;
pub use project_env::EnvFiles;
pub(crate) use resolve::RAISE_BYTES;
pub use resolve::{Budget, MAX_IMPORT_BYTES, MAX_IMPORT_FILES};

/// How to import: where the project's variables come from, and what the
/// import may take in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub env: EnvFiles,
    pub budget: Budget,
}

impl From<EnvFiles> for Options {
    fn from(env: EnvFiles) -> Self {
        Options {
            env,
            ..Options::default()
        }
    }
}
use yaml::{Kind, Node};

/// What importing one file produced.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The program, unless the file could not be imported (an `E6001`).
    pub program: Option<ast::File>,
    /// The header and per-service comments to print with it.
    pub trivia: Trivia,
    /// Every `W6001` and `E6001`, sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// Spans of credentials in the YAML: renderers mask them.
    pub redactions: Vec<Span>,
    /// The compose project name (top-level `name:`), when the file sets one.
    pub project: Option<String>,
    /// Every connection the file makes (`depends_on`, links, the host
    /// names its settings name), for `migrate` to compare with the target.
    pub connections: Vec<Connection>,
}

impl Imported {
    /// The program as canonical `.inf` text.
    pub fn text(&self) -> Option<String> {
        self.program.as_ref().map(|p| print::print(p, &self.trivia))
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Imports the compose file `file` of `sources`, from its text alone:
/// `extends` within the file is resolved, but the files it names
/// (`extends.file`, `include`, `env_file`) are not read (each is
/// reported). [`import_files`] follows them.
pub fn import(sources: &Sources, file: FileId) -> Imported {
    // Nothing is added to the copy: no file is read without a path.
    let mut own = sources.clone();
    import_files(
        &crate::loader::MemoryLoader::new(),
        &mut own,
        &[(file, None)],
    )
}

/// Imports the compose files `files` of `sources`, merged in order as
/// `docker compose -f A -f B` merges them. A file given with its path
/// (`Some`) has the files it names read from beside it and added to
/// `sources`, so findings can point into them, and the `.env` beside the
/// first file gives the variables it interpolates. Every file is read
/// through `loader` ([`crate::compile::import`] reads the first ones too).
pub fn import_files(
    loader: &dyn crate::loader::Loader,
    sources: &mut Sources,
    files: &[(FileId, Option<std::path::PathBuf>)],
) -> Imported {
    import_files_with(loader, sources, files, &Options::default())
}

/// [`import_files`] with the project's variables read from `options.env`
/// (the `--env-file` flag of `import` and `migrate`) and its budget
/// (`--max-bytes`).
pub fn import_files_with(
    loader: &dyn crate::loader::Loader,
    sources: &mut Sources,
    files: &[(FileId, Option<std::path::PathBuf>)],
    options: &Options,
) -> Imported {
    let Some((file, _)) = files.first() else {
        return Imported {
            program: None,
            trivia: Trivia::new(),
            diagnostics: Vec::new(),
            redactions: Vec::new(),
            project: None,
            connections: Vec::new(),
        };
    };
    let file = *file;
    let mut importer = Importer::new(&sources.get(file).name);
    let first_name = sources.get(file).name.clone();
    let mut loader = resolve::Resolver::new(loader, sources, options.budget);
    loader.vars = project_env::load(
        &mut loader,
        (file, files[0].1.as_deref(), &first_name),
        &options.env,
        &mut importer.diagnostics,
    );
    importer.vars = loader.vars.clone();
    let resolved = loader.resolve(files);
    importer.diagnostics.append(&mut loader.diagnostics);
    importer.had_include = loader.had_include;
    let result = resolved.and_then(|root| importer.file(&root));
    let mut diagnostics = importer.diagnostics;
    let program = match result {
        Ok(program) => Some(program),
        Err(fatal) => {
            diagnostics.push(fatal);
            None
        }
    };
    crate::diagnostics::sort_and_dedup(&mut diagnostics);
    let mut trivia = Trivia::new();
    if program.is_some() {
        // File names through `comment::path`: a line break in one would
        // end the comment and put the rest of the name into the program.
        let names: Vec<_> = files
            .iter()
            .map(|(f, _)| crate::comment::path(&sources.get(*f).name))
            .collect();
        trivia.header([
            format!("Imported from {} by `infrac import`.", names.join(" + ")),
            "Review every import-loss warning, then run `infrac check` on this file.".to_string(),
        ]);
        for span in &importer.service_spans {
            let source = sources.get(span.file);
            let (line, _) = source.line_col(span.start as usize);
            let name = crate::comment::path(&source.name);
            trivia.lead(*span, &format!("imported from {name}:{line}"));
        }
    }
    let mut redactions = importer.redactions;
    redactions.sort();
    redactions.dedup();
    Imported {
        program,
        trivia,
        diagnostics,
        redactions,
        project: importer.project,
        connections: importer.connections,
    }
}

/// The attribute order of an imported service block: the attribute table's.
const SERVICE_ORDER: &[&str] = &crate::schema::SERVICE_KEYS;

/// A declaration being built: its name as written in the YAML and in the
/// program, and its attributes.
#[derive(Debug, Clone)]
struct Declared {
    name: String,
    span: Span,
    attrs: Vec<Stmt>,
}

pub(crate) struct Importer {
    diagnostics: Vec<Diagnostic>,
    redactions: Vec<Span>,
    project: Option<String>,
    /// Program names by kind and YAML name.
    names: HashMap<DeclKind, IndexMap<String, String>>,
    taken: HashMap<DeclKind, HashSet<String>>,
    networks: IndexMap<String, Declared>,
    volumes: IndexMap<String, Declared>,
    secrets: IndexMap<String, Declared>,
    nodes: IndexMap<String, Declared>,
    /// Top-level configs by YAML name: the file each is read from, when it
    /// is a file (carried as a read-only mount where a service uses it).
    configs: HashMap<String, Option<String>>,
    /// Secrets made from literal credentials: name → a hash of the value,
    /// so two services with the same password share one secret.
    credential_secrets: HashMap<String, u64>,
    /// Spans of the services, for the `// imported from` comments.
    service_spans: Vec<Span>,
    /// The directory name compose would take as the project name.
    default_project: String,
    /// The file had an `include` (followed or reported already).
    had_include: bool,
    /// Provider services (run by a plugin, not a container): not carried.
    providers: HashSet<String>,
    /// Texts that may name other services, read once all are built.
    mentions: Vec<connect::Mention>,
    /// Other host names of services (container names, host names, network
    /// aliases) → the program name.
    host_aliases: HashMap<String, String>,
    /// The connections found (see [`connect`]).
    connections: Vec<Connection>,
    /// The key that makes the file a swarm stack, and how to name it
    /// (see [`stack`]); `None` for a compose file.
    stack: Option<(Span, String)>,
    /// The project's variables (`.env` or `--env-file`): what compose
    /// passes to an `environment` key given without a value.
    vars: interp::Vars,
}

impl Importer {
    fn new(source_name: &str) -> Self {
        let default_project = std::path::Path::new(source_name)
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .unwrap_or("app")
            .to_string();
        Importer {
            diagnostics: Vec::new(),
            redactions: Vec::new(),
            project: None,
            names: HashMap::new(),
            taken: HashMap::new(),
            networks: IndexMap::new(),
            volumes: IndexMap::new(),
            secrets: IndexMap::new(),
            nodes: IndexMap::new(),
            configs: HashMap::new(),
            credential_secrets: HashMap::new(),
            service_spans: Vec::new(),
            default_project,
            had_include: false,
            providers: HashSet::new(),
            mentions: Vec::new(),
            host_aliases: HashMap::new(),
            connections: Vec::new(),
            stack: None,
            vars: interp::Vars::new(),
        }
    }

    fn file(&mut self, root: &Node) -> Result<ast::File, Diagnostic> {
        let Some(entries) = root.entries() else {
            return Err(Diagnostic::new(
                Code::ImportInvalid,
                root.span,
                format!(
                    "a compose file is a mapping with `services`; this is {}",
                    root.describe()
                ),
            )
            .label("not a compose file")
            .help("import a docker-compose.yml, compose.yaml or a swarm stack file"));
        };
        if root.get("apiVersion").is_some() && root.get("kind").is_some() {
            let at = root.get("kind").map_or(root.span, |k| k.span);
            return Err(Diagnostic::new(
                Code::ImportInvalid,
                at,
                "this is a Kubernetes manifest, not a compose file",
            )
            .label("a Kubernetes object")
            .help("import the compose or stack file it was made from, or write the program by hand: `infrac build --target k8s` then generates the manifests"));
        }
        if root.get("services").is_none() && !self.had_include {
            return Err(Diagnostic::new(
                Code::ImportInvalid,
                root.span,
                "a compose file needs a `services` mapping",
            )
            .label("no `services` here")
            .help("import a docker-compose.yml, compose.yaml or a swarm stack file"));
        }
        self.stack = stack::evidence(root);
        for (k, v) in entries {
            let key = self.key(k)?;
            match key.as_str() {
                "services" | "networks" | "volumes" | "secrets" => {}
                "version" => {}
                "name" => {
                    self.project = v.scalar().map(str::to_string);
                    self.lose(
                        k.span,
                        "the project name is not carried into the program",
                        "not imported",
                        "infrac names the project after the program's file (its directory for main.inf); `infrac migrate` uses this name",
                    );
                }
                "configs" => self.top_configs(v)?,
                k2 if k2.starts_with("x-") => {}
                other => self.lose(
                    k.span,
                    format!("the top-level key `{other}` is not carried over"),
                    "not a key infrac imports",
                    "compose may not know it either: check the file with `docker compose config -q`",
                ),
            }
        }
        if let Some(n) = root.get("networks") {
            self.top_networks(n)?;
        }
        if let Some(v) = root.get("volumes") {
            self.top_volumes(v)?;
        }
        if let Some(s) = root.get("secrets") {
            self.top_secrets(s)?;
        }
        let mut services = Vec::new();
        if let Some(s) = root.get("services") {
            if !s.is_null() {
                let entries = expect_map(s, "`services`")?;
                let mut containers = Vec::new();
                for (k, v) in entries {
                    let name = self.key(k)?;
                    if let Some(p) = v.get("provider").filter(|_| v.get("image").is_none()) {
                        let kind = p.get("type").and_then(Node::scalar).unwrap_or("a plugin");
                        self.lose(
                            p.span,
                            format!("`{name}` is a provider service, run by `{kind}` and not a container: it is not carried over"),
                            "not a container",
                            "provision what the provider makes (a database, a model) outside the program, and give the services that use it its address in `env`",
                        );
                        self.providers.insert(name);
                        continue;
                    }
                    self.declare_name(DeclKind::Service, &name, k.span);
                    containers.push((k, v));
                }
                for (k, v) in containers {
                    services.push(self.service(k, v)?);
                }
            }
        }
        self.connections = self.infer_connections(&mut services);
        let mut items = Vec::new();
        let decls = [
            (DeclKind::Node, std::mem::take(&mut self.nodes)),
            (DeclKind::Network, std::mem::take(&mut self.networks)),
            (DeclKind::Volume, std::mem::take(&mut self.volumes)),
            (DeclKind::Secret, std::mem::take(&mut self.secrets)),
        ];
        for (kind, declared) in decls {
            for d in declared.into_values() {
                items.push(Item::Decl(Decl {
                    kind,
                    name: Ident::new(d.name, d.span),
                    extends: None,
                    body: d.attrs,
                    span: d.span,
                }));
            }
        }
        items.extend(services.into_iter().map(Item::Decl));
        Ok(ast::File {
            items,
            span: root.span,
        })
    }

    // ---- reporting -------------------------------------------------------

    fn lose(&mut self, span: Span, message: impl Into<String>, label: &str, help: &str) {
        let mut d = Diagnostic::new(Code::ImportLoss, span, message).label(label);
        if !help.is_empty() {
            d = d.help(help);
        }
        self.diagnostics.push(d);
    }

    /// A key dropped with nothing more to say: "WHAT is not carried over".
    fn not_carried(&mut self, span: Span, what: &str) {
        self.lose(
            span,
            format!("{what} is not carried over"),
            "not imported",
            "",
        );
    }

    // ---- names -----------------------------------------------------------

    /// A mapping key's text; compose keys are scalars.
    fn key(&self, k: &Node) -> Result<String, Diagnostic> {
        match &k.kind {
            Kind::Scalar { text, .. } => Ok(text.clone()),
            _ => Err(Diagnostic::new(
                Code::ImportInvalid,
                k.span,
                "a mapping key that is not a scalar",
            )
            .label(format!("found {}", k.describe()))),
        }
    }

    /// Gives the YAML name `raw` of a `kind` a program name: the same when
    /// it is a valid name, else a close one (reported).
    fn declare_name(&mut self, kind: DeclKind, raw: &str, span: Span) -> String {
        if let Some(n) = self.names.get(&kind).and_then(|m| m.get(raw)) {
            return n.clone();
        }
        let mut name: String = raw
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        while name.contains("->") {
            name = name.replace("->", "-");
        }
        if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            name = format!("{}-{name}", &kind.keyword()[..1]);
        }
        if name == "true" || name == "false" {
            name = format!("{name}-{}", kind.keyword());
        }
        let taken = self.taken.entry(kind).or_default();
        let base = name.clone();
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        taken.insert(name.clone());
        if name != raw {
            self.lose(
                span,
                format!("{} `{raw}` is renamed `{name}`", kind.keyword()),
                "not a valid name in the language",
                "names start with a letter and hold letters, digits, `_` and `-`; references to it (host names included) must follow the new name",
            );
        }
        self.names
            .entry(kind)
            .or_default()
            .insert(raw.to_string(), name.clone());
        name
    }

    fn name_of(&self, kind: DeclKind, raw: &str) -> Option<String> {
        self.names.get(&kind)?.get(raw).cloned()
    }

    // ---- values ----------------------------------------------------------

    /// A scalar value after interpolation, with its defaults and unknown
    /// variables reported. `None` (reported) for a null or a collection.
    fn text(&mut self, node: &Node, what: &str) -> Result<Option<String>, Diagnostic> {
        let Some(raw) = self.scalar(node, what)? else {
            return Ok(None);
        };
        let i = self.interpolate(node, &raw)?;
        self.report_interpolation(node, what, &i);
        Ok(Some(i.text))
    }

    /// A scalar's raw text; a null is `None`, a collection an error.
    fn scalar(&self, node: &Node, what: &str) -> Result<Option<String>, Diagnostic> {
        match &node.kind {
            _ if node.is_null() => Ok(None),
            Kind::Scalar { text, .. } => Ok(Some(text.clone())),
            _ => Err(Diagnostic::new(
                Code::ImportInvalid,
                node.span,
                format!("{what} must be a single value, found {}", node.describe()),
            )
            .label("not a scalar")),
        }
    }

    fn interpolate(&self, node: &Node, raw: &str) -> Result<interp::Interpolated, Diagnostic> {
        interp::interpolate(raw).map_err(|why| {
            Diagnostic::new(
                Code::ImportInvalid,
                node.span,
                format!("invalid interpolation: {why}"),
            )
            .label("compose cannot read this")
            .help("write `$$` for a literal `$`")
        })
    }

    fn report_interpolation(&mut self, node: &Node, what: &str, i: &interp::Interpolated) {
        for (var, default) in &i.defaulted {
            self.lose(
                node.span,
                format!("{what}: `${{{var}}}` is imported as its default \"{default}\""),
                "interpolated with the default",
                "the deploy environment could have set another value; write the value you deploy",
            );
        }
        if !i.unresolved.is_empty() {
            let vars: Vec<String> = i.unresolved.iter().map(|v| format!("`${{{v}}}`")).collect();
            self.lose(
                node.span,
                format!("{what}: {} kept as written", vars.join(", ")),
                "no value in the project's `.env` and no default",
                "replace it with the value you deploy; generated files keep the text literally, they do not interpolate it",
            );
        }
    }

    /// A typed field (a boolean, a port) whose value needs a variable
    /// without a value: reported, and `true`, so the caller skips it.
    /// Compose would read an empty string there, which no typed field
    /// takes; the import reports it instead of failing.
    fn unset_in_typed(
        &mut self,
        node: &Node,
        what: &str,
        instead: &str,
    ) -> Result<bool, Diagnostic> {
        let Kind::Scalar { text, .. } = &node.kind else {
            return Ok(false);
        };
        if !text.contains('$') {
            return Ok(false);
        }
        let i = self.interpolate(node, text)?;
        let Some(var) = i.unresolved.first() else {
            return Ok(false);
        };
        self.lose(
            node.span,
            format!("{what} needs `${{{var}}}`, which has no value: {instead}"),
            "no value in the project's `.env` and no default",
            "set it in the `.env` beside the compose file (or pass `--env-file`), or write the value you deploy",
        );
        Ok(true)
    }

    /// A boolean value; anything else is an error. One that needs a
    /// variable without a value is `false`, reported.
    fn boolean(&mut self, node: &Node, what: &str) -> Result<bool, Diagnostic> {
        if self.unset_in_typed(node, what, "imported as `false`")? {
            return Ok(false);
        }
        let text = self.text(node, what)?;
        let probe = Node {
            kind: Kind::Scalar {
                text: text.unwrap_or_default(),
                plain: true,
            },
            span: node.span,
        };
        probe.boolean().ok_or_else(|| {
            Diagnostic::new(
                Code::ImportInvalid,
                node.span,
                format!("{what} must be true or false"),
            )
            .label(format!("found {}", node.describe()))
        })
    }

    /// A list of scalars, or one scalar standing for a list of one.
    fn strings(&mut self, node: &Node, what: &str) -> Result<Vec<(String, Span)>, Diagnostic> {
        let mut out = Vec::new();
        match &node.kind {
            Kind::Seq(items) => {
                for item in items {
                    if let Some(t) = self.text(item, what)? {
                        out.push((t, item.span));
                    }
                }
            }
            _ => {
                if let Some(t) = self.text(node, what)? {
                    out.push((t, node.span));
                }
            }
        }
        Ok(out)
    }

    /// A name of `kind` not yet taken, close to `base` (a valid name).
    fn fresh_name(&mut self, kind: DeclKind, base: &str) -> String {
        let taken = self.taken.entry(kind).or_default();
        let mut name = base.to_string();
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        taken.insert(name.clone());
        name
    }
}

fn expect_map<'n>(node: &'n Node, what: &str) -> Result<&'n [(Node, Node)], Diagnostic> {
    node.entries().ok_or_else(|| {
        Diagnostic::new(
            Code::ImportInvalid,
            node.span,
            format!("{what} must be a mapping, found {}", node.describe()),
        )
        .label("not a mapping")
    })
}

// ---- building the tree ----------------------------------------------------

fn value(kind: ValueKind, span: Span) -> Value {
    Value { kind, span }
}

fn string(text: impl Into<String>, span: Span) -> Value {
    value(ValueKind::Str(text.into()), span)
}

fn name(text: impl Into<String>, span: Span) -> Value {
    value(ValueKind::Name(text.into()), span)
}

fn list(items: Vec<Value>, span: Span) -> Value {
    value(ValueKind::List(items), span)
}

fn entry(key: impl Into<String>, key_span: Span, v: Value) -> Entry {
    Entry {
        key: Spanned::new(key.into(), key_span),
        span: key_span.to(v.span),
        value: v,
    }
}

fn map(entries: Vec<Entry>, span: Span) -> Value {
    value(ValueKind::Map(entries), span)
}

fn call(func: &str, arg: Value, span: Span) -> Value {
    value(
        ValueKind::Call {
            func: Ident::new(func.to_string(), span),
            args: vec![arg],
        },
        span,
    )
}

fn attr(key: &str, key_span: Span, v: Value) -> Stmt {
    Stmt::Attribute(Attribute {
        key: Ident::new(key.to_string(), key_span),
        span: key_span.to(v.span),
        value: v,
    })
}

#[cfg(test)]
mod tests;
