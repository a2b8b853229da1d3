//! The generated proxy configurations read back, one reader per format
//! (nginx.conf, haproxy.cfg, Caddyfile, Traefik's dynamic.yml): what each
//! proxy forwards, independent of the writers that made them. A reader
//! refuses what it cannot account for (an `allow` with no `deny all`, a
//! handle with no backend), so a writer that drifts fails here rather
//! than reading as a narrower proxy than it is.

use ipnet::IpNet;
use yaml_rust2::{Yaml, YamlLoader};

/// One thing a proxy forwards: requests for `host` (`None`: any host) under
/// `path` go to `backend:port`, from `allow` only when it is `Some`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Forward {
    pub host: Option<String>,
    pub path: String,
    pub backend: String,
    pub port: u16,
    pub allow: Option<Vec<IpNet>>,
}

/// A proxy's configuration as read: its forwards, and the host of each
/// server or site block (nginx `server_name`, haproxy `acl host-N`,
/// Caddy site addresses; Traefik has routers, not sites, so none).
#[derive(Debug, Default)]
pub struct Read {
    /// In match order where the proxy takes the first match (`ordered`).
    pub forwards: Vec<Forward>,
    pub sites: Vec<Option<String>>,
    /// The proxy takes the first forward that matches (HAProxy's rules,
    /// Traefik's priorities), not the longest (nginx, Caddy).
    pub ordered: bool,
    /// The format has server or site blocks (all but Traefik's).
    pub has_sites: bool,
}

/// The configuration of one proxy from its files (name, contents), by the
/// file that names its format.
pub fn read(files: &[(&str, &str)]) -> Result<Read, String> {
    let find = |n: &str| files.iter().find(|(f, _)| *f == n).map(|(_, c)| *c);
    if let Some(c) = find("nginx.conf") {
        nginx(c)
    } else if let Some(c) = find("haproxy.cfg") {
        haproxy(c)
    } else if let Some(c) = find("Caddyfile") {
        caddy(c)
    } else if let Some(c) = find("dynamic.yml") {
        traefik(c)
    } else {
        Err(format!(
            "no proxy configuration among {:?}",
            files.iter().map(|(f, _)| *f).collect::<Vec<_>>()
        ))
    }
}

fn nets(words: &str) -> Result<Vec<IpNet>, String> {
    words
        .split([' ', ','])
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().map_err(|e| format!("`{w}`: {e}")))
        .collect()
}

/// `NAME:PORT`.
fn address(a: &str) -> Result<(String, u16), String> {
    let (name, port) = a.rsplit_once(':').ok_or(format!("`{a}` has no port"))?;
    let port = port.parse().map_err(|e| format!("`{a}`: {e}"))?;
    Ok((name.to_string(), port))
}

/// Lines that are configuration: trimmed, no blank and no comment lines.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

#[derive(Default)]
struct NginxServer {
    name: Option<String>,
    redirect: bool,
    /// (location argument, allowed, deny all, backend, port)
    locations: Vec<NginxLocation>,
}

#[derive(Default)]
struct NginxLocation {
    at: String,
    allow: Vec<IpNet>,
    deny_all: bool,
    backend: Option<String>,
    port: Option<u16>,
}

