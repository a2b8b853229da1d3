//! Routes realised on compose and swarm: the proxy's own configuration,
//! generated from its routes, and mounted into it as a Docker config.
//!
//! The kind of proxy comes from its image, else its template
//! ([`ProxyKind::of`]); each kind has a writer (`nginx.rs`, `haproxy.rs`,
//! `caddy.rs`, `traefik.rs`) that turns one [`Plan`] into its files. What
//! every writer is given, settled here once:
//!
//! - a listener per TCP port the proxy declares. With `tls`, port 80
//!   redirects to HTTPS and every other port serves TLS with the
//!   certificate and key secrets (read from `/run/secrets/NAME`, where the
//!   runtimes mount secrets); without, every port serves plain HTTP (and a
//!   port 443 warns, W5015);
//! - a site per host (routes on a path alone share the default site, which
//!   otherwise answers 404), a location per path, longest first, each to
//!   its backend by service name and port, resolved through Docker's
//!   embedded DNS at request time so the proxy starts before its backends;
//! - the allowlist of each location: the reach the route hands on when it
//!   is restricted. It is enforced on the client's address, which the
//!   proxy sees only when clients reach it directly: compose publishes
//!   through NAT, which keeps the source, and swarm publishes in host mode,
//!   never through the routing mesh. A proxy reached through another proxy
//!   sees only that proxy, so a route of its own restricted there is an
//!   error (E5016) rather than a list that cannot work.
//!
//! The files are the same for compose and swarm (`proxy/SERVICE/FILE` in
//! the output directory), so building both into one directory writes
//! each once.

mod caddy;
mod haproxy;
mod nginx;
mod traefik;

use std::collections::HashMap;

use super::yaml::{Map, Node};
use super::{Artifact, Target};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Exposure, Model, Protocol, ProxyKind, Service, ServiceId};

/// The directory of the generated proxy configurations, relative to the
/// output directory.
pub const DIR: &str = "proxy";

/// One proxy, ready for its writer.
pub(crate) struct Plan<'m> {
    pub(crate) service: &'m Service,
    pub(crate) listeners: Vec<Listener>,
    /// Sites with a host first (in host order), then the default site.
    pub(crate) sites: Vec<Site<'m>>,
    pub(crate) tls: Option<TlsFiles>,
}

/// A port the proxy listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Listener {
    /// The container port.
    pub(crate) port: u16,
    pub(crate) tls: bool,
    /// Set on a plain port of a proxy with TLS: every request is sent to
    /// `https://HOST` on this published port.
    pub(crate) redirect: Option<u16>,
}

impl Listener {
    /// Whether it serves the sites (rather than redirect).
    pub(crate) fn serves(&self) -> bool {
        self.redirect.is_none()
    }
}

impl Plan<'_> {
    /// The redirecting listeners: (port, the `:PORT` of the HTTPS URL they
    /// send to, empty for 443).
    pub(crate) fn redirects(&self) -> impl Iterator<Item = (u16, String)> + '_ {
        self.listeners.iter().filter_map(|l| {
            let https = l.redirect?;
            let port = if https == 443 {
                String::new()
            } else {
                format!(":{https}")
            };
            Some((l.port, port))
        })
    }
}

/// The routes of one host (`None`: any host).
pub(crate) struct Site<'m> {
    pub(crate) host: Option<&'m str>,
    /// Longest path first, so a proxy that takes the first match agrees
    /// with one that takes the longest.
    pub(crate) locations: Vec<Location<'m>>,
}

pub(crate) struct Location<'m> {
    pub(crate) path: &'m str,
    pub(crate) backend: &'m str,
    pub(crate) port: u16,
    /// The addresses admitted, when the route hands on a restricted reach.
    pub(crate) allow: Option<&'m [ipnet::IpNet]>,
    /// The route this location realises, for a finding about a second one.
    pub(crate) span: crate::span::Span,
}

/// Where the proxy reads its certificate and key.
pub(crate) struct TlsFiles {
    pub(crate) cert: String,
    pub(crate) key: String,
}

/// One file of a proxy's configuration.
pub(crate) struct File {
    /// Its name under `proxy/SERVICE/`.
    pub(crate) name: &'static str,
    /// Where the image reads it.
    pub(crate) target: &'static str,
    pub(crate) contents: String,
}

