//! Who the services of an imported stack connect to, and what the program
//! must say so the targets that deny by default (Kubernetes) still let
//! them: in compose every container reaches every port of every other on
//! a shared network, in the program a service reaches the declared ports
//! of the services it `depends` on.
//!
//! The evidence is what the file itself names: `depends_on` and `links`,
//! and every host name in a service's environment, command, entrypoint
//! and health check that is another service (`WORDPRESS_DB_HOST=db`,
//! `postgres://db:5432/x`, `redis-cli -h redis`). A named service becomes
//! a dependency (`W6003`), and a service depended on that declares no
//! port gets the port its dependents name, or the ports the catalogue
//! gives its image, as `internal` (`W6004`): each inference at the YAML
//! line that caused it, so it can be seen and undone.
//!
//! Linear in the stack: the host names are an index (service names,
//! container names, host names and network aliases), every value is read
//! once, and dependency cycles are found once, over the whole graph.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

mod hosts;

use super::{attr, list, name, Importer};
use crate::ast::{Decl, Stmt, Value, ValueKind};
use crate::diagnostics::{Code, Diagnostic};
use crate::span::Span;
use hosts::{address_key, command_mentions, hosts_in, lookup};

/// A text of a service that may name a host: an environment value, a
/// command or health-check argument.
#[derive(Debug, Clone)]
pub(super) struct Mention {
    /// The program name of the service.
    pub service: String,
    /// The environment variable, or `command`, `entrypoint`, `health`.
    pub key: String,
    pub text: String,
    pub span: Span,
    /// The variable's name says it holds an address (`*_HOST`, `*_URL`):
    /// a bare name then counts, not only `host:port` and URLs.
    pub address_key: bool,
}

/// A connection the source file makes, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The program names of the client and the server.
    pub from: String,
    pub to: String,
    /// The ports the client reaches: the one it names, else the server's
    /// declared ports (empty: none known).
    pub ports: Vec<u16>,
    /// Where the file says so.
    pub span: Span,
    /// How: `depends_on`, or the setting that names the server.
    pub evidence: String,
}

/// An edge found in a text: the server, the port named (if any).
struct Named {
    to: String,
    port: Option<u16>,
    span: Span,
    what: String,
}

impl Importer {
    /// Records a text that may name other services (read after every
    /// service is built, when all names are known).
    pub(super) fn mention(&mut self, service: &str, key: &str, text: &str, span: Span) {
        if text.len() < 2 {
            return;
        }
        self.mentions.push(Mention {
            service: service.to_string(),
            key: key.to_string(),
            text: text.to_string(),
            span,
            address_key: address_key(key),
        });
    }