fn nginx(text: &str) -> Result<Read, String> {
    let mut stack: Vec<String> = Vec::new();
    let mut servers: Vec<NginxServer> = Vec::new();
    let mut server: Option<NginxServer> = None;
    let mut location: Option<NginxLocation> = None;
    for line in lines(text) {
        if let Some(head) = line.strip_suffix('{') {
            let head = head.trim();
            if head == "server" {
                server = Some(NginxServer::default());
            } else if let Some(at) = head.strip_prefix("location ") {
                location = Some(NginxLocation {
                    at: at.trim().to_string(),
                    ..NginxLocation::default()
                });
            }
            stack.push(head.to_string());
            continue;
        }
        if line == "}" {
            match stack.pop().as_deref() {
                Some("server") => servers.push(server.take().ok_or("a stray server end")?),
                Some(h) if h.starts_with("location ") => server
                    .as_mut()
                    .ok_or("a location outside a server")?
                    .locations
                    .push(location.take().ok_or("a stray location end")?),
                Some(_) => {}
                None => return Err("an unbalanced `}`".into()),
            }
            continue;
        }
        let Some(stmt) = line.strip_suffix(';') else {
            // `map` entries inside the http block end with `;` too; only
            // a block's own lines come here.
            return Err(format!("a line that is no statement: `{line}`"));
        };
        let (directive, args) = stmt.split_once(' ').unwrap_or((stmt, ""));
        if let Some(l) = location.as_mut() {
            match directive {
                "allow" => l.allow.extend(nets(args)?),
                "deny" if args == "all" => l.deny_all = true,
                "set" => {
                    let name = args
                        .strip_prefix("$backend ")
                        .ok_or(format!("`{stmt}`: a variable other than $backend"))?;
                    l.backend = Some(name.to_string());
                }
                "proxy_pass" => {
                    let p = args
                        .strip_prefix("http://$backend:")
                        .ok_or(format!("`{stmt}` passes elsewhere than $backend"))?;
                    l.port = Some(p.parse().map_err(|e| format!("`{stmt}`: {e}"))?);
                }
                _ => {
                    return Err(format!(
                        "a location directive the reader does not know: `{stmt}`"
                    ))
                }
            }
        } else if let Some(s) = server.as_mut() {
            match directive {
                "server_name" => s.name = Some(args.to_string()),
                "return" if args.starts_with("301 ") => s.redirect = true,
                _ => {}
            }
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed blocks {stack:?}"));
    }
    let mut read = Read {
        has_sites: true,
        ..Read::default()
    };
    for s in servers.into_iter().filter(|s| !s.redirect) {
        read.sites.push(s.name.clone());
        let exact: Vec<&str> = s
            .locations
            .iter()
            .filter_map(|l| l.at.strip_prefix("= "))
            .collect();
        for l in &s.locations {
            // `= /api` with `/api/`: the path itself and what is under it.
            let path = match l.at.strip_prefix("= ") {
                Some(p) => p.to_string(),
                None => match l.at.strip_suffix('/') {
                    Some(p) if exact.contains(&p) => continue,
                    _ => l.at.clone(),
                },
            };
            if !path.ends_with('/') && !s.locations.iter().any(|o| o.at == format!("{path}/")) {
                return Err(format!("location `= {path}` without `{path}/`"));
            }
            let allow = match (l.allow.is_empty(), l.deny_all) {
                (true, false) => None,
                (false, true) => Some(l.allow.clone()),
                (true, true) => Some(vec![]),
                (false, false) => return Err(format!("`{}` allows without `deny all`", l.at)),
            };
            read.forwards.push(Forward {
                host: s.name.clone(),
                path,
                backend: l
                    .backend
                    .clone()
                    .ok_or(format!("`{}` has no backend", l.at))?,
                port: l.port.ok_or(format!("`{}` passes nowhere", l.at))?,
                allow,
            });
        }
    }
    Ok(read)
}

/// One HAProxy frontend that serves (not a redirect), route by route.
#[derive(Default)]
struct Frontend {
    hosts: Vec<(String, String)>,
    /// path-N → (exact path, prefix)
    paths: std::collections::BTreeMap<String, (Option<String>, Option<String>)>,
    /// rN → (host acl, path acl)
    routes: Vec<(String, Option<String>, String)>,
    denies: std::collections::BTreeMap<String, Vec<IpNet>>,
    uses: std::collections::BTreeMap<String, String>,
}

fn haproxy(text: &str) -> Result<Read, String> {
    let mut frontends: Vec<(Frontend, bool)> = Vec::new();
    let mut backends: std::collections::BTreeMap<String, (String, u16)> = Default::default();
    let mut section = String::new();
    for raw in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    {
        if !raw.starts_with(' ') {
            section = raw.trim().to_string();
            if section.starts_with("frontend ") {
                frontends.push((Frontend::default(), false));
            }
            continue;
        }
        let line = raw.trim();
        if let Some(name) = section.strip_prefix("backend ") {
            if let Some(rest) = line.strip_prefix("server ") {
                let addr = rest.split_whitespace().nth(1).ok_or(format!("`{line}`"))?;
                backends.insert(name.to_string(), address(addr)?);
            }
            continue;
        }
        if !section.starts_with("frontend ") {
            continue;
        }
        let (f, redirect) = frontends.last_mut().expect("in a frontend");
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["http-request", "redirect", ..] => *redirect = true,
            ["acl", acl, "req.hdr(host),field(1,:),lower", "-m", how, value] => {
                let host = match *how {
                    "str" => value.to_string(),
                    "end" => format!("*{value}"),
                    _ => return Err(format!("`{line}`")),
                };
                f.hosts.push((acl.to_string(), host));
            }
            ["acl", acl, "path", p] => {
                f.paths.entry(acl.to_string()).or_default().0 = Some(p.to_string())
            }
            ["acl", acl, "path_beg", p] => {
                f.paths.entry(acl.to_string()).or_default().1 = Some(p.to_string())
            }
            ["http-request", "set-var(txn.route)", route, "if", "!{", "var(txn.route)", "-m", "found", "}", rest @ ..] =>
            {
                let Some(r) = route.strip_prefix("str(").and_then(|r| r.strip_suffix(')')) else {
                    return Err(format!("`{line}`"));
                };
                if r == "none" {
                    continue;
                }
                let (host, path) = match rest {
                    [path] => (None, path),
                    [host, path] => (Some(host.to_string()), path),
                    _ => return Err(format!("`{line}`")),
                };
                f.routes.push((r.to_string(), host, path.to_string()));
            }
            ["http-request", "deny", "deny_status", "403", "if", "{", "var(txn.route)", "-m", "str", r, "}", "!{", "src", rest @ ..] =>
            {
                let list = rest.strip_suffix(&["}"]).ok_or(format!("`{line}`"))?;
                f.denies.insert(r.to_string(), nets(&list.join(" "))?);
            }
            ["use_backend", b, "if", "{", "var(txn.route)", "-m", "str", r, "}"] => {
                if f.uses.insert(r.to_string(), b.to_string()).is_some() {
                    return Err(format!("route {r} has two backends"));
                }
            }
            ["bind", ..] | ["default_backend", "not-found"] => {}
            _ => {
                return Err(format!(
                    "a frontend line the reader does not know: `{line}`"
                ))
            }
        }
    }
    let serving: Vec<&Frontend> = frontends
        .iter()
        .filter(|(_, r)| !r)
        .map(|(f, _)| f)
        .collect();
    let mut reads = serving.iter().map(|f| {
        let mut read = Read {
            ordered: true,
            has_sites: true,
            ..Read::default()
        };
        for (_, host) in &f.hosts {
            read.sites.push(Some(host.clone()));
        }
        for (r, host, path) in &f.routes {
            let host = match host {
                Some(acl) => Some(
                    f.hosts
                        .iter()
                        .find(|(a, _)| a == acl)
                        .map(|(_, h)| h.clone())
                        .ok_or(format!("route {r}: no acl {acl}"))?,
                ),
                None => None,
            };
            let path = match f.paths.get(path) {
                Some((Some(exact), Some(prefix))) if *prefix == format!("{exact}/") => {
                    exact.clone()
                }
                Some((None, Some(prefix))) if prefix.ends_with('/') => prefix.clone(),
                other => return Err(format!("route {r}: path acl {path} is {other:?}")),
            };
            let b = f.uses.get(r).ok_or(format!("route {r} has no backend"))?;
            let (backend, port) = backends.get(b).cloned().ok_or(format!("no backend {b}"))?;
            read.forwards.push(Forward {
                host,
                path,
                backend,
                port,
                allow: f.denies.get(r).cloned(),
            });
        }
        if f.uses.len() != f.routes.len() {
            return Err(format!(
                "{} backends used for {} routes",
                f.uses.len(),
                f.routes.len()
            ));
        }
        Ok(read)
    });
    // Every serving port forwards the same: one reading stands for all.
    let first = reads.next().transpose()?.unwrap_or_default();
    for other in reads {
        let other = other?;
        if other.forwards != first.forwards || other.sites != first.sites {
            return Err("two serving frontends forward differently".into());
        }
    }
    Ok(first)
}

