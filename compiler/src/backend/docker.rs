//! What compose and swarm share: one Docker service definition per
//! service, with the secure defaults of the research notes (§3.1): every
//! capability dropped and only the declared ones added back,
//! `no-new-privileges`, restart on failure (5 tries), rotated logs, and a
//! health check from the source. Each default yields to the source: a
//! declared `cap_drop`, `restart` or a `no-new-privileges` option wins.

use super::yaml::{strings, Map, Node};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{
    Duration, EnvValue, Health, HealthProbe, Model, MountSource, Port, Resources, Service,
};

/// Compose and swarm interpolate `$` in every value; a literal `$` is `$$`.
pub(super) fn escape_dollars(s: &str) -> String {
    s.replace('$', "$$")
}

/// A command in exec form, with `$` kept literal.
pub(super) fn command(args: &[String]) -> Node {
    Node::Seq(args.iter().map(|a| Node::Str(escape_dollars(a))).collect())
}

pub(super) fn environment(service: &Service) -> Map {
    let mut env = Map::new();
    for var in &service.env {
        let value = match &var.value {
            EnvValue::Literal(v) => escape_dollars(v),
            // Read from the deploying machine's environment; fail the deploy
            // rather than start with an empty value.
            EnvValue::HostEnv(name) => {
                format!("${{{name}:?set {name} in the environment that deploys}}")
            }
        };
        env.insert(var.key.as_str(), value);
    }
    env
}

pub(super) fn healthcheck(health: &Health) -> Map {
    let test = match &health.probe {
        HealthProbe::Command(args) => {
            let mut t = vec![Node::from("CMD")];
            t.extend(args.iter().map(|a| Node::Str(escape_dollars(a))));
            Node::Seq(t)
        }
        HealthProbe::Http { path, port } => strings(&[
            "CMD-SHELL".to_string(),
            format!(
                "wget -q -O /dev/null http://127.0.0.1:{port}{} || exit 1",
                escape_dollars(path)
            ),
        ]),
        HealthProbe::Tcp { port } => strings(&[
            "CMD-SHELL".to_string(),
            format!("nc -z 127.0.0.1 {port} || exit 1"),
        ]),
    };
    let mut m = Map::new();
    m.insert("test", test);
    let spelled = |d: &Option<Duration>| d.as_ref().map(Duration::to_string);
    m.insert_some("interval", spelled(&health.interval));
    m.insert_some("timeout", spelled(&health.timeout));
    m.insert_some("retries", health.retries);
    m.insert_some("start_period", spelled(&health.start_period));
    m
}

pub(super) fn resources(r: &Resources) -> Map {
    let mut limits = Map::new();
    limits.insert_some("cpus", r.cpu.map(|c| c.to_string()));
    limits.insert_some("memory", r.memory.map(|m| m.docker()));
    limits.insert_some("pids", r.pids.map(|p| p as i64));
    let mut reservations = Map::new();
    reservations.insert_some("cpus", r.cpu_request.map(|c| c.to_string()));
    reservations.insert_some("memory", r.memory_request.map(|m| m.docker()));
    let mut m = Map::new();
    m.insert_map("limits", limits);
    m.insert_map("reservations", reservations);
    m
}

fn logging() -> Map {
    let mut options = Map::new();
    options.insert("max-size", "10m").insert("max-file", "3");
    let mut m = Map::new();
    m.insert("driver", "json-file").insert("options", options);
    m
}

fn service_volumes(model: &Model, service: &Service) -> Vec<Node> {
    service
        .mounts
        .iter()
        .map(|mount| {
            let mut m = Map::new();
            match &mount.source {
                MountSource::Volume(v) => {
                    m.insert("type", "volume")
                        .insert("source", &model.volume(*v).name);
                }
                MountSource::HostPath(p) => {
                    m.insert("type", "bind").insert("source", p.as_str());
                }
            }
            m.insert("target", mount.target.as_str());
            if mount.readonly {
                m.insert("read_only", true);
            }
            Node::Map(m)
        })
        .collect()
}

