//! The Kubernetes backend: `k8s/`, the namespace's manifests and one
//! multi-document manifest per service, plus a `kustomization.yaml` that
//! lists them (`kubectl apply -k k8s/`).
//!
//! What each construct becomes (research notes §3.3; the book's
//! `targets/kubernetes.md` has the full table):
//!
//! - the program → a Namespace named after the project, labelled
//!   `restricted`; services that need less (a waived host path,
//!   privilege, capabilities) run in a namespace of their level
//!   (`PROJECT-privileged`, `PROJECT-baseline`) with its own default-deny,
//!   so one privileged DaemonSet does not lower every other pod's. A
//!   dependency across them is admitted by namespace-and-pod peers on both
//!   sides, and the client's namespace gets an ExternalName Service of the
//!   server's name, so short names keep working;
//! - a service → a ServiceAccount (no token) and a Deployment; a
//!   StatefulSet when it mounts a named volume (one claim of 1Gi per pod,
//!   a headless Service as its `serviceName`); a DaemonSet for
//!   `mode = global`. Pods run as a non-root user with the RuntimeDefault
//!   seccomp profile, every capability dropped, a read-only root (with
//!   emptyDirs for `/tmp` and `tmpfs`), probes from `health`, and requests
//!   and limits for cpu, memory and ephemeral storage. More than one
//!   replica adds a PodDisruptionBudget and a preferred anti-affinity;
//! - ports → `local`: no Service (a warning says how to `kubectl
//!   port-forward`), unless a route leads to it; anything wider, or
//!   routed: a ClusterIP Service; a `public` or
//!   `restricted` port whose declared reach no route already carries: a
//!   LoadBalancer Service (`loadBalancerSourceRanges` for the ranges,
//!   `externalTrafficPolicy: Local` so pods see the client's address);
//! - a route → an Ingress (class `nginx`, TLS from the Secret
//!   `<project>-tls`) whose allowlist is the reach the route hands on —
//!   its proxy's reach narrowed by the route's own `restricted(...)`, so a
//!   chain of proxies never widens. A route that hands on no more than
//!   `internal` reach stays inside the cluster: the proxy itself forwards
//!   it, and a NetworkPolicy edge lets it;
//! - the graph → NetworkPolicies: deny all ingress and egress, allow DNS
//!   to kube-dns, then one pair of policies (egress on the client, ingress
//!   on the server) per dependency, ingress from the ingress controller's
//!   namespace to each routed port, and ingress from the address ranges
//!   of each LoadBalancer. Nothing else talks: sharing a network is not
//!   an edge here;
//! - secrets → a projected volume at `/run/secrets/NAME` from Secrets the
//!   manifests reference but never contain; an external store (or
//!   `kubectl create secret`) creates them.
//!
//! Decisions worth knowing:
//!
//! - A proxy stays a workload. The Ingress controller is the edge for its
//!   routes (one hop fewer, and each routed port admits only the
//!   controller), but the proxy's own published ports keep the reach they
//!   declare (a LoadBalancer), since it may serve content of its own. It
//!   reaches its targets only where it `depends` on them.
//! - `env("VAR")` values are left out with a warning: manifests are applied
//!   by a controller with no environment to read, and writing the value
//!   into a file is what `env(...)` avoids. A credential belongs in a
//!   `secret`; configuration can be written in the program.
//! - `host_network` is an error: a pod on the host's network is outside
//!   every NetworkPolicy, so no exposure level could be enforced.
//!   `privileged`, `host_pid`, `host_ipc` and added capabilities reach the
//!   output only because the checker made the program waive them; they
//!   are emitted as written, move the service to the namespace of its Pod
//!   Security level, and carry checkov skips that say so.
//! - Node placement (`on`, `placement.role`) is a swarm notion and is not
//!   emitted; placement labels become a `nodeSelector`.
//! - A DaemonSet cannot claim storage per pod: a named volume of a global
//!   service becomes an emptyDir, with a warning.
//! - Names are the program's, as DNS labels (`db_password` →
//!   `db-password`); a name the backend makes up (`web-public`,
//!   `db-headless`, a policy's) never takes one already given.
//!
//! Checks that fire on every legitimate output get a checkov skip
//! annotation on that object only, with the reason (an image pinned by tag
//! but not digest: CKV_K8S_43).

