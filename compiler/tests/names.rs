//! Names every target can carry (issue 15.6): for a service, network or
//! secret name of any length, each target either writes files that parse
//! and name the object, or refuses the name with `E5010` at its span.
//! Compose refuses service names over 63 characters, swarm names over 63
//! with the stack prefix (secrets over 64); Kubernetes and Terraform carry
//! every name.

use crate::common;

use common::*;
use infrac::backend::{Artifact, Target};
use infrac::diagnostics::{Code, Diagnostic};

/// A program whose service `svc`, network `net` and secret `sec` carry
/// the given names.
fn program(svc: &str, net: &str, sec: &str) -> String {
    format!(
        "provider aws {{ region = \"eu-west-1\" }}\n\
         network {net} {{}}\n\
         secret {sec} {{ from = env(\"X\") }}\n\
         service {svc} {{\n  image = \"nginx:1.27\"\n  networks = [{net}]\n  secrets = [{sec}]\n  port 80 internal\n  \
         health = {{ http = \"/\", port = 80 }}\n  resources = {{ cpu = \"0.5\", memory = \"64Mi\" }}\n}}\n\
         service proxy {{\n  image = \"nginx:1.27\"\n  networks = [{net}]\n  depends = [{svc}]\n  port 443 public\n  \
         route \"x.example.com\" -> {svc}:80\n  \
         health = {{ http = \"/\", port = 443 }}\n  resources = {{ cpu = \"0.5\", memory = \"64Mi\" }}\n}}\n"
    )
}

/// Builds `text` (as `shop.inf`: project `shop`) for `target`.
fn build_shop(text: &str, target: Target) -> (Vec<Artifact>, Vec<Diagnostic>) {
    build("shop.inf", text, target)
}

fn refusals(diagnostics: &[Diagnostic]) -> Vec<&Diagnostic> {
    diagnostics
        .iter()
        .filter(|d| d.code == Code::NameTooLong)
        .collect()
}

/// Every generated file parses: YAML with yaml-rust2, HCL with hcl-rs.
fn assert_parses(artifacts: &[Artifact]) {
    for a in artifacts {
        let path = a.path.display().to_string();
        if path.ends_with(".tf") {
            hcl::parse(&a.contents).unwrap_or_else(|e| panic!("{path}: {e}"));
        } else if path.starts_with("proxy/") && !path.ends_with(".yml") {
            // A proxy's own configuration: checked by the real programs
            // (scripts/proxy-configs-check.sh), not a YAML file.
            assert!(!a.contents.is_empty(), "{path}: empty");
        } else {
            yaml_rust2::YamlLoader::load_from_str(&a.contents)
                .unwrap_or_else(|e| panic!("{path}: {e}"));
        }
    }
}

/// The text of `span` in `text`.
fn at(text: &str, d: &Diagnostic) -> String {
    text[d.primary.span.start as usize..d.primary.span.end as usize].to_string()
}

#[test]
fn compose_refuses_a_service_name_over_63_characters_at_the_name() {
    let long = format!("s{}", "a".repeat(63));
    let text = program(&long, "edge", "token");
    let (artifacts, diagnostics) = build_shop(&text, Target::Compose);
    let refused = refusals(&diagnostics);
    assert_eq!(refused.len(), 1, "{diagnostics:?}");
    assert_eq!(at(&text, refused[0]), long);
    assert!(
        refused[0].message.contains("64 characters"),
        "{}",
        refused[0].message
    );
    // The files still parse: the refusal is the build's, not the YAML's.
    assert_parses(&artifacts);
}

#[test]
fn compose_carries_a_63_character_service_name() {
    let name = format!("s{}", "a".repeat(62));
    let (artifacts, diagnostics) = build_shop(&program(&name, "edge", "token"), Target::Compose);
    assert!(refusals(&diagnostics).is_empty(), "{diagnostics:?}");
    assert!(
        !diagnostics.iter().any(Diagnostic::is_error),
        "{diagnostics:?}"
    );
    assert_parses(&artifacts);
    assert!(artifacts[0].contents.contains(&format!("\n  {name}:\n")));
}

