//! Completion, from the text before the cursor alone: a buffer being typed
//! rarely parses, so the context is read the way a person reads it (which
//! block the cursor is in, what the line says so far), and the names in
//! scope are the items the text declares.
//!
//! - at the start of a line: the item keywords at the top level; in a
//!   block, its attribute keys (with their line of the attribute table)
//!   and, in a service or template, `port`, `route` and `allow`;
//! - after `KEY =`: what the key takes (names of the kind it names, the
//!   words of a fixed set, `true`/`false`, images of the catalogue);
//! - after `port N`: the exposure levels; after `->`: services; after
//!   `allow`: the findings that may be waived; after `service NAME:`:
//!   templates; after `use std/`: the stdlib's modules.

use lsp_types::{CompletionItem, CompletionItemKind, Documentation};

use super::index::{catalogue_images, std_templates};
use crate::diagnostics::{Code, Waivable};
use crate::schema::{self, Attr, ValueType};
use crate::stdlib;

const ITEMS: &[(&str, &str)] = &[
    ("service", "a container: image, ports, routes"),
    ("network", "a network services join"),
    ("volume", "a named volume"),
    (
        "secret",
        "a value mounted as a file, from outside the program",
    ),
    ("node", "a machine of the cluster"),
    (
        "template",
        "attributes services extend with `service NAME: TEMPLATE`",
    ),
    ("let", "a named value"),
    ("use", "a stdlib module: `use std/postgres`"),
    ("provider", "the cloud account security groups are made in"),
    ("class", "catalogue entries: images and their class"),
];

const LEVELS: &[(&str, &str)] = &[
    ("local", "reachable only from the host itself (127.0.0.1)"),
    (
        "internal",
        "reachable by services that share a network with it",
    ),
    (
        "restricted",
        "internal, plus the listed address ranges: `restricted(LIST)`",
    ),
    ("public", "reachable from anywhere"),
];

fn item(label: &str, kind: CompletionItemKind, detail: &str) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: (!detail.is_empty()).then(|| detail.to_string()),
        documentation: (!detail.is_empty()).then(|| Documentation::String(detail.to_string())),
        ..CompletionItem::default()
    }
}

pub fn complete(text: &str, offset: usize) -> Vec<CompletionItem> {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = &before[before.rfind('\n').map_or(0, |i| i + 1)..];
    let blocks = open_blocks(before);
    let words: Vec<&str> = line.split_whitespace().collect();
    let typing = line.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    // The words before the one being typed.
    let done: &[&str] = match typing {
        true => &words[..words.len().saturating_sub(1)],
        false => &words[..],
    };
    if let Some(module) = line.trim_start().strip_prefix("use ") {
        let _ = module;
        return stdlib::template_names()
            .map(|m| item(&format!("std/{m}"), CompletionItemKind::MODULE, ""))
            .collect();
    }
    if done.is_empty() {
        return match blocks.last() {
            None => ITEMS
                .iter()
                .map(|(k, d)| item(k, CompletionItemKind::KEYWORD, d))
                .collect(),
            Some(header) => keys(header, &blocks),
        };
    }
    let last = *done.last().unwrap_or(&"");
    // `service NAME:` or `service NAME: ` (the template after the colon).
    if matches!(done.first(), Some(&"service" | &"template")) && last.ends_with(':') {
        return templates(text);
    }
    match done.first() {
        Some(&"port") if done.len() >= 2 => {
            return LEVELS
                .iter()
                .map(|(l, d)| item(l, CompletionItemKind::ENUM_MEMBER, d))
                .collect()
        }
        Some(&"allow") if done.len() == 1 => {
            return Code::ALL
                .iter()
                .filter(|c| c.waiver() == Waivable::Yes)
                .map(|c| item(c.name(), CompletionItemKind::VALUE, c.summary()))
                .collect()
        }
        Some(&"route") if last == "->" => return names(text, "service"),
        _ => {}
    }
    // `KEY = ...`: what the key takes.
    if let Some(eq) = line.find('=') {
        let key = line[..eq].trim();
        let table = blocks.last().and_then(|h| table_of(h, &blocks));
        let attr = table.and_then(|t| schema::find(t, key));
        return values(text, key, attr);
    }
    Vec::new()
}

/// The headers of the blocks open at the end of `before`, outermost
/// first: `service api: base`, `health =`. Braces in strings and
/// comments are not counted.
fn open_blocks(before: &str) -> Vec<String> {
    let mut stack = Vec::new();
    let mut line_start = 0;
    let mut in_string = false;
    let mut chars = before.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => in_string = !in_string,
            '\\' if in_string => {
                chars.next();
            }
            '/' if !in_string && chars.peek().map(|(_, c)| *c) == Some('/') => {
                while chars.peek().is_some_and(|(_, c)| *c != '\n') {
                    chars.next();
                }
            }
            '\n' => {
                line_start = i + 1;
                in_string = false;
            }
            '{' if !in_string => {
                // The header is what the line says before the brace; a
                // map's key is the last `KEY =` on it.
                let head = before[line_start..i].trim();
                let head = match head.rfind('=') {
                    Some(eq) => {
                        let key = head[..eq].trim();
                        let key = key.rsplit(['{', ',']).next().unwrap_or(key);
                        format!("{} =", key.trim())
                    }
                    None => head.to_string(),
                };
                stack.push(head);
            }
            '}' if !in_string => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack
}

