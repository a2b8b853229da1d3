//! The cross-target exposure test: parse the generated files back, compute
//! for every service port the interface it is published on (compose,
//! swarm) or who can reach it (Kubernetes: Services, Ingresses and
//! NetworkPolicies, read by [`k8s_reach`]), and compare with the checked
//! model. A target may narrow a level (and must then say so with a
//! warning), never widen one. This is what keeps the backends honest as
//! they grow.

use crate::common;
use crate::k8s_reach;
use crate::terraform_rules;

use std::collections::BTreeMap;

use common::*;
use infrac::backend::Target;
use infrac::diagnostics::Code;
use infrac::ir::{Exposure, Model, Service};
use k8s_reach::{Cluster, Level, Ranges};
use terraform_rules::{hosts_of, terraform_groups, terraform_ingress, TfSource};
use yaml_rust2::{Yaml, YamlLoader};

/// How far a port reaches according to a generated file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reach {
    /// Not published: services on shared networks only (or, for a port the
    /// target narrowed, not even that beyond the task).
    Unpublished,
    Loopback,
    /// Published on every interface; a restricted port relies on the
    /// generated security group.
    AllInterfaces,
}

fn programs() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = examples()
        .into_iter()
        .map(|(name, path)| (format!("examples/{name}"), read(&path)))
        .collect();
    let fixtures = root().join("compiler/tests/fixtures");
    for entry in std::fs::read_dir(fixtures).into_iter().flatten().flatten() {
        let p = entry.path().join("near-miss.inf");
        if p.is_file() {
            out.push((p.display().to_string(), read(&p)));
        }
    }
    if let Some(shared) = shared() {
        let spec = read(&shared.join("spec/LANGUAGE.md"));
        for (tag, line, body) in inf_blocks(&spec) {
            if tag == "ok" {
                out.push((format!("LANGUAGE.md:{line}"), body));
            }
        }
    }
    out.push(("workload-64".into(), infrac::workload::program(64)));
    // Corners no example has: a route that stays inside to a `local` port,
    // routes with and without an allowlist to one port that has its own,
    // UDP and `as HOST` on a LoadBalancer, a dependency on local ports only.
    let corners = root().join("compiler/tests/exposure/corners.inf");
    out.push((corners.display().to_string(), read(&corners)));
    out
}

/// The files `target` builds for a program, or `None` when the target
/// refuses it: then only because it cannot enforce a level
/// (target-cannot-enforce), and there is nothing to compare.
fn built_or_refused(
    name: &str,
    text: &str,
    target: Target,
) -> Option<(
    Vec<infrac::backend::Artifact>,
    Vec<infrac::diagnostics::Diagnostic>,
)> {
    let (artifacts, diagnostics) = build(name, text, target);
    if diagnostics.iter().any(|d| d.is_error()) {
        assert!(
            diagnostics
                .iter()
                .all(|d| !d.is_error() || d.code == Code::TargetCannotEnforce),
            "{name} {}: {diagnostics:?}",
            target.name()
        );
        return None;
    }
    Some((artifacts, diagnostics))
}

fn load(text: &str) -> Yaml {
    let mut docs = YamlLoader::load_from_str(text).expect("generated YAML parses");
    docs.remove(0)
}

fn compose_reach(doc: &Yaml) -> BTreeMap<(String, u16), Reach> {
    let mut out = BTreeMap::new();
    for (name, svc) in doc["services"].as_hash().expect("services") {
        let name = name.as_str().unwrap().to_string();
        for p in svc["ports"].as_vec().into_iter().flatten() {
            let spec = p.as_str().expect("compose ports are short-syntax strings");
            let spec = spec.split('/').next().unwrap();
            let parts: Vec<&str> = spec.split(':').collect();
            assert_eq!(
                parts.len(),
                3,
                "every published port names its interface: {spec}"
            );
            let reach = match parts[0] {
                "127.0.0.1" => Reach::Loopback,
                "0.0.0.0" => Reach::AllInterfaces,
                other => panic!("unexpected interface {other}"),
            };
            out.insert((name.clone(), parts[2].parse().unwrap()), reach);
        }
    }
    out
}

