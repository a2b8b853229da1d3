//! Published and exposed ports to `port` statements.
//!
//! The address a port is published on decides its level: `127.0.0.1` or
//! `::1` is `local`; no address, `0.0.0.0` or `::` is `public`; `expose`
//! is `internal`. A port bound to one other host address is reached by
//! whoever can route to that interface: a public address is `public`, a
//! private one `restricted` to its private range, each with a warning
//! (never `local`, which would make an exposed port look like a loopback
//! one).

use super::service::Svc;
use super::yaml::{Kind, Node};
use super::Importer;
use crate::ast::{LevelExpr, PortDecl, Protocol, Stmt};
use crate::diagnostics::{Code, Diagnostic};
use crate::span::{Span, Spanned};

/// The most ports one range may expand to.
const MAX_RANGE: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Level {
    Internal,
    Local,
    /// Published on one private address: reached from its private range.
    Restricted(&'static str),
    Public,
}

#[derive(Debug, Clone)]
pub(super) struct PortOut {
    pub container: u16,
    pub protocol: Protocol,
    pub level: Level,
    /// The host port, when it differs from the container port.
    pub host: Option<u16>,
    pub span: Span,
}

impl PortOut {
    pub fn stmt(&self) -> Stmt {
        let level = match self.level {
            Level::Internal => LevelExpr::Internal,
            Level::Local => LevelExpr::Local,
            Level::Restricted(range) => LevelExpr::Restricted(Box::new(super::list(
                vec![super::string(range, self.span)],
                self.span,
            ))),
            Level::Public => LevelExpr::Public,
        };
        Stmt::Port(PortDecl {
            container: Spanned::new(u64::from(self.container), self.span),
            protocol: (self.protocol == Protocol::Udp)
                .then(|| Spanned::new(Protocol::Udp, self.span)),
            level: Spanned::new(level, self.span),
            host: self.host.map(|h| Spanned::new(u64::from(h), self.span)),
            span: self.span,
        })
    }
}

/// One published mapping as compose reads it.
struct Published {
    ip: Option<String>,
    host: Option<(u16, u16)>,
    container: (u16, u16),
    protocol: String,
    /// The long syntax's `mode` and its span; the short syntax has none.
    mode: Option<(String, Span)>,
}

impl Importer {
    pub(super) fn ports(&mut self, s: &mut Svc, v: &Node) -> Result<(), Diagnostic> {
        let Some(items) = v.items() else {
            if v.is_null() {
                return Ok(());
            }
            return Err(invalid(
                v.span,
                format!("`ports` of `{}` must be a list", s.name),
            ));
        };
        for item in items {
            let published = match &item.kind {
                Kind::Map(_) => self.long_port(s, item)?,
                Kind::Scalar { .. } => {
                    let what = format!("a port of `{}`", s.name);
                    let Some(raw) = self.scalar(item, &what)? else {
                        continue;
                    };
                    let i = self.interpolate(item, &raw)?;
                    if !i.unresolved.is_empty() {
                        self.lose(
                            item.span,
                            format!(
                                "{what} depends on `${{{}}}` and is not carried over",
                                i.unresolved[0]
                            ),
                            "no default to read the port from",
                            "write the port you publish",
                        );
                        continue;
                    }
                    self.report_interpolation(item, &what, &i);
                    match parse_short(&i.text) {
                        Ok(p) => Some(p),
                        Err(why) => {
                            return Err(invalid(
                                item.span,
                                format!("`{}` is not a port: {why}", i.text),
                            ))
                        }
                    }
                }
                Kind::Seq(_) => {
                    return Err(invalid(item.span, "a port must be a string or a mapping"))
                }
            };
            if let Some(p) = published {
                self.routing_mesh(s, &p, item.span);
                self.publish(s, p, item.span)?;
            }
        }
        Ok(())
    }

    /// `{ target, published, host_ip, protocol, mode }`.
    fn long_port(&mut self, s: &Svc, item: &Node) -> Result<Option<Published>, Diagnostic> {
        let mut p = Published {
            ip: None,
            host: None,
            container: (0, 0),
            protocol: "tcp".to_string(),
            mode: None,
        };
        for (k, v) in item.entries().unwrap_or_default() {
            let key = self.key(k)?;
            let what = format!("`{key}` of a port of `{}`", s.name);
            match key.as_str() {
                "target" => {
                    let t = self.text(v, &what)?.unwrap_or_default();
                    p.container = range(&t)
                        .ok_or_else(|| invalid(v.span, format!("`{t}` is not a port number")))?;
                }
                "published" => {
                    let t = self.text(v, &what)?.unwrap_or_default();
                    if t.contains("${") {
                        self.lose(
                            v.span,
                            format!("{what} is not carried over"),
                            "no default to read the port from",
                            "write the port you publish",
                        );
                        return Ok(None);
                    }
                    if !t.is_empty() {
                        p.host = Some(range(&t).ok_or_else(|| {
                            invalid(v.span, format!("`{t}` is not a port number"))
                        })?);
                    }
                }
                "host_ip" => p.ip = self.text(v, &what)?,
                "protocol" => {
                    p.protocol = self
                        .text(v, &what)?
                        .unwrap_or_else(|| "tcp".into())
                        .to_ascii_lowercase()
                }
                "mode" => p.mode = self.text(v, &what)?.map(|m| (m, v.span)),
                other => self.lose(
                    k.span,
                    format!("`{other}` of a port of `{}` is not carried over", s.name),
                    "not imported",
                    "",
                ),
            }
        }
        if p.container.0 == 0 {
            return Err(invalid(
                item.span,
                format!("a port of `{}` has no `target`", s.name),
            ));
        }
        Ok(Some(p))
    }

    /// Reports a port that swarm publishes through the ingress routing
    /// mesh (every node, any task): the language publishes in host mode on
    /// swarm (the nodes that run a task, one task per node), so the
    /// meaning changes there. That is any port of a stack without `mode:
    /// host` ([`super::stack`]), and one that says `mode: ingress` in any
    /// file; a compose file's other ports mean what the program says.
    fn routing_mesh(&mut self, s: &Svc, p: &Published, span: Span) {
        let (at, why) = match &p.mode {
            Some((m, _)) if m == "host" => return,
            Some((m, at)) if m != "ingress" => {
                let message = format!("the port mode `{m}` of `{}` is not carried over", s.name);
                self.lose(*at, message, "not a swarm port mode", "swarm's modes are `host` and `ingress`");
                return;
            }
            Some((_, at)) => (*at, None),
            None => match &self.stack {
                Some((_, evidence)) => (span, Some(format!("the file is a swarm stack: {evidence} is read only by `docker stack deploy`"))),
                None => return,
            },
        };
        let port = match p.host {
            Some((h, _)) => format!("{h}:{}", p.container.0),
            None => p.container.0.to_string(),
        };
        let mut d = Diagnostic::new(
            Code::ImportLoss,
            at,
            format!("port {port} of `{}` is published through swarm's routing mesh; the program publishes it in host mode", s.name),
        )
        .label("on the mesh: open on every node of the swarm, served by any task")
        .help(format!("the swarm target opens it only on the nodes that run a task, one task per node: give `{}` `mode = global` or no more replicas than its nodes (W5002/E5003 count them); Kubernetes serves it from a LoadBalancer Service, as the mesh did", s.name));
        if let Some(why) = why {
            d = d.note(why);
        }
        if let Some((evidence, _)) = self.stack.as_ref().filter(|_| at == span) {
            d = d.secondary(*evidence, "only swarm reads this key");
        }
        self.diagnostics.push(d);
    }

    fn publish(&mut self, s: &mut Svc, p: Published, span: Span) -> Result<(), Diagnostic> {
        let protocol = match p.protocol.as_str() {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            other => {
                self.lose(
                    span,
                    format!(
                        "port {} of `{}` is {other}, which infrac does not carry",
                        p.container.0, s.name
                    ),
                    "not imported",
                    "only tcp and udp ports are in the language",
                );
                return Ok(());
            }
        };
        let level = match p.ip.as_deref().map(|ip| ip.trim_matches(['[', ']'])) {
            None | Some("" | "0.0.0.0" | "::") => Level::Public,
            Some(ip) if is_loopback(ip) => Level::Local,
            Some(ip) => self.host_address(s, &p, ip, span),
        };
        let (c0, c1) = p.container;
        let count = u32::from(c1) - u32::from(c0) + 1;
        let hosts: Vec<Option<u16>> = match p.host {
            None => {
                self.lose(
                    span,
                    format!("port {c0} of `{}` was published on a host port the engine picks; it is imported on host port {c0}", s.name),
                    "approximated",
                    "write `as HOST` on the port for another host port",
                );
                (c0..=c1).map(Some).collect()
            }
            Some((h0, h1)) if h0 == h1 && count > 1 => {
                return Err(invalid(
                    span,
                    "a range of container ports needs a range of host ports as long",
                ));
            }
            Some((h0, h1)) if u32::from(h1) - u32::from(h0) + 1 != count => {
                if count == 1 {
                    self.lose(
                        span,
                        format!("port {c0} of `{}` was published on one of the host ports {h0}-{h1}; it is imported on {h0}", s.name),
                        "approximated",
                        "",
                    );
                    vec![Some(h0)]
                } else {
                    return Err(invalid(
                        span,
                        "the host and container port ranges differ in length",
                    ));
                }
            }
            Some((h0, _)) => (0..count).map(|i| Some(h0 + i as u16)).collect(),
        };
        if count > MAX_RANGE {
            self.lose(
                span,
                format!("the range {c0}-{c1} of `{}` has {count} ports; the first {MAX_RANGE} are imported", s.name),
                "truncated",
                "a service rarely needs that many ports; list the ones it serves",
            );
        }
        for (i, host) in hosts.into_iter().enumerate().take(MAX_RANGE as usize) {
            let container = c0 + i as u16;
            let host = host.filter(|h| *h != container);
            self.add_port(
                s,
                PortOut {
                    container,
                    protocol,
                    level,
                    host,
                    span,
                },
            );
        }
        Ok(())
    }

    /// Adds a port unless one with its container port and protocol is
    /// there: the wider one stays, the other is reported.
    fn add_port(&mut self, s: &mut Svc, port: PortOut) {
        let existing = s
            .ports
            .iter_mut()
            .find(|p| p.container == port.container && p.protocol == port.protocol);
        let Some(existing) = existing else {
            s.ports.push(port);
            return;
        };
        if existing.level == port.level && existing.host == port.host {
            return;
        }
        if port.level == Level::Internal {
            return;
        }
        let (kept, dropped) = if port.level > existing.level || existing.level == Level::Internal {
            let dropped = existing.clone();
            *existing = port;
            (existing.clone(), dropped)
        } else {
            (existing.clone(), port)
        };
        if dropped.level == Level::Internal {
            return;
        }
        self.lose(
            dropped.span,
            format!(
                "port {} of `{}` is published twice; only the {} one on host port {} is imported",
                kept.container,
                s.name,
                level_word(kept.level),
                kept.host.unwrap_or(kept.container)
            ),
            "not imported",
            "infrac has one `port` line per container port and protocol",
        );
    }

    pub(super) fn expose(&mut self, s: &mut Svc, v: &Node) -> Result<(), Diagnostic> {
        let items = match &v.kind {
            Kind::Seq(items) => items.as_slice(),
            _ => std::slice::from_ref(v),
        };
        for item in items {
            if self.unset_in_typed(item, "`expose`", "the port is not carried over")? {
                continue;
            }
            let Some(t) = self.text(item, "`expose`")? else {
                continue;
            };
            let span = item.span;
            let (ports, proto) = t.rsplit_once('/').unwrap_or((&t, "tcp"));
            let protocol = match proto {
                "tcp" => Protocol::Tcp,
                "udp" => Protocol::Udp,
                _ => return Err(invalid(span, format!("`{t}` is not a port"))),
            };
            let (c0, c1) =
                range(ports).ok_or_else(|| invalid(span, format!("`{t}` is not a port")))?;
            for container in (c0..=c1).take(MAX_RANGE as usize) {
                self.add_port(
                    s,
                    PortOut {
                        container,
                        protocol,
                        level: Level::Internal,
                        host: None,
                        span,
                    },
                );
            }
        }
        Ok(())
    }
}

impl Importer {
    /// The level of a port published on one host address that is not
    /// loopback: that interface is reached by whoever can route to it, so
    /// a public address is `public` and a private one its private range
    /// (never `local`, which would launder it into a loopback port).
    fn host_address(&mut self, s: &Svc, p: &Published, ip: &str, span: Span) -> Level {
        let port = p.container.0;
        let Ok(addr) = ip.parse::<std::net::IpAddr>() else {
            self.lose(
                span,
                format!("port {port} of `{}` is published on `{ip}`, which is not an address; it is imported as `local`", s.name),
                "narrowed: not an IP address",
                "compose needs an IP address here; write the address you publish on",
            );
            return Level::Local;
        };
        match private_range(addr) {
            Some(range) => {
                self.lose(
                    span,
                    format!("port {port} of `{}` is published on the private address {ip}; it is imported as `restricted([\"{range}\"])`, the range that address is in", s.name),
                    "reached by whoever can route to this interface",
                    "narrow the range to the networks that should reach it",
                );
                Level::Restricted(range)
            }
            None => {
                self.lose(
                    span,
                    format!("port {port} of `{}` is published on the public address {ip}; it is imported as `public`", s.name),
                    "a public address: reached from the internet",
                    "if only some networks should reach it, make it `restricted([\"RANGE\"])`",
                );
                Level::Public
            }
        }
    }
}

/// The private range an address is in (RFC 1918, shared address space,
/// link-local, unique local), or `None` for a public address.
fn private_range(addr: std::net::IpAddr) -> Option<&'static str> {
    match addr {
        std::net::IpAddr::V4(a) => {
            let [a0, a1, ..] = a.octets();
            match (a0, a1) {
                (10, _) => Some("10.0.0.0/8"),
                (172, 16..=31) => Some("172.16.0.0/12"),
                (192, 168) => Some("192.168.0.0/16"),
                (100, 64..=127) => Some("100.64.0.0/10"),
                (169, 254) => Some("169.254.0.0/16"),
                _ => None,
            }
        }
        std::net::IpAddr::V6(a) => {
            let first = a.segments()[0];
            if first & 0xfe00 == 0xfc00 {
                Some("fc00::/7")
            } else if first & 0xffc0 == 0xfe80 {
                Some("fe80::/10")
            } else {
                None
            }
        }
    }
}

