//! The reach oracle: for random programs (proptest), every target is built
//! in memory, its files are read back the way the platform reads them, and
//! from them alone it is computed who can open a connection to every
//! declared container port and host port: the internet or an address
//! range (by the published interface and, where the program has a
//! `provider`, the security group Terraform generates for the node),
//! a peer on a shared network, or the host itself. That reach must never
//! be wider than the checker's effective exposure of the port; a program
//! the checker refuses, or a build a target refuses with
//! `target-cannot-enforce`, has nothing to compare.
//!
//! - compose: `ports` (`127.0.0.1:H:C` is the host, `0.0.0.0:H:C` everyone
//!   or the node's security group), `network_mode: host` (every port on the
//!   host's interfaces), and every other service on a shared network;
//! - swarm: long-syntax `ports` (host mode) the same way, and the overlay
//!   networks' members;
//! - Kubernetes: Services, NodePorts, LoadBalancers, Ingresses and
//!   NetworkPolicies, read by [`k8s_reach`];
//! - Terraform: every address-range ingress rule of a node's group must be
//!   justified by a port placed on that node (or its SSH or engine).
//!
//! Routes are in the programs (with and without allowlists, in chains and
//! cycles, on each of the four proxies): their reach is what an Ingress
//! delivers on Kubernetes, and on compose and swarm the proxy's own port
//! and what its generated configuration forwards — read back by
//! `proxies/` and required to be exactly the model's routes (host and
//! path to the route's service:port, the allowlist of the reach it hands
//! on), never wider. A route that widened a target's effective exposure
//! beyond what the checker computed shows up as a Kubernetes reach wider
//! than the effective level, or as a forward the model does not have.

use crate::k8s_reach;
use crate::proxies;
use crate::terraform_rules;
#[path = "reach_oracle/programs.rs"]
mod programs;

use std::collections::{BTreeMap, BTreeSet};

use infrac::backend::Target;
use infrac::diagnostics::Code;
use infrac::ir::{Exposure, Model, Protocol, Service};
use ipnet::IpNet;
use proptest::test_runner::{Config, TestRunner};
use terraform_rules::{hosts_of, terraform_groups, terraform_ingress, TfSource};
use yaml_rust2::{Yaml, YamlLoader};

/// Who reaches a port, from the generated files alone, besides the
/// processes of its own host (which every level admits).
#[derive(Debug, Default, Clone)]
struct Who {
    /// Other services (by name) that reach it across a shared network.
    peers: BTreeSet<String>,
    /// Addresses outside the deployment.
    from: Vec<IpNet>,
}

fn world() -> Vec<IpNet> {
    vec!["0.0.0.0/0".parse().unwrap(), "::/0".parse().unwrap()]
}

/// Whether `who` stays within the checked effective exposure `eff` of a
/// port of `s`: `local` admits the host only; `internal` the host and the
/// services that share a network with `s` in the model; `restricted` also
/// its ranges; `public` anyone.
fn within(who: &Who, eff: &Exposure, model: &Model, s: &Service) -> Result<(), String> {
    let neighbours: BTreeSet<String> = model
        .services
        .iter()
        .filter(|o| o.name != s.name && o.networks.iter().any(|n| s.networks.contains(n)))
        .map(|o| o.name.clone())
        .collect();
    match eff {
        Exposure::Public => Ok(()),
        Exposure::Local if !who.peers.is_empty() || !who.from.is_empty() => Err(format!(
            "local, but reached by peers {:?} and from {:?}",
            who.peers, who.from
        )),
        Exposure::Local => Ok(()),
        _ => {
            if let Some(p) = who.peers.iter().find(|p| !neighbours.contains(*p)) {
                return Err(format!("reached by `{p}`, which shares no network with it"));
            }
            let allowed: Vec<IpNet> = match eff {
                Exposure::Restricted(r) => r.to_vec(),
                _ => vec![],
            };
            match who
                .from
                .iter()
                .find(|n| !allowed.iter().any(|a| a.contains(*n)))
            {
                Some(n) => Err(format!("reached from {n}, beyond {eff}")),
                None => Ok(()),
            }
        }
    }
}

fn load(text: &str) -> Yaml {
    YamlLoader::load_from_str(text)
        .expect("generated YAML parses")
        .remove(0)
}

fn proto_of(p: Protocol) -> &'static str {
    p.as_str()
}