fn swarm_reach(doc: &Yaml) -> BTreeMap<(String, u16), Reach> {
    let mut out = BTreeMap::new();
    for (name, svc) in doc["services"].as_hash().expect("services") {
        let name = name.as_str().unwrap().to_string();
        for p in svc["ports"].as_vec().into_iter().flatten() {
            let target = p["target"].as_i64().expect("long syntax") as u16;
            out.insert((name.clone(), target), Reach::AllInterfaces);
        }
    }
    out
}

fn networks_of(doc: &Yaml, service: &str) -> Vec<String> {
    let mut n: Vec<String> = doc["services"][service]["networks"]
        .as_vec()
        .into_iter()
        .flatten()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    n.sort();
    n
}

fn assert_target(
    name: &str,
    model: &Model,
    target: Target,
    reach: &BTreeMap<(String, u16), Reach>,
    doc: &Yaml,
    narrowed: &[(String, u16)],
) {
    for s in &model.services {
        let mut want: Vec<String> = s
            .networks
            .iter()
            .map(|n| model.network(*n).name.clone())
            .collect();
        want.sort();
        assert_eq!(
            networks_of(doc, &s.name),
            want,
            "{name} {}: networks of {}",
            target.name(),
            s.name
        );
        for p in &s.ports {
            let got = reach
                .get(&(s.name.clone(), p.container))
                .copied()
                .unwrap_or(Reach::Unpublished);
            let expected = match (&p.declared, target) {
                (Exposure::Local, Target::Swarm) => Reach::Unpublished,
                (Exposure::Local, _) => Reach::Loopback,
                (Exposure::Internal, _) => Reach::Unpublished,
                (Exposure::Restricted(_) | Exposure::Public, _) => Reach::AllInterfaces,
            };
            assert_eq!(
                got,
                expected,
                "{name} {}: {}:{} declared {}",
                target.name(),
                s.name,
                p.container,
                p.declared
            );
            if matches!(p.declared, Exposure::Restricted(_)) {
                assert!(
                    model.provider.is_some(),
                    "{name}: a restricted port was built without the provider that enforces it"
                );
            }
            // Never wider than the checked effective exposure.
            let widest_allowed = match p.effective {
                Exposure::Local => Reach::Loopback,
                Exposure::Internal => Reach::Unpublished,
                _ => Reach::AllInterfaces,
            };
            assert!(
                got <= widest_allowed
                    || (got == Reach::Loopback && p.effective == Exposure::Internal),
                "{name} {}: {}:{} is wider than its effective {}",
                target.name(),
                s.name,
                p.container,
                p.effective
            );
            if got == Reach::Unpublished
                && expected == Reach::Unpublished
                && matches!(p.declared, Exposure::Local)
            {
                assert!(
                    narrowed.contains(&(s.name.clone(), p.container)),
                    "{name}: {}:{} narrowed without a warning",
                    s.name,
                    p.container
                );
            }
        }
    }
}

#[test]
fn compose_and_swarm_publish_exactly_what_the_program_declares() {
    let mut covered = 0;
    for (name, text) in programs() {
        let (checked, _) = check_text(&name, &text);
        let Some(model) = checked.model else { continue };
        for target in [Target::Compose, Target::Swarm] {
            let Some((artifacts, diagnostics)) = built_or_refused(&name, &text, target) else {
                continue;
            };
            let narrowed = narrowed_ports(&model, &diagnostics);
            let doc = load(&artifacts[0].contents);
            let reach = match target {
                Target::Compose => compose_reach(&doc),
                _ => swarm_reach(&doc),
            };
            assert_target(&name, &model, target, &reach, &doc, &narrowed);
            covered += model.services.iter().map(|s| s.ports.len()).sum::<usize>();
        }
    }
    assert!(covered > 0, "no port was compared");
}

