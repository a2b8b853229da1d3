//! Deployments that survive start, update and failure: properties of the
//! generated files over every example and every fixture that checks, read
//! back with a YAML parser of their own (serde_yaml), and the build-time
//! codes of the targets (E5002, E5003, W5002, W5003) from their book pages.
//!
//! Each property is one a validator cannot see and a live engine breaks
//! on: a service-level `tmpfs:` that `docker stack deploy` drops, a
//! start-first update that never converges (the old task holds the host
//! port) or runs two databases on one volume, an external secret looked up
//! under the wrong name, replicas compose silently drops.

use crate::common;

use common::*;
use infrac::backend::Target;
use infrac::diagnostics::Code;
use infrac::ir::{Model, SecretSource};
use serde_yaml::Value;

/// Every example and every fixture that checks clean enough to build
/// ([`program_files`]): (name, text, model).
fn programs() -> Vec<(String, String, Model)> {
    let mut out = Vec::new();
    for (name, text) in program_files() {
        let (checked, _) = check_text(&name, &text);
        if let Some(model) = checked.model {
            out.push((name, text, model));
        }
    }
    assert!(out.len() >= 30, "only {} programs build", out.len());
    out
}

/// The documents of one target's files, or the errors of its build.
fn documents(name: &str, text: &str, target: Target) -> Result<Vec<Value>, Vec<Code>> {
    let (artifacts, errors) = build_errors(name, text, target);
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut docs = Vec::new();
    for a in artifacts {
        if a.path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml")
        {
            for d in serde_yaml::Deserializer::from_str(&a.contents) {
                let v = <Value as serde::Deserialize>::deserialize(d)
                    .unwrap_or_else(|e| panic!("{name}: {}: {e}", a.path.display()));
                if !v.is_null() {
                    docs.push(v);
                }
            }
        }
    }
    Ok(docs)
}

fn services(doc: &Value) -> Vec<(String, &Value)> {
    doc.get("services")
        .and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().unwrap().to_string(), v))
                .collect()
        })
        .unwrap_or_default()
}

fn seq(v: Option<&Value>) -> Vec<&Value> {
    v.and_then(Value::as_sequence)
        .map(|s| s.iter().collect())
        .unwrap_or_default()
}

#[test]
fn swarm_services_survive_deploy_and_update() {
    let mut stacks = 0;
    let mut externals = 0;
    for (name, text, model) in programs() {
        let Ok(docs) = documents(&name, &text, Target::Swarm) else {
            continue;
        };
        let stack = &docs[0];
        stacks += 1;
        for (service, body) in services(stack) {
            assert!(
                body.get("tmpfs").is_none(),
                "{name}: swarm service `{service}` has a service-level tmpfs, which stack deploy drops"
            );
            let host_port = seq(body.get("ports"))
                .iter()
                .any(|p| p.get("mode").and_then(Value::as_str) == Some("host"));
            let volume = seq(body.get("volumes"))
                .iter()
                .any(|v| v.get("type").and_then(Value::as_str) == Some("volume"));
            let deploy = &body["deploy"];
            let order = deploy["update_config"]["order"].as_str();
            if host_port || volume {
                assert_eq!(
                    order,
                    Some("stop-first"),
                    "{name}: `{service}` holds a host port or a volume and starts its new task first"
                );
            }
            assert!(
                deploy["restart_policy"].get("max_attempts").is_none(),
                "{name}: `{service}` gives up restarting"
            );
            let s = model.services.iter().find(|s| s.name == service).unwrap();
            let tmpfs_mounts = seq(body.get("volumes"))
                .iter()
                .filter(|v| v.get("type").and_then(Value::as_str) == Some("tmpfs"))
                .count();
            assert_eq!(tmpfs_mounts, s.tmpfs.len(), "{name}: `{service}` tmpfs");
        }
        for secret in &model.secrets {
            let entry = &stack["secrets"][secret.name.as_str()];
            let stored = match &secret.source {
                SecretSource::External(n) => n.as_str(),
                _ => secret.name.as_str(),
            };
            assert_eq!(
                entry["name"].as_str(),
                Some(stored),
                "{name}: secret `{}` is looked up under another name",
                secret.name
            );
            // Every secret is already in the swarm's store when the stack
            // deploys (`docker secret create`, as the file's comment says;
            // an external one under its own name): none is created from a
            // file on whichever machine runs `docker stack deploy`.
            externals += usize::from(matches!(secret.source, SecretSource::External(_)));
            assert_eq!(
                entry["external"].as_bool(),
                Some(true),
                "{name}: secret `{}` is not looked up in the swarm's store",
                secret.name
            );
        }
    }
    assert!(stacks >= 20, "only {stacks} stacks built");
    assert!(externals >= 1, "no external secret among the programs");
}

