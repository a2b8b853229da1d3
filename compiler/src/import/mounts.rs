//! Volumes: the top-level `volumes` and a service's `volumes` (short and
//! long syntax) as `mounts`, `tmpfs` and named volumes.

use super::items::ItemKind;
use super::service::Svc;
use super::yaml::{Kind, Node};
use super::{name, string, value, Importer};
use crate::ast::{DeclKind, Value, ValueKind};
use crate::diagnostics::{Code, Diagnostic};
use crate::span::Span;

const VOLUMES: ItemKind = ItemKind {
    decl: DeclKind::Volume,
    noun: "volume",
    declared: |i| &mut i.volumes,
    named_help: "the program's volume is named by the target (compose prefixes the project); to keep existing data, declare it `external = true` under its engine name",
    unknown_help: |_| "",
    implicit: None,
    undeclared_help: "another compose file merged with this one may declare it",
};

impl Importer {
    // ---- volumes and mounts ----------------------------------------------

    pub(super) fn top_volumes(&mut self, v: &Node) -> Result<(), Diagnostic> {
        self.top_items(v, &VOLUMES, |me, item, key, _, bv| {
            if key != "name" {
                return Ok(false);
            }
            item.real_name = me.text(bv, &item.what)?;
            Ok(true)
        })
    }

    fn volume_ref(&mut self, raw: &str, span: Span) -> String {
        self.item_ref(&VOLUMES, raw, span)
    }

    fn anonymous_volume(&mut self, s: &Svc, target: &str, span: Span) -> String {
        let base = format!("{}-data", s.name);
        let program = self.fresh_name(DeclKind::Volume, &base);
        self.lose(
            span,
            format!("the anonymous volume at {target} of `{}` is imported as the named volume `{program}`", s.name),
            "approximated",
            "an anonymous volume is new on every recreate; a named one keeps its data",
        );
        self.declare_bare(
            VOLUMES.declared,
            format!("\u{0}anonymous:{program}"),
            &program,
            span,
        );
        program
    }

    pub(super) fn service_volumes(
        &mut self,
        s: &mut Svc,
        k: &Node,
        v: &Node,
    ) -> Result<(), Diagnostic> {
        let Some(items) = v.items() else {
            if v.is_null() {
                return Ok(());
            }
            return Err(Diagnostic::new(
                Code::ImportInvalid,
                v.span,
                format!("`volumes` of `{}` must be a list", s.name),
            )
            .label("not a list"));
        };
        s.mounts_span.get_or_insert(k.span);
        for item in items {
            match &item.kind {
                Kind::Map(_) => self.long_mount(s, item)?,
                _ => self.short_mount(s, item)?,
            }
        }
        Ok(())
    }

    fn short_mount(&mut self, s: &mut Svc, item: &Node) -> Result<(), Diagnostic> {
        let what = format!("a volume of `{}`", s.name);
        let Some(raw) = self.scalar(item, &what)? else {
            return Ok(());
        };
        let i = self.interpolate(item, &raw)?;
        self.report_interpolation(item, &what, &i);
        let parts = mount_parts(&i.text);
        if parts.iter().any(|p| is_windows_path(p)) {
            self.lose(
                item.span,
                format!("{what} uses Windows paths and is not carried over"),
                "not imported",
                "infrac deploys Linux containers; mount a Linux path",
            );
            return Ok(());
        }
        let (source, target, mode) = match parts.as_slice() {
            [t] => (None, *t, ""),
            [src, t] => (Some(*src), *t, ""),
            [src, t, m] => (Some(*src), *t, *m),
            _ => return Err(bad_mount(item.span, &i.text, "too many `:`")),
        };
        if source == Some("") {
            return Err(bad_mount(item.span, &i.text, "an empty source before `:`"));
        }
        let mut readonly = false;
        for m in mode.split(',').filter(|m| !m.is_empty()) {
            match m {
                "ro" => readonly = true,
                "rw" => {}
                other => self.lose(
                    item.span,
                    format!("the mount option `{other}` of {what} is not carried over"),
                    "not imported",
                    "",
                ),
            }
        }
        let from_var = !i.unresolved.is_empty();
        let source = match source {
            None => name(self.anonymous_volume(s, target, item.span), item.span),
            Some(src) if from_var || src.starts_with(['/', '.', '~']) || src.contains('/') => {
                string(src.to_string(), item.span)
            }
            Some(vol) => name(self.volume_ref(vol, item.span), item.span),
        };
        self.mount(s, source, target, readonly, item.span)
    }

