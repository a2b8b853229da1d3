//! The round trip as the measure of the import (issue 14.5), over the
//! public corpus in `../shared/corpus` (skipped when it or Docker Compose
//! v2 is absent): every file Compose accepts imports; every imported
//! program that checks clean builds back to a compose file Compose accepts
//! with the source's `.env`; and who reaches whom (services sharing a
//! network) and what is published (host address and port) compare between
//! the source and the rebuilt file, as `docker compose config` reads both:
//! no connection lost, no exposure widened. The figures are printed (and
//! kept in `book/src/import.md`).
//!
//! Migrated to Kubernetes, the voting app, awesome-compose's WordPress and
//! the course stacks keep every connection of the source: the reach reader
//! of the exposure tests finds each edge in the generated manifests.

use crate::common;
use crate::k8s_reach;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use infrac::backend::{self, Target};
use infrac::diagnostics::Code;
use infrac::loader::FsLoader;

fn compose_available() -> bool {
    Command::new("docker")
        .args(["compose", "version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `docker compose config --format json` of a file, with the `.env` of
/// `env_dir` (the source's directory), or `None` when Compose refuses it.
fn compose_config(file: &Path, env_dir: &Path) -> Option<serde_json::Value> {
    let mut cmd = Command::new("docker");
    cmd.args(["compose", "-f"])
        .arg(file)
        .arg("--project-directory")
        .arg(file.parent()?);
    let env = env_dir.join(".env");
    if env.is_file() {
        cmd.arg("--env-file").arg(env);
    }
    let out = cmd
        .args(["config", "--format", "json", "--no-interpolate"])
        .output()
        .ok()?;
    let out = if out.status.success() {
        // Interpolated as compose runs it.
        let mut again = Command::new("docker");
        again.args(["compose", "-f"]).arg(file);
        again.arg("--project-directory").arg(file.parent()?);
        let env = env_dir.join(".env");
        if env.is_file() {
            again.arg("--env-file").arg(env);
        }
        again.args(["config", "--format", "json"]).output().ok()?
    } else {
        out
    };
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).ok())
        .flatten()
}

/// Whether compose refuses the file only for a required variable unset.
fn required_variable(file: &Path, env_dir: &Path) -> bool {
    let mut cmd = Command::new("docker");
    cmd.args(["compose", "-f"]).arg(file);
    let env = env_dir.join(".env");
    if env.is_file() {
        cmd.arg("--env-file").arg(env);
    }
    cmd.args(["config", "-q"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stderr).contains("required variable"))
}

/// Who reaches whom: (client, server) for services on a shared network.
fn pairs(config: &serde_json::Value) -> BTreeSet<(String, String)> {
    let mut nets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, s) in config["services"].as_object().into_iter().flatten() {
        if s.get("network_mode").is_some() {
            continue;
        }
        let on: BTreeSet<String> = match s.get("networks").and_then(|n| n.as_object()) {
            Some(n) => n.keys().cloned().collect(),
            None => ["default".to_string()].into(),
        };
        nets.insert(name.clone(), on);
    }
    let mut out = BTreeSet::new();
    for (a, na) in &nets {
        for (b, nb) in &nets {
            if a != b && na.iter().any(|n| nb.contains(n)) {
                out.insert((a.clone(), b.clone()));
            }
        }
    }
    out
}

/// What is published: (service, container port, protocol) → the host
/// addresses it is bound on (`""` for every interface).
fn published(config: &serde_json::Value) -> BTreeMap<(String, u64, String), BTreeSet<String>> {
    let mut out: BTreeMap<_, BTreeSet<String>> = BTreeMap::new();
    for (name, s) in config["services"].as_object().into_iter().flatten() {
        for p in s["ports"].as_array().into_iter().flatten() {
            let target = p["target"].as_u64().unwrap_or(0);
            let proto = p["protocol"].as_str().unwrap_or("tcp").to_string();
            let ip = p["host_ip"].as_str().unwrap_or("").to_string();
            out.entry((name.clone(), target, proto))
                .or_default()
                .insert(ip);
        }
    }
    out
}

