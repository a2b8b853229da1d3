//! A small YAML document model and emitter for the files infrac writes.
//!
//! Why not serde + a YAML serializer: generated files carry comments (the
//! security group that enforces a restricted port, why a default was
//! chosen), which serde cannot express, and the emitter is on the hot path
//! of `build` (the performance page measures it against a serde dump).
//! The output is block-style YAML 1.2 that is also valid YAML 1.1: a
//! string is written plain only when no YAML 1.1 or 1.2 reader could take
//! it for anything but that string; otherwise it is double-quoted with
//! JSON-compatible escapes. A test parses every generated file back with a
//! real YAML parser and compares it with the tree.

use std::fmt::Write;

/// A YAML node. Maps keep insertion order: the backends insert keys in the
/// order a person expects to read them.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Str(String),
    Int(i64),
    Bool(bool),
    Seq(Vec<Node>),
    Map(Map),
}

/// A map with an optional comment line above each entry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map {
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub value: Node,
    pub comment: Option<String>,
}

impl Map {
    pub fn new() -> Self {
        Map::default()
    }

    /// Adds `key: value`.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Node>) -> &mut Self {
        self.entries.push(Entry {
            key: key.into(),
            value: value.into(),
            comment: None,
        });
        self
    }

    /// Adds `key: value` with a `# comment` line above it.
    pub fn insert_commented(
        &mut self,
        key: impl Into<String>,
        value: impl Into<Node>,
        comment: impl Into<String>,
    ) -> &mut Self {
        self.entries.push(Entry {
            key: key.into(),
            value: value.into(),
            comment: Some(comment.into()),
        });
        self
    }

    /// Adds the entry only when there is a value.
    pub fn insert_some(&mut self, key: &str, value: Option<impl Into<Node>>) -> &mut Self {
        if let Some(v) = value {
            self.insert(key, v);
        }
        self
    }

    /// Adds the entry only when the sequence is not empty.
    pub fn insert_seq(&mut self, key: &str, items: Vec<Node>) -> &mut Self {
        if !items.is_empty() {
            self.insert(key, Node::Seq(items));
        }
        self
    }

    /// Adds the entry only when the map is not empty.
    pub fn insert_map(&mut self, key: &str, map: Map) -> &mut Self {
        if !map.entries.is_empty() {
            self.insert(key, Node::Map(map));
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries.iter().find(|e| e.key == key).map(|e| &e.value)
    }
}

impl From<&str> for Node {
    fn from(s: &str) -> Node {
        Node::Str(s.to_string())
    }
}
impl From<String> for Node {
    fn from(s: String) -> Node {
        Node::Str(s)
    }
}
impl From<&String> for Node {
    fn from(s: &String) -> Node {
        Node::Str(s.clone())
    }
}
impl From<i64> for Node {
    fn from(i: i64) -> Node {
        Node::Int(i)
    }
}
impl From<u16> for Node {
    fn from(i: u16) -> Node {
        Node::Int(i64::from(i))
    }
}
impl From<u32> for Node {
    fn from(i: u32) -> Node {
        Node::Int(i64::from(i))
    }
}
impl From<bool> for Node {
    fn from(b: bool) -> Node {
        Node::Bool(b)
    }
}
impl From<Map> for Node {
    fn from(m: Map) -> Node {
        Node::Map(m)
    }
}
impl From<Vec<Node>> for Node {
    fn from(v: Vec<Node>) -> Node {
        Node::Seq(v)
    }
}

/// A sequence of strings.
pub fn strings<S: AsRef<str>>(items: &[S]) -> Node {
    Node::Seq(
        items
            .iter()
            .map(|s| Node::Str(s.as_ref().to_string()))
            .collect(),
    )
}

/// Renders a document: leading comment lines, then the root map.
pub fn to_string(header: &[String], root: &Map) -> String {
    let mut out = String::new();
    write_document(&mut out, header, root);
    out
}

