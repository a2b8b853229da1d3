//! Who can open a connection to a pod port, computed from a set of
//! Kubernetes manifests the way a cluster enforces it, knowing nothing of
//! the program that produced them:
//!
//! - NetworkPolicies decide. A pod that no policy selects for a direction
//!   is open in that direction (Kubernetes' rule, so a missing default-deny
//!   shows up as `public`); otherwise a connection needs an ingress rule on
//!   the server *and* an egress rule on the client (for pods of the
//!   namespace) that match the peer and the port.
//! - Paths from outside: a LoadBalancer Service delivers its
//!   `loadBalancerSourceRanges` (everyone when absent) as far as the
//!   policies' `ipBlock`s let them in; an Ingress delivers its allowlist
//!   annotation (everyone when absent) when the policies admit the ingress
//!   controller's namespace. An `ipBlock` alone is also counted as reach
//!   (`direct`): a LoadBalancer opens a NodePort on every node, which its
//!   source ranges do not guard, and on some CNIs pod addresses are
//!   routable, so the policies are the real bound.
//! - Inside the namespace a port is addressable when a Service (of any
//!   type) targets it, and reached by the pods the policies admit through
//!   `podSelector` peers. An ingress `ipBlock` counts as reach from
//!   outside, not as pod peers: a port it opens is `restricted` or
//!   `public` already, which is what the comparison judges.
//!
//! Shapes this reader does not understand (`matchExpressions`, named
//! target ports, `except`, label-selected namespaces) make it panic, so a
//! backend that starts emitting them fails here instead of passing unread.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;
use yaml_rust2::Yaml;

/// The namespace each Ingress class's controller runs in (each
/// controller's default install).
pub const CONTROLLERS: &[(&str, &str)] = &[
    ("caddy", "caddy-system"),
    ("haproxy", "haproxy-controller"),
    ("nginx", "ingress-nginx"),
    ("traefik", "traefik"),
];
/// The allowlist annotation of ingress-nginx.
const ALLOWLIST: &str = "nginx.ingress.kubernetes.io/whitelist-source-range";
/// Its newer spelling, which must agree when both are present.
const ALLOWLIST_NEW: &str = "nginx.ingress.kubernetes.io/allowlist-source-range";
/// The allowlist annotation of the HAProxy controller.
const ALLOWLIST_HAPROXY: &str = "haproxy.org/allow-list";

fn controller_namespace(class: &str) -> Option<&'static str> {
    CONTROLLERS
        .iter()
        .find(|(c, _)| *c == class)
        .map(|(_, ns)| *ns)
}

/// A set of address ranges: sorted, none inside another.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ranges(Vec<IpNet>);

impl Ranges {
    pub fn of(nets: impl IntoIterator<Item = IpNet>) -> Ranges {
        let mut all: Vec<IpNet> = nets.into_iter().map(|n| n.trunc()).collect();
        all.sort();
        all.dedup();
        let kept = all
            .iter()
            .filter(|n| !all.iter().any(|m| m != *n && m.contains(*n)))
            .copied()
            .collect();
        Ranges(kept)
    }

    /// Every IPv4 and IPv6 address.
    pub fn everyone() -> Ranges {
        Ranges::of(["0.0.0.0/0", "::/0"].map(|n| n.parse().expect("a CIDR")))
    }

    pub fn join(&self, other: &Ranges) -> Ranges {
        Ranges::of(self.0.iter().chain(&other.0).copied())
    }

    /// The addresses in both: two CIDRs are either nested or disjoint.
    pub fn meet(&self, other: &Ranges) -> Ranges {
        let mut out = Vec::new();
        for a in &self.0 {
            for b in &other.0 {
                if a.contains(b) {
                    out.push(*b);
                } else if b.contains(a) {
                    out.push(*a);
                }
            }
        }
        Ranges::of(out)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every address of `self` is in `other`.
    pub fn within(&self, other: &Ranges) -> bool {
        &self.meet(other) == self
    }
}

impl std::fmt::Display for Ranges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list: Vec<String> = self.0.iter().map(|n| n.to_string()).collect();
        write!(f, "[{}]", list.join(", "))
    }
}

