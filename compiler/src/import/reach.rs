//! Who reaches whom, before and after a migration: the connections the
//! source file makes (its `depends_on`, links and the host names its
//! settings name, see [`super::connect`]) against what the generated files
//! of a target let through, computed from the checked model the way each
//! target enforces it.
//!
//! - compose, swarm and Terraform (Docker on a host): every container
//!   reaches every port of the containers on a network it shares;
//! - Kubernetes: the namespace denies everything, and a pod reaches the
//!   non-`local` ports of the services it depends on, and a proxy the
//!   ports its routes lead to.
//!
//! A connection of the source that the target blocks is a `W6005`.

use std::collections::{BTreeMap, BTreeSet};

use super::Connection;
use crate::backend::Target;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Exposure, Model};

/// The ports a client reaches on a server: `None` for every port.
type Reached = Option<BTreeSet<u16>>;

/// What the target lets each (client, server) pair reach.
fn after(model: &Model, target: Target) -> BTreeMap<(usize, usize), Reached> {
    let mut out: BTreeMap<(usize, usize), Reached> = BTreeMap::new();
    let services = &model.services;
    match target {
        Target::K8s => {
            for (c, s) in services.iter().enumerate() {
                for (server, _) in &s.depends {
                    let ports: BTreeSet<u16> = model
                        .service(*server)
                        .ports
                        .iter()
                        .filter(|p| p.declared != Exposure::Local)
                        .map(|p| p.container)
                        .collect();
                    if !ports.is_empty() {
                        merge(&mut out, (c, server.index()), Some(ports));
                    }
                }
                for r in &s.routes {
                    merge(&mut out, (c, r.target.index()), Some([r.port].into()));
                }
            }
        }
        Target::Compose | Target::Swarm | Target::Terraform => {
            for (c, client) in services.iter().enumerate() {
                for (s, server) in services.iter().enumerate() {
                    let shared = !client.host_network
                        && !server.host_network
                        && client.networks.iter().any(|n| server.networks.contains(n));
                    if c != s && shared {
                        out.insert((c, s), None);
                    }
                }
            }
        }
    }
    out
}

fn merge(out: &mut BTreeMap<(usize, usize), Reached>, key: (usize, usize), ports: Reached) {
    match (out.get_mut(&key), ports) {
        (Some(Some(have)), Some(more)) => have.extend(more),
        (Some(have), None) => *have = None,
        (Some(None), Some(_)) => {}
        (None, ports) => {
            out.insert(key, ports);
        }
    }
}

fn reaches(reached: &Reached, ports: &[u16]) -> bool {
    match reached {
        None => true,
        Some(have) => !have.is_empty() && ports.iter().all(|p| have.contains(p)),
    }
}

fn shown(name: &str, ports: &[u16]) -> String {
    match ports {
        [] => name.to_string(),
        _ => format!(
            "{name}:{}",
            ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

/// The lines `migrate` prints (per service, whom it reaches in the source
/// and on the target) and a `W6005` for each connection the target blocks.
pub fn compare(
    connections: &[Connection],
    model: &Model,
    target: Target,
) -> (Vec<String>, Vec<Diagnostic>) {
    let index: BTreeMap<&str, usize> = model
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let allowed = after(model, target);
    // Per client: server → the ports the source reaches, and the first
    // connection's evidence.
    let mut before: BTreeMap<usize, BTreeMap<usize, (BTreeSet<u16>, &Connection)>> =
        BTreeMap::new();
    for c in connections {
        let (Some(&from), Some(&to)) = (index.get(c.from.as_str()), index.get(c.to.as_str()))
        else {
            continue;
        };
        let entry = before
            .entry(from)
            .or_default()
            .entry(to)
            .or_insert_with(|| (BTreeSet::new(), c));
        entry.0.extend(c.ports.iter().copied());
    }
    let mut lines = Vec::new();
    let mut diagnostics = Vec::new();
    for (&from, servers) in &before {
        let client = &model.services[from].name;
        let mut was = Vec::new();
        let mut now = Vec::new();
        for (&to, (ports, evidence)) in servers {
            let server = &model.services[to].name;
            let ports: Vec<u16> = ports.iter().copied().collect();
            was.push(shown(server, &ports));
            let reached = allowed.get(&(from, to));
            match reached {
                Some(r) if reaches(r, &ports) => now.push(shown(server, &ports)),
                _ => {
                    now.push(format!("{} (blocked)", shown(server, &ports)));
                    diagnostics.push(
                        Diagnostic::new(
                            Code::MigrateBlocked,
                            evidence.span,
                            format!(
                                "on {} `{client}` cannot reach {}, which it reached in the source ({})",
                                target.name(),
                                shown(server, &ports),
                                evidence.evidence
                            ),
                        )
                        .label(format!("`{client}` connects to `{server}`"))
                        .help(format!(
                            "make `{server}` a dependency of `{client}` (`depends = [{server}]`) and declare the port it uses as `internal`"
                        )),
                    );
                }
            }
        }
        lines.push(format!(
            "  {client}: source -> {}; {} -> {}",
            was.join(", "),
            target.name(),
            now.join(", ")
        ));
    }
    (lines, diagnostics)
}
