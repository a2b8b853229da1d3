//! A YAML tree that remembers where every node was written, built from
//! yaml-rust2's event parser (its own loader drops positions). Anchors and
//! aliases are resolved as the tree is built, merge keys (`<<: *base`) are
//! applied, and a key given twice is an error, as in `docker compose`.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diagnostics::{Code, Diagnostic};
use crate::span::{FileId, Span};

/// How many nodes alias expansion may create before the file is refused
/// (a "billion laughs" file would otherwise exhaust memory).
const MAX_NODES: usize = 2_000_000;

/// How deep collections may nest.
const MAX_DEPTH: usize = 200;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: Kind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// A scalar's text; `plain` when it was written without quotes, which
    /// is when `null`, `true` or `8080` mean something other than text.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// `~`, `null` or nothing, written plain.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { text, plain: true }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// A scalar's text (a null is `None`).
    pub fn scalar(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } if !self.is_null() => Some(text),
            _ => None,
        }
    }

    pub fn entries(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn items(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()?
            .iter()
            .find(|(k, _)| k.scalar() == Some(key))
            .map(|(_, v)| v)
    }

    /// A plain `true`/`false` (YAML 1.1's yes/no/on/off too, which compose
    /// files still use).
    pub fn boolean(&self) -> Option<bool> {
        let Kind::Scalar { text, .. } = &self.kind else {
            return None;
        };
        match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => Some(true),
            "false" | "no" | "off" => Some(false),
            _ => None,
        }
    }

    /// How messages name the kind of a node.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            _ if self.is_null() => "nothing (null)",
            Kind::Scalar { .. } => "a scalar",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }

    fn size(&self) -> usize {
        match &self.kind {
            Kind::Scalar { .. } => 1,
            Kind::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            Kind::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.size() + v.size())
                    .sum::<usize>()
            }
        }
    }
}

/// What parsing found: the first document (a null node for an empty
/// file) and warnings about what was skipped (later documents).
pub(crate) struct Parsed {
    pub root: Node,
    pub warnings: Vec<Diagnostic>,
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: usize,
        flow: bool,
        anchor: usize,
    },
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        start: usize,
        flow: bool,
        anchor: usize,
    },
}

struct Builder<'t> {
    file: FileId,
    text: &'t str,
    line_starts: Vec<usize>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    root: Option<Node>,
}

/// Parses `text` (the file `file` of the sources) into a positioned tree.
pub(crate) fn parse(file: FileId, text: &str) -> Result<Parsed, Diagnostic> {
    let mut b = Builder {
        file,
        text,
        line_starts: std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        root: None,
    };
    let mut parser = Parser::new_from_str(text);
    let mut warnings = Vec::new();
    loop {
        let (event, mark) = parser.next_token().map_err(|e| {
            let at = b.offset(*e.marker());
            Diagnostic::new(
                Code::ImportInvalid,
                b.span(at, at),
                format!("the YAML does not parse: {}", e.info()),
            )
            .label("here")
            .help("fix the file until `docker compose config -q` accepts it, then import again")
        })?;
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart if b.root.is_some() => {
                let at = b.offset(mark);
                warnings.push(
                    Diagnostic::new(
                        Code::ImportLoss,
                        b.span(at, at),
                        "only the first YAML document is imported",
                    )
                    .label("this document and the ones after it are not imported")
                    .help("split the documents into files and import each one"),
                );
                break;
            }
            other => b.event(other, mark)?,
        }
    }
    let root = b.root.unwrap_or(Node {
        kind: Kind::Scalar {
            text: String::new(),
            plain: true,
        },
        span: Span::new(file, 0, 0),
    });
    Ok(Parsed { root, warnings })
}

