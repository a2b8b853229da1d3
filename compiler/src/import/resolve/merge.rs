//! Compose's merge rules, for `-f` overrides, `extends` and `include`:
//! which keys a later file replaces, which merge as mappings, which lists
//! merge by container path. Part of [`super`], the resolution of the files
//! a compose file names.

use super::scalar;
use crate::import::yaml::{Kind, Node};
use crate::span::Span;

/// Keys whose value a later file replaces rather than merges (compose's
/// merge rules: commands are one value, not a list to extend).
const REPLACED: &[&str] = &["command", "entrypoint", "test"];

/// Keys that are mappings in compose but may be written as lists of
/// `KEY=VALUE` (or of names): merged as mappings.
const KEYED_LISTS: &[&str] = &[
    "environment",
    "labels",
    "annotations",
    "depends_on",
    "networks",
    "sysctls",
    "extra_hosts",
];

/// Keys whose list items are merged by their container path.
const BY_TARGET: &[&str] = &["volumes", "secrets", "configs", "devices"];

/// Two whole compose files merged (`-f base -f over`): the resources of
/// each section merge by name, one by one (a service named `command` is
/// a service, not a command), other top-level keys by the rules below.
pub(super) fn merge_files(base: &Node, over: &Node) -> Node {
    const SECTIONS: &[&str] = &["services", "networks", "volumes", "secrets", "configs"];
    let (Kind::Map(b), Kind::Map(o)) = (&base.kind, &over.kind) else {
        return over.clone();
    };
    let mut out: Vec<(Node, Node)> = b.clone();
    for (ok, ov) in o {
        let key = ok.scalar();
        match out.iter_mut().find(|(bk, _)| bk.scalar() == key) {
            Some(slot) => {
                let merged = match (&slot.1.kind, &ov.kind) {
                    (Kind::Map(bs), Kind::Map(os))
                        if key.is_some_and(|k| SECTIONS.contains(&k)) =>
                    {
                        merge_maps(bs, os, ov.span)
                    }
                    _ => merge(key, &slot.1, ov),
                };
                *slot = (ok.clone(), merged);
            }
            None => out.push((ok.clone(), ov.clone())),
        }
    }
    Node {
        kind: Kind::Map(out),
        span: over.span,
    }
}

/// `over` merged onto `base` with compose's rules: mappings merge key by
/// key, commands are replaced, mounts and secrets merge by container
/// path, `KEY=VALUE` lists merge as mappings, other lists append (without
/// repeating an item), and anything else is replaced. `key` is the key
/// the two values stand under.
pub(crate) fn merge(key: Option<&str>, base: &Node, over: &Node) -> Node {
    let key_is = |set: &[&str]| key.is_some_and(|k| set.contains(&k));
    if key_is(REPLACED) || over.is_null() && !base.is_null() && key_is(KEYED_LISTS) {
        return over.clone();
    }
    if key_is(KEYED_LISTS) {
        if let (Some(b), Some(o)) = (as_mapping(base), as_mapping(over)) {
            return merge_maps(&b, &o, over.span);
        }
    }
    match (&base.kind, &over.kind) {
        (Kind::Map(b), Kind::Map(o)) => {
            let mut out: Vec<(Node, Node)> = Vec::with_capacity(b.len() + o.len());
            for (bk, bv) in b {
                match o.iter().find(|(ok, _)| ok.scalar() == bk.scalar()) {
                    Some((ok, ov)) => out.push((ok.clone(), merge(bk.scalar(), bv, ov))),
                    None => out.push((bk.clone(), bv.clone())),
                }
            }
            for (ok, ov) in o {
                if !b.iter().any(|(bk, _)| bk.scalar() == ok.scalar()) {
                    out.push((ok.clone(), ov.clone()));
                }
            }
            Node {
                kind: Kind::Map(out),
                span: over.span,
            }
        }
        (Kind::Seq(b), Kind::Seq(o)) if key_is(BY_TARGET) => {
            let mut out: Vec<Node> = Vec::new();
            for item in b.iter().chain(o) {
                let t = target_of(item);
                out.retain(|old| t.is_none() || target_of(old) != t);
                out.push(item.clone());
            }
            Node {
                kind: Kind::Seq(out),
                span: over.span,
            }
        }
        (Kind::Seq(b), Kind::Seq(o)) => {
            let mut out: Vec<Node> = b.clone();
            for item in o {
                let repeated =
                    item.scalar().is_some() && out.iter().any(|old| old.scalar() == item.scalar());
                if !repeated {
                    out.push(item.clone());
                }
            }
            Node {
                kind: Kind::Seq(out),
                span: over.span,
            }
        }
        _ => over.clone(),
    }
}

