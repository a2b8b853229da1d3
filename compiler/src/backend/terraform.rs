//! The Terraform (AWS) backend: `terraform/main.tf`, `variables.tf` and
//! `outputs.tf`, the host firewall that compose and swarm deployments rely
//! on (research notes §3.4; the book's `targets/terraform.md` has the
//! table).
//!
//! [`firewall`] decides the rules; this module writes them as hcl-rs
//! structures (laid out by [`layout`] the way `terraform fmt` does):
//!
//! - a security group per node, and a network interface per node that
//!   holds it (and the cluster's group), for the instance to attach: a
//!   group attached to nothing protects nothing;
//! - one `aws_vpc_security_group_ingress_rule` / `_egress_rule` per rule,
//!   each with a description (one rule per address range, so a plan shows
//!   exactly which range opens which port);
//! - checkov skips, with the program's reason, only on the rules that
//!   legitimately trip a check (a public port 80, a waived public SSH);
//! - `variable "vpc_id"` (and the region, and a subnet per node), defaulted
//!   from the program's `provider aws { ... }` where it says them;
//! - outputs with the group and interface ids.

mod firewall;
mod layout;

pub(crate) use firewall::node_labels;

use hcl::expr::{Traversal, Variable};
use hcl::{Block, Expression, ObjectKey};

use super::{Artifact, Options};
use crate::diagnostics::Diagnostic;
use crate::ir::Model;
use firewall::{Firewall, Group, GroupRef, Peer, Proto, Rule};
use layout::Item;

/// The oldest AWS provider with `aws_vpc_security_group_ingress_rule`
/// (5.0) that also has `referenced_security_group_id` on egress rules.
const AWS_PROVIDER: &str = ">= 5.0";

pub fn emit(model: &Model, options: &Options) -> (Vec<Artifact>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let fw = firewall::plan(model, &options.project, &mut diagnostics);
    let header = super::generated_header(options);
    let artifacts = vec![
        Artifact {
            path: "terraform/main.tf".into(),
            contents: layout::file(&header, &main_tf(&fw, options)),
        },
        Artifact {
            path: "terraform/variables.tf".into(),
            contents: layout::file(&header, &variables_tf(model, &fw)),
        },
        Artifact {
            path: "terraform/outputs.tf".into(),
            contents: layout::file(&header, &outputs_tf(&fw)),
        },
    ];
    (artifacts, diagnostics)
}

fn reference(root: &str, attrs: &[&str]) -> Expression {
    let mut t = Traversal::builder(Variable::unchecked(root));
    for a in attrs {
        t = t.attr(*a);
    }
    Expression::from(t.build())
}

fn group_id(fw: &Firewall, g: GroupRef) -> Expression {
    reference("aws_security_group", &[&fw.group(g).label, "id"])
}

fn object<'a>(entries: impl IntoIterator<Item = (&'a str, Expression)>) -> Expression {
    let mut o = hcl::expr::Object::new();
    for (k, v) in entries {
        let key = match hcl::Identifier::new(k) {
            Ok(id) => ObjectKey::Identifier(id),
            Err(_) => ObjectKey::Expression(Expression::String(k.to_string())),
        };
        o.insert(key, v);
    }
    Expression::Object(o)
}

fn main_tf(fw: &Firewall, options: &Options) -> Vec<Item> {
    let mut items = vec![
        Item::new(
            Block::builder("terraform")
                .add_attribute(("required_version", ">= 1.5.0"))
                .add_block(
                    Block::builder("required_providers")
                        .add_attribute((
                            "aws",
                            object([
                                ("source", "hashicorp/aws".into()),
                                ("version", AWS_PROVIDER.into()),
                            ]),
                        ))
                        .build(),
                )
                .build(),
        ),
        Item::new(
            Block::builder("provider")
                .add_label("aws")
                .add_attribute(("region", reference("var", &["region"])))
                .add_block(
                    Block::builder("default_tags")
                        .add_attribute((
                            "tags",
                            object([
                                ("ManagedBy", "infrac".into()),
                                ("Project", options.project.as_str().into()),
                            ]),
                        ))
                        .build(),
                )
                .build(),
        ),
    ];
    for (i, g) in fw.nodes.iter().enumerate() {
        items.push(security_group(g, &options.project));
        items.push(interface(fw, i));
        for r in &g.ingress {
            items.push(rule(fw, GroupRef::Node(i), r, Direction::Ingress));
        }
        for r in &g.egress {
            items.push(rule(fw, GroupRef::Node(i), r, Direction::Egress));
        }
    }
    if let Some(c) = &fw.cluster {
        items.push(security_group(c, &options.project));
        for r in &c.ingress {
            items.push(rule(fw, GroupRef::Cluster, r, Direction::Ingress));
        }
        for r in &c.egress {
            items.push(rule(fw, GroupRef::Cluster, r, Direction::Egress));
        }
    }
    items
}

fn security_group(g: &Group, project: &str) -> Item {
    let name = format!("{project}-{}", g.name);
    Item::new(
        Block::builder("resource")
            .add_label("aws_security_group")
            .add_label(g.label.as_str())
            .add_attribute(("name", name.as_str()))
            .add_attribute(("description", g.description.as_str()))
            .add_attribute(("vpc_id", reference("var", &["vpc_id"])))
            .add_attribute(("tags", object([("Name", name.as_str().into())])))
            .build(),
    )
}

/// The variable holding node `g`'s subnet.
fn subnet_variable(g: &Group) -> String {
    format!("subnet_id_{}", g.key)
}

