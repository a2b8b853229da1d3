//! The swarm stack backend: `stack.yml` for `docker stack deploy`.
//!
//! Differences from compose (research notes §3.2): ports in long syntax
//! with `mode: host`, never the routing mesh, which publishes on every node; swarm
//! cannot bind a published port to loopback, so a `local` port is not
//! published at all and a warning says how to reach it; overlay networks,
//! encrypted where declared; secrets are `external` (`docker secret
//! create`); `deploy` carries replicas, placement, resources, restart and
//! update policies. `depends_on` does not exist in swarm and is left out.

use super::docker;
use super::yaml::{strings, Map, Node};
use super::{Artifact, Options};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Exposure, Mode, Model, Service};

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
        m.insert("external", true).insert("name", s.name.as_str());
        let how = match &s.source {
            crate::ir::SecretSource::Env(var) => {
                format!("printf %s \"${var}\" | docker secret create {} -", s.name)
            }
            crate::ir::SecretSource::File(path) => {
                format!("docker secret create {} {path}", s.name)
            }
            crate::ir::SecretSource::External(name) => format!("already in the swarm as `{name}`"),
        };
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
    let configs = super::proxy::realise(
        model,
        super::Target::Swarm,
        options,
        &mut root,
        &mut diagnostics,
    );
    let mut files = docker::files(FILE, &header, &root, model, options);
    files.extend(configs);
    (files, diagnostics)
}

fn service(model: &Model, s: &Service, diagnostics: &mut Vec<Diagnostic>) -> Map {
    let mut m = docker::service_base(model, s);
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
    docker::insert_ports(&mut m, ports, &notes);
    m.insert("deploy", deploy(model, s));
    m
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
    if !constraints.is_empty() {
        let mut placement = Map::new();
        placement.insert("constraints", strings(&constraints));
        d.insert("placement", placement);
    }
    d.insert_map("resources", docker::resources(&s.resources));
    let mut restart = Map::new();
    restart
        .insert("condition", "on-failure")
        .insert("delay", "5s")
        .insert("max_attempts", 5u32)
        .insert("window", "120s");
    d.insert("restart_policy", restart);
    let mut update = Map::new();
    update
        .insert("parallelism", 1u32)
        .insert("delay", "10s")
        .insert("failure_action", "rollback")
        .insert("order", "start-first");
    d.insert("update_config", update);
    let mut rollback = Map::new();
    rollback
        .insert("parallelism", 1u32)
        .insert("order", "stop-first");
    d.insert("rollback_config", rollback);
    d
}

fn networks(model: &Model) -> Map {
    let mut out = Map::new();
    for n in &model.networks {
        let mut m = Map::new();
        if n.external {
            m.insert("external", true);
        } else {
            m.insert(
                "driver",
                n.driver.clone().unwrap_or_else(|| "overlay".to_string()),
            );
            if n.internal {
                m.insert("internal", true);
            }
            if n.encrypted {
                let mut opts = Map::new();
                opts.insert("encrypted", "true");
                m.insert("driver_opts", opts);
            }
        }
        out.insert(n.name.as_str(), m);
    }
    out
}