mod container;
mod namespaces;
mod network;
mod policies;
mod routes;
mod volumes;
mod workload;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use super::yaml::{self, Map, Node};
use super::{Options, Sink};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Exposure, Model, Service, ServiceId};

pub use workload::Kind;
use workload::PodSecurity;

/// The directory every file goes into, relative to the output directory.
pub const DIR: &str = "k8s";
/// The kustomization that lists every manifest.
pub const KUSTOMIZATION: &str = "kustomization.yaml";
/// The namespace ingress-nginx runs in (the controller of nginx proxies;
/// the others' are in [`routes::controller_namespace`]).
pub const INGRESS_NAMESPACE: &str = "ingress-nginx";

pub fn emit(model: &Model, options: &Options, sink: &mut dyn Sink) -> Vec<Diagnostic> {
    let plan = Plan::new(model, options);
    let mut diagnostics = plan.route_errors.clone();
    let header = Header::new(&plan);
    // A file holds, in the order they apply: a service's policies, its
    // account, its Services, its workload, its budget and the Ingresses
    // to it. Policies, Services and Ingresses are planned for every
    // service at once (their names are claimed in one order, and their
    // warnings said in it); each service's are built from the plan when
    // its file is written, and every tree is dropped as soon as it is
    // rendered. Rendering them all first and holding their text was a
    // third of the output in memory, and their trees for a moment far
    // more (the performance page).
    let mut policies = policies::policies(&plan, &mut diagnostics);
    let services = network::services(&plan, &mut diagnostics);
    let ingresses = routes::ingresses(&plan);
    let mut files = Files::new(&plan, &header);
    for o in namespaces::objects(&plan) {
        files.add(o);
    }
    for o in std::mem::take(&mut policies.fences) {
        files.add(o);
    }
    files.finish(None, sink);
    for (i, routed) in ingresses.iter().enumerate() {
        let id = ServiceId(i as u32);
        files.start();
        for o in policies.of(&plan, i) {
            files.add(o);
        }
        files.add(workload::service_account(&plan, id));
        for o in services.of(&plan, i) {
            files.add(o);
        }
        files.add(workload::workload(&plan, id, &mut diagnostics));
        if let Some(o) = workload::disruption_budget(&plan, id) {
            files.add(o);
        }
        for &k in routed {
            files.add(routes::ingress_of(&plan, k));
        }
        files.finish(Some(i), sink);
    }
    files.kustomization(sink);
    diagnostics
}

/// What every part of the backend needs to agree on, settled once: names,
/// workload kinds, and which routes become Ingresses and which ports get a
/// LoadBalancer.
pub(crate) struct Plan<'a> {
    pub(crate) model: &'a Model,
    pub(crate) options: &'a Options,
    /// The application's namespace, `restricted`.
    pub(crate) namespace: String,
    /// The namespaces of the program: the application's first, then one
    /// per Pod Security level lower than `restricted` that a service needs
    /// (`shop-privileged`), so one privileged DaemonSet does not lower
    /// every other pod's namespace.
    pub(crate) namespaces: Vec<(String, PodSecurity)>,
    /// The index in `namespaces` of each service's, by [`ServiceId`].
    namespace_of: Vec<usize>,
    /// The Kubernetes name of each service, by [`ServiceId`].
    pub(crate) names: Vec<String>,
    pub(crate) kinds: Vec<Kind>,
    pub(crate) routes: Vec<RoutePlan>,
    /// What the routes cannot be on Kubernetes (E5015, E5017).
    route_errors: Vec<Diagnostic>,
    pub(crate) balancers: Vec<Balancer>,
    /// The headless Service of each StatefulSet, by [`ServiceId`].
    pub(crate) headless: Vec<Option<String>>,
    /// What the Ingresses carry to each (service, port) they lead to.
    routed: HashMap<(ServiceId, u16), Exposure>,
}

