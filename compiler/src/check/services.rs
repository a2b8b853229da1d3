//! Elaboration of services: the template chain is merged (the service block
//! completes and overrides its template: attributes by key, ports by
//! container port and protocol, routes and waivers added), references are
//! resolved, values typed, and the class settled — declared, else inferred
//! from the image through the catalogue, else `app`.

use indexmap::IndexMap;

use super::Ctx;
use crate::ast::{self, Attribute, Decl, DeclKind, LevelExpr, Protocol, Stmt, Value, ValueKind};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::*;
use crate::span::Span;

pub(super) const SERVICE_ATTRS: &[&str] = &[
    "image",
    "class",
    "replicas",
    "mode",
    "on",
    "placement",
    "networks",
    "depends",
    "secrets",
    "env",
    "mounts",
    "tmpfs",
    "health",
    "resources",
    "cap_add",
    "cap_drop",
    "privileged",
    "host_network",
    "host_pid",
    "host_ipc",
    "read_only",
    "security_opt",
    "user",
    "command",
    "entrypoint",
    "labels",
    "working_dir",
    "restart",
    "stop_grace_period",
];

const HEALTH_KEYS: &[&str] = &[
    "cmd",
    "http",
    "tcp",
    "port",
    "interval",
    "timeout",
    "retries",
    "start_period",
];
const RESOURCE_KEYS: &[&str] = &["cpu", "memory", "cpu_request", "memory_request", "pids"];
const PLACEMENT_KEYS: &[&str] = &["role", "labels"];

/// A service with its template chain merged, still in AST terms.
struct Merged<'a> {
    decl: &'a Decl,
    template: Option<String>,
    attrs: IndexMap<&'a str, &'a Attribute>,
    ports: IndexMap<(u16, Protocol), &'a ast::PortDecl>,
    routes: Vec<&'a ast::RouteDecl>,
    /// A template of the chain could not be resolved (already reported):
    /// what it would have supplied is unknown, so "missing" is not said.
    unresolved_template: bool,
}

impl<'a> Ctx<'a> {
    pub(super) fn services(&mut self, model: &mut Model) {
        let mut decls: Vec<&'a Decl> = self.tables.decls(DeclKind::Service).collect();
        decls.sort_by(|a, b| a.name.node.cmp(&b.name.node));
        // Templates are checked even when unused, so the stdlib's own
        // mistakes and a program's unused templates both surface.
        let templates: Vec<&'a Decl> = self.tables.decls(DeclKind::Template).collect();
        for t in templates {
            self.attributes(t, SERVICE_ATTRS);
        }
        let needs_default = decls.iter().any(|d| {
            self.chain(d).iter().all(|c| {
                !c.body
                    .iter()
                    .any(|s| matches!(s, Stmt::Attribute(a) if a.key.node == "networks"))
            })
        });
        if needs_default
            && self
                .tables
                .get(DeclKind::Network, super::items::DEFAULT_NETWORK)
                .is_none()
        {
            model.networks.push(Network {
                name: super::items::DEFAULT_NETWORK.to_string(),
                internal: false,
                encrypted: false,
                external: false,
                driver: None,
                declared: false,
                span: Span::default(),
            });
            model.networks.sort_by(|a, b| a.name.cmp(&b.name));
            // Network ids must count it, or every network after it in
            // name order resolves to its neighbour.
            self.implicit_default_network = true;
            self.ids.remove(&DeclKind::Network);
        }
        let merged: Vec<Merged<'a>> = decls.iter().map(|d| self.merge(d)).collect();
        for m in &merged {
            let service = self.service(m, model);
            model.services.push(service);
        }
    }