/// How far a port reaches, in the order of the language's levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    /// No Service and no peer: `kubectl port-forward` only.
    Local,
    /// Addressable or reached inside the namespace, from nowhere outside.
    Internal,
    /// Reached from these addresses (and inside the namespace).
    From(Ranges),
}

impl Level {
    /// `self` reaches no further than `other`.
    pub fn within(&self, other: &Level) -> bool {
        match (self, other) {
            (Level::Local, _) => true,
            (Level::Internal, Level::Local) => false,
            (Level::Internal, _) => true,
            (Level::From(a), Level::From(b)) => a.within(b),
            (Level::From(_), _) => false,
        }
    }
}

/// A pod template: a Deployment, StatefulSet or DaemonSet.
#[derive(Debug)]
pub struct Pod {
    pub name: String,
    /// The namespace it runs in.
    namespace: String,
    labels: BTreeMap<String, String>,
    /// `containerPort`s, as (port, protocol).
    pub ports: BTreeSet<(u16, String)>,
}

/// Who may send to a pod port, as a policy rule names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Peer {
    /// No policy isolates the pod, or a rule with no peer list.
    Anyone,
    Block(IpNet),
    /// A pod of this namespace, by index into [`Cluster::pods`].
    Pod(usize),
    /// Any pod of another namespace, by name.
    Namespace(String),
}

/// What the manifests let reach one pod port.
#[derive(Debug)]
pub struct PortReach {
    pub level: Level,
    /// Addresses a LoadBalancer or an Ingress actually serves.
    pub delivered: Ranges,
    /// Addresses the policies admit by `ipBlock`.
    pub direct: Ranges,
    /// Pods of the namespace that may connect (both policies agree).
    pub peers: BTreeSet<usize>,
    /// Whether a Service targets the port.
    pub addressable: bool,
    /// Namespaces other than the ingress controller's that are let in.
    pub other_namespaces: BTreeSet<String>,
    /// The ingress controller is let in, but no Ingress leads here.
    pub controller_unused: bool,
}

/// The objects of a program's namespaces.
pub struct Cluster {
    /// The first namespace the manifests create: the application's.
    pub namespace: String,
    /// Every namespace they create (a pod of another is outside).
    namespaces: BTreeSet<String>,
    pub pods: Vec<Pod>,
    services: Vec<Yaml>,
    ingresses: Vec<Yaml>,
    policies: Vec<Yaml>,
}

fn s(y: &Yaml) -> &str {
    y.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {y:?}"))
}

fn seq(y: &Yaml) -> &[Yaml] {
    y.as_vec().map_or(&[], |v| v.as_slice())
}

fn port_number(y: &Yaml) -> u16 {
    let n = y
        .as_i64()
        .unwrap_or_else(|| panic!("a numeric port (named ports are not read here): {y:?}"));
    u16::try_from(n).unwrap_or_else(|_| panic!("port {n} out of range"))
}

fn protocol_of(entry: &Yaml) -> String {
    entry["protocol"].as_str().unwrap_or("TCP").to_string()
}

fn labels_of(y: &Yaml) -> BTreeMap<String, String> {
    y.as_hash()
        .into_iter()
        .flatten()
        .map(|(k, v)| (s(k).to_string(), s(v).to_string()))
        .collect()
}

fn cidr(text: &str) -> IpNet {
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("`{text}` is not a CIDR: {e}"))
}

/// A `LabelSelector` (`matchLabels` only; `{}` selects everything).
fn selects(selector: &Yaml, labels: &BTreeMap<String, String>) -> bool {
    assert!(
        selector["matchExpressions"].is_badvalue(),
        "matchExpressions are not read here: {selector:?}"
    );
    labels_of(&selector["matchLabels"])
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v))
}