pub(crate) use routes::RoutePlan;

/// A LoadBalancer Service: the ports of one service that share one
/// declared exposure and that no route already carries.
pub(crate) struct Balancer {
    pub(crate) service: ServiceId,
    pub(crate) name: String,
    pub(crate) exposure: Exposure,
    /// Indexes into the service's `ports`.
    pub(crate) ports: Vec<usize>,
}

impl<'a> Plan<'a> {
    fn new(model: &'a Model, options: &'a Options) -> Plan<'a> {
        let names = unique_names(model.services.iter().map(|s| dns_label(&s.name)));
        let kinds = model
            .services
            .iter()
            .map(|s| workload::kind_of(model, s))
            .collect();
        let (namespaces, namespace_of) = namespaces::of(model, &options.project);
        let mut plan = Plan {
            model,
            options,
            namespace: options.project.clone(),
            namespaces,
            namespace_of,
            names,
            kinds,
            routes: Vec::new(),
            route_errors: Vec::new(),
            balancers: Vec::new(),
            headless: Vec::new(),
            routed: HashMap::new(),
        };
        (plan.routes, plan.route_errors) = routes::plan(model, &plan.names);
        plan.routed = plan.plan_routed();
        // Services share one name space: the extra ones take names no
        // service has (`web-public` for `web` is not a service `web-public`).
        let mut taken: Taken = plan.names.iter().cloned().collect();
        plan.headless = plan
            .kinds
            .iter()
            .zip(&plan.names)
            .map(|(kind, name)| {
                (*kind == Kind::StatefulSet).then(|| claim(&mut taken, &format!("{name}-headless")))
            })
            .collect();
        plan.balancers = plan.plan_balancers(&mut taken);
        plan
    }

    /// The reach the Ingresses carry to a port: the join of what every
    /// route that becomes an Ingress hands on to it.
    fn routed_reach(&self, target: ServiceId, port: u16) -> Option<&Exposure> {
        self.routed.get(&(target, port))
    }

    fn plan_routed(&self) -> HashMap<(ServiceId, u16), Exposure> {
        let mut routed: HashMap<(ServiceId, u16), Exposure> = HashMap::new();
        for r in &self.routes {
            let Some(ingress) = &r.ingress else { continue };
            let route = self.route(r);
            routed
                .entry((route.target, route.port))
                .and_modify(|e| *e = e.join(&ingress.reach))
                .or_insert_with(|| ingress.reach.clone());
        }
        routed
    }

    fn plan_balancers(&self, taken: &mut Taken) -> Vec<Balancer> {
        let mut out = Vec::new();
        for (i, s) in self.model.services.iter().enumerate() {
            let id = ServiceId(i as u32);
            let mut groups: Vec<(Exposure, Vec<usize>)> = Vec::new();
            for (p, port) in s.ports.iter().enumerate() {
                if port.declared.rank() < 2 {
                    continue;
                }
                // Served by the Ingress already when the routes to it carry
                // at least the reach it declares.
                if let Some(routed) = self.routed_reach(id, port.container) {
                    if !port.declared.wider_than(routed) {
                        continue;
                    }
                }
                match groups.iter_mut().find(|(e, _)| *e == port.declared) {
                    Some((_, ports)) => ports.push(p),
                    None => groups.push((port.declared.clone(), vec![p])),
                }
            }
            let mut restricted = 0;
            for (exposure, ports) in groups {
                let suffix = match &exposure {
                    Exposure::Public => "public".to_string(),
                    _ => {
                        restricted += 1;
                        match restricted {
                            1 => "restricted".to_string(),
                            n => format!("restricted-{n}"),
                        }
                    }
                };
                out.push(Balancer {
                    service: id,
                    name: claim(taken, &format!("{}-{suffix}", self.names[i])),
                    exposure,
                    ports,
                });
            }
        }
        out
    }

    pub(crate) fn service(&self, id: ServiceId) -> &'a Service {
        self.model.service(id)
    }

    pub(crate) fn name(&self, id: ServiceId) -> &str {
        &self.names[id.index()]
    }

    /// The namespace a service's objects live in.
    pub(crate) fn namespace_of(&self, id: ServiceId) -> &str {
        &self.namespaces[self.namespace_of[id.index()]].0
    }

    pub(crate) fn route(&self, r: &RoutePlan) -> &'a crate::ir::Route {
        &self.model.service(r.proxy).routes[r.index]
    }

    /// Whether an Ingress leads to this port (it then needs a ClusterIP
    /// Service even when it is `local`).
    pub(crate) fn is_ingress_target(&self, target: ServiceId, port: u16) -> bool {
        self.routed_reach(target, port).is_some()
    }

    /// The `kubectl` word for the service's workload (`deploy/NAME`).
    pub(crate) fn workload_ref(&self, id: ServiceId) -> String {
        format!("{}/{}", self.kinds[id.index()].short(), self.name(id))
    }

    /// `metadata:` of an object of this program, in its service's
    /// namespace (the application's when `service` is `None`); `service`
    /// adds its `app.kubernetes.io/name` label.
    pub(crate) fn metadata(&self, name: &str, service: Option<ServiceId>, annotations: Map) -> Map {
        let namespace = service.map_or(self.namespace.as_str(), |id| self.namespace_of(id));
        self.metadata_in(namespace, name, service, annotations)
    }

    /// `metadata:` of an object in `namespace`.
    pub(crate) fn metadata_in(
        &self,
        namespace: &str,
        name: &str,
        service: Option<ServiceId>,
        annotations: Map,
    ) -> Map {
        let mut m = Map::new();
        m.insert("name", name);
        m.insert("namespace", namespace);
        m.insert("labels", self.labels(service));
        m.insert_map("annotations", annotations);
        m
    }

    pub(crate) fn labels(&self, service: Option<ServiceId>) -> Map {
        let mut labels = Map::new();
        if let Some(id) = service {
            labels.insert("app.kubernetes.io/name", self.name(id));
        }
        labels
            .insert("app.kubernetes.io/part-of", self.options.project.as_str())
            .insert("app.kubernetes.io/managed-by", "infrac");
        labels
    }

    /// The labels that select a service's pods.
    pub(crate) fn selector(&self, id: ServiceId) -> Map {
        let mut m = Map::new();
        m.insert("app.kubernetes.io/name", self.name(id));
        m
    }
}

