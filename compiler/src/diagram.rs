//! Drawings of a checked program for `infrac graph`: services coloured by
//! their widest effective exposure, networks, dependencies and routes, an
//! `internet` source for public ports and one per restricted range, and
//! the services with findings marked. DOT and Mermaid for people, JSON for
//! tools. Output is deterministic: the model is sorted by name.

use std::fmt::Write;

use serde::Serialize;

use crate::diagnostics::Diagnostic;
use crate::ir::{Exposure, Model, Service};

fn colour(e: Option<&Exposure>) -> &'static str {
    match e {
        Some(Exposure::Public) => "#d73a49",
        Some(Exposure::Restricted(_)) => "#e36209",
        Some(Exposure::Internal) => "#0366d6",
        Some(Exposure::Local) | None => "#22863a",
    }
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

fn label(s: &Service) -> String {
    let reach = s.reach().map_or("no ports".to_string(), |e| e.to_string());
    format!("{}\\n{} · {}", s.name, s.class.as_str(), reach)
}

fn id(prefix: &str, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{prefix}_{clean}")
}

/// Graphviz DOT.
pub fn dot(model: &Model, diagnostics: &[Diagnostic]) -> String {
    let marks = findings(model, diagnostics);
    let mut out = String::from(
        "digraph infrac {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n",
    );
    out.push_str("  internet [shape=doublecircle, label=\"internet\", color=\"#d73a49\"];\n");
    for n in &model.networks {
        let _ = writeln!(
            out,
            "  {} [shape=ellipse, style=dashed, label=\"network {}{}\"];",
            id("net", &n.name),
            n.name,
            if n.internal { " (internal)" } else { "" }
        );
    }
    let mut ranges: Vec<String> = Vec::new();
    for (i, s) in model.services.iter().enumerate() {
        let reach = s.reach();
        let bad = !marks[i].is_empty();
        let codes: Vec<&str> = marks[i].iter().map(|d| d.code.code()).collect();
        let extra = if bad {
            format!("\\n⚠ {}", codes.join(" "))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  {} [shape=box, style=\"rounded,filled\", fillcolor=\"{}\", fontcolor=white, penwidth={}, color=\"{}\", label=\"{}{}\"];",
            id("svc", &s.name),
            colour(reach.as_ref()),
            if bad { 4 } else { 1 },
            if bad { "#000000" } else { colour(reach.as_ref()) },
            label(s),
            extra
        );
        for n in &s.networks {
            let _ = writeln!(
                out,
                "  {} -> {} [style=dotted, arrowhead=none, color=gray];",
                id("svc", &s.name),
                id("net", &model.network(*n).name)
            );
        }
        for (d, _) in &s.depends {
            let _ = writeln!(
                out,
                "  {} -> {} [label=\"depends\"];",
                id("svc", &s.name),
                id("svc", &model.service(*d).name)
            );
        }
        for r in &s.routes {
            let restriction = r
                .restriction
                .as_ref()
                .map(|n| {
                    format!(
                        " restricted({})",
                        n.iter()
                            .map(|x| x.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {} -> {} [label=\"{} → :{}{}\", penwidth=2, color=\"{}\"];",
                id("svc", &s.name),
                id("svc", &model.service(r.target).name),
                r.matcher,
                r.port,
                restriction,
                colour(reach.as_ref())
            );
        }
        for p in &s.ports {
            match &p.declared {
                Exposure::Public => {
                    let _ = writeln!(
                        out,
                        "  internet -> {} [label=\":{}\", color=\"#d73a49\"];",
                        id("svc", &s.name),
                        p.host
                    );
                }
                Exposure::Restricted(nets) => {
                    let key = nets
                        .iter()
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>()
                        .join(", ");
                    if !ranges.contains(&key) {
                        ranges.push(key.clone());
                        let _ = writeln!(
                            out,
                            "  {} [shape=doublecircle, label=\"{}\", color=\"#e36209\"];",
                            id("range", &key),
                            key
                        );
                    }
                    let _ = writeln!(
                        out,
                        "  {} -> {} [label=\":{}\", color=\"#e36209\"];",
                        id("range", &key),
                        id("svc", &s.name),
                        p.host
                    );
                }
                _ => {}
            }
        }
    }
    out.push_str("}\n");
    out
}

/// A Mermaid flowchart (renders on GitHub and in mdBook with a plugin).
pub fn mermaid(model: &Model, diagnostics: &[Diagnostic]) -> String {
    let marks = findings(model, diagnostics);
    let mut out = String::from("flowchart LR\n  internet((internet))\n");
    for n in &model.networks {
        let _ = writeln!(
            out,
            "  {}{{{{\"network {}\"}}}}",
            id("net", &n.name),
            n.name
        );
    }
    for (i, s) in model.services.iter().enumerate() {
        let reach = s.reach();
        let warn = if marks[i].is_empty() {
            String::new()
        } else {
            format!(
                "<br/>⚠ {}",
                marks[i]
                    .iter()
                    .map(|d| d.code.code())
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        };
        let _ = writeln!(
            out,
            "  {}[\"{}<br/>{} · {}{}\"]",
            id("svc", &s.name),
            s.name,
            s.class.as_str(),
            reach
                .as_ref()
                .map_or("no ports".to_string(), |e| e.to_string()),
            warn
        );
        let _ = writeln!(
            out,
            "  style {} fill:{},color:#fff{}",
            id("svc", &s.name),
            colour(reach.as_ref()),
            if marks[i].is_empty() {
                ""
            } else {
                ",stroke:#000,stroke-width:4px"
            }
        );
        for n in &s.networks {
            let _ = writeln!(
                out,
                "  {} -.- {}",
                id("svc", &s.name),
                id("net", &model.network(*n).name)
            );
        }
        for (d, _) in &s.depends {
            let _ = writeln!(
                out,
                "  {} -->|depends| {}",
                id("svc", &s.name),
                id("svc", &model.service(*d).name)
            );
        }
        for r in &s.routes {
            let _ = writeln!(
                out,
                "  {} ==>|\"{} :{}\"| {}",
                id("svc", &s.name),
                r.matcher,
                r.port,
                id("svc", &model.service(r.target).name)
            );
        }
        for p in &s.ports {
            if matches!(p.declared, Exposure::Public) {
                let _ = writeln!(out, "  internet -->|:{}| {}", p.host, id("svc", &s.name));
            }
        }
    }
    out
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