impl Cluster {
    /// Every document but the kustomization, all of one namespace.
    pub fn new(docs: Vec<Yaml>) -> Cluster {
        let mut cluster = Cluster {
            namespace: String::new(),
            namespaces: BTreeSet::new(),
            pods: Vec::new(),
            services: Vec::new(),
            ingresses: Vec::new(),
            policies: Vec::new(),
        };
        let mut namespaces = BTreeSet::new();
        for doc in docs {
            let kind = s(&doc["kind"]).to_string();
            if kind == "Namespace" {
                let name = s(&doc["metadata"]["name"]).to_string();
                if cluster.namespaces.is_empty() {
                    cluster.namespace = name.clone();
                }
                cluster.namespaces.insert(name);
                continue;
            }
            namespaces.insert(s(&doc["metadata"]["namespace"]).to_string());
            match kind.as_str() {
                "Deployment" | "StatefulSet" | "DaemonSet" => {
                    let template = &doc["spec"]["template"];
                    let ports = seq(&template["spec"]["containers"])
                        .iter()
                        .flat_map(|c| seq(&c["ports"]))
                        .map(|p| (port_number(&p["containerPort"]), protocol_of(p)))
                        .collect();
                    cluster.pods.push(Pod {
                        name: s(&doc["metadata"]["name"]).to_string(),
                        namespace: s(&doc["metadata"]["namespace"]).to_string(),
                        labels: labels_of(&template["metadata"]["labels"]),
                        ports,
                    });
                }
                "Service" => cluster.services.push(doc),
                "Ingress" => cluster.ingresses.push(doc),
                "NetworkPolicy" => cluster.policies.push(doc),
                _ => {}
            }
        }
        assert!(
            namespaces.is_subset(&cluster.namespaces),
            "every object is in a Namespace the manifests create: {namespaces:?} vs {:?}",
            cluster.namespaces
        );
        cluster
    }

    /// The pods of namespace `ns` a selector picks.
    fn pods_selected(&self, ns: &str, selector: &Yaml) -> Vec<usize> {
        (0..self.pods.len())
            .filter(|i| self.pods[*i].namespace == ns && selects(selector, &self.pods[*i].labels))
            .collect()
    }

    /// The peers a rule's `from`/`to` list names, in a policy of `ns`.
    fn peers(&self, ns: &str, list: &Yaml) -> Vec<Peer> {
        if seq(list).is_empty() {
            return vec![Peer::Anyone];
        }
        let mut out = Vec::new();
        for peer in seq(list) {
            if !peer["ipBlock"].is_badvalue() {
                assert!(
                    peer["ipBlock"]["except"].is_badvalue(),
                    "ipBlock.except is not read here"
                );
                out.push(Peer::Block(cidr(s(&peer["ipBlock"]["cidr"]))));
            } else if !peer["namespaceSelector"].is_badvalue() {
                let labels = labels_of(&peer["namespaceSelector"]["matchLabels"]);
                let other = match labels.get("kubernetes.io/metadata.name") {
                    Some(ns) if labels.len() == 1 => ns.clone(),
                    _ => panic!("namespaces are read by name only: {peer:?}"),
                };
                if self.namespaces.contains(&other) {
                    let all = Yaml::Hash(Default::default());
                    let pods = match &peer["podSelector"] {
                        Yaml::BadValue => &all,
                        sel => sel,
                    };
                    out.extend(self.pods_selected(&other, pods).into_iter().map(Peer::Pod));
                } else {
                    out.push(Peer::Namespace(other));
                }
            } else {
                out.extend(
                    self.pods_selected(ns, &peer["podSelector"])
                        .into_iter()
                        .map(Peer::Pod),
                );
            }
        }
        out
    }

    /// Whether a rule's `ports` list admits the port (absent: every port).
    fn rule_admits_port(rule: &Yaml, port: u16, proto: &str) -> bool {
        let ports = seq(&rule["ports"]);
        ports.is_empty()
            || ports.iter().any(|p| {
                let from = port_number(&p["port"]);
                let to = p["endPort"].as_i64().map_or(from, |e| e as u16);
                protocol_of(p) == proto && (from..=to).contains(&port)
            })
    }

