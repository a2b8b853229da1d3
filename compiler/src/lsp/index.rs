//! What a program declares and what it names, from its syntax tree: the
//! table definition, references, hover and the outline read. Which kind
//! of item a name refers to comes from where it is written: the attribute
//! table says `networks` names networks and `on` a node; a template comes
//! after `:`, a route's target is a service, a mount's source a volume,
//! and any other bare name is a `let`.

use std::sync::OnceLock;

use crate::ast::{self, DeclKind, Item, Stmt, Value, ValueKind};
use crate::schema::{self, Attr, ValueType};
use crate::span::{FileId, Span};
use crate::stdlib;

/// The kinds of names a program can declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Service,
    Template,
    Network,
    Volume,
    Secret,
    Node,
    Let,
    /// `use std/NAME`: the stdlib module NAME.
    Module,
    Provider,
    Class,
}

impl Kind {
    pub fn of(kind: DeclKind) -> Kind {
        match kind {
            DeclKind::Provider => Kind::Provider,
            DeclKind::Node => Kind::Node,
            DeclKind::Network => Kind::Network,
            DeclKind::Volume => Kind::Volume,
            DeclKind::Secret => Kind::Secret,
            DeclKind::Service => Kind::Service,
            DeclKind::Template => Kind::Template,
            DeclKind::Class => Kind::Class,
        }
    }

    /// The kind the attribute table's `Reference("node")` names.
    fn named(word: &str) -> Kind {
        match word {
            "node" => Kind::Node,
            "network" => Kind::Network,
            "volume" => Kind::Volume,
            "secret" => Kind::Secret,
            "service" => Kind::Service,
            "template" => Kind::Template,
            _ => Kind::Let,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Kind::Service => "service",
            Kind::Template => "template",
            Kind::Network => "network",
            Kind::Volume => "volume",
            Kind::Secret => "secret",
            Kind::Node => "node",
            Kind::Let => "let",
            Kind::Module => "module",
            Kind::Provider => "provider",
            Kind::Class => "class",
        }
    }
}

/// A declared name.
#[derive(Debug, Clone)]
pub struct Symbol {
    pub kind: Kind,
    pub name: String,
    /// The name as written.
    pub span: Span,
    /// The whole item.
    pub full: Span,
}

/// A name written where a declaration of `kind` is expected.
#[derive(Debug, Clone)]
pub struct Reference {
    pub kind: Kind,
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct Index {
    pub symbols: Vec<Symbol>,
    pub references: Vec<Reference>,
}

impl Index {
    pub fn of(file: &ast::File) -> Index {
        let mut index = Index::default();
        for item in &file.items {
            match item {
                Item::Use { path, span } => {
                    let name = path.node.strip_prefix("std/").unwrap_or(&path.node);
                    index.reference(Kind::Module, name, path.span);
                    let _ = span;
                }
                Item::Let { name, value, span } => {
                    index.symbol(Kind::Let, name, *span);
                    index.value(value, None);
                }
                Item::Decl(decl) => index.decl(decl),
            }
        }
        index
    }

    fn symbol(&mut self, kind: Kind, name: &ast::Ident, full: Span) {
        self.symbols.push(Symbol {
            kind,
            name: name.node.clone(),
            span: name.span,
            full,
        });
    }

    fn reference(&mut self, kind: Kind, name: &str, span: Span) {
        self.references.push(Reference {
            kind,
            name: name.to_string(),
            span,
        });
    }

    fn decl(&mut self, decl: &ast::Decl) {
        self.symbol(Kind::of(decl.kind), &decl.name, decl.span);
        if let Some(extends) = &decl.extends {
            self.reference(Kind::Template, &extends.node, extends.span);
        }
        let table = table(decl.kind);
        for stmt in &decl.body {
            match stmt {
                Stmt::Attribute(a) => {
                    let ty = table
                        .and_then(|t| schema::find(t, &a.key.node))
                        .map(|a| a.ty);
                    self.value(&a.value, ty);
                }
                Stmt::Port(p) => {
                    if let ast::LevelExpr::Restricted(v) = &p.level.node {
                        self.value(v, None);
                    }
                }
                Stmt::Route(r) => {
                    self.reference(Kind::Service, &r.target.node, r.target.span);
                    if let Some(v) = &r.restriction {
                        self.value(&v.node, None);
                    }
                }
                Stmt::Allow(_) => {}
            }
        }
    }