#[test]
fn swarm_counts_the_stack_prefix() {
    // `shop_` + 58 characters is 63: carried; 59 is one too many.
    let fits = format!("s{}", "a".repeat(57));
    let over = format!("s{}", "a".repeat(58));
    let (_, ok) = build_shop(
        &program(&fits, &fits.replace('s', "n"), "token"),
        Target::Swarm,
    );
    assert!(refusals(&ok).is_empty(), "{ok:?}");
    let text = program(
        &over,
        &over.replace('s', "n"),
        &format!("t{}", "a".repeat(64)),
    );
    let (artifacts, diagnostics) = build_shop(&text, Target::Swarm);
    let refused = refusals(&diagnostics);
    let spans: Vec<String> = refused.iter().map(|d| at(&text, d)).collect();
    assert_eq!(refused.len(), 3, "{diagnostics:?}");
    // The service at its name; the network and the secret at their
    // declarations.
    assert!(spans.contains(&over), "{spans:?}");
    assert!(
        spans.iter().any(|s| s.starts_with("network n")),
        "{spans:?}"
    );
    assert!(spans.iter().any(|s| s.starts_with("secret t")), "{spans:?}");
    assert!(refused
        .iter()
        .all(|d| d.help.as_deref().is_some_and(|h| h.contains("at most"))));
    assert_parses(&artifacts);
}

#[test]
fn every_target_carries_or_refuses_names_of_every_length() {
    for len in [1usize, 40, 63, 64, 200, 1024, 1025, 1100, 5000] {
        let name = format!("s{}", "a".repeat(len - 1));
        let text = program(
            &name,
            &format!("n{}", &name[1..]),
            &format!("t{}", &name[1..]),
        );
        for &target in Target::ALL {
            let (artifacts, diagnostics) = build_shop(&text, target);
            // Whatever the verdict, every file parses.
            assert_parses(&artifacts);
            let errors: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.is_error()).collect();
            let refused = refusals(&diagnostics);
            assert_eq!(
                errors.len(),
                refused.len(),
                "{len} {}: {errors:?}",
                target.name()
            );
            let refuses = match target {
                Target::Compose => len > 63,
                Target::Swarm => len > 63 - "shop_".len(),
                Target::K8s | Target::Terraform => false,
            };
            assert_eq!(!refused.is_empty(), refuses, "{len} {}", target.name());
            if refuses {
                continue;
            }
            // Carried: the service is in the files, under its name or (in
            // Kubernetes) under its DNS label.
            let carried = match target {
                Target::K8s => name[..name.len().min(63)].to_string(),
                Target::Terraform => continue, // no service objects
                _ => name.clone(),
            };
            assert!(
                artifacts.iter().any(|a| a.contents.contains(&carried)),
                "{len} {}: the service is not in the files",
                target.name()
            );
        }
    }
}

#[test]
fn kubernetes_names_stay_dns_labels_and_unique() {
    // Two names that share their first 63 characters.
    let a = format!("s{}x", "a".repeat(80));
    let b = format!("s{}y", "a".repeat(80));
    let text = program(&a, "edge", "token").replace(
        "service proxy {",
        &format!("service {b} {{\n  image = \"nginx:1.27\"\n  networks = [edge]\n  port 80 internal\n  health = {{ http = \"/\", port = 80 }}\n  resources = {{ cpu = \"0.5\", memory = \"64Mi\" }}\n}}\nservice proxy {{"),
    );
    let (artifacts, diagnostics) = build_shop(&text, Target::K8s);
    assert!(
        !diagnostics.iter().any(Diagnostic::is_error),
        "{diagnostics:?}"
    );
    let mut names = Vec::new();
    for art in &artifacts {
        for doc in yaml_rust2::YamlLoader::load_from_str(&art.contents).unwrap() {
            if let Some(name) = doc["metadata"]["name"].as_str() {
                assert!(name.len() <= 63, "{name}");
                if doc["kind"].as_str() == Some("Deployment") {
                    names.push(name.to_string());
                }
            }
        }
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 3, "{names:?}");
}