/// Every emitted YAML file parses back to the tree the emitter was given:
/// no string is misread as a number, boolean or null.
#[test]
fn generated_yaml_reads_back_as_strings() {
    let text = "service s {\n  image = \"ghcr.io/acme/s:1.0\"\n  env = { A = \"yes\", B = \"0x10\", C = \"1e3\", D = \"null\", E = \"~\", F = \"on\", G = \"12:30\", H = \"$HOME\", I = \"a: b\", J = \"- x\", K = \"#c\", L = \"\" }\n}\n";
    let (artifacts, _) = build("quoting.inf", text, Target::Compose);
    let doc = load(&artifacts[0].contents);
    let env = &doc["services"]["s"]["environment"];
    for (key, want) in [
        ("A", "yes"),
        ("B", "0x10"),
        ("C", "1e3"),
        ("D", "null"),
        ("E", "~"),
        ("F", "on"),
        ("G", "12:30"),
        ("H", "$$HOME"),
        ("I", "a: b"),
        ("J", "- x"),
        ("K", "#c"),
        ("L", ""),
    ] {
        assert_eq!(env[key].as_str(), Some(want), "{key}: {:?}", env[key]);
    }
}

#[test]
fn terraform_admits_exactly_the_sources_the_program_declares() {
    use infrac::ir::{Engine, Ssh};
    let world: Vec<ipnet::IpNet> = vec!["0.0.0.0/0".parse().unwrap(), "::/0".parse().unwrap()];
    let mut covered = 0;
    for (name, text) in programs() {
        let (checked, _) = check_text(&name, &text);
        let Some(model) = checked.model else { continue };
        let (artifacts, diagnostics) = build(&name, &text, Target::Terraform);
        assert!(
            !diagnostics.iter().any(|d| d.is_error()),
            "{name}: {diagnostics:?}"
        );
        let file = |p: &str| {
            artifacts
                .iter()
                .find(|a| a.path.to_str() == Some(p))
                .unwrap_or_else(|| panic!("{name}: no {p}"))
                .contents
                .clone()
        };
        let groups = terraform_groups(&file("terraform/outputs.tf"));
        let rules = terraform_ingress(&file("terraform/main.tf"));
        // What the program says each node admits from address ranges.
        let mut want: BTreeMap<(String, String, u16), Vec<ipnet::IpNet>> = BTreeMap::new();
        for s in &model.services {
            let hosts = hosts_of(&model, s);
            for p in &s.ports {
                let sources = match &p.declared {
                    Exposure::Public => world.clone(),
                    Exposure::Restricted(nets) => nets.to_vec(),
                    Exposure::Local | Exposure::Internal => continue,
                };
                // Never wider than the checked effective exposure.
                for net in &sources {
                    let within = match &p.effective {
                        Exposure::Public => true,
                        Exposure::Restricted(eff) => eff.iter().any(|e| e.contains(net)),
                        _ => false,
                    };
                    assert!(
                        within,
                        "{name}: {}:{} admits {net}, beyond its effective {}",
                        s.name, p.container, p.effective
                    );
                }
                if hosts.is_empty() {
                    assert!(
                        diagnostics.iter().any(|d| d.code == Code::TargetNarrows && d.primary.span == s.name_span),
                        "{name}: {} runs nowhere and no warning says so",
                        s.name
                    );
                }
                for h in &hosts {
                    let key = (h.clone(), p.protocol.as_str().to_string(), p.host);
                    want.entry(key).or_default().extend(sources.iter().copied());
                    covered += 1;
                }
            }
        }
        for n in &model.nodes {
            let ssh = match &n.ssh {
                Ssh::None => vec![],
                Ssh::Restricted(nets) => nets.to_vec(),
                Ssh::Public => world.clone(),
            };
            if !ssh.is_empty() {
                want.entry((n.name.clone(), "tcp".into(), 22))
                    .or_default()
                    .extend(ssh);
            }
            if let (Engine::Tls, Some(nets)) = (n.engine, &n.engine_from) {
                want.entry((n.name.clone(), "tcp".into(), 2376))
                    .or_default()
                    .extend(nets.iter().copied());
            }
        }
        for v in want.values_mut() {
            v.sort();
            v.dedup();
        }
        let mut got: BTreeMap<(String, String, u16), Vec<ipnet::IpNet>> = BTreeMap::new();
        for (group, proto, port, source) in &rules {
            let cluster_port = matches!(port, Some(2377 | 7946 | 4789)) || proto == "50";
            match source {
                TfSource::Cidr(net) => {
                    assert!(
                        !cluster_port,
                        "{name}: cluster port {port:?}/{proto} opened to {net}"
                    );
                    let node = groups.get(group).unwrap_or_else(|| {
                        panic!("{name}: an address-range rule on {group}, which is no node's group")
                    });
                    let port = port.expect("address-range rules name a port");
                    got.entry((node.clone(), proto.clone(), port))
                        .or_default()
                        .push(*net);
                }
                TfSource::Group(g) => {
                    // Group-sourced rules are the cluster's: its own ports,
                    // and the TLS engine for its members.
                    assert!(
                        cluster_port || *port == Some(2376),
                        "{name}: {group} admits {g} on {port:?}/{proto}, which is no cluster port"
                    );
                    assert!(!groups.contains_key(g), "{name}: a rule admits node group {g}: nodes meet in the cluster group only");
                }
            }
        }
        for v in got.values_mut() {
            v.sort();
        }
        assert_eq!(
            got, want,
            "{name}: the terraform ingress rules (node, protocol, port) → sources"
        );
    }
    assert!(covered > 0, "no published port was compared");
}

