//! pest pairs to the owned [`crate::ast`]. The grammar guarantees the shape
//! of every pair, so the `expect`s here state grammar facts; what the grammar
//! lets through but the language does not (an unknown escape, a number too
//! large) becomes a diagnostic.

use pest::iterators::Pair;

use super::Rule;
use crate::ast::*;
use crate::diagnostics::{Code, Diagnostic};
use crate::span::{FileId, Span, Spanned};

struct Lowerer {
    file: FileId,
    /// Where the parsed text starts in the file: pairs of an item parsed
    /// on its own (see `syntax::parse`) count from the item's chunk.
    offset: usize,
    diagnostics: Vec<Diagnostic>,
}

pub(super) fn file(file: FileId, root: Pair<'_, Rule>) -> (File, Vec<Diagnostic>) {
    let mut l = Lowerer {
        file,
        offset: 0,
        diagnostics: Vec::new(),
    };
    let span = l.span(&root);
    let items = root
        .into_inner()
        .filter(|p| p.as_rule() != Rule::EOI)
        .map(|p| l.item(p))
        .collect();
    (File { items, span }, l.diagnostics)
}

/// One item of a chunk parsed from byte `offset` of the file.
pub(super) fn item(file: FileId, offset: usize, pair: Pair<'_, Rule>) -> (Item, Vec<Diagnostic>) {
    let mut l = Lowerer {
        file,
        offset,
        diagnostics: Vec::new(),
    };
    let item = l.item(pair);
    (item, l.diagnostics)
}

const GRAMMAR: &str = "the grammar guarantees this pair";

