//! Random programs for the reach oracle: nodes (roles, SSH, TLS engines,
//! labels), networks, and services of every class with ports at every
//! level (UDP, `as HOST` onto the node's own ports among them), host
//! networking, placement, dependencies and routes (with and without
//! allowlists, chains and cycles), with or without a `provider`. The
//! choices lean towards programs the checker accepts, so most of them
//! reach the backends.

use proptest::collection::vec;
use proptest::prelude::*;

const IMAGES: &[&str] = &[
    "ghcr.io/acme/app:1.0",
    "nginx:1.27-alpine",
    "ghcr.io/acme/api:2.1",
    "redis:7.4.1",
    "grafana/grafana:11.2.0",
];
/// The proxies infrac configures, one per kind, for services with routes.
const PROXIES: &[&str] = &[
    "nginx:1.27-alpine",
    "haproxy:3.0",
    "caddy:2.8",
    "traefik:v3.1",
];
const CONTAINER_PORTS: &[u16] = &[80, 443, 8080, 8443, 5000, 7000, 53, 3000, 9100, 22, 6379];
const HOST_PORTS: &[u16] = &[80, 443, 8443, 9100, 22, 2376, 2377, 3389];
const RANGES: &[&str] = &[
    "[\"203.0.113.7/32\"]",
    "[\"10.0.0.0/8\"]",
    "[\"203.0.113.0/24\", \"198.51.100.0/24\"]",
    "[\"2001:db8::/48\"]",
];
const NETWORKS: &[&str] = &["edge", "backend", "private"];