fn interface(fw: &Firewall, i: usize) -> Item {
    let g = &fw.nodes[i];
    let mut groups = vec![group_id(fw, GroupRef::Node(i))];
    if fw.cluster.is_some() {
        groups.push(group_id(fw, GroupRef::Cluster));
    }
    Item::new(
        Block::builder("resource")
            .add_label("aws_network_interface")
            .add_label(g.label.as_str())
            .add_attribute((
                "description",
                firewall::aws_text(&format!(
                    "Primary interface of node {}: attach it to the instance as device 0",
                    g.name
                ))
                .as_str(),
            ))
            .add_attribute(("subnet_id", reference("var", &[&subnet_variable(g)])))
            .add_attribute(("security_groups", Expression::Array(groups)))
            .build(),
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Ingress,
    Egress,
}

fn rule(fw: &Firewall, owner: GroupRef, r: &Rule, direction: Direction) -> Item {
    let kind = match direction {
        Direction::Ingress => "aws_vpc_security_group_ingress_rule",
        Direction::Egress => "aws_vpc_security_group_egress_rule",
    };
    let mut b = Block::builder("resource")
        .add_label(kind)
        .add_label(r.label.as_str())
        .add_attribute(("security_group_id", group_id(fw, owner)))
        .add_attribute(("description", r.description.as_str()))
        .add_attribute(("ip_protocol", r.proto.aws()));
    if let (Some(port), true) = (r.port, r.proto != Proto::Esp) {
        b = b
            .add_attribute(("from_port", i64::from(port)))
            .add_attribute(("to_port", i64::from(port)));
    }
    b = match &r.peer {
        Peer::Cidr(net @ ipnet::IpNet::V4(_)) => b.add_attribute(("cidr_ipv4", net.to_string())),
        Peer::Cidr(net @ ipnet::IpNet::V6(_)) => b.add_attribute(("cidr_ipv6", net.to_string())),
        Peer::Group(g) => b.add_attribute(("referenced_security_group_id", group_id(fw, *g))),
    };
    Item {
        comments: r
            .skips
            .iter()
            // checkov reads `checkov:skip=ID:reason` from comments inside the
            // resource, up to the end of the line.
            .map(|(id, reason)| format!("checkov:skip={id}:{}", reason.replace(['\n', '\r'], " ")))
            .collect(),
        block: b.build(),
    }
}

fn variable(name: &str, description: &str, default: Option<&str>) -> Item {
    let mut b = Block::builder("variable")
        .add_label(name)
        .add_attribute(("description", description))
        .add_attribute(("type", Expression::Variable(Variable::unchecked("string"))));
    if let Some(d) = default {
        b = b.add_attribute(("default", d));
    }
    Item::new(b.build())
}

fn variables_tf(model: &Model, fw: &Firewall) -> Vec<Item> {
    let provider = model.provider.as_ref();
    let mut items = vec![
        variable(
            "region",
            "The AWS region to create the security groups in.",
            provider.and_then(|p| p.region.as_deref()),
        ),
        variable(
            "vpc_id",
            "The VPC the nodes run in; every security group is created in it.",
            provider.and_then(|p| p.vpc_id.as_deref()),
        ),
    ];
    for g in &fw.nodes {
        items.push(variable(
            &subnet_variable(g),
            &format!("The subnet of node {}'s network interface.", g.name),
            None,
        ));
    }
    items
}

fn outputs_tf(fw: &Firewall) -> Vec<Item> {
    let by_node = |resource: &str| {
        object(
            fw.nodes
                .iter()
                .map(|g| (g.name.as_str(), reference(resource, &[&g.label, "id"]))),
        )
    };
    let output = |name: &str, description: &str, value: Expression| {
        Item::new(
            Block::builder("output")
                .add_label(name)
                .add_attribute(("description", description))
                .add_attribute(("value", value))
                .build(),
        )
    };
    let mut items = vec![
        output(
            "security_group_ids",
            "The security group of each node, by node name.",
            by_node("aws_security_group"),
        ),
        output(
            "network_interface_ids",
            "The network interface of each node, by node name: attach it to the node's instance as device 0.",
            by_node("aws_network_interface"),
        ),
    ];
    if fw.cluster.is_some() {
        items.push(output(
            "cluster_security_group_id",
            "The group every swarm node holds; the cluster ports admit its holders only.",
            group_id(fw, GroupRef::Cluster),
        ));
    }
    items
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    /// Node names that collide as Terraform identifiers (`a-b`/`a_b`) or
    /// look like a generated prefix (`node_x` beside `x`) still give one
    /// resource, one variable and one output key each.
    #[test]
    fn colliding_node_names_give_distinct_resources_and_variables() {
        let text = "provider aws { region = \"eu-west-1\" }\nnode x { role = manager }\nnode node_x {}\nnode a-b {}\nnode a_b {}\n";
        let checked = crate::compile::compile_text("nodes.inf", text);
        let model = checked.model.expect("the program checks");
        let options = super::Options {
            project: "nodes".into(),
            source: "nodes.inf".into(),
        };
        let (artifacts, diagnostics) = super::emit(&model, &options);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        for a in &artifacts {
            let body: hcl::Body = hcl::from_str(&a.contents).expect("the file parses");
            let mut seen = HashSet::new();
            for b in body.blocks() {
                let key: Vec<&str> = b.labels().iter().map(|l| l.as_str()).collect();
                assert!(
                    seen.insert((b.identifier().to_string(), key.join("."))),
                    "{}: {} {key:?} twice",
                    a.path.display(),
                    b.identifier()
                );
            }
        }
        let variables = &artifacts[1].contents;
        for v in [
            "subnet_id_x",
            "subnet_id_node_x",
            "subnet_id_a_b",
            "subnet_id_a_b_2",
        ] {
            assert!(
                variables.contains(&format!("variable \"{v}\"")),
                "{v}:\n{variables}"
            );
        }
    }
}
