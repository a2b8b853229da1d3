//! `infrac graph` drawings read back: the DOT output parsed by an
//! independent DOT parser (graphviz-rust) and the Mermaid output by a
//! strict reader of the statements the writer uses, then compared with
//! the model: one node per entity with a unique id, every edge between the
//! nodes it names, and every label reading back as the user's text. The
//! regressions (`a-b` and `a_b` sharing one id, a quote in a route host
//! ending the DOT string) are cases of the same property.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use graphviz_rust::dot_structures::{Attribute, Edge, EdgeTy, Graph, Id, Stmt, Vertex};
use proptest::prelude::*;

/// What the drawing shows, read back from either format.
#[derive(Debug, Default)]
struct Read {
    /// Node id → decoded label, each id once.
    nodes: BTreeMap<String, String>,
    /// (from, to, decoded label or "") for every edge.
    edges: Vec<(String, String, String)>,
}

impl Read {
    fn node(&mut self, id: String, label: String) {
        let again = self.nodes.insert(id.clone(), label);
        assert!(again.is_none(), "node {id} is declared twice");
    }

    /// The id of the one node whose label's first line is `first`.
    fn id_of(&self, prefix: &str, first: &str) -> String {
        let found: Vec<&String> = self
            .nodes
            .iter()
            .filter(|(_, l)| l.split('\n').next() == Some(first))
            .map(|(id, _)| id)
            .filter(|id| id.starts_with(prefix))
            .collect();
        assert_eq!(found.len(), 1, "nodes labelled {first:?}: {found:?}");
        found[0].clone()
    }

    fn check_edges_join_nodes(&self) {
        for (from, to, _) in &self.edges {
            assert!(self.nodes.contains_key(from), "edge from undeclared {from}");
            assert!(self.nodes.contains_key(to), "edge to undeclared {to}");
        }
    }
}

fn plain_id(id: &Id) -> String {
    match id {
        Id::Plain(s) => s.clone(),
        other => panic!("node ids are plain, not {other:?}"),
    }
}

/// A DOT quoted string as the characters a label shows: the quotes off,
/// `\"` and `\\` unescaped, `\n` a line break, entities decoded.
fn dot_text(id: &Id) -> String {
    let Id::Escaped(quoted) = id else {
        panic!("labels are quoted, not {id:?}")
    };
    let inner = quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .expect("a quoted string");
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some(e @ ('"' | '\\')) => out.push(e),
                e => panic!("unexpected escape \\{e:?} in {quoted}"),
            },
            c => out.push(c),
        }
    }
    decode_entities(&out, '&')
}