/// A Caddy `handle` block: its path (`None`: every path), allowlist,
/// backend, and whether it answers 404.
#[derive(Default)]
struct Handle {
    path: Option<String>,
    allow: Option<Vec<IpNet>>,
    to: Option<(String, u16)>,
    not_found: bool,
}

fn caddy(text: &str) -> Result<Read, String> {
    let mut read = Read {
        has_sites: true,
        ..Read::default()
    };
    // (site host, whether it only redirects)
    let mut site: Option<(Option<String>, bool)> = None;
    let mut matchers: std::collections::BTreeMap<String, String> = Default::default();
    let mut handle: Option<Handle> = None;
    let mut refused: std::collections::BTreeMap<String, Vec<IpNet>> = Default::default();
    for raw in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    {
        let depth = raw.len() - raw.trim_start_matches('\t').len();
        let line = raw.trim();
        match depth {
            0 if line == "{" => site = None,
            0 if line.ends_with('{') => {
                let first = line.split([',', ' ']).next().unwrap_or("");
                let (_, rest) = first.split_once("://").ok_or(format!("site `{line}`"))?;
                let (host, _) = rest.rsplit_once(':').ok_or(format!("site `{line}`"))?;
                site = Some(((!host.is_empty()).then(|| host.to_string()), false));
                matchers.clear();
            }
            0 if line == "}" => {
                if let Some((host, false)) = site.take() {
                    read.sites.push(host);
                }
            }
            1 if site.is_none() => {}
            1 if line.starts_with("redir ") => {
                if let Some(s) = site.as_mut() {
                    s.1 = true;
                }
            }
            1 if line.starts_with('@') => {
                let (name, rest) = line.split_once(' ').ok_or(format!("`{line}`"))?;
                let path = match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
                    ["path", p, under] if *under == format!("{p}/*") => p.to_string(),
                    ["path", p] if p.ends_with("/*") => p.trim_end_matches('*').to_string(),
                    _ => return Err(format!("matcher `{line}`")),
                };
                matchers.insert(name.to_string(), path);
            }
            1 if line.starts_with("handle") => {
                let path = match line.split_whitespace().nth(1) {
                    Some("{") => None,
                    Some(m) => Some(matchers.get(m).cloned().ok_or(format!("no matcher {m}"))?),
                    None => return Err(format!("`{line}`")),
                };
                handle = Some(Handle {
                    path,
                    ..Handle::default()
                });
                refused.clear();
            }
            1 if line == "}" => {
                let Handle {
                    path,
                    allow,
                    to,
                    not_found,
                } = handle.take().ok_or("a stray handle end")?;
                let (host, _) = site.clone().ok_or("a handle outside a site")?;
                match (to, not_found) {
                    (Some((backend, port)), false) => read.forwards.push(Forward {
                        host,
                        path: path.unwrap_or_else(|| "/".into()),
                        backend,
                        port,
                        allow,
                    }),
                    (None, true) if path.is_none() => {}
                    _ => return Err(format!("a handle of {host:?} with no single outcome")),
                }
            }
            1 if line.starts_with("tls ") || line == "respond 404" => {}
            2 => {
                let h = handle
                    .as_mut()
                    .ok_or(format!("`{line}` outside a handle"))?;
                let words: Vec<&str> = line.split_whitespace().collect();
                match words.as_slice() {
                    [m, "not", "remote_ip", list @ ..] => {
                        refused.insert(m.to_string(), nets(&list.join(" "))?);
                    }
                    ["respond", m, "403"] => {
                        h.allow = Some(refused.get(*m).cloned().ok_or(format!("no matcher {m}"))?);
                    }
                    ["respond", "404"] => h.not_found = true,
                    ["reverse_proxy", to] => h.to = Some(address(to)?),
                    _ => return Err(format!("a handle line the reader does not know: `{line}`")),
                }
            }
            _ => return Err(format!("a line the reader does not know: `{line}`")),
        }
    }
    Ok(read)
}