/// The attribute table of the innermost open block.
fn table_of(header: &str, blocks: &[String]) -> Option<&'static [Attr]> {
    if let Some(key) = header.strip_suffix(" =") {
        let outer = blocks.len().checked_sub(2).map(|i| &blocks[i])?;
        let table = table_of(outer, &blocks[..blocks.len() - 1])?;
        return match schema::find(table, key)?.ty {
            ValueType::Map(t) => Some(t),
            _ => None,
        };
    }
    let keyword = header.split_whitespace().next()?;
    Some(match keyword {
        "service" | "template" => schema::SERVICE,
        "node" => schema::NODE,
        "network" => schema::NETWORK,
        "volume" => schema::VOLUME,
        "secret" => schema::SECRET,
        "provider" => schema::PROVIDER,
        _ => return None,
    })
}

fn keys(header: &str, blocks: &[String]) -> Vec<CompletionItem> {
    let mut out: Vec<CompletionItem> = table_of(header, blocks)
        .unwrap_or(&[])
        .iter()
        .map(|a| CompletionItem {
            insert_text: Some(format!("{} = ", a.key)),
            ..item(a.key, CompletionItemKind::PROPERTY, a.doc)
        })
        .collect();
    if matches!(
        header.split_whitespace().next(),
        Some("service" | "template")
    ) {
        for (k, d) in [
            ("port", "`port N LEVEL [as HOST]`: a port and its exposure"),
            ("route", "`route \"host\" -> service:port`: a proxy's route"),
            ("allow", "`allow FINDING \"reason\"`: a waiver"),
        ] {
            out.push(item(k, CompletionItemKind::KEYWORD, d));
        }
    }
    out
}

fn values(text: &str, key: &str, attr: Option<&Attr>) -> Vec<CompletionItem> {
    if key == "image" {
        return catalogue_images()
            .iter()
            .map(|(image, class)| {
                item(
                    image,
                    CompletionItemKind::VALUE,
                    &format!("catalogue: {class}"),
                )
            })
            .collect();
    }
    match attr.map(|a| a.ty) {
        Some(ValueType::Word(words)) => words
            .iter()
            .map(|w| item(w, CompletionItemKind::ENUM_MEMBER, ""))
            .collect(),
        Some(ValueType::Boolean) => ["true", "false"]
            .iter()
            .map(|w| item(w, CompletionItemKind::VALUE, ""))
            .collect(),
        Some(ValueType::Reference(kind) | ValueType::References(kind)) => names(text, kind),
        Some(ValueType::Mounts) => names(text, "volume"),
        Some(ValueType::SecretSource) => ["env", "file", "external"]
            .iter()
            .map(|w| item(w, CompletionItemKind::FUNCTION, ""))
            .collect(),
        Some(ValueType::Access) => {
            let mut out = names(text, "let");
            out.push(item("restricted", CompletionItemKind::FUNCTION, ""));
            out
        }
        _ => names(text, "let"),
    }
}

/// The names the text declares with `keyword` (`service`, `let`, ...).
fn names(text: &str, keyword: &str) -> Vec<CompletionItem> {
    let mut out: Vec<CompletionItem> = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        if words.next() != Some(keyword) {
            continue;
        }
        let Some(name) = words.next() else { continue };
        let name = name.trim_end_matches([':', '{']);
        if !name.is_empty() && out.iter().all(|i| i.label != name) {
            out.push(item(name, CompletionItemKind::REFERENCE, keyword));
        }
    }
    out
}

fn templates(text: &str) -> Vec<CompletionItem> {
    let mut out = names(text, "template");
    for t in std_templates() {
        out.push(item(
            &t.name,
            CompletionItemKind::CLASS,
            &format!("use std/{}", t.module),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(text: &str) -> Vec<String> {
        let at = text.find('|').expect("a cursor");
        let text = text.replace('|', "");
        complete(&text, at).into_iter().map(|i| i.label).collect()
    }

    #[test]
    fn the_context_decides_what_is_offered() {
        assert!(labels("|").contains(&"service".to_string()));
        let keys = labels("service a {\n  im|\n}\n");
        assert!(keys.contains(&"image".to_string()) && keys.contains(&"port".to_string()));
        assert!(labels("service a {\n  health = {\n    int|").contains(&"interval".to_string()));
        assert_eq!(
            labels("service a {\n  port 80 |"),
            ["local", "internal", "restricted", "public"]
        );
        assert_eq!(
            labels("network edge {}\nservice a {\n  networks = [|"),
            ["edge"]
        );
        assert!(labels("service a {\n  image = \"|").contains(&"postgres".to_string()));
        assert!(labels("service a: |").contains(&"postgres".to_string()));
        assert!(labels("service a {\n  allow |").contains(&"admin-public".to_string()));
        assert!(!labels("service a {\n  allow |").contains(&"data-exposed".to_string()));
    }
}