#[test]
fn compose_keeps_replicas_and_keeps_restarting() {
    let mut files = 0;
    for (name, text, model) in programs() {
        let docs = match documents(&name, &text, Target::Compose) {
            Ok(docs) => docs,
            Err(codes) => {
                let expected = [
                    Code::TargetCannotEnforce,
                    Code::NoSecretStore,
                    Code::NameTooLong,
                ];
                assert!(
                    codes.iter().all(|c| expected.contains(c)),
                    "{name}: compose refused it: {codes:?}"
                );
                continue;
            }
        };
        files += 1;
        for (service, body) in services(&docs[0]) {
            let s = model.services.iter().find(|s| s.name == service).unwrap();
            let replicas = body["deploy"]["replicas"].as_u64().unwrap_or(1);
            if s.mode == infrac::ir::Mode::Replicated {
                assert_eq!(
                    replicas,
                    u64::from(s.replicas),
                    "{name}: compose dropped the replicas of `{service}`"
                );
            }
            let restart = body["restart"].as_str().unwrap();
            assert!(
                s.restart.is_some() || !restart.contains(':'),
                "{name}: `{service}` restarts only a few times: {restart}"
            );
        }
    }
    assert!(files >= 20, "only {files} compose files built");
}

/// A build-time code's page: every block tagged ```inf build TARGET
/// produces the page's code when built for that target, every block
/// tagged ```inf build-ok TARGET does not (the failing case and the near
/// miss, as the checker's fixtures are for checker codes).
#[test]
fn target_code_pages_build_as_tagged() {
    let mut seen = 0;
    for code in [
        Code::NoSecretStore,
        Code::NoEligibleNode,
        Code::PlacementShort,
        Code::IgnoredByTarget,
        Code::DataNotKept,
    ] {
        let page = root().join(format!("book/src/errors/{}.md", code.code()));
        let mut kinds = Vec::new();
        for (tag, line, body) in inf_blocks(&read(&page)) {
            let mut words = tag.split_whitespace();
            let kind = words.next().unwrap_or("");
            if kind != "build" && kind != "build-ok" {
                continue;
            }
            let target = match words.next() {
                Some("compose") => Target::Compose,
                Some("swarm") => Target::Swarm,
                Some("k8s") => Target::K8s,
                other => panic!("{}:{line}: target {other:?}", page.display()),
            };
            let name = format!("{}:{line}", page.display());
            let (_, diagnostics) = build(&name, &body, target);
            let produced = diagnostics.iter().any(|d| d.code == code);
            assert_eq!(
                produced,
                kind == "build",
                "{name} (tagged {tag}): {:?}",
                diagnostics
                    .iter()
                    .map(|d| (d.code.code(), d.message.clone()))
                    .collect::<Vec<_>>()
            );
            kinds.push(kind.to_string());
            seen += 1;
        }
        assert!(
            kinds.iter().any(|k| k == "build") && kinds.iter().any(|k| k == "build-ok"),
            "{}: a failing and a near-miss block",
            code.code()
        );
    }
    assert_eq!(seen, 10);
}

/// Several nodes: every overlay the program declares (and the implicit
/// `default`) is encrypted unless it says `encrypted = false`.
#[test]
fn overlays_between_several_nodes_are_encrypted() {
    let text = "node a { role = manager }\nnode b {}\nnetwork plain {}\nnetwork open { encrypted = false }\nservice x {\n  image = \"nginx:1.27.1-alpine\"\n  networks = [plain, open]\n  port 80 internal\n}\nservice y {\n  image = \"nginx:1.27.1-alpine\"\n  port 80 internal\n}\n";
    let (checked, _) = check_text("overlays.inf", text);
    let model = checked.model.expect("it checks");
    let encrypted: Vec<(&str, bool)> = model
        .networks
        .iter()
        .map(|n| (n.name.as_str(), n.encrypted))
        .collect();
    assert_eq!(
        encrypted,
        [("default", true), ("open", false), ("plain", true)]
    );
    let one_node = text.replace("node b {}\n", "");
    let (checked, _) = check_text("overlays.inf", &one_node);
    let model = checked.model.expect("it checks");
    assert!(model.networks.iter().all(|n| !n.encrypted));
}

/// A Kubernetes quantity in bytes or millicores, for comparing a request
/// with its limit (`500m`, `1`, `512Mi`, `1Gi`, `64Mi`).
fn quantity(q: &Value) -> f64 {
    let s = match q {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("not a quantity: {other:?}"),
    };
    let units = [
        ("Ki", 1024f64),
        ("Mi", 1024f64 * 1024.0),
        ("Gi", 1024f64 * 1024.0 * 1024.0),
        ("Ti", 1024f64.powi(4)),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("m", 1e-3),
    ];
    for (unit, factor) in units {
        if let Some(n) = s.strip_suffix(unit) {
            return n.parse::<f64>().unwrap() * factor;
        }
    }
    s.parse().unwrap_or_else(|_| panic!("quantity {s}"))
}

