//! The false-positive rate of `plaintext-secret` over real files: every
//! environment value of every service in `../shared/corpus` (compose and
//! stack files written by others) is judged by the checker's own decision
//! ([`infrac::check::env_credential`]). Each value it flags must be one a
//! reviewer has confirmed is a credential (`TRUE_POSITIVES`); anything else
//! is a false positive and fails the test. The figures are printed:
//!
//! ```text
//! cargo test --test all adversarial_secrets:: -- --nocapture
//! ```
//!
//! Skips when `../shared` is absent.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;
use yaml_rust2::{Yaml, YamlLoader};

/// Flagged values a reviewer confirmed are credentials, as
/// `FILE SERVICE KEY` (the file relative to the corpus). Adding a line here
/// is a review: each of these is a literal password, key or salt (many are
/// sample defaults such as `changeme` or `password`, which is exactly what
/// an attacker tries first), or a URL with a password in it.
const TRUE_POSITIVES: &[&str] = &[
    "fixtures/docker+compose/pkg/e2e/testdata/TestPublishDetectSensitiveData/compose.yaml serviceA AWS_SECRET_ACCESS_KEY",
    "fixtures/docker+compose/pkg/e2e/testdata/TestPublishPromptAggregatesFindings/compose.yaml serviceA DB_PASSWORD",
    "fixtures/docker+compose/pkg/e2e/testdata/TestPublishPromptAggregatesFindings/compose.yaml serviceB API_KEY",
    "fixtures/docker+compose/pkg/e2e/testdata/TestPublishPromptSuspiciousEnv/compose.yaml serviceA MYSQL_ROOT_PASSWORD",
    "fixtures/kubernetes+kompose/script/test/fixtures/controller/compose-controller-label-v3.yaml mysql MYSQL_ROOT_PASSWORD",
    "fixtures/kubernetes+kompose/script/test/fixtures/controller/compose-controller-label-v3.yaml web WORDPRESS_AUTH_KEY",
    "fixtures/kubernetes+kompose/script/test/fixtures/controller/compose-controller-label-v3.yaml web WORDPRESS_AUTH_SALT",
    "fixtures/kubernetes+kompose/script/test/fixtures/controller/compose-controller-label-v3.yaml web WORDPRESS_DB_PASSWORD",
    "fixtures/kubernetes+kompose/script/test/fixtures/controller/compose-controller-label-v3.yaml web WORDPRESS_LOGGED_IN_KEY",
    "fixtures/kubernetes+kompose/script/test/fixtures/controller/compose-controller-label-v3.yaml web WORDPRESS_LOGGED_IN_SALT",
    "fixtures/kubernetes+kompose/script/test/fixtures/controller/compose-controller-label-v3.yaml web WORDPRESS_NONCE_KEY",
    "fixtures/kubernetes+kompose/script/test/fixtures/controller/compose-controller-label-v3.yaml web WORDPRESS_NONCE_SALT",
    "fixtures/kubernetes+kompose/script/test/fixtures/controller/compose-controller-label-v3.yaml web WORDPRESS_SECURE_AUTH_KEY",
    "fixtures/kubernetes+kompose/script/test/fixtures/controller/compose-controller-label-v3.yaml web WORDPRESS_SECURE_AUTH_SALT",
    "fixtures/kubernetes+kompose/script/test/fixtures/fsgroup/compose.yaml pgadmin PGADMIN_DEFAULT_PASSWORD",
    "fixtures/kubernetes+kompose/script/test/fixtures/pvc-request-size/compose.yaml postgresql DB_PASS",
    "fixtures/kubernetes+kompose/script/test/fixtures/statefulset/compose.yaml db MYSQL_PASSWORD",
    "fixtures/kubernetes+kompose/script/test/fixtures/statefulset/compose.yaml db MYSQL_ROOT_PASSWORD",
    "fixtures/kubernetes+kompose/script/test/fixtures/statefulset/compose.yaml wordpress WORDPRESS_DB_PASSWORD",
    "fixtures/kubernetes+kompose/script/test/fixtures/vols-subpath/compose.yaml postgres POSTGRES_PASSWORD",
    "public/BretFisher+dogvscat/stack-ee-ghost.yml ghost database__connection__password",
    "public/BretFisher+dogvscat/stack-ghost.yml ghost database__connection__password",
    "public/docker+awesome-compose/aspnet-mssql/compose.yaml db SA_PASSWORD",
    "public/docker+awesome-compose/gitea-postgres/compose.yaml db POSTGRES_PASSWORD",
    "public/docker+awesome-compose/gitea-postgres/compose.yaml gitea DB_PASSWD",
    "public/docker+awesome-compose/nextcloud-postgres/compose.yaml db POSTGRES_PASSWORD",
    "public/docker+awesome-compose/nextcloud-postgres/compose.yaml nc POSTGRES_PASSWORD",
    "public/docker+awesome-compose/nextcloud-redis-mariadb/compose.yaml db MYSQL_PASSWORD",
    "public/docker+awesome-compose/nextcloud-redis-mariadb/compose.yaml db MYSQL_ROOT_PASSWORD",
    "public/docker+awesome-compose/nextcloud-redis-mariadb/compose.yaml nc MYSQL_PASSWORD",
    "public/docker+awesome-compose/prometheus-grafana/compose.yaml grafana GF_SECURITY_ADMIN_PASSWORD",
    "public/docker+awesome-compose/react-rust-postgres/compose.yaml backend PG_PASSWORD",
    "public/docker+awesome-compose/react-rust-postgres/compose.yaml db POSTGRES_PASSWORD",
    "public/docker+awesome-compose/wasmedge-kafka-mysql/compose.yml db MYSQL_ROOT_PASSWORD",
    "public/docker+awesome-compose/wasmedge-kafka-mysql/compose.yml etl DATABASE_URL",
    "public/docker+awesome-compose/wasmedge-mysql-nginx/compose.yml backend DATABASE_URL",
    "public/docker+awesome-compose/wasmedge-mysql-nginx/compose.yml db MYSQL_ROOT_PASSWORD",
    "public/docker+awesome-compose/wordpress-mysql/compose.yaml db MYSQL_PASSWORD",
    "public/docker+awesome-compose/wordpress-mysql/compose.yaml db MYSQL_ROOT_PASSWORD",
    "public/docker+awesome-compose/wordpress-mysql/compose.yaml wordpress WORDPRESS_DB_PASSWORD",
    "public/dockersamples+example-voting-app/docker-compose.images.yml db POSTGRES_PASSWORD",
    "public/dockersamples+example-voting-app/docker-compose.yml db POSTGRES_PASSWORD",
    "public/dockersamples+example-voting-app/docker-stack.yml db POSTGRES_PASSWORD",
    "public/dockersamples+example-voting-app/result/docker-compose.test.yml db POSTGRES_PASSWORD",
];

