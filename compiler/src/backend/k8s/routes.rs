//! Routes on Kubernetes: the Ingress controller is the edge, and each
//! host and path the program routes becomes exactly one Ingress.
//!
//! - The class is the proxy's kind (`ingressClassName: nginx`, `haproxy`,
//!   `traefik`, `caddy`), the controller that kind's own, in its usual
//!   namespace. When proxies chain, the kind of the proxy clients reach
//!   first decides.
//! - Host and path are the route's, split and checked by the checker
//!   (E1015): the host is the rule's `host`, the path its `Prefix` path.
//! - Routes with the same host and path through a chain of proxies (`web`
//!   routes `app.example.com` to `inner`, which routes it to `api`) are
//!   one Ingress, to the service at the end of the chain; the others are
//!   absorbed into it. Two ends for one host and path are an error
//!   (E5017): two Ingresses claiming it would be resolved by each
//!   controller its own way.
//! - The allowlist is the join of what the routes of the group hand on
//!   (each already narrowed by its proxy's reach and its own restriction),
//!   as the controller's annotation; a controller without one is E5015.
//! - TLS per host, from the Secret `PROXY-tls` of the first proxy in the
//!   chain with `tls`, made from its certificate and key secrets.

use std::collections::BTreeMap;

use super::{claim, dns_label, Object, Plan, Taken};
use crate::backend::yaml::{strings, Map, Node};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Exposure, Model, ProxyKind, Route, ServiceId};

/// A route with the reach it hands on.
pub(crate) struct RoutePlan {
    pub(crate) proxy: ServiceId,
    pub(crate) index: usize,
    /// The proxy's reach narrowed by the route's own allowlist.
    pub(crate) handed: Exposure,
    /// The Ingress it becomes, when it hands on more than `internal` and
    /// ends its chain.
    pub(crate) ingress: Option<Ingress>,
    /// Served by another route's Ingress for the same host and path.
    pub(crate) absorbed: bool,
}

pub(crate) struct Ingress {
    pub(crate) name: String,
    pub(crate) class: ProxyKind,
    /// What every route of its host and path hands on, joined.
    pub(crate) reach: Exposure,
    /// The first proxy of the chain with `tls`: its Secret serves the host.
    pub(crate) tls: Option<ServiceId>,
}

/// The namespace a kind's Ingress controller runs in, by its own install.
pub(crate) fn controller_namespace(kind: ProxyKind) -> &'static str {
    match kind {
        ProxyKind::Nginx => "ingress-nginx",
        ProxyKind::Haproxy => "haproxy-controller",
        ProxyKind::Traefik => "traefik",
        ProxyKind::Caddy => "caddy-system",
    }
}

/// The TLS Secret of a proxy with `tls`.
pub(crate) fn tls_secret(name: &str) -> String {
    dns_label(&format!("{name}-tls"))
}