fn level_word(l: Level) -> &'static str {
    match l {
        Level::Internal => "internal",
        Level::Local => "local",
        Level::Restricted(_) => "restricted",
        Level::Public => "public",
    }
}

fn invalid(span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(Code::ImportInvalid, span, message)
        .label("compose cannot read this port")
        .help("ports are `[HOST_IP:][HOST:]CONTAINER[/PROTOCOL]`, or a mapping with `target`, `published`, `host_ip` and `protocol`")
}

fn is_loopback(ip: &str) -> bool {
    ip == "localhost"
        || ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
}

/// `8080` or `8000-8010`.
fn range(s: &str) -> Option<(u16, u16)> {
    let s = s.trim();
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let a: u16 = a.trim().parse().ok()?;
    let b: u16 = b.trim().parse().ok()?;
    (a >= 1 && a <= b).then_some((a, b))
}

/// `[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`, ranges allowed.
fn parse_short(text: &str) -> Result<Published, String> {
    let text = text.trim();
    let (rest, protocol) = match text.rsplit_once('/') {
        Some((r, p)) => (r, p.to_ascii_lowercase()),
        None => (text, "tcp".to_string()),
    };
    if protocol.is_empty() {
        return Err("no protocol after `/`".into());
    }
    let (ip, rest) = if let Some(after) = rest.strip_prefix('[') {
        let (ip, rest) = after.split_once(']').ok_or("an unclosed `[`")?;
        let rest = rest.strip_prefix(':').ok_or("no port after the address")?;
        (Some(ip.to_string()), rest)
    } else {
        if rest.matches(':').count() >= 2 {
            // IP:HOST:CONTAINER, the address itself possibly holding colons.
            let mut parts = rest.rsplitn(3, ':');
            let container = parts.next().unwrap_or("");
            let host = parts.next().unwrap_or("");
            let ip = parts.next().unwrap_or("");
            return finish(
                Some(ip.to_string()),
                &format!("{host}:{container}"),
                protocol,
            );
        }
        (None, rest)
    };
    finish(ip, rest, protocol)
}

