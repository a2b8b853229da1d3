//! Property tests behind the adversarial corpus: for random programs, what
//! the checked model says about each service is exactly what the program
//! wrote. The first property guards the resolution bug of issue 12 (with
//! the implicit `default` network beside declared ones, references were
//! numbered in declared-name order while the model's list had `default`
//! sorted in, so a service on `private` landed on its neighbour).

use crate::common;

use std::collections::BTreeSet;

use common::*;
use proptest::prelude::*;

/// Names chosen to sort before, around and after "default" (and one equal
/// to it), so every numbering mistake shows.
const NAMES: &[&str] = &[
    "a", "backend", "cache", "d", "default", "defaults", "edge", "front", "private", "web", "zeta",
];

#[derive(Debug, Clone)]
struct Svc {
    networks: Option<Vec<usize>>,
    volumes: Vec<usize>,
    secrets: Vec<usize>,
    on: Option<usize>,
}

#[derive(Debug, Clone)]
struct Program {
    networks: Vec<usize>,
    volumes: Vec<usize>,
    secrets: Vec<usize>,
    nodes: Vec<usize>,
    services: Vec<Svc>,
}

fn subset(n: usize) -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::btree_set(0..n.max(1), 0..=n.min(4))
        .prop_map(move |s| s.into_iter().filter(|i| *i < n).collect())
}

fn program() -> impl Strategy<Value = Program> {
    let decls = || proptest::collection::btree_set(0..NAMES.len(), 0..6);
    (decls(), decls(), decls(), decls()).prop_flat_map(|(nets, vols, secs, nodes)| {
        let nets: Vec<usize> = nets.into_iter().collect();
        let vols: Vec<usize> = vols.into_iter().collect();
        let secs: Vec<usize> = secs.into_iter().collect();
        let nodes: Vec<usize> = nodes.into_iter().collect();
        let (nn, nv, ns, nd) = (nets.len(), vols.len(), secs.len(), nodes.len());
        let svc = (
            proptest::option::of(subset(nn)),
            subset(nv),
            subset(ns),
            proptest::option::of(0..nd.max(1)),
        )
            .prop_map(move |(networks, volumes, secrets, on)| Svc {
                networks: networks.filter(|v| !v.is_empty()),
                volumes,
                secrets,
                on: on.filter(|_| nd > 0),
            });
        proptest::collection::vec(svc, 1..6).prop_map(move |services| Program {
            networks: nets.clone(),
            volumes: vols.clone(),
            secrets: secs.clone(),
            nodes: nodes.clone(),
            services,
        })
    })
}

