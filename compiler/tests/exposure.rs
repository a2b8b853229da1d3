//! The cross-target exposure test: parse the generated files back, compute
//! for every service port the interface it is published on, and compare
//! with the checked model. A target may narrow a level (and must then say
//! so with a warning), never widen one. This is what keeps the backends
//! honest as they grow.

mod common;

use std::collections::BTreeMap;

use common::*;
use infrac::backend::Target;
use infrac::diagnostics::Code;
use infrac::ir::{Exposure, Model};
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
    out
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
            let (artifacts, diagnostics) = build(&name, &text, target);
            if diagnostics.iter().any(|d| d.is_error()) {
                // target-cannot-enforce: nothing is built, nothing to compare.
                assert!(
                    diagnostics
                        .iter()
                        .all(|d| !d.is_error() || d.code == Code::TargetCannotEnforce),
                    "{name}: {diagnostics:?}"
                );
                continue;
            }
            let narrowed: Vec<(String, u16)> = diagnostics
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
                .collect();
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
