//! Traefik v3: a static configuration at `/etc/traefik/traefik.yml` (the
//! first place Traefik and `traefik healthcheck` look) and the routes as a
//! file provider's dynamic configuration, `/etc/traefik/dynamic.yml`.
//!
//! An entry point per port (`port-443`), port 80 redirecting to HTTPS
//! when the proxy has TLS; a router per route, its priority the route's
//! place in match order (hosts first, longest path first); the allowlist
//! an `ipAllowList` middleware; the certificate the default of the TLS
//! store. `ping` on an entry point of its own on loopback, for the
//! template's health check (`traefik healthcheck --ping`). No Docker
//! provider: Traefik never needs the Docker socket here.

use super::{File, Plan};
use crate::backend::yaml::{self, strings, Map, Node};

pub(super) fn files(plan: &Plan<'_>, header: &[String]) -> Vec<File> {
    vec![
        File {
            name: "traefik.yml",
            target: "/etc/traefik/traefik.yml",
            contents: yaml::to_string(header, &static_config(plan)),
        },
        File {
            name: "dynamic.yml",
            target: "/etc/traefik/dynamic.yml",
            contents: yaml::to_string(header, &dynamic(plan)),
        },
    ]
}

/// A loopback port for `ping` that no declared port takes.
fn ping_port(plan: &Plan<'_>) -> u16 {
    (8082..)
        .find(|p| plan.service.ports.iter().all(|x| x.container != *p))
        .unwrap_or(8082)
}

fn static_config(plan: &Plan<'_>) -> Map {
    let mut entry_points = Map::new();
    for l in &plan.listeners {
        let mut ep = Map::new();
        ep.insert("address", format!(":{}", l.port));
        if let Some(https) = l.redirect {
            let mut to = Map::new();
            to.insert("to", format!(":{https}"))
                .insert("scheme", "https")
                .insert("permanent", true);
            let mut redirections = Map::new();
            redirections.insert("entryPoint", to);
            let mut http = Map::new();
            http.insert("redirections", redirections);
            ep.insert("http", http);
        }
        entry_points.insert(format!("port-{}", l.port), ep);
    }
    let mut ping_ep = Map::new();
    ping_ep.insert("address", format!("127.0.0.1:{}", ping_port(plan)));
    entry_points.insert("ping", ping_ep);
    let mut root = Map::new();
    root.insert("entryPoints", entry_points);
    let mut ping = Map::new();
    ping.insert("entryPoint", "ping");
    root.insert("ping", ping);
    let mut file = Map::new();
    file.insert("filename", "/etc/traefik/dynamic.yml");
    let mut providers = Map::new();
    providers.insert("file", file);
    root.insert("providers", providers);
    let mut global = Map::new();
    global
        .insert("checkNewVersion", false)
        .insert("sendAnonymousUsage", false);
    root.insert("global", global);
    let mut log = Map::new();
    log.insert("level", "INFO");
    root.insert("log", log);
    root.insert("accessLog", Map::new());
    root
}

/// `Host(...)` of a host; a wildcard as a regular expression.
fn host_rule(host: &str) -> String {
    match host.strip_prefix("*.") {
        Some(rest) => format!("HostRegexp(`^[^.]+\\.{}$`)", rest.replace('.', "\\.")),
        None => format!("Host(`{host}`)"),
    }
}

fn path_rule(path: &str) -> String {
    if path == "/" {
        "PathPrefix(`/`)".to_string()
    } else if path.ends_with('/') {
        format!("PathPrefix(`{path}`)")
    } else {
        format!("(Path(`{path}`) || PathPrefix(`{path}/`))")
    }
}

fn dynamic(plan: &Plan<'_>) -> Map {
    let serving: Vec<String> = plan
        .listeners
        .iter()
        .filter(|l| l.serves())
        .map(|l| format!("port-{}", l.port))
        .collect();
    let total = plan.sites.iter().map(|s| s.locations.len()).sum::<usize>();
    let mut routers = Map::new();
    let mut middlewares = Map::new();
    let mut services = Map::new();
    let mut n = 0;
    for site in &plan.sites {
        for l in &site.locations {
            let name = format!("route{n}");
            let rule = match site.host {
                Some(h) => format!("{} && {}", host_rule(h), path_rule(l.path)),
                None => path_rule(l.path),
            };
            let service = format!("to-{}-{}", l.backend, l.port);
            let mut r = Map::new();
            r.insert("entryPoints", strings(&serving))
                .insert("rule", rule)
                .insert("priority", (total - n) as i64)
                .insert("service", service.as_str());
            if let Some(nets) = l.allow {
                let mw = format!("{name}-allowlist");
                r.insert("middlewares", strings(&[mw.as_str()]));
                let mut allow = Map::new();
                allow.insert("sourceRange", strings(&super::ranges(nets)));
                let mut m = Map::new();
                m.insert("ipAllowList", allow);
                middlewares.insert(mw, m);
            }
            if plan.tls.is_some() {
                r.insert("tls", Map::new());
            }
            routers.insert(name, r);
            if services.get(&service).is_none() {
                let mut server = Map::new();
                server.insert("url", format!("http://{}:{}", l.backend, l.port));
                let mut lb = Map::new();
                lb.insert("servers", Node::Seq(vec![Node::Map(server)]));
                let mut s = Map::new();
                s.insert("loadBalancer", lb);
                services.insert(service, s);
            }
            n += 1;
        }
    }
    let mut http = Map::new();
    http.insert("routers", routers);
    http.insert_map("middlewares", middlewares);
    http.insert("services", services);
    let mut root = Map::new();
    root.insert("http", http);
    if let Some(t) = &plan.tls {
        let mut cert = Map::new();
        cert.insert("certFile", t.cert.as_str())
            .insert("keyFile", t.key.as_str());
        let mut default = Map::new();
        default.insert("defaultCertificate", cert);
        let mut stores = Map::new();
        stores.insert("default", default);
        let mut tls = Map::new();
        tls.insert("stores", stores);
        root.insert("tls", tls);
    }
    root
}
