//! Who reaches what: Services (ClusterIP, headless, LoadBalancer), the
//! Ingresses that routes become, and the NetworkPolicies that admit
//! exactly the program's edges — dependencies, routes, and the address
//! ranges of published ports — over a namespace that denies everything
//! else.

use std::collections::{BTreeMap, BTreeSet};

use super::{claim, narrows, protocol, Balancer, Object, Plan};
use crate::backend::yaml::{strings, Map, Node};
use crate::diagnostics::Diagnostic;
use crate::ir::Protocol;
use crate::ir::{Exposure, Port, ServiceId};

/// The ports other pods may reach: every port but `local` ones that no
/// route leads to. A route makes a `local` port effectively wider, and its
/// proxy (or the ingress controller) needs a Service name to address it:
/// an Ingress names one, and so does a proxy that forwards inside the
/// cluster, whose NetworkPolicy edge alone would leave it nothing to
/// resolve.
fn cluster_ports<'m>(plan: &Plan<'m>, id: ServiceId) -> Vec<&'m Port> {
    plan.service(id)
        .ports
        .iter()
        .filter(|p| routed_or_wider(plan, id, p))
        .collect()
}

/// Whether a port is not `local`, or a route leads to it: an Ingress, or a
/// proxy whose route stays inside (which raises the effective level).
fn routed_or_wider(plan: &Plan<'_>, id: ServiceId, p: &Port) -> bool {
    p.effective != Exposure::Local || plan.is_ingress_target(id, p.container)
}

fn service_port(p: &Port, port: u16) -> Node {
    let mut m = Map::new();
    m.insert("name", format!("{}-{port}", p.protocol.as_str()))
        .insert("port", port)
        .insert("targetPort", p.container)
        .insert("protocol", protocol(p.protocol));
    Node::Map(m)
}

pub(super) fn services(plan: &Plan<'_>, diagnostics: &mut Vec<Diagnostic>) -> Vec<Object> {
    let mut out = Vec::new();
    // Each service's LoadBalancers, in plan order, indexed once: scanning
    // every balancer for every service was 19% of a 100,000-service build.
    let mut balancers: Vec<Vec<&Balancer>> = vec![Vec::new(); plan.model.services.len()];
    for b in &plan.balancers {
        balancers[b.service.index()].push(b);
    }
    for (i, s) in plan.model.services.iter().enumerate() {
        let id = ServiceId(i as u32);
        for p in &s.ports {
            if !routed_or_wider(plan, id, p) {
                diagnostics.push(
                    narrows(
                        p.level_span,
                        format!(
                            "Kubernetes gets no Service for `local` port {} of `{}`",
                            p.container, s.name
                        ),
                    )
                    .label("local: reachable only through the API server")
                    .help(format!(
                        "reach it with `kubectl port-forward -n {} {} {}`",
                        plan.namespace_of(id),
                        plan.workload_ref(id),
                        p.container
                    )),
                );
            }
        }
        let ports = cluster_ports(plan, id);
        if !ports.is_empty() {
            let mut spec = Map::new();
            spec.insert("type", "ClusterIP")
                .insert("selector", plan.selector(id))
                .insert(
                    "ports",
                    Node::Seq(ports.iter().map(|p| service_port(p, p.container)).collect()),
                );
            let mut o = Object::new(
                "v1",
                "Service",
                plan.metadata(plan.name(id), Some(id), Map::new()),
            );
            o.body.insert("spec", spec);
            out.push(o);
        }
        if let Some(headless) = &plan.headless[i] {
            let mut spec = Map::new();
            spec.insert("clusterIP", "None")
                .insert("selector", plan.selector(id));
            spec.insert_seq(
                "ports",
                ports.iter().map(|p| service_port(p, p.container)).collect(),
            );
            let mut o = Object::new(
                "v1",
                "Service",
                plan.metadata(headless, Some(id), Map::new()),
            )
            .note(format!(
                "Stable pod names for the StatefulSet `{}`.",
                plan.name(id)
            ));
            o.body.insert("spec", spec);
            out.push(o);
        }
        for b in &balancers[i] {
            out.push(balancer(plan, b));
        }
    }
    for (namespace, server) in crossings(plan) {
        let ns = plan.namespace_of(server);
        let name = plan.name(server);
        let mut spec = Map::new();
        spec.insert("type", "ExternalName")
            .insert("externalName", format!("{name}.{ns}.svc.cluster.local"));
        let mut o = Object::new(
            "v1",
            "Service",
            plan.metadata_in(namespace, name, Some(server), Map::new()),
        )
        .note(format!(
            "`{}` runs in namespace `{ns}`: its name here leads there, for the pods of `{namespace}` that may reach it.",
            plan.service(server).name
        ));
        o.body.insert("spec", spec);
        out.push(o);
    }
    out
}

