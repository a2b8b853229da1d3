//! Exposure findings: class ceilings over effective exposure (with the
//! route path that widened it), open and broad restrictions, sensitive
//! well-known ports, and node-level holes (SSH, the engine API).

use ipnet::IpNet;

use crate::ast::Protocol;
use crate::check::exposure::{path, Effective};
use crate::check::Ctx;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Class, ClassOrigin, Engine, Exposure, Model, Port, Service, ServiceId, Ssh};

/// Cluster ports that only the cluster's own nodes may reach.
const CLUSTER_PORTS: &[(u16, &str)] = &[
    (2377, "swarm cluster management"),
    (7946, "swarm node gossip"),
    (4789, "swarm overlay VXLAN"),
    (2379, "etcd client API"),
    (2380, "etcd peer API"),
    (10250, "kubelet API"),
    (10255, "kubelet read-only API"),
    (10257, "kube-controller-manager"),
    (10259, "kube-scheduler"),
];

/// Remote shells, desktops and host consoles, as port ranges: a port here
/// is remote administration whatever the image.
const REMOTE_ADMIN_PORTS: &[(u16, u16, &str)] = &[
    (22, 22, "SSH"),
    (23, 23, "telnet"),
    (3389, 3389, "RDP"),
    (5900, 5910, "VNC"),
    (5985, 5985, "WinRM"),
    (5986, 5986, "WinRM over TLS"),
    (2376, 2376, "the Docker engine API (TLS)"),
];

/// What remote administration port `n` is, if it is one.
pub(super) fn remote_admin_port(n: u16) -> Option<&'static str> {
    REMOTE_ADMIN_PORTS
        .iter()
        .find(|(lo, hi, _)| (*lo..=*hi).contains(&n))
        .map(|(_, _, what)| *what)
}

fn class_reason(service: &Service) -> String {
    match &service.class_origin {
        ClassOrigin::Declared(_) => format!("declared `class = {}`", service.class.as_str()),
        ClassOrigin::Image(entry) => format!(
            "its image `{}` is a known {} image (`{entry}` in the stdlib catalogue)",
            service.image,
            service.class.as_str()
        ),
        ClassOrigin::Port(port, what) => format!(
            "its image `{}` is not in the catalogue, and it listens on port {port}, {what}'s port",
            service.image
        ),
        ClassOrigin::Default => "the default class".to_string(),
    }
}

/// The route that hands reach on to `service`'s port `port`, rewritten
/// with an allowlist: `route "ci.example.com" -> jenkins:8080 restricted(office)`.
fn restricted_route(model: &Model, effective: &Effective, id: ServiceId, port: usize) -> String {
    let Some(hop) = path(effective, id, port).into_iter().next() else {
        return "route \"...\" -> ... restricted(office)".to_string();
    };
    let route = &model.service(hop.proxy).routes[hop.route];
    format!(
        "route {:?} -> {}:{} restricted(office)",
        route.matcher,
        model.service(route.target).name,
        route.port
    )
}

/// A port as written in a `port` line: `6379`, `7946/udp`. Helps quote it,
/// so `port 7946/udp internal` fixes the UDP port and not its TCP twin.
fn spec(port: &Port) -> String {
    match port.protocol {
        Protocol::Tcp => port.container.to_string(),
        Protocol::Udp => format!("{}/udp", port.container),
    }
}

/// "a data service", "an admin service", "an app service".
fn class_phrase(class: Class) -> &'static str {
    match class {
        Class::Data => "a data service",
        Class::Admin => "an admin service",
        Class::App => "an app service",
    }
}

