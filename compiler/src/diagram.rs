//! Drawings of a checked program for `infrac graph`: services coloured by
//! their widest effective exposure, networks, dependencies and routes, an
//! `internet` source for public ports and one per restricted range, and
//! the services with findings marked. DOT and Mermaid for people, JSON for
//! tools. Output is deterministic: the model is sorted by name.
//!
//! The model is first turned into a [`Drawing`], a format-neutral list of
//! what is drawn in the order it is written, with every node named by a
//! [`NodeId`] that is unique by construction. The writers (`dot`,
//! `mermaid`) then only translate items into their syntax, and every piece
//! of user text (names, route hosts) goes through the writer's escaping
//! wrapper, so no name or host can end a quoted label or merge two nodes.

mod dot;
mod mermaid;

use serde::Serialize;

use crate::diagnostics::Diagnostic;
use crate::ir::{Exposure, Model};

pub use dot::dot;
pub use mermaid::mermaid;

/// A node's identifier in DOT and Mermaid: only ASCII letters, digits and
/// `_`, starting with a letter, so both formats take it bare.
///
/// The encoding is injective: ASCII letters and digits stand for
/// themselves, `_` is written `__`, and any other character `c` is written
/// `_{hex}_` with `c`'s code point in lower-case hex. Those three token
/// shapes are prefix-free, so no two names (or kinds) share an id: `a-b`
/// is `svc_a_2d_b` and `a_b` is `svc_a__b`. Each kind's prefix (`svc_`,
/// `net_`, `range_`, and the bare `internet`) starts with its own letter,
/// so ids of different kinds differ too. Range sources are numbered.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NodeId(String);

impl NodeId {
    /// The one source of public and restricted traffic drawn for people.
    fn internet() -> NodeId {
        NodeId("internet".to_string())
    }

    fn of(kind: &str, name: &str) -> NodeId {
        use std::fmt::Write;
        let mut id = format!("{kind}_");
        for c in name.chars() {
            match c {
                c if c.is_ascii_alphanumeric() => id.push(c),
                '_' => id.push_str("__"),
                c => {
                    let _ = write!(id, "_{:x}_", u32::from(c));
                }
            }
        }
        NodeId(id)
    }

    /// The id of a service named `name`.
    pub fn service(name: &str) -> NodeId {
        NodeId::of("svc", name)
    }

    /// The id of a network named `name`.
    pub fn network(name: &str) -> NodeId {
        NodeId::of("net", name)
    }

    /// The id of the `n`th source drawn for a restricted range list (from
    /// 1, in the order the drawing meets them): the ranges themselves are
    /// the label, and their spelling would make a long, unreadable id.
    fn range(n: usize) -> NodeId {
        NodeId(format!("range_{n}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A service as drawn: a box with its name, class and reach.
#[derive(Debug)]
struct Boxed<'m> {
    id: NodeId,
    name: &'m str,
    class: &'static str,
    reach: Option<Exposure>,
    /// Codes of the service's findings; non-empty marks the service.
    codes: Vec<&'static str>,
}

impl Boxed<'_> {
    fn colour(&self) -> &'static str {
        colour(self.reach.as_ref())
    }

    fn reach_text(&self) -> String {
        reach_text(self.reach.as_ref())
    }

    /// Whether the service has findings (drawn marked).
    fn marked(&self) -> bool {
        !self.codes.is_empty()
    }
}

/// One thing drawn, in the order the writers emit it. Text fields hold
/// the user's text unescaped; each writer escapes it for its format.
#[derive(Debug)]
enum Item<'m> {
    Internet,
    Network {
        id: NodeId,
        name: &'m str,
        internal: bool,
    },
    Service(Boxed<'m>),
    /// A source for one restricted range list (DOT only).
    Range {
        id: NodeId,
        key: String,
    },
    Attached {
        service: NodeId,
        network: NodeId,
    },
    Depends {
        from: NodeId,
        to: NodeId,
    },
    Route {
        from: NodeId,
        to: NodeId,
        matcher: &'m str,
        port: u16,
        /// The route's restriction, the ranges joined by `, `.
        restriction: Option<String>,
        /// The reach of the routing service: the edge's colour.
        reach: Option<Exposure>,
    },
    /// A published port: from `internet` when public, from a range source
    /// when restricted.
    Published {
        from: NodeId,
        to: NodeId,
        host: u16,
        public: bool,
    },
}

/// The whole drawing, format-neutral.
#[derive(Debug)]
struct Drawing<'m> {
    items: Vec<Item<'m>>,
}

fn colour(e: Option<&Exposure>) -> &'static str {
    match e {
        Some(Exposure::Public) => "#d73a49",
        Some(Exposure::Restricted(_)) => "#e36209",
        Some(Exposure::Internal) => "#0366d6",
        Some(Exposure::Local) | None => "#22863a",
    }
}

fn reach_text(reach: Option<&Exposure>) -> String {
    reach.map_or("no ports".to_string(), |e| e.to_string())
}

fn range_key(nets: &[ipnet::IpNet]) -> String {
    nets.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The findings (unwaived errors and warnings) whose primary span lies in
/// each service's block.
fn findings<'d>(model: &Model, diagnostics: &'d [Diagnostic]) -> Vec<Vec<&'d Diagnostic>> {
    model
        .services
        .iter()
        .map(|s| {
            diagnostics
                .iter()
                .filter(|d| d.waived.is_none())
                .filter(|d| {
                    let p = d.primary.span;
                    p.file == s.span.file && p.start >= s.span.start && p.end <= s.span.end
                })
                .collect()
        })
        .collect()
}

