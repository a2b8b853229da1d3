//! The map-valued attributes of a service — `placement`, `env`, `mounts`,
//! `resources`, `health` — read into typed IR values; durations, memory
//! and CPUs through the IR's one parser per type ([`crate::ir::Duration`],
//! [`crate::ir::Bytes`], [`crate::ir::MilliCpu`]).

use crate::ast::{self, DeclKind, Protocol, Value, ValueKind};
use crate::check::values::QuantityKind;
use crate::check::Ctx;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::*;
use crate::schema;

const HEALTH_KEYS: &[&str] = &schema::HEALTH_KEYS;
const RESOURCE_KEYS: &[&str] = &schema::RESOURCE_KEYS;
const PLACEMENT_KEYS: &[&str] = &schema::PLACEMENT_KEYS;
const USER_KEYS: &[&str] = &schema::USER_KEYS;
const DATA_KEYS: &[&str] = &schema::DATA_KEYS;

const DURATION: QuantityKind<Duration> = QuantityKind {
    noun: "a duration",
    expected: "expected a duration such as \"10s\", \"1m30s\" or \"500ms\"",
    example: "\"30s\"",
    parse: Duration::parse,
};
const CPUS: QuantityKind<MilliCpu> = QuantityKind {
    noun: "a number of CPUs",
    expected: "expected a positive number such as \"0.5\"",
    example: "\"0.5\"",
    parse: MilliCpu::parse,
};
const MEMORY: QuantityKind<Bytes> = QuantityKind {
    noun: "an amount of memory",
    expected: "expected a size such as \"512Mi\" or \"1Gi\"",
    example: "\"512Mi\"",
    parse: Bytes::parse,
};

impl<'a> Ctx<'a> {
    pub(super) fn placement(&mut self, value: &Value) -> Placement {
        let v = self.deref(value);
        let ValueKind::Map(entries) = &v.kind else {
            self.type_error(value, "`placement`", "a map `{ role = worker }`");
            return Placement::default();
        };
        let mut placement = Placement::default();
        for e in entries {
            match e.key.node.as_str() {
                "role" => {
                    placement.role = match self.word(&e.value, "`role`", &["manager", "worker"]) {
                        Some("manager") => Some(Role::Manager),
                        Some(_) => Some(Role::Worker),
                        None => None,
                    }
                }
                "labels" => {
                    placement.labels = self.string_map(&e.value, "`labels`").unwrap_or_default()
                }
                other => self.unknown_key(e, other, "placement", PLACEMENT_KEYS),
            }
        }
        placement
    }