#[test]
fn pods_start_slowly_and_request_within_their_limits() {
    let mut containers = 0;
    for (name, text, model) in programs() {
        let Ok(docs) = documents(&name, &text, Target::K8s) else {
            continue;
        };
        for doc in &docs {
            let kind = doc["kind"].as_str().unwrap_or("");
            if !["Deployment", "StatefulSet", "DaemonSet"].contains(&kind) {
                continue;
            }
            let pod = &doc["spec"]["template"]["spec"];
            for c in seq(pod.get("containers")) {
                containers += 1;
                let cname = c["name"].as_str().unwrap();
                // Container names are the services' names as DNS labels;
                // one infrac had to rename is not compared.
                let label = |n: &str| n.to_ascii_lowercase().replace('_', "-");
                let Some(s) = model.services.iter().find(|s| label(&s.name) == cname) else {
                    continue;
                };
                if s.health.is_some() {
                    let startup = &c["startupProbe"];
                    assert!(!startup.is_null(), "{name}: `{cname}` has no startupProbe");
                    assert_ne!(
                        c["livenessProbe"], c["readinessProbe"],
                        "{name}: `{cname}`: liveness and readiness are one probe"
                    );
                    assert_ne!(
                        startup, &c["livenessProbe"],
                        "{name}: `{cname}`: startup and liveness are one probe"
                    );
                }
                let r = &c["resources"];
                for key in ["cpu", "memory", "ephemeral-storage"] {
                    let (req, lim) = (quantity(&r["requests"][key]), quantity(&r["limits"][key]));
                    assert!(
                        req <= lim,
                        "{name}: `{cname}` requests more {key} than its limit"
                    );
                    if s.class == infrac::ir::Class::Data && key != "ephemeral-storage" {
                        assert_eq!(req, lim, "{name}: data store `{cname}`: {key}");
                    }
                }
                let ctx = &pod["securityContext"];
                if let Some(uid) = s.user.as_ref().and_then(|u| u.uid) {
                    assert_eq!(
                        ctx["runAsUser"].as_u64(),
                        Some(u64::from(uid)),
                        "{name}: `{cname}` runs as another user than the program's"
                    );
                }
            }
        }
    }
    assert!(containers >= 40, "only {containers} containers");
}

/// The same identity on every target: compose and swarm run a stdlib
/// service as the uid:gid Kubernetes gets, and PGDATA sits in a
/// subdirectory of the volume on all of them.
#[test]
fn identities_are_the_same_on_every_target() {
    let text = "use std/postgres\nvolume pgdata { size = \"20Gi\", class = \"gp3\" }\nservice db: postgres {\n  mounts = [pgdata -> \"/var/lib/postgresql/data\"]\n}\n";
    for target in [Target::Compose, Target::Swarm] {
        let docs = documents("db.inf", text, target).expect("it builds");
        let db = &docs[0]["services"]["db"];
        assert_eq!(db["user"].as_str(), Some("70:70"), "{target:?}");
        assert_eq!(
            db["environment"]["PGDATA"].as_str(),
            Some("/var/lib/postgresql/data/pgdata"),
            "{target:?}"
        );
        assert!(
            db.get("cap_add").is_none(),
            "{target:?}: capabilities without effect"
        );
    }
    let docs = documents("db.inf", text, Target::K8s).expect("it builds");
    let sts = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("StatefulSet"))
        .expect("a StatefulSet");
    let pod = &sts["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsUser"].as_u64(), Some(70));
    assert_eq!(pod["securityContext"]["fsGroup"].as_u64(), Some(70));
    let claim = &sts["spec"]["volumeClaimTemplates"][0]["spec"];
    assert_eq!(
        claim["resources"]["requests"]["storage"].as_str(),
        Some("20Gi")
    );
    assert_eq!(claim["storageClassName"].as_str(), Some("gp3"));
    let env = seq(pod["containers"][0].get("env"));
    assert!(env.iter().any(|e| e["name"].as_str() == Some("PGDATA")
        && e["value"].as_str() == Some("/var/lib/postgresql/data/pgdata")));
}

/// A file secret under /etc is one host file bound read-only: compose-lint's
/// sensitive-mount rule (CL-0013) is excluded for the services that read
/// it, with the reason; a secret elsewhere gets no exclusion.
#[test]
fn a_system_secret_file_has_a_reasoned_compose_lint_exclusion() {
    let program = |path: &str| {
        format!("secret tls_key {{ from = file(\"{path}\") }}\nservice web {{\n  image = \"nginx:1.27.1-alpine\"\n  secrets = [tls_key]\n  port 80 internal\n}}\n")
    };
    let (artifacts, _) = build(
        "etc.inf",
        &program("/etc/ssl/private/web.key"),
        Target::Compose,
    );
    let lint = artifacts
        .iter()
        .find(|a| a.path.ends_with(".compose-lint.yml"))
        .expect("an exclusion file");
    let v: Value = serde_yaml::from_str(&lint.contents).unwrap();
    let reason = v["rules"]["CL-0013"]["exclude_services"]["web"]
        .as_str()
        .unwrap();
    assert!(reason.contains("/etc/ssl/private/web.key"), "{reason}");
    let (artifacts, _) = build("srv.inf", &program("/srv/secrets/web.key"), Target::Compose);
    assert!(!artifacts
        .iter()
        .any(|a| a.path.ends_with(".compose-lint.yml")));
    let (artifacts, _) = build("etcx.inf", &program("/etcetera/web.key"), Target::Compose);
    assert!(!artifacts
        .iter()
        .any(|a| a.path.ends_with(".compose-lint.yml")));
}
