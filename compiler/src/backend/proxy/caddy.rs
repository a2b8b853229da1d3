//! Caddy: a `Caddyfile`, mounted at `/etc/caddy/Caddyfile`, which the
//! official image runs and Debian's package reads.
//!
//! Automatic HTTPS is off: certificates are the program's secrets (an
//! ACME account would be state the program does not declare, and a
//! read-only root has nowhere to keep it), and the redirect from port 80
//! is written out like every other proxy's. The admin endpoint is off: a
//! change is a new file and a restart, as everywhere else. (No
//! `persist_config off`: Caddy 2.6, Debian's, does not know it; on a
//! read-only root the autosave only logs that it failed.) A site per host with one `handle` per
//! route, longest path first, the allowlist a `remote_ip` matcher; a host
//! with no route for a path answers 404.

use std::fmt::Write;

use super::{File, Listener, Plan, Site};

pub(super) fn files(plan: &Plan<'_>, header: &[String]) -> Vec<File> {
    File::only("Caddyfile", "/etc/caddy/Caddyfile", caddyfile(plan, header))
}

fn caddyfile(plan: &Plan<'_>, header: &[String]) -> String {
    let mut out = super::comment(header, "#");
    out.push_str(
        "{
\tauto_https off
\tadmin off
}
",
    );
    for (p, port) in plan.redirects() {
        let _ = write!(
            out,
            "\n# Port {p}: every request to HTTPS.\nhttp://:{p} {{\n\tredir https://{{host}}{port}{{uri}} 301\n}}\n",
        );
    }
    let serving: Vec<&Listener> = plan.listeners.iter().filter(|l| l.serves()).collect();
    for site in &plan.sites {
        site_block(&mut out, plan, &serving, site);
    }
    if plan.sites.iter().all(|s| s.host.is_some()) {
        // What no host matches.
        let addresses = addresses(&serving, None);
        let _ = write!(out, "\n{addresses} {{\n");
        tls(&mut out, plan);
        out.push_str("\trespond 404\n}\n");
    }
    out
}

fn addresses(serving: &[&Listener], host: Option<&str>) -> String {
    let list: Vec<String> = serving
        .iter()
        .map(|l| {
            format!(
                "{}://{}:{}",
                if l.tls { "https" } else { "http" },
                host.unwrap_or(""),
                l.port
            )
        })
        .collect();
    list.join(", ")
}

fn tls(out: &mut String, plan: &Plan<'_>) {
    if let Some(t) = &plan.tls {
        let _ = writeln!(out, "\ttls {} {}", t.cert, t.key);
    }
}

fn site_block(out: &mut String, plan: &Plan<'_>, serving: &[&Listener], site: &Site<'_>) {
    let _ = write!(out, "\n{} {{\n", addresses(serving, site.host));
    tls(out, plan);
    let mut catch_all = false;
    for (i, l) in site.locations.iter().enumerate() {
        let matcher = if l.path == "/" {
            catch_all = true;
            String::new()
        } else if l.path.ends_with('/') {
            let _ = writeln!(out, "\t@route{i} path {}*", l.path);
            format!(" @route{i}")
        } else {
            let _ = writeln!(out, "\t@route{i} path {p} {p}/*", p = l.path);
            format!(" @route{i}")
        };
        let _ = writeln!(out, "\thandle{matcher} {{");
        if let Some(nets) = l.allow {
            let _ = writeln!(
                out,
                "\t\t@route{i}-refused not remote_ip {}",
                super::ranges(nets).join(" ")
            );
            let _ = writeln!(out, "\t\trespond @route{i}-refused 403");
        }
        let _ = writeln!(out, "\t\treverse_proxy {}:{}", l.backend, l.port);
        out.push_str("\t}\n");
    }
    if !catch_all {
        out.push_str("\thandle {\n\t\trespond 404\n\t}\n");
    }
    out.push_str("}\n");
}
