//! One compose service to one `service` block: image, command, the
//! environment (literal credentials become secrets), dependencies, health
//! check, host access, labels and `deploy`. Ports are [`super::ports`],
//! the environment [`super::env`], mounts [`super::mounts`], `deploy`
//! [`super::deploy`], networks and secrets [`super::top`].

use indexmap::IndexMap;

use super::yaml::{Kind, Node};
use super::{attr, entry, expect_map, list, map, name, string, value, Importer};
use crate::ast::{Decl, DeclKind, Entry, Ident, Stmt, Value, ValueKind};
use crate::check::is_duration;
use crate::diagnostics::{Code, Diagnostic};
use crate::span::Span;

/// What a service block collects before it is written out in order.
#[derive(Default)]
pub(super) struct Svc {
    /// The program name of the service.
    pub name: String,
    pub attrs: IndexMap<&'static str, Stmt>,
    pub ports: Vec<super::ports::PortOut>,
    pub env: Vec<Entry>,
    pub env_span: Option<Span>,
    pub secrets: Vec<Value>,
    pub secrets_span: Option<Span>,
    pub depends: Vec<Value>,
    pub depends_span: Option<Span>,
    pub mounts: Vec<Value>,
    pub mounts_span: Option<Span>,
    pub tmpfs: Vec<Value>,
    pub tmpfs_span: Option<Span>,
    pub networks: Option<(Vec<Value>, Span)>,
    pub resources: Vec<Entry>,
    pub resources_span: Option<Span>,
    pub placement: Vec<Entry>,
    pub placement_span: Option<Span>,
    pub labels: Vec<Entry>,
    pub labels_span: Option<Span>,
    /// Literal credentials made secrets: (the variable, the literal, the secret).
    pub credentials: Vec<(String, String, String)>,
}

impl Svc {
    pub fn set(&mut self, key: &'static str, key_span: Span, v: Value) {
        self.attrs.insert(key, attr(key, key_span, v));
    }

    pub fn set_flag(&mut self, key: &'static str, key_span: Span, span: Span) {
        self.set(key, key_span, value(ValueKind::Bool(true), span));
    }
}

/// Keys that have no equivalent, with what to do instead.
fn advice(key: &str) -> &'static str {
    match key {
        "env_file" => "list the variables the service needs in `env`; credentials as `secret`s",
        "container_name" | "hostname" | "domainname" => {
            "infrac names containers after the project and service; reach a service by its name"
        }
        "logging" => "infrac writes rotated json-file logs; ship logs from the host",
        "extra_hosts" | "dns" | "dns_search" | "dns_opt" => {
            "name resolution is the platform's; put the names in DNS"
        }
        "profiles" => "every service is imported, whatever its profile",
        "extends" => "copy what the base service sets into this one, or make a `template`",
        "ulimits" | "sysctls" | "devices" | "shm_size" | "init" | "stop_signal" => {
            "set it in the image, or ask for the attribute in the language"
        }
        "configs" => "mount the file instead: `mounts = [\"./file\" -> \"/path\" readonly]`",
        "stdin_open" | "tty" => "interactive containers are not deployed",
        "platform" | "pull_policy" => "build and pin the image for the platform you deploy to",
        _ => "",
    }
}

impl Importer {
    pub(super) fn service(&mut self, key: &Node, body: &Node) -> Result<Decl, Diagnostic> {
        let raw = self.key(key)?;
        let program_name = self
            .name_of(DeclKind::Service, &raw)
            .expect("services are named before they are imported");
        let span = if body.is_null() {
            key.span
        } else {
            key.span.to(body.span)
        };
        let entries: &[(Node, Node)] = if body.is_null() {
            &[]
        } else {
            expect_map(body, &format!("service `{raw}`"))?
        };
        let mut s = Svc {
            name: program_name.clone(),
            ..Svc::default()
        };
        let has_image = body.get("image").is_some_and(|i| !i.is_null());
        for (k, v) in entries {
            let key = self.key(k)?;
            if key.starts_with("x-") {
                continue;
            }
            self.service_key(&mut s, &key, k, v, has_image)?;
        }
        self.health_credentials(&mut s);
        if !has_image && body.get("build").is_none() {
            self.lose(
                key.span,
                format!("service `{raw}` has neither an image nor a build"),
                "no `image`",
                "another compose file merged with this one may complete it; add `image = \"REPOSITORY:TAG\"`",
            );
        }
        self.service_spans.push(span);
        Ok(Decl {
            kind: DeclKind::Service,
            name: Ident::new(program_name, key.span),
            extends: None,
            body: self.finish(s),
            span,
        })
    }

