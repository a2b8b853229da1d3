//! Backends: the checked [`Model`] to the files a target deploys. Each
//! target is one module with the same signature, dispatched by [`emit`];
//! what a target cannot express is a diagnostic pointing at the source.
//! Backends build typed trees ([`yaml::Map`], hcl-rs bodies) and hand each
//! file to a [`Sink`] as soon as it is complete: the CLI writes it and
//! drops it, so no target holds its whole output (the Kubernetes target
//! writes a service's file before it builds the next service's objects).

pub mod compose;
mod docker;
pub mod k8s;
mod names;
mod promises;
pub mod proxy;
pub mod swarm;
pub mod terraform;
pub mod yaml;

use std::path::{Path, PathBuf};

use crate::diagnostics::Diagnostic;
use crate::ir::Model;

/// A deployment target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Compose,
    Swarm,
    K8s,
    Terraform,
}

impl Target {
    pub const ALL: &'static [Target] = &[
        Target::Compose,
        Target::Swarm,
        Target::K8s,
        Target::Terraform,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::Compose => "compose",
            Target::Swarm => "swarm",
            Target::K8s => "k8s",
            Target::Terraform => "terraform",
        }
    }
}

/// One generated file, its path relative to the output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub path: PathBuf,
    pub contents: String,
}

/// Where a backend puts each file once it is complete. The contents are
/// lent: a sink writes or copies them, and the backend reuses the buffer.
pub trait Sink {
    /// `path` is relative to the output directory.
    fn file(&mut self, path: &Path, contents: &str);
}

/// Collects the files: what tests and the in-memory callers read.
impl Sink for Vec<Artifact> {
    fn file(&mut self, path: &Path, contents: &str) {
        self.push(Artifact {
            path: path.to_path_buf(),
            contents: contents.to_string(),
        });
    }
}

/// Drops every file: for a run that only wants the diagnostics.
pub struct Discard;

impl Sink for Discard {
    fn file(&mut self, _: &Path, _: &str) {}
}

/// What every backend knows besides the model.
#[derive(Debug, Clone)]
pub struct Options {
    /// The project name (compose `name:`, Kubernetes namespace, tag prefix).
    pub project: String,
    /// The source file's name as the user gave it, for the header comment.
    pub source: String,
}

/// The files for `target`, or the diagnostics that say why it cannot be
/// built (errors) and what it narrowed (warnings).
pub fn emit(model: &Model, target: Target, options: &Options) -> (Vec<Artifact>, Vec<Diagnostic>) {
    let mut artifacts = Vec::new();
    let diagnostics = emit_into(model, target, options, &mut artifacts);
    (artifacts, diagnostics)
}

/// [`emit`], each file handed to `sink` as soon as it is complete, in the
/// order [`emit`] lists them. The diagnostics are only complete at the
/// end: a caller that must not publish a failed build keeps what it was
/// given aside (the CLI's staging directory) until then.
pub fn emit_into(
    model: &Model,
    target: Target,
    options: &Options,
    sink: &mut dyn Sink,
) -> Vec<Diagnostic> {
    let mut diagnostics = match target {
        Target::K8s => k8s::emit(model, options, sink),
        // One file each (and the few proxy configurations beside it),
        // built whole: the file is one tree.
        Target::Compose | Target::Swarm | Target::Terraform => {
            let (artifacts, diagnostics) = match target {
                Target::Compose => compose::emit(model, options),
                Target::Swarm => swarm::emit(model, options),
                _ => terraform::emit(model, options),
            };
            for a in artifacts {
                sink.file(&a.path, &a.contents);
            }
            diagnostics
        }
    };
    if matches!(target, Target::Compose | Target::Swarm) {
        diagnostics.extend(promises::local_ports(model, target.name()));
    }
    if target == Target::Compose {
        diagnostics.extend(promises::one_host(model));
    }
    diagnostics
}

/// Turns a file name into a project name that every target accepts:
/// lower case letters, digits and `-`, starting with a letter.
pub fn project_name(raw: &str) -> String {
    let mut name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while name.contains("--") {
        name = name.replace("--", "-");
    }
    let name = name.trim_matches('-');
    let name = if name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.to_string()
    } else {
        format!("infra-{name}")
    };
    let mut name = name.trim_end_matches('-').to_string();
    name.truncate(40);
    name.trim_end_matches('-').to_string()
}

/// The first comment lines of every generated file. The source path
/// goes through [`crate::comment::path`], as in every header, so no file
/// name can end the comment.
pub fn generated_header(options: &Options) -> Vec<String> {
    vec![
        generated_from(&options.source),
        "Do not edit: change the program and run `infrac build` again.".to_string(),
    ]
}

/// "Generated by infrac VERSION from SOURCE.", the path escaped for a
/// comment line: the first header line of every generated file.
pub(crate) fn generated_from(source: &str) -> String {
    format!(
        "Generated by infrac {} from {}.",
        env!("CARGO_PKG_VERSION"),
        crate::comment::path(source)
    )
}

/// A name usable as a Terraform identifier (letters, digits, `_`).
pub fn tf_name(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}
