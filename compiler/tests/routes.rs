//! Routes realised on every target, over every example and every fixture
//! that checks ([`program_files`]):
//!
//! - compose and swarm: each proxy's generated configuration, read back
//!   by a reader of its format (`proxies/read.rs`), forwards exactly the
//!   model's routes — one server or site block per host, each host and
//!   path once, to the route's service and port, with the route's
//!   allowlist as the proxy's allow/deny, ACL or `ipAllowList`
//!   ([`proxies::compare`]);
//! - Kubernetes: every Ingress host is an RFC 1123 DNS name and every
//!   path a path; no two Ingresses claim one host and path; each route
//!   that leaves the cluster's networks has its Ingress, to the service at
//!   the end of its chain, of its proxy's class, with the allowlist of
//!   what its routes hand on.
//!
//! A target may refuse a route it cannot realise (E5015, E5016, E5017),
//! never turn it into a comment.

use crate::common;
use crate::proxies;

use std::collections::BTreeMap;

use common::*;
use infrac::backend::Target;
use infrac::diagnostics::Code;
use infrac::ir::{Exposure, Model, ProxyKind, Route};
use yaml_rust2::{Yaml, YamlLoader};

/// The codes a target refuses a route with, and the others the programs
/// here may meet (an external secret on compose, a level a target cannot
/// enforce, a name too long).
const REFUSALS: &[Code] = &[
    Code::RouteUnrealised,
    Code::RouteClientHidden,
    Code::RouteConflict,
    Code::TargetCannotEnforce,
    Code::NoSecretStore,
    Code::NoEligibleNode,
    Code::NameTooLong,
];

/// The programs with at least one route, checked: (name, text, model).
fn routed_programs() -> Vec<(String, String, Model)> {
    let out: Vec<_> = program_files()
        .into_iter()
        .filter_map(|(name, text)| {
            let model = check_text(&name, &text).0.model?;
            model
                .services
                .iter()
                .any(|s| !s.routes.is_empty())
                .then_some((name, text, model))
        })
        .collect();
    assert!(out.len() >= 12, "only {} programs with routes", out.len());
    out
}

/// The files of `target`, or `None` when it refuses the program with one
/// of [`REFUSALS`] (any other error fails the test).
fn built(name: &str, text: &str, target: Target) -> Option<Vec<infrac::backend::Artifact>> {
    let (artifacts, errors) = build_errors(name, text, target);
    assert!(
        errors.iter().all(|c| REFUSALS.contains(c)),
        "{name}: {} refused it: {errors:?}",
        target.name()
    );
    errors.is_empty().then_some(artifacts)
}

#[test]
fn compose_and_swarm_proxies_forward_exactly_the_routes() {
    let mut forwards = BTreeMap::new();
    let mut kinds: BTreeMap<(&str, String), usize> = BTreeMap::new();
    for (name, text, model) in routed_programs() {
        for target in [Target::Compose, Target::Swarm] {
            let Some(artifacts) = built(&name, &text, target) else {
                continue;
            };
            let doc = YamlLoader::load_from_str(&artifacts[0].contents)
                .expect("the compose file parses")
                .remove(0);
            let n = proxies::compare(&model, &artifacts, &doc)
                .unwrap_or_else(|e| panic!("{name} on {}: {e}", target.name()));
            *forwards.entry(target.name()).or_insert(0) += n;
            for files in proxies::files(&artifacts).values() {
                let format = files.iter().map(|(f, _)| f.as_str()).min().unwrap_or("");
                *kinds
                    .entry((target.name(), format.to_string()))
                    .or_insert(0) += 1;
            }
        }
    }
    eprintln!("forwards compared: {forwards:?}; proxies by file: {kinds:?}");
    for target in ["compose", "swarm"] {
        assert!(
            forwards.get(target).copied().unwrap_or(0) >= 20,
            "{target}: {forwards:?}"
        );
        for format in ["Caddyfile", "dynamic.yml", "haproxy.cfg", "nginx.conf"] {
            assert!(
                kinds.contains_key(&(target, format.to_string())),
                "no {format} on {target}: {kinds:?}"
            );
        }
    }
}

/// An RFC 1123 host name, as an Ingress rule takes it (a leading `*.`
/// label for a wildcard).
fn dns_name(host: &str) -> bool {
    let name = host.strip_prefix("*.").unwrap_or(host);
    host.len() <= 253
        && name.split('.').all(|l| {
            (1..=63).contains(&l.len())
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// A URL path, as an Ingress `Prefix` path: absolute, no query, fragment,
/// host or blank.
fn is_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && path
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '?' | '#' | '\\'))
}

/// A model name as Kubernetes names the service's objects.
fn k8s_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if !(c == '-' && (out.is_empty() || out.ends_with('-'))) {
            out.push(c);
        }
    }
    out.trim_end_matches('-').to_string()
}

/// One Ingress rule as read: (host, path) → (class, backend, port, allowlist).
type Claims = BTreeMap<(Option<String>, String), Vec<(String, String, u16, Option<String>)>>;

