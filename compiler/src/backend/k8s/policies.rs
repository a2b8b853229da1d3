//! The NetworkPolicies: each namespace fenced (deny all, allow DNS), then
//! exactly the program's edges admitted — dependencies, routes that stay
//! inside, the ingress controller to each routed port, and the address
//! ranges of each LoadBalancer. Named once for the whole program, built
//! one service at a time as its file is written.

use std::collections::{BTreeMap, BTreeSet};

use super::{claim, narrows, protocol, Balancer, Object, Plan};
use crate::backend::yaml::{strings, Map, Node};
use crate::diagnostics::Diagnostic;
use crate::ir::Protocol;
use crate::ir::{Exposure, ServiceId};

/// A port and protocol a policy admits.
type PortKey = (u16, Protocol);

fn policy_ports(ports: &BTreeSet<PortKey>) -> Node {
    Node::Seq(
        ports
            .iter()
            .map(|(port, proto)| {
                let mut m = Map::new();
                m.insert("protocol", protocol(*proto)).insert("port", *port);
                Node::Map(m)
            })
            .collect(),
    )
}

fn pods(plan: &Plan<'_>, id: ServiceId) -> Map {
    let mut m = Map::new();
    m.insert("matchLabels", plan.selector(id));
    m
}

fn namespace_selector(name: &str) -> Map {
    let mut labels = Map::new();
    labels.insert("kubernetes.io/metadata.name", name);
    let mut m = Map::new();
    m.insert("matchLabels", labels);
    m
}

/// `default-deny` and `allow-dns` of one namespace: nothing talks but by
/// the policies that follow, and every pod resolves names.
fn fence(plan: &Plan<'_>, namespace: &str) -> [Object; 2] {
    let fenced = |name: &str, spec: Map| {
        let mut o = Object::new(
            "networking.k8s.io/v1",
            "NetworkPolicy",
            plan.metadata_in(namespace, name, None, Map::new()),
        );
        o.body.insert("spec", spec);
        o
    };
    let mut deny = Map::new();
    deny.insert("podSelector", Map::new())
        .insert("policyTypes", strings(&["Ingress", "Egress"]));
    let mut dns_peer = Map::new();
    dns_peer.insert("namespaceSelector", namespace_selector("kube-system"));
    let mut kube_dns = Map::new();
    kube_dns.insert("k8s-app", "kube-dns");
    let mut pod_selector = Map::new();
    pod_selector.insert("matchLabels", kube_dns);
    dns_peer.insert("podSelector", pod_selector);
    let dns_ports: BTreeSet<PortKey> = [(53, Protocol::Udp), (53, Protocol::Tcp)].into();
    [
        fenced("default-deny", deny).note(
            "Nothing reaches a pod and a pod reaches nothing, except by the policies that follow.",
        ),
        fenced(
            "allow-dns",
            spec_for(
                Map::new(),
                "Egress",
                vec![rule("to", vec![Node::Map(dns_peer)], &dns_ports)],
            ),
        )
        .note("Every pod may resolve names through kube-dns."),
    ]
}

fn policy(plan: &Plan<'_>, name: &str, service: Option<ServiceId>, spec: Map) -> Object {
    let mut o = Object::new(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        plan.metadata(name, service, Map::new()),
    );
    o.body.insert("spec", spec);
    o
}

/// `podSelector` and `policyTypes` of a policy for one direction.
fn spec_for(selector: Map, direction: &str, rules: Vec<Node>) -> Map {
    let mut spec = Map::new();
    spec.insert("podSelector", selector)
        .insert("policyTypes", strings(&[direction]));
    let key = if direction == "Ingress" {
        "ingress"
    } else {
        "egress"
    };
    spec.insert(key, Node::Seq(rules));
    spec
}

fn rule(peer_key: &str, peers: Vec<Node>, ports: &BTreeSet<PortKey>) -> Node {
    let mut m = Map::new();
    m.insert(peer_key, Node::Seq(peers))
        .insert("ports", policy_ports(ports));
    Node::Map(m)
}

/// One NetworkPolicy of a service, planned: its name is claimed when the
/// plan is made (names are given in one order across the program), its
/// tree is built only when its service's file is written.
enum Planned {
    /// The client's egress of edge `.0`.
    Egress(usize),
    /// The server's ingress of edge `.0`.
    Ingress(usize),
    /// The ingress controllers' way in to routed service `.0`.
    Controller(usize),
    /// The address ranges of balancer `.0` (in `plan.balancers`).
    External(usize),
}