    /// The service and its templates, outermost template first.
    fn chain(&self, decl: &'a Decl) -> Vec<&'a Decl> {
        let mut chain = vec![decl];
        let mut current = decl;
        while let Some(parent) = &current.extends {
            match self.tables.get(DeclKind::Template, &parent.node) {
                Some(t) if !chain.iter().any(|c| std::ptr::eq(*c, t)) => {
                    chain.push(t);
                    current = t;
                }
                _ => break,
            }
        }
        chain.reverse();
        chain
    }

    fn merge(&mut self, decl: &'a Decl) -> Merged<'a> {
        let mut chain = vec![decl];
        let mut current = decl;
        let mut unresolved_template = false;
        while let Some(parent) = &current.extends {
            let Some(t) = self.resolve(DeclKind::Template, parent, "`:`") else {
                unresolved_template = true;
                break;
            };
            if let Some(k) = chain.iter().position(|c| std::ptr::eq(*c, t)) {
                // chain[k..] is the cycle: each extends the next, and the
                // last (`current`) extends chain[k] again at `parent`.
                // Rotated to start at the template written first, so that
                // services entering the cycle at different templates report
                // one and the same finding.
                let mut members: Vec<&Decl> = chain[k..].to_vec();
                let first = (0..members.len())
                    .min_by_key(|i| members[*i].span)
                    .expect("a cycle has members");
                members.rotate_left(first);
                let closing = members
                    .last()
                    .and_then(|m| m.extends.as_ref())
                    .map_or(parent.span, |e| e.span);
                let message = if members.len() == 1 {
                    format!("template `{}` extends itself", t.name.node)
                } else {
                    let mut names: Vec<String> = members
                        .iter()
                        .map(|m| format!("`{}`", m.name.node))
                        .collect();
                    names.push(names[0].clone());
                    format!(
                        "templates extend each other in a cycle: {}",
                        names.join(" → ")
                    )
                };
                let mut d = Diagnostic::new(Code::TemplateCycle, closing, message)
                    .label("closes the cycle")
                    .help("a template may extend another, but the chain must end: remove one `: TEMPLATE`");
                for pair in members.windows(2) {
                    if let Some(e) = &pair[0].extends {
                        d = d.secondary(
                            e.span,
                            format!(
                                "`{}` extends `{}` here",
                                pair[0].name.node, pair[1].name.node
                            ),
                        );
                    }
                }
                self.diagnostics.push(d);
                break;
            }
            chain.push(t);
            current = t;
        }
        let template = decl.extends.as_ref().map(|e| e.node.clone());
        let mut attrs = IndexMap::new();
        let mut ports = IndexMap::new();
        let mut routes = Vec::new();
        for block in chain.iter().rev() {
            let block_attrs = if std::ptr::eq(*block, decl) {
                self.attributes(block, SERVICE_ATTRS)
            } else {
                // Templates were checked once already; read without reporting again.
                block
                    .body
                    .iter()
                    .filter_map(|s| match s {
                        Stmt::Attribute(a) if SERVICE_ATTRS.contains(&a.key.node.as_str()) => {
                            Some((a.key.node.as_str(), a))
                        }
                        _ => None,
                    })
                    .collect()
            };
            attrs.extend(block_attrs);
            let mut own_ports: IndexMap<(u16, Protocol), &'a ast::PortDecl> = IndexMap::new();
            for stmt in &block.body {
                match stmt {
                    Stmt::Port(p) => {
                        let proto = p.protocol.as_ref().map_or(Protocol::Tcp, |s| s.node);
                        let key = (p.container.node.min(65535) as u16, proto);
                        if let Some(first) = own_ports.get(&key) {
                            self.diagnostics.push(
                                Diagnostic::new(
                                    Code::DuplicateAttribute,
                                    p.span,
                                    format!("port {}/{} is declared twice", key.0, proto.as_str()),
                                )
                                .label("declared again here")
                                .secondary(first.span, "first declared here")
                                .help("keep one `port` line per container port and protocol"),
                            );
                            continue;
                        }
                        own_ports.insert(key, p);
                    }
                    Stmt::Route(r) => routes.push(r),
                    // A waiver covers the findings in the block it stands in:
                    // a template's own waivers cover what the template sets
                    // (node-exporter's read-only /proc), once per user.
                    Stmt::Allow(allow) => self.waivers.push(super::waivers::Allow {
                        decl_span: block.span,
                        allow,
                        owner: Some(super::waivers::Owner::Service(decl.name.node.as_str())),
                    }),
                    Stmt::Attribute(_) => {}
                }
            }
            ports.extend(own_ports);
        }
        Merged {
            decl,
            template,
            attrs,
            ports,
            routes,
            unresolved_template,
        }
    }

    fn service(&mut self, m: &Merged<'a>, model: &Model) -> Service {
        let decl = m.decl;
        let name = decl.name.node.clone();
        let a = |key: &str| m.attrs.get(key).map(|a| &a.value);
        let image = match a("image") {
            Some(v) => self.string(v, "`image`").unwrap_or_default(),
            None if m.unresolved_template => String::new(),
            None => {
                self.diagnostics.push(
                    Diagnostic::new(Code::MissingAttribute, decl.name.span, format!("service `{name}` has no image"))
                        .label("no `image`")
                        .help("add `image = \"REPOSITORY:TAG\"`, or extend a template: `service NAME: postgres { ... }`"),
                );
                String::new()
            }
        };
        let (class, class_origin) = self.class(m, &image);
        let replicas = a("replicas")
            .and_then(|v| self.integer(v, "`replicas`", 100_000))
            .unwrap_or(1) as u32;
        let mode = match a("mode").and_then(|v| self.word(v, "`mode`", &["replicated", "global"])) {
            Some("global") => Mode::Global,
            _ => Mode::Replicated,
        };
        let on = a("on")
            .and_then(|v| self.reference(v, DeclKind::Node, "`on`"))
            .map(NodeId);
        let placement = a("placement")
            .map(|v| self.placement(v))
            .unwrap_or_default();
        let networks = match a("networks") {
            Some(v) => self.references(v, DeclKind::Network, "`networks`", NetworkId),
            None => vec![NetworkId(
                model
                    .networks
                    .iter()
                    .position(|n| n.name == super::items::DEFAULT_NETWORK)
                    .expect("the default network exists when a service names none")
                    as u32,
            )],
        };
        debug_assert!(
            networks
                .iter()
                .all(|id| model.networks.get(id.index()).is_some()),
            "a network id outside the model's list"
        );
        let depends = match m.attrs.get("depends") {
            Some(attr) => self.dependency_list(&attr.value),
            None => Vec::new(),
        };
        let secrets = a("secrets")
            .map(|v| self.references(v, DeclKind::Secret, "`secrets`", SecretId))
            .unwrap_or_default();
        let env = a("env").map(|v| self.env(v)).unwrap_or_default();
        let mounts = a("mounts").map(|v| self.mounts(v)).unwrap_or_default();
        let strings = |ctx: &mut Self, key: &str| {
            a(key)
                .and_then(|v| ctx.strings(v, &format!("`{key}`")))
                .unwrap_or_default()
        };
        let tmpfs = strings(self, "tmpfs");
        let cap_add = strings(self, "cap_add");
        let cap_drop = strings(self, "cap_drop");
        let security_opt = strings(self, "security_opt");
        let flag =
            |ctx: &mut Self, key: &str| a(key).and_then(|v| ctx.boolean(v, &format!("`{key}`")));
        let privileged = flag(self, "privileged").unwrap_or(false);
        let host_network = flag(self, "host_network").unwrap_or(false);
        let host_pid = flag(self, "host_pid").unwrap_or(false);
        let host_ipc = flag(self, "host_ipc").unwrap_or(false);
        let read_only = flag(self, "read_only");
        let text =
            |ctx: &mut Self, key: &str| a(key).and_then(|v| ctx.string(v, &format!("`{key}`")));
        let user = text(self, "user");
        let working_dir = text(self, "working_dir");
        let restart = text(self, "restart");
        let stop_grace_period = text(self, "stop_grace_period");
        let command = a("command").and_then(|v| self.command(v, "`command`"));
        let entrypoint = a("entrypoint").and_then(|v| self.command(v, "`entrypoint`"));
        let labels = a("labels")
            .and_then(|v| self.string_map(v, "`labels`"))
            .unwrap_or_default();
        let resources = a("resources")
            .map(|v| self.resources(v))
            .unwrap_or_default();
        let ports: Vec<Port> = m.ports.values().filter_map(|p| self.port(p)).collect();
        let health = a("health").and_then(|v| self.health(v, &ports));
        let routes = m.routes.iter().filter_map(|r| self.route(r)).collect();
        let attr_spans = m
            .attrs
            .iter()
            .map(|(k, attr)| (k.to_string(), attr.span))
            .collect();
        Service {
            name,
            image,
            class,
            class_origin,
            template: m.template.clone(),
            replicas,
            mode,
            on,
            placement,
            networks,
            depends,
            secrets,
            env,
            mounts,
            tmpfs,
            health,
            resources,
            cap_add,
            cap_drop,
            privileged,
            host_network,
            host_pid,
            host_ipc,
            read_only,
            security_opt,
            user,
            command,
            entrypoint,
            labels,
            working_dir,
            restart,
            stop_grace_period,
            ports,
            routes,
            attr_spans,
            accepted: Vec::new(),
            span: decl.span,
            name_span: decl.name.span,
        }
    }

    fn class(&mut self, m: &Merged<'a>, image: &str) -> (Class, ClassOrigin) {
        if let Some(attr) = m.attrs.get("class") {
            if let Some(w) = self.word(&attr.value, "`class`", &["data", "admin", "app"]) {
                let class = Class::parse(w).expect("the word list is the class names");
                return (class, ClassOrigin::Declared(attr.span));
            }
        }
        if let Some((class, entry)) = self.catalogue.classify(image) {
            return (class, ClassOrigin::Image(entry.to_string()));
        }
        // An unknown image on a well-known data or admin port is judged as
        // that class (the strictest, when several): the port says more about
        // it than the image name does.
        m.ports
            .keys()
            .filter_map(|(port, _)| {
                self.catalogue
                    .port(*port)
                    .map(|(class, what)| (class, *port, what.to_string()))
            })
            .min_by_key(|(class, port, _)| (*class, *port))
            .map_or((Class::App, ClassOrigin::Default), |(class, port, what)| {
                (class, ClassOrigin::Port(port, what))
            })
    }

    /// A single reference by name: the id of the item in name order.
    fn reference(&mut self, value: &Value, kind: DeclKind, context: &str) -> Option<u32> {
        let ValueKind::Name(n) = &value.kind else {
            self.type_error(value, context, &format!("the name of a {}", kind.keyword()));
            return None;
        };
        let ident = ast::Ident::new(n.clone(), value.span);
        self.resolve(kind, &ident, context)?;
        self.id_of(kind, n)
    }

    fn references<T>(
        &mut self,
        value: &Value,
        kind: DeclKind,
        context: &str,
        make: fn(u32) -> T,
    ) -> Vec<T> {
        let Some(items) = self.list(value, context) else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|i| self.reference(i, kind, context).map(make))
            .collect()
    }

    fn dependency_list(&mut self, value: &Value) -> Vec<(ServiceId, Span)> {
        let Some(items) = self.list(value, "`depends`") else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|i| {
                self.reference(i, DeclKind::Service, "`depends`")
                    .map(|id| (ServiceId(id), i.span))
            })
            .collect()
    }