fn wider(ip: &str, than: &BTreeSet<String>) -> bool {
    let every = |i: &str| matches!(i, "" | "0.0.0.0" | "::");
    !(than.contains(ip) || than.iter().any(|t| every(t)) || ip.starts_with("127."))
}

fn corpus_files(corpus: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![corpus.join("public"), corpus.join("seed-stacks")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(p.extension().and_then(|x| x.to_str()), Some("yml" | "yaml")) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_corpus_round_trips() {
    let Some(shared) = shared() else {
        eprintln!("skipped: no ../shared");
        return;
    };
    let corpus = shared.join("corpus");
    if !corpus.is_dir() || !compose_available() {
        eprintln!("skipped: no corpus or no Docker Compose v2");
        return;
    }
    let (mut accepted, mut imported, mut clean, mut valid) = (0, 0, 0, 0);
    let (mut kept, mut connections, mut needs_variables) = (0, 0, 0);
    let mut failures = Vec::new();
    for file in corpus_files(&corpus) {
        let dir = file.parent().unwrap().to_path_buf();
        let Some(source) = compose_config(&file, &dir) else {
            continue;
        };
        accepted += 1;
        let (sources, imp) =
            infrac::compile::import(&FsLoader, std::slice::from_ref(&file), &Default::default())
                .expect("readable");
        if imp.program.is_none() {
            failures.push(format!("{}: not imported", file.display()));
            continue;
        }
        imported += 1;
        let checked = infrac::compile::check_imported(sources, &imp);
        let Some(model) = checked
            .model
            .as_ref()
            .filter(|_| !checked.diagnostics.iter().any(|d| d.is_error()))
        else {
            continue;
        };
        clean += 1;
        let options = backend::Options {
            project: "roundtrip".into(),
            source: file.display().to_string(),
        };
        let (artifacts, _) = backend::emit(model, Target::Compose, &options);
        let out = tempfile::tempdir().unwrap();
        for a in &artifacts {
            let p = out.path().join(&a.path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, &a.contents).unwrap();
        }
        let rebuilt_file = artifacts
            .iter()
            .map(|a| out.path().join(&a.path))
            .find(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .expect("a compose file");
        let Some(rebuilt) = compose_config(&rebuilt_file, &dir) else {
            // A variable the source left empty when unset is `env("VAR")`
            // in the program, which the generated file requires (each one
            // a W6001 at its line): compose then refuses it until the
            // deploy sets it. Any other refusal is a failure.
            if required_variable(&rebuilt_file, &dir) {
                needs_variables += 1;
            } else {
                failures.push(format!(
                    "{}: the rebuilt file is refused by compose",
                    file.display()
                ));
            }
            continue;
        };
        valid += 1;
        let (before, after) = (pairs(&source), pairs(&rebuilt));
        connections += before.len();
        kept += before.intersection(&after).count();
        let warned = |name: &str| {
            imp.diagnostics
                .iter()
                .any(|d| d.code.code().starts_with("W6") && d.message.contains(name))
        };
        for (a, b) in before.difference(&after) {
            if !warned(a) && !warned(b) {
                failures.push(format!(
                    "{}: {a} -> {b} lost without a warning",
                    file.display()
                ));
            }
        }
        let (was, now) = (published(&source), published(&rebuilt));
        for (key, ips) in &now {
            let widened = match was.get(key) {
                None => true,
                Some(old) => ips.iter().any(|ip| wider(ip, old)),
            };
            if widened {
                failures.push(format!(
                    "{}: {key:?} published wider: {ips:?} (was {:?})",
                    file.display(),
                    was.get(key)
                ));
            }
        }
    }
    eprintln!(
        "round trip: {accepted} accepted by compose, {imported} imported, {clean} clean, {valid} rebuilt valid ({needs_variables} more need variables the source left unset), {kept}/{connections} connections kept"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(imported, accepted);
}

/// The source's connections, each found by the reach reader in the
/// Kubernetes manifests `migrate --to k8s` writes.
#[test]
fn migrated_to_kubernetes_every_connection_is_kept() {
    let Some(shared) = shared() else {
        return;
    };
    let corpus = shared.join("corpus");
    let files = [
        "public/dockersamples+example-voting-app/docker-compose.yml",
        "public/dockersamples+example-voting-app/docker-stack.yml",
        "public/docker+awesome-compose/wordpress-mysql/compose.yaml",
        "seed-stacks/ch03-my-web.yml",
        "seed-stacks/ch04-my-web.yml",
    ];
    for f in files {
        let file = corpus.join(f);
        if !file.is_file() {
            continue;
        }
        let (sources, imp) =
            infrac::compile::import(&FsLoader, std::slice::from_ref(&file), &Default::default())
                .expect("readable");
        let checked = infrac::compile::check_imported(sources, &imp);
        let model = checked
            .model
            .as_ref()
            .unwrap_or_else(|| panic!("{f} checks"));
        let options = backend::Options {
            project: "reach".into(),
            source: f.into(),
        };
        let (artifacts, _) = backend::emit(model, Target::K8s, &options);
        let docs: Vec<_> = artifacts
            .iter()
            .filter(|a| !a.path.ends_with("kustomization.yaml"))
            .flat_map(|a| yaml_rust2::YamlLoader::load_from_str(&a.contents).expect("YAML"))
            .collect();
        let cluster = k8s_reach::Cluster::new(docs);
        let pod = |name: &str| {
            cluster
                .pods
                .iter()
                .position(|p| p.name == name)
                .unwrap_or_else(|| panic!("{f}: no pod {name}"))
        };
        // The stack file's services name each other only in their code
        // (swarm ignores `depends_on`): the file shows no connection.
        assert!(
            !imp.connections.is_empty() || f.ends_with("docker-stack.yml"),
            "{f}: no connection found"
        );
        for c in &imp.connections {
            let (client, server) = (pod(&c.from), pod(&c.to));
            assert!(
                !c.ports.is_empty(),
                "{f}: {} -> {} has no port",
                c.from,
                c.to
            );
            for port in &c.ports {
                let reach = cluster.reach(server, *port, "TCP");
                assert!(
                    reach.addressable && reach.peers.contains(&client),
                    "{f}: {} cannot reach {}:{port} on Kubernetes",
                    c.from,
                    c.to
                );
            }
        }
    }
}

/// W6005: a dependency on a port bound to loopback is blocked on
/// Kubernetes (failing case); the same one `internal` is not (near miss).
#[test]
fn migrate_warns_where_the_target_blocks_a_connection() {
    for (ports, blocked) in [
        ("[\"127.0.0.1:5432:5432\"]", true),
        ("[]\n    expose: [\"5432\"]", false),
    ] {
        let yaml = format!("services:\n  api:\n    image: ghcr.io/acme/api:1.4.2\n    depends_on: [db]\n  db:\n    image: postgres:16.4\n    ports: {ports}\n");
        let mut sources = infrac::source::Sources::new();
        let id = sources.add("compose.yaml", yaml.as_str());
        let imp = infrac::import::import(&sources, id);
        let checked = infrac::compile::check_imported(sources, &imp);
        let model = checked.model.as_ref().expect("checks");
        let (lines, found) = infrac::import::reach::compare(&imp.connections, model, Target::K8s);
        assert_eq!(
            found.iter().any(|d| d.code == Code::MigrateBlocked),
            blocked,
            "{yaml}: {lines:?}"
        );
        let (_, on_compose) =
            infrac::import::reach::compare(&imp.connections, model, Target::Compose);
        assert!(on_compose.is_empty(), "{yaml}");
    }
}
