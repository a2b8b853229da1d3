//! HAProxy: `haproxy.cfg`, mounted at `/usr/local/etc/haproxy/haproxy.cfg`,
//! where the official image (`std/haproxy`) reads it. Debian's package
//! reads `/etc/haproxy/haproxy.cfg`: an image built from it runs
//! `haproxy -f /usr/local/etc/haproxy/haproxy.cfg` (the book's swarm and
//! compose pages say so).
//!
//! One frontend per port. Each request is matched once, in route order
//! (hosts first, longest path first), and the route it matched is kept in
//! a variable, so a route's allowlist and backend apply to its own
//! requests only (an ACL per route alone would let `/` deny `/api`).
//! A host with no route for a path answers 404, as nginx does. Backends
//! are resolved through Docker's DNS (`init-addr none`: the proxy starts
//! before them). The TLS key is read beside the certificate
//! (`CERT.key`, HAProxy's `ssl-load-extra-files` default since 2.2), so
//! the key secret is mounted under that name.

use std::fmt::Write;

use super::yaml_secret_target;
use super::{File, Location, Plan};
use crate::backend::yaml::Map;
use crate::ir::{Model, Tls};

pub(super) fn files(plan: &Plan<'_>, header: &[String]) -> Vec<File> {
    File::only(
        "haproxy.cfg",
        "/usr/local/etc/haproxy/haproxy.cfg",
        cfg(plan, header),
    )
}

/// The key secret, mounted as `/run/secrets/CERT.key` instead of its own
/// name: where HAProxy looks for the key of `crt /run/secrets/CERT`.
pub(super) fn key_beside_cert(model: &Model, tls: &Tls, service: &mut Map) {
    let cert = &model.secret(tls.cert).name;
    let key = &model.secret(tls.key).name;
    yaml_secret_target(service, key, &format!("{cert}.key"));
}

fn cfg(plan: &Plan<'_>, header: &[String]) -> String {
    let mut out = super::comment(header, "#");
    out.push_str(
        "global
    log stdout format raw local0
    maxconn 4096
    ssl-default-bind-options ssl-min-ver TLSv1.2

defaults
    mode http
    log global
    option httplog
    option forwardfor
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s

# Docker's embedded DNS: backends by service name, followed as they move.
resolvers docker
    nameserver dns 127.0.0.11:53
    hold valid 10s
",
    );
    // Routes in match order, each with its number.
    let routes: Vec<(usize, Option<&str>, &Location<'_>)> = plan
        .sites
        .iter()
        .flat_map(|s| s.locations.iter().map(move |l| (s.host, l)))
        .enumerate()
        .map(|(i, (h, l))| (i, h, l))
        .collect();
    let hosts: Vec<&str> = plan.sites.iter().filter_map(|s| s.host).collect();
    for l in &plan.listeners {
        let _ = write!(out, "\nfrontend port-{}\n", l.port);
        match (&plan.tls, l.tls) {
            (Some(t), true) => {
                let _ = writeln!(out, "    bind :{} ssl crt {}", l.port, t.cert);
            }
            _ => {
                let _ = writeln!(out, "    bind :{}", l.port);
            }
        }
        if let Some(https) = l.redirect {
            if https == 443 {
                out.push_str("    http-request redirect scheme https code 301\n");
            } else {
                let _ = writeln!(out, "    http-request redirect location https://%[req.hdr(host),field(1,:)]:{https}%[capture.req.uri] code 301");
            }
            continue;
        }
        for (i, host) in hosts.iter().enumerate() {
            match host.strip_prefix('*') {
                Some(suffix) => {
                    let _ = writeln!(
                        out,
                        "    acl host-{i} req.hdr(host),field(1,:),lower -m end {suffix}"
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "    acl host-{i} req.hdr(host),field(1,:),lower -m str {host}"
                    );
                }
            }
        }
        for (n, host, loc) in &routes {
            let p = loc.path;
            if p.ends_with('/') {
                let _ = writeln!(out, "    acl path-{n} path_beg {p}");
            } else {
                let _ = writeln!(out, "    acl path-{n} path {p}");
                let _ = writeln!(out, "    acl path-{n} path_beg {p}/");
            }
            let host_acl = host
                .and_then(|h| hosts.iter().position(|x| *x == h))
                .map_or(String::new(), |i| format!(" host-{i}"));
            let _ = writeln!(
                out,
                "    http-request set-var(txn.route) str(r{n}) if !{{ var(txn.route) -m found }}{host_acl} path-{n}"
            );
        }
        // A request for a known host that no route of it matched is that
        // host's 404, not a path-only route's.
        for i in 0..hosts.len() {
            let _ = writeln!(
                out,
                "    http-request set-var(txn.route) str(none) if !{{ var(txn.route) -m found }} host-{i}"
            );
        }
        for (n, _, loc) in &routes {
            if let Some(nets) = loc.allow {
                let _ = writeln!(
                    out,
                    "    http-request deny deny_status 403 if {{ var(txn.route) -m str r{n} }} !{{ src {} }}",
                    super::ranges(nets).join(" ")
                );
            }
        }
        for (n, _, loc) in &routes {
            let _ = writeln!(
                out,
                "    use_backend {} if {{ var(txn.route) -m str r{n} }}",
                backend_name(loc)
            );
        }
        out.push_str("    default_backend not-found\n");
    }
    let mut backends: Vec<(String, &Location<'_>)> = routes
        .iter()
        .map(|(_, _, l)| (backend_name(l), *l))
        .collect();
    backends.sort_by(|a, b| a.0.cmp(&b.0));
    backends.dedup_by(|a, b| a.0 == b.0);
    for (name, l) in backends {
        let _ = write!(
            out,
            "\nbackend {name}\n    server {b} {b}:{p} resolvers docker init-addr none\n",
            b = l.backend,
            p = l.port
        );
    }
    out.push_str("\nbackend not-found\n    http-request return status 404\n");
    out
}

fn backend_name(l: &Location<'_>) -> String {
    format!("to-{}-{}", l.backend, l.port)
}
