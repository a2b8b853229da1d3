//! The container of a service's pod: image, command, environment, ports,
//! probes from `health`, requests and limits, and its security context —
//! every capability dropped, no privilege escalation, a read-only root —
//! each default yielding to what the program says.
//!
//! Probes: one `health` becomes three that differ on purpose. The
//! startupProbe holds the other two off for the image's `start_period`
//! (a database initialising its data directory is not dead); liveness
//! restarts after `retries` failures; readiness takes the pod out of its
//! Service at the first failure and probes twice as often. Requests are
//! derived from the limits: equal for a data store (Guaranteed, the last
//! evicted), half of them for the rest, never above them.

use super::volumes::Volumes;
use super::workload::{capability, identity, waived};
use super::{narrows, protocol, Plan};
use crate::backend::yaml::{strings, Map, Node};
use crate::diagnostics::Diagnostic;
use crate::ir::{
    Bytes, Class, Duration, EnvValue, Health, HealthProbe, MilliCpu, Resources, Service, ServiceId,
};

pub(super) fn container(
    plan: &Plan<'_>,
    id: ServiceId,
    volumes: &Volumes,
    skips: &mut Vec<(&'static str, String)>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Map {
    let s = plan.service(id);
    let mut c = Map::new();
    c.insert("name", plan.name(id))
        .insert("image", s.image.as_str())
        .insert("imagePullPolicy", "Always");
    if let Some(args) = &s.entrypoint {
        c.insert("command", expand_safe(args));
    }
    if let Some(args) = &s.command {
        c.insert("args", expand_safe(args));
    }
    c.insert_some("workingDir", s.working_dir.as_ref());
    let mut env = Vec::new();
    for var in &s.env {
        match &var.value {
            EnvValue::Literal(value) => {
                let mut m = Map::new();
                m.insert("name", var.key.as_str())
                    .insert("value", value.replace('$', "$$"));
                env.push(Node::Map(m));
            }
            EnvValue::HostEnv(host) => diagnostics.push(
                narrows(
                    var.value_span,
                    format!("Kubernetes manifests have no deploying environment: `{}` of `{}` is left out", var.key, s.name),
                )
                .label(format!("`{host}` is read when deploying"))
                .help("write configuration as a value in the program; pass a credential as a `secret`, which pods read from /run/secrets/NAME"),
            ),
        }
    }
    c.insert_seq("env", env);
    let ports: Vec<Node> = s
        .ports
        .iter()
        .map(|p| {
            let mut m = Map::new();
            m.insert("containerPort", p.container)
                .insert("protocol", protocol(p.protocol));
            Node::Map(m)
        })
        .collect();
    c.insert_seq("ports", ports);
    probes(&mut c, s, skips);
    let (resources, defaulted) = resources(&s.resources, s.class == Class::Data);
    match defaulted {
        true => c.insert_commented(
            "resources",
            resources,
            "The program sets no cpu or memory limit (W4003): these are infrac's defaults.",
        ),
        false => c.insert("resources", resources),
    };
    c.insert("securityContext", container_security(s, skips));
    c.insert_seq("volumeMounts", volumes.mounts.clone());
    c
}

/// Kubernetes expands `$(VAR)` in commands, arguments and env values;
/// `$$` keeps a `$` literal.
fn expand_safe(args: &[String]) -> Node {
    Node::Seq(
        args.iter()
            .map(|a| Node::Str(a.replace('$', "$$")))
            .collect(),
    )
}

fn container_security(s: &Service, skips: &mut Vec<(&'static str, String)>) -> Map {
    let read_only = s.read_only != Some(false);
    if !read_only {
        skips.push((
            "CKV_K8S_22",
            "the program sets read_only to false for this image".to_string(),
        ));
    }
    let add: Vec<String> = s.cap_add.iter().map(|c| capability(c)).collect();
    if !add.is_empty() {
        let reason = format!(
            "capabilities {} are added in the program; the checker judged them",
            add.join(" and ")
        );
        skips.push(("CKV_K8S_25", reason.clone()));
        if add.iter().any(|c| c == "NET_RAW") {
            skips.push(("CKV_K8S_28", reason.clone()));
        }
        if add.iter().any(|c| c == "SYS_ADMIN") {
            skips.push(("CKV_K8S_39", reason));
        }
    }
    if s.privileged {
        skips.push(("CKV_K8S_16", waived("privileged")));
        skips.push(("CKV_K8S_20", waived("privileged")));
    }
    let mut caps = Map::new();
    caps.insert("drop", strings(&["ALL"]));
    caps.insert_seq("add", add.iter().map(Node::from).collect());
    let mut m = Map::new();
    // The API rejects a privileged container that may not escalate.
    m.insert("allowPrivilegeEscalation", s.privileged)
        .insert("privileged", s.privileged)
        .insert("readOnlyRootFilesystem", read_only)
        .insert("runAsNonRoot", identity(s).map_or(true, |i| i.uid != 0))
        .insert("capabilities", caps);
    m
}

/// Startup, liveness and readiness from `health`; without one, a TCP
/// check of the first TCP port, so a dead process is still replaced.
fn probes(c: &mut Map, s: &Service, skips: &mut Vec<(&'static str, String)>) {
    if let Some(h) = &s.health {
        c.insert("startupProbe", probe(h, Purpose::Startup));
        c.insert("livenessProbe", probe(h, Purpose::Liveness));
        c.insert("readinessProbe", probe(h, Purpose::Readiness));
        return;
    }
    let Some(port) = s
        .ports
        .iter()
        .find(|p| p.protocol == crate::ir::Protocol::Tcp)
    else {
        let reason =
            "the program declares no health check and the service has no port to probe (W4002)";
        skips.push(("CKV_K8S_8", reason.to_string()));
        skips.push(("CKV_K8S_9", reason.to_string()));
        return;
    };
    let tcp = |delay: Option<u32>| {
        let mut handler = Map::new();
        handler.insert("port", port.container);
        let mut m = Map::new();
        m.insert("tcpSocket", handler);
        m.insert_some("initialDelaySeconds", delay);
        m.insert("periodSeconds", 10u32);
        m
    };
    c.insert_commented(
        "livenessProbe",
        tcp(Some(10)),
        format!(
            "The program declares no health check (W4002): these probes only see port {} accept connections.",
            port.container
        ),
    );
    c.insert("readinessProbe", tcp(None));
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Startup,
    Liveness,
    Readiness,
}

/// Docker's defaults, which compose and swarm apply to the same `health`.
const DEFAULT_PERIOD: u32 = 30;
const DEFAULT_RETRIES: u32 = 3;
/// How long a start may take when the program gives no `start_period`.
const DEFAULT_START: u32 = 60;

fn probe(h: &Health, purpose: Purpose) -> Map {
    let mut m = Map::new();
    match &h.probe {
        HealthProbe::Command(args) => {
            let mut exec = Map::new();
            exec.insert("command", strings(args));
            m.insert("exec", exec);
        }
        HealthProbe::Http { path, port } => {
            let mut get = Map::new();
            get.insert("path", path.as_str()).insert("port", *port);
            m.insert("httpGet", get);
        }
        HealthProbe::Tcp { port } => {
            let mut tcp = Map::new();
            tcp.insert("port", *port);
            m.insert("tcpSocket", tcp);
        }
    }
    let period = h
        .interval
        .as_ref()
        .map_or(DEFAULT_PERIOD, Duration::k8s_seconds)
        .max(1);
    let retries = h.retries.unwrap_or(DEFAULT_RETRIES).max(1);
    let (period, failures) = match purpose {
        // Probed every few seconds for the whole start period, then the
        // retries liveness would allow.
        Purpose::Startup => {
            let start = h
                .start_period
                .as_ref()
                .map_or(DEFAULT_START, Duration::k8s_seconds);
            let every = period.min(5);
            (every, start.div_ceil(every) + retries)
        }
        Purpose::Liveness => (period, retries),
        Purpose::Readiness => ((period / 2).max(1), 1),
    };
    m.insert("periodSeconds", period);
    m.insert_some(
        "timeoutSeconds",
        h.timeout.as_ref().map(Duration::k8s_seconds),
    );
    m.insert("failureThreshold", failures);
    m
}

/// Requests and limits for cpu, memory and ephemeral storage, and whether
/// a cpu or memory value had to be defaulted. A request the program does
/// not give is derived from the limit: equal to it for a data store
/// (`equal`), half of it otherwise; a request never exceeds its limit (the
/// API rejects that).
fn resources(r: &Resources, equal: bool) -> (Map, bool) {
    let derived = |limit: u64| if equal { limit } else { (limit / 2).max(1) };
    let cpu_request = r.cpu_request.map(|c| c.millis());
    let cpu_limit = r
        .cpu
        .map(|c| c.millis())
        .unwrap_or_else(|| cpu_request.unwrap_or(0).max(500));
    let cpu_request = cpu_request
        .unwrap_or_else(|| derived(cpu_limit))
        .min(cpu_limit);
    let default_limit = Bytes::mebibytes(512);
    let memory_limit = match (r.memory, r.memory_request) {
        (Some(limit), _) => limit,
        // Only a request: the default limit, unless the request is above it.
        (None, Some(request)) if request.bytes() >= default_limit.bytes() => request,
        (None, _) => default_limit,
    };
    let memory_request = match r.memory_request {
        Some(request) if request.bytes() <= memory_limit.bytes() => request,
        Some(_) => memory_limit,
        None if equal => memory_limit,
        None => Bytes::mebibytes(((memory_limit.bytes() / 2) >> 20).max(1)),
    };
    let mut requests = Map::new();
    requests
        .insert("cpu", MilliCpu::from_millis(cpu_request).k8s())
        .insert("memory", memory_request.k8s())
        .insert("ephemeral-storage", "64Mi");
    let mut limits = Map::new();
    limits
        .insert("cpu", MilliCpu::from_millis(cpu_limit).k8s())
        .insert("memory", memory_limit.k8s())
        .insert("ephemeral-storage", "1Gi");
    let mut m = Map::new();
    m.insert("requests", requests).insert("limits", limits);
    (m, r.cpu.is_none() || r.memory.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_never_exceed_limits() {
        let r = Resources {
            cpu: MilliCpu::parse("0.5").ok(),
            cpu_request: MilliCpu::parse("1").ok(),
            memory: Bytes::parse("256Mi").ok(),
            memory_request: Bytes::parse("1Gi").ok(),
            ..Resources::default()
        };
        let (m, defaulted) = resources(&r, false);
        assert!(!defaulted);
        let requests = match m.get("requests") {
            Some(Node::Map(r)) => r.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(requests.get("cpu"), Some(&Node::from("500m")));
        assert_eq!(requests.get("memory"), Some(&Node::from("256Mi")));
    }

    #[test]
    fn defaults_respect_requests() {
        let r = Resources {
            cpu_request: MilliCpu::parse("2").ok(),
            memory_request: Bytes::parse("1Gi").ok(),
            ..Resources::default()
        };
        let (m, defaulted) = resources(&r, false);
        assert!(defaulted);
        let limits = match m.get("limits") {
            Some(Node::Map(l)) => l.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(limits.get("cpu"), Some(&Node::from("2")));
        assert_eq!(limits.get("memory"), Some(&Node::from("1Gi")));
    }

    #[test]
    fn requests_follow_limits() {
        let r = Resources {
            cpu: MilliCpu::parse("1").ok(),
            memory: Bytes::parse("2Gi").ok(),
            ..Resources::default()
        };
        let requests = |equal| match resources(&r, equal).0.get("requests") {
            Some(Node::Map(m)) => (m.get("cpu").cloned(), m.get("memory").cloned()),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            requests(true),
            (Some(Node::from("1")), Some(Node::from("2Gi")))
        );
        assert_eq!(
            requests(false),
            (Some(Node::from("500m")), Some(Node::from("1024Mi")))
        );
    }
}