    /// The names in `value`, whose attribute has type `ty` (`None`: a
    /// value the table does not type, whose names are `let`s).
    fn value(&mut self, value: &Value, ty: Option<ValueType>) {
        match (&value.kind, ty) {
            (ValueKind::Name(n), Some(ValueType::Reference(k) | ValueType::References(k))) => {
                self.reference(Kind::named(k), n, value.span)
            }
            // A word of a fixed set (`role = manager`) names nothing.
            (ValueKind::Name(_), Some(ValueType::Word(_) | ValueType::Boolean)) => {}
            (ValueKind::Name(n), _) => self.reference(Kind::Let, n, value.span),
            (ValueKind::List(items), ty) => {
                for v in items {
                    self.value(v, ty);
                }
            }
            (ValueKind::Map(entries), Some(ValueType::Map(table))) => {
                for e in entries {
                    let ty = schema::find(table, &e.key.node).map(|a| a.ty);
                    self.value(&e.value, ty);
                }
            }
            (ValueKind::Map(entries), _) => {
                for e in entries {
                    self.value(&e.value, None);
                }
            }
            (ValueKind::Call { args, .. }, _) => {
                for v in args {
                    self.value(v, None);
                }
            }
            (ValueKind::Mount { source, .. }, _) => {
                if let ValueKind::Name(n) = &source.kind {
                    self.reference(Kind::Volume, n, source.span);
                }
            }
            _ => {}
        }
    }

    /// The declaration or reference whose name covers `offset` of `file`.
    pub fn at(&self, file: FileId, offset: usize) -> Option<(Kind, &str)> {
        let covers =
            |s: &Span| s.file == file && s.start as usize <= offset && offset <= s.end as usize;
        self.symbols
            .iter()
            .find(|s| covers(&s.span))
            .map(|s| (s.kind, s.name.as_str()))
            .or_else(|| {
                self.references
                    .iter()
                    .find(|r| covers(&r.span))
                    .map(|r| (r.kind, r.name.as_str()))
            })
    }

    pub fn declaration(&self, kind: Kind, name: &str) -> Option<&Symbol> {
        self.symbols
            .iter()
            .find(|s| s.kind == kind && s.name == name)
    }
}

/// The attribute table of a block of `kind`.
pub fn table(kind: DeclKind) -> Option<&'static [Attr]> {
    Some(match kind {
        DeclKind::Service | DeclKind::Template => schema::SERVICE,
        DeclKind::Node => schema::NODE,
        DeclKind::Network => schema::NETWORK,
        DeclKind::Volume => schema::VOLUME,
        DeclKind::Secret => schema::SECRET,
        DeclKind::Provider => schema::PROVIDER,
        DeclKind::Class => return None,
    })
}

/// A template of the stdlib: the module that declares it, and where.
#[derive(Debug, Clone)]
pub struct StdTemplate {
    pub module: &'static str,
    pub name: String,
    /// Byte range of the name in the module's text.
    pub start: usize,
    pub end: usize,
}

/// Every template the stdlib declares, parsed once.
pub fn std_templates() -> &'static [StdTemplate] {
    static TEMPLATES: OnceLock<Vec<StdTemplate>> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let mut out = Vec::new();
        for module in stdlib::template_names() {
            let Some(text) = stdlib::module(module) else {
                continue;
            };
            let (file, _) = crate::syntax::parse(FileId(0), text);
            for item in &file.items {
                if let Item::Decl(d) = item {
                    if d.kind == DeclKind::Template {
                        out.push(StdTemplate {
                            module,
                            name: d.name.node.clone(),
                            start: d.name.span.start as usize,
                            end: d.name.span.end as usize,
                        });
                    }
                }
            }
        }
        out
    })
}

/// The images the stdlib catalogue classifies, with their class.
pub fn catalogue_images() -> &'static [(String, &'static str)] {
    static IMAGES: OnceLock<Vec<(String, &'static str)>> = OnceLock::new();
    IMAGES.get_or_init(|| {
        let Some(text) = stdlib::module(stdlib::CATALOGUE) else {
            return Vec::new();
        };
        let (file, _) = crate::syntax::parse(FileId(0), text);
        let mut out = Vec::new();
        for item in &file.items {
            let Item::Decl(d) = item else { continue };
            let class = match d.name.node.as_str() {
                "data" => "data",
                "admin" => "admin",
                _ => "app",
            };
            for stmt in &d.body {
                if let Stmt::Attribute(a) = stmt {
                    if let ValueKind::Map(entries) = &a.value.kind {
                        out.extend(entries.iter().map(|e| (e.key.node.clone(), class)));
                    }
                }
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_get_their_kind_from_where_they_are_written() {
        let text = "let office = [\"203.0.113.7/32\"]\nnode n { role = manager\n ssh = restricted(office) }\nnetwork edge {}\nvolume v {}\nservice a: base {\n on = n\n networks = [edge]\n mounts = [v -> \"/d\"]\n route \"x\" -> b:80\n}\n";
        let (file, _) = crate::syntax::parse(FileId(0), text);
        let index = Index::of(&file);
        let kinds: Vec<(Kind, &str)> = index
            .references
            .iter()
            .map(|r| (r.kind, r.name.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (Kind::Let, "office"),
                (Kind::Template, "base"),
                (Kind::Node, "n"),
                (Kind::Network, "edge"),
                (Kind::Volume, "v"),
                (Kind::Service, "b"),
            ]
        );
    }

    #[test]
    fn the_stdlib_is_indexed() {
        assert!(std_templates().iter().any(|t| t.name == "postgres"));
        assert!(catalogue_images()
            .iter()
            .any(|(i, c)| i == "postgres" && *c == "data"));
    }
}