fn ingresses(name: &str, docs: &[Yaml]) -> Claims {
    let mut claims = Claims::new();
    for ing in docs
        .iter()
        .filter(|d| d["kind"].as_str() == Some("Ingress"))
    {
        let ing_name = ing["metadata"]["name"].as_str().unwrap_or("?");
        let class = ing["spec"]["ingressClassName"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: Ingress {ing_name} has no class"));
        assert!(
            ProxyKind::ALL.iter().any(|k| k.name() == class),
            "{name}: Ingress {ing_name} of class {class}"
        );
        let annotations = &ing["metadata"]["annotations"];
        let allow = [
            "nginx.ingress.kubernetes.io/whitelist-source-range",
            "haproxy.org/allow-list",
        ]
        .iter()
        .find_map(|k| annotations[*k].as_str().map(str::to_string));
        for rule in ing["spec"]["rules"].as_vec().into_iter().flatten() {
            let host = rule["host"].as_str().map(str::to_string);
            if let Some(h) = &host {
                assert!(
                    dns_name(h),
                    "{name}: Ingress {ing_name} host {h:?} is no DNS name"
                );
            }
            for p in rule["http"]["paths"].as_vec().into_iter().flatten() {
                let path = p["path"].as_str().unwrap_or("").to_string();
                assert!(is_path(&path), "{name}: Ingress {ing_name} path {path:?}");
                assert_eq!(p["pathType"].as_str(), Some("Prefix"), "{name}: {ing_name}");
                let svc = &p["backend"]["service"];
                claims.entry((host.clone(), path)).or_default().push((
                    class.to_string(),
                    svc["name"].as_str().unwrap_or("").to_string(),
                    svc["port"]["number"].as_i64().unwrap_or(0) as u16,
                    allow.clone(),
                ));
            }
        }
    }
    claims
}

/// The routes of the model that leave the cluster's networks (they hand
/// on more than `internal`), by host and path.
/// Routes by host and path, each with the index of its proxy.
type Groups<'m> = BTreeMap<(Option<String>, String), Vec<(usize, &'m Route)>>;

fn outside_routes(model: &Model) -> Groups<'_> {
    let mut out: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for (i, s) in model.services.iter().enumerate() {
        for r in &s.routes {
            if r.handed.as_ref().is_some_and(|h| h.rank() >= 2) {
                out.entry((r.host.clone(), r.path.clone()))
                    .or_default()
                    .push((i, r));
            }
        }
    }
    out
}

#[test]
fn ingress_hosts_are_dns_names_and_each_host_and_path_is_claimed_once() {
    let mut ingresses_seen = 0;
    for (name, text, model) in routed_programs() {
        let Some(artifacts) = built(&name, &text, Target::K8s) else {
            continue;
        };
        let docs: Vec<Yaml> = artifacts
            .iter()
            .filter(|a| !a.path.ends_with(infrac::backend::k8s::KUSTOMIZATION))
            .flat_map(|a| YamlLoader::load_from_str(&a.contents).expect("generated YAML parses"))
            .collect();
        let claims = ingresses(&name, &docs);
        let routes = outside_routes(&model);
        for (key, claimed) in &claims {
            assert_eq!(
                claimed.len(),
                1,
                "{name}: {key:?} is claimed by {claimed:?}"
            );
            assert!(
                routes.contains_key(key),
                "{name}: an Ingress for {key:?}, which no route leaving the cluster is"
            );
        }
        for (key, group) in &routes {
            let (class, backend, port, allow) = &claims
                .get(key)
                .unwrap_or_else(|| panic!("{name}: no Ingress for route {key:?}"))[0];
            // The end of the chain: a route whose target routes nothing of
            // this host and path on.
            let proxies: Vec<usize> = group.iter().map(|(p, _)| *p).collect();
            let end = group
                .iter()
                .find(|(_, r)| !proxies.contains(&r.target.index()))
                .map(|(_, r)| *r)
                .unwrap_or_else(|| panic!("{name}: {key:?} routes in a cycle"));
            assert_eq!(
                (backend.as_str(), *port),
                (k8s_name(&model.service(end.target).name).as_str(), end.port),
                "{name}: {key:?}"
            );
            let reach = group
                .iter()
                .filter_map(|(_, r)| r.handed.clone())
                .reduce(|a, b| a.join(&b))
                .expect("a group has a route");
            match &reach {
                Exposure::Restricted(nets) => {
                    let want: Vec<String> = nets.iter().map(ToString::to_string).collect();
                    assert_eq!(
                        allow.as_deref(),
                        Some(want.join(",").as_str()),
                        "{name}: {key:?}"
                    );
                }
                _ => assert_eq!(allow, &None, "{name}: {key:?} is public"),
            }
            // The class of the proxy clients reach first; ingress-nginx for
            // an allowlist Traefik's and Caddy's controllers cannot carry.
            let front = group
                .iter()
                .find(|(p, _)| !group.iter().any(|(_, r)| r.target.index() == *p))
                .map_or(group[0].0, |(p, _)| *p);
            let kind = ProxyKind::of(&model.services[front]).expect("a known proxy builds");
            let want = match (&reach, kind) {
                (Exposure::Restricted(_), ProxyKind::Caddy | ProxyKind::Traefik) => {
                    ProxyKind::Nginx
                }
                (_, k) => k,
            };
            assert_eq!(class, want.name(), "{name}: {key:?}");
            ingresses_seen += 1;
        }
    }
    assert!(ingresses_seen >= 15, "only {ingresses_seen} Ingresses");
}

#[test]
fn the_readers_know_a_host_from_a_path() {
    for h in ["app.example.com", "*.example.com", "a-1.b", "x"] {
        assert!(dns_name(h), "{h}");
    }
    for h in ["app.example.com/api", "-a.b", "A.b", "a..b", "a_b.c", ""] {
        assert!(!dns_name(h), "{h}");
    }
    for p in ["/", "/api", "/api/v1/"] {
        assert!(is_path(p), "{p}");
    }
    for p in ["api", "//evil", "/a b", "/a?b", "/a#b", ""] {
        assert!(!is_path(p), "{p}");
    }
}