/// Builds an exposure finding on the line that opens the hole: the port's
/// own level, or the last route of the path, with the rest of the path as
/// secondary labels.
fn exposure_finding(
    model: &Model,
    effective: &Effective,
    id: ServiceId,
    port: usize,
    code: Code,
    message: String,
) -> Diagnostic {
    let service = model.service(id);
    let p = &service.ports[port];
    let hops = path(effective, id, port);
    let opened_here = p.declared.rank() >= p.effective.rank() || hops.is_empty();
    let mut d = if opened_here {
        Diagnostic::new(code, p.level_span, message).label(format!(
            "port {} is declared {}",
            spec(p),
            describe(&p.declared)
        ))
    } else {
        let first = &hops[0];
        let proxy = model.service(first.proxy);
        let route = &proxy.routes[first.route];
        let mut d = Diagnostic::new(code, route.span, message).label(format!(
            "this route hands `{}`'s reach on to `{}:{}`",
            proxy.name, service.name, p.container
        ));
        for hop in &hops[1..] {
            let via = model.service(hop.proxy);
            let r = &via.routes[hop.route];
            d = d.secondary(
                r.span,
                format!(
                    "`{}` routes to `{}` here",
                    via.name,
                    model.service(r.target).name
                ),
            );
        }
        let origin = hops.last().expect("hops is not empty").proxy;
        let origin_service = model.service(origin);
        if let Some(w) = crate::check::exposure::widest_port(effective, origin) {
            let op = &origin_service.ports[w];
            d = d.secondary(
                op.level_span,
                format!(
                    "`{}:{}` is declared {}",
                    origin_service.name,
                    op.container,
                    describe(&op.declared)
                ),
            );
        }
        d.secondary(
            p.span,
            format!(
                "`{}:{}` is declared {}",
                service.name,
                p.container,
                describe(&p.declared)
            ),
        )
    };
    if service.host_network {
        d = d.secondary(
            service.attr_span("host_network"),
            "`host_network = true`: every port listens on the host's own interfaces, whatever level it declares",
        );
    }
    // The class matters only to the ceiling findings; cluster, remote-admin
    // and engine ports are judged whatever the class.
    if !matches!(code, Code::DataExposed | Code::AdminPublic) {
        return d;
    }
    if let ClassOrigin::Declared(span) = service.class_origin {
        d = d.secondary(
            span,
            format!(
                "`{}` is declared `{}` here",
                service.name,
                service.class.as_str()
            ),
        );
    } else {
        d = d.note(format!(
            "`{}` is {}: {}",
            service.name,
            class_phrase(service.class),
            class_reason(service)
        ));
    }
    d
}

/// A declared level, for "port 6379 is declared ...".
fn describe(e: &Exposure) -> String {
    match e {
        Exposure::Public => "public here: anyone on the internet can reach it".to_string(),
        other => format!("{other} here"),
    }
}

/// "16,777,216 addresses" for a /8; IPv6 counts as a power of two.
fn address_count(net: &IpNet) -> String {
    let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
    match net {
        // Below /16 only: at most 2^31 addresses, which fits in a u64.
        IpNet::V4(_) => {
            let digits = (1u64 << host_bits).to_string();
            let mut grouped = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    grouped.push(',');
                }
                grouped.push(c);
            }
            format!("{grouped} addresses")
        }
        IpNet::V6(_) => format!("2^{host_bits} addresses"),
    }
}

/// Whether a reach is the whole internet: `public`, or a restriction whose
/// ranges together cover it (see [`super::coverage`]). Ceilings and the
/// remote-admin rules judge this, so waiving `open-restriction` never
/// turns an open list into an accepted one.
pub(super) fn reaches_world(e: &Exposure) -> bool {
    match e {
        Exposure::Public => true,
        Exposure::Restricted(nets) => super::coverage::open_reason(nets).is_some(),
        _ => false,
    }
}

