//! Reachability findings: dependencies and routes across networks that do
//! not meet, dependency cycles, host-port conflicts, and data stores that
//! share a network with a published service that has no business there.

use std::collections::BTreeMap;

use crate::check::Ctx;
use crate::diagnostics::{Code, Diagnostic};
use crate::graph::Graph;
use crate::ir::{Class, Exposure, Model, NetworkId, Service, ServiceId};

fn shares_network(a: &Service, b: &Service) -> bool {
    a.host_network || b.host_network || a.networks.iter().any(|n| b.networks.contains(n))
}

fn network_names(model: &Model, ids: &[NetworkId]) -> String {
    let names: Vec<String> = ids
        .iter()
        .map(|n| format!("`{}`", model.network(*n).name))
        .collect();
    names.join(", ")
}

/// "`backend`" for one network, "one of `a`, `b`" for several.
fn one_of(model: &Model, ids: &[NetworkId]) -> String {
    match ids {
        [one] => network_names(model, &[*one]),
        _ => format!("one of {}", network_names(model, ids)),
    }
}

pub(super) fn dependencies(ctx: &mut Ctx<'_>, model: &Model) {
    for s in &model.services {
        for (dep, span) in &s.depends {
            let d = model.service(*dep);
            if !shares_network(s, d) {
                ctx.diagnostics.push(
                    Diagnostic::new(
                        Code::UnreachableDependency,
                        *span,
                        format!(
                            "`{}` depends on `{}`, but they share no network",
                            s.name, d.name
                        ),
                    )
                    .label(format!("`{}` cannot reach `{}`", s.name, d.name))
                    .secondary(
                        s.attr_span("networks"),
                        format!("`{}` is on {}", s.name, network_names(model, &s.networks)),
                    )
                    .secondary(
                        d.attr_span("networks"),
                        format!("`{}` is on {}", d.name, network_names(model, &d.networks)),
                    )
                    .help(format!(
                        "put both on one network: add {} to `{}`'s `networks`",
                        one_of(model, &d.networks),
                        s.name
                    )),
                );
            }
        }
    }
}

pub(super) fn routes(ctx: &mut Ctx<'_>, model: &Model) {
    for s in &model.services {
        for r in &s.routes {
            let t = model.service(r.target);
            if !shares_network(s, t) {
                ctx.diagnostics.push(
                    Diagnostic::new(
                        Code::UnreachableRoute,
                        r.span,
                        format!(
                            "`{}` routes to `{}`, but they share no network",
                            s.name, t.name
                        ),
                    )
                    .label("the proxy cannot reach this target")
                    .secondary(
                        s.attr_span("networks"),
                        format!("`{}` is on {}", s.name, network_names(model, &s.networks)),
                    )
                    .secondary(
                        t.attr_span("networks"),
                        format!("`{}` is on {}", t.name, network_names(model, &t.networks)),
                    )
                    .help(format!(
                        "put both on one network: add {} to `{}`'s `networks`",
                        one_of(model, &t.networks),
                        s.name
                    )),
                );
            }
        }
    }
}

pub(super) fn cycles(ctx: &mut Ctx<'_>, model: &Model, graph: &Graph) {
    for group in graph.dependency_cycles() {
        let Some(cycle) = cycle_through(model, &group) else {
            continue;
        };
        // `cycle` is [a, b, ..., z] with a → b → ... → z → a; edge i runs
        // from cycle[i] to cycle[i + 1] (wrapping).
        let edge = |i: usize| {
            let from = model.service(cycle[i]);
            let to = cycle[(i + 1) % cycle.len()];
            let (_, span) = from
                .depends
                .iter()
                .find(|(d, _)| *d == to)
                .expect("cycle_through follows dependency edges");
            (from, *span)
        };
        let mut names: Vec<String> = cycle
            .iter()
            .map(|id| format!("`{}`", model.service(*id).name))
            .collect();
        names.push(names[0].clone());
        let (_, first_span) = edge(0);
        let message = if cycle.len() == 1 {
            format!("`{}` depends on itself", model.service(cycle[0]).name)
        } else {
            format!(
                "services depend on each other in a cycle: {}",
                names.join(" → ")
            )
        };
        let mut d = Diagnostic::new(Code::DependencyCycle, first_span, message)
            .label("this dependency closes a cycle")
            .help("no service in a cycle can start first: remove one of these dependencies");
        for i in 1..cycle.len() {
            let (from, span) = edge(i);
            let to = model.service(cycle[(i + 1) % cycle.len()]);
            d = d.secondary(
                span,
                format!("`{}` depends on `{}` here", from.name, to.name),
            );
        }
        ctx.diagnostics.push(d);
    }
}