/// The ports a backend reported narrowing: a `target-narrows` warning on
/// the port's level.
fn narrowed_ports(
    model: &Model,
    diagnostics: &[infrac::diagnostics::Diagnostic],
) -> Vec<(String, u16)> {
    diagnostics
        .iter()
        .filter(|d| d.code == Code::TargetNarrows)
        .flat_map(|d| {
            model.services.iter().flat_map(move |s| {
                s.ports
                    .iter()
                    .filter(move |p| p.level_span == d.primary.span)
                    .map(move |p| (s.name.clone(), p.container))
            })
        })
        .collect()
}

/// The language's level as the reach [`k8s_reach`] computes.
fn level_of(e: &Exposure) -> Level {
    match e {
        Exposure::Local => Level::Local,
        Exposure::Internal => Level::Internal,
        Exposure::Restricted(nets) => Level::From(Ranges::of(nets.iter().copied())),
        Exposure::Public => Level::From(Ranges::everyone()),
    }
}

/// The Kubernetes name of each service, worked out independently of the
/// backend from the book's rule: a DNS label, `-2`, `-3`... on a collision.
fn k8s_names(model: &Model) -> Vec<String> {
    let mut taken = std::collections::BTreeSet::new();
    model
        .services
        .iter()
        .map(|s| {
            let mut base = String::new();
            for c in s.name.chars().map(|c| c.to_ascii_lowercase()) {
                let c = if c.is_ascii_alphanumeric() { c } else { '-' };
                if !(c == '-' && (base.is_empty() || base.ends_with('-'))) {
                    base.push(c);
                }
            }
            if !base.starts_with(|c: char| c.is_ascii_alphabetic()) {
                base.insert_str(0, "x-");
            }
            base.truncate(63);
            let base = base.trim_end_matches('-').to_string();
            let mut name = base.clone();
            let mut n = 2;
            while !taken.insert(name.clone()) {
                let suffix = format!("-{n}");
                let mut stem = base.clone();
                stem.truncate(63 - suffix.len());
                name = format!("{}{suffix}", stem.trim_end_matches('-'));
                n += 1;
            }
            name
        })
        .collect()
}

