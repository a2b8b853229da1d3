//! Exposure findings: class ceilings over effective exposure (with the
//! route path that widened it), open and broad restrictions, sensitive
//! well-known ports, and node-level holes (SSH, the engine API).

use ipnet::IpNet;

use crate::check::exposure::{path, Effective};
use crate::check::Ctx;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Class, ClassOrigin, Engine, Exposure, Model, Service, ServiceId, Ssh};

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

/// Remote shells and desktops.
const REMOTE_ADMIN_PORTS: &[(u16, &str)] = &[
    (22, "SSH"),
    (23, "telnet"),
    (3389, "RDP"),
    (5900, "VNC"),
    (5985, "WinRM"),
    (5986, "WinRM over TLS"),
];

fn class_reason(service: &Service) -> String {
    match &service.class_origin {
        ClassOrigin::Declared(_) => format!("declared `class = {}`", service.class.as_str()),
        ClassOrigin::Image(entry) => format!(
            "its image `{}` is a known {} image (`{entry}` in the stdlib catalogue)",
            service.image,
            service.class.as_str()
        ),
        ClassOrigin::Default => "the default class".to_string(),
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
    let hops = path(model, effective, id, port);
    let opened_here = p.declared.rank() >= p.effective.rank() || hops.is_empty();
    let mut d = if opened_here {
        Diagnostic::new(code, p.level_span, message).label(format!(
            "port {} is {} here",
            p.container,
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
                    "`{}` is {} here",
                    origin_service.name,
                    describe(&op.declared)
                ),
            );
        }
        d.secondary(
            p.span,
            format!(
                "`{}:{}` is declared {} here",
                service.name,
                p.container,
                p.declared.word()
            ),
        )
    };
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
            "`{}` is a {} service: {}",
            service.name,
            service.class.as_str(),
            class_reason(service)
        ));
    }
    d
}

fn describe(e: &Exposure) -> String {
    match e {
        Exposure::Public => "public: anyone on the internet can reach it".to_string(),
        Exposure::Restricted(_) => format!("{e}"),
        Exposure::Internal => "internal".to_string(),
        Exposure::Local => "local".to_string(),
    }
}

fn is_open(nets: &[IpNet]) -> bool {
    nets.is_empty() || nets.iter().any(|n| n.prefix_len() == 0)
}

/// `data` above `internal`, `admin` at `public` (or restricted to everything).
pub(super) fn ceilings(ctx: &mut Ctx<'_>, model: &Model, effective: &Effective) {
    for (i, service) in model.services.iter().enumerate() {
        let id = ServiceId(i as u32);
        for (p, port) in service.ports.iter().enumerate() {
            let eff = &port.effective;
            let via_route = port.declared.rank() < eff.rank();
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
                            service.name, port.container, eff.word()
                        ),
                    )
                    .help(if via_route {
                        format!(
                            "data services are never published: drop this route and let the services that use `{}` reach it over a shared network; for your own access make nothing public, use `port {} local` and an SSH tunnel",
                            service.name, port.container
                        )
                    } else {
                        format!(
                            "make it `port {} internal` (reachable only by services on its networks), or `port {} local` and reach it through an SSH tunnel",
                            port.container, port.container
                        )
                    });
                    ctx.diagnostics.push(d);
                }
                Class::Admin if eff.rank() == Exposure::Public.rank() => {
                    let d = exposure_finding(
                        model,
                        effective,
                        id,
                        p,
                        Code::AdminPublic,
                        format!(
                            "admin service `{}` is reachable from the whole internet{reach}: port {} is effectively public",
                            service.name, port.container
                        ),
                    )
                    .help(if via_route {
                        "restrict the route to known addresses: `route \"...\" -> ... restricted(office)`, or drop the route and reach the tool through an SSH tunnel (`port N local`)".to_string()
                    } else {
                        format!(
                            "restrict it to known addresses: `port {} restricted(office)`, or make it `port {} local` and use an SSH tunnel",
                            port.container, port.container
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
    }
    for (nets, span) in lists {
        if is_open(nets) {
            let why = if nets.is_empty() {
                "the list is empty".to_string()
            } else {
                let all: Vec<String> = nets
                    .iter()
                    .filter(|n| n.prefix_len() == 0)
                    .map(|n| n.to_string())
                    .collect();
                format!("`{}` contains every address", all.join("`, `"))
            };
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
                        format!("`{net}` is a very wide range ({} addresses or more)", if net.addr().is_ipv4() { "65,536" } else { "2^80" }),
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
                        port.container, service.name
                    ))
                    .help("cluster ports are opened between the nodes by the generated security groups; declare the port `internal`");
                    ctx.diagnostics.push(d);
                }
            }
            if port.container == 6443 && eff.rank() == Exposure::Public.rank() {
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
            if let Some((_, what)) = REMOTE_ADMIN_PORTS
                .iter()
                .find(|(n, _)| *n == port.container)
            {
                if eff.rank() == Exposure::Public.rank() {
                    let d = exposure_finding(model, effective, id, p, Code::RemoteAdminPublic, format!(
                        "{what} (port {}) of `{}` is open to the internet",
                        port.container, service.name
                    ))
                    .help(format!("restrict it to known addresses: `port {} restricted(office)`, or reach it through the cloud's session manager", port.container));
                    ctx.diagnostics.push(d);
                }
            }
            if port.container == 2375 && eff.rank() > Exposure::Local.rank() {
                let d = exposure_finding(model, effective, id, p, Code::EnginePlaintext, format!(
                    "`{}` serves the Docker engine API on plain TCP (port 2375) beyond its host",
                    service.name
                ))
                .help("anyone who reaches this port is root on the host: keep it `local`, or use the engine over SSH or mutual TLS (2376)");
                ctx.diagnostics.push(d);
            }
            if service.class_origin == ClassOrigin::Default {
                if let Some((class, what)) = ctx.catalogue.port(port.container) {
                    ctx.diagnostics.push(
                        Diagnostic::new(Code::UnclassifiedPort, port.span, format!(
                            "port {} is usually {what}, a {} service, but `{}` is not in the catalogue",
                            port.container, class.as_str(), service.image
                        ))
                        .label(format!("looks like {what}"))
                        .help(format!(
                            "declare the class so the checker applies the right ceiling: `class = {}` (or `class = app` if it is your own service)",
                            class.as_str()
                        )),
                    );
                }
            }
        }
    }
}

/// SSH open to the world, and the engine API on plain TCP.
pub(super) fn nodes(ctx: &mut Ctx<'_>, model: &Model) {
    for node in &model.nodes {
        if node.ssh == Ssh::Public {
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
