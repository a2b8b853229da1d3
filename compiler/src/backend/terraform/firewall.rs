//! The host firewall a program needs, decided once from the model: one
//! security group per node, the rules each published port, SSH, the engine
//! API and the swarm cluster call for, and the checkov checks a legitimate
//! rule trips. `terraform.rs` only writes this plan out as HCL, and the
//! cross-target exposure test reads the HCL back to compare it with the
//! model.
//!
//! What opens what:
//!
//! - a `public` port → one rule from `0.0.0.0/0` and one from `::/0` on the
//!   group of every node the service may run on;
//! - a `restricted(LIST)` port → one rule per range;
//! - `local` and `internal` ports → nothing (loopback and overlay traffic
//!   never cross the host firewall from outside);
//! - `ssh = restricted(LIST)` → 22/tcp per range; `ssh = public` (only when
//!   waived) → from everywhere, with the waiver's reason as checkov skip;
//! - `engine = tls` → 2376/tcp from the cluster's group, plus the ranges of
//!   `tls(restricted(LIST))`;
//! - a swarm (any manager) → a `cluster` group every node joins: 7946/tcp+udp,
//!   4789/udp (and ESP when an overlay is encrypted) from that group itself,
//!   2377/tcp to the managers from it. Never an address range: a node is in
//!   the cluster because it holds the group, not because of its address;
//! - egress: HTTPS to the world (image registries, package mirrors, the
//!   session manager) and the cluster ports to the cluster's group; never
//!   all ports. DNS, NTP and the instance metadata service are not filtered
//!   by security groups (AWS VPC documentation), so they need no rule.

use std::collections::HashSet;

use ipnet::IpNet;

use crate::diagnostics::{Code, Diagnostic};
use crate::ir::Protocol;
use crate::ir::{Engine, Exposure, Model, Role, Service, Ssh};

/// A security group: a node's, or the cluster's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupRef {
    Node(usize),
    Cluster,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proto {
    Tcp,
    Udp,
    /// IP protocol 50, for swarm's encrypted overlays (IPsec).
    Esp,
}

impl Proto {
    fn of(p: Protocol) -> Proto {
        match p {
            Protocol::Tcp => Proto::Tcp,
            Protocol::Udp => Proto::Udp,
        }
    }

    /// The `ip_protocol` value AWS expects.
    pub fn aws(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Esp => "50",
        }
    }

    fn word(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Esp => "esp",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Peer {
    Cidr(IpNet),
    Group(GroupRef),
}

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    /// The resource name, unique among the plan's rules.
    pub label: String,
    pub proto: Proto,
    /// `None` for protocols without ports (ESP).
    pub port: Option<u16>,
    pub peer: Peer,
    pub description: String,
    /// checkov checks this rule trips legitimately, with the reason.
    pub skips: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    /// The resource name (`node_main`, `cluster`).
    pub label: String,
    /// The node as a Terraform identifier, unique among the nodes (`main`,
    /// `cluster`): what its rules' and its subnet variable's names start
    /// with.
    pub key: String,
    /// The node's name, or `cluster`.
    pub name: String,
    pub description: String,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
}

#[derive(Debug, Clone)]
pub(crate) struct Firewall {
    /// One per node, in the model's order; a program without nodes has one
    /// implicit `host` (the single machine compose deploys to).
    pub nodes: Vec<Group>,
    pub cluster: Option<Group>,
}

impl Firewall {
    pub fn group(&self, r: GroupRef) -> &Group {
        match r {
            GroupRef::Node(i) => &self.nodes[i],
            GroupRef::Cluster => self
                .cluster
                .as_ref()
                .expect("a rule names the cluster group only when there is one"),
        }
    }
}

/// The name of the implicit node of a program that declares none.
pub(crate) const IMPLICIT_NODE: &str = "host";

/// Each node's name as a Terraform identifier, made unique (`a-b` and
/// `a_b` would both be `a_b`), in the model's order.
fn node_keys(model: &Model) -> Vec<String> {
    let mut taken = HashSet::new();
    let names: Vec<&str> = if model.nodes.is_empty() {
        vec![IMPLICIT_NODE]
    } else {
        model.nodes.iter().map(|n| n.name.as_str()).collect()
    };
    names
        .into_iter()
        .map(|n| unique(&mut taken, super::super::tf_name(n)))
        .collect()
}