    fn placement(&mut self, value: &Value) -> Placement {
        let v = self.deref(value);
        let ValueKind::Map(entries) = &v.kind else {
            self.type_error(value, "`placement`", "a map `{ role = worker }`");
            return Placement::default();
        };
        let mut placement = Placement::default();
        for e in entries {
            match e.key.node.as_str() {
                "role" => {
                    placement.role = match self.word(&e.value, "`role`", &["manager", "worker"]) {
                        Some("manager") => Some(Role::Manager),
                        Some(_) => Some(Role::Worker),
                        None => None,
                    }
                }
                "labels" => {
                    placement.labels = self.string_map(&e.value, "`labels`").unwrap_or_default()
                }
                other => self.unknown_key(e, other, "placement", PLACEMENT_KEYS),
            }
        }
        placement
    }

    pub(super) fn unknown_key(&mut self, e: &ast::Entry, key: &str, what: &str, keys: &[&str]) {
        let mut d = Diagnostic::new(
            Code::UnknownAttribute,
            e.key.span,
            format!("`{what}` has no key `{key}`"),
        )
        .label("unknown key");
        d = match super::names::closest(key, keys.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(format!("`{what}` takes: {}", keys.join(", "))),
        };
        self.diagnostics.push(d);
    }

    fn env(&mut self, value: &Value) -> Vec<EnvVar> {
        let v = self.deref(value);
        let ValueKind::Map(entries) = &v.kind else {
            self.type_error(value, "`env`", "a map `{ KEY = \"value\" }`");
            return Vec::new();
        };
        let mut vars = Vec::new();
        for e in entries {
            let value = match &e.value.kind {
                ValueKind::Call { func, args } if func.node == "env" && args.len() == 1 => {
                    match self.string(&args[0], "`env(...)`") {
                        Some(var) => EnvValue::HostEnv(var),
                        None => continue,
                    }
                }
                _ => match self.scalar(&e.value, &format!("`{}`", e.key.node)) {
                    Some(s) => EnvValue::Literal(s),
                    None => continue,
                },
            };
            vars.push(EnvVar {
                key: e.key.node.clone(),
                value,
                key_span: e.key.span,
                value_span: e.value.span,
                literal_span: self.deref(&e.value).span,
            });
        }
        vars
    }