/// The parts of a service definition that compose and swarm write alike,
/// in reading order; the caller adds ports, dependencies and `deploy`.
pub(super) fn service_base(model: &Model, s: &Service) -> Map {
    let mut m = Map::new();
    m.insert("image", s.image.as_str());
    if let Some(c) = &s.entrypoint {
        m.insert("entrypoint", command(c));
    }
    if let Some(c) = &s.command {
        m.insert("command", command(c));
    }
    m.insert_some("user", s.user.as_ref());
    m.insert_some("working_dir", s.working_dir.as_ref());
    m.insert_map("environment", environment(s));
    let networks: Vec<Node> = s
        .networks
        .iter()
        .map(|n| Node::from(&model.network(*n).name))
        .collect();
    // On the host's network a service has no other: compose refuses both.
    if !s.host_network {
        m.insert_seq("networks", networks);
    }
    m.insert_seq("volumes", service_volumes(model, s));
    m.insert_seq("tmpfs", s.tmpfs.iter().map(Node::from).collect());
    let secrets: Vec<Node> = s
        .secrets
        .iter()
        .map(|id| Node::from(&model.secret(*id).name))
        .collect();
    m.insert_seq("secrets", secrets);
    if let Some(h) = &s.health {
        m.insert("healthcheck", healthcheck(h));
    }
    // Hardening defaults, each yielding to what the source says.
    let cap_drop = if s.cap_drop.is_empty() {
        vec!["ALL".to_string()]
    } else {
        s.cap_drop.clone()
    };
    m.insert("cap_drop", strings(&cap_drop));
    m.insert_seq("cap_add", s.cap_add.iter().map(Node::from).collect());
    let mut security_opt = s.security_opt.clone();
    if !security_opt
        .iter()
        .any(|o| o.starts_with("no-new-privileges"))
    {
        security_opt.insert(0, "no-new-privileges:true".to_string());
    }
    m.insert("security_opt", strings(&security_opt));
    if let Some(ro) = s.read_only {
        m.insert("read_only", ro);
    }
    if s.privileged {
        m.insert("privileged", true);
    }
    if s.host_network {
        m.insert("network_mode", "host");
    }
    if s.host_pid {
        m.insert("pid", "host");
    }
    if s.host_ipc {
        m.insert("ipc", "host");
    }
    m.insert_some(
        "stop_grace_period",
        s.stop_grace_period.as_ref().map(Duration::to_string),
    );
    m.insert("logging", logging());
    let mut labels = Map::new();
    for (k, v) in &s.labels {
        labels.insert(k.as_str(), escape_dollars(v));
    }
    m.insert_map("labels", labels);
    m
}

/// The files of a compose or swarm target: `file` from `root`, and the
/// compose-lint configuration of the program's waivers.
pub(super) fn files(
    file: &str,
    header: &[String],
    root: &Map,
    model: &Model,
    options: &super::Options,
) -> Vec<super::Artifact> {
    let mut artifacts = vec![super::Artifact {
        path: file.into(),
        contents: super::yaml::to_string(header, root),
    }];
    artifacts.extend(compose_lint_config(model, &options.source));
    artifacts
}