impl File {
    /// The whole configuration of a proxy that reads one file.
    fn only(name: &'static str, target: &'static str, contents: String) -> Vec<File> {
        vec![File {
            name,
            target,
            contents,
        }]
    }
}

/// Writes the configuration of every proxy of `model` for compose or
/// swarm: mounts it into each proxy's service in `root` (`configs:`),
/// declares it at the top level, and returns the files. A route that
/// cannot be realised is an error; nothing is left as a comment.
pub fn realise(
    model: &Model,
    target: Target,
    options: &super::Options,
    root: &mut Map,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Artifact> {
    // The same header for both targets: the files are the same files.
    let header = &super::generated_header(options)[..];
    let mut artifacts = Vec::new();
    let mut configs = Map::new();
    let routed = route_targets(model);
    let positions = service_positions(root);
    for (i, s) in model.services.iter().enumerate() {
        if s.routes.is_empty() {
            continue;
        }
        let Some(kind) = ProxyKind::of(s) else {
            for r in &s.routes {
                diagnostics.push(unknown_kind(s, r, target));
            }
            continue;
        };
        // Caddy refuses a plain-HTTP site on 443 ("scheme and port violate
        // convention"): without `tls` it would not start.
        let plain_443 = s
            .ports
            .iter()
            .find(|p| p.protocol == Protocol::Tcp && p.container == 443);
        if let (ProxyKind::Caddy, None, Some(p)) = (kind, &s.tls, plain_443) {
            diagnostics.push(
                Diagnostic::new(
                    Code::RouteUnrealised,
                    p.span,
                    format!(
                        "{} cannot realise the routes of `{}`: caddy refuses plain HTTP on port 443",
                        target.name(),
                        s.name
                    ),
                )
                .label("caddy would not start with this site")
                .help("name its certificate and key secrets: `tls = { cert = site_cert, key = site_key }`, or serve plain HTTP on port 80"),
            );
            continue;
        }
        let Some(plan) = plan(model, ServiceId(i as u32), &routed, target, diagnostics) else {
            continue;
        };
        let files = match kind {
            ProxyKind::Nginx => nginx::files(&plan, header),
            ProxyKind::Haproxy => haproxy::files(&plan, header),
            ProxyKind::Caddy => caddy::files(&plan, header),
            ProxyKind::Traefik => traefik::files(&plan, header),
        };
        let mut mounts = Vec::new();
        for f in files {
            let key = format!("{}-{}", s.name, f.name.replace('.', "-"));
            let path = format!("{DIR}/{}/{}", s.name, f.name);
            let mut config = Map::new();
            config.insert("file", format!("./{path}"));
            if target == Target::Swarm {
                // A swarm config cannot change once created: the name
                // carries the contents' digest, so a changed file is a new
                // config and `docker stack deploy` rolls the proxy onto it.
                config.insert(
                    "name",
                    format!(
                        "{}_{key}-{:016x}",
                        options.project,
                        fnv1a(body(&f.contents, header))
                    ),
                );
            }
            configs.insert(key.as_str(), config);
            let mut mount = Map::new();
            mount
                .insert("source", key.as_str())
                .insert("target", f.target);
            mounts.push(Node::Map(mount));
            artifacts.push(Artifact {
                path: path.into(),
                contents: f.contents,
            });
        }
        if let Some(Node::Map(service)) = service_entry(root, &positions, &s.name) {
            service.insert("configs", Node::Seq(mounts));
            if kind == ProxyKind::Haproxy {
                if let Some(t) = &s.tls {
                    haproxy::key_beside_cert(model, t, service);
                }
            }
            if kind == ProxyKind::Nginx && s.user.as_ref().map_or(true, |u| u.uid == Some(0)) {
                nginx::root_master_caps(service);
            }
        }
    }
    root.insert_map("configs", configs);
    artifacts
}

/// The digest in a swarm config's name: FNV-1a, 64 bits. Not a security
/// measure, only a name that changes with the contents; a stable function
/// the standard library does not promise (its hasher may change).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A file without its header lines: the digest of what the proxy reads,
/// the same wherever the program was built from.
fn body<'t>(contents: &'t str, header: &[String]) -> &'t str {
    let mut rest = contents;
    for _ in header {
        rest = rest.split_once('\n').map_or("", |(_, r)| r);
    }
    rest
}

