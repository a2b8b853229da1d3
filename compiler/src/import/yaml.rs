//! A YAML tree that remembers where every node was written, built from
//! the events of libyaml-safer (a safe port of libyaml, which Go's yaml.v3,
//! and so `docker compose`, and PyYAML descend from: it accepts the files
//! compose accepts, such as a flow list closed at its key's indentation).
//! Every event carries byte offsets, so a node's span costs O(1). Anchors
//! and aliases are resolved as the tree is built, merge keys (`<<: *base`)
//! are applied, and a key given twice is an error, as in `docker compose`.
//!
//! Nothing the parser reads is dropped without a word: a byte YAML does not
//! allow (NUL, other control characters) is an `E6001` at that byte, as
//! compose refuses the file too; a tag is applied where compose applies it
//! (`!!str`, `!!binary`, ...) and otherwise a `W6002 import-tag` at the tag.

use std::collections::HashMap;

use libyaml_safer::{Event, EventData, MappingStyle, ScalarStyle, SequenceStyle};

use crate::diagnostics::{Code, Diagnostic};
use crate::span::{FileId, Span};
/// How many nodes alias expansion may create before the file is refused
/// (a "billion laughs" file would otherwise exhaust memory), beyond one
/// per [`BYTES_PER_EXPANDED_NODE`] of the file. Nodes written out are not
/// counted: the file's size bounds them, and a stack of 100,000 services
/// has millions. Half a million expanded nodes take about 140 MB; two
/// million took 560 MB (the fuzzing page's adversarial run holds an
/// import of a small file to 200 MB).
const MAX_NODES: usize = 500_000;

/// A large file may expand proportionally more: a generated stack of
/// 100,000 services that each merge one extension anchor (46.5 MB)
/// expands about 700,000 nodes. One expanded node per 16 bytes keeps the
/// expansion within the order of the nodes the file writes out itself
/// (a node takes at least a few bytes), so a bomb still cannot grow
/// faster than the file, and a small file keeps the half-million bound.
const BYTES_PER_EXPANDED_NODE: usize = 16;

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
/// file) and warnings about what was skipped (later documents, tags).
pub(crate) struct Parsed {
    pub root: Node,
    pub warnings: Vec<Diagnostic>,
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: usize,
        flow: bool,
        anchor: Option<String>,
    },
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        start: usize,
        flow: bool,
        anchor: Option<String>,
    },
}

struct Builder {
    file: FileId,
    /// Bytes before the parser's input (a BOM): added to every offset.
    shift: usize,
    len: usize,
    stack: Vec<Frame>,
    anchors: HashMap<String, Node>,
    nodes: usize,
    root: Option<Node>,
    warnings: Vec<Diagnostic>,
}

