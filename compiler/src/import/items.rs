//! What a top-level volume and a top-level network share: the keys both
//! take (`external`, `driver`, a custom `name`), the report of a custom
//! engine name, and the declaration made for one a service names but the
//! file does not declare. Each kind says only where it differs.

use indexmap::IndexMap;

use super::top::flag;
use super::yaml::Node;
use super::{attr, expect_map, string, Declared, Importer};
use crate::ast::{DeclKind, Stmt};
use crate::diagnostics::Diagnostic;
use crate::span::Span;

/// A kind of top-level item and where it differs from the other.
pub(super) struct ItemKind {
    pub(super) decl: DeclKind,
    /// `volume` or `network`, as the messages say it.
    pub(super) noun: &'static str,
    /// The items of this kind, by YAML name.
    pub(super) declared: fn(&mut Importer) -> &mut IndexMap<String, Declared>,
    /// The help when an item that is not external has a custom name.
    pub(super) named_help: &'static str,
    /// The help for a key no reader of the kind knows.
    pub(super) unknown_help: fn(&str) -> &'static str,
    /// The name compose declares by itself (no loss when a service uses it).
    pub(super) implicit: Option<&'static str>,
    /// The help when a service names an item the file does not declare.
    pub(super) undeclared_help: &'static str,
}

/// What the keys of one top-level item said so far.
pub(super) struct Item {
    pub(super) what: String,
    pub(super) attrs: Vec<Stmt>,
    pub(super) is_external: bool,
    pub(super) real_name: Option<String>,
}

/// A reader of the keys of one kind only: `Ok(false)` when the key is not
/// one of them.
pub(super) type OwnKeys =
    fn(&mut Importer, &mut Item, &str, &Node, &Node) -> Result<bool, Diagnostic>;

/// The span of a top-level item: its key, and its body when it has one.
pub(super) fn item_span(k: &Node, body: &Node) -> Span {
    if body.is_null() {
        k.span
    } else {
        k.span.to(body.span)
    }
}

impl Importer {
    /// The top-level `volumes` or `networks` (`v`), each item declared.
    pub(super) fn top_items(
        &mut self,
        v: &Node,
        kind: &ItemKind,
        own: OwnKeys,
    ) -> Result<(), Diagnostic> {
        if v.is_null() {
            return Ok(());
        }
        for (k, body) in expect_map(v, &format!("`{}s`", kind.noun))? {
            let raw = self.key(k)?;
            let program = self.declare_name(kind.decl, &raw, k.span);
            let mut item = Item {
                what: format!("{} `{raw}`", kind.noun),
                attrs: Vec::new(),
                is_external: false,
                real_name: None,
            };
            for (bk, bv) in self.body_entries(body, &item.what)? {
                let key = self.key(bk)?;
                self.item_key(kind, own, &mut item, &key, bk, bv)?;
            }
            if let Some(real) = item.real_name {
                if item.is_external {
                    self.report_external_name(kind.noun, k.span, &real, &program);
                } else {
                    self.lose(
                        k.span,
                        format!("{} is named `{real}` on the engine, without the project's prefix; the name is not carried over", item.what),
                        "not imported",
                        kind.named_help,
                    );
                }
            }
            let declared = Declared {
                name: program,
                span: item_span(k, body),
                attrs: item.attrs,
            };
            (kind.declared)(self).insert(raw, declared);
        }
        Ok(())
    }

    fn item_key(
        &mut self,
        kind: &ItemKind,
        own: OwnKeys,
        item: &mut Item,
        key: &str,
        bk: &Node,
        bv: &Node,
    ) -> Result<(), Diagnostic> {
        match key {
            "external" => {
                let (ext, legacy) = self.external(bv, &item.what)?;
                if ext {
                    item.is_external = true;
                    item.attrs
                        .push(attr("external", bk.span, flag(true, bv.span)));
                }
                item.real_name = legacy.or(item.real_name.take());
            }
            "driver" => {
                if let Some(d) = self.text(bv, &item.what)? {
                    item.attrs.push(attr("driver", bk.span, string(d, bv.span)));
                }
            }
            _ if own(self, item, key, bk, bv)? => {}
            k2 if k2.starts_with("x-") => {}
            other => self.lose(
                bk.span,
                format!("`{other}` of {} is not carried over", item.what),
                "not imported",
                (kind.unknown_help)(other),
            ),
        }
        Ok(())
    }

    /// The program name of an item a service names, declared (and
    /// reported) if the file does not declare it.
    pub(super) fn item_ref(&mut self, kind: &ItemKind, raw: &str, span: Span) -> String {
        if let Some(d) = (kind.declared)(self).get(raw) {
            return d.name.clone();
        }
        let program = self.declare_name(kind.decl, raw, span);
        if kind.implicit != Some(raw) {
            let noun = kind.noun;
            self.lose(
                span,
                format!(
                    "{noun} `{raw}` is not declared in this file; it is declared as a new {noun}"
                ),
                "declared by the import",
                kind.undeclared_help,
            );
        }
        self.declare_bare(kind.declared, raw.to_string(), &program, span);
        program
    }

    /// Declares `program` (YAML name `raw`) with no attributes among the
    /// items `declared` selects.
    pub(super) fn declare_bare(
        &mut self,
        declared: fn(&mut Importer) -> &mut IndexMap<String, Declared>,
        raw: String,
        program: &str,
        span: Span,
    ) {
        let bare = Declared {
            name: program.to_string(),
            span,
            attrs: Vec::new(),
        };
        declared(self).insert(raw, bare);
    }
}