/// Settles every route: which become Ingresses, which are absorbed, and
/// the errors of routes Kubernetes cannot serve.
pub(crate) fn plan(model: &Model, names: &[String]) -> (Vec<RoutePlan>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut diagnostics = Vec::new();
    for (p, proxy) in model.services.iter().enumerate() {
        for (index, route) in proxy.routes.iter().enumerate() {
            // The checker settled what each route hands on; a proxy
            // with no port of its own hands on nothing.
            let Some(handed) = route.handed.clone() else {
                continue;
            };
            out.push(RoutePlan {
                proxy: ServiceId(p as u32),
                index,
                handed,
                ingress: None,
                absorbed: false,
            });
        }
    }
    let route = |r: &RoutePlan| &model.service(r.proxy).routes[r.index];
    let mut groups: BTreeMap<(Option<&str>, &str), Vec<usize>> = BTreeMap::new();
    for (i, r) in out.iter().enumerate() {
        if r.handed.rank() >= 2 {
            let rt = route(r);
            groups
                .entry((rt.host.as_deref(), rt.path.as_str()))
                .or_default()
                .push(i);
        }
    }
    let mut taken = Taken::new();
    for members in groups.values() {
        let is_proxy_of_member = |id: ServiceId| members.iter().any(|&m| out[m].proxy == id);
        // The ends of the chains: routes whose target routes nothing of
        // this host and path on.
        let ends: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&m| !is_proxy_of_member(route(&out[m]).target))
            .collect();
        let owner = ends.first().copied().unwrap_or(members[0]);
        let owner_route = route(&out[owner]);
        if let Some(&other) = ends.iter().find(|&&m| {
            (route(&out[m]).target, route(&out[m]).port) != (owner_route.target, owner_route.port)
        }) {
            diagnostics.push(conflict(model, owner_route, route(&out[other])));
            for &m in members {
                out[m].absorbed = true;
            }
            continue;
        }
        // The proxies clients reach first: not a target of the group.
        let mut outer: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&m| {
                members
                    .iter()
                    .all(|&o| route(&out[o]).target != out[m].proxy)
            })
            .collect();
        let inner: Vec<usize> = members
            .iter()
            .copied()
            .filter(|m| !outer.contains(m))
            .collect();
        outer.extend(inner);
        let first = model.service(out[outer[0]].proxy);
        let Some(class) = outer
            .iter()
            .find_map(|&m| ProxyKind::of(model.service(out[m].proxy)))
        else {
            diagnostics.push(unrealised(
                route(&out[outer[0]]),
                format!(
                    "k8s cannot realise route {}: `{}` (image `{}`) is not a proxy with an Ingress controller infrac knows",
                    route(&out[outer[0]]).matcher,
                    first.name,
                    first.image
                ),
            ));
            continue;
        };
        let reach = members
            .iter()
            .map(|&m| out[m].handed.clone())
            .reduce(|a, b| a.join(&b))
            .expect("a group has a member");
        // Traefik's and Caddy's controllers take no allowlist annotation:
        // a restricted host and path is served by ingress-nginx instead,
        // whose annotation enforces it (the kustomization names it).
        let class = match (&reach, class) {
            (Exposure::Restricted(_), ProxyKind::Caddy | ProxyKind::Traefik) => ProxyKind::Nginx,
            (_, class) => class,
        };
        let tls = outer
            .iter()
            .map(|&m| out[m].proxy)
            .find(|&id| model.service(id).tls.is_some());
        let name = claim(
            &mut taken,
            &format!(
                "{}-{}",
                names[out[owner].proxy.index()],
                matcher_slug(&owner_route.matcher)
            ),
        );
        for &m in members {
            out[m].absorbed = m != owner;
        }
        out[owner].ingress = Some(Ingress {
            name,
            class,
            reach,
            tls,
        });
    }
    (out, diagnostics)
}

fn conflict(model: &Model, a: &Route, b: &Route) -> Diagnostic {
    Diagnostic::new(
        Code::RouteConflict,
        b.span,
        format!(
            "route {} ends at {}:{} here and at {}:{} elsewhere: one Ingress per host and path cannot lead to both",
            b.matcher,
            model.service(b.target).name,
            b.port,
            model.service(a.target).name,
            a.port
        ),
    )
    .label("a second backend for this host and path")
    .secondary(a.span, "the first")
    .help("give each backend its own host or path, or chain the proxies so one leads to the other")
}

fn unrealised(r: &Route, message: String) -> Diagnostic {
    Diagnostic::new(Code::RouteUnrealised, r.span, message)
        .label("no Ingress can carry this route")
        .help("use nginx or haproxy as the proxy (their controllers take an allowlist annotation), or drop the route's `restricted(...)` on Kubernetes")
}

/// `app.example.com` → `app-example-com`, `/api/v1` → `api-v1`, `/` → `root`.
pub(super) fn matcher_slug(matcher: &str) -> String {
    let slug = dns_label(matcher.trim_start_matches('/'));
    if slug.is_empty() || matcher == "/" {
        "root".to_string()
    } else {
        slug
    }
}

/// The routes that become Ingresses, as indexes into `plan.routes`, by
/// the service they lead to (whose file holds them), in plan order.
pub(super) fn ingresses(plan: &Plan<'_>) -> Vec<Vec<usize>> {
    let mut by_target = vec![Vec::new(); plan.model.services.len()];
    for (k, r) in plan.routes.iter().enumerate() {
        if r.ingress.is_some() {
            by_target[plan.route(r).target.index()].push(k);
        }
    }
    by_target
}

/// The Ingress of the route `plan.routes[k]`, which has one.
pub(super) fn ingress_of(plan: &Plan<'_>, k: usize) -> Object {
    let r = &plan.routes[k];
    let ing = r
        .ingress
        .as_ref()
        .expect("only routes with an Ingress are listed");
    ingress(plan, r, ing)
}

/// The allowlist annotations of a controller.
fn allowlist(class: ProxyKind, ranges: &str) -> Map {
    let mut annotations = Map::new();
    match class {
        ProxyKind::Nginx => {
            // ingress-nginx reads the first; releases since 1.9 also the second.
            for key in ["whitelist-source-range", "allowlist-source-range"] {
                annotations.insert(format!("nginx.ingress.kubernetes.io/{key}"), ranges);
            }
        }
        ProxyKind::Haproxy => {
            annotations.insert("haproxy.org/allow-list", ranges);
        }
        // Refused when the routes are planned.
        ProxyKind::Caddy | ProxyKind::Traefik => {}
    }
    annotations
}