/// A shortest dependency cycle through the first member of a strongly
/// connected group, in the order its edges run. The group's members are
/// sorted, so the cycle starts at the same service on every run.
fn cycle_through(model: &Model, group: &[ServiceId]) -> Option<Vec<ServiceId>> {
    let start = *group.first()?;
    // Breadth-first from `start` inside the group until an edge leads back.
    let mut parent: BTreeMap<ServiceId, ServiceId> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(at) = queue.pop_front() {
        for (dep, _) in &model.service(at).depends {
            if *dep == start {
                let mut cycle = vec![at];
                while let Some(p) = parent.get(cycle.last().expect("not empty")) {
                    cycle.push(*p);
                }
                cycle.reverse();
                return Some(cycle);
            }
            if group.contains(dep) && !parent.contains_key(dep) && *dep != start {
                parent.insert(*dep, at);
                queue.push_back(*dep);
            }
        }
    }
    None
}

pub(super) fn port_conflicts(ctx: &mut Ctx<'_>, model: &Model) {
    node_port_conflicts(ctx, model);
    // (host port, protocol) → publishers in name order.
    let mut published: BTreeMap<(u16, &str), Vec<(ServiceId, usize)>> = BTreeMap::new();
    for (i, s) in model.services.iter().enumerate() {
        for (p, port) in s.ports.iter().enumerate() {
            if port.declared.is_published() {
                published
                    .entry((port.host, port.protocol.as_str()))
                    .or_default()
                    .push((ServiceId(i as u32), p));
            }
        }
    }
    for ((host, proto), mut users) in published {
        // "first published here" means first in the text.
        users.sort_by_key(|(s, p)| model.service(*s).ports[*p].span);
        for (k, (b, bp)) in users.iter().enumerate() {
            let sb = model.service(*b);
            let clash = users[..k]
                .iter()
                .find(|(a, _)| may_share_a_node(model, model.service(*a), sb));
            if let Some((a, ap)) = clash {
                let sa = model.service(*a);
                ctx.diagnostics.push(
                    Diagnostic::new(
                        Code::PortConflict,
                        sb.ports[*bp].span,
                        format!("host port {host}/{proto} is published by both `{}` and `{}`", sa.name, sb.name),
                    )
                    .label("published again here")
                    .secondary(sa.ports[*ap].span, "first published here")
                    .help("publish one of them on another host port (`as PORT`), or keep them apart: pin them to different nodes with `on`, or place them on disjoint roles or labels with `placement`"),
                );
            }
        }
    }
}

/// A port published on a node's own SSH (22/tcp, unless `ssh = none`) or
/// TLS engine (2376/tcp) port: the two cannot both listen there, and the
/// node's firewall rule for its own service admits its sources to the
/// container's port as well (a port `restricted(lan) as 22` on a node with
/// `ssh = restricted(office)` is reachable from the office). Every declared
/// node counts, whatever the placement: compose runs every service on the
/// one host it is deployed to, which may be any of them.
fn node_port_conflicts(ctx: &mut Ctx<'_>, model: &Model) {
    use crate::ir::{Engine, Ssh};
    let nodes: Vec<usize> = (0..model.nodes.len()).collect();
    for s in &model.services {
        for port in s.ports.iter().filter(|p| p.declared.is_published()) {
            if port.protocol.as_str() != "tcp" || s.host_network {
                continue;
            }
            for n in nodes.iter().map(|i| &model.nodes[*i]) {
                let (what, span) = match port.host {
                    22 if n.ssh != Ssh::None => ("its SSH", n.ssh_span),
                    2376 if n.engine == Engine::Tls => {
                        ("its Docker engine's TLS API", n.engine_span)
                    }
                    _ => continue,
                };
                ctx.diagnostics.push(
                    Diagnostic::new(
                        Code::PortConflict,
                        port.span,
                        format!(
                            "`{}` publishes host port {}/tcp on node `{}`, where the node serves {what}",
                            s.name, port.host, n.name
                        ),
                    )
                    .label("published on the node's own port here")
                    .secondary(span, format!("`{}` serves {what} on {}", n.name, port.host))
                    .help("publish it on another host port (`as PORT`): the node's firewall rule for its own service would admit its sources to this port too"),
                );
            }
        }
    }
}