    fn service_key(
        &mut self,
        s: &mut Svc,
        key: &str,
        k: &Node,
        v: &Node,
        has_image: bool,
    ) -> Result<(), Diagnostic> {
        let what = format!("`{key}` of service `{}`", s.name);
        if matches!(key, "container_name" | "hostname") {
            // Others may reach the service by this name.
            if let Some(alias) = v.scalar() {
                self.host_aliases.insert(alias.to_string(), s.name.clone());
            }
        }
        match key {
            "image" => {
                if let Some(t) = self.text(v, &what)? {
                    s.set("image", k.span, string(t, v.span));
                }
            }
            "build" => {
                if has_image {
                    self.lose(
                        k.span,
                        format!("{what} is not carried over; the image is"),
                        "not imported",
                        "build and push the image in CI; the program deploys the pinned image",
                    );
                } else {
                    let project = super::top::compose_project_name(
                        self.project.as_deref().unwrap_or(&self.default_project),
                    );
                    let image = format!("{project}-{}", s.name);
                    self.lose(
                        k.span,
                        format!("{what} is not carried over: the image is `{image}`, the name compose gives what it builds"),
                        "not imported",
                        "build and push the image in CI, then set `image` to its pinned tag",
                    );
                    s.set("image", k.span, string(image, k.span));
                }
            }
            "command" | "entrypoint" => {
                if let Some(args) = self.command(v, &what)? {
                    let key: &'static str = if key == "command" {
                        "command"
                    } else {
                        "entrypoint"
                    };
                    s.set(key, k.span, args);
                }
            }
            "environment" => self.environment(s, k, v)?,
            "ports" => self.ports(s, v)?,
            "expose" => self.expose(s, v)?,
            "networks" => self.service_networks(s, k, v)?,
            "network_mode" => self.network_mode(s, k, v)?,
            "volumes" => self.service_volumes(s, k, v)?,
            "tmpfs" => {
                for (t, span) in self.strings(v, &what)? {
                    s.tmpfs.push(string(t, span));
                }
                s.tmpfs_span.get_or_insert(k.span);
            }
            "secrets" => self.service_secrets(s, k, v)?,
            "configs" => self.service_configs(s, k, v)?,
            "depends_on" => self.depends_on(s, k, v)?,
            "links" => self.links(s, v)?,
            "healthcheck" => self.healthcheck(s, k, v)?,
            "user" | "working_dir" | "restart" => {
                if let Some(t) = self.text(v, &what)? {
                    let key: &'static str = match key {
                        "user" => "user",
                        "working_dir" => "working_dir",
                        _ => "restart",
                    };
                    s.set(key, k.span, string(t, v.span));
                }
            }
            "stop_grace_period" => {
                if let Some(t) = self.text(v, &what)? {
                    if is_duration(&t) {
                        s.set("stop_grace_period", k.span, string(t, v.span));
                    } else {
                        self.lose(
                            v.span,
                            format!("{what} `{t}` is not a duration infrac reads"),
                            "not imported",
                            "write it as \"10s\", \"1m30s\" or \"500ms\"",
                        );
                    }
                }
            }
            "cap_add" | "cap_drop" | "security_opt" => {
                let items: Vec<Value> = self
                    .strings(v, &what)?
                    .into_iter()
                    .map(|(t, span)| string(t, span))
                    .collect();
                let key: &'static str = match key {
                    "cap_add" => "cap_add",
                    "cap_drop" => "cap_drop",
                    _ => "security_opt",
                };
                s.set(key, k.span, list(items, v.span));
            }
            "privileged" | "read_only" => {
                let b = self.boolean(v, &what)?;
                let key: &'static str = if key == "privileged" {
                    "privileged"
                } else {
                    "read_only"
                };
                s.set(key, k.span, value(ValueKind::Bool(b), v.span));
            }
            "pid" | "ipc" => match self.text(v, &what)?.as_deref() {
                Some("host") => {
                    let key: &'static str = if key == "pid" { "host_pid" } else { "host_ipc" };
                    s.set(key, k.span, value(ValueKind::Bool(true), v.span));
                }
                Some(other) => self.lose(
                    v.span,
                    format!("`{key}: {other}` of `{}` is not carried over", s.name),
                    "only `host` is in the language",
                    "",
                ),
                None => {}
            },
            "labels" => {
                let labels = self.labels(v, &what)?;
                s.labels.extend(labels);
                s.labels_span.get_or_insert(k.span);
            }
            "deploy" => self.deploy(s, k, v)?,
            "scale" => {
                if let Some(n) = self.count(v, &what)? {
                    if !s.attrs.contains_key("replicas") {
                        s.set("replicas", k.span, value(ValueKind::Int(n), v.span));
                    }
                }
            }
            "cpus" => self.amount(s, k, v, "cpu")?,
            "mem_limit" => self.amount(s, k, v, "memory")?,
            "mem_reservation" => self.amount(s, k, v, "memory_request")?,
            "pids_limit" => {
                if let Some(n) = self.count(v, &what)? {
                    if n > 0 {
                        s.resources
                            .push(entry("pids", k.span, value(ValueKind::Int(n), v.span)));
                        s.resources_span.get_or_insert(k.span);
                    }
                }
            }
            other => self.lose(
                k.span,
                format!("`{other}` of service `{}` is not carried over", s.name),
                "not imported",
                advice(other),
            ),
        }
        Ok(())
    }

    /// The block's statements, attributes in a fixed order, then ports.
    fn finish(&mut self, mut s: Svc) -> Vec<Stmt> {
        let composite: [(&'static str, Vec<Value>, Option<Span>); 4] = [
            ("depends", std::mem::take(&mut s.depends), s.depends_span),
            ("secrets", std::mem::take(&mut s.secrets), s.secrets_span),
            ("mounts", std::mem::take(&mut s.mounts), s.mounts_span),
            ("tmpfs", std::mem::take(&mut s.tmpfs), s.tmpfs_span),
        ];
        for (key, items, span) in composite {
            if let (false, Some(span)) = (items.is_empty(), span) {
                let whole = items.iter().fold(span, |acc, i| acc.to(i.span));
                s.set(key, span, list(items, whole));
            }
        }
        if let Some((items, span)) = s.networks.take() {
            let whole = items.iter().fold(span, |acc, i| acc.to(i.span));
            s.set("networks", span, list(items, whole));
        }
        let maps: [(&'static str, Vec<Entry>, Option<Span>); 4] = [
            ("env", std::mem::take(&mut s.env), s.env_span),
            (
                "resources",
                std::mem::take(&mut s.resources),
                s.resources_span,
            ),
            (
                "placement",
                std::mem::take(&mut s.placement),
                s.placement_span,
            ),
            ("labels", std::mem::take(&mut s.labels), s.labels_span),
        ];
        for (key, entries, span) in maps {
            if let (false, Some(span)) = (entries.is_empty(), span) {
                let whole = entries.iter().fold(span, |acc, e| acc.to(e.span));
                s.set(key, span, map(entries, whole));
            }
        }
        let mut body: Vec<Stmt> = Vec::new();
        for key in super::SERVICE_ORDER {
            if let Some(stmt) = s.attrs.shift_remove(key) {
                body.push(stmt);
            }
        }
        body.extend(s.attrs.into_values());
        body.extend(s.ports.into_iter().map(|p| p.stmt()));
        body
    }

    // ---- dependencies and health -----------------------------------------

    fn depends_on(&mut self, s: &mut Svc, k: &Node, v: &Node) -> Result<(), Diagnostic> {
        s.depends_span.get_or_insert(k.span);
        let deps: Vec<(Node, Option<&Node>)> = match &v.kind {
            Kind::Seq(items) => items.iter().map(|i| (i.clone(), None)).collect(),
            Kind::Map(entries) => entries.iter().map(|(k, v)| (k.clone(), Some(v))).collect(),
            _ if v.is_null() => Vec::new(),
            _ => {
                return Err(Diagnostic::new(
                    Code::ImportInvalid,
                    v.span,
                    format!("`depends_on` of `{}` must be a list or a mapping", s.name),
                )
                .label("a single value"))
            }
        };
        for (dep, options) in deps {
            let Some(raw) = self.text(&dep, "a dependency")? else {
                continue;
            };
            self.depend(s, &raw, dep.span);
            for (ok, ov) in options.and_then(Node::entries).unwrap_or_default() {
                let option = self.key(ok)?;
                let value = ov.scalar().unwrap_or("");
                let carried = match option.as_str() {
                    "condition" => matches!(value, "service_started" | "service_healthy"),
                    "required" => value == "true",
                    "restart" => value == "false",
                    _ => false,
                };
                if !carried {
                    self.lose(
                        ok.span,
                        format!("`{option}: {value}` of the dependency on `{raw}` is not carried over"),
                        "not imported",
                        "infrac waits for a dependency to be healthy when it has a health check, else for it to start",
                    );
                }
            }
        }
        Ok(())
    }

    fn depend(&mut self, s: &mut Svc, raw: &str, span: Span) {
        if self.providers.contains(raw) {
            self.lose(
                span,
                format!("`{}` depends on the provider service `{raw}`, which is not carried over", s.name),
                "dependency dropped",
                "what the provider makes is outside the program; the service must wait for it itself",
            );
            return;
        }
        // Every service of the file was named before any was imported: the
        // names are the index (a search of `services` per dependency made
        // the import quadratic).
        match self.name_of(DeclKind::Service, raw) {
            Some(dep) => {
                if !s
                    .depends
                    .iter()
                    .any(|v| matches!(&v.kind, ValueKind::Name(n) if *n == dep))
                {
                    s.depends.push(name(dep, span));
                }
            }
            None => self.lose(
                span,
                format!(
                    "`{}` depends on `{raw}`, which this file does not define",
                    s.name
                ),
                "dependency dropped",
                "another compose file merged with this one may define it; import that service too",
            ),
        }
    }

    fn links(&mut self, s: &mut Svc, v: &Node) -> Result<(), Diagnostic> {
        for (link, span) in self.strings(v, "`links`")? {
            let (target, alias) = link.split_once(':').unwrap_or((&link, ""));
            s.depends_span.get_or_insert(span);
            self.depend(s, target, span);
            let alias_note = if alias.is_empty() || alias == target {
                String::new()
            } else {
                format!(", and its alias `{alias}` is not")
            };
            self.lose(
                span,
                format!("the link to `{target}` is carried as a dependency{alias_note}"),
                "links are legacy",
                "services reach each other by service name on a shared network",
            );
        }
        Ok(())
    }

    fn healthcheck(&mut self, s: &mut Svc, k: &Node, v: &Node) -> Result<(), Diagnostic> {
        let entries = expect_map(v, "`healthcheck`")?;
        let mut out: Vec<Entry> = Vec::new();
        for (hk, hv) in entries {
            let key = self.key(hk)?;
            let what = format!("`healthcheck.{key}` of `{}`", s.name);
            match key.as_str() {
                "test" => {
                    let args: Vec<(String, Span)> = match &hv.kind {
                        Kind::Seq(_) => self.strings(hv, &what)?,
                        _ => match self.text(hv, &what)? {
                            Some(t) => vec![("CMD-SHELL".to_string(), hv.span), (t, hv.span)],
                            None => Vec::new(),
                        },
                    };
                    let cmd: Vec<Value> = match args.first().map(|(a, _)| a.as_str()) {
                        Some("CMD") => args[1..]
                            .iter()
                            .map(|(a, sp)| string(a.clone(), *sp))
                            .collect(),
                        Some("CMD-SHELL") => {
                            let script: Vec<&str> =
                                args[1..].iter().map(|(a, _)| a.as_str()).collect();
                            vec![
                                string("/bin/sh", hv.span),
                                string("-c", hv.span),
                                string(script.join(" "), hv.span),
                            ]
                        }
                        _ => Vec::new(),
                    };
                    if cmd.is_empty() {
                        self.lose(
                            hv.span,
                            format!("{what} is not carried over"),
                            "no command to run (NONE disables the image's check)",
                            "infrac has no way to disable an image's health check",
                        );
                        return Ok(());
                    }
                    out.push(entry("cmd", hk.span, list(cmd, hv.span)));
                }
                "interval" | "timeout" | "start_period" => {
                    if let Some(t) = self.text(hv, &what)? {
                        if is_duration(&t) {
                            out.push(entry(key.clone(), hk.span, string(t, hv.span)));
                        } else {
                            self.lose(
                                hv.span,
                                format!("{what} `{t}` is not a duration infrac reads"),
                                "not imported",
                                "write it as \"10s\", \"1m30s\" or \"500ms\"",
                            );
                        }
                    }
                }
                "retries" => {
                    if let Some(n) = self.count(hv, &what)? {
                        out.push(entry("retries", hk.span, value(ValueKind::Int(n), hv.span)));
                    }
                }
                "disable" => {
                    if self.boolean(hv, &what)? {
                        self.lose(
                            hk.span,
                            format!(
                                "the health check of `{}` is disabled, which infrac cannot say",
                                s.name
                            ),
                            "not imported",
                            "the image's own HEALTHCHECK, if it has one, stays in force",
                        );
                        return Ok(());
                    }
                }
                other => self.lose(
                    hk.span,
                    format!("`healthcheck.{other}` of `{}` is not carried over", s.name),
                    "not imported",
                    "",
                ),
            }
        }
        if out.iter().any(|e| e.key.node == "cmd") {
            let whole = out.iter().fold(k.span, |acc, e| acc.to(e.span));
            s.set("health", k.span, map(out, whole));
        } else {
            self.lose(
                k.span,
                format!(
                    "the health check of `{}` has no `test` and is not carried over",
                    s.name
                ),
                "not imported",
                "the image's own HEALTHCHECK, if it has one, stays in force",
            );
        }
        Ok(())
    }
}