/// The resource names of the nodes' security groups, in the model's order
/// (`node_` and the key). The compose and swarm comments that name the
/// group enforcing a restricted port use the same names.
pub(crate) fn node_labels(model: &Model) -> Vec<String> {
    node_keys(model)
        .into_iter()
        .map(|k| format!("node_{k}"))
        .collect()
}

fn unique(taken: &mut HashSet<String>, base: String) -> String {
    if taken.insert(base.clone()) {
        return base;
    }
    (2..)
        .map(|i| format!("{base}_{i}"))
        .find(|c| taken.insert(c.clone()))
        .expect("some suffix is free")
}

/// The nodes a service may run on: the one it is pinned to, else those its
/// placement admits.
fn hosts(model: &Model, s: &Service) -> Vec<usize> {
    if model.nodes.is_empty() {
        return vec![0];
    }
    if let Some(n) = s.on {
        return vec![n.index()];
    }
    (0..model.nodes.len())
        .filter(|&i| {
            let n = &model.nodes[i];
            s.placement.role.map_or(true, |r| r == n.role)
                && s.placement.labels.iter().all(|l| n.labels.contains(l))
        })
        .collect()
}

/// Text AWS accepts in a group or rule description: letters, digits,
/// spaces and `._-:/()#,@[]+=&;{}!$*`, at most 255 characters.
pub(crate) fn aws_text(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c) {
                c
            } else {
                ' '
            }
        })
        .collect();
    out.truncate(255);
    out.trim_end().to_string()
}

/// The checkov checks that fire on any rule admitting the whole internet
/// to `port`, however legitimate (upstream ids, research §3.4).
fn world_checks(port: u16) -> &'static [&'static str] {
    match port {
        22 => &["CKV_AWS_24"],
        3389 => &["CKV_AWS_25"],
        80 => &["CKV_AWS_260"],
        _ => &[],
    }
}

struct Planner<'m> {
    model: &'m Model,
    labels: HashSet<String>,
    fw: Firewall,
}

impl Planner<'_> {
    fn rule(
        &mut self,
        base: String,
        proto: Proto,
        port: Option<u16>,
        peer: Peer,
        description: String,
    ) -> Rule {
        let label = unique(&mut self.labels, base);
        Rule {
            label,
            proto,
            port,
            peer,
            description: aws_text(&description),
            skips: Vec::new(),
        }
    }

    /// Rules admitting `exposure`'s sources (`public` or the listed ranges)
    /// to `port` on node `node`'s group.
    /// Admits the cluster group's holders to `port`/tcp on node `node`.
    fn admit_cluster(&mut self, node: usize, label: String, port: u16, what: &str) {
        let rule = self.rule(
            label,
            Proto::Tcp,
            Some(port),
            Peer::Group(GroupRef::Cluster),
            format!("{what} from the cluster nodes"),
        );
        self.fw.nodes[node].ingress.push(rule);
    }

    /// `name` goes into the rules' resource names, `what` into their
    /// descriptions.
    #[allow(clippy::too_many_arguments)]
    fn open(
        &mut self,
        node: usize,
        name: &str,
        what: &str,
        proto: Proto,
        port: u16,
        exposure: &Exposure,
        skip_reason: &dyn Fn() -> String,
    ) {
        let sources: Vec<(IpNet, String)> = match exposure {
            Exposure::Public => vec![
                (
                    "0.0.0.0/0".parse().expect("a valid CIDR"),
                    "from anywhere (IPv4)".to_string(),
                ),
                (
                    "::/0".parse().expect("a valid CIDR"),
                    "from anywhere (IPv6)".to_string(),
                ),
            ],
            Exposure::Restricted(nets) => nets.iter().map(|n| (*n, format!("from {n}"))).collect(),
            Exposure::Local | Exposure::Internal => return,
        };
        let node_label = self.fw.nodes[node].key.clone();
        for (net, from) in sources {
            let base = format!(
                "{node_label}_{}_{port}_{}_{}",
                super::super::tf_name(name).to_lowercase(),
                proto.word(),
                cidr_label(&net)
            );
            let mut rule = self.rule(
                base,
                proto,
                Some(port),
                Peer::Cidr(net),
                format!("{what} {port}/{} {from}", proto.word()),
            );
            // checkov 3.3 judges `cidr_ipv4 = "0.0.0.0/0"` only; a skip on
            // the `::/0` twin would skip nothing and only blur the count.
            if matches!(net, IpNet::V4(_)) && net.prefix_len() == 0 {
                for check in world_checks(port) {
                    rule.skips.push((check, skip_reason()));
                }
            }
            self.fw.nodes[node].ingress.push(rule);
        }
    }
}