fn text(p: &Program) -> String {
    let mut out = String::new();
    for n in &p.nodes {
        out += &format!(
            "node n{} {{ role = manager }}\n",
            NAMES[*n].replace('-', "_")
        );
    }
    for n in &p.networks {
        out += &format!("network {} {{}}\n", NAMES[*n]);
    }
    for v in &p.volumes {
        out += &format!("volume v{} {{}}\n", NAMES[*v]);
    }
    for s in &p.secrets {
        out += &format!(
            "secret s{} {{ from = env(\"S_{}\") }}\n",
            NAMES[*s],
            NAMES[*s].to_uppercase()
        );
    }
    for (i, s) in p.services.iter().enumerate() {
        out += &format!("service svc{i} {{\n  image = \"ghcr.io/acme/svc{i}:1.0\"\n");
        if let Some(nets) = &s.networks {
            let names: Vec<&str> = nets.iter().map(|k| NAMES[p.networks[*k]]).collect();
            out += &format!("  networks = [{}]\n", names.join(", "));
        }
        if !s.volumes.is_empty() {
            let mounts: Vec<String> = s
                .volumes
                .iter()
                .map(|k| format!("v{} -> \"/data/{k}\"", NAMES[p.volumes[*k]]))
                .collect();
            out += &format!("  mounts = [{}]\n", mounts.join(", "));
        }
        if !s.secrets.is_empty() {
            let names: Vec<String> = s
                .secrets
                .iter()
                .map(|k| format!("s{}", NAMES[p.secrets[*k]]))
                .collect();
            out += &format!("  secrets = [{}]\n", names.join(", "));
        }
        if let Some(k) = s.on {
            out += &format!("  on = n{}\n", NAMES[p.nodes[k]]);
        }
        out += "}\n";
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn every_service_is_on_exactly_what_it_names(p in program()) {
        let src = text(&p);
        let (checked, sources) = check_text("random.inf", &src);
        let model = checked.drawable().unwrap_or_else(|| {
            panic!("{src}\ndoes not elaborate:\n{}", render_plain(&checked, &sources))
        });
        prop_assert_eq!(model.services.len(), p.services.len());
        for (i, s) in p.services.iter().enumerate() {
            let m = model.services.iter().find(|m| m.name == format!("svc{i}")).expect("every service is in the model");
            let nets: BTreeSet<String> = m.networks.iter().map(|n| model.network(*n).name.clone()).collect();
            let want: BTreeSet<String> = match &s.networks {
                Some(k) => k.iter().map(|k| NAMES[p.networks[*k]].to_string()).collect(),
                None => BTreeSet::from(["default".to_string()]),
            };
            prop_assert_eq!(&nets, &want, "networks of svc{} in\n{}", i, src);
            let vols: BTreeSet<String> = m.mounts.iter().filter_map(|mt| match &mt.source {
                infrac::ir::MountSource::Volume(v) => Some(model.volume(*v).name.clone()),
                infrac::ir::MountSource::HostPath(_) => None,
            }).collect();
            let want: BTreeSet<String> = s.volumes.iter().map(|k| format!("v{}", NAMES[p.volumes[*k]])).collect();
            prop_assert_eq!(&vols, &want, "volumes of svc{} in\n{}", i, src);
            let secs: BTreeSet<String> = m.secrets.iter().map(|x| model.secret(*x).name.clone()).collect();
            let want: BTreeSet<String> = s.secrets.iter().map(|k| format!("s{}", NAMES[p.secrets[*k]])).collect();
            prop_assert_eq!(&secs, &want, "secrets of svc{} in\n{}", i, src);
            let on = m.on.map(|n| model.node(n).name.clone());
            let want = s.on.map(|k| format!("n{}", NAMES[p.nodes[k]]));
            prop_assert_eq!(&on, &want, "node of svc{} in\n{}", i, src);
        }
        // And the generated compose file agrees with the model: each
        // service lists exactly its networks.
        if let Some(model) = &checked.model {
            let options = infrac::backend::Options {
                project: "random".to_string(),
                source: "random.inf".to_string(),
            };
            let (artifacts, _) = infrac::backend::emit(model, infrac::backend::Target::Compose, &options);
            let compose = artifacts.iter().find(|a| a.path.to_string_lossy().ends_with(".yaml") || a.path.to_string_lossy().ends_with(".yml"));
            if let Some(a) = compose {
                let docs = yaml_rust2::YamlLoader::load_from_str(&a.contents).expect("compose parses");
                let services = &docs[0]["services"];
                for (i, s) in p.services.iter().enumerate() {
                    let listed: BTreeSet<String> = services[format!("svc{i}").as_str()]["networks"]
                        .as_vec()
                        .map(|v| v.iter().filter_map(|n| n.as_str().map(str::to_string)).collect())
                        .or_else(|| services[format!("svc{i}").as_str()]["networks"].as_hash().map(|h| h.keys().filter_map(|k| k.as_str().map(str::to_string)).collect()))
                        .unwrap_or_default();
                    let want: BTreeSet<String> = match &s.networks {
                        Some(k) => k.iter().map(|k| NAMES[p.networks[*k]].to_string()).collect(),
                        None => BTreeSet::from(["default".to_string()]),
                    };
                    prop_assert_eq!(&listed, &want, "compose networks of svc{} in\n{}", i, src);
                }
            }
        }
    }
}
