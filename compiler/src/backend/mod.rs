//! Backends: the checked [`Model`] to the files a target deploys. Each
//! target is one module with the same signature, dispatched by [`emit`];
//! what a target cannot express is a diagnostic pointing at the source.
//! Backends build typed trees ([`yaml::Map`], hcl-rs bodies) and serialise
//! once at the end.

pub mod compose;
mod docker;
pub mod k8s;
pub mod swarm;
pub mod terraform;
pub mod yaml;

use std::path::PathBuf;

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
    match target {
        Target::Compose => compose::emit(model, options),
        Target::Swarm => swarm::emit(model, options),
        Target::K8s => k8s::emit(model, options),
        Target::Terraform => terraform::emit(model, options),
    }
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

/// A name usable as a Terraform identifier (letters, digits, `_`).
pub fn tf_name(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}
