//! The image → class catalogue, read from `class` items (the stdlib's
//! `catalogue.inf`, plus any the program adds). The compiler holds no image
//! names of its own: which images are data stores and which admin tools is
//! data, kept beside the templates.

use std::collections::BTreeMap;

use super::Ctx;
use crate::ast::{DeclKind, Stmt, ValueKind};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::Class;

#[derive(Debug, Default, Clone)]
pub struct Catalogue {
    /// (entry, class) in declaration order; the program's own entries come
    /// after the stdlib's and win.
    images: Vec<(String, Class)>,
    /// Well-known ports of sensitive classes: port → (class, what it is).
    ports: BTreeMap<u16, (Class, String)>,
}

impl Catalogue {
    /// The class of an image, and the catalogue entry that matched.
    ///
    /// An entry matches an image whose repository path — registry host,
    /// `library/`, tag and digest removed — equals the entry, or, for an
    /// entry without `/`, whose last path component equals it: `redis`
    /// matches `redis:7`, `docker.io/library/redis` and `bitnami/redis`.
    pub fn classify(&self, image: &str) -> Option<(Class, &str)> {
        let path = repository_path(image);
        let last = path.rsplit('/').next().unwrap_or(&path);
        self.images
            .iter()
            .rev()
            .find(|(entry, _)| *entry == path || (!entry.contains('/') && entry == last))
            .map(|(entry, class)| (*class, entry.as_str()))
    }

    /// What a well-known port usually is, for the unclassified-port warning.
    pub fn port(&self, port: u16) -> Option<(Class, &str)> {
        self.ports.get(&port).map(|(c, s)| (*c, s.as_str()))
    }
}

/// `ghcr.io/acme/api:1.4@sha256:..` → `acme/api`; `redis` → `redis`.
pub fn repository_path(image: &str) -> String {
    let no_digest = image.split('@').next().unwrap_or(image);
    let mut parts: Vec<&str> = no_digest.split('/').collect();
    if let Some(last) = parts.last_mut() {
        *last = last.split(':').next().unwrap_or(last);
    }
    if parts.len() > 1 {
        let first = parts[0];
        if first.contains('.') || first.contains(':') || first == "localhost" {
            parts.remove(0);
        }
    }
    if parts.len() > 1 && parts[0] == "library" {
        parts.remove(0);
    }
    parts.join("/")
}

impl Ctx<'_> {
    /// Builds the catalogue from every `class` item in the tables.
    pub(super) fn load_catalogue(&mut self) {
        let decls: Vec<_> = self.all_class_decls.clone();
        for decl in decls {
            let Some(class) = Class::parse(&decl.name.node) else {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        decl.name.span,
                        format!("`{}` is not a class", decl.name.node),
                    )
                    .label("expected `data`, `admin` or `app`"),
                );
                continue;
            };
            let attrs = self.attributes(decl, &["images", "ports"]);
            if let Some(a) = attrs.get("images") {
                for image in self.strings(&a.value, "`images`").unwrap_or_default() {
                    self.catalogue.images.push((image, class));
                }
            }
            if let Some(a) = attrs.get("ports") {
                let ValueKind::Map(entries) = &a.value.kind else {
                    self.type_error(&a.value, "`ports`", "a map `{ PORT = \"what it is\" }`");
                    continue;
                };
                for e in entries {
                    let Ok(port) = e.key.node.parse::<u16>() else {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::InvalidValue,
                                e.key.span,
                                "expected a port number as the key",
                            )
                            .label("not a port"),
                        );
                        continue;
                    };
                    if let Some(what) = self.string(&e.value, "a catalogue port") {
                        self.catalogue.ports.insert(port, (class, what));
                    }
                }
            }
            for stmt in &decl.body {
                if !matches!(stmt, Stmt::Attribute(_)) {
                    self.not_here(stmt, DeclKind::Class);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::repository_path;

    #[test]
    fn repository_paths() {
        assert_eq!(repository_path("redis"), "redis");
        assert_eq!(repository_path("redis:7.4"), "redis");
        assert_eq!(repository_path("docker.io/library/redis:7"), "redis");
        assert_eq!(repository_path("library/postgres@sha256:abc"), "postgres");
        assert_eq!(repository_path("ghcr.io/acme/api:1.4.2"), "acme/api");
        assert_eq!(repository_path("localhost:5000/acme/api"), "acme/api");
        assert_eq!(
            repository_path("jenkins/jenkins:2.462.3-lts"),
            "jenkins/jenkins"
        );
    }
}
