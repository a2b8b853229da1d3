//! What the services of an imported stack reach, once the services are
//! built: in compose every port of a container is open on its networks,
//! in the program only declared ports are. A service others depend on but
//! that declares none is reported, with the port its dependents' own
//! settings name when one does (`BACKEND=api:80`).
//!
//! Linear in the stack: every environment value is read once, into an
//! index of the `host:port` pairs it names, before any service is looked
//! up in it (the search per dependency made 10,000 services take seconds).

use std::collections::{HashMap, HashSet};

use super::Importer;
use crate::ast::{Decl, Stmt, Value, ValueKind};

impl Importer {
    pub(super) fn portless_dependencies(&mut self, services: &[Decl]) {
        let attr_of = |d: &Decl, key: &str| -> Option<Value> {
            d.body.iter().find_map(|s| match s {
                Stmt::Attribute(a) if a.key.node == key => Some(a.value.clone()),
                _ => None,
            })
        };
        let mut depended: HashSet<String> = HashSet::new();
        // Host name → the first setting that names it with a port.
        let mut named: HashMap<String, (String, u16)> = HashMap::new();
        for d in services {
            if let Some(Value {
                kind: ValueKind::List(items),
                ..
            }) = attr_of(d, "depends")
            {
                depended.extend(items.into_iter().filter_map(|i| match i.kind {
                    ValueKind::Name(n) => Some(n),
                    _ => None,
                }));
            }
            if let Some(Value {
                kind: ValueKind::Map(entries),
                ..
            }) = attr_of(d, "env")
            {
                for e in entries {
                    if let ValueKind::Str(v) = &e.value.kind {
                        for (host, port) in hosts_with_ports(v) {
                            named.entry(host.to_string()).or_insert_with(|| {
                                (format!("`{}` of `{}`", e.key.node, d.name.node), port)
                            });
                        }
                    }
                }
            }
        }
        for d in services {
            let has_ports = d.body.iter().any(|s| matches!(s, Stmt::Port(_)));
            if has_ports || !depended.contains(&d.name.node) {
                continue;
            }
            let hint = named
                .get(&d.name.node)
                .map(|(what, port)| format!("; {what} names port {port}: `port {port} internal`"));
            self.lose(
                d.name.span,
                format!("`{}` declares no port, so the services that depend on it reach none", d.name.node),
                "every port was open on its networks in compose; in the program only declared ports are",
                &format!("declare the ports its dependents use, as `port N internal`{}", hint.unwrap_or_default()),
            );
        }
    }
}

/// Every host name a value names before `:PORT` (`api:80`,
/// `http://api:80/x`), in order, each with the port. A swarm stack's
/// `stack_api:80` names `api` too (and `stack_api`): a name counts from the
/// start of the host or after a `_`, never after a letter, digit, `-` or
/// `.` (`db.api:80` does not name `api`).
pub(super) fn hosts_with_ports(value: &str) -> Vec<(&str, u16)> {
    let bytes = value.as_bytes();
    let host_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    let mut out = Vec::new();
    for (colon, _) in value.match_indices(':') {
        let digits = bytes[colon + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let Some(port) = value[colon + 1..colon + 1 + digits]
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
        else {
            continue;
        };
        let start = bytes[..colon]
            .iter()
            .rposition(|b| !host_byte(*b))
            .map_or(0, |i| i + 1);
        let host = &value[start..colon];
        if host.is_empty() {
            continue;
        }
        out.push((host, port));
        for (i, _) in host.match_indices('_') {
            if i + 1 < host.len() {
                out.push((&host[i + 1..], port));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_before_ports() {
        assert_eq!(hosts_with_ports("api:80"), vec![("api", 80)]);
        assert_eq!(hosts_with_ports("http://api:8080/x"), vec![("api", 8080)]);
        assert_eq!(
            hosts_with_ports("my-web_api:80"),
            vec![("my-web_api", 80), ("api", 80)]
        );
        assert_eq!(
            hosts_with_ports("postgres://u:pw@db:5432/x"),
            vec![("db", 5432)]
        );
        assert_eq!(hosts_with_ports("db.api:80"), vec![("db.api", 80)]);
        assert!(hosts_with_ports("a:0 b:99999 c: d:x").is_empty());
    }
}