/// Parses `text` (the file `file` of the sources) into a positioned tree.
pub(crate) fn parse(file: FileId, text: &str) -> Result<Parsed, Diagnostic> {
    // A BOM is allowed (compose reads it); the parser sees what follows.
    let shift = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let body = &text[shift..];
    if let Some((at, c)) = body.char_indices().find(|(_, c)| !printable(*c)) {
        let at = at + shift;
        return Err(Diagnostic::new(
            Code::ImportInvalid,
            Span::new(file, at, at + c.len_utf8()),
            format!(
                "the YAML holds the character U+{:04X}, which YAML does not allow",
                c as u32
            ),
        )
        .label("this byte cannot be read")
        .help("docker compose refuses the file too: remove the byte (a NUL often means the file was cut or is binary)"));
    }
    let mut b = Builder {
        file,
        shift,
        len: text.len(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        root: None,
        warnings: Vec::new(),
    };
    // libyaml-safer panics on a few inputs C libyaml reads (a scalar cut by
    // the end of the file, a tag followed by `,` in a flow list; found by
    // mutating the corpus). A final line break avoids the first; the
    // guard turns the rest into an E6001 at the last node read.
    let owned;
    let body = if body.ends_with('\n') {
        body
    } else {
        owned = format!("{body}\n");
        owned.as_str()
    };
    let mut last = shift;
    let outcome = quiet_panics(|| b.events(body, &mut last));
    match outcome {
        Some(result) => result?,
        None => {
            return Err(Diagnostic::new(
                Code::ImportInvalid,
                Span::new(file, last, last),
                "the YAML parser cannot read what follows here",
            )
            .label("after this point")
            .help("check the file with `docker compose config -q`; if compose reads it, report the file to infrac"))
        }
    }
    let root = b.root.unwrap_or(Node {
        kind: Kind::Scalar {
            text: String::new(),
            plain: true,
        },
        span: Span::new(file, 0, 0),
    });
    Ok(Parsed {
        root,
        warnings: b.warnings,
    })
}

/// Runs `f`, `None` if it panics, without the panic's message: the
/// process-wide hook is wrapped once so that it stays silent on a thread
/// inside this call and behaves as before everywhere else (a fuzzer's
/// abort-on-panic hook included).
fn quiet_panics<T>(f: impl FnOnce() -> T) -> Option<T> {
    use std::cell::Cell;
    use std::sync::Once;
    thread_local! {
        static QUIET: Cell<bool> = const { Cell::new(false) };
    }
    static WRAP: Once = Once::new();
    WRAP.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    result.ok()
}

/// The characters YAML 1.1 (libyaml, yaml.v3) allows in a stream.
fn printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// The core schema's tags: `tag:yaml.org,2002:NAME`.
const CORE: &str = "tag:yaml.org,2002:";

impl Builder {
    /// Feeds the events of `body` to the tree; `last` follows the offset
    /// of the last event, for a parser that gives up.
    fn events(&mut self, body: &str, last: &mut usize) -> Result<(), Diagnostic> {
        let mut input = body.as_bytes();
        let mut parser = libyaml_safer::Parser::new();
        parser.set_input_string(&mut input);
        loop {
            let event = parser.parse().map_err(|e| {
                let at = e.problem_mark().map_or(self.len, |m| self.offset(m.index));
                let what = match e.context() {
                    Some(context) => format!("{}, {context}", e.problem()),
                    None => e.problem().to_string(),
                };
                Diagnostic::new(
                    Code::ImportInvalid,
                    self.span(at, at),
                    format!("the YAML does not parse: {what}"),
                )
                .label("here")
                .help("fix the file until `docker compose config -q` accepts it, then import again")
            })?;
            *last = self.offset(event.start_mark.index);
            match event.data {
                EventData::StreamEnd => return Ok(()),
                EventData::DocumentStart { .. } if self.root.is_some() => {
                    let at = *last;
                    self.warnings.push(
                        Diagnostic::new(
                            Code::ImportLoss,
                            self.span(at, at),
                            "only the first YAML document is imported",
                        )
                        .label("this document and the ones after it are not imported")
                        .help("split the documents into files and import each one"),
                    );
                    return Ok(());
                }
                _ => self.event(event)?,
            }
        }
    }

    /// The byte offset in the file of a parser offset.
    fn offset(&self, index: u64) -> usize {
        (usize::try_from(index).unwrap_or(usize::MAX))
            .saturating_add(self.shift)
            .min(self.len)
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end.max(start))
    }

    fn invalid(&self, at: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Code::ImportInvalid, self.span(at, at + 1), message).label("here")
    }

    fn count(&mut self, n: usize, at: usize) -> Result<(), Diagnostic> {
        self.nodes += n;
        let most = MAX_NODES + self.len / BYTES_PER_EXPANDED_NODE;
        if self.nodes > most {
            return Err(self.invalid(
                at,
                format!("the YAML's aliases expand to more than {most} nodes"),
            ));
        }
        Ok(())
    }

    /// A tag the importer does not apply, reported at the node.
    fn unapplied_tag(&mut self, tag: &str, at: Span, why: &str) {
        let shown = tag
            .strip_prefix(CORE)
            .map_or(tag.to_string(), |t| format!("!!{t}"));
        let help = match shown.as_str() {
            "!reset" | "!override" => "compose's merge tags are not applied: the value is merged as if it were untagged; write the merged result in the file you import",
            _ => "remove the tag, or write the value compose should read",
        };
        self.warnings.push(
            Diagnostic::new(
                Code::ImportTag,
                at,
                format!("the tag `{shown}` is not applied: {why}"),
            )
            .label("tag not applied")
            .help(help),
        );
    }

    fn event(&mut self, event: Event) -> Result<(), Diagnostic> {
        let at = self.offset(event.start_mark.index);
        let end = self.offset(event.end_mark.index);
        match event.data {
            EventData::Scalar {
                anchor,
                tag,
                value,
                style,
                ..
            } => {
                let mut plain = style == ScalarStyle::Plain;
                let mut text = value;
                let span = match style {
                    _ if plain && text.is_empty() => self.span(at, at),
                    // A block scalar is labelled at its indicator.
                    ScalarStyle::Literal | ScalarStyle::Folded => {
                        self.span(at, (at + 1).min(self.len))
                    }
                    _ => self.span(at, end),
                };
                if let Some(tag) = tag.filter(|t| t != "!") {
                    match tag.strip_prefix(CORE) {
                        Some("str") => plain = false,
                        Some("int" | "float" | "bool" | "null") => plain = true,
                        Some("binary") => match decode_base64(&text) {
                            Some(decoded) => {
                                text = decoded;
                                plain = false;
                            }
                            None => self.unapplied_tag(
                                &tag,
                                span,
                                "the value is not base64 of UTF-8 text, so it is kept as written",
                            ),
                        },
                        _ => self.unapplied_tag(&tag, span, "the value is read as if untagged"),
                    }
                }
                let node = Node {
                    kind: Kind::Scalar { text, plain },
                    span,
                };
                if let Some(anchor) = anchor {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push(node)
            }
            EventData::SequenceStart {
                anchor, tag, style, ..
            } => {
                let flow = style == SequenceStyle::Flow;
                self.open(at, anchor, tag, "seq", flow, true)
            }
            EventData::MappingStart {
                anchor, tag, style, ..
            } => {
                let flow = style == MappingStyle::Flow;
                self.open(at, anchor, tag, "map", flow, false)
            }
            EventData::SequenceEnd | EventData::MappingEnd => {
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
                // A flow collection ends at its bracket; a block one's end
                // event sits at the next token, so it ends at its last node.
                let span = if flow {
                    self.span(start, end)
                } else {
                    let s = first.unwrap_or(start);
                    self.span(s, last.unwrap_or(s))
                };
                let node = Node { kind, span };
                if let Some(anchor) = anchor {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push(node)
            }
            EventData::Alias { anchor } => {
                let Some(node) = self.anchors.get(&anchor).cloned() else {
                    return Err(self.invalid(
                        at,
                        format!("an alias to the anchor `{anchor}`, which is not defined"),
                    ));
                };
                self.count(node.size(), at)?;
                self.push(node)
            }
            EventData::StreamStart { .. }
            | EventData::DocumentStart { .. }
            | EventData::DocumentEnd { .. }
            | EventData::StreamEnd => Ok(()),
        }
    }

    /// Opens a collection (`expected` is the core tag that matches it).
    fn open(
        &mut self,
        at: usize,
        anchor: Option<String>,
        tag: Option<String>,
        expected: &str,
        flow: bool,
        seq: bool,
    ) -> Result<(), Diagnostic> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.invalid(at, "the YAML nests deeper than 200 levels"));
        }
        if let Some(tag) = tag.filter(|t| t != "!") {
            if tag.strip_prefix(CORE) != Some(expected) {
                let span = self.span(at, at + 1);
                self.unapplied_tag(&tag, span, "the collection is read as if untagged");
            }
        }
        self.stack.push(if seq {
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
        });
        Ok(())
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
}