    /// The peers admitted for one direction of one pod port.
    fn admitted(&self, pod: usize, direction: &str, port: u16, proto: &str) -> Vec<Peer> {
        let (key, peers_key) = match direction {
            "Ingress" => ("ingress", "from"),
            _ => ("egress", "to"),
        };
        let mut isolated = false;
        let mut out = Vec::new();
        for policy in &self.policies {
            let spec = &policy["spec"];
            let ns = s(&policy["metadata"]["namespace"]);
            if ns != self.pods[pod].namespace
                || !selects(&spec["podSelector"], &self.pods[pod].labels)
            {
                continue;
            }
            // policyTypes defaults to Ingress, plus Egress when rules are given.
            let types: Vec<&str> = match spec["policyTypes"].as_vec() {
                Some(v) => v.iter().map(s).collect(),
                None if spec["egress"].is_badvalue() => vec!["Ingress"],
                None => vec!["Ingress", "Egress"],
            };
            if !types.contains(&direction) {
                continue;
            }
            isolated = true;
            for rule in seq(&spec[key]) {
                if Self::rule_admits_port(rule, port, proto) {
                    out.extend(self.peers(ns, &rule[peers_key]));
                }
            }
        }
        if !isolated {
            out.push(Peer::Anyone);
        }
        out.sort();
        out.dedup();
        out
    }

    /// Whether the client pod may send to the server pod's port.
    fn egress_allows(&self, client: usize, server: usize, port: u16, proto: &str) -> bool {
        // Pod addresses are not known here: an egress ipBlock might cover
        // them, so it counts (the safe side for a "no undeclared edge" test).
        self.admitted(client, "Egress", port, proto)
            .iter()
            .any(|p| matches!(p, Peer::Anyone | Peer::Block(_)) || *p == Peer::Pod(server))
    }