/// `Host(`h`)` or the wildcard's `HostRegexp`, then the path's rule.
fn traefik_rule(rule: &str) -> Result<(Option<String>, String), String> {
    let (host, path) = match rule.split_once(" && ") {
        Some((h, p)) => (Some(h), p),
        None => (None, rule),
    };
    let host = match host {
        None => None,
        Some(h) => Some(
            if let Some(n) = h.strip_prefix("Host(`").and_then(|h| h.strip_suffix("`)")) {
                n.to_string()
            } else if let Some(re) = h
                .strip_prefix("HostRegexp(`^[^.]+\\.")
                .and_then(|h| h.strip_suffix("$`)"))
            {
                format!("*.{}", re.replace("\\.", "."))
            } else {
                return Err(format!("host rule `{h}`"));
            },
        ),
    };
    let path = if let Some(p) = path
        .strip_prefix("PathPrefix(`")
        .and_then(|p| p.strip_suffix("`)"))
    {
        if !p.ends_with('/') {
            return Err(format!("a prefix that matches `{p}x`: `{path}`"));
        }
        p.to_string()
    } else if let Some(inner) = path
        .strip_prefix("(Path(`")
        .and_then(|p| p.strip_suffix("`))"))
    {
        let (exact, under) = inner
            .split_once("`) || PathPrefix(`")
            .ok_or(format!("path rule `{path}`"))?;
        if under != format!("{exact}/") {
            return Err(format!("path rule `{path}`"));
        }
        exact.to_string()
    } else {
        return Err(format!("path rule `{path}`"));
    };
    Ok((host, path))
}

