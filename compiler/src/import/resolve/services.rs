//! A service's `extends` (a base service of this file or of `file:`) and
//! `env_file`s, resolved with compose's merge rules. Part of [`super`],
//! the resolution of the files a compose file names.

use super::dotenv::dotenv;
use super::merge::merge;
use super::{scalar, take, Resolver, MAX_CHAIN};
use crate::diagnostics::{Code, Diagnostic};
use crate::import::yaml::{Kind, Node};
use crate::span::FileId;
use std::collections::HashMap;

impl Resolver<'_> {
    /// The service `name` of the file `id` (tree `root`) with its
    /// `extends` and `env_file` resolved; `None` when it has none of them.
    /// Resolved once per service: a base that a hundred services extend
    /// is resolved once (unless what it gave depended on where it was
    /// reached from: a cycle or the depth limit cut it).
    pub(super) fn service(
        &mut self,
        id: FileId,
        root: &Node,
        name: &str,
        depth: usize,
    ) -> Result<Option<Node>, Diagnostic> {
        let key = (id, name.to_string());
        if let Some(done) = self.services_done.get(&key) {
            return Ok(done.clone());
        }
        let cuts = self.cuts;
        let resolved = self.service_fresh(id, root, name, depth)?;
        if self.cuts == cuts {
            self.services_done.insert(key, resolved.clone());
        }
        Ok(resolved)
    }

    fn service_fresh(
        &mut self,
        id: FileId,
        root: &Node,
        name: &str,
        depth: usize,
    ) -> Result<Option<Node>, Diagnostic> {
        let Some(body) = self.service_body(id, root, name) else {
            return Ok(None);
        };
        if body.get("extends").is_none() && body.get("env_file").is_none() {
            return Ok(None);
        }
        let mut body = body.clone();
        if let Some((ek, ev)) = take(&mut body, "extends") {
            let me = (id, name.to_string());
            if self.extending.contains(&me) {
                self.cuts += 1;
                self.lose(
                    ek.span,
                    format!("the `extends` of `{name}` leads back to `{name}`; it is dropped"),
                    "a cycle",
                    "a service cannot extend itself, directly or through others",
                );
                return Ok(Some(body));
            }
            self.extending.push(me);
            let base = self.extends(id, root, name, &ek, &ev, depth);
            self.extending.pop();
            if let Some(base) = base? {
                body = merge(None, &base, &body);
            }
        }
        if let Some((fk, fv)) = take(&mut body, "env_file") {
            self.env_file(id, &mut body, &fk, &fv)?;
        }
        Ok(Some(body))
    }

    /// The base service an `extends` names, resolved itself.
    fn extends(
        &mut self,
        id: FileId,
        root: &Node,
        name: &str,
        key: &Node,
        value: &Node,
        depth: usize,
    ) -> Result<Option<Node>, Diagnostic> {
        let (base, file) = match &value.kind {
            Kind::Scalar { .. } => (value.scalar().map(str::to_string), None),
            Kind::Map(_) => (
                value
                    .get("service")
                    .and_then(Node::scalar)
                    .map(str::to_string),
                value.get("file"),
            ),
            Kind::Seq(_) => (None, None),
        };
        let Some(base) = base else {
            return Err(Diagnostic::new(
                Code::ImportInvalid,
                value.span,
                format!("`extends` of `{name}` names no service"),
            )
            .label("no `service` here")
            .help(
                "write `extends: { service: BASE }` or `extends: { file: FILE, service: BASE }`",
            ));
        };
        if depth >= MAX_CHAIN {
            self.cuts += 1;
            self.lose(
                key.span,
                format!("`extends` of `{name}` chains more than {MAX_CHAIN} deep and is not followed further"),
                "not followed",
                "copy what the base services set into this one",
            );
            return Ok(None);
        }
        let Some(file) = file else {
            if base == name {
                self.lose(
                    key.span,
                    format!("`{name}` extends itself; the `extends` is dropped"),
                    "a cycle",
                    "name another service, or of another file with `file:`",
                );
                return Ok(None);
            }
            let Some(unresolved) = self.service_body(id, root, &base).cloned() else {
                self.lose(
                    value.span,
                    format!("`{name}` extends `{base}`, which this file does not define"),
                    "not followed",
                    "name a service of this file, or of another with `file:`",
                );
                return Ok(None);
            };
            let resolved = self.service(id, root, &base, depth + 1)?;
            return Ok(Some(resolved.unwrap_or(unresolved)));
        };
        let Some(rel) = file.scalar() else {
            return Ok(None);
        };
        let Some((other, other_root)) = self.load(id, rel, file.span, "`extends`")? else {
            return Ok(None);
        };
        let Some(unresolved) = self.service_body(other, &other_root, &base).cloned() else {
            self.lose(
                value.span,
                format!("`{name}` extends `{base}` of {rel}, which does not define it"),
                "not followed",
                "",
            );
            return Ok(None);
        };
        let pushed = self.push_chain(other);
        let resolved = self.service(other, &other_root, &base, depth + 1);
        if pushed {
            self.chain.pop();
        }
        Ok(Some(resolved?.unwrap_or(unresolved)))
    }

    /// The service `name` as the file `id` (its tree `root`) writes it,
    /// through the file's index of its services, built on first use.
    fn service_body<'n>(&mut self, id: FileId, root: &'n Node, name: &str) -> Option<&'n Node> {
        let services = root.get("services")?.entries()?;
        let index = self.service_index.entry(id).or_insert_with(|| {
            let mut index = HashMap::with_capacity(services.len());
            for (at, (k, _)) in services.iter().enumerate() {
                if let Some(key) = k.scalar() {
                    // The first of a name, as `Node::get` finds it.
                    index.entry(key.to_string()).or_insert(at);
                }
            }
            index
        });
        let at = *index.get(name)?;
        match services.get(at) {
            Some((k, body)) if k.scalar() == Some(name) => Some(body),
            // Another tree of the same file (never seen): search it.
            _ => root.get("services")?.get(name),
        }
    }

    /// Adds the variables of the service's `env_file`s under its
    /// `environment` (which wins, as in compose).
    pub(super) fn env_file(
        &mut self,
        from: FileId,
        body: &mut Node,
        key: &Node,
        value: &Node,
    ) -> Result<(), Diagnostic> {
        let items: Vec<Node> = match &value.kind {
            Kind::Seq(items) => items.clone(),
            _ if value.is_null() => Vec::new(),
            _ => vec![value.clone()],
        };
        let mut vars: Vec<(Node, Node)> = Vec::new();
        for item in items {
            let (path_node, required) = match &item.kind {
                Kind::Map(_) => (
                    item.get("path").cloned(),
                    item.get("required").and_then(Node::boolean).unwrap_or(true),
                ),
                _ => (Some(item.clone()), true),
            };
            if let Some(format) = item.get("format") {
                self.lose(
                    format.span,
                    "`format` of an `env_file` is not carried over; the file is read as a dotenv file",
                    "approximated",
                    "",
                );
            }
            let Some(path_node) = path_node else { continue };
            let Some(rel) = path_node.scalar().map(str::to_string) else {
                continue;
            };
            let Some(path) = self.resolve_path(from, &rel, path_node.span, "`env_file`") else {
                continue;
            };
            let read = match self.env_read.get(&path) {
                Some(id) => Ok(*id),
                None => self.read(from, &path, &rel, path_node.span)?.inspect(|id| {
                    self.env_read.insert(path.clone(), *id);
                }),
            };
            let id = match read {
                Ok(id) => id,
                Err(e) => {
                    let (label, help) = if required {
                        ("not carried over", "list the variables the service needs in `environment`, credentials as secrets, and import again")
                    } else {
                        (
                            "optional, and absent here",
                            "compose skips it too when it is absent where you deploy",
                        )
                    };
                    self.lose(
                        path_node.span,
                        format!("`env_file` {rel} cannot be read ({e}); its variables are not carried over"),
                        label,
                        help,
                    );
                    continue;
                }
            };
            // Each use is charged: a dotenv file that a thousand services
            // name is parsed a thousand times.
            let text = self.sources.get(id).text.clone();
            self.charge(text.len() as u64, path_node.span)?;
            self.lose(
                path_node.span,
                format!("the variables of `env_file` {rel} are copied into the program"),
                "read at import time",
                "later edits of the file are not followed: edit `env` in the program (credentials among them became secrets)",
            );
            for (k, v) in dotenv(id, &text) {
                vars.retain(|(old, _)| old.scalar() != k.scalar());
                vars.push((k, v));
            }
        }
        if vars.is_empty() {
            return Ok(());
        }
        let from_file = Node {
            kind: Kind::Map(vars),
            span: key.span,
        };
        let Kind::Map(entries) = &mut body.kind else {
            return Ok(());
        };
        match entries
            .iter_mut()
            .find(|(k, _)| k.scalar() == Some("environment"))
        {
            Some((_, env)) => *env = merge(Some("environment"), &from_file, env),
            None => entries.push((scalar("environment", key.span), from_file)),
        }
        Ok(())
    }
}
