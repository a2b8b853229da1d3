//! The owned syntax tree of one `.inf` file, produced by [`crate::syntax`].
//!
//! It is deliberately generic inside blocks (`key = value` statements plus
//! the three statement forms `port`, `route`, `allow`): which keys an item
//! takes and what their values mean is settled by the checker, which can
//! then say "did you mean" instead of reporting a parse error. Every node
//! carries its byte span.

use crate::span::{Span, Spanned};

/// A name as written: `db`, `node-exporter`, `admin-public`.
pub type Ident = Spanned<String>;

#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `use std/postgres`
    Use { path: Ident, span: Span },
    /// `let office = ["203.0.113.7/32"]`
    Let {
        name: Ident,
        value: Value,
        span: Span,
    },
    /// `node`, `network`, `service`, ... : every item that has a block.
    Decl(Decl),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Use { span, .. } | Item::Let { span, .. } => *span,
            Item::Decl(d) => d.span,
        }
    }
}

/// The kinds of block items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeclKind {
    Provider,
    Node,
    Network,
    Volume,
    Secret,
    Service,
    Template,
    Class,
}

impl DeclKind {
    /// The keyword that opens the item, which is also how messages name it.
    pub fn keyword(self) -> &'static str {
        match self {
            DeclKind::Provider => "provider",
            DeclKind::Node => "node",
            DeclKind::Network => "network",
            DeclKind::Volume => "volume",
            DeclKind::Secret => "secret",
            DeclKind::Service => "service",
            DeclKind::Template => "template",
            DeclKind::Class => "class",
        }
    }
}

/// `KIND NAME[: TEMPLATE] { STMT... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Decl {
    pub kind: DeclKind,
    pub name: Ident,
    /// The template after `:` (services and templates only).
    pub extends: Option<Ident>,
    pub body: Vec<Stmt>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    Attribute(Attribute),
    Port(PortDecl),
    Route(RouteDecl),
    Allow(AllowDecl),
}

impl Stmt {
    pub fn span(&self) -> Span {
        match self {
            Stmt::Attribute(a) => a.span,
            Stmt::Port(p) => p.span,
            Stmt::Route(r) => r.span,
            Stmt::Allow(a) => a.span,
        }
    }
}

/// `key = value`
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub key: Ident,
    pub value: Value,
    pub span: Span,
}

/// A port's protocol: the same word in the program and in the IR.
pub use crate::ir::Protocol;

/// An exposure level as written on a port.
#[derive(Debug, Clone, PartialEq)]
pub enum LevelExpr {
    Local,
    Internal,
    Public,
    /// `restricted(VALUE)`: a list literal or a `let` name.
    Restricted(Box<Value>),
}

/// `port 8443/tcp public as 443`
#[derive(Debug, Clone, PartialEq)]
pub struct PortDecl {
    pub container: Spanned<u64>,
    /// `None` when no `/tcp` or `/udp` was written.
    pub protocol: Option<Spanned<Protocol>>,
    pub level: Spanned<LevelExpr>,
    pub host: Option<Spanned<u64>>,
    pub span: Span,
}

/// `route "app.example.com" -> api:8080 restricted(office)`
#[derive(Debug, Clone, PartialEq)]
pub struct RouteDecl {
    pub matcher: Spanned<String>,
    pub target: Ident,
    pub port: Spanned<u64>,
    /// The value inside `restricted(...)`, with the span of the whole call.
    pub restriction: Option<Spanned<Value>>,
    pub span: Span,
}

/// `allow admin-public "reason"`
#[derive(Debug, Clone, PartialEq)]
pub struct AllowDecl {
    pub finding: Ident,
    pub reason: Spanned<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    Str(String),
    Int(u64),
    /// Kept as written (`0.5`) so nothing is lost to float formatting.
    Decimal(String),
    Bool(bool),
    Name(String),
    List(Vec<Value>),
    Map(Vec<Entry>),
    Call {
        func: Ident,
        args: Vec<Value>,
    },
    Mount {
        source: Box<Value>,
        target: Box<Value>,
        readonly: bool,
    },
}

impl ValueKind {
    /// How messages name the kind of a value ("expected a string, found a list").
    pub fn describe(&self) -> &'static str {
        match self {
            ValueKind::Str(_) => "a string",
            ValueKind::Int(_) => "an integer",
            ValueKind::Decimal(_) => "a decimal number",
            ValueKind::Bool(_) => "a boolean",
            ValueKind::Name(_) => "a name",
            ValueKind::List(_) => "a list",
            ValueKind::Map(_) => "a map",
            ValueKind::Call { .. } => "a call",
            ValueKind::Mount { .. } => "a mount (`source -> target`)",
        }
    }
}

/// `key = value` inside a map literal.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: Spanned<String>,
    pub value: Value,
    pub span: Span,
}