/// The Ingress of one host and path: its backend, TLS, and the
/// allowlist of the reach its routes hand on.
fn ingress(plan: &Plan<'_>, r: &RoutePlan, ing: &Ingress) -> Object {
    let route = plan.route(r);
    let (annotations, reach) = match &ing.reach {
        Exposure::Restricted(nets) => {
            let list: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
            (
                allowlist(ing.class, &list.join(",")),
                format!("{} only", crate::backend::docker::ranges(nets)),
            )
        }
        _ => (Map::new(), "anywhere".to_string()),
    };
    let host = route.host.as_deref();
    let mut port = Map::new();
    port.insert("number", route.port);
    let mut service = Map::new();
    service
        .insert("name", plan.name(route.target))
        .insert("port", port);
    let mut backend = Map::new();
    backend.insert("service", service);
    let mut path = Map::new();
    path.insert("path", route.path.as_str())
        .insert("pathType", "Prefix")
        .insert("backend", backend);
    let mut http = Map::new();
    http.insert("paths", Node::Seq(vec![Node::Map(path)]));
    let mut rule = Map::new();
    rule.insert_some("host", host);
    rule.insert("http", http);
    let mut spec = Map::new();
    spec.insert("ingressClassName", ing.class.name());
    if let Some(id) = ing.tls {
        let mut tls = Map::new();
        if let Some(h) = host {
            tls.insert("hosts", strings(&[h]));
        }
        tls.insert("secretName", tls_secret(plan.name(id)));
        spec.insert("tls", Node::Seq(vec![Node::Map(tls)]));
    }
    spec.insert("rules", Node::Seq(vec![Node::Map(rule)]));
    let mut o = Object::new(
        "networking.k8s.io/v1",
        "Ingress",
        plan.metadata(&ing.name, Some(route.target), annotations),
    )
    .note(format!(
        "`{}` routes {} -> {}:{}: reachable from {reach}, the reach it hands on.",
        plan.service(r.proxy).name,
        route.matcher,
        plan.service(route.target).name,
        route.port,
    ));
    let absorbed: Vec<String> = plan
        .routes
        .iter()
        .filter(|o| {
            o.absorbed && {
                let x = plan.route(o);
                x.host == route.host && x.path == route.path
            }
        })
        .map(|o| format!("`{}`", plan.service(o.proxy).name))
        .collect();
    if !absorbed.is_empty() {
        o = o.note(format!(
            "The same host and path through {}: this one Ingress serves the chain.",
            absorbed.join(", ")
        ));
    }
    o.body.insert("spec", spec);
    o
}

/// The kustomization's lines on what the Ingresses need: each class's
/// controller, and each TLS Secret with the command that makes it.
pub(super) fn prerequisites(plan: &Plan<'_>) -> Vec<String> {
    let mut lines = Vec::new();
    let mut classes: Vec<ProxyKind> = plan
        .routes
        .iter()
        .filter_map(|r| r.ingress.as_ref().map(|i| i.class))
        .collect();
    classes.sort();
    classes.dedup();
    for class in classes {
        lines.push(format!(
            "Ingresses of class `{}` need its controller in namespace `{}` (its Service with externalTrafficPolicy: Local, so allowlists see client addresses).",
            class.name(),
            controller_namespace(class)
        ));
    }
    // The TLS Secret of an Ingress lives in its namespace: its backend's.
    let mut secrets: Vec<(ServiceId, &str)> = plan
        .routes
        .iter()
        .filter_map(|r| {
            let tls = r.ingress.as_ref()?.tls?;
            Some((tls, plan.namespace_of(plan.route(r).target)))
        })
        .collect();
    secrets.sort();
    secrets.dedup();
    for (id, ns) in secrets {
        let secret = tls_secret(plan.name(id));
        let s = plan.service(id);
        let Some(t) = &s.tls else { continue };
        let file = |sid| match &plan.model.secret(sid).source {
            crate::ir::SecretSource::File(path) => path.clone(),
            crate::ir::SecretSource::Env(var) => format!("<(printf %s \"${var}\")"),
            crate::ir::SecretSource::External(key) => format!("<from your secret store: {key}>"),
        };
        lines.push(format!(
            "TLS for `{}`'s hosts: kubectl create secret tls {secret} -n {ns} --cert={} --key={}",
            s.name,
            file(t.cert),
            file(t.key)
        ));
    }
    lines
}
