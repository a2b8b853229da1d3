//! The printer: an [`ast::File`](crate::ast::File) back to canonical `.inf`
//! text, for `infrac fmt` and for the importer's output.
//!
//! The canonical form: two-space indentation, one statement per line,
//! `key = value`; a list, map or call on one line when it fits in 80
//! columns, else one element per line; strings re-escaped; one blank line
//! between block items, and elsewhere only where the source had one.
//!
//! Comments are not in the tree (the grammar skips them), so [`Trivia`]
//! carries them beside it, keyed by the span of the node they belong to: a
//! comment on its own line(s) leads the next item, statement or element; a
//! comment after a node on its line trails it; one with nothing after it in
//! its block, list or file stays at the end of it. [`Trivia::attach`] works
//! this out from a source text; the importer builds its own.

use std::collections::HashMap;

use super::comments::{self, Comment};
use crate::ast::*;
use crate::diagnostics::Diagnostic;
use crate::span::{FileId, Span};

/// The widest a line may be before a list, map or call breaks.
const WIDTH: usize = 80;

type Key = (u32, u32);

fn key(span: Span) -> Key {
    (span.start, span.end)
}

/// A comment on lines of its own, and whether a blank line precedes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Note {
    text: String,
    blank_before: bool,
}

/// Comments and blank lines to print around the nodes of one tree.
#[derive(Debug, Clone, Default)]
pub struct Trivia {
    header: Vec<String>,
    leading: HashMap<Key, Vec<Note>>,
    trailing: HashMap<Key, Vec<String>>,
    dangling: HashMap<Key, Vec<Note>>,
    /// The text the tree was parsed from: blank lines are kept where it
    /// had them. Without it (a tree built by the importer) only block
    /// items are separated.
    source: Option<String>,
}

impl Trivia {
    /// No comments at all.
    pub fn new() -> Self {
        Self::default()
    }

    /// The comments of `source`, attached to the nodes of `file` (its parse).
    pub fn attach(file: &File, source: &str) -> Self {
        let mut trivia = Trivia {
            source: Some(source.to_string()),
            ..Trivia::default()
        };
        let root = Container {
            span: file.span,
            children: file.items.iter().map(item_child).collect(),
        };
        for c in comments::scan(source) {
            trivia.place(&root, &c);
        }
        trivia
    }

    /// Comment lines printed first, then a blank line (text without `// `).
    pub fn header(&mut self, lines: impl IntoIterator<Item = String>) {
        self.header.extend(lines);
    }

    /// A `// text` line before the node with this span.
    pub fn lead(&mut self, span: Span, text: &str) {
        self.leading.entry(key(span)).or_default().push(Note {
            text: format!("// {text}"),
            blank_before: false,
        });
    }

    fn place(&mut self, container: &Container, c: &Comment) {
        let inside = |span: Span| span.start as usize <= c.start && c.end <= span.end as usize;
        if let Some(child) = container.children.iter().find(|ch| inside(ch.span)) {
            match child.containers.iter().find(|k| inside(k.span)) {
                Some(inner) => self.place(inner, c),
                // Inside a statement that holds no list or map: kept after it.
                None => self
                    .trailing
                    .entry(key(child.span))
                    .or_default()
                    .push(c.text.clone()),
            }
            return;
        }
        let source = self.source.as_deref().unwrap_or("");
        let prev = container
            .children
            .iter()
            .rev()
            .find(|ch| ch.span.end as usize <= c.start);
        if let Some(p) = prev {
            let between = source.get(p.span.end as usize..c.start).unwrap_or("\n");
            if !between.contains('\n') {
                self.trailing
                    .entry(key(p.span))
                    .or_default()
                    .push(c.text.clone());
                return;
            }
        }
        let note = Note {
            text: c.text.clone(),
            blank_before: blank_before(source, c.start),
        };
        match container
            .children
            .iter()
            .find(|ch| ch.span.start as usize >= c.end)
        {
            Some(next) => self.leading.entry(key(next.span)).or_default().push(note),
            None => self
                .dangling
                .entry(key(container.span))
                .or_default()
                .push(note),
        }
    }

    fn blank_before(&self, offset: u32) -> bool {
        self.source
            .as_deref()
            .is_some_and(|s| blank_before(s, offset as usize))
    }