    /// Adds the dependencies and ports the file's texts imply, reports
    /// each, and returns every connection of the source.
    pub(super) fn infer_connections(&mut self, services: &mut [Decl]) -> Vec<Connection> {
        let index: HashMap<String, usize> = services
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.node.clone(), i))
            .collect();
        // Every host name a service answers to, lower-cased.
        let mut hosts: HashMap<String, usize> = HashMap::new();
        if let Some(names) = self.names.get(&crate::ast::DeclKind::Service) {
            for (raw, program) in names {
                if let Some(&i) = index.get(program) {
                    hosts.insert(raw.to_ascii_lowercase(), i);
                }
            }
        }
        for (alias, program) in &self.host_aliases {
            if let Some(&i) = index.get(program) {
                hosts.entry(alias.to_ascii_lowercase()).or_insert(i);
            }
        }
        let networks: Vec<Option<HashSet<String>>> = services.iter().map(networks_of).collect();
        let shares = |a: usize, b: usize| match (&networks[a], &networks[b]) {
            (Some(x), Some(y)) => x.iter().any(|n| y.contains(n)),
            _ => false,
        };
        let mut depends: Vec<Vec<usize>> = services
            .iter()
            .map(|d| {
                dependencies(d)
                    .into_iter()
                    .filter_map(|n| index.get(&n).copied())
                    .collect()
            })
            .collect();
        let mut connections: Vec<(usize, usize, Option<u16>, Span, String)> = Vec::new();
        for (i, d) in services.iter().enumerate() {
            if let Some((items, _)) = attr_list(d, "depends") {
                for item in items {
                    if let ValueKind::Name(n) = &item.kind {
                        if let Some(&j) = index.get(n) {
                            connections.push((i, j, None, item.span, "`depends_on`".into()));
                        }
                    }
                }
            }
        }
        // The texts: the environment as recorded, then the commands and
        // health checks as built.
        let mut mentions = std::mem::take(&mut self.mentions);
        for d in services.iter() {
            for key in ["command", "entrypoint"] {
                if let Some((items, _)) = attr_list(d, key) {
                    command_mentions(&mut mentions, &d.name.node, key, items);
                }
            }
            if let Some(Value {
                kind: ValueKind::Map(entries),
                ..
            }) = attr_value(d, "health")
            {
                for e in entries.iter().filter(|e| e.key.node == "cmd") {
                    if let ValueKind::List(items) = &e.value.kind {
                        command_mentions(&mut mentions, &d.name.node, "health", items);
                    }
                }
            }
        }
        // Inferred edges, in the order of the file, one per (client, server).
        let mut inferred: Vec<(usize, Named)> = Vec::new();
        let mut seen: HashSet<(usize, usize)> = HashSet::new();
        let mut named_ports: HashMap<usize, Vec<(u16, Span, String)>> = HashMap::new();
        for m in &mentions {
            let Some(&from) = index.get(&m.service) else {
                continue;
            };
            for (host, port) in hosts_in(&m.text, m.address_key) {
                let Some(to) = lookup(&hosts, host) else {
                    continue;
                };
                if to == from || networks[from].is_none() || !shares(from, to) {
                    continue;
                }
                let what = format!("`{}` of `{}`", m.key, m.service);
                if let Some(p) = port {
                    named_ports
                        .entry(to)
                        .or_default()
                        .push((p, m.span, what.clone()));
                }
                connections.push((from, to, port, m.span, what.clone()));
                if depends[from].contains(&to) || !seen.insert((from, to)) {
                    continue;
                }
                inferred.push((
                    from,
                    Named {
                        to: services[to].name.node.clone(),
                        port,
                        span: m.span,
                        what,
                    },
                ));
                depends[from].push(to);
            }
        }
        // An inferred edge inside a cycle would make the program say that
        // services wait for each other: it is reported, not added.
        let cyclic = cyclic_components(&depends);
        for (from, named) in inferred {
            let to = index[&named.to];
            let client = services[from].name.node.clone();
            if cyclic[from].is_some() && cyclic[from] == cyclic[to] {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::ImportInferred,
                        named.span,
                        format!(
                            "{} names `{}`, but `{client}` is not made to depend on it: the services would wait for each other",
                            named.what, named.to
                        ),
                        )
                    .label(format!("`{client}` connects to `{}`", named.to))
                    .help("targets that deny by default (Kubernetes) block this connection; break the cycle by hand and add the dependency"),
                );
                continue;
            }
            add_dependency(&mut services[from], &named.to, named.span);
            let port = named
                .port
                .map(|p| format!(" (port {p})"))
                .unwrap_or_default();
            self.diagnostics.push(
                Diagnostic::new(
                    Code::ImportInferred,
                    named.span,
                    format!(
                        "`{client}` connects to `{}`{port}: {} names it, so the program says `depends = [{}]`",
                        named.to, named.what, named.to
                    ),
                )
                .label(format!("names the service `{}`", named.to))
                .help(format!(
                    "in compose every service reached `{}` on its networks; in the program only dependencies do. If `{client}` does not connect to it, remove `{}` from its `depends`",
                    named.to, named.to
                )),
            );
        }
        self.infer_ports(services, &depends, &named_ports);
        connections
            .into_iter()
            .map(|(from, to, port, span, evidence)| Connection {
                from: services[from].name.node.clone(),
                to: services[to].name.node.clone(),
                ports: port.map_or_else(|| declared_ports(&services[to]), |p| vec![p]),
                span,
                evidence,
            })
            .collect()
    }

    /// A service that declares no port gets the ports its dependents name,
    /// else the ports the catalogue gives its image, as `internal`: in
    /// compose each was open on its networks. A service of a known image
    /// that nobody is seen to use gets them too (a `data` store's users
    /// are often in code the file does not show).
    fn infer_ports(
        &mut self,
        services: &mut [Decl],
        depends: &[Vec<usize>],
        named: &HashMap<usize, Vec<(u16, Span, String)>>,
    ) {
        let mut depended = vec![false; services.len()];
        for deps in depends {
            for &d in deps {
                depended[d] = true;
            }
        }
        for (i, d) in services.iter_mut().enumerate() {
            if d.body.iter().any(|s| matches!(s, Stmt::Port(_))) || host_network(d) {
                continue;
            }
            let service = d.name.node.clone();
            let mut added: Vec<u16> = Vec::new();
            for (port, span, what) in named.get(&i).into_iter().flatten() {
                if added.contains(port) {
                    continue;
                }
                added.push(*port);
                d.body.push(internal_port(*port, *span));
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::ImportInferredPort,
                        *span,
                        format!("`{service}` declares no port; {what} names port {port}, so it is `port {port} internal`"),
                    )
                    .label(format!("names port {port} of `{service}`"))
                    .help("in compose every port of a container was open on its networks; in the program only declared ports are. Remove the port if nothing connects to it"),
                );
            }
            if !added.is_empty() {
                continue;
            }
            let image = attr_value(d, "image").and_then(|v| match &v.kind {
                ValueKind::Str(s) => Some((s.clone(), v.span)),
                _ => None,
            });
            let Some((image, span)) = image else { continue };
            let Some(ports) = catalogue_ports(&image) else {
                continue;
            };
            let why = if depended[i] {
                "the services that depend on it name none"
            } else {
                "no service of the file is seen to use it, but in compose any could"
            };
            for &port in ports {
                d.body.push(internal_port(port, span));
            }
            let list: Vec<String> = ports
                .iter()
                .map(|p| format!("`port {p} internal`"))
                .collect();
            self.diagnostics.push(
                Diagnostic::new(
                    Code::ImportInferredPort,
                    span,
                    format!(
                        "`{service}` declares no port and {why}: its image listens on {}, declared {}",
                        ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", "),
                        list.join(", ")
                    ),
                )
                .label("the catalogue's ports for this image")
                .help("in compose every port of a container was open on its networks; in the program only declared ports are. Remove a port nothing connects to"),
            );
        }
        self.portless_dependencies(services, &depended, named);
    }

    /// A service depended on that still declares no port: reported.
    fn portless_dependencies(
        &mut self,
        services: &[Decl],
        depended: &[bool],
        named: &HashMap<usize, Vec<(u16, Span, String)>>,
    ) {
        for (i, d) in services.iter().enumerate() {
            let has_ports = d.body.iter().any(|s| matches!(s, Stmt::Port(_)));
            if has_ports || !depended[i] || named.contains_key(&i) {
                continue;
            }
            self.lose(
                d.name.span,
                format!("`{}` declares no port, so the services that depend on it reach none", d.name.node),
                "every port was open on its networks in compose; in the program only declared ports are",
                "declare the ports its dependents use, as `port N internal`",
            );
        }
    }
}

