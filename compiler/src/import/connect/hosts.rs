//! The host names a service's texts name: `host:port` pairs, the hosts of
//! URLs, bare names in variables that hold addresses, and the arguments of
//! clients' host flags. Each text is read once.

use std::collections::HashMap;

use super::Mention;
use crate::ast::{Value, ValueKind};

/// Whether an environment variable's name says it holds an address.
pub(super) fn address_key(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    const SAYS: &[&str] = &[
        "HOST",
        "ADDR",
        "SERVER",
        "ENDPOINT",
        "BROKER",
        "URL",
        "URI",
        "DSN",
        "PEERS",
        "SEEDS",
        "UPSTREAM",
        "BACKEND",
        "CONNECT",
        "NODES",
        "CLUSTER_MEMBERS",
    ];
    const NOT: &[&str] = &[
        "_USER",
        "_PASSWORD",
        "_PASS",
        "_NAME",
        "_DB",
        "_DATABASE",
        "_PATH",
    ];
    SAYS.iter().any(|s| k.contains(s)) && !NOT.iter().any(|s| k.ends_with(s))
}

/// The flags of common clients whose next argument is a host.
pub(super) const HOST_FLAGS: &[&str] = &[
    "-h",
    "--host",
    "-H",
    "--hostname",
    "--server",
    "--broker",
    "--brokers",
    "--bootstrap-server",
    "--zookeeper",
    "--addr",
    "--address",
    "--endpoint",
    "--url",
    "--connect",
];

/// The words of commands and health checks, each as a mention: a word
/// after a host flag (`-h db`), `--host=db`, and any `host:port` or URL.
pub(super) fn command_mentions(out: &mut Vec<Mention>, service: &str, key: &str, items: &[Value]) {
    let mut after_flag = false;
    for item in items {
        let ValueKind::Str(text) = &item.kind else {
            after_flag = false;
            continue;
        };
        for word in text.split(|c: char| {
            c.is_whitespace() || matches!(c, '"' | '\'' | ';' | '|' | '&' | '(' | ')')
        }) {
            if word.is_empty() {
                continue;
            }
            let (flag, rest) = word.split_once('=').unwrap_or((word, ""));
            let address = after_flag || (!rest.is_empty() && HOST_FLAGS.contains(&flag));
            let text = if rest.is_empty() || !flag.starts_with('-') {
                word
            } else {
                rest
            };
            if text.len() >= 2 {
                out.push(Mention {
                    service: service.to_string(),
                    key: key.to_string(),
                    text: text.to_string(),
                    span: item.span,
                    address_key: address,
                });
            }
            after_flag = HOST_FLAGS.contains(&word);
        }
    }
}

/// The host names a text names, each with its port if written: every
/// `host:port`, the host of every URL (`redis://cache`), and, when the
/// text is an address (`address`), each bare word of a comma- or
/// space-separated list.
pub(super) fn hosts_in(text: &str, address: bool) -> Vec<(&str, Option<u16>)> {
    let mut out: Vec<(&str, Option<u16>)> = hosts_with_ports(text)
        .into_iter()
        .map(|(h, p)| (h, Some(p)))
        .collect();
    for (at, _) in text.match_indices("://") {
        let rest = &text[at + 3..];
        let authority = &rest[..rest.find(['/', '?', '#', ' ', ',']).unwrap_or(rest.len())];
        let host_part = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = &host_part[..host_part.find(':').unwrap_or(host_part.len())];
        if !host.is_empty() && !out.iter().any(|(h, _)| *h == host) {
            out.push((host, None));
        }
    }
    if address {
        for word in text.split([',', ' ', ';']) {
            let word = word.trim();
            let valid = !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
            if valid && !out.iter().any(|(h, _)| *h == word) {
                out.push((word, None));
            }
        }
    }
    out
}

/// The service a host name is: itself, or without swarm's `tasks.`
/// prefix. (A stack's `stack_api` is found by [`hosts_with_ports`].)
pub(super) fn lookup(hosts: &HashMap<String, usize>, host: &str) -> Option<usize> {
    let lower = host.to_ascii_lowercase();
    let lower = lower.strip_prefix("tasks.").unwrap_or(&lower);
    hosts.get(lower).copied()
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

    #[test]
    fn hosts_in_urls_and_address_lists() {
        assert_eq!(hosts_in("redis://cache/0", false), vec![("cache", None)]);
        assert_eq!(hosts_in("amqp://u:pw@mq", false), vec![("mq", None)]);
        assert_eq!(hosts_in("db", true), vec![("db", None)]);
        assert!(hosts_in("db", false).is_empty());
        assert_eq!(
            hosts_in("k1:9092,k2", true),
            vec![("k1", Some(9092)), ("k2", None)]
        );
    }

    #[test]
    fn address_keys() {
        for k in [
            "WORDPRESS_DB_HOST",
            "REDIS_HOST",
            "DATABASE_URL",
            "KAFKA_BROKERS",
        ] {
            assert!(address_key(k), "{k}");
        }
        for k in [
            "POSTGRES_DB",
            "MYSQL_DATABASE",
            "DB_USER",
            "MODE",
            "HOST_PATH",
        ] {
            assert!(!address_key(k), "{k}");
        }
    }
}