/// The Kubernetes spelling of a port's protocol.
fn proto(p: &infrac::ir::Port) -> String {
    p.protocol.as_str().to_ascii_uppercase()
}

/// Whether a route from `proxy` stays inside the cluster (the proxy
/// forwards it itself) rather than becoming an Ingress: it hands on no
/// more than `internal`, by the checker's own rule.
fn route_stays_inside(proxy: &Service, restriction: &Option<infrac::ir::Ranges>) -> Option<bool> {
    let reach = proxy.reach()?;
    let handed = match restriction {
        Some(nets) => reach.meet(&Exposure::Restricted(nets.clone())),
        None => reach,
    };
    Some(handed.rank() < 2)
}

/// One program's manifests against its model: the reach of every port,
/// and the pod-to-pod edges.
fn assert_k8s(name: &str, model: &Model, cluster: &Cluster, narrowed: &[(String, u16)]) {
    let names = k8s_names(model);
    let pods: Vec<String> = cluster.pods.iter().map(|p| p.name.clone()).collect();
    assert_eq!(pods, names, "{name}: one workload per service, in order");
    let mut reached: BTreeMap<(usize, u16, String), k8s_reach::PortReach> = BTreeMap::new();
    for (i, s) in model.services.iter().enumerate() {
        let declared: std::collections::BTreeSet<(u16, String)> =
            s.ports.iter().map(|p| (p.container, proto(p))).collect();
        assert_eq!(
            cluster.pods[i].ports, declared,
            "{name}: container ports of {}",
            s.name
        );
        for p in &s.ports {
            let r = cluster.reach(i, p.container, &proto(p));
            let at = format!("{name} k8s: {}:{}/{}", s.name, p.container, proto(p));
            let want = level_of(&p.effective);
            assert!(
                r.level.within(&want),
                "{at} reaches {:?}, wider than its effective {}",
                r.level,
                p.effective
            );
            assert!(
                r.level == want || narrowed.contains(&(s.name.clone(), p.container)),
                "{at} reaches {:?}, narrower than its effective {} with no warning",
                r.level,
                p.effective
            );
            // What the policies let in is what a LoadBalancer or an Ingress
            // serves: no address gets past the source ranges by a NodePort.
            assert!(
                r.direct.within(&r.delivered),
                "{at}: the policies admit {} but only {} is served",
                r.direct,
                r.delivered
            );
            assert!(
                r.other_namespaces.is_empty(),
                "{at}: let in from {:?}",
                r.other_namespaces
            );
            assert!(
                !r.controller_unused,
                "{at}: the ingress controller is let in, but no Ingress leads here"
            );
            reached.insert((i, p.container, proto(p)), r);
        }
    }
    // Who may talk to whom. Allowed: the program's edges, dependencies and
    // routes. Required: dependencies on the server's non-`local` ports
    // and routes that stay inside, each to a port a Service names.
    let mut allowed = std::collections::BTreeSet::new();
    let mut required = std::collections::BTreeSet::new();
    for (c, s) in model.services.iter().enumerate() {
        for (server, _) in &s.depends {
            allowed.insert((c, server.index()));
            for p in model
                .service(*server)
                .ports
                .iter()
                .filter(|p| p.declared != Exposure::Local)
            {
                required.insert((c, server.index(), p.container, proto(p)));
            }
        }
        for r in &s.routes {
            allowed.insert((c, r.target.index()));
            let Some(p) = model.service(r.target).port(r.port) else {
                continue;
            };
            if route_stays_inside(s, &r.restriction) == Some(true) {
                required.insert((c, r.target.index(), p.container, proto(p)));
            }
        }
    }
    for ((server, port, protocol), r) in &reached {
        for client in &r.peers {
            assert!(
                allowed.contains(&(*client, *server)),
                "{name} k8s: `{}` may connect to {}:{port}/{protocol} with no dependency or route to it",
                model.services[*client].name,
                model.services[*server].name
            );
        }
    }
    for (client, server, port, protocol) in &required {
        let r = &reached[&(*server, *port, protocol.clone())];
        let edge = format!(
            "{name} k8s: `{}` -> {}:{port}/{protocol}",
            model.services[*client].name, model.services[*server].name
        );
        assert!(
            r.peers.contains(client),
            "{edge} is declared but the policies drop it"
        );
        assert!(
            r.addressable,
            "{edge} is let through, but no Service names the port"
        );
    }
}