/// For each service, the index of its cycle among the dependencies (a
/// strongly connected component of more than one service), if it is in one.
fn cyclic_components(graph: &[Vec<usize>]) -> Vec<Option<usize>> {
    // Tarjan's algorithm, iterative: a deep chain must not overflow the stack.
    let n = graph.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut component = vec![None; n];
    let mut next = 0;
    let mut components = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(&(v, edge)) = work.last() {
            if edge == 0 && index[v] == usize::MAX {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = graph[v].get(edge) {
                if let Some(top) = work.last_mut() {
                    top.1 += 1;
                }
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut members = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    members.push(w);
                    if w == v {
                        break;
                    }
                }
                if members.len() > 1 {
                    for w in members {
                        component[w] = Some(components);
                    }
                    components += 1;
                }
            }
        }
    }
    component
}

/// The ports the stdlib catalogue gives an image, if it knows it.
pub(super) fn catalogue_ports(image: &str) -> Option<&'static [u16]> {
    static PORTS: OnceLock<HashMap<String, Vec<u16>>> = OnceLock::new();
    let table = PORTS.get_or_init(|| {
        let mut table = HashMap::new();
        let Some(text) = crate::stdlib::module(crate::stdlib::CATALOGUE) else {
            return table;
        };
        let (file, _) = crate::syntax::parse(crate::span::FileId(0), text);
        for item in &file.items {
            let crate::ast::Item::Decl(d) = item else {
                continue;
            };
            let Some(Value {
                kind: ValueKind::Map(images),
                ..
            }) = attr_value(d, "images")
            else {
                continue;
            };
            for image in images {
                let ValueKind::Map(fields) = &image.value.kind else {
                    continue;
                };
                let ports: Vec<u16> = fields
                    .iter()
                    .filter(|f| f.key.node == "ports")
                    .flat_map(|f| match &f.value.kind {
                        ValueKind::List(items) => items.clone(),
                        _ => Vec::new(),
                    })
                    .filter_map(|v| match v.kind {
                        ValueKind::Int(n) => u16::try_from(n).ok(),
                        _ => None,
                    })
                    .collect();
                if !ports.is_empty() {
                    table.insert(crate::check::repository_path(&image.key.node), ports);
                }
            }
        }
        table
    });
    let path = crate::check::repository_path(image);
    if let Some(p) = table.get(&path) {
        return Some(p);
    }
    // A mirror's prefix (`harbor.corp/hub/bitnami/redis`), then the last
    // component for entries without `/` (`bitnami/redis` is `redis`).
    for (i, _) in path.match_indices('/') {
        if let Some(p) = table.get(&path[i + 1..]) {
            return Some(p);
        }
    }
    None
}

