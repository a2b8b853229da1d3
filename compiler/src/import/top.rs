//! Networks and secrets: the top-level items of a compose file and the
//! service keys that refer to them (`networks`, `network_mode`, `secrets`),
//! plus what the top-level items share (`external`, custom names).

use super::items::{item_span, ItemKind};
use super::service::Svc;
use super::yaml::{Kind, Node};
use super::{attr, call, expect_map, name, string, value, Declared, Importer};
use crate::ast::{DeclKind, Value, ValueKind};
use crate::diagnostics::{Code, Diagnostic};
use crate::span::Span;

/// Compose's normalisation of a project name: lower case, letters,
/// digits, `_` and `-`.
pub(super) fn compose_project_name(raw: &str) -> String {
    let name: String = raw
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    if name.is_empty() {
        "app".to_string()
    } else {
        name
    }
}

pub(super) fn flag(b: bool, span: Span) -> Value {
    value(ValueKind::Bool(b), span)
}

/// Keys of a top-level item that are always reported, not carried.
const ITEM_LOSSES: &[&str] = &[
    "labels",
    "driver_opts",
    "ipam",
    "attachable",
    "enable_ipv6",
    "enable_ipv4",
    "template_driver",
];

const NETWORKS: ItemKind = ItemKind {
    decl: DeclKind::Network,
    noun: "network",
    declared: |i| &mut i.networks,
    named_help: "the program's network is named by the target (compose prefixes the project); to share a network between stacks, declare it `external = true` and create it once",
    unknown_help: |key| {
        if ITEM_LOSSES.contains(&key) {
            ""
        } else {
            "compose may not know it either"
        }
    },
    implicit: Some("default"),
    undeclared_help: "another compose file merged with this one may declare it (then mark it `external = true` if it is shared)",
};

