//! A service's `port` and `route` statements: numbers in range, the
//! declared level, and a route's target and port resolved.

use crate::ast::{self, DeclKind, LevelExpr, Protocol, Stmt};
use crate::check::Ctx;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::*;
use crate::span::Span;

impl<'a> Ctx<'a> {
    pub(super) fn port(&mut self, p: &ast::PortDecl) -> Option<Port> {
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
            witness: Vec::new(),
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

    pub(super) fn route(&mut self, r: &ast::RouteDecl) -> Option<Route> {
        // A matcher that is no host or path is reported by the rules
        // ([`route_matchers`]), so the rest of the program is still judged
        // and drawn; the error keeps it from every target.
        let (host, path) = split_matcher(&r.matcher.node).unwrap_or((None, "/".to_string()));
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
            host,
            path,
            target: id,
            port,
            restriction,
            handed: None,
            span: r.span,
        })
    }
}

/// E1015 for every route whose matcher is not a host, a path, or both.
pub(in crate::check) fn route_matchers(ctx: &mut Ctx<'_>, model: &Model) {
    for s in &model.services {
        for r in &s.routes {
            if let Err((what, help)) = split_matcher(&r.matcher) {
                ctx.diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidRoute,
                        r.span,
                        format!("route {:?} of `{}`: {what}", r.matcher, s.name),
                    )
                    .label("not a host name, a path, or a host name and a path")
                    .help(help),
                );
            }
        }
    }
}

/// `app.example.com/api` → (`app.example.com`, `/api`); `/api` → (none,
/// `/api`); `app.example.com` → (`app.example.com`, `/`). The host must be
/// an RFC 1123 name in lower case (a leading `*.` allowed, as Ingress
/// allows it), the path a URL path of unreserved characters: both are
/// written into proxy configuration, so nothing else may reach it.
pub(crate) fn split_matcher(matcher: &str) -> Result<(Option<String>, String), (String, String)> {
    let (host, path) = match matcher.find('/') {
        Some(0) => (None, matcher),
        Some(i) => (Some(&matcher[..i]), &matcher[i..]),
        None => (Some(matcher), "/"),
    };
    if let Some(h) = host {
        dns_name(h).map_err(|why| {
            (
                format!("the host {h:?} {why}"),
                "a host is a DNS name in lower case, labels of letters, digits and `-` joined by `.`: `app.example.com`, `*.example.com`".to_string(),
            )
        })?;
    }
    url_path(path).map_err(|why| {
        (
            format!("the path {path:?} {why}"),
            "a path starts with `/` and holds letters, digits and `-._~%/:@+,=`: `/api/v1`"
                .to_string(),
        )
    })?;
    Ok((host.map(str::to_string), path.to_string()))
}

fn dns_name(host: &str) -> Result<(), &'static str> {
    let name = host.strip_prefix("*.").unwrap_or(host);
    if name.is_empty() {
        return Err("is empty");
    }
    if host.len() > 253 {
        return Err("is longer than 253 characters");
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("has an empty label");
        }
        if label.len() > 63 {
            return Err("has a label longer than 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err("has a character other than a lower-case letter, a digit, `-` or `.`");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("has a label that starts or ends with `-`");
        }
    }
    Ok(())
}

fn url_path(path: &str) -> Result<(), &'static str> {
    if !path.starts_with('/') {
        return Err("does not start with `/`");
    }
    if path.contains("//") {
        return Err("has an empty segment (`//`)");
    }
    if path.split('/').any(|seg| seg == "." || seg == "..") {
        return Err("has a `.` or `..` segment");
    }
    if !path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~%/:@+,=".contains(&b))
    {
        return Err("has a character a path may not hold here (a space, quote, `?`, `#`, `;`, `$`, `{`, ...)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::split_matcher;

    #[test]
    fn matchers_split_and_check() {
        let ok = |m: &str| split_matcher(m).unwrap();
        assert_eq!(
            ok("app.example.com"),
            (Some("app.example.com".into()), "/".into())
        );
        assert_eq!(
            ok("app.example.com/api"),
            (Some("app.example.com".into()), "/api".into())
        );
        assert_eq!(ok("/api/v1"), (None, "/api/v1".into()));
        assert_eq!(ok("/"), (None, "/".into()));
        assert_eq!(
            ok("*.example.com"),
            (Some("*.example.com".into()), "/".into())
        );
        for bad in [
            "App.example.com",
            "app..example.com",
            "-app.example.com",
            "app example.com",
            "app.example.com/a b",
            "app.example.com/a;b",
            "/a\"{",
            "/a//b",
            "/../etc",
            "",
            "*.",
            &format!("{}.com", "a".repeat(64)),
        ] {
            assert!(split_matcher(bad).is_err(), "{bad:?} accepted");
        }
    }
}