fn merge_maps(base: &[(Node, Node)], over: &[(Node, Node)], span: Span) -> Node {
    let mut out: Vec<(Node, Node)> = base.to_vec();
    for (k, v) in over {
        match out.iter_mut().find(|(old, _)| old.scalar() == k.scalar()) {
            Some(slot) => {
                let merged = merge(None, &slot.1, v);
                *slot = (k.clone(), merged);
            }
            None => out.push((k.clone(), v.clone())),
        }
    }
    Node {
        kind: Kind::Map(out),
        span,
    }
}

/// A mapping, or a list of `KEY=VALUE` / `NAME` items read as one.
fn as_mapping(node: &Node) -> Option<Vec<(Node, Node)>> {
    match &node.kind {
        Kind::Map(entries) => Some(entries.clone()),
        _ if node.is_null() => Some(Vec::new()),
        Kind::Seq(items) => items
            .iter()
            .map(|item| {
                let text = item.scalar()?;
                let (k, v) = match text.split_once('=') {
                    Some((k, v)) => (k, Some(v)),
                    None => (text, None),
                };
                let value = match v {
                    Some(v) => Node {
                        kind: Kind::Scalar {
                            text: v.to_string(),
                            plain: false,
                        },
                        span: item.span,
                    },
                    None => Node {
                        kind: Kind::Scalar {
                            text: String::new(),
                            plain: true,
                        },
                        span: item.span,
                    },
                };
                Some((scalar(k, item.span), value))
            })
            .collect(),
        Kind::Scalar { .. } => None,
    }
}

/// The container path (or name) a mount, secret or config item is for.
fn target_of(item: &Node) -> Option<String> {
    match &item.kind {
        Kind::Scalar { text, .. } => {
            let parts: Vec<&str> = text.split(':').collect();
            Some(match parts.len() {
                1 => parts[0].to_string(),
                _ => parts[1].to_string(),
            })
        }
        Kind::Map(_) => item
            .get("target")
            .or_else(|| item.get("source"))
            .and_then(Node::scalar)
            .map(str::to_string),
        Kind::Seq(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::yaml;
    use crate::span::FileId;

    fn node(text: &str) -> Node {
        yaml::parse(FileId(0), text).expect("parses").root
    }

    fn keys(n: &Node) -> Vec<String> {
        n.entries()
            .unwrap_or_default()
            .iter()
            .map(|(k, _)| k.scalar().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn merge_follows_compose_rules() {
        let base = node("image: a\ncommand: [x, y]\nenvironment: [A=1, B=2]\nports: ['80']\nvolumes: ['d:/data', './c:/etc/c']\n");
        let over =
            node("command: [z]\nenvironment: {B: 3, C: 4}\nports: ['443']\nvolumes: ['e:/data']\n");
        let m = merge(None, &base, &over);
        assert_eq!(
            keys(&m),
            ["image", "command", "environment", "ports", "volumes"]
        );
        assert_eq!(
            m.get("command").and_then(Node::items).map(<[Node]>::len),
            Some(1)
        );
        let env = m.get("environment").expect("environment");
        assert_eq!(keys(env), ["A", "B", "C"]);
        assert_eq!(env.get("B").and_then(Node::scalar), Some("3"));
        assert_eq!(
            m.get("ports").and_then(Node::items).map(<[Node]>::len),
            Some(2)
        );
        let volumes: Vec<&str> = m
            .get("volumes")
            .and_then(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::scalar)
            .collect();
        assert_eq!(volumes, ["./c:/etc/c", "e:/data"]);
    }

    #[test]
    fn files_merge_services_by_name_whatever_their_names() {
        let base = node("services:\n  command:\n    image: a\n    ports: ['80']\n");
        let over = node("services:\n  command:\n    user: '1'\n  test:\n    image: b\n");
        let m = merge_files(&base, &over);
        let services = m.get("services").expect("services");
        assert_eq!(keys(services), ["command", "test"]);
        assert_eq!(
            keys(services.get("command").expect("command")),
            ["image", "ports", "user"]
        );
    }
}