impl Importer {
    pub(super) fn body_entries<'n>(
        &self,
        body: &'n Node,
        what: &str,
    ) -> Result<&'n [(Node, Node)], Diagnostic> {
        if body.is_null() {
            Ok(&[])
        } else {
            expect_map(body, what)
        }
    }

    /// `external: true`, or the legacy `external: { name: x }`; with the
    /// legacy name, if any.
    pub(super) fn external(
        &mut self,
        v: &Node,
        what: &str,
    ) -> Result<(bool, Option<String>), Diagnostic> {
        match &v.kind {
            Kind::Map(_) => Ok((
                true,
                v.get("name").and_then(Node::scalar).map(str::to_string),
            )),
            _ => Ok((self.boolean(v, what)?, None)),
        }
    }

    pub(super) fn report_external_name(&mut self, kind: &str, at: Span, real: &str, program: &str) {
        if real != program {
            self.lose(
                at,
                format!("external {kind} `{program}` is called `{real}` on the engine; the program uses `{program}`"),
                "the name is not carried over",
                "rename the item in the program to the engine's name, or create it under the program's name",
            );
        }
    }

    // ---- networks --------------------------------------------------------

    pub(super) fn top_networks(&mut self, v: &Node) -> Result<(), Diagnostic> {
        self.top_items(v, &NETWORKS, |me, item, key, bk, bv| {
            match key {
                "internal" => {
                    if me.boolean(bv, &item.what)? {
                        item.attrs
                            .push(attr("internal", bk.span, flag(true, bv.span)));
                    }
                }
                "driver_opts" => {
                    for (ok, _) in bv.entries().unwrap_or_default() {
                        let opt = me.key(ok)?;
                        if opt == "encrypted" {
                            item.attrs
                                .push(attr("encrypted", ok.span, flag(true, ok.span)));
                        } else {
                            me.lose(
                                ok.span,
                                format!(
                                    "driver option `{opt}` of {} is not carried over",
                                    item.what
                                ),
                                "not imported",
                                "",
                            );
                        }
                    }
                }
                "name" => item.real_name = Some(me.text(bv, &item.what)?.unwrap_or_default()),
                _ => return Ok(false),
            }
            Ok(true)
        })
    }

    /// The program name of a network a service names, declared if the file
    /// does not declare it.
    fn network_ref(&mut self, raw: &str, span: Span) -> String {
        self.item_ref(&NETWORKS, raw, span)
    }

    pub(super) fn service_networks(
        &mut self,
        s: &mut Svc,
        k: &Node,
        v: &Node,
    ) -> Result<(), Diagnostic> {
        let mut refs = Vec::new();
        match &v.kind {
            _ if v.is_null() => {}
            Kind::Seq(items) => {
                for item in items {
                    if let Some(raw) = self.text(item, "a network")? {
                        refs.push((raw, item.span));
                    }
                }
            }
            Kind::Map(entries) => {
                for (nk, nv) in entries {
                    let raw = self.key(nk)?;
                    for (ok, ov) in nv.entries().unwrap_or_default() {
                        let option = self.key(ok)?;
                        if option == "aliases" {
                            if let Kind::Seq(aliases) = &ov.kind {
                                for a in aliases.iter().filter_map(Node::scalar) {
                                    self.host_aliases.insert(a.to_string(), s.name.clone());
                                }
                            }
                        }
                        self.lose(
                            ok.span,
                            format!(
                                "`{option}` of `{}` on network `{raw}` is not carried over",
                                s.name
                            ),
                            "not imported",
                            if option == "aliases" {
                                "reach the service by its name"
                            } else {
                                ""
                            },
                        );
                    }
                    refs.push((raw, nk.span));
                }
            }
            Kind::Scalar { .. } => {
                return Err(Diagnostic::new(
                    Code::ImportInvalid,
                    v.span,
                    format!("`networks` of `{}` must be a list or a mapping", s.name),
                )
                .label("a single value"))
            }
        }
        let mut values: Vec<Value> = Vec::new();
        for (raw, span) in refs {
            let program = self.network_ref(&raw, span);
            if !values
                .iter()
                .any(|v| matches!(&v.kind, ValueKind::Name(n) if *n == program))
            {
                values.push(name(program, span));
            }
        }
        if !values.is_empty() {
            s.networks = Some((values, k.span));
        }
        Ok(())
    }

    pub(super) fn network_mode(
        &mut self,
        s: &mut Svc,
        k: &Node,
        v: &Node,
    ) -> Result<(), Diagnostic> {
        let what = format!("`network_mode` of `{}`", s.name);
        match self.text(v, &what)?.as_deref() {
            Some("host") => {
                s.set_flag("host_network", k.span, v.span);
            }
            Some(other) if other == "none" || other.starts_with("service:") || other.starts_with("container:") => {
                // Carried as the service's own networks this would launder:
                // a shared namespace serves its peer's published ports, and
                // `none` reaches nothing.
                let (what, help) = match other.split_once(':') {
                    Some((_, peer)) => (
                        format!("`{}` shares the network namespace of `{peer}`: it listens on `{peer}`'s addresses, on the ports `{peer}` publishes, and reaches what `{peer}` reaches", s.name),
                        format!("infrac gives every service its own network namespace; run the two as one service (one image), or give `{}` its own `ports` and networks and drop `network_mode`", s.name),
                    ),
                    None => (
                        format!("`{}` has no network at all (`network_mode: none`)", s.name),
                        "infrac puts every service on a network; drop the service if it needs none, or drop `network_mode` to put it on its networks".to_string(),
                    ),
                };
                self.diagnostics.push(
                    Diagnostic::new(Code::ImportSharedNamespace, v.span, what)
                        .label("a network namespace infrac cannot express")
                        .help(help),
                );
            }
            Some(other) => self.lose(
                v.span,
                format!("`network_mode: {other}` of `{}` is not carried over; the service is on its networks", s.name),
                "not imported",
                "",
            ),
            None => {}
        }
        Ok(())
    }

    // ---- secrets ---------------------------------------------------------

    pub(super) fn top_secrets(&mut self, v: &Node) -> Result<(), Diagnostic> {
        if v.is_null() {
            return Ok(());
        }
        for (k, body) in expect_map(v, "`secrets`")? {
            let raw = self.key(k)?;
            let program = self.declare_name(DeclKind::Secret, &raw, k.span);
            let what = format!("secret `{raw}`");
            let mut from: Option<Value> = None;
            let mut is_external = false;
            let mut real_name: Option<String> = None;
            for (bk, bv) in self.body_entries(body, &what)? {
                let key = self.key(bk)?;
                match key.as_str() {
                    "file" => {
                        if let Some(path) = self.text(bv, &what)? {
                            from = Some(call("file", string(path, bv.span), bv.span));
                        }
                    }
                    "environment" => {
                        if let Some(var) = self.text(bv, &what)? {
                            from = Some(call("env", string(var, bv.span), bv.span));
                        }
                    }
                    "external" => {
                        let (ext, legacy) = self.external(bv, &what)?;
                        is_external = ext;
                        real_name = legacy.or(real_name);
                    }
                    "name" => real_name = self.text(bv, &what)?,
                    "content" => {
                        self.redactions.push(bv.span);
                        let var = raw.to_ascii_uppercase().replace(['-', '.'], "_");
                        self.diagnostics.push(
                            Diagnostic::new(Code::ImportLoss, bv.span, format!("the content of {what} is written in the file and is not carried over"))
                                .label("a secret, in plain text (masked here)")
                                .help(format!("it is now read from the environment variable {var} where you deploy; then rotate the value, it is in your history")),
                        );
                        from = Some(call("env", string(var, bv.span), bv.span));
                    }
                    k2 if k2.starts_with("x-") => {}
                    other => self.lose(
                        bk.span,
                        format!("`{other}` of {what} is not carried over"),
                        "not imported",
                        "",
                    ),
                }
            }
            if is_external {
                let real = real_name.clone().unwrap_or_else(|| raw.clone());
                from = Some(call("external", string(real, k.span), k.span));
            } else if let Some(real) = real_name.as_ref().filter(|n| **n != raw) {
                self.lose(
                    k.span,
                    format!("{what} has the custom name `{real}`, which is not carried over"),
                    "not imported",
                    "",
                );
            }
            let from = match from {
                Some(f) => f,
                None => {
                    self.lose(k.span, format!("{what} says neither `file`, `environment` nor `external`; it is imported as external"), "approximated", "say where its value comes from: `from = file(...)`, `env(...)` or `external(...)`");
                    call("external", string(raw.clone(), k.span), k.span)
                }
            };
            self.secrets.insert(
                raw,
                Declared {
                    name: program,
                    span: item_span(k, body),
                    attrs: vec![attr("from", k.span, from)],
                },
            );
        }
        Ok(())
    }

    pub(super) fn service_secrets(
        &mut self,
        s: &mut Svc,
        k: &Node,
        v: &Node,
    ) -> Result<(), Diagnostic> {
        s.secrets_span.get_or_insert(k.span);
        for item in v.items().unwrap_or_default() {
            let (raw, span) =
                match &item.kind {
                    Kind::Map(_) => {
                        let mut source = None;
                        for (sk, sv) in item.entries().unwrap_or_default() {
                            let key = self.key(sk)?;
                            match key.as_str() {
                                "source" => source = self.text(sv, "a secret's source")?,
                                "target" => {
                                    let t = sv.scalar().unwrap_or("");
                                    let default =
                                        item.get("source").and_then(Node::scalar).is_some_and(
                                            |src| t == src || t == format!("/run/secrets/{src}"),
                                        );
                                    if !default {
                                        self.lose(
                                            sk.span,
                                            format!(
                                            "the secret target `{t}` of `{}` is not carried over",
                                            s.name
                                        ),
                                            "the secret is at /run/secrets/NAME",
                                            "point the service at /run/secrets/NAME",
                                        );
                                    }
                                }
                                other => self.lose(
                                    sk.span,
                                    format!(
                                        "`{other}` of a secret of `{}` is not carried over",
                                        s.name
                                    ),
                                    "not imported",
                                    "",
                                ),
                            }
                        }
                        let Some(src) = source else {
                            return Err(Diagnostic::new(
                                Code::ImportInvalid,
                                item.span,
                                "a secret of a service needs a `source`",
                            )
                            .label("no `source`"));
                        };
                        (src, item.span)
                    }
                    _ => match self.text(item, "a secret")? {
                        Some(t) => (t, item.span),
                        None => continue,
                    },
                };
            let program = match self.secrets.get(&raw) {
                Some(d) => d.name.clone(),
                None => {
                    let program = self.declare_name(DeclKind::Secret, &raw, span);
                    self.lose(span, format!("secret `{raw}` is not declared in this file; it is imported as external"), "declared by the import", "say where its value comes from: `from = file(...)`, `env(...)` or `external(...)`");
                    self.secrets.insert(
                        raw.clone(),
                        Declared {
                            name: program.clone(),
                            span,
                            attrs: vec![attr(
                                "from",
                                span,
                                call("external", string(raw.clone(), span), span),
                            )],
                        },
                    );
                    program
                }
            };
            if !s
                .secrets
                .iter()
                .any(|v| matches!(&v.kind, ValueKind::Name(n) if *n == program))
            {
                s.secrets.push(name(program, span));
            }
        }
        Ok(())
    }

    // ---- configs ---------------------------------------------------------

    /// Top-level configs: one read from a file is carried, where a service
    /// uses it, as a read-only bind mount of that file (what compose does
    /// outside swarm); the others have no equivalent in the language.
    pub(super) fn top_configs(&mut self, v: &Node) -> Result<(), Diagnostic> {
        if v.is_null() {
            return Ok(());
        }
        for (k, body) in expect_map(v, "`configs`")? {
            let raw = self.key(k)?;
            let what = format!("config `{raw}`");
            let mut file = None;
            for (bk, bv) in self.body_entries(body, &what)? {
                let key = self.key(bk)?;
                match key.as_str() {
                    "file" => file = self.text(bv, &what)?,
                    "name" => {}
                    other => self.lose(
                        bk.span,
                        format!("`{other}` of {what} is not carried over"),
                        "configs are not in the language",
                        "write the content to a file and mount it: `mounts = [\"./file\" -> \"/path\" readonly]`",
                    ),
                }
            }
            if let Some(path) = &file {
                self.lose(
                    k.span,
                    format!("{what} is carried as a read-only bind mount of `{path}` where a service uses it"),
                    "approximated",
                    "compose mounts a config file the same way; a swarm stack or a cluster gets the file from the node, not from a config object",
                );
            }
            self.configs.insert(raw, file);
        }
        Ok(())
    }

    /// A service's `configs`: each from a file becomes a read-only mount at
    /// its target (`/NAME` by default, as in compose).
    pub(super) fn service_configs(
        &mut self,
        s: &mut Svc,
        k: &Node,
        v: &Node,
    ) -> Result<(), Diagnostic> {
        for item in v.items().unwrap_or_default() {
            let (raw, target) = match &item.kind {
                Kind::Map(_) => {
                    for (ck, _) in item.entries().unwrap_or_default() {
                        let key = self.key(ck)?;
                        if !matches!(key.as_str(), "source" | "target") {
                            self.lose(
                                ck.span,
                                format!("`{key}` of a config of `{}` is not carried over", s.name),
                                "not imported",
                                "the file is mounted with its own owner and mode",
                            );
                        }
                    }
                    let Some(src) = item
                        .get("source")
                        .map(|n| self.text(n, "a config's source"))
                        .transpose()?
                        .flatten()
                    else {
                        return Err(Diagnostic::new(
                            Code::ImportInvalid,
                            item.span,
                            "a config of a service needs a `source`",
                        )
                        .label("no `source`"));
                    };
                    let target = item
                        .get("target")
                        .map(|n| self.text(n, "a config's target"))
                        .transpose()?
                        .flatten();
                    (src, target)
                }
                _ => match self.text(item, "a config")? {
                    Some(t) => (t, None),
                    None => continue,
                },
            };
            let file = self.configs.get(&raw).cloned().flatten();
            let Some(file) = file else {
                self.lose(
                    item.span,
                    format!("config `{raw}` of service `{}` is not carried over", s.name),
                    if self.configs.contains_key(&raw) {
                        "not read from a file"
                    } else {
                        "not declared in this file"
                    },
                    "write the content to a file and mount it: `mounts = [\"./file\" -> \"/path\" readonly]`",
                );
                continue;
            };
            let target = target.unwrap_or_else(|| format!("/{raw}"));
            s.mounts_span.get_or_insert(k.span);
            self.mount(s, string(file, item.span), &target, true, item.span)?;
        }
        Ok(())
    }
}