/// A `restricted` port of `s` published by compose or swarm (`target`):
/// the comment that names what enforces its ranges, and the error when
/// nothing would (no provider, so no security group).
pub(super) fn restricted_port(
    model: &Model,
    s: &Service,
    p: &Port,
    nets: &[ipnet::IpNet],
    target: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> String {
    if model.provider.is_none() {
        diagnostics.push(cannot_enforce(s, p, target));
    }
    format!(
        "port {} is restricted to {} by {}",
        p.host,
        ranges(nets),
        enforcing_group(model, s)
    )
}

fn cannot_enforce(s: &Service, p: &Port, target: &str) -> Diagnostic {
    Diagnostic::new(
        Code::TargetCannotEnforce,
        p.level_span,
        format!("{target} cannot restrict port {} of `{}` to address ranges by itself", p.container, s.name),
    )
    .label("restricted, but nothing here would enforce it")
    .help("add `provider aws { region = \"...\" }` so `infrac build --target terraform` generates the security group that enforces the ranges, or make the port `local` and use an SSH tunnel")
}

/// `ports:` of a service, with the notes on its restricted ports as the
/// comment above it; nothing when no port is published.
pub(super) fn insert_ports(m: &mut Map, ports: Vec<Node>, notes: &[String]) {
    if ports.is_empty() {
        return;
    }
    match notes.is_empty() {
        true => m.insert("ports", Node::Seq(ports)),
        false => m.insert_commented("ports", Node::Seq(ports), notes.join("\n")),
    };
}

/// The ranges a restricted exposure admits, for comments.
pub(super) fn ranges(nets: &[ipnet::IpNet]) -> String {
    let list: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
    list.join(", ")
}

/// The security group that enforces a service's restricted ports: the one
/// of its node, or of every node when it is not pinned.
pub(super) fn enforcing_group(model: &Model, s: &Service) -> String {
    match s.on {
        Some(node) => format!(
            "the security group of node `{}` (terraform: aws_security_group.{})",
            model.node(node).name,
            super::terraform::node_labels(model)[node.index()]
        ),
        None => "the security groups of every node (terraform target)".to_string(),
    }
}

/// The compose-lint rules that report what each waivable finding reports.
fn compose_lint_rules(code: crate::diagnostics::Code) -> &'static [&'static str] {
    use crate::diagnostics::Code;
    match code {
        Code::RuntimeSocket => &["CL-0001"],
        Code::Privileged => &["CL-0002", "CL-0008", "CL-0010"],
        Code::DangerousCapability => &[
            "CL-0011", "CL-0024", "CL-0027", "CL-0028", "CL-0029", "CL-0030",
        ],
        // compose-lint reports a mount of `/` as a socket exposure (CL-0001).
        Code::SensitiveHostMount => &["CL-0001", "CL-0013", "CL-0017", "CL-0025"],
        Code::UnconfinedProfile => &["CL-0009"],
        _ => &[],
    }
}

/// `.compose-lint.yml`: the findings the program waived, as compose-lint
/// exclusions for those services only, each with the program's reason, so
/// the linter stays green exactly where the source justified it.
pub(super) fn compose_lint_config(model: &Model, source: &str) -> Option<super::Artifact> {
    let mut rules: std::collections::BTreeMap<&str, Vec<(&str, &str)>> = Default::default();
    for s in &model.services {
        for (code, reason) in &s.accepted {
            for rule in compose_lint_rules(*code) {
                rules
                    .entry(rule)
                    .or_default()
                    .push((s.name.as_str(), reason.as_str()));
            }
        }
    }
    if rules.is_empty() {
        return None;
    }
    let mut root = Map::new();
    let mut rule_map = Map::new();
    for (rule, services) in rules {
        let mut excluded = Map::new();
        for (service, reason) in services {
            excluded.insert(service, reason);
        }
        let mut entry = Map::new();
        entry.insert("exclude_services", excluded);
        rule_map.insert(rule, entry);
    }
    root.insert("rules", rule_map);
    let header = vec![
        super::generated_from(source),
        "The findings this program waives with `allow`, and its reasons, for compose-lint."
            .to_string(),
    ];
    Some(super::Artifact {
        path: ".compose-lint.yml".into(),
        contents: super::yaml::to_string(&header, &root),
    })
}

/// Named volumes, the same in compose and swarm.
pub(super) fn top_level_volumes(model: &Model) -> Map {
    let mut out = Map::new();
    for v in &model.volumes {
        let mut m = Map::new();
        if v.external {
            m.insert("external", true);
        }
        m.insert_some("driver", v.driver.as_ref());
        out.insert(v.name.as_str(), m);
    }
    out
}