#[derive(Debug, Clone)]
pub struct NodeG {
    worker: bool,
    ssh: usize,
    tls: Option<usize>,
    zone: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct PortG {
    container: usize,
    udp: bool,
    level: usize,
    range: usize,
    host: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct RouteG {
    target: usize,
    port: usize,
    range: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct SvcG {
    image: usize,
    networks: Option<Vec<usize>>,
    host_network: bool,
    ports: Vec<PortG>,
    routes: Vec<RouteG>,
    depends: Option<usize>,
    place: usize,
    place_arg: usize,
    waive_local: bool,
}

#[derive(Debug, Clone)]
pub struct Prog {
    provider: bool,
    nodes: Vec<NodeG>,
    networks: usize,
    services: Vec<SvcG>,
}

/// A strategy for a struct, one strategy per field, in field order:
/// `record!(T { field: strategy, ... })`, the tuple of the strategies
/// mapped to `T`.
macro_rules! record {
    ($t:ident { $($field:ident: $strategy:expr),* $(,)? }) => {
        ($($strategy,)*).prop_map(|($($field,)*)| $t { $($field),* })
    };
}

fn node() -> impl Strategy<Value = NodeG> {
    record!(NodeG {
        worker: any::<bool>(),
        ssh: 0..3usize,
        tls: proptest::option::weighted(0.3, 0..RANGES.len()),
        zone: proptest::option::weighted(0.4, 0..2usize),
    })
}

fn port() -> impl Strategy<Value = PortG> {
    record!(PortG {
        container: prop_oneof![6 => 0..7usize, 1 => 7..CONTAINER_PORTS.len()],
        udp: proptest::bool::weighted(0.15),
        level: 0..4usize,
        range: 0..RANGES.len(),
        host: proptest::option::weighted(0.15, 0..HOST_PORTS.len()),
    })
}

fn route() -> impl Strategy<Value = RouteG> {
    record!(RouteG {
        target: 0..8usize,
        port: 0..3usize,
        range: proptest::option::weighted(0.4, 0..RANGES.len()),
    })
}

fn service() -> impl Strategy<Value = SvcG> {
    record!(SvcG {
        image: prop_oneof![6 => 0..3usize, 1 => 3..IMAGES.len()],
        networks: proptest::option::weighted(0.7, vec(0..NETWORKS.len(), 1..3)),
        host_network: proptest::bool::weighted(0.03),
        ports: vec(port(), 0..3),
        routes: vec(route(), 0..3),
        depends: proptest::option::weighted(0.3, 0..8usize),
        place: 0..5usize,
        place_arg: 0..4usize,
        waive_local: proptest::bool::weighted(0.8),
    })
}

pub fn program() -> impl Strategy<Value = Prog> {
    record!(Prog {
        provider: proptest::bool::weighted(0.85),
        nodes: vec(node(), 0..4),
        networks: 0..=NETWORKS.len(),
        services: vec(service(), 1..6),
    })
}

/// The widest level (0 local .. 3 public) the checker lets a port have,
/// so that most programs reach the backends: data stores stay inside,
/// admin tools and remote-admin or cluster host ports are at most
/// restricted (the generator still writes routes that may widen them).
fn ceiling(image: usize, container: u16, host: Option<u16>) -> usize {
    let on = host.unwrap_or(container);
    match (IMAGES[image], container, on) {
        (_, _, 2377) => 0,
        ("redis:7.4.1", _, _) | (_, 6379, _) => 1,
        ("grafana/grafana:11.2.0", _, _) | (_, 3000 | 9100, _) | (_, _, 22 | 3389 | 2376) => 2,
        _ => 3,
    }
}

/// The ports a service declares, one per (container port, protocol), as
/// (container, udp, the line that declares it).
fn ports_of(i: usize, s: &SvcG) -> Vec<(u16, bool, String)> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for p in &s.ports {
        // Ordinary ports differ between services (most programs must not
        // be refused for a conflict); the well-known ones are shared.
        let c = match CONTAINER_PORTS[p.container] {
            c if p.container < 6 => c + 10 * i as u16,
            c => c,
        };
        if !seen.insert((c, p.udp)) {
            continue;
        }
        let proto = if p.udp { "/udp" } else { "" };
        let host_port = p.host.map(|h| HOST_PORTS[h]);
        let level = p.level.min(ceiling(s.image, c, host_port));
        let host_port = host_port.filter(|h| *h != c);
        let level = match level {
            0 => "local".to_string(),
            1 => "internal".to_string(),
            2 => format!("restricted({})", RANGES[p.range]),
            _ => "public".to_string(),
        };
        let host = host_port
            .filter(|_| !level.starts_with("internal"))
            .map(|h| format!(" as {h}"))
            .unwrap_or_default();
        out.push((c, p.udp, format!("  port {c}{proto} {level}{host}\n")));
    }
    out
}

pub fn text(p: &Prog) -> String {
    let mut out = String::new();
    if p.provider {
        out += "provider aws { region = \"eu-west-1\" }\n";
    }
    for (i, n) in p.nodes.iter().enumerate() {
        let role = if n.worker { "worker" } else { "manager" };
        let ssh = match n.ssh {
            0 => "none".to_string(),
            k => format!("restricted({})", RANGES[k - 1]),
        };
        out += &format!("node n{i} {{\n  role = {role}\n  ssh = {ssh}\n");
        if let Some(r) = n.tls {
            out += &format!("  engine = tls(restricted({}))\n", RANGES[r]);
        }
        if let Some(z) = n.zone {
            out += &format!("  labels = {{ zone = \"z{z}\" }}\n");
        }
        out += "}\n";
    }
    for name in &NETWORKS[..p.networks] {
        out += &format!("network {name} {{}}\n");
    }
    let count = p.services.len();
    let ports: Vec<Vec<(u16, bool, String)>> = p
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| ports_of(i, s))
        .collect();
    // The networks each service is on (`default` when it names none), so
    // routes and dependencies are written only where they can connect.
    let nets: Vec<Vec<&str>> = p
        .services
        .iter()
        .map(|s| match s.networks.as_ref().filter(|_| p.networks > 0) {
            Some(k) => {
                let mut names: Vec<&str> = k.iter().map(|k| NETWORKS[k % p.networks]).collect();
                names.sort_unstable();
                names.dedup();
                names
            }
            None => vec!["default"],
        })
        .collect();
    let meet = |a: usize, b: usize| {
        p.services[a].host_network
            || p.services[b].host_network
            || nets[a].iter().any(|n| nets[b].contains(n))
    };
    for (i, s) in p.services.iter().enumerate() {
        // A service with routes is a proxy infrac configures, or compose
        // and swarm refuse the route (E5015); caddy only without a plain
        // port 443, which it refuses to serve (E5015 too).
        let plain_443 = ports[i].iter().any(|(c, udp, _)| *c == 443 && !udp);
        let image = match PROXIES[s.image % PROXIES.len()] {
            _ if s.routes.is_empty() => IMAGES[s.image],
            p if p.starts_with("caddy") && plain_443 => PROXIES[0],
            p => p,
        };
        out += &format!("service s{i} {{\n  image = \"{image}\"\n");
        if s.networks.is_some() && p.networks > 0 {
            out += &format!("  networks = [{}]\n", nets[i].join(", "));
        }
        if s.host_network {
            out += "  host_network = true\n  allow privileged \"the oracle's host networking\"\n";
        }
        match s.place {
            1 if !p.nodes.is_empty() => {
                out += &format!("  on = n{}\n", s.place_arg % p.nodes.len());
            }
            2 => out += "  placement = { role = manager }\n",
            3 => out += "  placement = { role = worker }\n",
            4 => {
                out += &format!(
                    "  placement = {{ labels = {{ zone = \"z{}\" }} }}\n",
                    s.place_arg % 2
                )
            }
            _ => {}
        }
        if let Some(d) = s
            .depends
            .map(|d| d % count)
            .filter(|d| *d != i && meet(i, *d))
        {
            out += &format!("  depends = [s{d}]\n");
        }
        for (_, _, line) in &ports[i] {
            out += line;
        }
        for (k, r) in s.routes.iter().enumerate() {
            let t = r.target % count;
            let Some((c, udp, _)) = ports[t].get(r.port % ports[t].len().max(1)) else {
                continue;
            };
            if t == i || *udp || !meet(i, t) {
                continue;
            }
            // Never a data store behind a route, and an admin tool only
            // behind an allowlist: the checker would refuse the program.
            let sensitive = ceiling(p.services[t].image, *c, None);
            if sensitive < 2 || (sensitive == 2 && r.range.is_none()) {
                continue;
            }
            let allow = r
                .range
                .map(|x| format!(" restricted({})", RANGES[x]))
                .unwrap_or_default();
            out += &format!("  route \"r{i}-{k}.example.com\" -> s{t}:{c}{allow}\n");
        }
        if s.waive_local {
            out += "  allow local-reaches-peers \"the oracle's peers may\"\n";
        }
        out += "}\n";
    }
    out
}
