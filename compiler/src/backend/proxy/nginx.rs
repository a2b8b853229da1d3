//! nginx: a whole `nginx.conf`, mounted over `/etc/nginx/nginx.conf` —
//! the file both the official image and Debian's package read first, so
//! the image's own `conf.d/default.conf` (its welcome page) is never
//! included.
//!
//! Written for a read-only root: the pid file and every temporary
//! directory under `/tmp` (a tmpfs in `std/nginx`), the one directory an
//! image's own user can always write: a tmpfs over an existing directory
//! takes that directory's mode on runc before 1.1.8 and on swarm
//! (`tmpfs.mode` is not applied), whatever `mode=` says, and the official
//! image's `/var/run` is root's 755, so `/var/run/nginx.pid` fails as
//! uid 101 (runc#3911, swarmkit#3226). Logs to the container's output. No `user` directive: the official image's
//! build runs workers as `nginx`, Debian's as `nobody`, and naming one
//! would fail on the other. Backends are resolved at request time
//! through Docker's embedded DNS (`127.0.0.11`), so the proxy starts
//! before its backends and follows their new addresses.

use std::fmt::Write;

use super::{File, Listener, Location, Plan, Site};
use crate::backend::yaml::{Entry, Map, Node};

/// What an nginx whose master runs as root (an image with no `user`, as
/// `gihyodocker/nginx-proxy`) needs under `cap_drop: [ALL]`: it creates
/// its temp directories and gives them to the worker user (CHOWN: else
/// `chown("/tmp/nginx-client-body", 65534) failed`), then starts its
/// workers as that user (SETGID, SETUID). An nginx run as its own user
/// (`std/nginx`, uid 101) switches to no one and needs none.
const ROOT_MASTER_CAPS: [&str; 3] = ["CHOWN", "SETGID", "SETUID"];

/// Adds [`ROOT_MASTER_CAPS`] to the `cap_add` of a service map (after its
/// `cap_drop`), keeping what the program added.
pub(super) fn root_master_caps(service: &mut Map) {
    let at = service.entries.iter().position(|e| e.key == "cap_add");
    let at = at.unwrap_or_else(|| {
        let after = service
            .entries
            .iter()
            .position(|e| e.key == "cap_drop")
            .map_or(service.entries.len(), |i| i + 1);
        service.entries.insert(
            after,
            Entry {
                key: "cap_add".into(),
                value: Node::Seq(Vec::new()),
                comment: None,
            },
        );
        after
    });
    if let Node::Seq(caps) = &mut service.entries[at].value {
        for cap in ROOT_MASTER_CAPS {
            if !caps.iter().any(|c| matches!(c, Node::Str(s) if s == cap)) {
                caps.push(Node::from(cap));
            }
        }
    }
}

pub(super) fn files(plan: &Plan<'_>, header: &[String]) -> Vec<File> {
    vec![File {
        name: "nginx.conf",
        target: "/etc/nginx/nginx.conf",
        contents: conf(plan, header),
    }]
}

fn conf(plan: &Plan<'_>, header: &[String]) -> String {
    let mut out = super::comment(header, "#");
    out.push_str(
        "worker_processes auto;
pid /tmp/nginx.pid;
error_log stderr notice;

events {
    worker_connections 1024;
}

http {
    access_log /dev/stdout;
    server_tokens off;
    client_body_temp_path /tmp/nginx-client-body;
    proxy_temp_path /tmp/nginx-proxy;
    fastcgi_temp_path /tmp/nginx-fastcgi;
    uwsgi_temp_path /tmp/nginx-uwsgi;
    scgi_temp_path /tmp/nginx-scgi;
    # Docker's embedded DNS: backends by service name, looked up per request.
    resolver 127.0.0.11 valid=10s ipv6=off;
    map $http_upgrade $connection_upgrade {
        default upgrade;
        '' close;
    }
    proxy_http_version 1.1;
    proxy_set_header Host $host;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
",
    );
    for l in &plan.listeners {
        if let Some(https) = l.redirect {
            let port = if https == 443 {
                String::new()
            } else {
                format!(":{https}")
            };
            let _ = write!(
                out,
                "
    # Port {p}: every request to HTTPS.
    server {{
        listen {p} default_server;
        return 301 https://$host{port}$request_uri;
    }}
",
                p = l.port
            );
        }
    }
    let serving: Vec<&Listener> = plan.listeners.iter().filter(|l| l.serves()).collect();
    let default = plan.sites.iter().find(|s| s.host.is_none());
    // The default server answers what no host matches: the routes on a
    // path alone, else 404 (a TLS handshake for an unknown name is refused).
    out.push_str("\n    server {\n");
    for l in &serving {
        let _ = writeln!(
            out,
            "        listen {}{} default_server;",
            l.port,
            if l.tls { " ssl" } else { "" }
        );
    }
    match default {
        Some(site) => {
            tls(&mut out, plan);
            locations(&mut out, site);
        }
        None => {
            if serving.iter().any(|l| l.tls) {
                out.push_str("        ssl_reject_handshake on;\n");
            }
            out.push_str("        return 404;\n");
        }
    }
    out.push_str("    }\n");
    for site in plan.sites.iter().filter(|s| s.host.is_some()) {
        out.push_str("\n    server {\n");
        for l in &serving {
            let _ = writeln!(
                out,
                "        listen {}{};",
                l.port,
                if l.tls { " ssl" } else { "" }
            );
        }
        let _ = writeln!(
            out,
            "        server_name {};",
            site.host.expect("filtered on a host")
        );
        tls(&mut out, plan);
        locations(&mut out, site);
        out.push_str("    }\n");
    }
    out.push_str("}\n");
    out
}

fn tls(out: &mut String, plan: &Plan<'_>) {
    if let Some(t) = &plan.tls {
        let _ = writeln!(out, "        ssl_certificate {};", t.cert);
        let _ = writeln!(out, "        ssl_certificate_key {};", t.key);
        out.push_str("        ssl_protocols TLSv1.2 TLSv1.3;\n");
    }
}

fn locations(out: &mut String, site: &Site<'_>) {
    for l in &site.locations {
        if l.path.ends_with('/') {
            location(out, l.path, l);
        } else {
            // The path itself and everything under it, not `/apix`: what
            // a Kubernetes `Prefix` path matches.
            location(out, &format!("= {}", l.path), l);
            location(out, &format!("{}/", l.path.trim_end_matches('/')), l);
        }
    }
}

fn location(out: &mut String, at: &str, l: &Location<'_>) {
    let _ = writeln!(out, "        location {at} {{");
    if let Some(nets) = l.allow {
        for n in super::ranges(nets) {
            let _ = writeln!(out, "            allow {n};");
        }
        out.push_str("            deny all;\n");
    }
    let _ = writeln!(out, "            set $backend {};", l.backend);
    let _ = writeln!(out, "            proxy_pass http://$backend:{};", l.port);
    out.push_str("        }\n");
}