/// The text a `!!binary` value encodes, when it is base64 (whitespace
/// allowed, as YAML folds it) of UTF-8 text: what compose reads.
fn decode_base64(text: &str) -> Option<String> {
    let mut bits: u32 = 0;
    let mut held = 0;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut padding = false;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding = true;
                continue;
            }
            _ => return None,
        };
        if padding {
            return None;
        }
        bits = (bits << 6) | u32::from(v);
        held += 6;
        if held >= 8 {
            held -= 8;
            out.push((bits >> held) as u8);
            bits &= (1 << held) - 1;
        }
    }
    String::from_utf8(out).ok()
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

    /// A large stack that merges an anchor into every service expands
    /// past the half-million bound that holds a small file (26,000
    /// merges of a 10-key anchor: 546,000 nodes), within its allowance of
    /// one node per 16 bytes (a 1 MB file); the same merges in a file cut
    /// to 20 bytes a service (520 KB) are refused. The generated stack of
    /// 100,000 services (issue 14's benchmark) was refused before.
    #[test]
    fn alias_expansion_is_bounded_in_proportion_to_the_file() {
        let base: Vec<String> = (0..10).map(|k| format!("k{k}: v")).collect();
        let file = |pad: &str| {
            let mut text = format!("x-base: &b {{{}}}\nservices:\n", base.join(", "));
            for i in 0..26_000 {
                text.push_str(&format!("  s{i:05}: {{<<: *b{pad}}}\n"));
            }
            text
        };
        let large = file(", image: registry.example/app:1.0.0");
        assert!(large.len() > 1_000_000, "{}", large.len());
        let root = tree(&large);
        let services = root.get("services").expect("services");
        let last = services.get("s25999").expect("the last service");
        assert!(last.get("k9").is_some(), "merged");

        let small = file("");
        assert!(small.len() < 550_000, "{}", small.len());
        let refused = parse(FileId(0), &small).err().expect("refused");
        assert!(
            refused.message.contains("aliases expand to more than"),
            "{}",
            refused.message
        );
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

    /// Inputs on which libyaml-safer 0.3 panics (found by mutating the
    /// corpus): each is an answer, never a panic.
    #[test]
    fn what_the_parser_cannot_read_is_an_error_not_a_panic() {
        let d = parse(FileId(0), "a: [\"sleep\"!, \"x\"]\n")
            .err()
            .expect("refused");
        assert_eq!(d.code, Code::ImportInvalid);
        for text in [
            "services:\n  bar:\n    deploy:\n>\n      replias: 99",
            "a: \"x\"\n  CMD echo \"imple service\"'",
            "k: 'No TTY'; fi\"\n    # Service to test TTY detection",
        ] {
            let _ = parse(FileId(0), text);
        }
        // And the guard leaves the process's panics as they were.
        let caught = std::panic::catch_unwind(|| panic!("outside the parser"));
        assert!(caught.is_err());
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