/// The address ranges the security groups admit on host port `port` of
/// the nodes `hosts` (Terraform's rules, which a compose or swarm
/// deployment of the same program relies on).
type Firewall = BTreeMap<(String, String, u16), Vec<IpNet>>;

fn firewall(model: &Model) -> Option<Firewall> {
    model.provider.as_ref()?;
    let (artifacts, diagnostics) = emit(model, Target::Terraform);
    assert!(
        !diagnostics.iter().any(|d| d.is_error()),
        "terraform refused a checked program: {diagnostics:?}"
    );
    let file = |p: &str| {
        artifacts
            .iter()
            .find(|a| a.path.to_str() == Some(p))
            .map(|a| a.contents.clone())
            .unwrap_or_else(|| panic!("no {p}"))
    };
    let groups = terraform_groups(&file("terraform/outputs.tf"));
    let mut out = Firewall::new();
    for (group, proto, port, source) in terraform_ingress(&file("terraform/main.tf")) {
        let (TfSource::Cidr(net), Some(port)) = (source, port) else {
            continue;
        };
        let Some(node) = groups.get(&group) else {
            continue;
        };
        out.entry((node.clone(), proto, port))
            .or_default()
            .push(net);
    }
    Some(out)
}

/// Who reaches host port `host`/`proto` of service `s` when it is bound on
/// every interface: everyone without a provider, else what the groups of
/// the nodes it may run on admit there (for compose, which ignores
/// placement and runs on whichever node it is deployed to, any node).
fn published(
    model: &Model,
    fw: &Option<Firewall>,
    s: &Service,
    proto: &str,
    host: u16,
    swarm: bool,
) -> Vec<IpNet> {
    let Some(fw) = fw else { return world() };
    let mut hosts = hosts_of(model, s);
    if swarm && hosts.is_empty() && !model.nodes.is_empty() {
        // Placed where no declared node is: swarm runs no task of it.
        return vec![];
    }
    if !swarm {
        hosts = model.nodes.iter().map(|n| n.name.clone()).collect();
    }
    if hosts.is_empty() {
        hosts = vec!["host".into()];
    }
    hosts
        .iter()
        .flat_map(|h| {
            fw.get(&(h.clone(), proto.to_string(), host))
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

/// (service, container port, protocol) → who, for compose or swarm.
fn docker_reach(
    model: &Model,
    doc: &Yaml,
    fw: &Option<Firewall>,
    swarm: bool,
) -> BTreeMap<(String, u16, String), Who> {
    let services = doc["services"].as_hash().expect("services");
    let nets = |y: &Yaml| -> BTreeSet<String> {
        y["networks"]
            .as_vec()
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_str().map(str::to_string))
            .collect()
    };
    let mut out = BTreeMap::new();
    for s in &model.services {
        let svc = &doc["services"][s.name.as_str()];
        assert!(!svc.is_badvalue(), "no service `{}` in the file", s.name);
        let host_mode = svc["network_mode"].as_str() == Some("host");
        let mine = nets(svc);
        let peers: BTreeSet<String> = services
            .iter()
            .filter(|(n, o)| {
                n.as_str() != Some(&s.name)
                    && o["network_mode"].as_str() != Some("host")
                    && !host_mode
                    && nets(o).iter().any(|x| mine.contains(x))
            })
            .map(|(n, _)| n.as_str().unwrap().to_string())
            .collect();
        for p in &s.ports {
            let proto = proto_of(p.protocol);
            let mut who = Who {
                peers: peers.clone(),
                from: vec![],
            };
            if host_mode {
                who.from = world();
            }
            for entry in svc["ports"].as_vec().into_iter().flatten() {
                let (ip, host, target, pr) = if swarm {
                    (
                        "0.0.0.0".to_string(),
                        entry["published"].as_i64().expect("published") as u16,
                        entry["target"].as_i64().expect("target") as u16,
                        entry["protocol"].as_str().unwrap_or("tcp").to_string(),
                    )
                } else {
                    let spec = entry.as_str().expect("short syntax");
                    let (spec, pr) = spec.split_once('/').unwrap_or((spec, "tcp"));
                    let parts: Vec<&str> = spec.split(':').collect();
                    assert_eq!(
                        parts.len(),
                        3,
                        "every published port names its interface: {spec}"
                    );
                    (
                        parts[0].to_string(),
                        parts[1].parse().unwrap(),
                        parts[2].parse().unwrap(),
                        pr.to_string(),
                    )
                };
                if target != p.container || pr != proto {
                    continue;
                }
                match ip.as_str() {
                    "127.0.0.1" => {}
                    "0.0.0.0" => who.from.extend(published(model, fw, s, proto, host, swarm)),
                    other => panic!("unexpected interface {other}"),
                }
            }
            out.insert((s.name.clone(), p.container, proto.to_string()), who);
        }
    }
    out
}

fn emit(
    model: &Model,
    target: Target,
) -> (
    Vec<infrac::backend::Artifact>,
    Vec<infrac::diagnostics::Diagnostic>,
) {
    let options = infrac::backend::Options {
        project: "oracle".to_string(),
        source: "oracle.inf".to_string(),
    };
    infrac::backend::emit(model, target, &options)
}

/// The level the Kubernetes reader computes, as the language says it.
fn level_of(e: &Exposure) -> k8s_reach::Level {
    use k8s_reach::{Level, Ranges};
    match e {
        Exposure::Local => Level::Local,
        Exposure::Internal => Level::Internal,
        Exposure::Restricted(nets) => Level::From(Ranges::of(nets.iter().copied())),
        Exposure::Public => Level::From(Ranges::everyone()),
    }
}

/// Per target: programs built, and programs the target refused.
#[derive(Default, Debug)]
struct Tally {
    built: BTreeMap<&'static str, usize>,
    refused: BTreeMap<&'static str, usize>,
    /// Programs the checker refused, by the codes of their errors.
    rejected: BTreeMap<&'static str, usize>,
    ports: usize,
    /// What the proxies of compose and swarm builds forward, compared.
    forwards: usize,
}

fn judge(src: &str, tally: &mut Tally) -> Result<(), String> {
    let checked = infrac::compile::compile_text("oracle.inf", src);
    let Some(model) = checked.model.as_ref() else {
        for d in checked.diagnostics.iter().filter(|d| d.is_error()) {
            *tally.rejected.entry(d.code.code()).or_default() += 1;
        }
        return Ok(());
    };
    let fw = firewall(model);
    for target in Target::ALL {
        let (artifacts, diagnostics) = emit(model, *target);
        if diagnostics.iter().any(|d| d.is_error()) {
            if let Some(d) = diagnostics
                .iter()
                // A target may refuse what it cannot enforce or realise
                // (a refusal never widens); any other error is a bug.
                .find(|d| {
                    d.is_error()
                        && !matches!(
                            d.code,
                            Code::TargetCannotEnforce
                                | Code::RouteClientHidden
                                | Code::RouteConflict
                                | Code::NoEligibleNode
                                | Code::NoSecretStore
                        )
                })
            {
                return Err(format!(
                    "{} refused it with {}: {}",
                    target.name(),
                    d.code.code(),
                    d.message
                ));
            }
            *tally.refused.entry(target.name()).or_default() += 1;
            continue;
        }
        *tally.built.entry(target.name()).or_default() += 1;
        match target {
            Target::Compose | Target::Swarm => {
                let doc = load(&artifacts[0].contents);
                // What the proxies forward is exactly the model's routes:
                // the reach a route hands on goes no further than that.
                tally.forwards += proxies::compare(model, &artifacts, &doc)
                    .map_err(|e| format!("{}: {e}", target.name()))?;
                let reach = docker_reach(model, &doc, &fw, *target == Target::Swarm);
                for s in &model.services {
                    for p in &s.ports {
                        let who = &reach[&(
                            s.name.clone(),
                            p.container,
                            proto_of(p.protocol).to_string(),
                        )];
                        tally.ports += 1;
                        // A `local` port whose peers the program accepted
                        // (`allow local-reaches-peers`) is promised to them.
                        let accepted = s
                            .accepted
                            .iter()
                            .any(|(c, _)| *c == Code::LocalReachesPeers);
                        let promised = match &p.effective {
                            Exposure::Local if accepted => Exposure::Internal,
                            other => other.clone(),
                        };
                        within(who, &promised, model, s).map_err(|e| {
                            format!(
                                "{}: {}:{}/{} ({} effective): {e}",
                                target.name(),
                                s.name,
                                p.container,
                                proto_of(p.protocol),
                                p.effective
                            )
                        })?;
                    }
                }
            }
            Target::K8s => {
                let docs = artifacts
                    .iter()
                    .filter(|a| !a.path.ends_with(infrac::backend::k8s::KUSTOMIZATION))
                    // One file per service holds all its objects.
                    .flat_map(|a| {
                        YamlLoader::load_from_str(&a.contents).expect("generated YAML parses")
                    })
                    .collect();
                let cluster = k8s_reach::Cluster::new(docs);
                for (i, s) in model.services.iter().enumerate() {
                    for p in &s.ports {
                        let proto = proto_of(p.protocol).to_ascii_uppercase();
                        let r = cluster.reach(i, p.container, &proto);
                        let want = level_of(&p.effective);
                        if !r.level.within(&want) {
                            return Err(format!(
                                "k8s: {}:{}/{proto} reaches {:?}, wider than its effective {}",
                                s.name, p.container, r.level, p.effective
                            ));
                        }
                        if !r.direct.within(&r.delivered) {
                            return Err(format!("k8s: {}:{}/{proto}: the policies admit {:?} but only {:?} is served", s.name, p.container, r.direct, r.delivered));
                        }
                    }
                }
            }
            Target::Terraform => terraform_justified(model, &fw)?,
        }
    }
    Ok(())
}

/// Every address range a node's group admits on a port is admitted by a
/// port placed on that node (within its effective exposure), or by the
/// node's own SSH or engine as declared.
fn terraform_justified(model: &Model, fw: &Option<Firewall>) -> Result<(), String> {
    use infrac::ir::{Engine, Ssh};
    let Some(fw) = fw else { return Ok(()) };
    for ((node, proto, port), nets) in fw {
        for net in nets {
            let by_service = model.services.iter().any(|s| {
                hosts_of(model, s).contains(node)
                    && s.ports.iter().any(|p| {
                        p.declared.is_published()
                            && p.host == *port
                            && proto_of(p.protocol) == proto
                            && match &p.effective {
                                Exposure::Public => true,
                                Exposure::Restricted(r) => r.iter().any(|a| a.contains(net)),
                                _ => false,
                            }
                    })
            });
            let n = model.nodes.iter().find(|n| n.name == *node);
            let by_node = n.is_some_and(|n| {
                (proto == "tcp"
                    && *port == 22
                    && match &n.ssh {
                        Ssh::Public => true,
                        Ssh::Restricted(r) => r.iter().any(|a| a.contains(net)),
                        Ssh::None => false,
                    })
                    || (proto == "tcp"
                        && *port == 2376
                        && n.engine == Engine::Tls
                        && n.engine_from
                            .as_ref()
                            .is_some_and(|r| r.iter().any(|a| a.contains(net))))
            });
            if !by_service && !by_node {
                return Err(format!("terraform: node `{node}` admits {net} on {port}/{proto}, which nothing placed there declares"));
            }
        }
    }
    Ok(())
}

/// The number of random programs per run: each is checked, then built and
/// read back for every target that does not refuse it.
const PROGRAMS: u32 = 3500;

/// `ORACLE_PROGRAMS=N` runs N instead (a quick look, or a long hunt).
fn programs_to_run() -> u32 {
    std::env::var("ORACLE_PROGRAMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(PROGRAMS)
}

#[test]
fn no_target_reaches_further_than_the_checked_model() {
    let mut runner = TestRunner::new(Config {
        cases: programs_to_run(),
        failure_persistence: None,
        ..Config::default()
    });
    let tally = std::cell::RefCell::new(Tally::default());
    let result = runner.run(&programs::program(), |p| {
        let src = programs::text(&p);
        judge(&src, &mut tally.borrow_mut())
            .map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{e}\nin\n{src}")))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let tally = tally.into_inner();
    let n = programs_to_run();
    eprintln!("reach oracle: {n} programs; built {:?}; refused {:?}; {} ports and {} proxy forwards compared; the checker's refusals by code: {:?}", tally.built, tally.refused, tally.ports, tally.forwards, tally.rejected);
    assert!(
        n < PROGRAMS || tally.forwards >= 500,
        "only {} proxy forwards compared: the generator writes too few routes",
        tally.forwards
    );
    for target in Target::ALL {
        let built = tally.built.get(target.name()).copied().unwrap_or(0);
        assert!(
            n < PROGRAMS || built >= 2000,
            "only {built} random programs built for {}: the generator is too often refused",
            target.name()
        );
    }
}
