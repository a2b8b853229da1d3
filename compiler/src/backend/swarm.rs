//! The swarm stack backend: `stack.yml` for `docker stack deploy`.
//!
//! Differences from compose (research notes §3.2): ports in long syntax
//! with `mode: host`, never the routing mesh, which publishes on every node; swarm
//! cannot bind a published port to loopback, so a `local` port is not
//! published at all and a warning says how to reach it; overlay networks,
//! encrypted where declared and whenever the program has several nodes;
//! secrets are `external` (`docker secret create`), under the name the
//! store holds; `deploy` carries replicas, placement, resources, restart and
//! update policies. `depends_on` does not exist in swarm and is left out.
//!
//! What a stack must survive: tmpfs as `type: tmpfs` mounts (stack deploy
//! drops a service-level `tmpfs:`); a task that crashes is restarted for as
//! long as it crashes (no `max_attempts` after which the service stays
//! down); an update stops the old task first where two tasks cannot run
//! side by side — a host-mode port is held by the old one, a named volume
//! would have two processes on one data directory; more replicas than the
//! nodes that may run them is a warning at build time, not a task Pending.

use super::docker::{self, Deployer};
use super::yaml::{strings, Map, Node};
use super::{Artifact, Options, Target};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Exposure, Mode, Model, MountSource, NodeId, SecretSource, Service};

pub const FILE: &str = "stack.yml";

pub fn emit(model: &Model, options: &Options) -> (Vec<Artifact>, Vec<Diagnostic>) {
    let mut diagnostics = super::names::swarm(model, &options.project);
    let mut root = Map::new();
    // docker stack deploy still reads the version key to pick its schema.
    root.insert("version", "3.9");
    let mut services = Map::new();
    for s in &model.services {
        services.insert(s.name.as_str(), service(model, s, &mut diagnostics));
    }
    root.insert("services", services);
    root.insert_map("networks", networks(model));
    root.insert_map("volumes", docker::top_level_volumes(model));
    let mut secrets = Map::new();
    for s in &model.secrets {
        let mut m = Map::new();
        // The name in the swarm's store: an external secret's own, else the
        // one the comment's `docker secret create` gives it.
        let (stored, how) = match &s.source {
            SecretSource::Env(var) => (
                s.name.as_str(),
                format!("printf %s \"${var}\" | docker secret create {} -", s.name),
            ),
            SecretSource::File(path) => (
                s.name.as_str(),
                format!("docker secret create {} {path}", s.name),
            ),
            SecretSource::External(name) => {
                (name.as_str(), format!("already in the swarm as `{name}`"))
            }
        };
        m.insert("external", true).insert("name", stored);
        secrets.insert_commented(
            s.name.as_str(),
            m,
            format!("create before deploying: {how}"),
        );
    }
    root.insert_map("secrets", secrets);
    let mut header = super::generated_header(options);
    header.push(format!(
        "Deploy: docker stack deploy -c {FILE} {}",
        options.project
    ));
    // Stack deploy ignores `security_opt`: the engine's own default is the
    // only way a task gets it.
    header.push(
        "no-new-privileges: set \"no-new-privileges\": true in every node's /etc/docker/daemon.json (stack deploy ignores security_opt)"
            .to_string(),
    );
    docker::files(Target::Swarm, &header, root, model, options, diagnostics)
}

