//! Who is addressed how: each service's Services (ClusterIP, headless,
//! LoadBalancer, and its name in its clients' namespaces). The policies
//! that admit who reaches them are in [`super::policies`].

use std::collections::BTreeSet;

use super::{narrows, protocol, Balancer, Object, Plan};
use crate::backend::yaml::{strings, Map, Node};
use crate::diagnostics::Diagnostic;
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

/// Every service's Services (ClusterIP, headless, LoadBalancers, and the
/// ExternalName Services of it in its clients' namespaces), built one
/// service at a time ([`Services::of`]).
pub(super) struct Services<'p> {
    /// Each service's LoadBalancers, in plan order, indexed once:
    /// scanning every balancer for every service was 19% of a
    /// 100,000-service build.
    balancers: Vec<Vec<&'p Balancer>>,
    /// The namespaces each service is reached from besides its own.
    crossings: Vec<Vec<&'p str>>,
}

/// The Services of the program, and the warnings of the `local` ports
/// that get none.
pub(super) fn services<'p>(plan: &'p Plan<'_>, diagnostics: &mut Vec<Diagnostic>) -> Services<'p> {
    let n = plan.model.services.len();
    let mut balancers: Vec<Vec<&Balancer>> = vec![Vec::new(); n];
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
    }
    let mut crossed: Vec<Vec<&str>> = vec![Vec::new(); n];
    for (namespace, server) in crossings(plan) {
        crossed[server.index()].push(namespace);
    }
    Services {
        balancers,
        crossings: crossed,
    }
}

impl Services<'_> {
    /// The Services of service `i`, in the order they are written.
    pub(super) fn of(&self, plan: &Plan<'_>, i: usize) -> Vec<Object> {
        let mut out = Vec::new();
        let id = ServiceId(i as u32);
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
        for b in &self.balancers[i] {
            out.push(balancer(plan, b));
        }
        for namespace in &self.crossings[i] {
            out.push(external_name(plan, namespace, id));
        }
        out
    }
}

/// The name of `server` in its client's `namespace`, leading to its own.
fn external_name(plan: &Plan<'_>, namespace: &str, server: ServiceId) -> Object {
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
    o
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
