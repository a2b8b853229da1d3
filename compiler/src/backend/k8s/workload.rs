//! Workloads: a ServiceAccount and a Deployment, StatefulSet or DaemonSet
//! per service, with the pod hardening of research notes §3.3 (the
//! container is in `container.rs`, its volumes in `volumes.rs`). Every default yields to what the program says (`user`,
//! `read_only = false`, `cap_add`, `resources`), and what the checker only
//! let through with a waiver is emitted as written, with the checkov skip
//! that says so.

use super::container::container;
use super::volumes::Volumes;
use super::{checkov_skips, narrows, Object, Plan};
use crate::backend::yaml::{Map, Node};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Mode, Model, MountSource, Service, ServiceId};

/// The user and group a pod runs as unless the program says otherwise:
/// above 10000, so no host account shares it (kube-score, CKV_K8S_40).
pub const DEFAULT_ID: i64 = 10001;

/// The kind of workload a service becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Deployment,
    /// Mounts a named volume: one claim per pod.
    StatefulSet,
    /// `mode = global`: one pod per node.
    DaemonSet,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Deployment => "Deployment",
            Kind::StatefulSet => "StatefulSet",
            Kind::DaemonSet => "DaemonSet",
        }
    }

    /// The short resource name `kubectl` takes (`deploy/NAME`).
    pub fn short(self) -> &'static str {
        match self {
            Kind::Deployment => "deploy",
            Kind::StatefulSet => "sts",
            Kind::DaemonSet => "ds",
        }
    }
}

pub(super) fn kind_of(model: &Model, s: &Service) -> Kind {
    let claims_volume = s.mounts.iter().any(|m| match m.source {
        MountSource::Volume(v) => !model.volume(v).external,
        MountSource::HostPath(_) => false,
    });
    match s.mode {
        Mode::Global => Kind::DaemonSet,
        Mode::Replicated if claims_volume => Kind::StatefulSet,
        Mode::Replicated => Kind::Deployment,
    }
}

/// The Pod Security Standard a service's pods meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PodSecurity {
    Restricted,
    Baseline,
    Privileged,
}

impl PodSecurity {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PodSecurity::Restricted => "restricted",
            PodSecurity::Baseline => "baseline",
            PodSecurity::Privileged => "privileged",
        }
    }
}

/// The capabilities the baseline standard allows a pod to add.
const BASELINE_CAPS: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

pub(super) fn capability(cap: &str) -> String {
    cap.trim_start_matches("CAP_").to_ascii_uppercase()
}

pub(crate) fn pod_security(s: &Service) -> PodSecurity {
    let host_path = s
        .mounts
        .iter()
        .any(|m| matches!(m.source, MountSource::HostPath(_)));
    let caps: Vec<String> = s.cap_add.iter().map(|c| capability(c)).collect();
    if s.privileged
        || s.host_pid
        || s.host_ipc
        || s.host_network
        || host_path
        || caps.iter().any(|c| !BASELINE_CAPS.contains(&c.as_str()))
    {
        PodSecurity::Privileged
    } else if caps.iter().any(|c| c != "NET_BIND_SERVICE")
        || identity(s).is_some_and(|i| i.uid == 0)
    {
        PodSecurity::Baseline
    } else {
        PodSecurity::Restricted
    }
}

/// The numeric user, group and volume group a pod runs as.
#[derive(Debug, Clone, Copy)]
pub(super) struct Identity {
    pub(super) uid: i64,
    pub(super) gid: i64,
    pub(super) fs_group: i64,
}

/// The program's numeric identity (the stdlib templates carry their
/// image's), if it has one.
pub(super) fn identity(s: &Service) -> Option<Identity> {
    let user = s.user.as_ref()?;
    let (uid, gid) = (user.uid?, user.gid?);
    Some(Identity {
        uid: uid.into(),
        gid: gid.into(),
        fs_group: user.fs_group.unwrap_or(gid).into(),
    })
}

pub(super) fn service_account(plan: &Plan<'_>, id: ServiceId) -> Object {
    let mut o = Object::new(
        "v1",
        "ServiceAccount",
        plan.metadata(plan.name(id), Some(id), Map::new()),
    );
    // No API token in the pod: nothing generated here talks to the API server.
    o.body.insert("automountServiceAccountToken", false);
    o
}