/// Appends a document to `out`: leading comment lines, then the root map.
/// A backend writing many documents renders them all into one buffer.
pub fn write_document(out: &mut String, header: &[String], root: &Map) {
    for line in header {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    write_map(out, root, 0);
}

fn indent(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut n = n;
    while n > SPACES.len() {
        out.push_str(SPACES);
        n -= SPACES.len();
    }
    out.push_str(&SPACES[..n]);
}

fn write_map(out: &mut String, map: &Map, level: usize) {
    for e in &map.entries {
        if let Some(c) = &e.comment {
            for line in c.lines() {
                indent(out, level);
                out.push_str("# ");
                out.push_str(line);
                out.push('\n');
            }
        }
        indent(out, level);
        write_key(out, &e.key, level);
        write_value(out, &e.value, level);
    }
}

/// The longest implicit key YAML allows, as written (quotes and escapes
/// included): "at most 1024 Unicode characters". Counted in bytes, which
/// are never fewer, so no reader that counts either way refuses it.
const IMPLICIT_KEY_MAX: usize = 1024;

/// Writes `key:` for an entry whose key starts at column `level`. A key
/// longer than an implicit key may be (a service named with 1,100
/// characters) is written in the explicit form, `? key` and then `:` on
/// the next line at the same column, which holds a key of any length.
fn write_key(out: &mut String, key: &str, level: usize) {
    let start = out.len();
    write_scalar_str(out, key);
    if out.len() - start > IMPLICIT_KEY_MAX {
        out.insert_str(start, "? ");
        out.push('\n');
        indent(out, level);
    }
    out.push(':');
}

/// Writes what follows `key:` or `- `, including the newline.
fn write_value(out: &mut String, value: &Node, level: usize) {
    match value {
        Node::Map(m) if m.entries.is_empty() => out.push_str(" {}\n"),
        Node::Seq(s) if s.is_empty() => out.push_str(" []\n"),
        Node::Map(m) => {
            out.push('\n');
            write_map(out, m, level + 2);
        }
        Node::Seq(items) => {
            out.push('\n');
            write_seq(out, items, level + 2);
        }
        scalar => {
            out.push(' ');
            write_scalar(out, scalar);
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, items: &[Node], level: usize) {
    for item in items {
        indent(out, level);
        out.push('-');
        match item {
            Node::Map(m) if !m.entries.is_empty() => {
                // The first entry shares the dash's line; the rest align under it.
                let mut first = true;
                for e in &m.entries {
                    if let Some(c) = &e.comment {
                        if !first {
                            for line in c.lines() {
                                indent(out, level + 2);
                                out.push_str("# ");
                                out.push_str(line);
                                out.push('\n');
                            }
                        }
                    }
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        indent(out, level + 2);
                    }
                    write_key(out, &e.key, level + 2);
                    write_value(out, &e.value, level + 2);
                }
            }
            other => write_value(out, other, level),
        }
    }
}

fn write_scalar(out: &mut String, node: &Node) {
    match node {
        Node::Str(s) => write_scalar_str(out, s),
        Node::Int(i) => write_int(out, *i),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Map(_) | Node::Seq(_) => unreachable!("collections are written by write_value"),
    }
}

/// Writes a decimal integer without the formatting machinery (ports and
/// counts are most of the numbers in a build): `itoa` formats into a
/// buffer on the stack.
fn write_int(out: &mut String, i: i64) {
    out.push_str(itoa::Buffer::new().format(i));
}

/// Writes a string plain when that is unambiguous, else double-quoted.
pub fn write_scalar_str(out: &mut String, s: &str) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else {
        write_quoted(out, s);
    }
}

fn write_quoted(out: &mut String, s: &str) {
    crate::escape::quote_into(out, s, |out, c| match c {
        c if (c as u32) < 0x20
            || c == '\u{7f}'
            || c == '\u{85}'
            || c == '\u{2028}'
            || c == '\u{2029}'
            || c == '\u{feff}' =>
        {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => out.push(c),
    });
}

/// Words YAML 1.1 or 1.2 read as booleans or null.
const RESERVED: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
    "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~", "",
];

/// Whether `s` reads back as the same string when written plain, in both
/// YAML 1.1 and 1.2: a conservative whitelist of characters, no leading
/// indicator, nothing that looks like a number, date, boolean or null.
fn is_plain_safe(s: &str) -> bool {
    // Every reserved word is at most 5 bytes long.
    if s.len() > 200 || (s.len() <= 5 && RESERVED.contains(&s)) {
        return false;
    }
    let bytes = s.as_bytes();
    let first = bytes[0];
    if !(first.is_ascii_alphabetic() || first == b'/' || first == b'_') {
        // Digits, `.`, `-`, `+` may start numbers (`1e3`, `.5`, `-1`, `0x1`).
        return false;
    }
    if bytes.last() == Some(&b':') || bytes.last() == Some(&b' ') {
        return false;
    }
    let mut prev = 0u8;
    for &b in bytes {
        let ok = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'_' | b'-' | b'.' | b'/' | b'@' | b'=' | b'+' | b',' | b' ' | b':'
            );
        if !ok {
            return false;
        }
        // `: ` starts a mapping value; ` #` a comment; `, ` is fine in block style.
        if (prev == b':' && b == b' ') || (prev == b' ' && b == b'#') {
            return false;
        }
        prev = b;
    }
    // Sexagesimal numbers of YAML 1.1 (`1:20`) start with a digit and were
    // excluded above; so were `.inf` and `.nan`.
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_quoted() {
        let cases = [
            ("nginx:1.27-alpine", "nginx:1.27-alpine"),
            ("127.0.0.1:9090:9090", "\"127.0.0.1:9090:9090\""),
            ("yes", "\"yes\""),
            ("on", "\"on\""),
            ("8080", "\"8080\""),
            ("", "\"\""),
            ("a: b", "\"a: b\""),
            ("a #b", "\"a #b\""),
            ("-x", "\"-x\""),
            ("say \"hi\"\n", "\"say \\\"hi\\\"\\n\""),
            ("/run/secrets/db", "/run/secrets/db"),
            ("node.role == worker", "node.role == worker"),
            ("$$HOME", "\"$$HOME\""),
        ];
        for (input, want) in cases {
            let mut out = String::new();
            write_scalar_str(&mut out, input);
            assert_eq!(out, want, "{input:?}");
        }
    }

    /// Reads `text` back with a YAML 1.2 reader as this module's tree.
    fn read_back(text: &str) -> Node {
        fn node(y: &yaml_rust2::Yaml) -> Node {
            use yaml_rust2::Yaml;
            match y {
                Yaml::String(s) => Node::Str(s.clone()),
                Yaml::Integer(i) => Node::Int(*i),
                Yaml::Boolean(b) => Node::Bool(*b),
                Yaml::Array(items) => Node::Seq(items.iter().map(node).collect()),
                Yaml::Hash(h) => {
                    let mut m = Map::new();
                    for (k, v) in h {
                        m.insert(k.as_str().expect("string keys"), node(v));
                    }
                    Node::Map(m)
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        let docs =
            yaml_rust2::YamlLoader::load_from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        node(&docs[0])
    }

    #[test]
    fn keys_longer_than_an_implicit_key_are_written_explicitly() {
        // Issue 15.6: a 1,100-character service name made compose.yaml
        // and stack.yml unreadable.
        let long = "s".repeat(1100);
        let quoted_long = format!("{}:x", "q".repeat(1030));
        let mut inner = Map::new();
        inner
            .insert("image", "redis:7.4")
            .insert(long.as_str(), 1i64);
        let mut item = Map::new();
        item.insert(long.as_str(), "first")
            .insert(quoted_long.as_str(), strings(&["a"]));
        let mut root = Map::new();
        root.insert(long.as_str(), inner.clone())
            .insert(quoted_long.as_str(), Map::new())
            .insert("items", Node::Seq(vec![Node::Map(item)]))
            .insert("short", "kept");
        let text = to_string(&[], &root);
        // Past 200 characters a string is quoted; the key is explicit.
        assert!(
            text.contains(&format!("? \"{long}\"\n:\n  image: redis:7.4")),
            "{text}"
        );
        assert!(text.contains("\nshort: kept\n"), "{text}");
        assert_eq!(read_back(&text), Node::Map(root));
        // At the limit (1,022 characters and two quotes) the key stays
        // implicit.
        let mut edge = Map::new();
        edge.insert("e".repeat(IMPLICIT_KEY_MAX - 2).as_str(), 1i64);
        let text = to_string(&[], &edge);
        assert!(!text.starts_with('?'));
        assert_eq!(read_back(&text), Node::Map(edge));
    }

    #[test]
    fn integers() {
        for i in [0i64, 7, 10, 443, 65535, -1, -20, i64::MAX, i64::MIN] {
            let mut out = String::new();
            write_int(&mut out, i);
            assert_eq!(out, i.to_string());
        }
    }

    #[test]
    fn deep_indentation() {
        let mut out = String::new();
        indent(&mut out, 150);
        assert_eq!(out, " ".repeat(150));
    }

    #[test]
    fn nested_document() {
        let mut inner = Map::new();
        inner
            .insert("image", "redis:7.4")
            .insert("ports", strings(&["127.0.0.1:6379:6379"]));
        let mut item = Map::new();
        item.insert("target", 443u16).insert("published", 443u16);
        inner.insert("long", Node::Seq(vec![Node::Map(item)]));
        let mut services = Map::new();
        services.insert_commented("cache", inner, "a comment");
        let mut root = Map::new();
        root.insert("services", services)
            .insert("empty", Map::new());
        let text = to_string(&["header".to_string()], &root);
        assert_eq!(
            text,
            "# header\nservices:\n  # a comment\n  cache:\n    image: redis:7.4\n    ports:\n      - \"127.0.0.1:6379:6379\"\n    long:\n      - target: 443\n        published: 443\nempty: {}\n"
        );
    }
}