/// `203.0.113.7/32` → `203_0_113_7_32`; the whole internet → `world` /
/// `world_v6`.
fn cidr_label(net: &IpNet) -> String {
    if net.prefix_len() == 0 {
        return match net {
            IpNet::V4(_) => "world".into(),
            IpNet::V6(_) => "world_v6".into(),
        };
    }
    net.to_string()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// The plan for `model`, and what it had to narrow.
pub(crate) fn plan(model: &Model, project: &str, diagnostics: &mut Vec<Diagnostic>) -> Firewall {
    let swarm = model.nodes.iter().any(|n| n.role == Role::Manager);
    let nodes = node_keys(model)
        .into_iter()
        .enumerate()
        .map(|(i, key)| {
            let (name, role) = match model.nodes.get(i) {
                Some(n) => (n.name.clone(), n.role.as_str()),
                None => (IMPLICIT_NODE.to_string(), "the single host"),
            };
            Group {
                description: aws_text(&format!("infrac {project}: node {name} ({role})")),
                label: format!("node_{key}"),
                key,
                name,
                ingress: Vec::new(),
                egress: Vec::new(),
            }
        })
        .collect();
    let cluster = swarm.then(|| Group {
        // Node groups are all `node_…`: `cluster` is free.
        label: "cluster".into(),
        key: "cluster".into(),
        name: "cluster".into(),
        description: aws_text(&format!("infrac {project}: membership of the swarm cluster; its nodes reach each other through it")),
        ingress: Vec::new(),
        egress: Vec::new(),
    });
    let mut p = Planner {
        model,
        labels: HashSet::new(),
        fw: Firewall { nodes, cluster },
    };
    published_ports(&mut p, diagnostics);
    for i in 0..model.nodes.len() {
        node_access(&mut p, i);
    }
    if swarm {
        cluster_rules(&mut p);
    }
    for i in 0..p.fw.nodes.len() {
        let label = p.fw.nodes[i].key.clone();
        for (net, v) in [("0.0.0.0/0", ""), ("::/0", "_v6")] {
            let net: IpNet = net.parse().expect("a valid CIDR");
            let ip = if v.is_empty() { "IPv4" } else { "IPv6" };
            let rule = p.rule(
                format!("{label}_https_out{v}"),
                Proto::Tcp,
                Some(443),
                Peer::Cidr(net),
                format!("HTTPS out ({ip}): image registries, package mirrors, the session manager"),
            );
            p.fw.nodes[i].egress.push(rule);
        }
    }
    p.fw
}

fn published_ports(p: &mut Planner<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let model = p.model;
    for s in &model.services {
        let published: Vec<_> = s
            .ports
            .iter()
            .filter(|port| matches!(port.declared, Exposure::Public | Exposure::Restricted(_)))
            .collect();
        if published.is_empty() {
            continue;
        }
        let hosts = hosts(model, s);
        if hosts.is_empty() {
            diagnostics.push(
                Diagnostic::new(Code::TargetNarrows, s.name_span, format!("service `{}` fits no node, so the terraform target opens none of its ports", s.name))
                    .label("no node has the role and labels its placement asks for")
                    .help("pin it with `on = NODE`, or give a node the role and labels of its `placement`"),
            );
            continue;
        }
        for port in published {
            let accepted = |code: Code| {
                s.accepted
                    .iter()
                    .find(|(c, _)| *c == code)
                    .map(|(_, r)| r.clone())
            };
            let reason = || {
                accepted(Code::RemoteAdminPublic)
                    .or_else(|| accepted(Code::AdminPublic))
                    .unwrap_or_else(|| {
                        format!(
                            "service {} declares port {} public in the program",
                            s.name, port.host
                        )
                    })
            };
            for &node in &hosts {
                p.open(
                    node,
                    &s.name,
                    &s.name,
                    Proto::of(port.protocol),
                    port.host,
                    &port.declared,
                    &reason,
                );
            }
        }
    }
}

/// SSH and the engine API of node `i`.
fn node_access(p: &mut Planner<'_>, i: usize) {
    let model = p.model;
    let n = &model.nodes[i];
    match &n.ssh {
        Ssh::None => {}
        Ssh::Restricted(nets) => {
            let e = Exposure::Restricted(nets.clone());
            p.open(i, "ssh", "SSH", Proto::Tcp, 22, &e, &|| String::new());
        }
        Ssh::Public => {
            let reason = n
                .accepted
                .iter()
                .find(|(c, _)| *c == Code::SshPublic)
                .map(|(_, r)| r.clone())
                .unwrap_or_else(|| format!("node {} declares ssh = public in the program", n.name));
            p.open(i, "ssh", "SSH", Proto::Tcp, 22, &Exposure::Public, &|| {
                reason.clone()
            });
        }
    }
    if n.engine == Engine::Tls {
        let label = p.fw.nodes[i].key.clone();
        if p.fw.cluster.is_some() {
            p.admit_cluster(
                i,
                format!("{label}_engine_tls_cluster"),
                2376,
                "Docker engine API (mutual TLS)",
            );
        }
        if let Some(nets) = &n.engine_from {
            let e = Exposure::Restricted(nets.clone());
            p.open(
                i,
                "engine_tls",
                "Docker engine API (mutual TLS)",
                Proto::Tcp,
                2376,
                &e,
                &|| String::new(),
            );
        }
    }
}

/// The swarm's own traffic, between the holders of the cluster group only.
fn cluster_rules(p: &mut Planner<'_>) {
    let encrypted = p.model.networks.iter().any(|n| n.encrypted);
    let mut flows = vec![
        (
            "gossip_tcp",
            Proto::Tcp,
            Some(7946),
            "swarm gossip 7946/tcp",
        ),
        (
            "gossip_udp",
            Proto::Udp,
            Some(7946),
            "swarm gossip 7946/udp",
        ),
        (
            "overlay_vxlan",
            Proto::Udp,
            Some(4789),
            "swarm overlay VXLAN 4789/udp",
        ),
    ];
    if encrypted {
        flows.push((
            "overlay_esp",
            Proto::Esp,
            None,
            "swarm encrypted overlay, ESP (IP protocol 50)",
        ));
    }
    for (name, proto, port, what) in flows {
        let ingress = p.rule(
            format!("cluster_{name}_in"),
            proto,
            port,
            Peer::Group(GroupRef::Cluster),
            format!("{what} from the cluster nodes"),
        );
        let egress = p.rule(
            format!("cluster_{name}_out"),
            proto,
            port,
            Peer::Group(GroupRef::Cluster),
            format!("{what} to the cluster nodes"),
        );
        let cluster =
            p.fw.cluster
                .as_mut()
                .expect("cluster rules are planned for a swarm only");
        cluster.ingress.push(ingress);
        cluster.egress.push(egress);
    }
    let model = p.model;
    for (i, n) in model.nodes.iter().enumerate() {
        let label = p.fw.nodes[i].key.clone();
        let mut to_node = Vec::new();
        if n.role == Role::Manager {
            p.admit_cluster(
                i,
                format!("{label}_swarm_manager"),
                2377,
                "swarm management 2377/tcp",
            );
            to_node.push((2377, "swarm management 2377/tcp"));
        }
        if n.engine == Engine::Tls {
            to_node.push((2376, "Docker engine API (mutual TLS)"));
        }
        for (port, what) in to_node {
            let rule = p.rule(
                format!("cluster_to_{label}_{port}"),
                Proto::Tcp,
                Some(port),
                Peer::Group(GroupRef::Node(i)),
                format!("{what} to node {}", n.name),
            );
            p.fw.cluster
                .as_mut()
                .expect("a swarm has a cluster group")
                .egress
                .push(rule);
        }
    }
}
