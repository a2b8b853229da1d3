//! The image → class catalogue, read from `class` items (the stdlib's
//! `catalogue.inf`, plus any the program adds). The compiler holds no image
//! names of its own: which images are data stores and which admin tools is
//! data, kept beside the templates.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::catalogue_table::Table;
use super::Ctx;
use crate::ast::{DeclKind, Stmt, Value, ValueKind};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::Class;
use crate::span::{FileId, Span};

/// One image the catalogue knows. The stdlib's entries borrow the embedded
/// text (they are built for every compilation: no allocation each).
#[derive(Debug, Clone)]
pub struct Entry {
    /// The repository path, as written (matched through [`repository_path`]).
    pub image: Cow<'static, str>,
    /// `image`'s [`repository_path`], computed once: every service's image
    /// is matched against every entry.
    pub path: Cow<'static, str>,
    pub class: Class,
    /// The ports the image listens on.
    pub ports: Cow<'static, [u16]>,
    /// The documentation page its classification comes from.
    pub source: Option<Cow<'static, str>>,
    /// A remote shell or desktop: every port it publishes is remote
    /// administration.
    pub remote_admin: bool,
    /// From the stdlib's catalogue (not the program's own `class` items).
    pub stdlib: bool,
    /// Where the entry is written.
    pub span: Span,
}

#[derive(Debug, Default, Clone)]
pub struct Catalogue {
    /// In declaration order; the program's own entries come after the
    /// stdlib's and win.
    entries: Vec<Entry>,
    /// The stdlib's table, when its rows are the first of `entries`: its
    /// index narrows a lookup to the rows that can match.
    table: Option<&'static Table>,
    /// Well-known ports of sensitive classes: port → (class, what it is).
    ports: BTreeMap<u16, (Class, Cow<'static, str>)>,
}

/// Whether catalogue entry `entry` names the image at repository path
/// `path` (both repository paths): the same path, the path after a mirror or proxy prefix
/// (`harbor.corp/hub/bitnami/redis` ends with `/bitnami/redis`), or, for an
/// entry without `/`, the path's last component.
fn matches(entry: &str, path: &str) -> bool {
    if entry == path {
        return true;
    }
    if entry.contains('/') {
        return path.len() > entry.len()
            && path.ends_with(entry)
            && path[..path.len() - entry.len()].ends_with('/');
    }
    path.rsplit('/').next() == Some(entry)
}

impl Catalogue {
    /// The class of an image, and the catalogue entry that matched.
    pub fn classify(&self, image: &str) -> Option<(Class, &str)> {
        self.entry(image, false).map(|e| (e.class, &*e.image))
    }

    /// The entry for `image`: the program's own entries first, unless
    /// `stdlib_only` (what the stdlib says the image is, for provenance).
    pub fn entry(&self, image: &str, stdlib_only: bool) -> Option<&Entry> {
        let path = repository_path(image);
        self.candidates(&path)
            .rev()
            .filter(|e| e.stdlib || !stdlib_only)
            .find(|e| matches(&e.path, &path))
    }

    /// The catalogue entry naming `image` as a remote shell or desktop.
    pub fn remote_admin(&self, image: &str) -> Option<&str> {
        let path = repository_path(image);
        self.candidates(&path)
            .find(|e| e.remote_admin && matches(&e.path, &path))
            .map(|e| &*e.image)
    }

    /// The entries that can match an image at repository path `path`, in
    /// declaration order: the table's rows its index gives, then every
    /// entry after the table (all of them when there is no table).
    fn candidates<'s>(&'s self, path: &str) -> impl DoubleEndedIterator<Item = &'s Entry> + 's {
        let rows = self.table.map_or(0, |t| t.entries.len());
        let (table, rest) = self.entries.split_at(rows);
        let indexed = self.table.map_or(&[][..], |t| t.candidates(path));
        indexed.iter().map(move |&i| &table[i as usize]).chain(rest)
    }

    /// The stdlib entry naming `image` as an application that serves its
    /// users on `port`, a port the remote-administration table lists (a
    /// Git forge's own SSH server on 22: git over SSH with per-user keys,
    /// no shell). That port is the application's protocol, not a way to
    /// administer the host. Only the stdlib's word counts: a program's own
    /// `class` items say what an image is, not that its SSH is harmless.
    pub fn serves_users_on(&self, image: &str, port: u16) -> Option<&str> {
        self.entry(image, true)
            .filter(|e| e.class == Class::App && e.ports.contains(&port))
            .map(|e| &*e.image)
    }

    /// Every entry, in declaration order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// What a well-known port usually is, for the unclassified-port warning.
    pub fn port(&self, port: u16) -> Option<(Class, &str)> {
        self.ports.get(&port).map(|(c, s)| (*c, &**s))
    }

