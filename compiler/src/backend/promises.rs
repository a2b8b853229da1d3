//! Promises compose and swarm cannot keep by themselves, refused at build
//! for both (one rule, so neither backend can forget it): a `local` port
//! of a service that shares a network with others is open to them there
//! (Docker does not filter between containers on one network), so unless
//! the program accepted that (`allow local-reaches-peers "why"`), the
//! target refuses rather than widen it silently. Kubernetes keeps the
//! port local with a NetworkPolicy and is not concerned.
//!
//! Compose also runs every service on the one host it is deployed to,
//! whatever their `on` and `placement` say: two services that publish one
//! host port, which the checker lets share it because their placements
//! keep them apart on swarm and Terraform, collide there (and whichever
//! binds first would answer on the other's port, under the other's
//! firewall rule), so compose refuses them.

use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Exposure, LocalPeers, Model, ServiceId};

pub(super) fn one_host(model: &Model) -> Vec<Diagnostic> {
    let mut first: std::collections::BTreeMap<(u16, &str), (&str, crate::span::Span)> =
        Default::default();
    let mut out = Vec::new();
    for s in &model.services {
        for p in s.ports.iter().filter(|p| p.declared.is_published()) {
            let key = (p.host, p.protocol.as_str());
            match first.get(&key) {
                None => {
                    first.insert(key, (s.name.as_str(), p.span));
                }
                Some((other, at)) if *other != s.name => out.push(
                    Diagnostic::new(
                        Code::TargetCannotEnforce,
                        p.span,
                        format!(
                            "compose runs every service on one host: `{other}` and `{}` both publish host port {}/{}",
                            s.name, p.host, key.1
                        ),
                    )
                    .label("published again here, on the same host")
                    .secondary(*at, "first published here")
                    .help("their placements keep them apart on swarm and terraform only: publish one on another host port (`as PORT`), or build this program for swarm"),
                ),
                Some(_) => {}
            }
        }
    }
    out
}

pub(super) fn local_ports(model: &Model, target: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let local_peers = LocalPeers::new(model);
    for (i, s) in model.services.iter().enumerate() {
        if s.accepted
            .iter()
            .any(|(c, _)| *c == Code::LocalReachesPeers)
        {
            continue;
        }
        let Some((peers, networks)) = local_peers.of(ServiceId(i as u32)) else {
            continue;
        };
        for p in s.ports.iter().filter(|p| p.effective == Exposure::Local) {
            out.push(
                Diagnostic::new(
                    Code::TargetCannotEnforce,
                    p.level_span,
                    format!(
                        "{target} cannot keep port {} of `{}` local: {peers} can reach it on {networks}",
                        p.container, s.name
                    ),
                )
                .label("local, but every container on its networks reaches it here")
                .help(format!(
                    "give `{}` a network of its own, declare the port `internal`, or accept it with `allow local-reaches-peers \"why\"` in `{}`",
                    s.name, s.name
                )),
            );
        }
    }
    out
}