fn traefik(text: &str) -> Result<Read, String> {
    let doc = YamlLoader::load_from_str(text)
        .map_err(|e| e.to_string())?
        .pop()
        .ok_or("an empty dynamic.yml")?;
    let http = &doc["http"];
    let mut read = Read {
        ordered: true,
        ..Read::default()
    };
    let mut by_priority = Vec::new();
    for (name, r) in http["routers"].as_hash().ok_or("no routers")? {
        let name = name.as_str().unwrap_or("?");
        let (host, path) = traefik_rule(r["rule"].as_str().ok_or(format!("{name}: no rule"))?)?;
        let service = r["service"].as_str().ok_or(format!("{name}: no service"))?;
        let url = http["services"][service]["loadBalancer"]["servers"][0]["url"]
            .as_str()
            .ok_or(format!("{name}: service {service} has no server"))?;
        let servers = http["services"][service]["loadBalancer"]["servers"]
            .as_vec()
            .map_or(0, Vec::len);
        if servers != 1 {
            return Err(format!("{name}: {servers} servers"));
        }
        let (backend, port) = address(url.strip_prefix("http://").ok_or(format!("url {url}"))?)?;
        let mut allow: Option<Vec<IpNet>> = None;
        for mw in r["middlewares"].as_vec().into_iter().flatten() {
            let mw = mw.as_str().ok_or(format!("{name}: a middleware"))?;
            let ranges = &http["middlewares"][mw]["ipAllowList"]["sourceRange"];
            let list: Vec<&str> = ranges
                .as_vec()
                .ok_or(format!("{name}: middleware {mw} is no allowlist"))?
                .iter()
                .filter_map(Yaml::as_str)
                .collect();
            let got = nets(&list.join(" "))?;
            // Two allowlists admit what both admit; the writer makes one.
            if allow.replace(got).is_some() {
                return Err(format!("{name}: two allowlists"));
            }
        }
        let priority = r["priority"]
            .as_i64()
            .ok_or(format!("{name}: no priority"))?;
        by_priority.push((
            std::cmp::Reverse(priority),
            Forward {
                host,
                path,
                backend,
                port,
                allow,
            },
        ));
    }
    // Highest priority first; Traefik orders equal ones by rule length,
    // which the writer never leaves it to.
    by_priority.sort_by_key(|(p, _)| *p);
    if by_priority.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err("two routers of one priority".into());
    }
    read.forwards = by_priority.into_iter().map(|(_, f)| f).collect();
    Ok(read)
}