impl Lowerer {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, self.offset + s.start(), self.offset + s.end())
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Spanned::new(pair.as_str().to_string(), self.span(&pair))
    }

    fn item(&mut self, pair: Pair<'_, Rule>) -> Item {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        let _keyword = inner.next().expect(GRAMMAR);
        match rule {
            Rule::use_item => Item::Use {
                path: self.ident(inner.next().expect(GRAMMAR)),
                span,
            },
            Rule::let_item => {
                let name = self.ident(inner.next().expect(GRAMMAR));
                let value = self.value(inner.next().expect(GRAMMAR));
                Item::Let { name, value, span }
            }
            _ => {
                let kind = match rule {
                    Rule::provider_item => DeclKind::Provider,
                    Rule::node_item => DeclKind::Node,
                    Rule::network_item => DeclKind::Network,
                    Rule::volume_item => DeclKind::Volume,
                    Rule::secret_item => DeclKind::Secret,
                    Rule::service_item => DeclKind::Service,
                    Rule::template_item => DeclKind::Template,
                    Rule::class_item => DeclKind::Class,
                    other => unreachable!("not an item rule: {other:?}"),
                };
                let name = self.ident(inner.next().expect(GRAMMAR));
                let mut extends = None;
                let mut body = Vec::new();
                for p in inner {
                    match p.as_rule() {
                        Rule::extends => {
                            extends = Some(self.ident(p.into_inner().next().expect(GRAMMAR)))
                        }
                        Rule::block => body = p.into_inner().map(|s| self.stmt(s)).collect(),
                        other => unreachable!("unexpected pair in an item: {other:?}"),
                    }
                }
                Item::Decl(Decl {
                    kind,
                    name,
                    extends,
                    body,
                    span,
                })
            }
        }
    }

    fn stmt(&mut self, pair: Pair<'_, Rule>) -> Stmt {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::attribute => {
                let mut inner = pair.into_inner();
                let key = self.ident(inner.next().expect(GRAMMAR));
                let value = self.value(inner.next().expect(GRAMMAR));
                Stmt::Attribute(Attribute { key, value, span })
            }
            Rule::port_stmt => Stmt::Port(self.port(pair, span)),
            Rule::route_stmt => Stmt::Route(self.route(pair, span)),
            Rule::allow_stmt => {
                let mut inner = pair.into_inner();
                let _allow = inner.next();
                let finding = self.ident(inner.next().expect(GRAMMAR));
                let reason = self.string(inner.next().expect(GRAMMAR));
                Stmt::Allow(AllowDecl {
                    finding,
                    reason,
                    span,
                })
            }
            other => unreachable!("not a statement rule: {other:?}"),
        }
    }

    fn port(&mut self, pair: Pair<'_, Rule>, span: Span) -> PortDecl {
        let mut inner = pair.into_inner();
        let _port = inner.next();
        let spec = inner.next().expect(GRAMMAR);
        let mut spec_inner = spec.into_inner();
        let container = self.integer(spec_inner.next().expect(GRAMMAR));
        let protocol = spec_inner.next().map(|p| {
            let proto = if p.as_str() == "udp" {
                Protocol::Udp
            } else {
                Protocol::Tcp
            };
            Spanned::new(proto, self.span(&p))
        });
        let level = self.level(inner.next().expect(GRAMMAR));
        let host = inner.nth(1).map(|p| self.integer(p));
        PortDecl {
            container,
            protocol,
            level,
            host,
            span,
        }
    }

    fn level(&mut self, pair: Pair<'_, Rule>) -> Spanned<LevelExpr> {
        let span = self.span(&pair);
        let inner = pair.into_inner().next().expect(GRAMMAR);
        let level = match inner.as_rule() {
            Rule::level_local => LevelExpr::Local,
            Rule::level_internal => LevelExpr::Internal,
            Rule::level_public => LevelExpr::Public,
            Rule::level_restricted => LevelExpr::Restricted(Box::new(self.restriction(inner).node)),
            other => unreachable!("not a level: {other:?}"),
        };
        Spanned::new(level, span)
    }

    /// `restricted(VALUE)`: the value, spanned over the whole call.
    fn restriction(&mut self, pair: Pair<'_, Rule>) -> Spanned<Value> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let _kw = inner.next();
        Spanned::new(self.value(inner.next().expect(GRAMMAR)), span)
    }

    fn route(&mut self, pair: Pair<'_, Rule>, span: Span) -> RouteDecl {
        let mut inner = pair.into_inner();
        let _route = inner.next();
        let matcher = self.string(inner.next().expect(GRAMMAR));
        let mut target = inner.next().expect(GRAMMAR).into_inner();
        let target_name = self.ident(target.next().expect(GRAMMAR));
        let port = self.integer(target.next().expect(GRAMMAR));
        let restriction = inner.next().map(|p| self.restriction(p));
        RouteDecl {
            matcher,
            target: target_name,
            port,
            restriction,
            span,
        }
    }

    fn integer(&mut self, pair: Pair<'_, Rule>) -> Spanned<u64> {
        let span = self.span(&pair);
        let n = match pair.as_str().parse::<u64>() {
            Ok(n) => n,
            Err(_) => {
                self.diagnostics.push(
                    Diagnostic::new(Code::InvalidNumber, span, "this number is too large")
                        .label("does not fit in 64 bits")
                        .help("numbers in infrac are whole numbers from 0 to 18446744073709551615"),
                );
                0
            }
        };
        Spanned::new(n, span)
    }

    fn string(&mut self, pair: Pair<'_, Rule>) -> Spanned<String> {
        let span = self.span(&pair);
        let inner = pair.into_inner().next().expect(GRAMMAR);
        let raw_start = self.offset + inner.as_span().start();
        let text = self.unescape(inner.as_str(), raw_start);
        Spanned::new(text, span)
    }

    /// Resolves `\"`, `\\`, `\n`, `\t`, `\r`, `\0` and `\u{HEX}`; anything else
    /// after a backslash is an `invalid-escape`.
    fn unescape(&mut self, raw: &str, offset: usize) -> String {
        if !raw.contains('\\') {
            return raw.to_string();
        }
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((j, e)) = chars.next() else { break };
            let escaped = match e {
                '"' => Some('"'),
                '\\' => Some('\\'),
                'n' => Some('\n'),
                't' => Some('\t'),
                'r' => Some('\r'),
                '0' => Some('\0'),
                'u' => self.unicode_escape(&mut chars, raw),
                _ => None,
            };
            match escaped {
                Some(ch) => out.push(ch),
                None => {
                    let end = chars
                        .peek()
                        .map_or(raw.len(), |(k, _)| *k)
                        .max(j + e.len_utf8());
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::InvalidEscape,
                            Span::new(self.file, offset + i, offset + end),
                            format!("unknown escape sequence `\\{e}`"),
                        )
                        .label("not an escape")
                        .help("the escapes are \\\", \\\\, \\n, \\t, \\r, \\0 and \\u{HEX}; write \\\\ for a backslash"),
                    );
                }
            }
        }
        out
    }

    fn unicode_escape(
        &mut self,
        chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
        raw: &str,
    ) -> Option<char> {
        if chars.peek().map(|(_, c)| *c) != Some('{') {
            return None;
        }
        let (open, _) = chars.next()?;
        let close = raw[open..].find('}')? + open;
        let hex = &raw[open + 1..close];
        while chars.peek().is_some_and(|(k, _)| *k <= close) {
            chars.next();
        }
        if hex.is_empty() || hex.len() > 6 {
            return None;
        }
        u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
    }

    fn value(&mut self, pair: Pair<'_, Rule>) -> Value {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let atom = self.atom(inner.next().expect(GRAMMAR));
        let Some(tail) = inner.next() else {
            return atom;
        };
        let mut tail = tail.into_inner();
        let target = self.atom(tail.next().expect(GRAMMAR));
        let readonly = tail.next().is_some();
        Value {
            kind: ValueKind::Mount {
                source: Box::new(atom),
                target: Box::new(target),
                readonly,
            },
            span,
        }
    }

    fn atom(&mut self, pair: Pair<'_, Rule>) -> Value {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::string => ValueKind::Str(self.string(pair).node),
            Rule::integer => ValueKind::Int(self.integer(pair).node),
            Rule::decimal => ValueKind::Decimal(pair.as_str().to_string()),
            Rule::boolean => ValueKind::Bool(pair.as_str() == "true"),
            Rule::name => ValueKind::Name(pair.as_str().to_string()),
            Rule::list => ValueKind::List(pair.into_inner().map(|p| self.value(p)).collect()),
            Rule::map => ValueKind::Map(pair.into_inner().map(|p| self.entry(p)).collect()),
            Rule::call => {
                let mut inner = pair.into_inner();
                let func = self.ident(inner.next().expect(GRAMMAR));
                match inner.next() {
                    Some(args) => ValueKind::Call {
                        func,
                        args: args.into_inner().map(|p| self.value(p)).collect(),
                    },
                    None => ValueKind::Name(func.node),
                }
            }
            Rule::value => return self.value(pair),
            other => unreachable!("not an atom: {other:?}"),
        };
        Value { kind, span }
    }

    fn entry(&mut self, pair: Pair<'_, Rule>) -> Entry {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let key_pair = inner.next().expect(GRAMMAR);
        let key = match key_pair.as_rule() {
            Rule::string => self.string(key_pair),
            _ => Spanned::new(key_pair.as_str().to_string(), self.span(&key_pair)),
        };
        let value = self.value(inner.next().expect(GRAMMAR));
        Entry { key, value, span }
    }
}