    /// The stdlib's entries and ports from its scanned table, as the
    /// parsed catalogue gives them, pointing into file `file`.
    fn add_table(&mut self, table: &'static Table, file: FileId) {
        debug_assert!(self.entries.is_empty(), "the table's rows come first");
        self.table = Some(table);
        self.entries.extend(table.entries.iter().map(|row| Entry {
            image: Cow::Borrowed(row.image),
            path: Cow::Borrowed(&*row.path),
            class: row.class,
            ports: Cow::Borrowed(row.ports.as_slice()),
            source: row.source.map(Cow::Borrowed),
            remote_admin: row.remote_admin,
            stdlib: true,
            span: Span::new(file, row.key.0, row.key.1),
        }));
        for &(port, class, what) in &table.ports {
            self.ports.insert(port, (class, Cow::Borrowed(what)));
        }
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

impl<'a> Ctx<'a> {
    /// Builds the catalogue: the stdlib's scanned table when it was read
    /// as one (`stdlib_table`), then every `class` item in the tables.
    pub(super) fn load_catalogue(&mut self) {
        if let Some((table, file)) = self.stdlib_table {
            self.catalogue.add_table(table, file);
        }
        let decls: Vec<_> = self.all_class_decls.clone();
        for (decl, stdlib) in decls {
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
            let attrs = self.attributes(decl, &["images", "remote_admin", "ports"]);
            if let Some(a) = attrs.get("images") {
                self.catalogue_images(&a.value, class, false, stdlib);
            }
            // Remote shells and desktops are of the class too.
            if let Some(a) = attrs.get("remote_admin") {
                self.catalogue_images(&a.value, class, true, stdlib);
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
                        self.catalogue.ports.insert(port, (class, Cow::Owned(what)));
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

    /// `images = ["repo", ...]`, or the stdlib's documented form
    /// `images = { "repo" = { ports = [..], source = "URL" } }`.
    fn catalogue_images(
        &mut self,
        value: &'a Value,
        class: Class,
        remote_admin: bool,
        stdlib: bool,
    ) {
        let push =
            |ctx: &mut Self, image: String, ports: Vec<u16>, source: Option<String>, span| {
                ctx.catalogue.entries.push(Entry {
                    path: Cow::Owned(repository_path(&image)),
                    image: Cow::Owned(image),
                    class,
                    ports: Cow::Owned(ports),
                    source: source.map(Cow::Owned),
                    remote_admin,
                    stdlib,
                    span,
                })
            };
        let v = self.deref(value);
        match &v.kind {
            ValueKind::Map(entries) => {
                for e in entries {
                    let mut ports = Vec::new();
                    let mut source = None;
                    let ValueKind::Map(fields) = &self.deref(&e.value).kind else {
                        self.type_error(
                            &e.value,
                            "a catalogue image",
                            "a map `{ ports = [..], source = \"URL\" }`",
                        );
                        continue;
                    };
                    for f in fields {
                        match f.key.node.as_str() {
                            "ports" => {
                                for p in self.list(&f.value, "`ports`").unwrap_or_default() {
                                    if let Some(n) = self.port_number(p, "`ports`") {
                                        ports.push(n);
                                    }
                                }
                            }
                            "source" => source = self.string(&f.value, "`source`"),
                            other => self.unknown_key(
                                f,
                                other,
                                "a catalogue image",
                                &["ports", "source"],
                            ),
                        }
                    }
                    push(self, e.key.node.clone(), ports, source, e.key.span);
                }
            }
            _ => {
                let Some(items) = self.list(value, "`images`") else {
                    return;
                };
                for item in items {
                    if let Some(image) = self.string(item, "`images`") {
                        push(self, image, Vec::new(), None, item.span);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{repository_path, Ctx};
    use crate::ir::Class;

    fn stdlib_catalogue() -> super::Catalogue {
        let text = crate::stdlib::module(crate::stdlib::CATALOGUE).expect("the catalogue");
        let (file, errors) = crate::syntax::parse(crate::span::FileId(0), text);
        assert!(errors.is_empty(), "{errors:?}");
        let file: &'static crate::ast::File = Box::leak(Box::new(file));
        let mut ctx = Ctx::default();
        ctx.collect(file, true);
        ctx.load_catalogue();
        assert!(ctx.diagnostics.is_empty(), "{:?}", ctx.diagnostics);
        ctx.catalogue
    }

    /// The table the checker reads the stdlib catalogue from (scanned, not
    /// parsed) gives every entry, span and port the parsed file gives, in
    /// the same order.
    #[test]
    fn the_scan_reads_what_the_parser_reads() {
        let parsed = stdlib_catalogue();
        let table = super::super::catalogue_table::stdlib()
            .expect("catalogue.inf is in the form the scan reads");
        let mut scanned = super::Catalogue::default();
        scanned.add_table(table, crate::span::FileId(0));
        assert_eq!(parsed.entries.len(), scanned.entries.len());
        for (p, s) in parsed.entries.iter().zip(&scanned.entries) {
            assert_eq!(format!("{p:?}"), format!("{s:?}"));
        }
        assert_eq!(
            format!("{:?}", parsed.ports),
            format!("{:?}", scanned.ports)
        );
        // The table's index finds what a walk of every entry finds.
        let mut images: Vec<String> = ["nginx:1.27", "acme/redis-tools:1", "localhost:5000/x"]
            .map(String::from)
            .to_vec();
        for e in &parsed.entries {
            images.push(e.image.to_string());
            images.push(format!("docker.io/library/{}:1.0", e.image));
            images.push(format!("mirror.example/hub/{}@sha256:ab", e.image));
            images.push(format!("acme/{}-exporter", e.image));
        }
        for image in &images {
            for stdlib_only in [false, true] {
                let (p, s) = (
                    parsed.entry(image, stdlib_only),
                    scanned.entry(image, stdlib_only),
                );
                assert_eq!(format!("{p:?}"), format!("{s:?}"), "{image}");
            }
            assert_eq!(parsed.remote_admin(image), scanned.remote_admin(image));
        }
    }

    /// At least 300 images, each with its class, its ports and the page
    /// that documents it; no image twice.
    #[test]
    fn the_catalogue_is_broad_and_sourced() {
        let c = stdlib_catalogue();
        assert!(c.entries().len() >= 300, "{} images", c.entries().len());
        let mut seen = std::collections::BTreeSet::new();
        for e in c.entries() {
            let source = e.source.as_deref().unwrap_or("");
            assert!(source.starts_with("https://"), "{} has no source", e.image);
            assert!(
                seen.insert(repository_path(&e.image)),
                "{} is listed twice",
                e.image
            );
        }
    }

    #[test]
    fn registry_and_mirror_prefixes_match() {
        let c = stdlib_catalogue();
        for (image, class) in [
            ("docker.io/bitnami/postgresql:16", Class::Data),
            ("mirror.gcr.io/library/redis:7", Class::Data),
            ("bitnami/postgresql", Class::Data),
            ("mysql/mysql-server:8.0", Class::Data),
            ("pgvector/pgvector:pg16", Class::Data),
            ("valkey/valkey:8", Class::Data),
            (
                "docker.dragonflydb.io/dragonflydb/dragonfly:v1.23",
                Class::Data,
            ),
            ("cockroachdb/cockroach:v24.2.3", Class::Data),
            ("solr:9.7", Class::Data),
            ("hashicorp/vault:1.17", Class::Admin),
            ("rancher/rancher:v2.9.2", Class::Admin),
            ("grafana/grafana-oss:11.2.0", Class::Admin),
            (
                "harbor.corp.example/hub-proxy/bitnami/redis:7.4",
                Class::Data,
            ),
            ("public.ecr.aws/bitnami/mongodb:7.0", Class::Data),
            (
                "docker.elastic.co/elasticsearch/elasticsearch:8.15.0",
                Class::Data,
            ),
            ("lscr.io/linuxserver/openssh-server:9.7", Class::Admin),
        ] {
            assert_eq!(c.classify(image).map(|(k, _)| k), Some(class), "{image}");
        }
        for image in [
            "nginx:1.27",
            "ghcr.io/acme/api:1.4.2",
            "acme/postgres-backup:1.0",
        ] {
            assert_eq!(c.classify(image), None, "{image}");
        }
        assert!(c
            .remote_admin("linuxserver/openssh-server:latest")
            .is_some());
        assert!(c.remote_admin("redis:7").is_none());
    }

    /// A Git forge's SSH is its users' protocol; an sshd image's is a
    /// shell, and a port the entry does not list is not the forge's.
    #[test]
    fn an_application_s_own_ssh_is_not_remote_administration() {
        let c = stdlib_catalogue();
        assert_eq!(
            c.serves_users_on("gitea/gitea:1.22.2", 22),
            Some("gitea/gitea")
        );
        assert!(c
            .serves_users_on("codeberg.org/forgejo/forgejo:9", 22)
            .is_some());
        assert_eq!(c.serves_users_on("gitea/gitea:1.22.2", 3389), None);
        assert_eq!(c.serves_users_on("panubo/sshd:1.9", 22), None);
        assert_eq!(c.serves_users_on("ghcr.io/acme/git:1", 22), None);
    }

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