/// `data` above `internal`, `admin` at `public` (or restricted to everything).
pub(super) fn ceilings(ctx: &mut Ctx<'_>, model: &Model, effective: &Effective) {
    for (i, service) in model.services.iter().enumerate() {
        let id = ServiceId(i as u32);
        for (p, port) in service.ports.iter().enumerate() {
            let eff = &port.effective;
            let via_route = port.declared.rank() < eff.rank() && !service.host_network;
            let reach = if via_route { " through a route" } else { "" };
            match service.class {
                Class::Data if eff.rank() > Exposure::Internal.rank() => {
                    let d = exposure_finding(
                        model,
                        effective,
                        id,
                        p,
                        Code::DataExposed,
                        format!(
                            "data service `{}` is reachable beyond its networks{reach}: port {} is effectively {}",
                            service.name, spec(port), eff.word()
                        ),
                    )
                    .help(if via_route {
                        format!(
                            "data services are never published: drop this route and let the services that use `{}` reach it over a shared network; for your own access make nothing public, use `port {} local` and an SSH tunnel",
                            service.name, spec(port)
                        )
                    } else {
                        format!(
                            "make it `port {} internal` (reachable only by services on its networks), or `port {} local` and reach it through an SSH tunnel",
                            spec(port), spec(port)
                        )
                    });
                    ctx.diagnostics.push(d);
                }
                Class::Admin if reaches_world(eff) => {
                    let d = exposure_finding(
                        model,
                        effective,
                        id,
                        p,
                        Code::AdminPublic,
                        format!(
                            "admin service `{}` is reachable from the whole internet{reach}: port {} is effectively public",
                            service.name, spec(port)
                        ),
                    )
                    .help(if via_route {
                        format!(
                            "give the route an allowlist: `{}`, or drop the route and reach the tool through an SSH tunnel (`port {} local`)",
                            restricted_route(model, effective, id, p),
                            spec(port)
                        )
                    } else {
                        format!(
                            "restrict it to known addresses: `port {} restricted(office)`, or make it `port {} local` and use an SSH tunnel",
                            spec(port), spec(port)
                        )
                    });
                    ctx.diagnostics.push(d);
                }
                _ => {}
            }
        }
    }
}

/// `restricted(...)` lists that let everyone in (error) or nearly (warning),
/// on ports, routes and node SSH.
pub(super) fn restrictions(ctx: &mut Ctx<'_>, model: &Model) {
    let mut lists: Vec<(&[IpNet], crate::span::Span)> = Vec::new();
    for s in &model.services {
        for p in &s.ports {
            if let Exposure::Restricted(nets) = &p.declared {
                lists.push((nets, p.level_span));
            }
        }
        for r in &s.routes {
            if let Some(nets) = &r.restriction {
                lists.push((nets, r.span));
            }
        }
    }
    for n in &model.nodes {
        if let Ssh::Restricted(nets) = &n.ssh {
            lists.push((nets, n.ssh_span));
        }
        if let Some(nets) = &n.engine_from {
            lists.push((nets, n.engine_span));
        }
    }
    for (nets, span) in lists {
        if let Some(why) = super::coverage::open_reason(nets) {
            ctx.diagnostics.push(
                Diagnostic::new(Code::OpenRestriction, span, format!("this restriction restricts nothing: {why}"))
                    .label("open to everyone")
                    .help("list the addresses that need access, such as your office's range: `restricted([\"203.0.113.0/24\"])`"),
            );
            continue;
        }
        for net in nets {
            let broad = match net {
                IpNet::V4(n) => n.prefix_len() < 16,
                IpNet::V6(n) => n.prefix_len() < 48,
            };
            if broad {
                ctx.diagnostics.push(
                    Diagnostic::new(
                        Code::BroadRestriction,
                        span,
                        format!("`{net}` is a very wide range: {}", address_count(net)),
                    )
                    .label("wider than a /16 (IPv4) or /48 (IPv6)")
                    .help("narrow it to the addresses that really need access; a cloud provider's whole range is nearly the internet"),
                );
            }
        }
    }
}