/// The NetworkPolicies of the program: the namespaces' fences, and every
/// service's policies, named once in the order the program gives and
/// built one service at a time ([`Policies::of`]). Building every tree
/// before the first file was written was the peak of a large build (145
/// MB of the 181 MB heap at 10,000 services).
pub(super) struct Policies<'p> {
    /// `default-deny` and `allow-dns` of every namespace: the namespace's
    /// file.
    pub(super) fences: Vec<Object>,
    edges: Vec<((ServiceId, ServiceId), BTreeSet<PortKey>)>,
    routed: Vec<(ServiceId, BTreeSet<&'p str>, BTreeSet<PortKey>)>,
    /// Each service's policies, by [`ServiceId`], in the order they are
    /// written, with their names.
    by_owner: Vec<Vec<(Planned, String)>>,
}

pub(super) fn policies<'p>(plan: &Plan<'p>, diagnostics: &mut Vec<Diagnostic>) -> Policies<'p> {
    let mut taken: super::Taken = ["default-deny", "allow-dns"].map(String::from).into();
    let mut fences = Vec::new();
    for (ns, _) in &plan.namespaces {
        fences.extend(fence(plan, ns));
    }
    let mut by_owner: Vec<Vec<(Planned, String)>> = Vec::new();
    by_owner.resize_with(plan.model.services.len(), Vec::new);
    let edges: Vec<_> = edges(plan, diagnostics).into_iter().collect();
    for (e, ((client, server), _)) in edges.iter().enumerate() {
        let (c, s) = (plan.name(*client), plan.name(*server));
        let name = claim(&mut taken, &format!("egress-{c}-to-{s}"));
        by_owner[client.index()].push((Planned::Egress(e), name));
        let name = claim(&mut taken, &format!("ingress-{c}-to-{s}"));
        by_owner[server.index()].push((Planned::Ingress(e), name));
    }
    let mut routed: BTreeMap<ServiceId, (BTreeSet<&str>, BTreeSet<PortKey>)> = BTreeMap::new();
    for r in &plan.routes {
        let Some(ingress) = &r.ingress else { continue };
        let route = plan.route(r);
        if let Some(p) = plan.service(route.target).port(route.port) {
            let entry = routed.entry(route.target).or_default();
            entry
                .0
                .insert(super::routes::controller_namespace(ingress.class));
            entry.1.insert((p.container, p.protocol));
        }
    }
    let routed: Vec<_> = routed
        .into_iter()
        .map(|(target, (namespaces, ports))| (target, namespaces, ports))
        .collect();
    for (k, (target, _, _)) in routed.iter().enumerate() {
        let name = claim(
            &mut taken,
            &format!("ingress-controller-to-{}", plan.name(*target)),
        );
        by_owner[target.index()].push((Planned::Controller(k), name));
    }
    for (k, b) in plan.balancers.iter().enumerate() {
        let name = claim(&mut taken, &format!("external-to-{}", b.name));
        by_owner[b.service.index()].push((Planned::External(k), name));
    }
    Policies {
        fences,
        edges,
        routed,
        by_owner,
    }
}

impl Policies<'_> {
    /// The policies of service `i`, built, in the order they are written.
    pub(super) fn of(&self, plan: &Plan<'_>, i: usize) -> Vec<Object> {
        self.by_owner[i]
            .iter()
            .map(|(planned, name)| match planned {
                Planned::Egress(e) => {
                    let (pair, ports) = &self.edges[*e];
                    dependency(plan, name, *pair, ports, Side::Egress)
                }
                Planned::Ingress(e) => {
                    let (pair, ports) = &self.edges[*e];
                    dependency(plan, name, *pair, ports, Side::Ingress)
                }
                Planned::Controller(k) => {
                    let (target, namespaces, ports) = &self.routed[*k];
                    controller(plan, name, *target, namespaces, ports)
                }
                Planned::External(k) => external(plan, name, &plan.balancers[*k]),
            })
            .collect()
    }
}

/// One side of a dependency: the client's egress (it may connect) or the
/// server's ingress (the client is let in). Both sides are the same
/// policy seen from either end: the pods selected, the peer named in the
/// rule, the policy type and the rule's key swap.
#[derive(Clone, Copy)]
enum Side {
    Egress,
    Ingress,
}

