//! The Kubernetes backend: every generated file parses back as YAML, and
//! the manifests keep the promises of the book's `targets/kubernetes.md` —
//! a default-deny NetworkPolicy over every pod, exactly the declared edges
//! allowed, no NodePort, hostPort or host network, no secret value, a TLS
//! Ingress per public route, no Service for a `local` port. When checkov
//! and kubernetes-validate are installed (`INFRAC_TOOLS_VENV`, or the
//! venv of `scripts/validate-outputs.sh`), the realistic program must pass
//! both with no failed check.

use crate::common;
#[path = "k8s/output.rs"]
mod output;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use common::*;
use infrac::backend::Target;
use infrac::diagnostics::Code;
use output::*;
use yaml_rust2::Yaml;

/// The program the book's Kubernetes page shows: a proxy with routes, an
/// api, postgres, redis, a restricted grafana and a local prometheus.
const SHOP: &str = include_str!("k8s/shop.inf");

#[test]
fn every_file_parses_and_nothing_unsafe_is_emitted() {
    let out = Output::of("shop.inf", SHOP);
    let errors: Vec<_> = out.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    for (file, doc) in &out.objects {
        let mut all = BTreeSet::new();
        keys(doc, &mut all);
        for forbidden in [
            "hostPort",
            "hostNetwork",
            "externalIPs",
            "nodePort",
            "data",
            "stringData",
            "secretKeyRef",
            "envFrom",
        ] {
            assert!(!all.contains(forbidden), "{file} has `{forbidden}`");
        }
        assert_ne!(s(&doc["kind"]), "Secret", "{file} is a Secret");
        if s(&doc["kind"]) == "Service" {
            assert_ne!(doc["spec"]["type"].as_str(), Some("NodePort"), "{file}");
        }
        // One file per service, holding the objects labelled with it; the
        // rest (the namespace, default-deny, allow-dns) in the first file.
        let expected = match doc["metadata"]["labels"]["app.kubernetes.io/name"].as_str() {
            Some(service) => format!("{service}.yaml"),
            None => "00-namespace.yaml".to_string(),
        };
        assert_eq!(
            *file,
            expected,
            "{} {}",
            s(&doc["kind"]),
            s(&doc["metadata"]["name"])
        );
        if s(&doc["kind"]) != "Namespace" {
            assert_eq!(s(&doc["metadata"]["namespace"]), "shop", "{file}");
        }
    }
    assert_eq!(out.kind("Namespace").count(), 1);
    assert_eq!(
        s(&out.named("Namespace", "shop")["metadata"]["labels"]
            ["pod-security.kubernetes.io/enforce"]),
        "restricted"
    );
}