/// One generated object: comment lines to write before it, and its body
/// (its `app.kubernetes.io/name` label says which service's file holds it).
pub(crate) struct Object {
    pub(crate) notes: Vec<String>,
    pub(crate) body: Map,
}

impl Object {
    /// An object with `apiVersion`, `kind` and `metadata` filled in.
    pub(crate) fn new(api_version: &str, kind: &'static str, metadata: Map) -> Object {
        let mut body = Map::new();
        body.insert("apiVersion", api_version)
            .insert("kind", kind)
            .insert("metadata", metadata);
        Object {
            notes: Vec::new(),
            body,
        }
    }

    pub(crate) fn note(mut self, line: impl Into<String>) -> Object {
        self.notes.push(line.into());
        self
    }
}

/// checkov skip annotations: `checkov.io/skipN: CHECK=reason`. checkov
/// splits the value at `=`, so every `=` in a reason becomes a space.
/// Reasons quote user text (an image reference: `"a = b"` is a string the
/// checker accepts), so this is a replacement, not an assertion (a debug
/// assertion here was found failing by the `check` fuzz target).
pub(crate) fn checkov_skips(skips: &[(&str, String)]) -> Map {
    let mut m = Map::new();
    for (i, (check, reason)) in skips.iter().enumerate() {
        m.insert(
            format!("checkov.io/skip{}", i + 1),
            format!("{check}={}", reason.replace('=', " ")),
        );
    }
    m
}