/// Cluster, remote-admin and engine ports; sensitive ports on images whose
/// class is unknown.
pub(super) fn sensitive_ports(ctx: &mut Ctx<'_>, model: &Model, effective: &Effective) {
    for (i, service) in model.services.iter().enumerate() {
        let id = ServiceId(i as u32);
        for (p, port) in service.ports.iter().enumerate() {
            let eff = &port.effective;
            if let Some((_, what)) = CLUSTER_PORTS.iter().find(|(n, _)| *n == port.container) {
                if eff.rank() > Exposure::Internal.rank() {
                    let d = exposure_finding(model, effective, id, p, Code::ControlPlaneExposed, format!(
                        "port {} ({what}) of `{}` is reachable beyond the cluster's nodes",
                        spec(port), service.name
                    ))
                    .help(format!(
                        "declare it `port {} internal`: infrac opens cluster ports between the cluster's own nodes (security groups that name each other), never to an address range",
                        spec(port)
                    ));
                    ctx.diagnostics.push(d);
                }
            }
            if port.container == 6443 && reaches_world(eff) {
                let d = exposure_finding(
                    model,
                    effective,
                    id,
                    p,
                    Code::ControlPlaneExposed,
                    format!(
                        "the Kubernetes API (port 6443) of `{}` is open to the internet",
                        service.name
                    ),
                )
                .help(
                    "restrict it to your administrators' addresses: `port 6443 restricted(office)`",
                );
                ctx.diagnostics.push(d);
            }
            // The port table, or the catalogue: an sshd or VNC image is a
            // remote shell on whatever port it listens (2222, 5901, ...).
            // A port the stdlib documents as an application's own (Gitea's
            // SSH for git) is not in the table for that image.
            let remote = remote_admin_port(port.container)
                .filter(|_| {
                    ctx.catalogue
                        .serves_users_on(&service.image, port.container)
                        .is_none()
                })
                .map(str::to_string)
                .or_else(|| {
                    ctx.catalogue
                        .remote_admin(&service.image)
                        .map(|entry| format!("a remote shell (`{entry}` in the stdlib catalogue)"))
                });
            if let Some(what) = remote {
                if reaches_world(eff) {
                    let d = exposure_finding(model, effective, id, p, Code::RemoteAdminPublic, format!(
                        "{what} (port {}) of `{}` is open to the internet",
                        spec(port), service.name
                    ))
                    .help(format!("restrict it to known addresses: `port {} restricted(office)`, or reach it through the cloud's session manager", spec(port)));
                    ctx.diagnostics.push(d);
                }
            }
            if port.container == 2375 && eff.rank() > Exposure::Local.rank() {
                let d = exposure_finding(model, effective, id, p, Code::EnginePlaintext, format!(
                    "`{}` serves the Docker engine API on plain TCP (port 2375) beyond its host",
                    service.name
                ))
                .help("anyone who reaches this port is root on the host: make it `port 2375 local`, or reach the engine over SSH (`docker -H ssh://HOST`) or mutual TLS on 2376");
                ctx.diagnostics.push(d);
            }
            if let ClassOrigin::Port(inferred_from, _) = &service.class_origin {
                if let Some((class, what)) = ctx.catalogue.port(port.container) {
                    if port.container == *inferred_from {
                        ctx.diagnostics.push(
                            Diagnostic::new(Code::UnclassifiedPort, port.span, format!(
                                "port {} is usually {what}, and `{}` is not in the catalogue: `{}` is treated as {}",
                                port.container, service.image, service.name, class_phrase(class)
                            ))
                            .label(format!("looks like {what}"))
                            .help(format!(
                                "declare the class to say what it is: `class = {}` keeps this ceiling and silences the warning; `class = app` if it is your own service",
                                class.as_str()
                            )),
                        );
                    }
                }
            }
        }
    }
}

/// SSH open to the world, and the engine API on plain TCP.
pub(super) fn nodes(ctx: &mut Ctx<'_>, model: &Model) {
    for node in &model.nodes {
        let ssh_open = match &node.ssh {
            Ssh::Public => true,
            Ssh::Restricted(nets) => super::coverage::open_reason(nets).is_some(),
            Ssh::None => false,
        };
        if ssh_open {
            ctx.diagnostics.push(
                Diagnostic::new(Code::SshPublic, node.ssh_span, format!("SSH on node `{}` is open to the whole internet", node.name))
                    .label("anyone can try to log in here")
                    .help("use `ssh = none` and the cloud's session manager, or `ssh = restricted(office)`"),
            );
        }
        if node.engine == Engine::Tcp {
            ctx.diagnostics.push(
                Diagnostic::new(Code::EnginePlaintext, node.engine_span, format!("the Docker engine of node `{}` listens on plain TCP", node.name))
                    .label("unauthenticated root on the host for anyone who reaches port 2375")
                    .help("use `engine = ssh` (docker -H ssh://...) or `engine = tls` (mutual TLS on 2376)"),
            );
        }
    }
}