fn finish(ip: Option<String>, rest: &str, protocol: String) -> Result<Published, String> {
    let (host, container) = match rest.split_once(':') {
        Some((h, c)) => (Some(h), c),
        None => (None, rest),
    };
    let container = range(container).ok_or("not a port number")?;
    let host = match host {
        None | Some("") => None,
        Some(h) => Some(range(h).ok_or("the host port is not a number")?),
    };
    Ok(Published {
        ip,
        host,
        container,
        protocol,
        mode: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_public_addresses() {
        let at = |s: &str| private_range(s.parse().unwrap());
        assert_eq!(at("10.1.2.3"), Some("10.0.0.0/8"));
        assert_eq!(at("172.17.0.1"), Some("172.16.0.0/12"));
        assert_eq!(at("192.168.1.10"), Some("192.168.0.0/16"));
        assert_eq!(at("fd00::1"), Some("fc00::/7"));
        assert_eq!(at("203.0.113.7"), None);
        assert_eq!(at("172.32.0.1"), None);
        assert_eq!(at("2001:db8::1"), None);
    }

    #[test]
    fn short_syntax() {
        let p = parse_short("127.0.0.1:8080:80/udp").unwrap();
        assert_eq!(p.ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(p.host, Some((8080, 8080)));
        assert_eq!(p.container, (80, 80));
        assert_eq!(p.protocol, "udp");
        let p = parse_short("[::1]:53:53").unwrap();
        assert_eq!(p.ip.as_deref(), Some("::1"));
        let p = parse_short("9090-9091:8080-8081").unwrap();
        assert_eq!(p.host, Some((9090, 9091)));
        assert_eq!(p.container, (8080, 8081));
        let p = parse_short("3000").unwrap();
        assert_eq!(p.host, None);
        let p = parse_short("127.0.0.1::5000").unwrap();
        assert_eq!(p.host, None);
        assert!(parse_short("a:b").is_err());
        assert!(parse_short("80/").is_err());
    }
}