/// The comment lines at the top of every manifest file.
struct Header {
    /// The two comment lines every manifest file starts with.
    lines: [String; 2],
}

/// The file of the Namespace and of the policies of the whole namespace
/// (`default-deny`, `allow-dns`): first in name order, so `kubectl apply
/// -f` fences the namespace before any pod, as `-k` does.
const NAMESPACE_FILE: &str = "00-namespace";

impl Header {
    fn new(plan: &Plan<'_>) -> Header {
        Header {
            lines: [
                super::generated_from(&plan.options.source),
                "Do not edit: change the program and run `infrac build` again.".to_string(),
            ],
        }
    }
}

/// The files, written one at a time into one buffer, and the
/// kustomization that lists them: `00-namespace.yaml`, then one file per
/// service (`api.yaml`) holding every object labelled with its name, as
/// one multi-document stream under one header. One file per object was
/// eight files per service, and creating them was two thirds of a
/// 10,000-service build; `kubectl apply -f`, `-k`, kustomize,
/// kubernetes-validate and checkov all read several documents per file.
struct Files<'a, 'p> {
    plan: &'a Plan<'p>,
    header: &'a Header,
    /// The file being written.
    buffer: String,
    /// Whether it holds a document yet (the next one needs `---`).
    documents: bool,
    /// File names given so far: a service named `kustomization` does not
    /// overwrite the kustomization.
    taken: Taken,
    resources: Vec<Node>,
}

impl<'a, 'p> Files<'a, 'p> {
    fn new(plan: &'a Plan<'p>, header: &'a Header) -> Files<'a, 'p> {
        let mut files = Files {
            plan,
            header,
            buffer: String::with_capacity(64 << 10),
            documents: false,
            taken: [NAMESPACE_FILE, "kustomization"].map(String::from).into(),
            resources: Vec::with_capacity(plan.names.len() + 1),
        };
        files.start();
        files
    }

    /// Starts the next file in the buffer: its header lines.
    fn start(&mut self) {
        self.buffer.clear();
        self.documents = false;
        for line in &self.header.lines {
            self.buffer.push_str("# ");
            self.buffer.push_str(line);
            self.buffer.push('\n');
        }
    }

    /// Renders `o` into the file being written, and drops its tree.
    fn add(&mut self, o: Object) {
        if self.documents {
            self.buffer.push_str("---\n");
        }
        yaml::write_document(&mut self.buffer, &o.notes, &o.body);
        self.documents = true;
    }

    /// Hands the file being written to `sink`: the namespace's
    /// (`service` is `None`) or a service's, named for it.
    fn finish(&mut self, service: Option<usize>, sink: &mut dyn Sink) {
        if !self.documents {
            return;
        }
        let file = match service {
            None => format!("{NAMESPACE_FILE}.yaml"),
            Some(i) => format!("{}.yaml", claim(&mut self.taken, &self.plan.names[i])),
        };
        sink.file(Path::new(&format!("{DIR}/{file}")), &self.buffer);
        self.resources.push(Node::Str(file));
    }

    fn kustomization(self, sink: &mut dyn Sink) {
        let mut root = Map::new();
        root.insert("apiVersion", "kustomize.config.k8s.io/v1beta1")
            .insert("kind", "Kustomization")
            .insert("resources", Node::Seq(self.resources));
        let mut lines = self.header.lines.to_vec();
        lines.push(format!("Apply: kubectl apply -k {DIR}/"));
        lines.extend(prerequisites(self.plan));
        sink.file(
            Path::new(&format!("{DIR}/{KUSTOMIZATION}")),
            &yaml::to_string(&lines, &root),
        );
    }
}