#[test]
fn kubernetes_reaches_exactly_what_the_program_declares() {
    let (mut covered, mut edges, mut built, mut refused) = (0, 0, 0, 0);
    for (name, text) in programs() {
        let (checked, _) = check_text(&name, &text);
        let Some(model) = checked.model else { continue };
        let Some((artifacts, diagnostics)) = built_or_refused(&name, &text, Target::K8s) else {
            refused += 1;
            continue;
        };
        let docs = artifacts
            .iter()
            .filter(|a| !a.path.ends_with(infrac::backend::k8s::KUSTOMIZATION))
            // One file per service holds all its objects.
            .flat_map(|a| YamlLoader::load_from_str(&a.contents).expect("generated YAML parses"))
            .collect();
        let cluster = Cluster::new(docs);
        assert_k8s(
            &name,
            &model,
            &cluster,
            &narrowed_ports(&model, &diagnostics),
        );
        built += 1;
        covered += model.services.iter().map(|s| s.ports.len()).sum::<usize>();
        edges += model
            .services
            .iter()
            .map(|s| s.depends.len() + s.routes.len())
            .sum::<usize>();
    }
    eprintln!(
        "k8s reach: {built} programs ({refused} refused by the backend), {covered} ports, {edges} dependencies and routes compared"
    );
    assert!(
        covered > 100 && edges > 50,
        "only {covered} ports and {edges} edges compared"
    );
}

/// A `local` port whose service shares a network: compose and swarm refuse
/// it (their peers would reach it) until the program accepts that, and
/// Kubernetes, which keeps it local, builds it either way.
#[test]
fn local_ports_with_peers_are_refused_by_compose_and_swarm_until_accepted() {
    let program = |waiver: &str| {
        format!(
            "service web {{\n  image = \"nginx:1.27-alpine\"\n  port 443 public\n}}\nservice metrics {{\n  image = \"ghcr.io/acme/metrics:1.0\"\n  port 9100 local\n{waiver}}}\n"
        )
    };
    let refused = program("");
    let accepted = program("  allow local-reaches-peers \"web may read the metrics\"\n");
    for target in [Target::Compose, Target::Swarm] {
        let (_, d) = build("peers.inf", &refused, target);
        let errors: Vec<_> = d.iter().filter(|d| d.is_error()).collect();
        assert!(
            errors.len() == 1 && errors[0].code == Code::TargetCannotEnforce,
            "{}: {d:?}",
            target.name()
        );
        let (files, d) = build("peers.inf", &accepted, target);
        assert!(!d.iter().any(|d| d.is_error()), "{}: {d:?}", target.name());
        assert!(!files.is_empty());
    }
    for text in [&refused, &accepted] {
        let (_, d) = build("peers.inf", text, Target::K8s);
        assert!(!d.iter().any(|d| d.is_error()), "k8s: {d:?}");
    }
    // Alone on its network, the port stays local on every target.
    let alone = "service metrics {\n  image = \"ghcr.io/acme/metrics:1.0\"\n  port 9100 local\n}\n";
    let (_, d) = build("alone.inf", alone, Target::Compose);
    assert!(!d.iter().any(|d| d.is_error()), "{d:?}");
}
