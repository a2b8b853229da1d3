//! Elaboration of services: the template chain is merged (the service block
//! completes and overrides its template: attributes by key, ports by
//! container port and protocol, routes and waivers added), references are
//! resolved, values typed, and the class settled — declared, else inferred
//! from the image through the catalogue, else `app`.

mod maps;
mod ports;
mod templates;

pub use maps::{is_duration, memory_bytes};
pub(super) use ports::route_matchers;
use templates::Merged;

use super::Ctx;
use crate::ast::{self, Decl, DeclKind, Stmt, Value, ValueKind};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::*;
use crate::schema;
use crate::span::Span;

/// The keys of a service, from the one attribute table.
pub(super) const SERVICE_ATTRS: &[&str] = &schema::SERVICE_KEYS;

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
                // As a declared overlay: encrypted when it spans several nodes.
                encrypted: model.nodes.len() > 1,
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
        // A `Service` is large: doubling to the next power of two wasted
        // up to half of the model's biggest vector, and held both halves
        // while it moved.
        model.services.reserve_exact(merged.len());
        for m in &merged {
            let service = self.service(m, model);
            model.services.push(service);
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
        let mut secrets = a("secrets")
            .map(|v| self.references(v, DeclKind::Secret, "`secrets`", SecretId))
            .unwrap_or_default();
        let tls = m
            .attrs
            .get("tls")
            .and_then(|attr| self.tls(&attr.value, attr.span));
        // The proxy reads its certificate and key as files, like any
        // secret: they are mounted whether or not `secrets` lists them.
        if let Some(t) = &tls {
            for id in [t.cert, t.key] {
                if !secrets.contains(&id) {
                    secrets.push(id);
                }
            }
        }
        let mut env = a("env").map(|v| self.env(v)).unwrap_or_default();
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
        let user = a("user").and_then(|v| self.user(v));
        let data = a("data").and_then(|v| self.data_dir(v));
        let working_dir = text(self, "working_dir");
        let restart = text(self, "restart");
        let stop_grace_period =
            a("stop_grace_period").and_then(|v| self.duration(v, "`stop_grace_period`"));
        let command = a("command").and_then(|v| self.command(v, "`command`"));
        let entrypoint = a("entrypoint").and_then(|v| self.command(v, "`entrypoint`"));
        // The image learns where its data lives from one variable (PGDATA):
        // set here, once, for every target, unless the program sets it.
        if let Some(d) = &data {
            if let Some(var) = d.env.as_ref().filter(|v| !env.iter().any(|e| &e.key == *v)) {
                env.push(EnvVar {
                    key: var.clone(),
                    value: EnvValue::Literal(d.path()),
                    key_span: d.span,
                    value_span: d.span,
                    literal_span: d.span,
                });
            }
        }
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
            data,
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
            tls,
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
}