/// `&amp;` and `&#N;` (DOT) or `#N;` (Mermaid) back to characters; any
/// other `&` or `#` is unescaped text, which the writers never leave.
fn decode_entities(text: &str, start: char) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(start) {
        out.push_str(&rest[..i]);
        let tail = &rest[i + start.len_utf8()..];
        let end = tail
            .find(';')
            .unwrap_or_else(|| panic!("bare {start} in {text:?}"));
        let entity = &tail[..end];
        let c = match entity {
            "amp" if start == '&' => '&',
            e => {
                let digits = e.strip_prefix('#').filter(|_| start == '&').unwrap_or(e);
                let n: u32 = digits
                    .parse()
                    .unwrap_or_else(|_| panic!("unescaped {start} in {text:?}"));
                char::from_u32(n).expect("a character")
            }
        };
        out.push(c);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

fn label_of(attributes: &[Attribute]) -> String {
    attributes
        .iter()
        .find(|Attribute(k, _)| *k == Id::Plain("label".into()))
        .map(|Attribute(_, v)| dot_text(v))
        .unwrap_or_default()
}

fn read_dot(text: &str) -> Read {
    let graph = graphviz_rust::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let Graph::DiGraph { stmts, .. } = graph else {
        panic!("a digraph")
    };
    let mut read = Read::default();
    for stmt in stmts {
        match stmt {
            Stmt::Node(n) => read.node(plain_id(&n.id.0), label_of(&n.attributes)),
            Stmt::Edge(Edge {
                ty: EdgeTy::Pair(Vertex::N(a), Vertex::N(b)),
                attributes,
            }) => read
                .edges
                .push((plain_id(&a.0), plain_id(&b.0), label_of(&attributes))),
            Stmt::Attribute(_) | Stmt::GAttribute(_) => {}
            other => panic!("unexpected statement {other:?}"),
        }
    }
    read
}

/// A Mermaid id as the writer makes them: bare, safe in any position.
fn mermaid_id(s: &str) -> String {
    assert!(
        s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "Mermaid id {s:?}"
    );
    assert!(!["end", "graph", "subgraph", "style"].contains(&s), "{s}");
    s.to_string()
}

/// A Mermaid `"..."` label's inside: it ends at the first `"`, so it must
/// hold none, nor a raw `<`/`&`/`` ` ``/`%` (HTML, Markdown, comments) or
/// control character; `<br/>` is the writer's own line break.
fn mermaid_text(inner: &str) -> String {
    let lines: Vec<&str> = inner.split("<br/>").collect();
    for line in &lines {
        for bad in ['"', '<', '>', '&', '`', '%'] {
            assert!(!line.contains(bad), "raw {bad:?} in label {inner:?}");
        }
        assert!(!line.chars().any(char::is_control), "control in {inner:?}");
    }
    decode_entities(&lines.join("\n"), '#')
}

/// `"S"` at the start of `s`: the label and what follows it.
fn quoted(s: &str) -> (String, &str) {
    let body = s.strip_prefix('"').expect("a quoted label");
    let end = body.find('"').expect("a closing quote");
    (mermaid_text(&body[..end]), &body[end + 1..])
}

fn read_mermaid(text: &str) -> Read {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("flowchart LR"));
    let mut read = Read::default();
    for line in lines {
        let line = line
            .strip_prefix("  ")
            .unwrap_or_else(|| panic!("{line:?}"));
        if let Some(style) = line.strip_prefix("style ") {
            let (id, rest) = style.split_once(' ').expect("style ID STYLE");
            assert!(read.nodes.contains_key(&mermaid_id(id)), "style of {id}");
            assert!(rest.starts_with("fill:#"), "{line}");
            continue;
        }
        let cut = line
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or_else(|| panic!("{line}"));
        let (id, rest) = (mermaid_id(&line[..cut]), &line[cut..]);
        if let Some(edge) = rest.strip_prefix(' ') {
            // FROM ARROW TO, FROM ARROW|LABEL| TO or FROM ARROW|"LABEL"| TO
            let (arrow, rest) = edge.split_at(3);
            assert!(["-.-", "-->", "==>"].contains(&arrow), "{line}");
            let (label, to) = if let Some(to) = rest.strip_prefix(' ') {
                (String::new(), to)
            } else if let Some(q) = rest.strip_prefix('|').filter(|q| q.starts_with('"')) {
                let (label, after) = quoted(q);
                (label, after.strip_prefix("| ").expect("| TO"))
            } else {
                let inner = rest.strip_prefix('|').expect("|LABEL|");
                let (label, to) = inner.split_once("| ").expect("|LABEL| TO");
                (label.to_string(), to)
            };
            read.edges.push((id, mermaid_id(to), label));
            continue;
        }
        let (open, close) = [("[", "]"), ("{{", "}}"), ("((", "))")]
            .into_iter()
            .find(|(o, _)| rest.starts_with(o))
            .unwrap_or_else(|| panic!("{line}"));
        let inside = &rest[open.len()..];
        let (label, after) = if inside.starts_with('"') {
            quoted(inside)
        } else {
            let end = inside.find(close).expect("a closing bracket");
            (inside[..end].to_string(), &inside[end..])
        };
        assert_eq!(after, close, "{line}");
        read.node(id, label);
    }
    read
}

#[derive(Debug)]
struct Program {
    services: Vec<String>,
    networks: Vec<String>,
    /// (from, to, host): service indices and the route's host.
    routes: Vec<(usize, usize, String)>,
}

impl Program {
    fn text(&self) -> String {
        let mut out = String::new();
        for n in &self.networks {
            out.push_str(&format!("network {n} {{}}\n"));
        }
        let nets = self.networks.join(", ");
        for (i, s) in self.services.iter().enumerate() {
            out.push_str(&format!(
                "service {s} {{\n  image = \"nginx:1.27\"\n  networks = [{nets}]\n  port 80 internal\n"
            ));
            if i == 0 {
                out.push_str("  port 443 public\n");
            }
            for (from, to, host) in &self.routes {
                if *from == i {
                    let target = &self.services[*to];
                    out.push_str(&format!(
                        "  route {} -> {target}:80\n",
                        infrac::syntax::print::quote(host)
                    ));
                }
            }
            out.push_str("}\n");
        }
        out
    }