fn service(model: &Model, s: &Service, diagnostics: &mut Vec<Diagnostic>) -> Map {
    ignored(s, diagnostics);
    if let Some(data) = s.data.as_ref().filter(|d| s.volume_at(&d.dir).is_none()) {
        diagnostics.push(
            Diagnostic::new(
                Code::DataNotKept,
                data.span,
                format!("the data of `{}` in {} is on no volume: every new task of a swarm starts without it", s.name, data.dir),
            )
            .label("an anonymous volume per task")
            .help(format!("mount a named volume there to keep it: `volume {n}-data {{}}` and `mounts = [{n}-data -> \"{}\"]`", data.dir, n = s.name)),
        );
    }
    let mut m = docker::service_base(model, s, Deployer::Stack);
    let mut ports = Vec::new();
    let mut notes = Vec::new();
    for p in &s.ports {
        let published = match &p.declared {
            Exposure::Internal => continue,
            Exposure::Local => {
                diagnostics.push(
                    Diagnostic::new(
                        Code::TargetNarrows,
                        p.level_span,
                        format!("swarm cannot publish port {} of `{}` on loopback only, so it is not published", p.container, s.name),
                    )
                    .label("local: not published in the stack")
                    .help(format!(
                        "reach it from its node: `docker exec` into the task, or an SSH tunnel to the node and `docker run --rm -it --network <stack>_{} ...`",
                        s.networks.first().map_or("default".to_string(), |n| model.network(*n).name.clone())
                    )),
                );
                continue;
            }
            Exposure::Restricted(nets) => {
                notes.push(docker::restricted_port(
                    model,
                    s,
                    p,
                    nets,
                    "swarm",
                    diagnostics,
                ));
                true
            }
            Exposure::Public => true,
        };
        debug_assert!(published);
        let mut port = Map::new();
        port.insert("target", p.container)
            .insert("published", p.host)
            .insert("protocol", p.protocol.as_str())
            // Host mode: the port opens only on the nodes that run a task
            // (the scheduler never puts two on one node). The routing mesh
            // would open it on every node of the cluster, and needs IPVS.
            .insert("mode", "host");
        ports.push(Node::Map(port));
    }
    // One task per node at most: the nodes must have room for every replica.
    if !ports.is_empty() || holds_volume(s) {
        placement_room(model, s, diagnostics);
    }
    docker::insert_ports(&mut m, ports, &notes);
    m.insert("deploy", deploy(model, s));
    m
}

/// What `docker stack deploy` drops from a service without failing: the
/// program's security options and `privileged`. (The default
/// no-new-privileges is the header's note, not a warning per service.)
fn ignored(s: &Service, diagnostics: &mut Vec<Diagnostic>) {
    if !s.security_opt.is_empty() {
        diagnostics.push(
            Diagnostic::new(
                Code::IgnoredByTarget,
                s.attr_span("security_opt"),
                format!("docker stack deploy ignores the security options of `{}`", s.name),
            )
            .label("not applied by a swarm")
            .help("set the engine's defaults on every node instead (`\"no-new-privileges\": true`, `\"seccomp-profile\"` in /etc/docker/daemon.json), or deploy this service with compose or Kubernetes"),
        );
    }
    if s.privileged {
        diagnostics.push(
            Diagnostic::new(
                Code::IgnoredByTarget,
                s.attr_span("privileged"),
                format!("docker stack deploy ignores `privileged` on `{}`: its tasks run unprivileged", s.name),
            )
            .label("not applied by a swarm")
            .help("add the capabilities it needs with `cap_add` (swarm honours them), or deploy this service with compose"),
        );
    }
}

/// Mounts a named volume: a swarm volume is local to its node, so two
/// tasks on one node would share one data directory.
fn holds_volume(s: &Service) -> bool {
    s.mounts
        .iter()
        .any(|m| matches!(m.source, MountSource::Volume(_)))
}

/// The program's nodes a service may run on: its `on`, its placement's
/// role and labels. Empty when the program declares no node.
fn eligible_nodes(model: &Model, s: &Service) -> Vec<NodeId> {
    (0..model.nodes.len() as u32)
        .map(NodeId)
        .filter(|id| {
            let node = model.node(*id);
            s.on.map_or(true, |on| on == *id)
                && s.placement.role.map_or(true, |r| r == node.role)
                && s.placement
                    .labels
                    .iter()
                    .all(|label| node.labels.contains(label))
        })
        .collect()
}