    fn mounts(&mut self, value: &Value) -> Vec<Mount> {
        let Some(items) = self.list(value, "`mounts`") else {
            return Vec::new();
        };
        let mut mounts = Vec::new();
        for item in items {
            let ValueKind::Mount {
                source,
                target,
                readonly,
            } = &item.kind
            else {
                self.type_error(
                    item,
                    "`mounts`",
                    "a mount `volume -> \"/path\"` or `\"/host\" -> \"/path\"`",
                );
                continue;
            };
            let source = match &source.kind {
                ValueKind::Str(path) => MountSource::HostPath(path.clone()),
                ValueKind::Name(_) => match self.reference(source, DeclKind::Volume, "a mount") {
                    Some(id) => MountSource::Volume(VolumeId(id)),
                    None => continue,
                },
                _ => {
                    self.type_error(
                        source,
                        "a mount's source",
                        "a volume name or a host path string",
                    );
                    continue;
                }
            };
            let Some(target) = self.string(target, "a mount's target") else {
                continue;
            };
            if !target.starts_with('/') {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        item.span,
                        format!("mount target `{target}` is not an absolute path"),
                    )
                    .label("must start with `/`"),
                );
                continue;
            }
            mounts.push(Mount {
                source,
                target,
                readonly: *readonly,
                span: item.span,
            });
        }
        mounts
    }

    fn resources(&mut self, value: &Value) -> Resources {
        let v = self.deref(value);
        let ValueKind::Map(entries) = &v.kind else {
            self.type_error(
                value,
                "`resources`",
                "a map `{ cpu = \"0.5\", memory = \"512Mi\" }`",
            );
            return Resources::default();
        };
        let mut r = Resources::default();
        for e in entries {
            let key = e.key.node.as_str();
            match key {
                "cpu" | "cpu_request" => {
                    let Some(s) = self.scalar(&e.value, &format!("`{key}`")) else {
                        continue;
                    };
                    if s.parse::<f64>().map_or(true, |c| c <= 0.0) {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::InvalidValue,
                                e.value.span,
                                format!("`{s}` is not a number of CPUs"),
                            )
                            .label("expected a positive number such as \"0.5\""),
                        );
                        continue;
                    }
                    if key == "cpu" {
                        r.cpu = Some(s)
                    } else {
                        r.cpu_request = Some(s)
                    }
                }
                "memory" | "memory_request" => {
                    let Some(s) = self.scalar(&e.value, &format!("`{key}`")) else {
                        continue;
                    };
                    if memory_bytes(&s).is_none() {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::InvalidValue,
                                e.value.span,
                                format!("`{s}` is not an amount of memory"),
                            )
                            .label("expected a size such as \"512Mi\" or \"1Gi\""),
                        );
                        continue;
                    }
                    if key == "memory" {
                        r.memory = Some(s)
                    } else {
                        r.memory_request = Some(s)
                    }
                }
                "pids" => r.pids = self.integer(&e.value, "`pids`", 4_194_304),
                other => self.unknown_key(e, other, "resources", RESOURCE_KEYS),
            }
        }
        r
    }

    fn health(&mut self, value: &Value, ports: &[Port]) -> Option<Health> {
        let v = self.deref(value);
        let ValueKind::Map(entries) = &v.kind else {
            self.type_error(
                value,
                "`health`",
                "a map `{ cmd = [...] }` or `{ http = \"/path\", port = N }`",
            );
            return None;
        };
        let mut probe = None;
        let mut port = None;
        let mut h = Health {
            probe: HealthProbe::Command(Vec::new()),
            interval: None,
            timeout: None,
            retries: None,
            start_period: None,
            span: value.span,
        };
        let mut http = None;
        for e in entries {
            let key = e.key.node.as_str();
            match key {
                "cmd" => probe = self.command(&e.value, "`cmd`").map(HealthProbe::Command),
                "http" => http = self.string(&e.value, "`http`"),
                "tcp" => {
                    probe = self
                        .port_number(&e.value, "`tcp`")
                        .map(|port| HealthProbe::Tcp { port })
                }
                "port" => port = self.port_number(&e.value, "`port`"),
                "interval" => h.interval = self.duration(&e.value, "`interval`"),
                "timeout" => h.timeout = self.duration(&e.value, "`timeout`"),
                "start_period" => h.start_period = self.duration(&e.value, "`start_period`"),
                "retries" => {
                    h.retries = self.integer(&e.value, "`retries`", 1000).map(|r| r as u32)
                }
                other => self.unknown_key(e, other, "health", HEALTH_KEYS),
            }
        }
        if let Some(path) = http {
            let port = port.or_else(|| {
                ports
                    .iter()
                    .find(|p| p.protocol == Protocol::Tcp)
                    .map(|p| p.container)
            });
            match port {
                Some(port) => probe = Some(HealthProbe::Http { path, port }),
                None => {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::MissingAttribute,
                            value.span,
                            "an http health check needs a port",
                        )
                        .label("no `port`, and the service declares no tcp port")
                        .help("add `port = N` to the health map"),
                    );
                    return None;
                }
            }
        }
        match probe {
            Some(p) => {
                h.probe = p;
                Some(h)
            }
            None => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::MissingAttribute,
                        value.span,
                        "a health check needs a probe",
                    )
                    .label("no `cmd`, `http` or `tcp`")
                    .help("add `cmd = [\"pg_isready\"]`, `http = \"/healthz\"` or `tcp = PORT`"),
                );
                None
            }
        }
    }

    fn duration(&mut self, value: &Value, what: &str) -> Option<String> {
        let s = self.string(value, what)?;
        if !is_duration(&s) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    value.span,
                    format!("`{s}` is not a duration"),
                )
                .label("expected a duration such as \"10s\", \"1m30s\" or \"500ms\""),
            );
            return None;
        }
        Some(s)
    }

    fn port(&mut self, p: &ast::PortDecl) -> Option<Port> {
        let container = self.port_in_range(p.container.node, p.container.span)?;
        let host = match &p.host {
            Some(h) => self.port_in_range(h.node, h.span)?,
            None => container,
        };
        let declared = self.level(&p.level.node)?;
        Some(Port {
            container,
            protocol: p.protocol.as_ref().map_or(Protocol::Tcp, |s| s.node),
            host,
            effective: declared.clone(),
            declared,
            span: p.span,
            level_span: p.level.span,
        })
    }

    fn port_in_range(&mut self, n: u64, span: Span) -> Option<u16> {
        if (1..=65535).contains(&n) {
            return Some(n as u16);
        }
        self.diagnostics.push(
            Diagnostic::new(
                Code::InvalidValue,
                span,
                format!("{n} is not a port number"),
            )
            .label("ports run from 1 to 65535"),
        );
        None
    }

    fn level(&mut self, level: &LevelExpr) -> Option<Exposure> {
        Some(match level {
            LevelExpr::Local => Exposure::Local,
            LevelExpr::Internal => Exposure::Internal,
            LevelExpr::Public => Exposure::Public,
            LevelExpr::Restricted(v) => Exposure::Restricted(self.cidrs(v, "`restricted`")?),
        })
    }

    fn route(&mut self, r: &ast::RouteDecl) -> Option<Route> {
        let target = self.resolve(DeclKind::Service, &r.target, "a route")?;
        let id = ServiceId(self.id_of(DeclKind::Service, &target.name.node)?);
        let port = self.port_in_range(r.port.node, r.port.span)?;
        let declared: Vec<u16> = self
            .chain(target)
            .iter()
            .flat_map(|d| d.body.iter())
            .filter_map(|s| match s {
                Stmt::Port(p) => Some(p.container.node.min(65535) as u16),
                _ => None,
            })
            .collect();
        if !declared.contains(&port) {
            let list: Vec<String> = declared.iter().map(u16::to_string).collect();
            let d = Diagnostic::new(
                Code::UnknownPort,
                r.port.span,
                format!("service `{}` declares no port {port}", r.target.node),
            )
            .label("no such port")
            .secondary(
                target.name.span,
                format!("`{}` is declared here", r.target.node),
            );
            let d = if list.is_empty() {
                d.help(format!(
                    "declare it in `{}`: `port {port} internal`",
                    r.target.node
                ))
            } else {
                d.help(format!("`{}` declares: {}", r.target.node, list.join(", ")))
            };
            self.diagnostics.push(d);
            return None;
        }
        let restriction = match &r.restriction {
            Some(v) => Some(self.cidrs(&v.node, "`restricted`")?),
            None => None,
        };
        Some(Route {
            matcher: r.matcher.node.clone(),
            target: id,
            port,
            restriction,
            span: r.span,
        })
    }
}

/// The number of bytes of a memory size (`512Mi`, `1G`, `1024`), if valid.
pub fn memory_bytes(s: &str) -> Option<u64> {
    let digits_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(digits_end);
    let number: f64 = number.parse().ok()?;
    let factor: u64 = match unit {
        "" | "b" | "B" => 1,
        "k" | "K" | "kb" | "KB" => 1000,
        "Ki" => 1 << 10,
        "m" | "M" | "mb" | "MB" => 1_000_000,
        "Mi" => 1 << 20,
        "g" | "G" | "gb" | "GB" => 1_000_000_000,
        "Gi" => 1 << 30,
        "T" | "TB" => 1_000_000_000_000,
        "Ti" => 1 << 40,
        _ => return None,
    };
    (number > 0.0).then_some((number * factor as f64) as u64)
}

/// `10s`, `1m30s`, `500ms`, `2h`: digits and a unit, repeated.
pub fn is_duration(s: &str) -> bool {
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ms", "us", "s", "m", "h"]
            .into_iter()
            .find(|u| rest.starts_with(u));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}