    /// Whether any comment belongs to the elements of this container,
    /// which then cannot be printed on one line.
    fn has_comments(&self, container: Span, children: impl Iterator<Item = Span>) -> bool {
        self.dangling.contains_key(&key(container))
            || children
                .map(key)
                .any(|k| self.leading.contains_key(&k) || self.trailing.contains_key(&k))
    }
}

/// Whether the whitespace before `offset` holds an empty line.
fn blank_before(source: &str, offset: usize) -> bool {
    let before = source.get(..offset).unwrap_or("");
    let ws = before.len() - before.trim_end_matches([' ', '\t', '\r', '\n']).len();
    before[before.len() - ws..].matches('\n').count() >= 2
}

/// A node that comments attach to, with the lists, maps and blocks inside it.
struct Child {
    span: Span,
    containers: Vec<Container>,
}

/// A file, block, list, map or call: a sequence of children.
struct Container {
    span: Span,
    children: Vec<Child>,
}

fn item_child(item: &Item) -> Child {
    let containers = match item {
        Item::Use { .. } => Vec::new(),
        Item::Let { value, .. } => value_containers(value),
        Item::Decl(d) => vec![Container {
            span: d.span,
            children: d.body.iter().map(stmt_child).collect(),
        }],
    };
    Child {
        span: item.span(),
        containers,
    }
}

fn stmt_child(stmt: &Stmt) -> Child {
    let containers = match stmt {
        Stmt::Attribute(a) => value_containers(&a.value),
        Stmt::Port(p) => match &p.level.node {
            LevelExpr::Restricted(v) => value_containers(v),
            _ => Vec::new(),
        },
        Stmt::Route(r) => r
            .restriction
            .as_ref()
            .map(|v| value_containers(&v.node))
            .unwrap_or_default(),
        Stmt::Allow(_) => Vec::new(),
    };
    Child {
        span: stmt.span(),
        containers,
    }
}

fn value_child(value: &Value) -> Child {
    Child {
        span: value.span,
        containers: value_containers(value),
    }
}

fn value_containers(value: &Value) -> Vec<Container> {
    let children = match &value.kind {
        ValueKind::List(items) => items.iter().map(value_child).collect(),
        ValueKind::Call { args, .. } => args.iter().map(value_child).collect(),
        ValueKind::Map(entries) => entries
            .iter()
            .map(|e| Child {
                span: e.span,
                containers: value_containers(&e.value),
            })
            .collect(),
        ValueKind::Mount { source, target, .. } => {
            let mut v = value_containers(source);
            v.extend(value_containers(target));
            return v;
        }
        _ => return Vec::new(),
    };
    vec![Container {
        span: value.span,
        children,
    }]
}

/// Parses and prints `text`: the canonical form of a file, or the
/// diagnostics that stop it from being formatted (the text is then left
/// as it is).
pub fn format(file: FileId, text: &str) -> Result<String, Vec<Diagnostic>> {
    let (ast, diagnostics) = super::parse(file, text);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostics);
    }
    Ok(print(&ast, &Trivia::attach(&ast, text)))
}

/// The canonical text of `file`, with the comments of `trivia`.
pub fn print(file: &File, trivia: &Trivia) -> String {
    let mut p = Printer {
        out: String::new(),
        trivia,
    };
    for line in &trivia.header {
        p.out.push_str(format!("// {line}").trim_end());
        p.out.push('\n');
    }
    if !trivia.header.is_empty() && !file.items.is_empty() {
        p.out.push('\n');
    }
    let mut prev: Option<&Item> = None;
    let separate: Vec<bool> = file
        .items
        .iter()
        .map(|item| {
            let s = prev.is_some_and(|before| p.separated(before, item));
            prev = Some(item);
            s
        })
        .collect();
    p.sequence(
        file.span,
        file.items
            .iter()
            .zip(separate)
            .map(|(item, s)| (item.span(), s, Node::Item(item))),
        0,
    );
    p.out
}