/// The servers reached from another namespace (a dependency or a route
/// that stays inside), with the client's namespace: each gets its name
/// there too, so clients keep addressing it by its short name.
fn crossings<'p>(plan: &'p Plan<'_>) -> BTreeSet<(&'p str, ServiceId)> {
    let mut pairs: Vec<(ServiceId, ServiceId)> = Vec::new();
    for (i, s) in plan.model.services.iter().enumerate() {
        pairs.extend(s.depends.iter().map(|(d, _)| (ServiceId(i as u32), *d)));
    }
    for r in plan
        .routes
        .iter()
        .filter(|r| r.ingress.is_none() && !r.absorbed)
    {
        pairs.push((r.proxy, plan.route(r).target));
    }
    pairs
        .into_iter()
        .filter(|(c, s)| {
            plan.namespace_of(*c) != plan.namespace_of(*s) && !cluster_ports(plan, *s).is_empty()
        })
        .map(|(c, s)| (plan.namespace_of(c), s))
        .collect()
}

fn balancer(plan: &Plan<'_>, b: &Balancer) -> Object {
    let s = plan.service(b.service);
    let mut spec = Map::new();
    spec.insert("type", "LoadBalancer");
    // Keep the client's address: the source ranges and the NetworkPolicy's
    // ipBlocks judge it, and a hop through another node would hide it.
    spec.insert("externalTrafficPolicy", "Local");
    if let Exposure::Restricted(nets) = &b.exposure {
        let ranges: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
        spec.insert("loadBalancerSourceRanges", strings(&ranges));
    }
    spec.insert("selector", plan.selector(b.service));
    let ports: Vec<Node> = b
        .ports
        .iter()
        .map(|p| service_port(&s.ports[*p], s.ports[*p].host))
        .collect();
    spec.insert("ports", Node::Seq(ports));
    let mut annotations = Map::new();
    if plan
        .model
        .provider
        .as_ref()
        .is_some_and(|p| p.name == "aws")
    {
        // A Classic ELB carries no UDP and replaces the client's address with
        // its own, so `loadBalancerSourceRanges` and ipBlocks would judge the
        // balancer: a Network Load Balancer passes the client through.
        annotations.insert("service.beta.kubernetes.io/aws-load-balancer-type", "nlb");
    }
    let mut o = Object::new(
        "v1",
        "Service",
        plan.metadata(&b.name, Some(b.service), annotations),
    )
    .note(format!(
        "`{}` ports of `{}`: reachable from {}.",
        b.exposure.word(),
        s.name,
        match &b.exposure {
            Exposure::Restricted(nets) => crate::backend::docker::ranges(nets),
            _ => "anywhere".to_string(),
        }
    ));
    if !s.routes.is_empty() {
        o = o.note(format!(
            "`{}` is a proxy: its routes are Ingresses; this carries only what it serves itself.",
            s.name
        ));
    }
    o.body.insert("spec", spec);
    o
}

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

pub(super) fn policies(plan: &Plan<'_>, diagnostics: &mut Vec<Diagnostic>) -> Vec<Object> {
    let mut out = Vec::new();
    let mut taken: super::Taken = ["default-deny", "allow-dns"].map(String::from).into();
    for (ns, _) in &plan.namespaces {
        out.extend(fence(plan, ns));
    }
    for ((client, server), ports) in edges(plan, diagnostics) {
        let (c, s) = (plan.name(client), plan.name(server));
        let mut to = Map::new();
        to.insert("podSelector", pods(plan, server));
        let across = plan.namespace_of(client) != plan.namespace_of(server);
        if across {
            to.insert(
                "namespaceSelector",
                namespace_selector(plan.namespace_of(server)),
            );
        }
        out.push(
            policy(
                plan,
                &claim(&mut taken, &format!("egress-{c}-to-{s}")),
                Some(client),
                spec_for(
                    pods(plan, client),
                    "Egress",
                    vec![rule("to", vec![Node::Map(to)], &ports)],
                ),
            )
            .note(format!(
                "`{}` depends on `{}`: it may connect.",
                plan.service(client).name,
                plan.service(server).name
            )),
        );
        let mut from = Map::new();
        from.insert("podSelector", pods(plan, client));
        if across {
            from.insert(
                "namespaceSelector",
                namespace_selector(plan.namespace_of(client)),
            );
        }
        out.push(
            policy(
                plan,
                &claim(&mut taken, &format!("ingress-{c}-to-{s}")),
                Some(server),
                spec_for(
                    pods(plan, server),
                    "Ingress",
                    vec![rule("from", vec![Node::Map(from)], &ports)],
                ),
            )
            .note(format!(
                "`{}` depends on `{}`: it is let in.",
                plan.service(client).name,
                plan.service(server).name
            )),
        );
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
    for (target, (namespaces, ports)) in routed {
        let from: Vec<Node> = namespaces
            .iter()
            .map(|ns| {
                let mut from = Map::new();
                from.insert("namespaceSelector", namespace_selector(ns));
                Node::Map(from)
            })
            .collect();
        let list: Vec<String> = namespaces.iter().map(|n| format!("`{n}`")).collect();
        out.push(
            policy(
                plan,
                &claim(&mut taken, &format!("ingress-controller-to-{}", plan.name(target))),
                Some(target),
                spec_for(pods(plan, target), "Ingress", vec![rule("from", from, &ports)]),
            )
            .note(format!("Routes lead here through the ingress controller in {}; the Ingress holds any allowlist.", list.join(", "))),
        );
    }
    for b in &plan.balancers {
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
        out.push(
            policy(
                plan,
                &claim(&mut taken, &format!("external-to-{}", b.name)),
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
            )),
        );
    }
    out
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