impl<'m> Drawing<'m> {
    fn of(model: &'m Model, diagnostics: &[Diagnostic]) -> Drawing<'m> {
        let marks = findings(model, diagnostics);
        let mut items = vec![Item::Internet];
        for n in &model.networks {
            items.push(Item::Network {
                id: NodeId::network(&n.name),
                name: &n.name,
                internal: n.internal,
            });
        }
        let mut ranges: Vec<String> = Vec::new();
        for (s, marks) in model.services.iter().zip(&marks) {
            let id = NodeId::service(&s.name);
            let reach = s.reach();
            items.push(Item::Service(Boxed {
                id: id.clone(),
                name: &s.name,
                class: s.class.as_str(),
                reach: reach.clone(),
                codes: marks.iter().map(|d| d.code.code()).collect(),
            }));
            for n in &s.networks {
                items.push(Item::Attached {
                    service: id.clone(),
                    network: NodeId::network(&model.network(*n).name),
                });
            }
            for (d, _) in &s.depends {
                items.push(Item::Depends {
                    from: id.clone(),
                    to: NodeId::service(&model.service(*d).name),
                });
            }
            for r in &s.routes {
                items.push(Item::Route {
                    from: id.clone(),
                    to: NodeId::service(&model.service(r.target).name),
                    matcher: &r.matcher,
                    port: r.port,
                    restriction: r.restriction.as_deref().map(range_key),
                    reach: reach.clone(),
                });
            }
            for p in &s.ports {
                let public = matches!(p.declared, Exposure::Public);
                let from = match &p.declared {
                    Exposure::Public => NodeId::internet(),
                    Exposure::Restricted(nets) => {
                        let key = range_key(nets);
                        match ranges.iter().position(|r| *r == key) {
                            Some(i) => NodeId::range(i + 1),
                            None => {
                                ranges.push(key.clone());
                                let id = NodeId::range(ranges.len());
                                items.push(Item::Range {
                                    id: id.clone(),
                                    key,
                                });
                                id
                            }
                        }
                    }
                    _ => continue,
                };
                items.push(Item::Published {
                    from,
                    to: id.clone(),
                    host: p.host,
                    public,
                });
            }
        }
        Drawing { items }
    }
}

#[derive(Serialize)]
struct JsonPort {
    container: u16,
    protocol: &'static str,
    host: u16,
    declared: String,
    effective: String,
}

#[derive(Serialize)]
struct JsonRoute {
    matcher: String,
    target: String,
    port: u16,
    restriction: Option<Vec<String>>,
}

#[derive(Serialize)]
struct JsonService {
    name: String,
    image: String,
    class: &'static str,
    reach: Option<String>,
    networks: Vec<String>,
    depends: Vec<String>,
    ports: Vec<JsonPort>,
    routes: Vec<JsonRoute>,
    findings: Vec<&'static str>,
}

#[derive(Serialize)]
struct JsonNetwork {
    name: String,
    internal: bool,
}

#[derive(Serialize)]
struct JsonGraph {
    services: Vec<JsonService>,
    networks: Vec<JsonNetwork>,
}

/// The graph as JSON: services with ports (declared and effective), routes,
/// dependencies, networks and the codes of their findings.
pub fn json(model: &Model, diagnostics: &[Diagnostic]) -> String {
    let marks = findings(model, diagnostics);
    let graph = JsonGraph {
        services: model
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| JsonService {
                name: s.name.clone(),
                image: s.image.clone(),
                class: s.class.as_str(),
                reach: s.reach().map(|e| e.to_string()),
                networks: s
                    .networks
                    .iter()
                    .map(|n| model.network(*n).name.clone())
                    .collect(),
                depends: s
                    .depends
                    .iter()
                    .map(|(d, _)| model.service(*d).name.clone())
                    .collect(),
                ports: s
                    .ports
                    .iter()
                    .map(|p| JsonPort {
                        container: p.container,
                        protocol: p.protocol.as_str(),
                        host: p.host,
                        declared: p.declared.to_string(),
                        effective: p.effective.to_string(),
                    })
                    .collect(),
                routes: s
                    .routes
                    .iter()
                    .map(|r| JsonRoute {
                        matcher: r.matcher.clone(),
                        target: model.service(r.target).name.clone(),
                        port: r.port,
                        restriction: r
                            .restriction
                            .as_ref()
                            .map(|n| n.iter().map(|x| x.to_string()).collect()),
                    })
                    .collect(),
                findings: marks[i].iter().map(|d| d.code.code()).collect(),
            })
            .collect(),
        networks: model
            .networks
            .iter()
            .map(|n| JsonNetwork {
                name: n.name.clone(),
                internal: n.internal,
            })
            .collect(),
    };
    serde_json::to_string_pretty(&graph).expect("the graph serialises")
}

#[cfg(test)]
mod tests {
    use super::NodeId;

    #[test]
    fn ids_keep_apart_what_the_old_mapping_merged() {
        assert_eq!(NodeId::service("a-b").as_str(), "svc_a_2d_b");
        assert_eq!(NodeId::service("a_b").as_str(), "svc_a__b");
        assert_eq!(NodeId::service("db").as_str(), "svc_db");
        // A name cannot pose as another kind: kinds end in one `_`.
        assert_ne!(NodeId::service("x").as_str(), NodeId::network("x").as_str());
    }
}
