//! Names a Docker target cannot carry, refused at build time with
//! `E5010` at the name.
//!
//! Every name reaches the YAML (the emitter writes a key of any length),
//! but not every name survives deployment. In compose, a service's name is
//! its host name on its networks, and a DNS label holds at most 63
//! characters: a longer name deploys, and no other service can reach it
//! by name, which is what the checked program says they do. Swarm prefixes
//! services and networks with the stack name (`PROJECT_NAME`) and refuses
//! a service or network name over 63 characters, and a secret name over 64
//! (swarmkit's `validateAnnotations`). Kubernetes and Terraform need no
//! check here: the Kubernetes backend turns every name into a DNS label of
//! at most 63 characters (made unique), Terraform writes names as HCL
//! identifiers and truncates the texts AWS limits to 255 characters.

use crate::diagnostics::{Code, Diagnostic};
use crate::ir::Model;
use crate::span::Span;

/// The longest DNS label, and so the longest service or network name
/// swarm accepts (stack prefix included).
const DNS_LABEL: usize = 63;
/// The longest secret name swarm accepts.
const SWARM_SECRET: usize = 64;

/// `name` as a message shows it: a name of a thousand characters is
/// shortened to its start.
fn shown(name: &str) -> String {
    const SHOWN: usize = 24;
    match name.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &name[..end]),
        None => name.to_string(),
    }
}

/// The finding for a name over `max` characters, if it is.
fn too_long(
    span: Span,
    what: &str,
    name: &str,
    target: &str,
    why: &str,
    max: usize,
) -> Option<Diagnostic> {
    let len = name.chars().count();
    (len > max).then(|| {
        Diagnostic::new(
            Code::NameTooLong,
            span,
            format!(
                "{what} `{}` is {len} characters long, more than {target} can carry",
                shown(name)
            ),
        )
        .label(format!("at most {max} characters for {target}"))
        .help(format!(
            "{why}; shorten the name to at most {max} characters"
        ))
    })
}

/// Service names compose cannot resolve.
pub(super) fn compose(model: &Model) -> Vec<Diagnostic> {
    model
        .services
        .iter()
        .filter_map(|s| {
            too_long(
                s.name_span,
                "service",
                &s.name,
                "compose",
                "compose makes a service's name its host name on its networks, and a DNS label holds at most 63 characters, so no other service could reach it by name",
                DNS_LABEL,
            )
        })
        .collect()
}

/// Service, network and secret names swarm refuses, with the stack name
/// `project` the generated `docker stack deploy` line uses.
pub(super) fn swarm(model: &Model, project: &str) -> Vec<Diagnostic> {
    let prefixed = DNS_LABEL.saturating_sub(project.chars().count() + 1);
    let why = |what: &str| {
        format!("`docker stack deploy` names the {what} `{project}_NAME`, and swarm refuses a {what} name over 63 characters")
    };
    let mut out = Vec::new();
    for s in &model.services {
        out.extend(too_long(
            s.name_span,
            "service",
            &s.name,
            "swarm",
            &why("service"),
            prefixed,
        ));
    }
    for n in model.networks.iter().filter(|n| n.declared) {
        // An external network is used by its own name, without the prefix.
        let (max, why) = if n.external {
            (
                DNS_LABEL,
                "swarm refuses a network name over 63 characters".to_string(),
            )
        } else {
            (prefixed, why("network"))
        };
        out.extend(too_long(n.span, "network", &n.name, "swarm", &why, max));
    }
    for s in &model.secrets {
        out.extend(too_long(
            s.span,
            "secret",
            &s.name,
            "swarm",
            "the stack uses the secret by its own name (`docker secret create NAME`), and swarm refuses a secret name over 64 characters",
            SWARM_SECRET,
        ));
    }
    out
}