/// The declared nodes a service may run on: its `on` node, else every
/// node whose role and labels its `placement` admits. `None` when the
/// program declares no node (the cluster is not known).
fn nodes_of(model: &Model, s: &Service) -> Option<Vec<usize>> {
    if model.nodes.is_empty() {
        return None;
    }
    Some(match s.on {
        Some(on) => vec![on.index()],
        None => model
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                s.placement.role.map_or(true, |r| r == n.role)
                    && s.placement.labels.iter().all(|l| n.labels.contains(l))
            })
            .map(|(i, _)| i)
            .collect(),
    })
}

/// Whether two services can land on one node, so their host ports collide
/// there (and share that node's firewall rule for the port). With declared
/// nodes, their node sets must meet; without, only
/// what the placements say apart keeps them apart: a node has one role,
/// and one value per label. (Swarm publishes in host mode, so a port opens
/// only on the nodes that run a task, not on every node of the mesh.)
fn may_share_a_node(model: &Model, a: &Service, b: &Service) -> bool {
    if model.nodes.is_empty() && model.provider.is_some() {
        // Terraform builds one implicit node for a program that declares
        // none: one host, and one security group whose rule for the port
        // would admit both services' sources to both.
        return true;
    }
    if let (Some(x), Some(y)) = (nodes_of(model, a), nodes_of(model, b)) {
        return x.iter().any(|n| y.contains(n));
    }
    let (pa, pb) = (&a.placement, &b.placement);
    if let (Some(ra), Some(rb)) = (pa.role, pb.role) {
        if ra != rb {
            return false;
        }
    }
    !pa.labels
        .iter()
        .any(|(k, v)| pb.labels.iter().any(|(k2, v2)| k == k2 && v != v2))
}

/// A data service on a network shared with a published service that
/// neither depends on it nor routes to it: one compromised edge service
/// away from the database (three-tier separation).
pub(super) fn data_tiers(ctx: &mut Ctx<'_>, model: &Model, graph: &Graph) {
    // Members of each network, so the rule costs the sum of the squares of
    // network sizes rather than the square of the number of services.
    let mut members: Vec<Vec<ServiceId>> = vec![Vec::new(); model.networks.len()];
    for (i, s) in model.services.iter().enumerate() {
        for n in &s.networks {
            members[n.index()].push(ServiceId(i as u32));
        }
    }
    for (i, data) in model.services.iter().enumerate() {
        if data.class != Class::Data {
            continue;
        }
        let data_id = ServiceId(i as u32);
        let mut neighbours: Vec<ServiceId> = data
            .networks
            .iter()
            .flat_map(|n| members[n.index()].iter().copied())
            .filter(|id| *id != data_id)
            .collect();
        neighbours.sort_unstable();
        neighbours.dedup();
        for other_id in neighbours {
            let other = model.service(other_id);
            if other.class == Class::Data {
                continue;
            }
            let published = other
                .ports
                .iter()
                .any(|p| p.effective.rank() > Exposure::Internal.rank());
            if !published {
                continue;
            }
            let uses = other.depends.iter().any(|(d, _)| *d == data_id)
                || graph.route_targets(other_id).contains(&data_id);
            if uses {
                continue;
            }
            let shared: Vec<NetworkId> = other
                .networks
                .iter()
                .copied()
                .filter(|n| data.networks.contains(n))
                .collect();
            // The finding is about the data store, so it points at the
            // store's `networks` (where `allow data-tier-shared` then goes).
            let shared_names = network_names(model, &shared);
            ctx.diagnostics.push(
                Diagnostic::new(
                    Code::DataTierShared,
                    data.attr_span("networks"),
                    format!(
                        "data service `{}` shares {shared_names} with `{}`, which is published and does not use it",
                        data.name, other.name,
                    ),
                )
                .label(format!("`{}` is on {shared_names} here", data.name))
                .secondary(
                    other.attr_span("networks"),
                    format!("`{}` is published, and on {shared_names} too", other.name),
                )
                .help(format!(
                    "keep data on a network only its users join: move `{}` off {}, or give `{}` a network of its own",
                    other.name,
                    network_names(model, &shared),
                    data.name
                )),
            );
        }
    }
}