/// (file, service, key, value) for every environment entry.
fn environment(root: &Path) -> Vec<(String, String, String, String)> {
    let mut files = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let Ok(docs) = YamlLoader::load_from_str(&text) else {
            continue;
        };
        let rel = f.strip_prefix(root).unwrap_or(&f).display().to_string();
        for doc in &docs {
            let Some(services) = doc["services"].as_hash() else {
                continue;
            };
            for (name, svc) in services {
                let name = name.as_str().unwrap_or("").to_string();
                let scalar = |y: &Yaml| match y {
                    Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
                    Yaml::Integer(i) => Some(i.to_string()),
                    Yaml::Boolean(b) => Some(b.to_string()),
                    _ => None,
                };
                match &svc["environment"] {
                    Yaml::Hash(h) => {
                        for (k, v) in h {
                            if let (Some(k), Some(v)) = (k.as_str(), scalar(v)) {
                                out.push((rel.clone(), name.clone(), k.to_string(), v));
                            }
                        }
                    }
                    Yaml::Array(items) => {
                        for item in items {
                            if let Some((k, v)) = item.as_str().and_then(|s| s.split_once('=')) {
                                out.push((rel.clone(), name.clone(), k.to_string(), v.to_string()));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

#[test]
fn plaintext_secret_has_no_false_positives_on_the_corpus() {
    let Some(shared) = shared() else {
        eprintln!("skipped: ../shared is absent");
        return;
    };
    let corpus = shared.join("corpus");
    if !corpus.is_dir() {
        eprintln!("skipped: ../shared/corpus is absent");
        return;
    }
    let entries = environment(&corpus);
    let reviewed: BTreeSet<&str> = TRUE_POSITIVES.iter().copied().collect();
    let mut flagged = 0;
    let mut false_positives = Vec::new();
    for (file, service, key, value) in &entries {
        if let Some(why) = infrac::check::env_credential(key, value) {
            flagged += 1;
            let id = format!("{file} {service} {key}");
            if !reviewed.contains(id.as_str()) {
                false_positives.push(format!("{id} ({why})"));
            }
        }
    }
    println!(
        "plaintext-secret over {} environment values of the corpus: {} flagged, {} reviewed as credentials, {} false positives ({:.2}%)",
        entries.len(),
        flagged,
        flagged - false_positives.len(),
        false_positives.len(),
        100.0 * false_positives.len() as f64 / entries.len().max(1) as f64
    );
    assert!(
        entries.len() > 100,
        "the corpus has only {} environment values",
        entries.len()
    );
    assert!(
        false_positives.is_empty(),
        "flagged, but not reviewed as credentials:\n  {}",
        false_positives.join("\n  ")
    );
}

/// For review: credential-looking keys the decision lets through (settings,
/// `*_FILE` paths, `${VAR}` placeholders). `-- --ignored --nocapture`.
#[test]
#[ignore]
fn show_unflagged_credential_looking_keys() {
    let corpus = shared().unwrap().join("corpus");
    for (file, service, key, value) in environment(&corpus) {
        let up = key.to_ascii_uppercase();
        if ["PASS", "SECRET", "TOKEN", "KEY", "AUTH", "PWD", "CRED"]
            .iter()
            .any(|w| up.contains(w))
            && infrac::check::env_credential(&key, &value).is_none()
        {
            println!("{file} {service} {key}={value}");
        }
    }
}
