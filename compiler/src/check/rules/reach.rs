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
            let clash = users[..k].iter().find(|(a, _)| {
                let sa = model.service(*a);
                // Pinned to two different nodes, two hosts: no clash.
                !(sa.on.is_some() && sb.on.is_some() && sa.on != sb.on)
            });
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
                    .help("publish one of them on another host port (`as PORT`), or pin them to different nodes with `on`"),
                );
            }
        }
    }
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