/// The service map of `name` under `services:` in `root`.
/// The `services:` map of a compose or swarm file.
fn services_of(root: &mut Map) -> Option<&mut Map> {
    match root
        .entries
        .iter_mut()
        .find(|e| e.key == "services")
        .map(|e| &mut e.value)
    {
        Some(Node::Map(services)) => Some(services),
        _ => None,
    }
}

/// Where each service's entry sits in `services:`, found once: a search
/// of the map for every proxy made a program of many proxies quadratic
/// (100,000 services took two minutes on compose).
fn service_positions(root: &mut Map) -> HashMap<String, usize> {
    services_of(root).map_or_else(HashMap::new, |services| {
        services
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.key.clone(), i))
            .collect()
    })
}

fn service_entry<'r>(
    root: &'r mut Map,
    positions: &HashMap<String, usize>,
    name: &str,
) -> Option<&'r mut Node> {
    let at = *positions.get(name)?;
    services_of(root)?.entries.get_mut(at).map(|e| &mut e.value)
}

/// Mounts secret `name` of a service map at `/run/secrets/TARGET`: its
/// entry in `secrets:` in long form.
pub(crate) fn yaml_secret_target(service: &mut Map, name: &str, target: &str) {
    let Some(Node::Seq(secrets)) = service
        .entries
        .iter_mut()
        .find(|e| e.key == "secrets")
        .map(|e| &mut e.value)
    else {
        return;
    };
    for s in secrets.iter_mut() {
        if matches!(s, Node::Str(n) if n == name) {
            let mut long = Map::new();
            long.insert("source", name).insert("target", target);
            *s = Node::Map(long);
        }
    }
}

/// The services a route leads to: a proxy among them is reached through
/// another proxy and sees that proxy's address, not the client's.
fn route_targets(model: &Model) -> std::collections::HashSet<ServiceId> {
    model
        .services
        .iter()
        .flat_map(|s| s.routes.iter().map(|r| r.target))
        .collect()
}

fn plan<'m>(
    model: &'m Model,
    id: ServiceId,
    routed: &std::collections::HashSet<ServiceId>,
    target: Target,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Plan<'m>> {
    let s = model.service(id);
    let tcp: Vec<_> = s
        .ports
        .iter()
        .filter(|p| p.protocol == Protocol::Tcp)
        .collect();
    if tcp.is_empty() {
        // No port: it hands nothing on and has nothing to listen on; the
        // checker already judged such routes (they carry no reach).
        return None;
    }
    let tls = s.tls.as_ref().map(|t| TlsFiles {
        cert: format!("/run/secrets/{}", model.secret(t.cert).name),
        key: format!("/run/secrets/{}", model.secret(t.key).name),
    });
    let https = tcp.iter().find(|p| p.container != 80).map(|p| p.host);
    let listeners = tcp
        .iter()
        .map(|p| match (&tls, https) {
            (Some(_), Some(https)) if p.container == 80 => Listener {
                port: 80,
                tls: false,
                redirect: Some(https),
            },
            (Some(_), _) if p.container != 80 => Listener {
                port: p.container,
                tls: true,
                redirect: None,
            },
            _ => Listener {
                port: p.container,
                tls: false,
                redirect: None,
            },
        })
        .collect();
    if tls.is_none() {
        if let Some(p) = tcp.iter().find(|p| p.container == 443) {
            diagnostics.push(
                Diagnostic::new(
                    Code::RoutePlaintext,
                    p.span,
                    format!("`{}` serves its routes on port 443 as plain HTTP: it has no `tls`", s.name),
                )
                .label("no certificate to serve HTTPS with")
                .help("name its certificate and key secrets: `tls = { cert = site_cert, key = site_key }`"),
            );
        }
    }
    let behind_proxy = routed.contains(&id);
    let mut sites: Vec<Site<'m>> = Vec::new();
    let mut ok = true;
    let mut order: Vec<&crate::ir::Route> = s.routes.iter().collect();
    order.sort_by(|a, b| {
        (
            a.host.is_none(),
            &a.host,
            std::cmp::Reverse(a.path.len()),
            &a.path,
        )
            .cmp(&(
                b.host.is_none(),
                &b.host,
                std::cmp::Reverse(b.path.len()),
                &b.path,
            ))
    });
    for r in order {
        let allow = match (&r.handed, behind_proxy) {
            (_, true) if r.restriction.is_some() => {
                diagnostics.push(client_hidden(model, s, r, target));
                ok = false;
                continue;
            }
            // Reached only through another proxy, which enforced any
            // restriction on the clients it saw.
            (_, true) => None,
            (Some(Exposure::Restricted(nets)), false) => Some(&nets[..]),
            _ => None,
        };
        let backend = model.service(r.target).name.as_str();
        let site = match sites.iter_mut().find(|x| x.host == r.host.as_deref()) {
            Some(site) => site,
            None => {
                sites.push(Site {
                    host: r.host.as_deref(),
                    locations: Vec::new(),
                });
                sites.last_mut().expect("just pushed")
            }
        };
        if let Some(other) = site.locations.iter().find(|l| l.path == r.path) {
            if other.backend != backend || other.port != r.port || other.allow != allow {
                diagnostics.push(conflict(s, r, other));
                ok = false;
            }
            continue;
        }
        site.locations.push(Location {
            path: &r.path,
            backend,
            port: r.port,
            allow,
            span: r.span,
        });
    }
    ok.then_some(Plan {
        service: s,
        listeners,
        sites,
        tls,
    })
}

