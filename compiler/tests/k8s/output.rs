//! The Kubernetes files of a program, parsed, and what the tests read
//! from them.

use std::collections::BTreeSet;

use super::common::build;
use infrac::backend::{Artifact, Target};
use infrac::diagnostics::{Code, Diagnostic};
use yaml_rust2::{Yaml, YamlLoader};

/// The generated files, by path, parsed.
pub struct Output {
    pub artifacts: Vec<Artifact>,
    pub diagnostics: Vec<Diagnostic>,
    /// Every object but the kustomization: (file, document), several
    /// documents to a file.
    pub objects: Vec<(String, Yaml)>,
}

impl Output {
    pub fn of(name: &str, text: &str) -> Output {
        let (artifacts, diagnostics) = build(name, text, Target::K8s);
        let mut objects = Vec::new();
        let mut files: Vec<String> = Vec::new();
        let mut listed: Vec<String> = Vec::new();
        for a in &artifacts {
            let path = a.path.display().to_string();
            let file = path
                .strip_prefix("k8s/")
                .unwrap_or_else(|| panic!("{path} is not under k8s/"))
                .to_string();
            let docs = YamlLoader::load_from_str(&a.contents)
                .unwrap_or_else(|e| panic!("{path} does not parse: {e}\n{}", a.contents));
            if file == "kustomization.yaml" {
                assert_eq!(docs.len(), 1, "{path} holds one document");
                let doc = &docs[0];
                assert_eq!(s(&doc["apiVersion"]), "kustomize.config.k8s.io/v1beta1");
                assert_eq!(s(&doc["kind"]), "Kustomization");
                listed = seq(&doc["resources"])
                    .iter()
                    .map(|r| s(r).to_string())
                    .collect();
            } else {
                assert!(!docs.is_empty(), "{path} holds no object");
                files.push(file.clone());
                objects.extend(docs.into_iter().map(|d| (file.clone(), d)));
            }
        }
        assert_eq!(
            listed, files,
            "the kustomization lists every file, in order"
        );
        Output {
            artifacts,
            diagnostics,
            objects,
        }
    }

    pub fn kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Yaml> + 'a {
        self.objects
            .iter()
            .map(|(_, d)| d)
            .filter(move |d| s(&d["kind"]) == kind)
    }

    pub fn named(&self, kind: &str, name: &str) -> &Yaml {
        self.objects
            .iter()
            .map(|(_, d)| d)
            .find(|d| s(&d["kind"]) == kind && s(&d["metadata"]["name"]) == name)
            .unwrap_or_else(|| panic!("no {kind} {name}"))
    }

    pub fn in_namespace(&self, kind: &str, name: &str, ns: &str) -> &Yaml {
        self.objects
            .iter()
            .map(|(_, d)| d)
            .find(|d| {
                s(&d["kind"]) == kind
                    && s(&d["metadata"]["name"]) == name
                    && s(&d["metadata"]["namespace"]) == ns
            })
            .unwrap_or_else(|| panic!("no {kind} {name} in {ns}"))
    }

    pub fn workloads(&self) -> Vec<&Yaml> {
        ["Deployment", "StatefulSet", "DaemonSet"]
            .iter()
            .flat_map(|k| self.kind(k))
            .collect()
    }

    pub fn warnings(&self, code: Code) -> Vec<&Diagnostic> {
        self.diagnostics.iter().filter(|d| d.code == code).collect()
    }
}

pub fn s(y: &Yaml) -> &str {
    y.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {y:?}"))
}

pub fn seq(y: &Yaml) -> &Vec<Yaml> {
    static EMPTY: Vec<Yaml> = Vec::new();
    y.as_vec().unwrap_or(&EMPTY)
}

pub fn label(y: &Yaml) -> &str {
    s(&y["matchLabels"]["app.kubernetes.io/name"])
}

/// Every key of every map in a document, recursively.
pub fn keys(y: &Yaml, out: &mut BTreeSet<String>) {
    match y {
        Yaml::Hash(h) => {
            for (k, v) in h {
                if let Some(k) = k.as_str() {
                    out.insert(k.to_string());
                }
                keys(v, out);
            }
        }
        Yaml::Array(a) => a.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

/// (client, server) pairs of services.
pub type Edges = BTreeSet<(String, String)>;

/// The pairs the policies allow between the program's pods: as egress on
/// the client, and as ingress on the server.
pub fn pod_edges(out: &Output) -> (Edges, Edges) {
    let mut egress = BTreeSet::new();
    let mut ingress = BTreeSet::new();
    for p in out.kind("NetworkPolicy") {
        let spec = &p["spec"];
        let selected = spec["podSelector"]["matchLabels"]["app.kubernetes.io/name"].as_str();
        for r in seq(&spec["egress"]) {
            for peer in seq(&r["to"]) {
                if peer["namespaceSelector"].is_badvalue() {
                    egress.insert((
                        selected
                            .expect("an egress edge selects its client")
                            .to_string(),
                        label(&peer["podSelector"]).to_string(),
                    ));
                }
            }
        }
        for r in seq(&spec["ingress"]) {
            for peer in seq(&r["from"]) {
                if !peer["podSelector"].is_badvalue() {
                    ingress.insert((
                        label(&peer["podSelector"]).to_string(),
                        selected
                            .expect("an ingress edge selects its server")
                            .to_string(),
                    ));
                }
            }
        }
    }
    (egress, ingress)
}

/// The text of `program` a finding points at.
pub fn written<'a>(program: &'a str, d: &Diagnostic) -> &'a str {
    &program[d.primary.span.start as usize..d.primary.span.end as usize]
}