impl Builder<'_> {
    /// The byte offset of a marker. yaml-rust2 counts columns in
    /// characters, so the column is walked within its line.
    fn offset(&self, m: Marker) -> usize {
        let line = m.line().max(1) - 1;
        let Some(&start) = self.line_starts.get(line) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        rest.char_indices()
            .nth(m.col())
            .map_or(self.text.len(), |(i, _)| start + i)
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end.max(start))
    }

    fn invalid(&self, at: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Code::ImportInvalid, self.span(at, at + 1), message).label("here")
    }

    fn in_flow(&self) -> bool {
        self.stack.iter().any(|f| match f {
            Frame::Seq { flow, .. } | Frame::Map { flow, .. } => *flow,
        })
    }

    fn count(&mut self, n: usize, at: usize) -> Result<(), Diagnostic> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(self.invalid(
                at,
                "the YAML's aliases expand to more than two million nodes",
            ));
        }
        Ok(())
    }

    fn event(&mut self, event: Event, mark: Marker) -> Result<(), Diagnostic> {
        let at = self.offset(mark);
        match event {
            Event::Scalar(text, style, anchor, _tag) => {
                self.count(1, at)?;
                let plain = style == TScalarStyle::Plain;
                let end = if plain && text.is_empty() {
                    at
                } else {
                    self.scalar_end(at, style)
                };
                let node = Node {
                    kind: Kind::Scalar { text, plain },
                    span: self.span(at, end),
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push(node)
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(self.invalid(at, "the YAML nests deeper than 200 levels"));
                }
                self.count(1, at)?;
                let flow = matches!(self.text.as_bytes().get(at), Some(b'[' | b'{'));
                let frame = if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        start: at,
                        flow,
                        anchor,
                    }
                } else {
                    Frame::Map {
                        entries: Vec::new(),
                        key: None,
                        start: at,
                        flow,
                        anchor,
                    }
                };
                self.stack.push(frame);
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let frame = self.stack.pop().expect("the parser balances collections");
                let (kind, start, flow, anchor, first, last) = match frame {
                    Frame::Seq {
                        items,
                        start,
                        flow,
                        anchor,
                    } => {
                        let first = items.first().map(|n| n.span.start as usize);
                        let last = items.last().map(|n| n.span.end as usize);
                        (Kind::Seq(items), start, flow, anchor, first, last)
                    }
                    Frame::Map {
                        entries,
                        start,
                        flow,
                        anchor,
                        ..
                    } => {
                        let first = entries.first().map(|(k, _)| k.span.start as usize);
                        let last = entries.last().map(|(_, v)| v.span.end as usize);
                        let entries = self.merge(entries)?;
                        (Kind::Map(entries), start, flow, anchor, first, last)
                    }
                };
                let span = if flow {
                    self.span(start, at + 1)
                } else {
                    let s = first.unwrap_or(start);
                    self.span(s, last.unwrap_or(s))
                };
                let node = Node { kind, span };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push(node)
            }
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id).cloned() else {
                    return Err(self.invalid(at, "an alias to an anchor that is not defined"));
                };
                self.count(node.size(), at)?;
                self.push(node)
            }
            Event::StreamStart
            | Event::DocumentStart
            | Event::DocumentEnd
            | Event::StreamEnd
            | Event::Nothing => Ok(()),
        }
    }

    fn push(&mut self, mut node: Node) -> Result<(), Diagnostic> {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => {
                    // An empty value's event sits at the next token: point
                    // at the end of its key instead.
                    if node.span.is_empty() && node.is_null() {
                        node.span =
                            Span::new(k.span.file, k.span.end as usize, k.span.end as usize);
                    }
                    entries.push((k, node));
                }
            },
        }
        Ok(())
    }

    /// Applies `<<` merge keys (keys of the mapping itself win, then the
    /// first merged mapping that has the key) and refuses repeated keys.
    fn merge(&self, entries: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, Diagnostic> {
        let mut out: Vec<(Node, Node)> = Vec::with_capacity(entries.len());
        let mut merged: Vec<(Node, Node)> = Vec::new();
        let mut seen: HashMap<String, Span> = HashMap::new();
        for (k, v) in entries {
            if k.scalar() == Some("<<") && matches!(&k.kind, Kind::Scalar { plain: true, .. }) {
                let sources: Vec<&Node> = match &v.kind {
                    Kind::Map(_) => vec![&v],
                    Kind::Seq(items) => items.iter().collect(),
                    _ => {
                        return Err(Diagnostic::new(
                            Code::ImportInvalid,
                            v.span,
                            "a merge key (`<<`) needs a mapping or a list of mappings",
                        )
                        .label(format!("found {}", v.describe())))
                    }
                };
                for source in sources {
                    let Some(source_entries) = source.entries() else {
                        return Err(Diagnostic::new(
                            Code::ImportInvalid,
                            source.span,
                            "a merge key (`<<`) lists something that is not a mapping",
                        )
                        .label(format!("found {}", source.describe())));
                    };
                    merged.extend(source_entries.iter().cloned());
                }
                continue;
            }
            if let Some(name) = key_text(&k) {
                if let Some(first) = seen.get(&name) {
                    return Err(Diagnostic::new(
                        Code::ImportInvalid,
                        k.span,
                        format!("the key `{name}` is given twice in one mapping"),
                    )
                    .label("given again here")
                    .secondary(*first, "first given here")
                    .help("docker compose refuses repeated keys; keep one"));
                }
                seen.insert(name, k.span);
            }
            out.push((k, v));
        }
        for (k, v) in merged {
            if let Some(name) = key_text(&k) {
                if seen.contains_key(&name) {
                    continue;
                }
                seen.insert(name, k.span);
            }
            out.push((k, v));
        }
        Ok(out)
    }

    /// Where the scalar that starts at `at` ends, for labels: the closing
    /// quote, the end of a plain scalar on its line, or a block scalar's
    /// indicator.
    fn scalar_end(&self, at: usize, style: TScalarStyle) -> usize {
        let bytes = self.text.as_bytes();
        match style {
            TScalarStyle::SingleQuoted => {
                let mut i = at + 1;
                while i < bytes.len() {
                    if bytes[i] == b'\'' {
                        if bytes.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        return i + 1;
                    }
                    i += 1;
                }
                bytes.len()
            }
            TScalarStyle::DoubleQuoted => {
                let mut i = at + 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b'"' => return i + 1,
                        _ => i += 1,
                    }
                }
                bytes.len()
            }
            TScalarStyle::Literal | TScalarStyle::Folded => (at + 1).min(bytes.len()),
            TScalarStyle::Plain => {
                let flow = self.in_flow();
                let mut end = at;
                let mut i = at;
                while i < bytes.len() {
                    let b = bytes[i];
                    if b == b'\n' || b == b'\r' {
                        break;
                    }
                    if b == b'#' && i > at && matches!(bytes[i - 1], b' ' | b'\t') {
                        break;
                    }
                    if b == b':'
                        && matches!(bytes.get(i + 1), None | Some(b' ' | b'\t' | b'\n' | b'\r'))
                    {
                        break;
                    }
                    if flow && matches!(b, b',' | b']' | b'}') {
                        break;
                    }
                    if !matches!(b, b' ' | b'\t') {
                        end = i + 1;
                    }
                    i += 1;
                }
                // Stay on a character boundary.
                while end < bytes.len() && !self.text.is_char_boundary(end) {
                    end += 1;
                }
                end
            }
        }
    }
}

