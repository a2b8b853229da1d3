//! The host's view of a port. The firewall opens *host* ports; a port is
//! reachable at two places: its container port inside the service's
//! networks (judged by the exposure rules on the effective level), and,
//! when published, its host port on the node's interfaces. A service
//! published `as 22`, `as 2377` or `as 4789` opens the node's own SSH or
//! swarm port to whoever its level admits, whatever the container listens
//! on, so the cluster, remote-admin and engine rules judge the host port
//! too.
//!
//! On the host's network (`host_network = true`) every port is a host
//! port: the effective exposure is already `public` (see
//! `check::exposure`), and a narrower declared level is a promise no
//! target keeps, which is said here (`host-network-port`).
//!
//! A `local` port is a promise too: processes on the same host only. On
//! compose and swarm a container's ports are open to every container on
//! its networks, so a `local` port of a service that shares a network with
//! others is reachable from them (Kubernetes keeps it local with a
//! NetworkPolicy). That is said here (`local-reaches-peers`), and compose
//! and swarm refuse to build it until the program accepts it with a
//! waiver or keeps the promise itself (see `ir::LocalPeers`).

use super::exposure::{reaches_world, remote_admin_port};
use crate::ast::Protocol;
use crate::check::Ctx;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Exposure, LocalPeers, Model, Port, Service, ServiceId};

/// The swarm ports of every swarm node.
const SWARM_PORTS: &[(u16, &str)] = &[
    (2377, "swarm cluster management"),
    (7946, "swarm node gossip"),
    (4789, "swarm overlay VXLAN"),
];

/// `port 8080 public as 22` → "8080 (published as the node's 22/tcp)".
fn published_as(port: &Port) -> String {
    let proto = match port.protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    };
    format!(
        "port {} (published as the node's {}/{proto})",
        port.container, port.host
    )
}

pub(super) fn host_ports(ctx: &mut Ctx<'_>, model: &Model) {
    let local_peers = LocalPeers::new(model);
    for (i, s) in model.services.iter().enumerate() {
        for port in &s.ports {
            if s.host_network {
                if port.declared.rank() < Exposure::Public.rank() {
                    ctx.diagnostics.push(host_network_port(s, port));
                }
                continue;
            }
            if !port.declared.is_published() || port.host == port.container {
                // The container-port rules already judged the same number.
                continue;
            }
            judge_host_port(ctx, s, port);
        }
        local_promises(ctx, &local_peers, ServiceId(i as u32), s);
    }
}

/// `local-reaches-peers`: each `local` port (still local once routes are
/// followed) of a service that shares a network with another service.
fn local_promises(ctx: &mut Ctx<'_>, local_peers: &LocalPeers<'_>, id: ServiceId, s: &Service) {
    let Some((peers, networks)) = local_peers.of(id) else {
        return;
    };
    for port in s.ports.iter().filter(|p| p.effective == Exposure::Local) {
        ctx.diagnostics.push(
            Diagnostic::new(
                Code::LocalReachesPeers,
                port.level_span,
                format!(
                    "port {} of `{}` is declared local, but on compose and swarm {peers} can reach it on {networks}",
                    port.container, s.name
                ),
            )
            .label("compose and swarm open a container's ports to every container on its networks")
            .secondary(s.attr_span("networks"), format!("`{}` shares {networks} here", s.name))
            .help(format!(
                "give `{}` a network of its own, declare the port `internal` if its peers may reach it, or accept it with `allow local-reaches-peers \"why\"`; Kubernetes keeps it local, and compose and swarm refuse to build it unaccepted",
                s.name
            )),
        );
    }
}

fn judge_host_port(ctx: &mut Ctx<'_>, s: &Service, port: &Port) {
    let reach = &port.declared;
    let host = port.host;
    // The node's own cluster ports: swarm's, which every swarm node has.
    // The Kubernetes ports (6443, 10250, etcd) are a node's only on a
    // Kubernetes node, where services have no host ports to begin with.
    if let Some((_, what)) = SWARM_PORTS.iter().find(|(n, _)| *n == host) {
        if reach.rank() > Exposure::Internal.rank() {
            ctx.diagnostics.push(
                Diagnostic::new(
                    Code::ControlPlaneExposed,
                    port.span,
                    format!(
                        "`{}` publishes {} beyond the cluster's nodes: that host port is {what}",
                        s.name,
                        published_as(port)
                    ),
                )
                .label(format!("the node's port {host} is opened {}", reach.word()))
                .help(format!(
                    "publish it on another host port (drop `as {host}`), or not at all: the node's {host} belongs to the cluster, which infrac opens between its own nodes only"
                )),
            );
        }
    }
    if let Some(what) = remote_admin_port(host) {
        if reaches_world(reach) {
            ctx.diagnostics.push(
                Diagnostic::new(
                    Code::RemoteAdminPublic,
                    port.span,
                    format!(
                        "`{}` publishes {} to the internet: the node's {what} port",
                        s.name,
                        published_as(port)
                    ),
                )
                .label(format!("the node's port {host} is opened to everyone"))
                .help(format!(
                    "publish it on another host port, or restrict it: `port {} restricted(office) as {host}`",
                    port.container
                )),
            );
        }
    }
    if host == 2375 && reach.rank() > Exposure::Local.rank() {
        ctx.diagnostics.push(
            Diagnostic::new(
                Code::EnginePlaintext,
                port.span,
                format!(
                    "`{}` publishes {} beyond the host: the Docker engine's plain-TCP port",
                    s.name,
                    published_as(port)
                ),
            )
            .label("whoever reaches the node's 2375 expects root on the host")
            .help("publish it on another host port, or make it `local`"),
        );
    }
}

fn host_network_port(s: &Service, port: &Port) -> Diagnostic {
    Diagnostic::new(
        Code::HostNetworkPort,
        port.level_span,
        format!(
            "port {} of `{}` is declared {}, but the service is on the host's network",
            port.container,
            s.name,
            port.declared.word()
        ),
    )
    .label("on the host's network this port listens on every interface of the host")
    .secondary(s.attr_span("host_network"), "the host's network is shared here")
    .help("remove `host_network = true` so the port keeps its level, or declare the level it really has (`public`)")
}