/// Something printed on lines of its own inside a sequence.
enum Node<'a> {
    Item(&'a Item),
    Stmt(&'a Stmt),
    Value(&'a Value),
    Entry(&'a Entry),
}

struct Printer<'t> {
    out: String,
    trivia: &'t Trivia,
}

impl Printer<'_> {
    /// Block items stand apart, but lines group with their kind: `use`
    /// lines, `let` lines, one-line networks, secrets, volumes.
    fn separated(&self, before: &Item, item: &Item) -> bool {
        match (before, item) {
            (Item::Use { .. }, Item::Use { .. }) | (Item::Let { .. }, Item::Let { .. }) => false,
            (Item::Decl(a), Item::Decl(b)) => {
                a.kind != b.kind || self.one_line(a).is_none() || self.one_line(b).is_none()
            }
            _ => true,
        }
    }

    /// The one-line form of a block item that is not a service or template
    /// and holds a single attribute (`network data { internal = true }`),
    /// when it has no comments inside and fits.
    fn one_line(&self, d: &Decl) -> Option<String> {
        if matches!(d.kind, DeclKind::Service | DeclKind::Template)
            || self
                .trivia
                .has_comments(d.span, d.body.iter().map(Stmt::span))
        {
            return None;
        }
        let head = match &d.extends {
            Some(t) => format!("{} {}: {}", d.kind.keyword(), d.name.node, t.node),
            None => format!("{} {}", d.kind.keyword(), d.name.node),
        };
        let line = match d.body.as_slice() {
            [] => format!("{head} {{}}"),
            [Stmt::Attribute(a)] => {
                format!("{head} {{ {} = {} }}", a.key.node, self.inline(&a.value)?)
            }
            _ => return None,
        };
        (line.chars().count() <= WIDTH).then_some(line)
    }

    fn indent(&mut self, depth: usize) {
        for _ in 0..depth {
            self.out.push_str("  ");
        }
    }

    fn column(&self) -> usize {
        let line_start = self.out.rfind('\n').map_or(0, |i| i + 1);
        self.out[line_start..].chars().count()
    }

    fn blank_line(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// Children one per line at `depth`, each with its comments, then the
    /// comments left at the end of the container.
    fn sequence<'a>(
        &mut self,
        container: Span,
        children: impl Iterator<Item = (Span, bool, Node<'a>)>,
        depth: usize,
    ) {
        let trivia = self.trivia;
        let mut first = true;
        for (span, forced_blank, node) in children {
            let notes = trivia.leading.get(&key(span));
            let blank = match notes.and_then(|n| n.first()) {
                Some(n) => n.blank_before,
                None => trivia.blank_before(span.start),
            };
            if !first && (forced_blank || blank) {
                self.blank_line();
            }
            if let Some(notes) = notes {
                for (j, n) in notes.iter().enumerate() {
                    if j > 0 && n.blank_before {
                        self.blank_line();
                    }
                    self.indent(depth);
                    self.out.push_str(&n.text);
                    self.out.push('\n');
                }
                if trivia.blank_before(span.start) {
                    self.blank_line();
                }
            }
            self.indent(depth);
            match node {
                Node::Item(i) => self.item(i, depth),
                Node::Stmt(s) => self.stmt(s, depth),
                Node::Value(v) => self.value(v, depth),
                Node::Entry(e) => self.entry(e, depth),
            }
            if let Some(t) = trivia.trailing.get(&key(span)) {
                self.out.push(' ');
                self.out.push_str(&t.join(" "));
            }
            self.out.push('\n');
            first = false;
        }
        if let Some(notes) = trivia.dangling.get(&key(container)) {
            for n in notes {
                if !first && n.blank_before {
                    self.blank_line();
                }
                self.indent(depth);
                self.out.push_str(&n.text);
                self.out.push('\n');
                first = false;
            }
        }
    }

    fn item(&mut self, item: &Item, depth: usize) {
        match item {
            Item::Use { path, .. } => {
                self.out.push_str("use ");
                self.out.push_str(&path.node);
            }
            Item::Let { name, value, .. } => {
                self.out.push_str("let ");
                self.out.push_str(&name.node);
                self.out.push_str(" = ");
                self.value(value, depth);
            }
            Item::Decl(d) => {
                if let Some(line) = self.one_line(d) {
                    self.out.push_str(&line);
                    return;
                }
                self.out.push_str(d.kind.keyword());
                self.out.push(' ');
                self.out.push_str(&d.name.node);
                if let Some(t) = &d.extends {
                    self.out.push_str(": ");
                    self.out.push_str(&t.node);
                }
                if d.body.is_empty() && !self.trivia.dangling.contains_key(&key(d.span)) {
                    self.out.push_str(" {}");
                    return;
                }
                self.out.push_str(" {\n");
                self.sequence(
                    d.span,
                    d.body.iter().map(|s| (s.span(), false, Node::Stmt(s))),
                    depth + 1,
                );
                self.indent(depth);
                self.out.push('}');
            }
        }
    }

    fn stmt(&mut self, stmt: &Stmt, depth: usize) {
        match stmt {
            Stmt::Attribute(a) => {
                self.out.push_str(&a.key.node);
                self.out.push_str(" = ");
                self.value(&a.value, depth);
            }
            Stmt::Port(p) => {
                self.out.push_str(&format!("port {}", p.container.node));
                if let Some(proto) = &p.protocol {
                    self.out.push('/');
                    self.out.push_str(proto.node.as_str());
                }
                self.out.push(' ');
                match &p.level.node {
                    LevelExpr::Local => self.out.push_str("local"),
                    LevelExpr::Internal => self.out.push_str("internal"),
                    LevelExpr::Public => self.out.push_str("public"),
                    LevelExpr::Restricted(v) => self.restricted(v, depth),
                }
                if let Some(h) = &p.host {
                    self.out.push_str(&format!(" as {}", h.node));
                }
            }
            Stmt::Route(r) => {
                self.out.push_str("route ");
                self.out.push_str(&quote(&r.matcher.node));
                self.out
                    .push_str(&format!(" -> {}:{}", r.target.node, r.port.node));
                if let Some(v) = &r.restriction {
                    self.out.push(' ');
                    self.restricted(&v.node, depth);
                }
            }
            Stmt::Allow(a) => {
                self.out.push_str("allow ");
                self.out.push_str(&a.finding.node);
                self.out.push(' ');
                self.out.push_str(&quote(&a.reason.node));
            }
        }
    }

    fn restricted(&mut self, value: &Value, depth: usize) {
        self.out.push_str("restricted(");
        self.value(value, depth);
        self.out.push(')');
    }

    fn entry(&mut self, e: &Entry, depth: usize) {
        self.out.push_str(&map_key(&e.key.node));
        self.out.push_str(" = ");
        self.value(&e.value, depth);
    }

    /// A value at the current column, on one line when it fits.
    fn value(&mut self, value: &Value, depth: usize) {
        if let Some(line) = self.inline(value) {
            let breakable = matches!(
                value.kind,
                ValueKind::List(_) | ValueKind::Map(_) | ValueKind::Call { .. }
            );
            if !breakable || self.column() + line.chars().count() <= WIDTH {
                self.out.push_str(&line);
                return;
            }
        }
        match &value.kind {
            ValueKind::List(items) => {
                self.out.push_str("[\n");
                self.sequence(
                    value.span,
                    items.iter().map(|v| (v.span, false, Node::Value(v))),
                    depth + 1,
                );
                self.indent(depth);
                self.out.push(']');
            }
            ValueKind::Map(entries) => {
                self.out.push_str("{\n");
                self.sequence(
                    value.span,
                    entries.iter().map(|e| (e.span, false, Node::Entry(e))),
                    depth + 1,
                );
                self.indent(depth);
                self.out.push('}');
            }
            ValueKind::Call { func, args } => {
                self.out.push_str(&func.node);
                self.out.push_str("(\n");
                self.sequence(
                    value.span,
                    args.iter().map(|v| (v.span, false, Node::Value(v))),
                    depth + 1,
                );
                self.indent(depth);
                self.out.push(')');
            }
            ValueKind::Mount {
                source,
                target,
                readonly,
            } => {
                self.value(source, depth);
                self.out.push_str(" -> ");
                self.value(target, depth);
                if *readonly {
                    self.out.push_str(" readonly");
                }
            }
            _ => unreachable!("scalars always print inline"),
        }
    }

    /// The one-line form of a value, or `None` when comments inside it
    /// need lines of their own.
    fn inline(&self, value: &Value) -> Option<String> {
        let t = self.trivia;
        Some(match &value.kind {
            ValueKind::Str(s) => quote(s),
            ValueKind::Int(i) => i.to_string(),
            ValueKind::Decimal(d) => d.clone(),
            ValueKind::Bool(b) => b.to_string(),
            ValueKind::Name(n) => n.clone(),
            ValueKind::List(items) => {
                if t.has_comments(value.span, items.iter().map(|v| v.span)) {
                    return None;
                }
                let parts: Option<Vec<String>> = items.iter().map(|v| self.inline(v)).collect();
                format!("[{}]", parts?.join(", "))
            }
            ValueKind::Map(entries) => {
                if entries.is_empty() && !t.dangling.contains_key(&key(value.span)) {
                    return Some("{}".to_string());
                }
                if t.has_comments(value.span, entries.iter().map(|e| e.span)) {
                    return None;
                }
                let parts: Option<Vec<String>> = entries
                    .iter()
                    .map(|e| {
                        Some(format!(
                            "{} = {}",
                            map_key(&e.key.node),
                            self.inline(&e.value)?
                        ))
                    })
                    .collect();
                format!("{{ {} }}", parts?.join(", "))
            }
            ValueKind::Call { func, args } => {
                if t.has_comments(value.span, args.iter().map(|v| v.span)) {
                    return None;
                }
                let parts: Option<Vec<String>> = args.iter().map(|v| self.inline(v)).collect();
                format!("{}({})", func.node, parts?.join(", "))
            }
            ValueKind::Mount {
                source,
                target,
                readonly,
            } => {
                let flag = if *readonly { " readonly" } else { "" };
                format!("{} -> {}{flag}", self.inline(source)?, self.inline(target)?)
            }
        })
    }
}

/// A string literal with every character the grammar needs escaped (and
/// other control characters, so the text stays readable).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    crate::escape::quote_into(&mut out, s, |out, c| match c {
        '\0' => out.push_str("\\0"),
        c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        c => out.push(c),
    });
    out
}