    pub(super) fn mount(
        &mut self,
        s: &mut Svc,
        source: Value,
        target: &str,
        readonly: bool,
        span: Span,
    ) -> Result<(), Diagnostic> {
        if !target.starts_with('/') {
            return Err(bad_mount(
                span,
                target,
                "the container path must be absolute",
            ));
        }
        s.mounts.push(value(
            ValueKind::Mount {
                source: Box::new(source),
                target: Box::new(string(target.to_string(), span)),
                readonly,
            },
            span,
        ));
        Ok(())
    }

    fn long_mount(&mut self, s: &mut Svc, item: &Node) -> Result<(), Diagnostic> {
        let what = format!("a volume of `{}`", s.name);
        let mut kind = String::from("volume");
        let mut source = None;
        let mut target = None;
        let mut readonly = false;
        for (mk, mv) in item.entries().unwrap_or_default() {
            let key = self.key(mk)?;
            match key.as_str() {
                "type" => kind = self.text(mv, &what)?.unwrap_or_default(),
                "source" => source = self.text(mv, &what)?,
                "target" => target = self.text(mv, &what)?,
                "read_only" => readonly = self.boolean(mv, &what)?,
                "bind" | "volume" | "tmpfs" | "image" => {
                    for (ok, ov) in mv.entries().unwrap_or_default() {
                        let option = self.key(ok)?;
                        let default = matches!(
                            (option.as_str(), ov.scalar()),
                            ("create_host_path", Some("true")) | ("nocopy", Some("false"))
                        );
                        if !default {
                            self.lose(
                                ok.span,
                                format!("`{key}.{option}` of {what} is not carried over"),
                                "not imported",
                                "",
                            );
                        }
                    }
                }
                k2 if k2.starts_with("x-") => {}
                other => self.lose(
                    mk.span,
                    format!("`{other}` of {what} is not carried over"),
                    "not imported",
                    "",
                ),
            }
        }
        let Some(target) = target else {
            return Err(bad_mount(item.span, "", "no `target`"));
        };
        match kind.as_str() {
            "tmpfs" => {
                s.tmpfs.push(string(target, item.span));
                s.tmpfs_span.get_or_insert(item.span);
                Ok(())
            }
            "bind" => {
                let Some(src) = source else {
                    return Err(bad_mount(
                        item.span,
                        &target,
                        "a bind mount needs a `source`",
                    ));
                };
                self.mount(s, string(src, item.span), &target, readonly, item.span)
            }
            "volume" => {
                let vol = match source {
                    Some(src) => self.volume_ref(&src, item.span),
                    None => self.anonymous_volume(s, &target, item.span),
                };
                self.mount(s, name(vol, item.span), &target, readonly, item.span)
            }
            other => {
                self.lose(
                    item.span,
                    format!(
                        "the `{other}` mount of `{}` at {target} is not carried over",
                        s.name
                    ),
                    "not imported",
                    "",
                );
                Ok(())
            }
        }
    }
}

/// `SOURCE:TARGET:MODE` split on `:`, a Windows drive (`C:\\x`) kept whole.
fn mount_parts(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b != b':' || i < start {
            continue;
        }
        let drive = i == start + 1
            && bytes[start].is_ascii_alphabetic()
            && matches!(bytes.get(i + 1), Some(b'\\'));
        if drive {
            continue;
        }
        parts.push(&text[start..i]);
        start = i + 1;
    }
    parts.push(&text[start..]);
    parts
}

fn is_windows_path(p: &str) -> bool {
    let b = p.as_bytes();
    p.contains('\\') || (b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
}

fn bad_mount(span: Span, text: &str, why: &str) -> Diagnostic {
    Diagnostic::new(Code::ImportInvalid, span, format!("`{text}` is not a volume: {why}"))
        .label("compose cannot read this volume")
        .help("volumes are `NAME:/path[:ro]`, `./host/path:/path[:ro]`, or a mapping with `type`, `source` and `target`")
}
