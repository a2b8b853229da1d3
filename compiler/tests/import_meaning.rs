//! What a compose or stack file meant survives the import and the build,
//! or is reported at its YAML line: swarm's routing-mesh publishing, the
//! replicas, and the Service a data store needs on Kubernetes.

use crate::common;

use common::*;
use infrac::backend::Target;
use infrac::diagnostics::Code;
use infrac::import::{self, Imported};
use infrac::source::Sources;

fn import_text(text: &str) -> (Imported, Sources) {
    let mut sources = Sources::new();
    let id = sources.add("stack.yml", text);
    (import::import(&sources, id), sources)
}

/// The (line, column) of each routing-mesh finding.
fn mesh_findings(text: &str) -> Vec<(usize, usize)> {
    let (i, sources) = import_text(text);
    assert!(i.program.is_some(), "{:#?}", i.diagnostics);
    i.diagnostics
        .iter()
        .filter(|d| d.code == Code::ImportLoss && d.message.contains("routing mesh"))
        .map(|d| {
            sources
                .get(d.primary.span.file)
                .line_col(d.primary.span.start as usize)
        })
        .collect()
}

const PORTS: &str = "    ports:\n      - \"8080:80\"\n      - target: 443\n        published: 8443\n      - target: 9000\n        published: 9000\n        mode: host\n";

#[test]
fn a_stack_port_on_the_routing_mesh_is_reported_at_its_line() {
    // `deploy.placement` is read only by `docker stack deploy`: a stack.
    let stack = format!("services:\n  web:\n    image: nginx:1.27\n    deploy:\n      replicas: 3\n      placement:\n        constraints: [node.role == worker]\n{PORTS}");
    // The short port (line 9) and the long one without `mode` (line 10)
    // are on the mesh; `mode: host` (line 12) means what the program says.
    assert_eq!(mesh_findings(&stack), [(9, 9), (10, 9)]);
    let (i, _) = import_text(&stack);
    let text = i.text().expect("imported");
    assert!(text.contains("port 80 public as 8080"), "{text}");
    assert!(text.contains("port 443 public as 8443"), "{text}");
    let finding = i
        .diagnostics
        .iter()
        .find(|d| d.message.contains("routing mesh"))
        .expect("reported");
    assert!(
        finding
            .notes
            .iter()
            .any(|n| n.contains("`deploy.placement` of `web`")),
        "{finding:#?}"
    );

    // An overlay network makes a stack too.
    let overlay = format!("services:\n  web:\n    image: nginx:1.27\n{PORTS}networks:\n  default:\n    driver: overlay\n");
    assert_eq!(mesh_findings(&overlay), [(5, 9), (6, 9)]);
}

#[test]
fn a_compose_files_ports_keep_their_meaning_without_a_report() {
    // `deploy.replicas` and `resources` are compose's too: not a stack.
    let compose = format!("services:\n  web:\n    image: nginx:1.27\n    deploy:\n      mode: replicated\n      replicas: 2\n      resources:\n        limits: {{ memory: 256M }}\n{PORTS}");
    assert_eq!(mesh_findings(&compose), []);
    // An explicit `mode: ingress` is the mesh in any file.
    let ingress = "services:\n  web:\n    image: nginx:1.27\n    ports:\n      - target: 80\n        published: 8080\n        mode: ingress\n";
    assert_eq!(mesh_findings(ingress), [(7, 15)]);
}

fn imported_program(text: &str) -> String {
    let (i, _) = import_text(text);
    i.text().unwrap_or_else(|| panic!("{:#?}", i.diagnostics))
}

fn built(program: &str, target: Target) -> Vec<infrac::backend::Artifact> {
    let (artifacts, diagnostics) = build("infra.inf", program, target);
    assert!(
        !diagnostics.iter().any(|d| d.is_error()),
        "{diagnostics:#?}"
    );
    artifacts
}

const APP: &str = "services:\n  api:\n    image: ghcr.io/acme/api:1.4.2\n    deploy:\n      replicas: 3\n    environment:\n      DATABASE_URL: postgres://db:5432/app\n  db:\n    image: postgres:16.4\n  cache:\n    image: redis:7.4\n";

#[test]
fn replicas_reach_every_target() {
    let program = imported_program(APP);
    assert!(program.contains("replicas = 3"), "{program}");
    let compose = built(&program, Target::Compose);
    let file = compose
        .iter()
        .find(|a| a.path.ends_with("compose.yaml"))
        .expect("a compose file");
    let doc: serde_yaml::Value = serde_yaml::from_str(&file.contents).unwrap();
    assert_eq!(
        doc["services"]["api"]["deploy"]["replicas"].as_u64(),
        Some(3),
        "{}",
        file.contents
    );
    let swarm = built(&program, Target::Swarm);
    let stack: serde_yaml::Value = serde_yaml::from_str(
        &swarm
            .iter()
            .find(|a| a.path.ends_with("stack.yml"))
            .expect("a stack file")
            .contents,
    )
    .unwrap();
    assert_eq!(
        stack["services"]["api"]["deploy"]["replicas"].as_u64(),
        Some(3)
    );
    let k8s = built(&program, Target::K8s);
    let api = documents(&k8s)
        .into_iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "api")
        .expect("a Deployment of api");
    assert_eq!(api["spec"]["replicas"].as_u64(), Some(3));
}

fn documents(artifacts: &[infrac::backend::Artifact]) -> Vec<serde_yaml::Value> {
    use serde::Deserialize;
    artifacts
        .iter()
        .filter(|a| a.path.extension().is_some_and(|e| e == "yaml"))
        .flat_map(|a| {
            serde_yaml::Deserializer::from_str(&a.contents)
                .map(|d| serde_yaml::Value::deserialize(d).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn a_data_service_without_a_published_port_gets_its_service_on_kubernetes() {
    // `db` is named by `api`'s URL, `cache` by nothing: each gets its
    // port (from the URL, from the catalogue) and so a ClusterIP Service.
    let program = imported_program(APP);
    let k8s = built(&program, Target::K8s);
    let docs = documents(&k8s);
    for (name, port) in [("db", 5432), ("cache", 6379)] {
        let service = docs
            .iter()
            .find(|d| d["kind"] == "Service" && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no Service `{name}`:\n{program}"));
        let ports: Vec<u64> = service["spec"]["ports"]
            .as_sequence()
            .expect("ports")
            .iter()
            .filter_map(|p| p["port"].as_u64())
            .collect();
        assert_eq!(ports, [port], "{name}");
    }
}