    /// `tls = { cert = NAME, key = NAME }`, both secrets.
    pub(super) fn tls(&mut self, value: &Value, span: Span) -> Option<Tls> {
        let v = self.deref(value);
        let ValueKind::Map(entries) = &v.kind else {
            self.type_error(value, "`tls`", "a map `{ cert = SECRET, key = SECRET }`");
            return None;
        };
        let (mut cert, mut key) = (None, None);
        for e in entries {
            match e.key.node.as_str() {
                "cert" => cert = self.reference(&e.value, DeclKind::Secret, "`cert`"),
                "key" => key = self.reference(&e.value, DeclKind::Secret, "`key`"),
                other => self.unknown_key(e, other, "tls", &crate::schema::TLS_KEYS),
            }
        }
        match (cert, key) {
            (Some(cert), Some(key)) => Some(Tls {
                cert: SecretId(cert),
                key: SecretId(key),
                span,
            }),
            _ => {
                if entries.iter().all(|e| e.key.node != "cert")
                    || entries.iter().all(|e| e.key.node != "key")
                {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::MissingAttribute,
                            value.span,
                            "`tls` needs both `cert` and `key`",
                        )
                        .label("incomplete")
                        .help("name the two secrets: `tls = { cert = site_cert, key = site_key }`"),
                    );
                }
                None
            }
        }
    }

    pub(in crate::check) fn unknown_key(
        &mut self,
        e: &ast::Entry,
        key: &str,
        what: &str,
        keys: &[&str],
    ) {
        let mut d = Diagnostic::new(
            Code::UnknownAttribute,
            e.key.span,
            format!("`{what}` has no key `{key}`"),
        )
        .label("unknown key");
        d = match crate::check::names::closest(key, keys.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(format!("`{what}` takes: {}", keys.join(", "))),
        };
        self.diagnostics.push(d);
    }

    pub(super) fn env(&mut self, value: &Value) -> Vec<EnvVar> {
        let v = self.deref(value);
        let ValueKind::Map(entries) = &v.kind else {
            self.type_error(value, "`env`", "a map `{ KEY = \"value\" }`");
            return Vec::new();
        };
        let mut vars = Vec::new();
        for e in entries {
            let value = match &e.value.kind {
                ValueKind::Call { func, args } if func.node == "env" && args.len() == 1 => {
                    match self.string(&args[0], "`env(...)`") {
                        Some(var) => EnvValue::HostEnv(var),
                        None => continue,
                    }
                }
                _ => match self.scalar(&e.value, &format!("`{}`", e.key.node)) {
                    Some(s) => EnvValue::Literal(s),
                    None => continue,
                },
            };
            vars.push(EnvVar {
                key: e.key.node.clone(),
                value,
                key_span: e.key.span,
                value_span: e.value.span,
                literal_span: self.deref(&e.value).span,
            });
        }
        vars
    }

    pub(super) fn mounts(&mut self, value: &Value) -> Vec<Mount> {
        let Some(items) = self.list(value, "`mounts`") else {
            return Vec::new();
        };
        let mut mounts = Vec::new();
        for item in items {
            let ValueKind::Mount {
                source,
                target,
                readonly,
            } = &item.kind
            else {
                self.type_error(
                    item,
                    "`mounts`",
                    "a mount `volume -> \"/path\"` or `\"/host\" -> \"/path\"`",
                );
                continue;
            };
            let source = match &source.kind {
                ValueKind::Str(path) => MountSource::HostPath(path.clone()),
                ValueKind::Name(_) => match self.reference(source, DeclKind::Volume, "a mount") {
                    Some(id) => MountSource::Volume(VolumeId(id)),
                    None => continue,
                },
                _ => {
                    self.type_error(
                        source,
                        "a mount's source",
                        "a volume name or a host path string",
                    );
                    continue;
                }
            };
            let Some(target) = self.string(target, "a mount's target") else {
                continue;
            };
            if !target.starts_with('/') {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        item.span,
                        format!("mount target `{target}` is not an absolute path"),
                    )
                    .label("must start with `/`"),
                );
                continue;
            }
            mounts.push(Mount {
                source,
                target,
                readonly: *readonly,
                span: item.span,
            });
        }
        mounts
    }

    pub(super) fn resources(&mut self, value: &Value) -> Resources {
        let v = self.deref(value);
        let ValueKind::Map(entries) = &v.kind else {
            self.type_error(
                value,
                "`resources`",
                "a map `{ cpu = \"0.5\", memory = \"512Mi\" }`",
            );
            return Resources::default();
        };
        let mut r = Resources::default();
        for e in entries {
            let key = e.key.node.as_str();
            match key {
                "cpu" | "cpu_request" => {
                    let Some(text) = self.scalar(&e.value, &format!("`{key}`")) else {
                        continue;
                    };
                    let cpu = self.quantity(&e.value, &format!("`{key}`"), text, &CPUS);
                    match key {
                        "cpu" => r.cpu = cpu,
                        _ => r.cpu_request = cpu,
                    }
                }
                "memory" | "memory_request" => {
                    let Some(text) = self.scalar(&e.value, &format!("`{key}`")) else {
                        continue;
                    };
                    let memory = self.quantity(&e.value, &format!("`{key}`"), text, &MEMORY);
                    match key {
                        "memory" => r.memory = memory,
                        _ => r.memory_request = memory,
                    }
                }
                "pids" => r.pids = self.integer(&e.value, "`pids`", 4_194_304),
                other => self.unknown_key(e, other, "resources", RESOURCE_KEYS),
            }
        }
        r
    }

    pub(super) fn health(&mut self, value: &Value, ports: &[Port]) -> Option<Health> {
        let v = self.deref(value);
        let ValueKind::Map(entries) = &v.kind else {
            self.type_error(
                value,
                "`health`",
                "a map `{ cmd = [...] }` or `{ http = \"/path\", port = N }`",
            );
            return None;
        };
        let mut probe = None;
        let mut port = None;
        let mut h = Health {
            probe: HealthProbe::Command(Vec::new()),
            interval: None,
            timeout: None,
            retries: None,
            start_period: None,
            span: value.span,
        };
        let mut http = None;
        for e in entries {
            let key = e.key.node.as_str();
            match key {
                "cmd" => probe = self.command(&e.value, "`cmd`").map(HealthProbe::Command),
                "http" => http = self.string(&e.value, "`http`"),
                "tcp" => {
                    probe = self
                        .port_number(&e.value, "`tcp`")
                        .map(|port| HealthProbe::Tcp { port })
                }
                "port" => port = self.port_number(&e.value, "`port`"),
                "interval" => h.interval = self.duration(&e.value, "`interval`"),
                "timeout" => h.timeout = self.duration(&e.value, "`timeout`"),
                "start_period" => h.start_period = self.duration(&e.value, "`start_period`"),
                "retries" => {
                    h.retries = self.integer(&e.value, "`retries`", 1000).map(|r| r as u32)
                }
                other => self.unknown_key(e, other, "health", HEALTH_KEYS),
            }
        }
        if let Some(path) = http {
            let port = port.or_else(|| {
                ports
                    .iter()
                    .find(|p| p.protocol == Protocol::Tcp)
                    .map(|p| p.container)
            });
            match port {
                Some(port) => probe = Some(HealthProbe::Http { path, port }),
                None => {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::MissingAttribute,
                            value.span,
                            "an http health check needs a port",
                        )
                        .label("no `port`, and the service declares no tcp port")
                        .help("add `port = N` to the health map"),
                    );
                    return None;
                }
            }
        }
        match probe {
            Some(p) => {
                h.probe = p;
                Some(h)
            }
            None => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::MissingAttribute,
                        value.span,
                        "a health check needs a probe",
                    )
                    .label("no `cmd`, `http` or `tcp`")
                    .help("add `cmd = [\"pg_isready\"]`, `http = \"/healthz\"` or `tcp = PORT`"),
                );
                None
            }
        }
    }

    pub(super) fn duration(&mut self, value: &Value, what: &str) -> Option<Duration> {
        let text = self.string(value, what)?;
        self.quantity(value, what, text, &DURATION)
    }

    /// A size of storage (`"20Gi"`), parsed as memory sizes are.
    pub(in crate::check) fn size(&mut self, value: &Value, what: &str) -> Option<Bytes> {
        let text = self.scalar(value, what)?;
        self.quantity(value, what, text, &MEMORY)
    }

    /// `user = { uid = 70, gid = 70, fs_group = 70 }`, or Docker's
    /// `"UID[:GID]"` (numeric ids read from it) or a user name.
    pub(super) fn user(&mut self, value: &Value) -> Option<User> {
        let v = self.deref(value);
        let ValueKind::Map(entries) = &v.kind else {
            let spelled = self.string(value, "`user`")?;
            let (uid, gid) = spelled.split_once(':').unwrap_or((&spelled, &spelled));
            let (uid, gid) = (uid.parse::<u32>().ok(), gid.parse::<u32>().ok());
            let known = uid.is_some() && gid.is_some();
            return Some(User {
                docker: spelled.clone(),
                uid: uid.filter(|_| known),
                gid: gid.filter(|_| known),
                fs_group: None,
            });
        };
        let (mut uid, mut gid, mut fs_group) = (None, None, None);
        for e in entries {
            let id = |ctx: &mut Self, what: &str| {
                ctx.integer(&e.value, what, u64::from(u32::MAX))
                    .map(|n| n as u32)
            };
            match e.key.node.as_str() {
                "uid" => uid = id(self, "`uid`"),
                "gid" => gid = id(self, "`gid`"),
                "fs_group" => fs_group = id(self, "`fs_group`"),
                other => self.unknown_key(e, other, "user", USER_KEYS),
            }
        }
        let Some(uid) = uid else {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::MissingAttribute,
                    value.span,
                    "`user` has no `uid`".to_string(),
                )
                .label("no `uid`")
                .help("write the image's numeric ids: `user = { uid = 70, gid = 70 }`"),
            );
            return None;
        };
        let gid = gid.unwrap_or(uid);
        Some(User {
            docker: format!("{uid}:{gid}"),
            uid: Some(uid),
            gid: Some(gid),
            fs_group,
        })
    }

    /// `data = { dir = "/var/lib/postgresql/data", subdir = "pgdata", env = "PGDATA" }`.
    pub(super) fn data_dir(&mut self, value: &Value) -> Option<DataDir> {
        let v = self.deref(value);
        let ValueKind::Map(entries) = &v.kind else {
            self.type_error(value, "`data`", "a map `{ dir = \"/data\" }`");
            return None;
        };
        let (mut dir, mut subdir, mut env) = (None, None, None);
        for e in entries {
            match e.key.node.as_str() {
                "dir" => dir = self.string(&e.value, "`dir`"),
                "subdir" => subdir = self.string(&e.value, "`subdir`"),
                "env" => env = self.string(&e.value, "`env`"),
                other => self.unknown_key(e, other, "data", DATA_KEYS),
            }
        }
        let plain = |s: &str| !s.is_empty() && !s.contains('/') && s != "." && s != "..";
        if let Some(sub) = subdir.as_deref().filter(|s| !plain(s)) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    value.span,
                    format!("`subdir` must be one directory name, not `{sub}`"),
                )
                .label("not a plain name")
                .help("write a name such as `subdir = \"pgdata\"`: the data lives in DIR/NAME"),
            );
            subdir = None;
        }
        let Some(dir) = dir.filter(|d| d.starts_with('/')) else {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::MissingAttribute,
                    value.span,
                    "`data` needs an absolute `dir`".to_string(),
                )
                .label("no absolute `dir`")
                .help("write where the image keeps its data: `data = { dir = \"/data\" }`"),
            );
            return None;
        };
        Some(DataDir {
            dir,
            subdir,
            env,
            span: value.span,
        })
    }
}