/// Whether `s` reads as a name in the grammar (`ident`).
pub fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !s.contains("->")
}

/// A map key: bare when it is a name or a number, else quoted.
fn map_key(k: &str) -> String {
    if is_name(k) || (!k.is_empty() && k.bytes().all(|b| b.is_ascii_digit())) {
        k.to_string()
    } else {
        quote(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        format(FileId(0), text).unwrap_or_else(|d| panic!("{d:?}"))
    }

    #[test]
    fn canonical_layout() {
        let src = "node m1 { role = manager, ssh = none }\nnetwork edge {\n}\nnetwork data {\n internal = true }\nservice web { image = \"nginx:1.27\"\nport 443 public as 8443\nenv = {A=\"1\",B=\"x\\\"y\"} }";
        assert_eq!(
            fmt(src),
            "node m1 {\n  role = manager\n  ssh = none\n}\n\nnetwork edge {}\nnetwork data { internal = true }\n\nservice web {\n  image = \"nginx:1.27\"\n  port 443 public as 8443\n  env = { A = \"1\", B = \"x\\\"y\" }\n}\n"
        );
    }

    #[test]
    fn long_maps_break() {
        let src = "service api {\n  env = { DATABASE_URL = \"postgres://db:5432/app\", CACHE_URL = \"redis://cache:6379\" }\n}\n";
        assert_eq!(
            fmt(src),
            "service api {\n  env = {\n    DATABASE_URL = \"postgres://db:5432/app\"\n    CACHE_URL = \"redis://cache:6379\"\n  }\n}\n"
        );
    }

    #[test]
    fn comments_stay_where_they_were() {
        let src = "// header\n\nuse std/redis // cache\n\n// the edge\nnetwork edge {} // trailing\nservice x {\n  // lead\n  image = \"a:1\"\n  env = {\n    A = \"1\" // why\n  }\n  // end of x\n}\n// eof\n";
        let out = fmt(src);
        assert_eq!(
            out,
            "// header\n\nuse std/redis // cache\n\n// the edge\nnetwork edge {} // trailing\n\nservice x {\n  // lead\n  image = \"a:1\"\n  env = {\n    A = \"1\" // why\n  }\n  // end of x\n}\n// eof\n"
        );
        assert_eq!(fmt(&out), out);
    }
}