pub(super) fn workload(
    plan: &Plan<'_>,
    id: ServiceId,
    diagnostics: &mut Vec<Diagnostic>,
) -> Object {
    let s = plan.service(id);
    let kind = plan.kinds[id.index()];
    if s.host_network {
        diagnostics.push(
            Diagnostic::new(
                Code::TargetCannotEnforce,
                s.attr_span("host_network"),
                format!("Kubernetes cannot enforce the exposure of `{}` on the host's network", s.name),
            )
            .label("host network")
            .help("NetworkPolicies do not apply to pods on the host's network, so none of its ports would keep its level: remove `host_network`, or build this service for compose or swarm"),
        );
    }
    let volumes = Volumes::of(plan, s, kind, diagnostics);
    let (pod, skips) = pod_spec(plan, id, &volumes, diagnostics);
    let mut template_meta = Map::new();
    let mut labels = plan.selector(id);
    labels.insert("app.kubernetes.io/part-of", plan.options.project.as_str());
    template_meta.insert("labels", labels);
    let mut annotations = Map::new();
    for (k, v) in &s.labels {
        if is_annotation_key(k) {
            annotations.insert(k.as_str(), v.as_str());
        }
    }
    template_meta.insert_map("annotations", annotations);
    let mut template = Map::new();
    template
        .insert("metadata", template_meta)
        .insert("spec", pod);
    let mut spec = Map::new();
    if let Some(headless) = &plan.headless[id.index()] {
        spec.insert("serviceName", headless.as_str());
    }
    if kind != Kind::DaemonSet {
        spec.insert("replicas", s.replicas);
    }
    let mut selector = Map::new();
    selector.insert("matchLabels", plan.selector(id));
    spec.insert("selector", selector);
    spec.insert("template", template);
    spec.insert_seq("volumeClaimTemplates", volumes.claims.clone());
    let mut o = Object::new(
        "apps/v1",
        kind.as_str(),
        plan.metadata(plan.name(id), Some(id), checkov_skips(&skips)),
    );
    o.body.insert("spec", spec);
    o.notes.extend(volumes.notes);
    o
}

/// Annotation keys Kubernetes accepts: an optional DNS prefix and `/`,
/// then a name of at most 63 letters, digits, `-`, `_` and `.`.
fn is_annotation_key(key: &str) -> bool {
    let (prefix, name) = key.rsplit_once('/').unwrap_or(("", key));
    let prefix_ok = prefix.split('.').all(|part| {
        part.is_empty() == prefix.is_empty()
            && part.len() <= 63
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    });
    prefix_ok
        && !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && key.len() <= 253
}