// ---- reading and writing a service block -----------------------------------

fn attr_value<'d>(d: &'d Decl, key: &str) -> Option<&'d Value> {
    d.body.iter().find_map(|s| match s {
        Stmt::Attribute(a) if a.key.node == key => Some(&a.value),
        _ => None,
    })
}

fn attr_list<'d>(d: &'d Decl, key: &str) -> Option<(&'d [Value], Span)> {
    match attr_value(d, key) {
        Some(Value {
            kind: ValueKind::List(items),
            span,
        }) => Some((items, *span)),
        _ => None,
    }
}

fn dependencies(d: &Decl) -> Vec<String> {
    attr_list(d, "depends")
        .map(|(items, _)| {
            items
                .iter()
                .filter_map(|i| match &i.kind {
                    ValueKind::Name(n) => Some(n.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn host_network(d: &Decl) -> bool {
    matches!(
        attr_value(d, "host_network"),
        Some(Value {
            kind: ValueKind::Bool(true),
            ..
        })
    )
}

/// The networks a service is on (`default` when it names none); `None`
/// on the host's network, where service names do not resolve.
fn networks_of(d: &Decl) -> Option<HashSet<String>> {
    if host_network(d) {
        return None;
    }
    Some(match attr_list(d, "networks") {
        Some((items, _)) => items
            .iter()
            .filter_map(|i| match &i.kind {
                ValueKind::Name(n) => Some(n.clone()),
                _ => None,
            })
            .collect(),
        // The checker's name for the network of services that name none.
        None => ["default".to_string()].into(),
    })
}

fn declared_ports(d: &Decl) -> Vec<u16> {
    d.body
        .iter()
        .filter_map(|s| match s {
            Stmt::Port(p) => u16::try_from(p.container.node).ok(),
            _ => None,
        })
        .collect()
}

fn internal_port(port: u16, span: Span) -> Stmt {
    super::ports::PortOut {
        container: port,
        protocol: crate::ast::Protocol::Tcp,
        level: super::ports::Level::Internal,
        host: None,
        span,
    }
    .stmt()
}

/// Adds `to` to the service's `depends`, making the attribute in its place
/// in the block's order when there is none.
fn add_dependency(d: &mut Decl, to: &str, span: Span) {
    for stmt in &mut d.body {
        if let Stmt::Attribute(a) = stmt {
            if a.key.node == "depends" {
                if let ValueKind::List(items) = &mut a.value.kind {
                    items.push(name(to, span));
                    return;
                }
            }
        }
    }
    let order = |key: &str| super::SERVICE_ORDER.iter().position(|k| *k == key);
    let at = order("depends");
    let position = d
        .body
        .iter()
        .position(|s| match s {
            Stmt::Attribute(a) => order(&a.key.node) > at,
            _ => true,
        })
        .unwrap_or(d.body.len());
    d.body.insert(
        position,
        attr("depends", span, list(vec![name(to, span)], span)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_are_components() {
        let c = cyclic_components(&[vec![1], vec![0], vec![0], vec![3]]);
        assert!(c[0].is_some() && c[0] == c[1]);
        assert_eq!(c[2], None);
        assert_eq!(c[3], None);
    }

    #[test]
    fn catalogue_ports_of_known_images() {
        assert_eq!(catalogue_ports("postgres:16"), Some(&[5432][..]));
        assert_eq!(
            catalogue_ports("docker.io/library/redis:7"),
            Some(&[6379][..])
        );
        assert_eq!(catalogue_ports("bitnami/redis"), Some(&[6379][..]));
        assert_eq!(catalogue_ports("example/unknown:1"), None);
    }
}