/// A service of which at most one task runs per node (host-mode ports,
/// named volumes): its replicas against the nodes that may run them.
/// Known only when the program declares its nodes.
fn placement_room(model: &Model, s: &Service, diagnostics: &mut Vec<Diagnostic>) {
    if model.nodes.is_empty() {
        return;
    }
    let eligible = eligible_nodes(model, s).len();
    let why = if holds_volume(s) {
        "its named volume is local to a node, and two tasks must not share one data directory"
    } else {
        "a host-mode port opens on one task per node"
    };
    if eligible == 0 {
        diagnostics.push(
            Diagnostic::new(
                Code::NoEligibleNode,
                s.attr_span(if s.on.is_some() { "on" } else { "placement" }),
                format!(
                    "no node of the program may run `{}`: its tasks would stay Pending",
                    s.name
                ),
            )
            .label("matches no declared node")
            .help(
                "give a node the role and labels this placement asks for, or loosen the placement",
            ),
        );
        return;
    }
    if s.mode == Mode::Replicated && s.replicas as usize > eligible {
        let nodes = if eligible == 1 { "node" } else { "nodes" };
        diagnostics.push(
            Diagnostic::new(
                Code::PlacementShort,
                s.attr_span("replicas"),
                format!(
                    "`{}` asks for {} replicas, but only {eligible} {nodes} may run one each: {} would stay Pending",
                    s.name,
                    s.replicas,
                    s.replicas as usize - eligible
                ),
            )
            .label(format!("{} replicas", s.replicas))
            .help(format!("{why}: write `mode = global` for one task on every eligible node, lower `replicas` to {eligible}, or declare more nodes its placement matches (publishing through the routing mesh instead would open the port on every node of the swarm)")),
        );
    }
}

fn deploy(model: &Model, s: &Service) -> Map {
    let mut d = Map::new();
    match s.mode {
        Mode::Global => {
            d.insert("mode", "global");
        }
        Mode::Replicated => {
            d.insert("mode", "replicated")
                .insert("replicas", s.replicas);
        }
    }
    let mut constraints = Vec::new();
    if let Some(node) = s.on {
        constraints.push(format!("node.hostname == {}", model.node(node).name));
    }
    if let Some(role) = s.placement.role {
        constraints.push(format!("node.role == {}", role.as_str()));
    }
    for (k, v) in &s.placement.labels {
        constraints.push(format!("node.labels.{k} == {v}"));
    }
    let mut placement = Map::new();
    if !constraints.is_empty() {
        placement.insert("constraints", strings(&constraints));
    }
    if holds_volume(s) && s.mode == Mode::Replicated && s.replicas > 1 {
        // Two tasks on one node would run two processes on one local volume.
        placement.insert("max_replicas_per_node", 1u32);
    }
    d.insert_map("placement", placement);
    d.insert_map("resources", docker::resources(&s.resources));
    // Restarted for as long as it stops: with `max_attempts`, five quick
    // crashes (a database not up yet) would leave the service down for good.
    let mut restart = Map::new();
    restart.insert("condition", "any").insert("delay", "5s");
    d.insert("restart_policy", restart);
    // Start the new task first only where two can run side by side: a
    // host-mode port stays held by the old task (the new one would wait
    // Pending for ever), a named volume would get two processes at once.
    let order = if s.ports.iter().any(published) || holds_volume(s) {
        "stop-first"
    } else {
        "start-first"
    };
    let mut update = Map::new();
    update
        .insert("parallelism", 1u32)
        .insert("delay", "10s")
        .insert("failure_action", "rollback")
        .insert("order", order);
    d.insert("update_config", update);
    let mut rollback = Map::new();
    rollback
        .insert("parallelism", 1u32)
        .insert("order", "stop-first");
    d.insert("rollback_config", rollback);
    d
}

/// Swarm publishes public and restricted ports, in host mode.
fn published(p: &crate::ir::Port) -> bool {
    matches!(p.declared, Exposure::Public | Exposure::Restricted(_))
}

fn networks(model: &Model) -> Map {
    docker::networks(model, "overlay", |n| {
        n.encrypted.then(|| {
            let mut opts = Map::new();
            opts.insert("encrypted", "true");
            opts
        })
    })
}