#[test]
fn a_default_deny_policy_covers_every_workload() {
    let out = Output::of("shop.inf", SHOP);
    let deny = out.named("NetworkPolicy", "default-deny");
    assert!(deny["spec"]["podSelector"]
        .as_hash()
        .is_some_and(|h| h.is_empty()));
    let types: Vec<&str> = seq(&deny["spec"]["policyTypes"]).iter().map(s).collect();
    assert_eq!(types, ["Ingress", "Egress"]);
    assert!(deny["spec"]["ingress"].is_badvalue() && deny["spec"]["egress"].is_badvalue());
    let ns = s(&deny["metadata"]["namespace"]);
    for w in out.workloads() {
        assert_eq!(s(&w["metadata"]["namespace"]), ns);
    }
    let dns = out.named("NetworkPolicy", "allow-dns");
    let rule = &seq(&dns["spec"]["egress"])[0];
    let ports: BTreeSet<(String, i64)> = seq(&rule["ports"])
        .iter()
        .map(|p| (s(&p["protocol"]).to_string(), p["port"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        ports,
        [("TCP".to_string(), 53), ("UDP".to_string(), 53)].into()
    );
}

#[test]
fn exactly_the_declared_dependencies_may_talk() {
    let out = Output::of("shop.inf", SHOP);
    let (egress, ingress) = pod_edges(&out);
    let declared: Edges = [
        ("api", "cache"),
        ("api", "db"),
        ("prometheus", "api"),
        ("web", "api"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(egress, declared, "egress edges");
    assert_eq!(ingress, declared, "ingress edges");
    // Only the ingress controller reaches the routed ports, and only them.
    let mut routed = BTreeMap::new();
    for p in out.kind("NetworkPolicy") {
        for r in seq(&p["spec"]["ingress"]) {
            for peer in seq(&r["from"]) {
                if let Some(ns) =
                    peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"].as_str()
                {
                    assert_eq!(ns, "ingress-nginx");
                    let ports: Vec<i64> = seq(&r["ports"])
                        .iter()
                        .map(|p| p["port"].as_i64().unwrap())
                        .collect();
                    routed.insert(label(&p["spec"]["podSelector"]).to_string(), ports);
                }
            }
        }
    }
    assert_eq!(
        routed,
        [
            ("api".to_string(), vec![8080]),
            ("grafana".to_string(), vec![3000])
        ]
        .into()
    );
}

#[test]
fn public_routes_become_ingresses_and_restricted_ones_carry_the_allowlist() {
    let out = Output::of("shop.inf", SHOP);
    let app = out.named("Ingress", "web-app-example-com");
    assert_eq!(s(&app["spec"]["ingressClassName"]), "nginx");
    // The proxy has no `tls`: no certificate to name, no TLS section.
    assert!(app["spec"]["tls"].is_badvalue());
    let rule = &seq(&app["spec"]["rules"])[0];
    assert_eq!(s(&rule["host"]), "app.example.com");
    let path = &seq(&rule["http"]["paths"])[0];
    assert_eq!((s(&path["path"]), s(&path["pathType"])), ("/", "Prefix"));
    assert_eq!(s(&path["backend"]["service"]["name"]), "api");
    assert_eq!(
        path["backend"]["service"]["port"]["number"].as_i64(),
        Some(8080)
    );
    assert!(
        app["metadata"]["annotations"]["nginx.ingress.kubernetes.io/whitelist-source-range"]
            .is_badvalue()
    );
    let grafana = out.named("Ingress", "web-grafana-example-com");
    assert_eq!(
        s(&grafana["metadata"]["annotations"]
            ["nginx.ingress.kubernetes.io/whitelist-source-range"]),
        "198.51.100.0/24"
    );
    // grafana's own range is not carried by the route: a LoadBalancer for it.
    let lb = out.named("Service", "grafana-restricted");
    assert_eq!(s(&lb["spec"]["type"]), "LoadBalancer");
    assert_eq!(s(&lb["spec"]["externalTrafficPolicy"]), "Local");
    let ranges: Vec<&str> = seq(&lb["spec"]["loadBalancerSourceRanges"])
        .iter()
        .map(s)
        .collect();
    assert_eq!(ranges, ["203.0.113.7/32"]);
    let policy = out.named("NetworkPolicy", "external-to-grafana-restricted");
    let from = &seq(&seq(&policy["spec"]["ingress"])[0]["from"])[0];
    assert_eq!(s(&from["ipBlock"]["cidr"]), "203.0.113.7/32");
    // The proxy keeps its own public port; api, reached only by routes, has none.
    assert_eq!(
        s(&out.named("Service", "web-public")["spec"]["type"]),
        "LoadBalancer"
    );
    let public = out.named("NetworkPolicy", "external-to-web-public");
    let cidrs: Vec<&str> = seq(&seq(&public["spec"]["ingress"])[0]["from"])
        .iter()
        .map(|p| s(&p["ipBlock"]["cidr"]))
        .collect();
    assert_eq!(cidrs, ["0.0.0.0/0", "::/0"]);
    assert_eq!(s(&out.named("Service", "api")["spec"]["type"]), "ClusterIP");
    assert_eq!(
        out.kind("Service")
            .filter(|d| d["spec"]["type"].as_str() == Some("LoadBalancer"))
            .count(),
        2
    );
}

#[test]
fn a_local_port_gets_no_service_and_a_warning() {
    let out = Output::of("shop.inf", SHOP);
    assert!(out
        .kind("Service")
        .all(|svc| s(&svc["spec"]["selector"]["app.kubernetes.io/name"]) != "prometheus"));
    let narrows = out.warnings(Code::TargetNarrows);
    let local = narrows
        .iter()
        .find(|d| d.message.contains("`local` port 9090"))
        .expect("a warning for the local port");
    assert_eq!(written(SHOP, local), "local");
    assert!(local
        .help
        .as_deref()
        .unwrap()
        .contains("kubectl port-forward -n shop deploy/prometheus 9090"));
    // The host-environment value is left out, with a warning on it.
    let env = narrows
        .iter()
        .find(|d| d.message.contains("`REGION`"))
        .expect("a warning for env(\"REGION\")");
    assert_eq!(written(SHOP, env), "env(\"REGION\")");
    assert_eq!(narrows.len(), 2, "{narrows:#?}");
}

#[test]
fn workloads_are_hardened() {
    let out = Output::of("shop.inf", SHOP);
    assert_eq!(out.workloads().len(), 6);
    for w in out.workloads() {
        let name = s(&w["metadata"]["name"]);
        let pod = &w["spec"]["template"]["spec"];
        assert_eq!(s(&pod["serviceAccountName"]), name);
        assert_eq!(pod["automountServiceAccountToken"].as_bool(), Some(false));
        let sa = out.named("ServiceAccount", name);
        assert_eq!(sa["automountServiceAccountToken"].as_bool(), Some(false));
        let sc = &pod["securityContext"];
        assert_eq!(sc["runAsNonRoot"].as_bool(), Some(true), "{name}");
        assert!(sc["runAsUser"].as_i64().unwrap() > 10000, "{name}");
        assert_eq!(s(&sc["seccompProfile"]["type"]), "RuntimeDefault");
        let c = &seq(&pod["containers"])[0];
        assert_eq!(s(&c["imagePullPolicy"]), "Always");
        let csc = &c["securityContext"];
        assert_eq!(csc["allowPrivilegeEscalation"].as_bool(), Some(false));
        assert_eq!(csc["privileged"].as_bool(), Some(false));
        assert_eq!(csc["readOnlyRootFilesystem"].as_bool(), Some(true));
        assert_eq!(s(&seq(&csc["capabilities"]["drop"])[0]), "ALL");
        for side in ["requests", "limits"] {
            for r in ["cpu", "memory", "ephemeral-storage"] {
                assert!(
                    c["resources"][side][r].as_str().is_some(),
                    "{name} {side} {r}"
                );
            }
        }
        assert!(!c["livenessProbe"].is_badvalue() && !c["readinessProbe"].is_badvalue());
        let mounts: Vec<&str> = seq(&c["volumeMounts"])
            .iter()
            .map(|m| s(&m["mountPath"]))
            .collect();
        assert!(mounts.contains(&"/tmp"), "{name} gets a writable /tmp");
        assert!(w["metadata"]["labels"]["app.kubernetes.io/part-of"].as_str() == Some("shop"));
    }
    let api = out.named("Deployment", "api");
    assert_eq!(api["spec"]["replicas"].as_i64(), Some(2));
    // Two replicas: spread over nodes, and drained one at a time.
    let pdbs: Vec<&str> = out
        .kind("PodDisruptionBudget")
        .map(|p| s(&p["metadata"]["name"]))
        .collect();
    assert_eq!(pdbs, ["api"]);
    assert!(!api["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"].is_badvalue());
    let c = &seq(&api["spec"]["template"]["spec"]["containers"])[0];
    assert_eq!(s(&c["resources"]["limits"]["cpu"]), "500m");
    assert_eq!(s(&c["resources"]["requests"]["cpu"]), "250m");
    assert_eq!(s(&c["livenessProbe"]["httpGet"]["path"]), "/healthz");
    assert_eq!(c["livenessProbe"]["periodSeconds"].as_i64(), Some(10));
    let env: Vec<&str> = seq(&c["env"]).iter().map(|e| s(&e["name"])).collect();
    assert_eq!(env, ["DB_HOST", "DB_PASSWORD_FILE", "REDIS_HOST"]);
    // Secrets are files from a projected volume, never values.
    let secrets = seq(&api["spec"]["template"]["spec"]["volumes"])
        .iter()
        .find(|v| s(&v["name"]) == "secrets")
        .expect("a secrets volume");
    let source = &seq(&secrets["projected"]["sources"])[0]["secret"];
    assert_eq!(s(&source["name"]), "db-password");
    assert_eq!(s(&seq(&source["items"])[0]["path"]), "db_password");
    let mount = seq(&c["volumeMounts"])
        .iter()
        .find(|m| s(&m["name"]) == "secrets")
        .unwrap();
    assert_eq!(s(&mount["mountPath"]), "/run/secrets");
    assert_eq!(mount["readOnly"].as_bool(), Some(true));
    // The web proxy binds 443 as a non-root user.
    let web = out.named("Deployment", "web");
    let sysctl = &seq(&web["spec"]["template"]["spec"]["securityContext"]["sysctls"])[0];
    assert_eq!(s(&sysctl["name"]), "net.ipv4.ip_unprivileged_port_start");
}

#[test]
fn a_mounted_volume_makes_a_stateful_set_with_a_headless_service() {
    let out = Output::of("shop.inf", SHOP);
    let db = out.named("StatefulSet", "db");
    let headless = out.named("Service", s(&db["spec"]["serviceName"]));
    assert_eq!(s(&headless["spec"]["clusterIP"]), "None");
    let claim = &seq(&db["spec"]["volumeClaimTemplates"])[0];
    assert_eq!(s(&claim["metadata"]["name"]), "pgdata");
    assert_eq!(s(&claim["spec"]["resources"]["requests"]["storage"]), "1Gi");
    let pod = &db["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsUser"].as_i64(), Some(10999));
    assert_eq!(pod["securityContext"]["fsGroup"].as_i64(), Some(10999));
    let volumes: Vec<&str> = seq(&pod["volumes"]).iter().map(|v| s(&v["name"])).collect();
    assert_eq!(volumes, ["tmpfs-0", "tmp", "secrets"]);
}

#[test]
fn skips_are_per_object_and_say_why() {
    let out = Output::of("shop.inf", SHOP);
    for (file, doc) in &out.objects {
        let annotations = doc["metadata"]["annotations"].as_hash();
        for (k, v) in annotations.into_iter().flatten() {
            let k = s(k);
            if let Some(n) = k.strip_prefix("checkov.io/skip") {
                assert!(n.parse::<u32>().is_ok(), "{file}: {k}");
                let (id, reason) = s(v).split_once('=').expect("CHECK=reason");
                assert!(id.starts_with("CKV"), "{file}: {id}");
                assert!(
                    !reason.contains('=') && reason.len() > 20,
                    "{file}: {reason}"
                );
            }
        }
    }
    let db = out.named("StatefulSet", "db");
    assert!(s(&db["metadata"]["annotations"]["checkov.io/skip1"])
        .starts_with("CKV_K8S_43=the program pins postgres:16.4 by tag"));
}

#[test]
fn building_twice_gives_the_same_bytes() {
    let a = build("shop.inf", SHOP, Target::K8s);
    let b = build("shop.inf", SHOP, Target::K8s);
    assert_eq!(a.0, b.0);
}

#[test]
fn global_services_are_daemon_sets_and_dependencies_on_local_ports_warn() {
    let program = include_str!("k8s/metrics.inf");
    let out = Output::of("metrics.inf", program);
    let ds = out.named("DaemonSet", "node-exporter");
    assert!(ds["spec"]["replicas"].is_badvalue());
    let (egress, _) = pod_edges(&out);
    assert_eq!(
        egress,
        [("prometheus".to_string(), "node-exporter".to_string())].into()
    );
    let mut warned: Vec<(u32, &str)> = out
        .warnings(Code::TargetNarrows)
        .iter()
        .map(|d| (d.primary.span.start, written(program, d)))
        .collect();
    warned.sort();
    let warned: Vec<&str> = warned.into_iter().map(|(_, text)| text).collect();
    assert_eq!(warned, ["grafana", "local", "local"]);
}

#[test]
fn a_chain_of_proxies_never_widens_and_internal_routes_stay_inside() {
    let program = include_str!("k8s/chain.inf");
    let out = Output::of("chain.inf", program);
    // front → inner is a path route on no host, restricted to the office.
    let inner = out.named("Ingress", "front-inner");
    let rule = &seq(&inner["spec"]["rules"])[0];
    assert!(rule["host"].is_badvalue());
    assert_eq!(s(&seq(&rule["http"]["paths"])[0]["path"]), "/inner");
    assert!(inner["spec"]["tls"].is_badvalue());
    // inner hands on only what reaches it: the office range, not the world.
    let deep = out.named("Ingress", "inner-deep-example-com");
    assert_eq!(
        s(&deep["metadata"]["annotations"]["nginx.ingress.kubernetes.io/whitelist-source-range"]),
        "203.0.113.0/24"
    );
    // An internal proxy's route is no Ingress: the proxy forwards it itself.
    assert!(out
        .kind("Ingress")
        .all(|i| s(&i["metadata"]["name"]) != "sidecar-proxy-side"));
    let (egress, ingress) = pod_edges(&out);
    let edge = ("sidecar-proxy".to_string(), "side".to_string());
    assert_eq!(egress, [edge.clone()].into());
    assert_eq!(ingress, [edge].into());
    assert_eq!(out.kind("Ingress").count(), 2);
    assert_eq!(out.warnings(Code::TargetNarrows).len(), 0);
}

/// A route that stays inside leads to a `local` port: the port is
/// effectively `internal`, and the proxy, let through by a NetworkPolicy,
/// needs a Service name to reach it (found by the exposure test).
#[test]
fn a_local_port_an_internal_proxy_forwards_to_gets_a_cluster_ip() {
    let program = include_str!("k8s/gate.inf");
    let out = Output::of("gate.inf", program);
    let tool = out.named("Service", "tool");
    assert_eq!(s(&tool["spec"]["type"]), "ClusterIP");
    let ports: Vec<i64> = seq(&tool["spec"]["ports"])
        .iter()
        .map(|p| p["targetPort"].as_i64().unwrap())
        .collect();
    assert_eq!(ports, [9000], "the port no route leads to stays local");
    let (egress, ingress) = pod_edges(&out);
    let edge = ("gate".to_string(), "tool".to_string());
    assert_eq!(egress, [edge.clone()].into());
    assert_eq!(ingress, [edge].into());
    let warned: Vec<&str> = out
        .warnings(Code::TargetNarrows)
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        warned,
        ["Kubernetes gets no Service for `local` port 9001 of `tool`"]
    );
}

#[test]
fn waived_host_access_is_emitted_as_written_and_lowers_pod_security() {
    let program = include_str!("k8s/sniffer.inf");
    let out = Output::of("sniffer.inf", program);
    // The workload gets a namespace of its own at its level; the
    // application's stays `restricted`.
    for (name, level) in [
        ("sniffer", "restricted"),
        ("sniffer-privileged", "privileged"),
    ] {
        let ns = out.named("Namespace", name);
        assert_eq!(
            s(&ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]),
            level
        );
    }
    let d = out.named("Deployment", "sniffer");
    assert_eq!(s(&d["metadata"]["namespace"]), "sniffer-privileged");
    let c = &seq(&d["spec"]["template"]["spec"]["containers"])[0];
    assert_eq!(
        s(&seq(&c["securityContext"]["capabilities"]["add"])[0]),
        "NET_RAW"
    );
    assert_eq!(
        c["securityContext"]["readOnlyRootFilesystem"].as_bool(),
        Some(false)
    );
    let annotations: Vec<&str> = d["metadata"]["annotations"]
        .as_hash()
        .unwrap()
        .values()
        .map(s)
        .collect();
    for check in ["CKV_K8S_43=", "CKV_K8S_22=", "CKV_K8S_25=", "CKV_K8S_28="] {
        assert!(
            annotations.iter().any(|a| a.starts_with(check)),
            "{check}: {annotations:?}"
        );
    }
    let volumes = seq(&d["spec"]["template"]["spec"]["volumes"]);
    assert_eq!(s(&volumes[0]["hostPath"]["path"]), "/var/log");
    // A named user cannot be expressed: the default ids, and a warning.
    assert_eq!(
        d["spec"]["template"]["spec"]["securityContext"]["runAsUser"].as_i64(),
        Some(10001)
    );
    assert_eq!(out.warnings(Code::TargetNarrows).len(), 1);
    // No port, no probe to invent; no Service at all.
    assert_eq!(out.kind("Service").count(), 0);
}

/// A privileged DaemonSet (host paths) and the application that scrapes
/// it: the DaemonSet, its account, Service and policies in
/// `PROJECT-privileged`; the application's namespace `restricted`; the
/// dependency crosses namespaces by namespace-and-pod selectors on both
/// sides, and the client still addresses the server by its short name (an
/// ExternalName Service in its own namespace). kubernetes-validate takes
/// it when the tools are installed.
#[test]
fn a_privileged_daemon_set_gets_its_own_namespace() {
    let program = include_str!("k8s/privileged-daemon.inf");
    let out = Output::of("metrics.inf", program);
    let level = |ns: &str| {
        s(&out.named("Namespace", ns)["metadata"]["labels"]["pod-security.kubernetes.io/enforce"])
            .to_string()
    };
    assert_eq!(level("metrics"), "restricted");
    assert_eq!(level("metrics-privileged"), "privileged");
    let in_ns = |kind: &str, name: &str, ns: &str| out.in_namespace(kind, name, ns);
    in_ns("DaemonSet", "exporter", "metrics-privileged");
    in_ns("ServiceAccount", "exporter", "metrics-privileged");
    in_ns("Deployment", "scraper", "metrics");
    for ns in ["metrics", "metrics-privileged"] {
        in_ns("NetworkPolicy", "default-deny", ns);
        in_ns("NetworkPolicy", "allow-dns", ns);
    }
    let alias = in_ns("Service", "exporter", "metrics");
    assert_eq!(s(&alias["spec"]["type"]), "ExternalName");
    assert_eq!(
        s(&alias["spec"]["externalName"]),
        "exporter.metrics-privileged.svc.cluster.local"
    );
    let peer_ns = |policy: &Yaml, key: &str, rules: &str| {
        s(
            &seq(&seq(&policy["spec"][rules])[0][key])[0]["namespaceSelector"]["matchLabels"]
                ["kubernetes.io/metadata.name"],
        )
        .to_string()
    };
    let egress = in_ns("NetworkPolicy", "egress-scraper-to-exporter", "metrics");
    assert_eq!(peer_ns(egress, "to", "egress"), "metrics-privileged");
    let ingress = in_ns(
        "NetworkPolicy",
        "ingress-scraper-to-exporter",
        "metrics-privileged",
    );
    assert_eq!(peer_ns(ingress, "from", "ingress"), "metrics");
    let Some(bin) = tools() else {
        eprintln!("kubernetes-validate skipped: no tools venv (set INFRAC_TOOLS_VENV)");
        return;
    };
    let dir = tempfile::Builder::new()
        .prefix("infrac-k8s-")
        .tempdir()
        .unwrap();
    let mut manifests = Vec::new();
    for a in out
        .artifacts
        .iter()
        .filter(|a| !a.path.ends_with("kustomization.yaml"))
    {
        let path = dir.path().join(a.path.file_name().unwrap());
        std::fs::write(&path, &a.contents).unwrap();
        manifests.push(path);
    }
    kubernetes_validate(&bin, &manifests);
}

#[test]
fn host_network_cannot_be_enforced() {
    let program = include_str!("k8s/agent.inf");
    let (checked, sources) = check_text("agent.inf", program);
    let model = checked
        .model
        .as_ref()
        .unwrap_or_else(|| panic!("{}", render_plain(&checked, &sources)));
    let options = infrac::backend::Options {
        project: "agent".into(),
        source: "agent.inf".into(),
    };
    let (_, diagnostics) = infrac::backend::emit(model, Target::K8s, &options);
    let error = diagnostics
        .iter()
        .find(|d| d.code == Code::TargetCannotEnforce)
        .expect("host_network is an error on Kubernetes");
    assert_eq!(written(program, error), "host_network = true");
}

/// The bin directory of a venv holding checkov and kubernetes-validate.
fn tools() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("INFRAC_TOOLS_VENV").map(PathBuf::from),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/infrac-tools/venv")),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|v| v.join("bin"))
        .find(|b| b.join("checkov").is_file() && b.join("kubernetes-validate").is_file())
}

