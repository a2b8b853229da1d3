//! A top-level `include:`: the files it names, resolved, their resources
//! added where the including file does not define them. Part of
//! [`super`], the resolution of the files a compose file names.

use std::path::{Path, PathBuf};

use super::merge::merge_files;
use super::{scalar, Resolver};
use crate::diagnostics::{Code, Diagnostic};
use crate::import::yaml::{Kind, Node};
use crate::span::FileId;

impl Resolver<'_> {
    /// The files of a top-level `include`, their resources added to `root`
    /// where it does not define them itself.
    pub(super) fn include(
        &mut self,
        id: FileId,
        root: &mut Node,
        list: &Node,
    ) -> Result<(), Diagnostic> {
        let items: Vec<Node> = match &list.kind {
            Kind::Seq(items) => items.clone(),
            _ if list.is_null() => Vec::new(),
            _ => vec![list.clone()],
        };
        for item in items {
            let mut paths: Vec<Node> = Vec::new();
            match &item.kind {
                Kind::Scalar { .. } => paths.push(item.clone()),
                Kind::Map(entries) => {
                    for (k, v) in entries {
                        match k.scalar() {
                            Some("path") => match &v.kind {
                                Kind::Seq(ps) => paths.extend(ps.iter().cloned()),
                                _ => paths.push(v.clone()),
                            },
                            Some(other) => self.lose(
                                k.span,
                                format!("`{other}` of an `include` is not carried over"),
                                "not imported",
                                "the included file is imported from its own directory, with no environment",
                            ),
                            None => {}
                        }
                    }
                }
                Kind::Seq(_) => {}
            }
            // Several paths of one item are merged as `-f` would merge them.
            let mut merged: Option<Node> = None;
            for p in paths {
                let Some(rel) = p.scalar() else { continue };
                let Some((other, other_root)) = self.load(id, rel, p.span, "`include`")? else {
                    continue;
                };
                let pushed = self.push_chain(other);
                let resolved = self.resolved_file(other, &other_root, p.span);
                if pushed {
                    self.chain.pop();
                }
                let resolved = resolved?;
                if self.dir_of(other) != self.dir_of(id) {
                    self.lose(
                        p.span,
                        format!("{rel} is in another directory: relative paths in it are relative to that directory in compose, and to this file in the program"),
                        "approximated",
                        "check its bind mounts and secret files in the imported program",
                    );
                }
                merged = Some(match merged {
                    None => resolved,
                    Some(base) => merge_files(&base, &resolved),
                });
            }
            if let Some(included) = merged {
                self.add_resources(root, &included);
            }
        }
        Ok(())
    }

    fn dir_of(&self, id: FileId) -> Option<PathBuf> {
        self.paths.get(&id)?.parent().map(Path::to_path_buf)
    }

    /// Adds the services, networks, volumes, secrets and configs of
    /// `included` that `root` does not define; a conflict keeps `root`'s
    /// (compose refuses it).
    fn add_resources(&mut self, root: &mut Node, included: &Node) {
        let Kind::Map(entries) = &mut root.kind else {
            return;
        };
        for section in ["services", "networks", "volumes", "secrets", "configs"] {
            let Some(theirs) = included.get(section).and_then(Node::entries) else {
                continue;
            };
            let at = match entries
                .iter()
                .position(|(k, _)| k.scalar() == Some(section))
            {
                Some(at) => at,
                None => {
                    let span = included.get(section).map_or(included.span, |n| n.span);
                    entries.push((
                        scalar(section, span),
                        Node {
                            kind: Kind::Map(Vec::new()),
                            span,
                        },
                    ));
                    entries.len() - 1
                }
            };
            let ours = &mut entries[at].1;
            if ours.is_null() {
                ours.kind = Kind::Map(Vec::new());
            }
            let Kind::Map(mine) = &mut ours.kind else {
                continue;
            };
            for (k, v) in theirs {
                let name = k.scalar().unwrap_or_default();
                match mine.iter().find(|(m, _)| m.scalar() == Some(name)) {
                    Some((first, _)) => {
                        let d = Diagnostic::new(
                            Code::ImportLoss,
                            k.span,
                            format!("{section} `{name}` of an included file is also defined by the including file; the including file's is kept"),
                        )
                        .label("defined twice")
                        .secondary(first.span, "kept")
                        .help("compose refuses this conflict: rename one of them");
                        self.diagnostics.push(d);
                    }
                    None => mine.push((k.clone(), v.clone())),
                }
            }
        }
    }
}