    /// The (port, protocol) pods a Service entry targets, with the entry.
    fn service_targets<'a>(svc: &'a Yaml) -> impl Iterator<Item = (&'a Yaml, u16, String)> + 'a {
        seq(&svc["spec"]["ports"]).iter().map(|p| {
            let target = match &p["targetPort"] {
                Yaml::BadValue => port_number(&p["port"]),
                t => port_number(t),
            };
            (p, target, protocol_of(p))
        })
    }

    fn service_selects(&self, svc: &Yaml, pod: usize) -> bool {
        // A Service with no selector has hand-made endpoints (none here),
        // or names a Service elsewhere (ExternalName): it selects no pod.
        s(&svc["metadata"]["namespace"]) == self.pods[pod].namespace
            && svc["spec"]["selector"].as_hash().is_some()
            && labels_of(&svc["spec"]["selector"])
                .iter()
                .all(|(k, v)| self.pods[pod].labels.get(k) == Some(v))
    }

    /// Everything that reaches `pod` on `port`/`proto`.
    pub fn reach(&self, pod: usize, port: u16, proto: &str) -> PortReach {
        let admitted = self.admitted(pod, "Ingress", port, proto);
        let anyone = admitted.contains(&Peer::Anyone);
        let direct = if anyone {
            Ranges::everyone()
        } else {
            Ranges::of(admitted.iter().filter_map(|p| match p {
                Peer::Block(n) => Some(*n),
                _ => None,
            }))
        };
        let controller_admitted = |class: &str| {
            anyone
                || controller_namespace(class)
                    .is_some_and(|ns| admitted.contains(&Peer::Namespace(ns.to_string())))
        };
        let any_controller = CONTROLLERS.iter().any(|(c, _)| controller_admitted(c));
        let other_namespaces = admitted
            .iter()
            .filter_map(|p| match p {
                Peer::Namespace(n) if CONTROLLERS.iter().all(|(_, ns)| n != ns) => Some(n.clone()),
                _ => None,
            })
            .collect();
        let peers = (0..self.pods.len())
            .filter(|c| anyone || admitted.contains(&Peer::Pod(*c)))
            .filter(|c| self.egress_allows(*c, pod, port, proto))
            .collect::<BTreeSet<usize>>();

        let mut addressable = false;
        let mut delivered = Ranges::default();
        for svc in &self.services {
            if !self.service_selects(svc, pod) {
                continue;
            }
            for (_, target, p) in Self::service_targets(svc) {
                if (target, p.as_str()) != (port, proto) {
                    continue;
                }
                addressable = true;
                if svc["spec"]["type"].as_str() == Some("LoadBalancer") {
                    let sources = match svc["spec"]["loadBalancerSourceRanges"].as_vec() {
                        Some(list) => Ranges::of(list.iter().map(|r| cidr(s(r)))),
                        None => Ranges::everyone(),
                    };
                    delivered = delivered.join(&sources.meet(&direct));
                }
            }
        }
        let mut routed = false;
        for ing in &self.ingresses {
            let annotations = &ing["metadata"]["annotations"];
            let allow = match annotations[ALLOWLIST].as_str() {
                Some(list) => {
                    if let Some(new) = annotations[ALLOWLIST_NEW].as_str() {
                        assert_eq!(list, new, "the two allowlist annotations disagree");
                    }
                    Ranges::of(list.split(',').map(cidr))
                }
                None => {
                    assert!(
                        annotations[ALLOWLIST_NEW].is_badvalue(),
                        "only the newer allowlist annotation: older controllers ignore it"
                    );
                    Ranges::everyone()
                }
            };
            // Each controller reads its own annotation only: another's
            // is no allowlist at all.
            let class = ing["spec"]["ingressClassName"].as_str().unwrap_or("");
            let allow = match class {
                "nginx" => allow,
                "haproxy" => {
                    assert!(
                        annotations[ALLOWLIST].is_badvalue(),
                        "an nginx allowlist on a haproxy Ingress: nobody reads it"
                    );
                    match annotations[ALLOWLIST_HAPROXY].as_str() {
                        Some(list) => Ranges::of(list.split(',').map(|r| cidr(r.trim()))),
                        None => Ranges::everyone(),
                    }
                }
                _ => Ranges::everyone(),
            };
            let controller = controller_admitted(class);
            let spec = &ing["spec"];
            let backends = seq(&spec["rules"])
                .iter()
                .flat_map(|r| seq(&r["http"]["paths"]))
                .map(|p| &p["backend"])
                .chain(std::iter::once(&spec["defaultBackend"]))
                .filter(|b| !b.is_badvalue());
            for backend in backends {
                let name = s(&backend["service"]["name"]);
                let wanted = &backend["service"]["port"];
                let ns = s(&ing["metadata"]["namespace"]);
                for svc in self.services.iter().filter(|svc| {
                    s(&svc["metadata"]["name"]) == name && s(&svc["metadata"]["namespace"]) == ns
                }) {
                    if !self.service_selects(svc, pod) {
                        continue;
                    }
                    for (entry, target, p) in Self::service_targets(svc) {
                        let hit = match wanted["number"].as_i64() {
                            Some(n) => entry["port"].as_i64() == Some(n),
                            None => entry["name"].as_str() == Some(s(&wanted["name"])),
                        };
                        if hit && (target, p.as_str()) == (port, proto) {
                            routed = true;
                            if controller {
                                delivered = delivered.join(&allow);
                            }
                        }
                    }
                }
            }
        }

        let outside = direct.join(&delivered);
        let level = if !outside.is_empty() {
            Level::From(outside)
        } else if addressable || !peers.is_empty() {
            Level::Internal
        } else {
            Level::Local
        };
        PortReach {
            level,
            delivered,
            direct,
            peers,
            addressable,
            other_namespaces,
            controller_unused: any_controller && !anyone && !routed,
        }
    }
}