/// `kubernetes-validate --strict` accepts every manifest.
fn kubernetes_validate(bin: &std::path::Path, manifests: &[PathBuf]) {
    let run = std::process::Command::new(bin.join("kubernetes-validate"))
        .args(["--strict", "--quiet"])
        .args(manifests)
        .output()
        .expect("kubernetes-validate runs");
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn checkov_and_kubernetes_validate_pass() {
    let Some(bin) = tools() else {
        eprintln!("skipped: no checkov venv (set INFRAC_TOOLS_VENV)");
        return;
    };
    let out = Output::of("shop.inf", SHOP);
    // checkov skips hidden directories, such as tempfile's default `.tmpXXXX`.
    let dir = tempfile::Builder::new()
        .prefix("infrac-k8s-")
        .tempdir()
        .unwrap();
    for a in &out.artifacts {
        let path = dir.path().join(&a.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &a.contents).unwrap();
    }
    let k8s = dir.path().join("k8s");
    let run = std::process::Command::new(bin.join("checkov"))
        .args([
            "--framework",
            "kubernetes",
            "--skip-download",
            "-o",
            "json",
            "-d",
        ])
        .arg(&k8s)
        .output()
        .expect("checkov runs");
    let report: serde_json::Value =
        serde_json::from_slice(&run.stdout).expect("checkov prints JSON");
    // One report per framework run: an object, or a list of them.
    let report = match report {
        serde_json::Value::Array(mut reports) => reports.remove(0),
        one => one,
    };
    let summary = &report["summary"];
    assert_eq!(
        summary["failed"], 0,
        "{:#}",
        report["results"]["failed_checks"]
    );
    assert_eq!(summary["parsing_errors"], 0);
    assert!(summary["passed"].as_u64().unwrap() > 400, "{summary}");
    for skipped in report["results"]["skipped_checks"].as_array().unwrap() {
        assert_eq!(skipped["check_id"], "CKV_K8S_43", "{skipped:#}");
    }
    let manifests: Vec<PathBuf> = out.objects.iter().map(|(f, _)| k8s.join(f)).collect();
    kubernetes_validate(&bin, &manifests);
}

#[test]
fn generated_names_never_collide_with_the_program_s() {
    let program = include_str!("k8s/names.inf");
    let out = Output::of("names.inf", program);
    let mut seen = BTreeSet::new();
    for (file, doc) in &out.objects {
        let key = (
            s(&doc["kind"]).to_string(),
            s(&doc["metadata"]["name"]).to_string(),
        );
        assert!(seen.insert(key), "{file} repeats a name");
    }
    let lb = out
        .kind("Service")
        .find(|d| d["spec"]["type"].as_str() == Some("LoadBalancer"))
        .unwrap();
    assert_eq!(s(&lb["spec"]["selector"]["app.kubernetes.io/name"]), "web");
    assert_ne!(s(&lb["metadata"]["name"]), "web-public");
    let sts = out.named("StatefulSet", "web-public");
    let headless = s(&sts["spec"]["serviceName"]);
    assert_eq!(
        s(&out.named("Service", headless)["spec"]["clusterIP"]),
        "None"
    );
    let pod = &sts["spec"]["template"]["spec"];
    let mut volumes: Vec<&str> = seq(&pod["volumes"]).iter().map(|v| s(&v["name"])).collect();
    volumes.extend(
        seq(&sts["spec"]["volumeClaimTemplates"])
            .iter()
            .map(|c| s(&c["metadata"]["name"])),
    );
    let distinct: BTreeSet<&str> = volumes.iter().copied().collect();
    assert_eq!(distinct.len(), volumes.len(), "{volumes:?}");
    let mounts: BTreeSet<&str> = seq(&seq(&pod["containers"])[0]["volumeMounts"])
        .iter()
        .map(|m| s(&m["name"]))
        .collect();
    assert_eq!(mounts, distinct);
}