/// The pod spec and the checkov checks its legitimate choices trip.
fn pod_spec(
    plan: &Plan<'_>,
    id: ServiceId,
    volumes: &Volumes,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Map, Vec<(&'static str, String)>) {
    let s = plan.service(id);
    let mut skips: Vec<(&'static str, String)> = Vec::new();
    if !s.image.contains("@sha256:") {
        skips.push((
            "CKV_K8S_43",
            format!(
                "the program pins {} by tag; no digest is known when compiling (write IMAGE@sha256:... to pin one)",
                s.image
            ),
        ));
    }
    let fallback = Identity {
        uid: DEFAULT_ID,
        gid: DEFAULT_ID,
        fs_group: DEFAULT_ID,
    };
    let ids = match (&s.user, identity(s)) {
        (None, _) => fallback,
        (Some(_), Some(i)) => i,
        (Some(user), None) => {
            diagnostics.push(
                narrows(
                    s.attr_span("user"),
                    format!(
                        "Kubernetes needs a numeric user: `{}` runs as {DEFAULT_ID}:{DEFAULT_ID}",
                        s.name
                    ),
                )
                .label(format!("`{}` is a name", user.docker))
                .help("write the image's numeric ids: `user = { uid = 1000, gid = 1000 }`"),
            );
            fallback
        }
    };
    if ids.uid == 0 {
        let reason = "the program runs it as root (user 0)";
        skips.push(("CKV_K8S_23", reason.to_string()));
        skips.push(("CKV_K8S_40", reason.to_string()));
    } else if ids.uid < 10000 {
        skips.push((
            "CKV_K8S_40",
            format!(
                "the program runs it as user {}, the id its image expects",
                ids.uid
            ),
        ));
    }
    let mut security = Map::new();
    security
        .insert("runAsNonRoot", ids.uid != 0)
        .insert("runAsUser", ids.uid)
        .insert("runAsGroup", ids.gid)
        .insert("fsGroup", ids.fs_group)
        // Ownership is fixed once, not walked on every start of a big volume.
        .insert("fsGroupChangePolicy", "OnRootMismatch");
    let mut seccomp = Map::new();
    seccomp.insert("type", "RuntimeDefault");
    security.insert("seccompProfile", seccomp);
    if s.ports.iter().any(|p| p.container < 1024) {
        // A non-root process may bind the low port it declares; this sysctl
        // is namespaced to the pod and allowed by every Pod Security level.
        let mut sysctl = Map::new();
        sysctl
            .insert("name", "net.ipv4.ip_unprivileged_port_start")
            .insert("value", "0");
        security.insert("sysctls", Node::Seq(vec![Node::Map(sysctl)]));
    }
    let mut pod = Map::new();
    pod.insert("serviceAccountName", plan.name(id))
        .insert("automountServiceAccountToken", false);
    if s.host_pid {
        pod.insert("hostPID", true);
        skips.push(("CKV_K8S_17", waived("host_pid")));
    }
    if s.host_ipc {
        pod.insert("hostIPC", true);
        skips.push(("CKV_K8S_18", waived("host_ipc")));
    }
    if let Some(grace) = &s.stop_grace_period {
        pod.insert("terminationGracePeriodSeconds", grace.k8s_seconds());
    }
    pod.insert("securityContext", security);
    let mut node_selector = Map::new();
    for (k, v) in &s.placement.labels {
        node_selector.insert(k.as_str(), v.as_str());
    }
    pod.insert_map("nodeSelector", node_selector);
    if s.replicas > 1 && s.mode == Mode::Replicated {
        pod.insert("affinity", spread(plan, id));
    }
    let container = container(plan, id, volumes, &mut skips, diagnostics);
    pod.insert("containers", Node::Seq(vec![Node::Map(container)]));
    match &volumes.secret_note {
        Some(note) => pod.insert_commented("volumes", Node::Seq(volumes.volumes.clone()), note),
        None => pod.insert_seq("volumes", volumes.volumes.clone()),
    };
    (pod, skips)
}

pub(super) fn waived(attribute: &str) -> String {
    format!("`{attribute}` is set in the program and waived there with a reason (infrac check lists it)")
}

/// Replicas prefer different nodes, so one node's loss leaves the rest.
fn spread(plan: &Plan<'_>, id: ServiceId) -> Map {
    let mut selector = Map::new();
    selector.insert("matchLabels", plan.selector(id));
    let mut term = Map::new();
    term.insert("labelSelector", selector)
        .insert("topologyKey", "kubernetes.io/hostname");
    let mut weighted = Map::new();
    weighted
        .insert("weight", 100u32)
        .insert("podAffinityTerm", term);
    let mut anti = Map::new();
    anti.insert(
        "preferredDuringSchedulingIgnoredDuringExecution",
        Node::Seq(vec![Node::Map(weighted)]),
    );
    let mut affinity = Map::new();
    affinity.insert("podAntiAffinity", anti);
    affinity
}

/// A PodDisruptionBudget for a service with more than one replica: a
/// node drain takes one pod at a time.
pub(super) fn disruption_budget(plan: &Plan<'_>, id: ServiceId) -> Option<Object> {
    let s = plan.service(id);
    if s.replicas < 2 || s.mode == Mode::Global {
        return None;
    }
    let mut selector = Map::new();
    selector.insert("matchLabels", plan.selector(id));
    let mut spec = Map::new();
    spec.insert("maxUnavailable", 1u32)
        .insert("selector", selector);
    let mut o = Object::new(
        "policy/v1",
        "PodDisruptionBudget",
        plan.metadata(plan.name(id), Some(id), Map::new()),
    );
    o.body.insert("spec", spec);
    Some(o)
}
