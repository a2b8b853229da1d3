//! Whether the file is a swarm stack (deployed with `docker stack deploy
//! -c`) rather than a compose file (`docker compose up`).
//!
//! The two formats are one schema, and the difference matters for a
//! port: `docker stack deploy` publishes a port without `mode: host`
//! through the ingress routing mesh (on every node of the swarm, to any
//! task), `docker compose` on the one host. The language publishes in
//! host mode on swarm and has no routing-mesh level, so in a stack such a
//! port is reported ([`super::Importer::ports`]); in a compose file it
//! means what the program says.
//!
//! A file is read as a stack when it uses a key that only `docker stack
//! deploy` acts on: compose ignores `deploy.placement`, `update_config`,
//! `rollback_config`, `endpoint_mode`, `deploy.labels` and the swarm
//! service modes other than the default `replicated`, and refuses to create an `overlay` network outside a
//! swarm. `deploy.replicas` and `deploy.resources` are honoured by both,
//! so they decide nothing.

use super::yaml::Node;
use crate::span::Span;

/// The `deploy` keys only swarm acts on.
const SWARM_DEPLOY_KEYS: &[&str] = &[
    "placement",
    "update_config",
    "rollback_config",
    "endpoint_mode",
    "labels",
    // Unless `replicated`, every engine's default.
    "mode",
];

/// The first key of `root` that only a swarm acts on, with how to name
/// it in a message (`deploy.placement` of `web`); `None` for a compose
/// file.
pub(super) fn evidence(root: &Node) -> Option<(Span, String)> {
    for (k, service) in root.get("services")?.entries().unwrap_or_default() {
        let Some(deploy) = service.get("deploy") else {
            continue;
        };
        for (dk, dv) in deploy.entries().unwrap_or_default() {
            let swarm_only = |key: &&str| {
                SWARM_DEPLOY_KEYS.contains(key)
                    && !(*key == "mode" && dv.scalar() == Some("replicated"))
            };
            if let Some(key) = dk.scalar().filter(swarm_only) {
                let name = k.scalar().unwrap_or_default();
                return Some((dk.span, format!("`deploy.{key}` of `{name}`")));
            }
        }
    }
    let networks = root.get("networks").and_then(Node::entries);
    for (k, network) in networks.unwrap_or_default() {
        if let Some(driver) = network
            .get("driver")
            .filter(|d| d.scalar() == Some("overlay"))
        {
            let name = k.scalar().unwrap_or_default();
            return Some((driver.span, format!("the overlay network `{name}`")));
        }
    }
    None
}