/// The number of bytes of a memory size (`512Mi`, `1G`, `1024`), if it is
/// one a program may write.
pub fn memory_bytes(s: &str) -> Option<u64> {
    Bytes::parse(s).ok().map(|b| b.bytes())
}

/// `10s`, `1m30s`, `500ms`, `2h`: digits and a unit, repeated, at most a day.
pub fn is_duration(s: &str) -> bool {
    Duration::parse(s).is_ok()
}

#[cfg(test)]
mod tests {
    use crate::diagnostics::Code;

    /// Each typed quantity refuses the malformed (`invalid-value`) and the
    /// absurd (`value-out-of-range`), at the value.
    #[test]
    fn quantities_are_checked_where_written() {
        let text = r#"
service api {
  image = "ghcr.io/acme/api:1.0"
  port 8080 internal
  health = { http = "/healthz", interval = "25h", timeout = "5x" }
  resources = { cpu = "2000", memory = "0.1", cpu_request = "0", memory_request = "1025Ti" }
  stop_grace_period = "soon"
}
"#;
        let checked = crate::compile::compile_text("q.inf", text);
        let mut found: Vec<(Code, &str)> = checked
            .diagnostics
            .iter()
            .filter(|d| matches!(d.code, Code::InvalidValue | Code::ValueOutOfRange))
            .map(|d| {
                (
                    d.code,
                    &text[d.primary.span.start as usize..d.primary.span.end as usize],
                )
            })
            .collect();
        found.sort();
        assert_eq!(
            found,
            vec![
                (Code::InvalidValue, "\"0\""),
                (Code::InvalidValue, "\"5x\""),
                (Code::InvalidValue, "\"soon\""),
                (Code::ValueOutOfRange, "\"0.1\""),
                (Code::ValueOutOfRange, "\"1025Ti\""),
                (Code::ValueOutOfRange, "\"2000\""),
                (Code::ValueOutOfRange, "\"25h\""),
            ]
        );
    }
}
