//! What compose and swarm share: one Docker service definition per
//! service, with the secure defaults of the research notes (§3.1): every
//! capability dropped and only the declared ones added back,
//! `no-new-privileges`, rotated logs, and a health check from the source.
//! Each default yields to the source: a declared `cap_drop` or a
//! `no-new-privileges` option wins. Where `docker stack deploy` reads a key
//! differently from `docker compose` (tmpfs, security options), the
//! [`Deployer`] decides.

use super::yaml::{strings, Map, Node};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{
    Duration, EnvValue, Health, HealthProbe, Model, MountSource, Network, Port, Resources, Service,
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

/// Which program reads the file: `docker compose` and `docker stack
/// deploy` honour different keys of one service definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Deployer {
    Compose,
    /// `docker stack deploy`: it drops a service-level `tmpfs:` and
    /// ignores `security_opt` and `privileged`, without failing.
    Stack,
}

/// A `tmpfs` entry (`/path` or `/path:size=64m,...`) as a long-syntax
/// mount, the only tmpfs `docker stack deploy` keeps. The 3.x schema takes
/// only `size` (bytes); the engine's default mode, 1777, lets any user write.
fn tmpfs_mount(entry: &str) -> Node {
    let (path, options) = entry.split_once(':').unwrap_or((entry, ""));
    let mut m = Map::new();
    m.insert("type", "tmpfs").insert("target", path);
    if let Some(bytes) = options
        .split(',')
        .find_map(|o| o.strip_prefix("size="))
        .and_then(tmpfs_bytes)
    {
        let mut t = Map::new();
        t.insert("size", bytes);
        m.insert("tmpfs", t);
    }
    Node::Map(m)
}

/// A compose `tmpfs` entry, meant to be writable by the image's own user
/// (nginx 101, postgres 70): owned by the service's uid and gid when the
/// program knows them, and sticky and world-writable as /tmp, each unless
/// the program gave that option. The owner is what makes it writable
/// everywhere: a tmpfs over a directory the image has takes that
/// directory's mode on runc before 1.1.8 (Debian bookworm's engine among
/// them), whatever `mode=` says (runc#3911), so a root-owned 755
/// `/var/run` stays closed to uid 101 with `mode=1777` alone. Swarm's
/// long-syntax mounts can say neither (the 3.x schema has `size` only);
/// there the image's own directory modes decide (docs: swarm page).
fn compose_tmpfs(entry: &str, user: Option<&crate::ir::User>) -> String {
    let (path, given) = entry.split_once(':').unwrap_or((entry, ""));
    let mut opts: Vec<String> = given
        .split(',')
        .filter(|o| !o.is_empty())
        .map(str::to_string)
        .collect();
    let has = |opts: &[String], key: &str| opts.iter().any(|o| o.starts_with(key));
    if !has(&opts, "mode=") {
        opts.push("mode=1777".into());
    }
    let ids = [
        ("uid=", user.and_then(|u| u.uid)),
        ("gid=", user.and_then(|u| u.gid)),
    ];
    for (key, id) in ids {
        if let (false, Some(id)) = (has(&opts, key), id) {
            opts.push(format!("{key}{id}"));
        }
    }
    format!("{path}:{}", opts.join(","))
}

/// Docker's tmpfs `size=` (`64m`, binary units, or bytes) in bytes.
fn tmpfs_bytes(size: &str) -> Option<i64> {
    let split = size
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(size.len());
    let (n, unit) = size.split_at(split);
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        _ => return None,
    };
    n.parse::<i64>().ok()?.checked_mul(1 << shift)
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
/// Whether `s` reads a secret whose value comes from the environment.
/// Compose copies such a secret into the container's filesystem at start
/// and refuses a read-only container ("cannot create secret … in
/// read-only service: `file` is the sole supported option").
pub(super) fn env_secret(model: &Model, s: &Service) -> bool {
    s.secrets
        .iter()
        .any(|id| matches!(model.secret(*id).source, crate::ir::SecretSource::Env(_)))
}

