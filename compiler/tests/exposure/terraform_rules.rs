//! The Terraform target's ingress rules read back from `main.tf` and
//! `outputs.tf` (hcl-rs), and where the program places each service, for
//! the tests that compare them with the checked model (`exposure.rs`,
//! `reach_oracle.rs`).
#![allow(dead_code)]

use std::collections::BTreeMap;

use infrac::ir::Model;

/// An ingress source in the generated Terraform: an address range or
/// another security group (by resource name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum TfSource {
    Cidr(ipnet::IpNet),
    Group(String),
}

/// `aws_security_group.NAME.id` → `NAME`.
pub fn group_of(expr: &hcl::Expression) -> String {
    let hcl::Expression::Traversal(t) = expr else {
        panic!("a security group reference, found {expr:?}")
    };
    match (&t.expr, t.operators.as_slice()) {
        (
            hcl::Expression::Variable(v),
            [hcl::expr::TraversalOperator::GetAttr(name), hcl::expr::TraversalOperator::GetAttr(id)],
        ) if v.as_str() == "aws_security_group" && id.as_str() == "id" => name.to_string(),
        _ => panic!("a security group reference, found {t:?}"),
    }
}

pub fn attr<'a>(block: &'a hcl::Block, key: &str) -> Option<&'a hcl::Expression> {
    block
        .body()
        .attributes()
        .find(|a| a.key() == key)
        .map(|a| a.expr())
}

pub fn string(expr: &hcl::Expression) -> String {
    match expr {
        hcl::Expression::String(s) => s.clone(),
        other => panic!("a string, found {other:?}"),
    }
}

/// Every ingress rule of a generated `main.tf`: (group, protocol, port,
/// source). Also asserts what every rule must have.
pub fn terraform_ingress(main: &str) -> Vec<(String, String, Option<u16>, TfSource)> {
    let body: hcl::Body = hcl::from_str(main).expect("main.tf parses as HCL");
    let mut out = Vec::new();
    for block in body.blocks().filter(|b| b.identifier() == "resource") {
        let kind = block.labels()[0].as_str();
        if kind.starts_with("aws_vpc_security_group_") || kind == "aws_security_group" {
            let description = attr(block, "description").map(string).unwrap_or_default();
            assert!(
                !description.is_empty(),
                "{kind}.{}: no description",
                block.labels()[1].as_str()
            );
        }
        if kind != "aws_vpc_security_group_ingress_rule" {
            continue;
        }
        let group = group_of(attr(block, "security_group_id").expect("security_group_id"));
        let proto = string(attr(block, "ip_protocol").expect("ip_protocol"));
        let port = attr(block, "from_port").map(|e| match e {
            hcl::Expression::Number(n) => n.as_u64().expect("a port number") as u16,
            other => panic!("a port, found {other:?}"),
        });
        if let Some(p) = port {
            let to = attr(block, "to_port").expect("to_port with from_port");
            assert_eq!(to, &hcl::Expression::from(p as u64), "one port per rule");
        }
        let source = if let Some(c) = attr(block, "cidr_ipv4").or(attr(block, "cidr_ipv6")) {
            TfSource::Cidr(string(c).parse().expect("a CIDR"))
        } else {
            TfSource::Group(group_of(
                attr(block, "referenced_security_group_id").expect("a rule names its source"),
            ))
        };
        out.push((group, proto, port, source));
    }
    out
}

/// The node each security group belongs to, from `outputs.tf`.
pub fn terraform_groups(outputs: &str) -> BTreeMap<String, String> {
    let body: hcl::Body = hcl::from_str(outputs).expect("outputs.tf parses as HCL");
    let out = body
        .blocks()
        .find(|b| b.identifier() == "output" && b.labels()[0].as_str() == "security_group_ids")
        .expect("output security_group_ids");
    let Some(hcl::Expression::Object(map)) = attr(out, "value") else {
        panic!("security_group_ids is a map")
    };
    map.iter()
        .map(|(node, group)| {
            let node = match node {
                hcl::ObjectKey::Identifier(i) => i.to_string(),
                hcl::ObjectKey::Expression(e) => string(e),
                other => panic!("{other:?}"),
            };
            (group_of(group), node)
        })
        .collect()
}

/// The nodes a service runs on, from the program alone.
pub fn hosts_of(model: &Model, s: &infrac::ir::Service) -> Vec<String> {
    if model.nodes.is_empty() {
        return vec!["host".into()];
    }
    model
        .nodes
        .iter()
        .enumerate()
        .filter(|(i, n)| match s.on {
            Some(on) => on.index() == *i,
            None => {
                s.placement.role.map_or(true, |r| r == n.role)
                    && s.placement.labels.iter().all(|l| n.labels.contains(l))
            }
        })
        .map(|(_, n)| n.name.clone())
        .collect()
}
