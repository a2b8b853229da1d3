//! The stdlib registry: the required templates exist, each parses and
//! checks as the base of a service, and the catalogue classifies the images
//! the sketch relies on.

use crate::common;

use common::*;
use infrac::ir::Class;

const REQUIRED: &[&str] = &[
    "postgres",
    "mysql",
    "mariadb",
    "mongo",
    "redis",
    "memcached",
    "elasticsearch",
    "rabbitmq",
    "nginx",
    "caddy",
    "traefik",
    "haproxy",
    "jenkins",
    "prometheus",
    "grafana",
    "kibana",
    "portainer",
];

#[test]
fn required_templates_exist() {
    for name in REQUIRED {
        assert!(
            infrac::stdlib::module(name).is_some(),
            "std/{name} is missing"
        );
    }
    assert!(
        infrac::stdlib::module(infrac::stdlib::CATALOGUE).is_some(),
        "the catalogue is missing"
    );
}

#[test]
fn every_template_checks_as_a_service() {
    for name in infrac::stdlib::template_names() {
        let program = format!("use std/{name}\nservice s: {name} {{}}\n");
        let (checked, sources) = check_text(&format!("{name}-user.inf"), &program);
        assert!(
            !checked.has_errors(),
            "std/{name}:\n{}",
            render_plain(&checked, &sources)
        );
        let model = checked.model.expect("no errors, so a model");
        let s = &model.services[0];
        assert!(!s.image.is_empty(), "std/{name} sets no image");
        assert!(s.health.is_some(), "std/{name} has no health check");
        assert!(
            s.resources.cpu.is_some() && s.resources.memory.is_some(),
            "std/{name} has no limits"
        );
    }
}

#[test]
fn catalogue_classifies_the_incident_images() {
    let cases = [
        ("redis:7.4", Class::Data),
        ("postgres:16.4", Class::Data),
        ("docker.io/library/mongo:7", Class::Data),
        ("bitnami/redis:7.2", Class::Data),
        ("jenkins/jenkins:2.462.3-lts", Class::Admin),
        ("prom/prometheus:v2.53.0", Class::Admin),
        ("grafana/grafana:11.2.0", Class::Admin),
        ("docker.elastic.co/kibana/kibana:8.15.0", Class::Admin),
        ("portainer/portainer-ce:2.21.0", Class::Admin),
        ("nginx:1.27-alpine", Class::App),
        ("ghcr.io/acme/api:1.4.2", Class::App),
    ];
    for (image, class) in cases {
        let program = format!("service s {{\n  image = \"{image}\"\n}}\n");
        let (checked, _) = check_text("catalogue.inf", &program);
        let model = checked.model.expect("a model");
        assert_eq!(model.services[0].class, class, "{image}");
    }
}