    /// Draws the program in both formats and checks each against it.
    fn check_drawings(&self) {
        let text = self.text();
        let (checked, sources) = check_text("graph.inf", &text);
        let model = checked
            .drawable()
            .unwrap_or_else(|| panic!("{text}\n{}", render_plain(&checked, &sources)));
        let dot = infrac::diagram::dot(model, &checked.diagnostics);
        let mermaid = infrac::diagram::mermaid(model, &checked.diagnostics);
        self.check(&read_dot(&dot), " → ", &dot);
        self.check(&read_mermaid(&mermaid), " ", &mermaid);
    }

    fn check(&self, read: &Read, before_port: &str, drawing: &str) {
        read.check_edges_join_nodes();
        // One node per entity: internet, each network, each service
        // (and DOT's range sources, none here).
        assert_eq!(
            read.nodes.len(),
            1 + self.networks.len() + self.services.len(),
            "{drawing}"
        );
        let ids: Vec<String> = self
            .services
            .iter()
            .map(|s| read.id_of("svc_", s))
            .collect();
        let unique: BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "service ids {ids:?}");
        for n in &self.networks {
            read.id_of("net_", &format!("network {n}"));
        }
        for (from, to, host) in &self.routes {
            let label = format!("{host}{before_port}:80");
            let found = read
                .edges
                .iter()
                .filter(|(a, b, l)| *a == ids[*from] && *b == ids[*to] && *l == label)
                .count();
            let written = self
                .routes
                .iter()
                .filter(|r| (&r.0, &r.1, &r.2) == (from, to, host))
                .count();
            assert_eq!(found, written, "route {label:?} {from}->{to} in\n{drawing}");
        }
    }
}

#[test]
fn names_that_differ_only_by_dash_or_underscore_are_two_nodes() {
    let program = Program {
        services: vec!["a-b".into(), "a_b".into()],
        networks: vec!["n-1".into(), "n_1".into()],
        routes: vec![(0, 1, "x.example.com".into())],
    };
    program.check_drawings();
    // Read back, the route is an edge between two different nodes.
    let (checked, _) = check_text("graph.inf", &program.text());
    let model = checked.drawable().expect("checks");
    let dot = read_dot(&infrac::diagram::dot(model, &checked.diagnostics));
    let route = dot
        .edges
        .iter()
        .find(|(_, _, l)| l.starts_with("x.example.com"))
        .expect("the route");
    assert_ne!(route.0, route.1, "the route became a self-loop");
}

#[test]
fn a_quote_in_a_route_host_stays_inside_its_label() {
    Program {
        services: vec!["proxy".into(), "web".into()],
        networks: vec!["edge".into()],
        routes: vec![(0, 1, "a\" b=\"c\\\" & #1; <b> %% `x` \n\ttab".into())],
    }
    .check_drawings();
}

/// Names as the grammar takes them, from a small alphabet so that names
/// differing only by `-` and `_` come up often.
fn name() -> impl Strategy<Value = String> {
    "[ab][ab_-]{0,4}".prop_filter("the grammar", |s| !s.ends_with('-'))
}

/// Hosts with the characters each format treats specially.
fn host() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('"'),
            Just('\\'),
            Just('\n'),
            Just('\t'),
            Just('\r'),
            Just('#'),
            Just(';'),
            Just('&'),
            Just('<'),
            Just('>'),
            Just('|'),
            Just('%'),
            Just('`'),
            Just('['),
            Just('}'),
            Just(' '),
            Just('é'),
            Just('→'),
            proptest::char::range('a', 'z'),
        ],
        0..12,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

fn program() -> impl Strategy<Value = Program> {
    (
        proptest::collection::btree_set(name(), 1..5),
        proptest::collection::btree_set(name(), 1..3),
        proptest::collection::vec((0usize..8, 0usize..8, host()), 0..4),
    )
        .prop_map(|(services, networks, routes)| {
            let services: Vec<String> = services.into_iter().collect();
            let n = services.len();
            Program {
                routes: routes
                    .into_iter()
                    .map(|(a, b, h)| (a % n, b % n, h))
                    .collect(),
                services,
                networks: networks.into_iter().collect(),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_drawing_reads_back_as_its_program(p in program()) {
        p.check_drawings();
    }
}