/// A mapping key as text: scalars by their text, others not compared.
fn key_text(k: &Node) -> Option<String> {
    match &k.kind {
        Kind::Scalar { text, .. } => Some(text.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(text: &str) -> Node {
        parse(FileId(0), text).map(|p| p.root).expect("parses")
    }

    #[test]
    fn spans_point_at_scalars() {
        let text = "services:\n  web:\n    image: \"nginx:1\" # c\n    é: x\n";
        let root = tree(text);
        let web = root.get("services").and_then(|s| s.get("web")).unwrap();
        let image = web.get("image").unwrap();
        assert_eq!(&text[image.span.range()], "\"nginx:1\"");
        let x = web.get("é").unwrap();
        assert_eq!(&text[x.span.range()], "x");
    }

    #[test]
    fn anchors_and_merge_keys_resolve() {
        let root = tree("x: &base\n  a: 1\n  b: 2\ny:\n  <<: *base\n  b: 3\n");
        let y = root.get("y").unwrap();
        assert_eq!(y.get("a").and_then(Node::scalar), Some("1"));
        assert_eq!(y.get("b").and_then(Node::scalar), Some("3"));
    }

    #[test]
    fn repeated_keys_and_bad_yaml_are_errors() {
        let d = parse(FileId(0), "a: 1\na: 2\n").err().expect("refused");
        assert_eq!(d.code, Code::ImportInvalid);
        let d = parse(FileId(0), "a: [1\n").err().expect("refused");
        assert_eq!(d.code, Code::ImportInvalid);
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse(FileId(0), &text).is_err());
    }
}