fn unknown_kind(s: &Service, r: &crate::ir::Route, target: Target) -> Diagnostic {
    Diagnostic::new(
        Code::RouteUnrealised,
        r.span,
        format!(
            "{} cannot realise route {} of `{}`: its image `{}` is not a proxy infrac configures",
            target.name(),
            r.matcher,
            s.name,
            s.image
        ),
    )
    .label("no configuration can be written for this route")
    .help("use nginx, haproxy, caddy or traefik (`use std/nginx`, then `service NAME: nginx { ... }`), or drop the route and mount a configuration of your own")
}

fn client_hidden(model: &Model, s: &Service, r: &crate::ir::Route, target: Target) -> Diagnostic {
    // The proxies in front of `s`, and the first route that leads here
    // (where the restriction belongs), from one walk of the routes.
    let mut front: Vec<&str> = Vec::new();
    let mut leading = None;
    for p in &model.services {
        if let Some(x) = p
            .routes
            .iter()
            .find(|x| std::ptr::eq(model.service(x.target), s))
        {
            front.push(p.name.as_str());
            leading = leading.or(Some(x));
        }
    }
    let d = Diagnostic::new(
        Code::RouteClientHidden,
        r.span,
        format!(
            "on {}, `{}` is reached through `{}` and sees its address, not the client's: this allowlist cannot be enforced",
            target.name(),
            s.name,
            front.join("`, `")
        ),
    )
    .label("restricted behind another proxy")
    .help(format!(
        "put `restricted(...)` on the route of `{}` that leads here: the proxy clients reach sees their addresses",
        front.first().copied().unwrap_or("the front proxy")
    ));
    match leading {
        Some(x) => d.secondary(x.span, "clients arrive through this route"),
        None => d,
    }
}

fn conflict(s: &Service, r: &crate::ir::Route, first: &Location<'_>) -> Diagnostic {
    Diagnostic::new(
        Code::RouteConflict,
        r.span,
        format!(
            "`{}` routes {} twice: to {}:{} and here",
            s.name, r.matcher, first.backend, first.port
        ),
    )
    .label("a second route for this host and path")
    .secondary(first.span, "the first")
    .help("give each backend its own host or path, or remove one route")
}

/// `203.0.113.7/32 198.51.100.0/24`, for the writers.
pub(crate) fn ranges(nets: &[ipnet::IpNet]) -> Vec<String> {
    nets.iter().map(ToString::to_string).collect()
}

/// The comment lines every file starts with, behind the writer's own
/// comment marker.
pub(crate) fn comment(header: &[String], marker: &str) -> String {
    let mut out = String::new();
    for line in header {
        out.push_str(marker);
        out.push(' ');
        out.push_str(line);
        out.push('\n');
    }
    out
}
