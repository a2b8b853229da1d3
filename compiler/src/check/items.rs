//! Elaboration of the items other than services: provider, nodes, networks,
//! volumes and secrets, and the driver that assigns every item its id.
//! Ids follow name order, so the model (and every output) is deterministic.

use super::Ctx;
use crate::ast::{Decl, DeclKind, Stmt, ValueKind};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::*;
use crate::schema;

/// The keys of each item, from the one attribute table.
const NODE_ATTRS: &[&str] = &schema::NODE_KEYS;
const NETWORK_ATTRS: &[&str] = &schema::NETWORK_KEYS;
const VOLUME_ATTRS: &[&str] = &schema::VOLUME_KEYS;
const SECRET_ATTRS: &[&str] = &schema::SECRET_KEYS;
const PROVIDER_ATTRS: &[&str] = &schema::PROVIDER_KEYS;

/// The name of the network of services that name none.
pub const DEFAULT_NETWORK: &str = "default";

impl<'a> Ctx<'a> {
    fn sorted(&self, kind: DeclKind) -> Vec<&'a Decl> {
        let mut decls: Vec<&'a Decl> = self.tables.decls(kind).collect();
        decls.sort_by(|a, b| a.name.node.cmp(&b.name.node));
        decls
    }

    /// Index of a declaration among its kind, in name order: the order of
    /// the model's lists. The implicit `default` network is in the model's
    /// list of networks without being declared, so it is numbered here too
    /// (numbering only the declared names sent every network that sorts
    /// after "default" to its neighbour).
    pub(super) fn id_of(&mut self, kind: DeclKind, name: &str) -> Option<u32> {
        if !self.ids.contains_key(&kind) {
            let mut names: Vec<&'a str> = self.tables.names(kind).collect();
            if kind == DeclKind::Network && self.implicit_default_network {
                names.push(DEFAULT_NETWORK);
            }
            names.sort_unstable();
            let ids = names
                .into_iter()
                .enumerate()
                .map(|(i, n)| (n, i as u32))
                .collect();
            self.ids.insert(kind, ids);
        }
        self.ids[&kind].get(name).copied()
    }

    fn check_statements(&mut self, decl: &'a Decl) {
        for stmt in &decl.body {
            self.not_here(stmt, decl.kind);
            if let Stmt::Allow(allow) = stmt {
                self.waivers.push(super::waivers::Allow {
                    decl_span: decl.span,
                    allow,
                    owner: (decl.kind == DeclKind::Node)
                        .then_some(super::waivers::Owner::Node(decl.name.node.as_str())),
                });
            }
        }
    }

    pub(super) fn elaborate(&mut self) -> Model {
        let mut model = Model::default();
        let providers = self.sorted(DeclKind::Provider);
        for decl in &providers {
            model.provider = self.provider(decl);
        }
        for decl in self.sorted(DeclKind::Node) {
            model.nodes.push(self.node(decl));
        }
        let several_nodes = model.nodes.len() > 1;
        for decl in self.sorted(DeclKind::Network) {
            model.networks.push(self.network(decl, several_nodes));
        }
        for decl in self.sorted(DeclKind::Volume) {
            model.volumes.push(self.volume(decl));
        }
        for decl in self.sorted(DeclKind::Secret) {
            if let Some(secret) = self.secret(decl) {
                model.secrets.push(secret);
            }
        }
        self.services(&mut model);
        model
    }

    fn provider(&mut self, decl: &'a Decl) -> Option<Provider> {
        self.check_statements(decl);
        if decl.name.node != "aws" {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    decl.name.span,
                    format!("there is no provider `{}`", decl.name.node),
                )
                .label("unknown provider")
                .help("the providers are: aws"),
            );
            return None;
        }
        let attrs = self.attributes(decl, PROVIDER_ATTRS);
        let region = attrs
            .get("region")
            .and_then(|a| self.string(&a.value, "`region`"));
        let vpc_id = attrs
            .get("vpc_id")
            .and_then(|a| self.string(&a.value, "`vpc_id`"));
        Some(Provider {
            name: decl.name.node.clone(),
            region,
            vpc_id,
            span: decl.span,
        })
    }

    fn node(&mut self, decl: &'a Decl) -> Node {
        self.check_statements(decl);
        let attrs = self.attributes(decl, NODE_ATTRS);
        let role = match attrs.get("role") {
            Some(a) => match self.word(&a.value, "`role`", &["manager", "worker"]) {
                Some("manager") => Role::Manager,
                _ => Role::Worker,
            },
            None => Role::Worker,
        };
        let ssh = match attrs.get("ssh") {
            None => Ssh::None,
            Some(a) => self.ssh(&a.value),
        };
        let (engine, engine_from) = match attrs.get("engine") {
            None => (Engine::Local, None),
            Some(a) => self.engine(&a.value),
        };
        let labels = attrs
            .get("labels")
            .and_then(|a| self.string_map(&a.value, "`labels`"))
            .unwrap_or_default();
        let span_of = |key: &str| attrs.get(key).map_or(decl.name.span, |a| a.value.span);
        Node {
            name: decl.name.node.clone(),
            role,
            ssh,
            engine,
            labels,
            engine_from,
            accepted: Vec::new(),
            span: decl.span,
            ssh_span: span_of("ssh"),
            engine_span: span_of("engine"),
        }
    }

    /// `engine = local | ssh | tls | tcp`, or `tls(restricted(LIST))` for a
    /// TLS engine API that operators reach from those ranges too.
    fn engine(&mut self, value: &crate::ast::Value) -> (Engine, Option<Ranges>) {
        let v = self.deref(value);
        if let ValueKind::Call { func, args } = &v.kind {
            if func.node == "tls" {
                let inner = args.first().map(|a| (a, self.deref(a)));
                if let (1, Some((arg, inner))) = (args.len(), inner) {
                    if let ValueKind::Call { func, args } = &inner.kind {
                        if func.node == "restricted" && args.len() == 1 {
                            let nets = self.cidrs(&args[0], "`restricted`").unwrap_or_default();
                            return (Engine::Tls, Some(nets));
                        }
                    }
                    self.engine_shape_error(arg, "the argument of `tls(...)`");
                    return (Engine::Tls, None);
                }
                self.engine_shape_error(value, "`engine`");
                return (Engine::Tls, None);
            }
        }
        let engine = match self.word(value, "`engine`", &["local", "ssh", "tls", "tcp"]) {
            Some("ssh") => Engine::Ssh,
            Some("tls") => Engine::Tls,
            Some("tcp") => Engine::Tcp,
            _ => Engine::Local,
        };
        (engine, None)
    }

    fn engine_shape_error(&mut self, value: &crate::ast::Value, what: &str) {
        self.diagnostics.push(
            Diagnostic::new(
                Code::InvalidValue,
                value.span,
                format!("expected `tls(restricted(LIST))` for {what}, found {}", value.kind.describe()),
            )
            .label("expected `restricted(LIST)` inside `tls(...)`")
            .help("write `engine = tls` (the cluster's nodes only) or `engine = tls(restricted([\"203.0.113.0/24\"]))` to admit those ranges too"),
        );
    }

    fn ssh(&mut self, value: &crate::ast::Value) -> Ssh {
        let v = self.deref(value);
        match &v.kind {
            ValueKind::Call { func, args } if func.node == "restricted" && args.len() == 1 => {
                Ssh::Restricted(self.cidrs(&args[0], "`restricted`").unwrap_or_default())
            }
            _ => match self.word(value, "`ssh`", &["none", "public"]) {
                Some("public") => Ssh::Public,
                _ => Ssh::None,
            },
        }
    }

    fn network(&mut self, decl: &'a Decl, several_nodes: bool) -> Network {
        self.check_statements(decl);
        let attrs = self.attributes(decl, NETWORK_ATTRS);
        let declared = |ctx: &mut Self, key: &str| {
            attrs
                .get(key)
                .and_then(|a| ctx.boolean(&a.value, &format!("`{key}`")))
        };
        let flag = |ctx: &mut Self, key: &str| declared(ctx, key).unwrap_or(false);
        let internal = flag(self, "internal");
        let external = flag(self, "external");
        let driver = attrs
            .get("driver")
            .and_then(|a| self.string(&a.value, "`driver`"));
        // An overlay between several nodes carries its traffic over the
        // hosts' network: encrypted unless the program says otherwise.
        let overlay = !external && driver.as_deref().map_or(true, |d| d == "overlay");
        let encrypted = declared(self, "encrypted").unwrap_or(several_nodes && overlay);
        Network {
            name: decl.name.node.clone(),
            internal,
            encrypted,
            external,
            driver,
            declared: true,
            span: decl.span,
        }
    }

    fn volume(&mut self, decl: &'a Decl) -> Volume {
        self.check_statements(decl);
        let attrs = self.attributes(decl, VOLUME_ATTRS);
        let external = attrs
            .get("external")
            .and_then(|a| self.boolean(&a.value, "`external`"))
            .unwrap_or(false);
        let driver = attrs
            .get("driver")
            .and_then(|a| self.string(&a.value, "`driver`"));
        let size = attrs
            .get("size")
            .and_then(|a| self.size(&a.value, "`size`"));
        let class = attrs
            .get("class")
            .and_then(|a| self.string(&a.value, "`class`"));
        Volume {
            name: decl.name.node.clone(),
            external,
            driver,
            size,
            class,
            span: decl.span,
        }
    }

    fn secret(&mut self, decl: &'a Decl) -> Option<Secret> {
        self.check_statements(decl);
        let attrs = self.attributes(decl, SECRET_ATTRS);
        let Some(from) = attrs.get("from") else {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::MissingAttribute,
                    decl.name.span,
                    format!("secret `{}` does not say where its value comes from", decl.name.node),
                )
                .label("no `from`")
                .help("add `from = env(\"VAR\")`, `from = file(\"/path/outside/the/repo\")` or `from = external(\"name\")`"),
            );
            return None;
        };
        let source = self.secret_source(&from.value)?;
        Some(Secret {
            name: decl.name.node.clone(),
            source,
            span: decl.span,
        })
    }

    fn secret_source(&mut self, value: &crate::ast::Value) -> Option<SecretSource> {
        const FORMS: &str = "`env(\"VAR\")`, `file(\"path\")` or `external(\"name\")`";
        if let ValueKind::Call { func, args } = &value.kind {
            if let [arg] = args.as_slice() {
                let make = match func.node.as_str() {
                    "env" => Some(SecretSource::Env as fn(String) -> SecretSource),
                    "file" => Some(SecretSource::File as fn(String) -> SecretSource),
                    "external" => Some(SecretSource::External as fn(String) -> SecretSource),
                    _ => None,
                };
                if let Some(make) = make {
                    return self.string(arg, &format!("`{}(...)`", func.node)).map(make);
                }
            }
        }
        if let ValueKind::Str(_) = &value.kind {
            // A literal here would be the secret itself, written into the repo.
            self.redactions.push(value.span);
            self.diagnostics.push(
                Diagnostic::new(
                    Code::PlaintextSecret,
                    value.span,
                    "a secret's value is written into the program",
                )
                .label("the value of a secret, in plain text")
                .help(format!("take it from outside the repository: {FORMS}; then rotate it, it is in your history")),
            );
            return None;
        }
        self.type_error(value, "`from`", FORMS);
        None
    }
}