/// What must exist before the manifests apply: the Secrets they
/// reference but never contain, and the Ingress controller.
fn prerequisites(plan: &Plan<'_>) -> Vec<String> {
    let mut lines = Vec::new();
    // Each Secret in every namespace whose pods read it.
    let mut used: BTreeMap<&str, (&crate::ir::Secret, BTreeSet<&str>)> = BTreeMap::new();
    for (i, s) in plan.model.services.iter().enumerate() {
        for id in &s.secrets {
            let secret = plan.model.secret(*id);
            used.entry(secret.name.as_str())
                .or_insert_with(|| (secret, BTreeSet::new()))
                .1
                .insert(plan.namespace_of(ServiceId(i as u32)));
        }
    }
    if !used.is_empty() {
        lines.push(
            "These manifests hold no secret values. Create each Secret (key `value`) first:"
                .to_string(),
        );
    }
    for (secret, namespaces) in used.values() {
        let name = dns_label(&secret.name);
        for ns in namespaces {
            let how = match &secret.source {
                crate::ir::SecretSource::Env(var) => format!(
                    "printf %s \"${var}\" | kubectl create secret generic {name} -n {ns} --from-file=value=/dev/stdin"
                ),
                crate::ir::SecretSource::File(path) => format!(
                    "kubectl create secret generic {name} -n {ns} --from-file=value={path}"
                ),
                crate::ir::SecretSource::External(key) => format!(
                    "{name} in `{ns}`: synced by your external secret store (e.g. an ExternalSecret) from `{key}`"
                ),
            };
            lines.push(format!("  {how}"));
        }
    }
    lines.extend(routes::prerequisites(plan));
    lines
}

/// A name Kubernetes accepts for any object (an RFC 1035 label): lower
/// case letters, digits and `-`, starting with a letter, at most 63 bytes.
pub(crate) fn dns_label(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        let c = c.to_ascii_lowercase();
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if !(c == '-' && (out.is_empty() || out.ends_with('-'))) {
            out.push(c);
        }
    }
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert_str(0, "x-");
    }
    out.truncate(63);
    out.trim_end_matches('-').to_string()
}

/// Names already given in one name space.
pub(crate) type Taken = std::collections::HashSet<String>;

/// Distinct names: a later name that collides after [`dns_label`] gets `-2`, `-3`, ...
fn unique_names(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut taken = Taken::new();
    names.map(|name| claim(&mut taken, &name)).collect()
}

/// `raw` as a [`dns_label`] that is not in `taken` yet (else with `-2`,
/// `-3`, ...), which it then joins.
pub(crate) fn claim(taken: &mut Taken, raw: &str) -> String {
    let base = dns_label(raw);
    let mut name = base.clone();
    let mut n = 2;
    while taken.contains(&name) {
        let suffix = format!("-{n}");
        let mut stem = base.clone();
        stem.truncate(63 - suffix.len());
        name = format!("{}{suffix}", stem.trim_end_matches('-'));
        n += 1;
    }
    taken.insert(name.clone());
    name
}

/// The protocol as Kubernetes spells it.
pub(crate) fn protocol(p: crate::ir::Protocol) -> &'static str {
    match p {
        crate::ir::Protocol::Tcp => "TCP",
        crate::ir::Protocol::Udp => "UDP",
    }
}

/// A warning that Kubernetes narrows what the program says.
pub(crate) fn narrows(span: crate::ir::Span, message: String) -> Diagnostic {
    Diagnostic::new(Code::TargetNarrows, span, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(dns_label("db_password"), "db-password");
        assert_eq!(dns_label("Node__Exporter"), "node-exporter");
        assert_eq!(dns_label("9lives"), "x-9lives");
        assert_eq!(dns_label(&"a".repeat(80)).len(), 63);
        assert_eq!(routes::matcher_slug("app.example.com"), "app-example-com");
        assert_eq!(routes::matcher_slug("/api/v1"), "api-v1");
        assert_eq!(routes::matcher_slug("/"), "root");
        assert_eq!(
            unique_names(["a-b".to_string(), "a_b".to_string()].into_iter()),
            vec!["a-b".to_string(), "a-b-2".to_string()]
        );
    }
}
