//! The Compose Specification backend: `compose.yaml` for `docker compose`
//! on one host.
//!
//! Exposure: `local` → `"127.0.0.1:H:C"`; `internal` → `expose` only;
//! `public` → `"0.0.0.0:H:C"`; `restricted` → published like public, with a
//! comment naming the security group that enforces the ranges — which the
//! program's `provider` must generate, else `target-cannot-enforce`. Every
//! bridge network binds unqualified ports to 127.0.0.1, so a port can only
//! reach beyond the host where this file says so.
//!
//! What it must survive: a container that stops is restarted until it is
//! stopped by hand (`unless-stopped`, never a count after which it stays
//! down); `replicas` is kept (`deploy.replicas`), with a warning where one
//! host cannot run the copies side by side; an `external(...)` secret is an
//! error, since `docker compose up` has no store to read it from.

use super::docker::{self, Deployer};
use super::yaml::{Map, Node};
use super::{Artifact, Options, Target};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Exposure, Mode, Model, MountSource, SecretSource, Service};

pub const FILE: &str = "compose.yaml";

pub fn emit(model: &Model, options: &Options) -> (Vec<Artifact>, Vec<Diagnostic>) {
    let mut diagnostics = super::names::compose(model);
    let mut root = Map::new();
    root.insert("name", options.project.as_str());
    let mut services = Map::new();
    for s in &model.services {
        let (service, comment) = service(model, s, &mut diagnostics);
        match comment {
            Some(c) => services.insert_commented(s.name.as_str(), service, c),
            None => services.insert(s.name.as_str(), service),
        };
    }
    root.insert("services", services);
    root.insert_map("networks", networks(model));
    root.insert_map("volumes", docker::top_level_volumes(model));
    root.insert_map("secrets", secrets(model, &mut diagnostics));
    let header = super::generated_header(options);
    docker::files(Target::Compose, &header, root, model, options, diagnostics)
}

fn port_spec(host_ip: &str, host: u16, container: u16, protocol: crate::ir::Protocol) -> String {
    let suffix = if protocol == crate::ir::Protocol::Udp {
        "/udp"
    } else {
        ""
    };
    format!("{host_ip}:{host}:{container}{suffix}")
}

fn service(model: &Model, s: &Service, diagnostics: &mut Vec<Diagnostic>) -> (Map, Option<String>) {
    let mut m = docker::service_base(model, s, Deployer::Compose);
    let mut ports = Vec::new();
    let mut expose = Vec::new();
    let mut notes = Vec::new();
    for p in &s.ports {
        match &p.declared {
            Exposure::Local => ports.push(Node::Str(port_spec(
                "127.0.0.1",
                p.host,
                p.container,
                p.protocol,
            ))),
            Exposure::Internal => {
                let suffix = if p.protocol == crate::ir::Protocol::Udp {
                    "/udp"
                } else {
                    ""
                };
                expose.push(Node::Str(format!("{}{suffix}", p.container)));
            }
            Exposure::Public => ports.push(Node::Str(port_spec(
                "0.0.0.0",
                p.host,
                p.container,
                p.protocol,
            ))),
            Exposure::Restricted(nets) => {
                ports.push(Node::Str(port_spec(
                    "0.0.0.0",
                    p.host,
                    p.container,
                    p.protocol,
                )));
                notes.push(docker::restricted_port(
                    model,
                    s,
                    p,
                    nets,
                    "compose",
                    diagnostics,
                ));
            }
        }
    }
    one_host(s, !ports.is_empty(), diagnostics);
    if s.read_only == Some(true) && docker::env_secret(model, s) {
        diagnostics.push(
            Diagnostic::new(
                Code::IgnoredByTarget,
                s.attr_span("read_only"),
                format!(
                    "compose cannot keep `{}` read-only: it reads a secret from the environment",
                    s.name
                ),
            )
            .label("the root filesystem stays writable on compose")
            .help("compose copies an `env(...)` secret into the container and refuses a read-only one; use `from = file(\"/path/outside/the/repo\")` for this secret to keep the root read-only, or deploy with swarm or Kubernetes"),
        );
    }
    docker::insert_ports(&mut m, ports, &notes);
    m.insert_seq("expose", expose);
    let mut depends = Map::new();
    for (dep, _) in &s.depends {
        let d = model.service(*dep);
        let condition = if d.health.is_some() {
            "service_healthy"
        } else {
            "service_started"
        };
        let mut c = Map::new();
        c.insert("condition", condition);
        depends.insert(d.name.as_str(), c);
    }
    m.insert_map("depends_on", depends);
    // Restarted whenever it stops, until someone stops it: a count
    // (`on-failure:5`) leaves a service down for good after quick crashes.
    m.insert(
        "restart",
        s.restart
            .clone()
            .unwrap_or_else(|| "unless-stopped".to_string()),
    );
    let mut deploy = Map::new();
    if s.mode == Mode::Replicated && s.replicas != 1 {
        deploy.insert("replicas", s.replicas);
    }
    deploy.insert_map("resources", docker::resources(&s.resources));
    m.insert_map("deploy", deploy);
    // Routes are the proxy's own configuration (`super::proxy`).
    (m, None)
}