pub(super) fn service_base(model: &Model, s: &Service, deployer: Deployer) -> Map {
    let mut m = Map::new();
    m.insert("image", s.image.as_str());
    if let Some(c) = &s.entrypoint {
        m.insert("entrypoint", command(c));
    }
    if let Some(c) = &s.command {
        m.insert("command", command(c));
    }
    m.insert_some("user", s.user.as_ref().map(|u| u.docker.as_str()));
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
    let mut volumes = service_volumes(model, s);
    match deployer {
        Deployer::Compose => {
            m.insert_seq("volumes", volumes);
            m.insert_seq(
                "tmpfs",
                s.tmpfs
                    .iter()
                    .map(|t| Node::from(compose_tmpfs(t, s.user.as_ref())))
                    .collect(),
            );
        }
        Deployer::Stack => {
            volumes.extend(s.tmpfs.iter().map(|t| tmpfs_mount(t)));
            m.insert_seq("volumes", volumes);
        }
    }
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
    // A stack ignores both (swarm.rs says so); writing them there would
    // read as if they held.
    if deployer == Deployer::Compose {
        let mut security_opt = s.security_opt.clone();
        if !security_opt
            .iter()
            .any(|o| o.starts_with("no-new-privileges"))
        {
            security_opt.insert(0, "no-new-privileges:true".to_string());
        }
        m.insert("security_opt", strings(&security_opt));
    }
    if let Some(ro) = s.read_only {
        m.insert(
            "read_only",
            ro && !(deployer == Deployer::Compose && env_secret(model, s)),
        );
    }
    if s.privileged && deployer == Deployer::Compose {
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

/// The top-level `networks` of a compose or swarm file: an external one
/// by its name alone; any other with its driver (`default_driver` unless
/// the program names one), `internal`, and the target's `driver_opts`.
pub(super) fn networks(
    model: &Model,
    default_driver: &str,
    driver_opts: fn(&Network) -> Option<Map>,
) -> Map {
    let mut out = Map::new();
    for n in &model.networks {
        let mut m = Map::new();
        if n.external {
            m.insert("external", true);
        } else {
            let driver = n.driver.clone();
            m.insert(
                "driver",
                driver.unwrap_or_else(|| default_driver.to_string()),
            );
            if n.internal {
                m.insert("internal", true);
            }
            if let Some(opts) = driver_opts(n) {
                m.insert("driver_opts", opts);
            }
        }
        out.insert(n.name.as_str(), m);
    }
    out
}

/// The files of a compose or swarm target: the proxies' configurations
/// realised into `root`, then the target's file from `root`, the
/// compose-lint configuration of the program's waivers, and the proxies'
/// files.
pub(super) fn files(
    target: super::Target,
    header: &[String],
    mut root: Map,
    model: &Model,
    options: &super::Options,
    mut diagnostics: Vec<Diagnostic>,
) -> (Vec<super::Artifact>, Vec<Diagnostic>) {
    let configs = super::proxy::realise(model, target, options, &mut root, &mut diagnostics);
    let file = match target {
        super::Target::Swarm => super::swarm::FILE,
        _ => super::compose::FILE,
    };
    let mut artifacts = vec![super::Artifact {
        path: file.into(),
        contents: super::yaml::to_string(header, &root),
    }];
    artifacts.extend(compose_lint_config(model, &options.source));
    artifacts.extend(configs);
    (artifacts, diagnostics)
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

/// Host trees compose-lint grades as sensitive (CL-0013) when a secret's
/// `file:` lies under one: a read-only bind of that file.
const SYSTEM_TREES: &[&str] = &["/etc", "/root", "/boot", "/proc", "/var/lib"];

/// The reason for excluding `s` from CL-0013, when it reads a file secret
/// from a system tree: a secret kept where hosts keep them (`/etc/ssl/
/// private`, `/etc/app/`) is that one file, bound read-only by compose —
/// not the tree the rule is about — and the checker has already kept it
/// outside the repository.
fn system_secret_files(model: &Model, s: &Service) -> Option<String> {
    let paths: Vec<&str> = s
        .secrets
        .iter()
        .filter_map(|id| match &model.secret(*id).source {
            crate::ir::SecretSource::File(path) => Some(path.as_str()),
            _ => None,
        })
        .filter(|path| {
            SYSTEM_TREES.iter().any(|tree| {
                path.strip_prefix(tree)
                    .is_some_and(|rest| rest.starts_with('/'))
            })
        })
        .collect();
    (!paths.is_empty()).then(|| {
        format!(
            "secret files {} are single host files, bound read-only at /run/secrets; no host directory is mounted",
            paths.join(", ")
        )
    })
}

/// `.compose-lint.yml`: the findings the program waived, as compose-lint
/// exclusions for those services only, each with the program's reason, so
/// the linter stays green exactly where the source justified it.
pub(super) fn compose_lint_config(model: &Model, source: &str) -> Option<super::Artifact> {
    let mut rules: std::collections::BTreeMap<&str, Vec<(&str, String)>> = Default::default();
    for s in &model.services {
        for (code, reason) in &s.accepted {
            for rule in compose_lint_rules(*code) {
                rules
                    .entry(rule)
                    .or_default()
                    .push((s.name.as_str(), reason.clone()));
            }
        }
        if let Some(reason) = system_secret_files(model, s) {
            let excluded = rules.entry("CL-0013").or_default();
            // This service's entries, if any, are the last ones (pushed
            // above): looking further back made many services quadratic.
            if !excluded.last().is_some_and(|(name, _)| *name == s.name) {
                excluded.push((s.name.as_str(), reason));
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
            excluded.insert(service, reason.as_str());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmpfs_sizes_in_bytes() {
        assert_eq!(tmpfs_bytes("64m"), Some(64 << 20));
        assert_eq!(tmpfs_bytes("1g"), Some(1 << 30));
        assert_eq!(tmpfs_bytes("4096"), Some(4096));
        assert_eq!(tmpfs_bytes("10x"), None);
        assert_eq!(tmpfs_bytes("99999999999999999g"), None);
    }

    #[test]
    fn a_compose_tmpfs_belongs_to_the_user() {
        let user = crate::ir::User {
            docker: "70:70".into(),
            uid: Some(70),
            gid: Some(70),
            fs_group: None,
        };
        assert_eq!(
            compose_tmpfs("/var/run/postgresql", Some(&user)),
            "/var/run/postgresql:mode=1777,uid=70,gid=70"
        );
        assert_eq!(
            compose_tmpfs("/run:size=1m,mode=0700,uid=0", Some(&user)),
            "/run:size=1m,mode=0700,uid=0,gid=70"
        );
        assert_eq!(compose_tmpfs("/tmp", None), "/tmp:mode=1777");
    }

    #[test]
    fn a_stack_tmpfs_is_a_mount() {
        let Node::Map(m) = tmpfs_mount("/run:size=1m,mode=1777") else {
            panic!("a map")
        };
        assert_eq!(m.get("type"), Some(&Node::from("tmpfs")));
        assert_eq!(m.get("target"), Some(&Node::from("/run")));
        let mut size = Map::new();
        size.insert("size", 1i64 << 20);
        assert_eq!(m.get("tmpfs"), Some(&Node::Map(size)));
    }
}
