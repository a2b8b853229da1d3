//! What the proxies of a compose or swarm build forward, read from their
//! generated configurations (`read.rs`), against the routes of the
//! checked model: the test of routes (`tests/routes.rs`) and the reach
//! oracle (`tests/reach_oracle.rs`) both judge through [`compare`], so
//! they cannot disagree on what a route means.
//!
//! A proxy forwards exactly its model's routes: one forward per host and
//! path, to the route's service and port, admitting the reach the route
//! hands on (`restricted` narrowed by the proxy's own reach) — nothing
//! for a host or path the model lacks, no allowlist wider than the
//! route's, no backend but the route's. A proxy reached through another
//! proxy sees only that proxy, so it carries no allowlist (the front one
//! enforced it; a restriction there is E5016). Each host has exactly one
//! server or site block, and each file is mounted where the image reads
//! it.

#![allow(dead_code)]

pub mod read;

use std::collections::BTreeMap;

use infrac::backend::Artifact;
use infrac::ir::{Exposure, Model, Protocol, Service};
use read::Forward;
use yaml_rust2::Yaml;

/// Where each image reads a generated file.
const TARGETS: &[(&str, &str)] = &[
    ("nginx.conf", "/etc/nginx/nginx.conf"),
    ("haproxy.cfg", "/usr/local/etc/haproxy/haproxy.cfg"),
    ("Caddyfile", "/etc/caddy/Caddyfile"),
    ("traefik.yml", "/etc/traefik/traefik.yml"),
    ("dynamic.yml", "/etc/traefik/dynamic.yml"),
];

/// The files of each proxy: service → (file name, contents).
pub fn files(artifacts: &[Artifact]) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for a in artifacts {
        let path = a.path.to_string_lossy().replace('\\', "/");
        let Some(rest) = path.strip_prefix("proxy/") else {
            continue;
        };
        let (service, file) = rest.split_once('/').expect("proxy/SERVICE/FILE");
        out.entry(service.to_string())
            .or_default()
            .push((file.to_string(), a.contents.clone()));
    }
    out
}

/// What the model says proxy `s` forwards, in route order, one per host
/// and path.
pub fn expected(model: &Model, s: &Service) -> Vec<Forward> {
    let behind_proxy = model.services.iter().any(|o| {
        o.routes
            .iter()
            .any(|r| model.service(r.target).name == s.name)
    });
    let mut out: Vec<Forward> = Vec::new();
    for r in &s.routes {
        let allow = match &r.handed {
            Some(Exposure::Restricted(nets)) if !behind_proxy => Some(nets.to_vec()),
            _ => None,
        };
        let f = Forward {
            host: r.host.clone(),
            path: r.path.clone(),
            backend: model.service(r.target).name.clone(),
            port: r.port,
            allow,
        };
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// Whether `f`'s host and path take the requests of `g` (a first-match
/// proxy would never reach `g`).
fn covers(f: &Forward, g: &Forward) -> bool {
    let host = f.host.is_none() || f.host == g.host;
    let path = f.path == g.path
        || g.path
            .starts_with(&format!("{}/", f.path.trim_end_matches('/')))
        || f.path == "/";
    host && path
}

/// Judges every proxy of a compose or swarm build against the model;
/// `doc` is the build's compose file. Returns the forwards compared.
pub fn compare(model: &Model, artifacts: &[Artifact], doc: &Yaml) -> Result<usize, String> {
    let mut by_proxy = files(artifacts);
    let mut compared = 0;
    for s in &model.services {
        let listens = s.ports.iter().any(|p| p.protocol == Protocol::Tcp);
        let files = by_proxy.remove(&s.name);
        let files = match (files, s.routes.is_empty() || !listens) {
            (None, true) => continue,
            (Some(_), true) => {
                return Err(format!(
                    "`{}` forwards nothing, yet it has a proxy configuration",
                    s.name
                ))
            }
            (None, false) => return Err(format!("`{}` has routes and no configuration", s.name)),
            (Some(f), false) => f,
        };
        mounted(doc, &s.name, &files)?;
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, c)| (n.as_str(), c.as_str()))
            .collect();
        let got = read::read(&refs).map_err(|e| format!("`{}`: {e}", s.name))?;
        let want = expected(model, s);
        for f in &got.forwards {
            if got
                .forwards
                .iter()
                .filter(|g| (&g.host, &g.path) == (&f.host, &f.path))
                .count()
                != 1
            {
                return Err(format!(
                    "`{}` forwards {:?}{} more than once",
                    s.name, f.host, f.path
                ));
            }
            if !want.contains(f) {
                return Err(format!(
                    "`{}` forwards {f:?}, which no route of the model is (its routes: {want:?})",
                    s.name
                ));
            }
        }
        if let Some(f) = want.iter().find(|f| !got.forwards.contains(f)) {
            return Err(format!(
                "`{}` does not forward {f:?}: {:?}",
                s.name, got.forwards
            ));
        }
        if got.ordered {
            for (i, f) in got.forwards.iter().enumerate() {
                if let Some(g) = got.forwards[i + 1..].iter().find(|g| covers(f, g)) {
                    return Err(format!("`{}`: {f:?} comes first and hides {g:?}", s.name));
                }
            }
        }
        let mut hosts: Vec<&Option<String>> = want.iter().map(|f| &f.host).collect();
        hosts.sort();
        hosts.dedup();
        if got.has_sites {
            for h in hosts.iter().filter(|h| h.is_some()) {
                let n = got.sites.iter().filter(|x| x == h).count();
                if n != 1 {
                    return Err(format!("`{}` has {n} server blocks for {h:?}", s.name));
                }
            }
            if let Some(h) = got.sites.iter().find(|x| x.is_some() && !hosts.contains(x)) {
                return Err(format!(
                    "`{}` serves host {h:?}, which no route names",
                    s.name
                ));
            }
        }
        compared += got.forwards.len();
    }
    if let Some(name) = by_proxy.keys().next() {
        return Err(format!(
            "a configuration for `{name}`, which is no proxy of the model"
        ));
    }
    Ok(compared)
}

/// Each file of `service`'s configuration is a config of `doc`, read from
/// the file and mounted where the image reads it.
fn mounted(doc: &Yaml, service: &str, files: &[(String, String)]) -> Result<(), String> {
    let mounts = doc["services"][service]["configs"]
        .as_vec()
        .ok_or(format!("`{service}` mounts no configs"))?;
    for (file, _) in files {
        let target = TARGETS
            .iter()
            .find(|(f, _)| f == file)
            .map(|(_, t)| *t)
            .ok_or(format!("`{service}`: a file {file} no image reads"))?;
        let path = format!("./proxy/{service}/{file}");
        let ok = mounts.iter().any(|m| {
            m["target"].as_str() == Some(target)
                && m["source"]
                    .as_str()
                    .is_some_and(|k| doc["configs"][k]["file"].as_str() == Some(&path))
        });
        if !ok {
            return Err(format!("`{service}`: {path} is not mounted at {target}"));
        }
    }
    Ok(())
}