/// Compose runs every replica on one host: copies that publish a port, or
/// share a named volume, cannot run side by side there.
fn one_host(s: &Service, publishes: bool, diagnostics: &mut Vec<Diagnostic>) {
    if s.mode != Mode::Replicated || s.replicas < 2 {
        return;
    }
    let volume = s
        .mounts
        .iter()
        .any(|m| matches!(m.source, MountSource::Volume(_)));
    let why = match (publishes, volume) {
        (true, _) => "the second copy cannot bind the host port the first holds",
        (false, true) => "every copy would run on one data directory",
        (false, false) => return,
    };
    diagnostics.push(
        Diagnostic::new(
            Code::PlacementShort,
            s.attr_span("replicas"),
            format!("compose runs the {} replicas of `{}` on one host: {why}", s.replicas, s.name),
        )
        .label(format!("{} replicas", s.replicas))
        .help("on one host keep `replicas = 1`; build for swarm or Kubernetes to spread replicas over nodes"),
    );
}

fn networks(model: &Model) -> Map {
    docker::networks(model, "bridge", |n| {
        // A port published without an address lands on 127.0.0.1, never on
        // every interface: only what this file publishes explicitly leaves the host.
        let mut opts = Map::new();
        opts.insert("com.docker.network.bridge.host_binding_ipv4", "127.0.0.1");
        if n.internal {
            // No address for the host on an internal bridge: the host (and
            // anything routed through it) cannot reach the containers' IPs,
            // which older engines otherwise allow. The live-engine test proves it.
            opts.insert("com.docker.network.bridge.inhibit_ipv4", "true");
        }
        Some(opts)
    })
}

fn secrets(model: &Model, diagnostics: &mut Vec<Diagnostic>) -> Map {
    let mut out = Map::new();
    for s in &model.secrets {
        let mut m = Map::new();
        match &s.source {
            SecretSource::Env(var) => {
                m.insert("environment", var.as_str());
            }
            SecretSource::File(path) => {
                m.insert("file", path.as_str());
            }
            SecretSource::External(name) => {
                // `docker compose up` fails on it ("external secrets are not
                // available to containers created by docker-compose").
                diagnostics.push(
                    Diagnostic::new(
                        Code::NoSecretStore,
                        s.span,
                        format!("docker compose has no secret store to read `{}` from", s.name),
                    )
                    .label("external secret: `docker compose up` would fail")
                    .help("on a single host use `from = file(\"/path/outside/the/repo\")` or `from = env(\"VAR\")`; external secrets work with `--target swarm` and `--target k8s`"),
                );
                m.insert("external", true).insert("name", name.as_str());
            }
        }
        out.insert(s.name.as_str(), m);
    }
    out
}