/// The policy of `side` for the dependency of `client` on `server`.
fn dependency(
    plan: &Plan<'_>,
    name: &str,
    (client, server): (ServiceId, ServiceId),
    ports: &BTreeSet<PortKey>,
    side: Side,
) -> Object {
    let (selected, peer, kind, key, says) = match side {
        Side::Egress => (client, server, "Egress", "to", "it may connect"),
        Side::Ingress => (server, client, "Ingress", "from", "it is let in"),
    };
    let mut matching = Map::new();
    matching.insert("podSelector", pods(plan, peer));
    if plan.namespace_of(client) != plan.namespace_of(server) {
        matching.insert(
            "namespaceSelector",
            namespace_selector(plan.namespace_of(peer)),
        );
    }
    policy(
        plan,
        name,
        Some(selected),
        spec_for(
            pods(plan, selected),
            kind,
            vec![rule(key, vec![Node::Map(matching)], ports)],
        ),
    )
    .note(format!(
        "`{}` depends on `{}`: {says}.",
        plan.service(client).name,
        plan.service(server).name
    ))
}

/// The ingress controllers' way in to the routed ports of `target`.
fn controller(
    plan: &Plan<'_>,
    name: &str,
    target: ServiceId,
    namespaces: &BTreeSet<&str>,
    ports: &BTreeSet<PortKey>,
) -> Object {
    let from: Vec<Node> = namespaces
        .iter()
        .map(|ns| {
            let mut from = Map::new();
            from.insert("namespaceSelector", namespace_selector(ns));
            Node::Map(from)
        })
        .collect();
    let list: Vec<String> = namespaces.iter().map(|n| format!("`{n}`")).collect();
    policy(
        plan,
        name,
        Some(target),
        spec_for(
            pods(plan, target),
            "Ingress",
            vec![rule("from", from, ports)],
        ),
    )
    .note(format!(
        "Routes lead here through the ingress controller in {}; the Ingress holds any allowlist.",
        list.join(", ")
    ))
}

/// The address ranges a LoadBalancer lets in.
fn external(plan: &Plan<'_>, name: &str, b: &Balancer) -> Object {
    let s = plan.service(b.service);
    let nets: Vec<String> = match &b.exposure {
        Exposure::Restricted(nets) => nets.iter().map(|n| n.to_string()).collect(),
        _ => vec!["0.0.0.0/0".to_string(), "::/0".to_string()],
    };
    let peers = nets
        .iter()
        .map(|cidr| {
            let mut block = Map::new();
            block.insert("cidr", cidr.as_str());
            let mut m = Map::new();
            m.insert("ipBlock", block);
            Node::Map(m)
        })
        .collect();
    let ports: BTreeSet<PortKey> = b
        .ports
        .iter()
        .map(|p| (s.ports[*p].container, s.ports[*p].protocol))
        .collect();
    policy(
        plan,
        name,
        Some(b.service),
        spec_for(
            pods(plan, b.service),
            "Ingress",
            vec![rule("from", peers, &ports)],
        ),
    )
    .note(format!(
        "The LoadBalancer `{}` lets these addresses in.",
        b.name
    ))
}

/// Every (client, server) pair that may talk, with the server's ports:
/// declared dependencies (to the server's non-local ports), and routes
/// that hand on no more than `internal` reach, which the proxy itself
/// forwards inside the cluster.
fn edges(
    plan: &Plan<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> BTreeMap<(ServiceId, ServiceId), BTreeSet<PortKey>> {
    let mut edges: BTreeMap<(ServiceId, ServiceId), BTreeSet<PortKey>> = BTreeMap::new();
    for (i, s) in plan.model.services.iter().enumerate() {
        let client = ServiceId(i as u32);
        for (server, span) in &s.depends {
            let d = plan.service(*server);
            let ports: BTreeSet<PortKey> = d
                .ports
                .iter()
                .filter(|p| p.declared != Exposure::Local)
                .map(|p| (p.container, p.protocol))
                .collect();
            if ports.is_empty() {
                if !d.ports.is_empty() {
                    diagnostics.push(
                        narrows(
                            *span,
                            format!(
                                "every port of `{}` is `local`: in Kubernetes `{}` cannot reach it",
                                d.name, s.name
                            ),
                        )
                        .label("no port to connect to")
                        .help(format!("make the port `{}` needs `internal`", s.name)),
                    );
                }
                continue;
            }
            edges.entry((client, *server)).or_default().extend(ports);
        }
    }
    // A route absorbed into another's Ingress is served by the controller.
    for r in plan
        .routes
        .iter()
        .filter(|r| r.ingress.is_none() && !r.absorbed)
    {
        let route = plan.route(r);
        if let Some(p) = plan.service(route.target).port(route.port) {
            edges
                .entry((r.proxy, route.target))
                .or_default()
                .insert((p.container, p.protocol));
        }
    }
    edges
}
