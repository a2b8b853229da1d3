//! The volumes of a service's pod: claims for named volumes (a
//! StatefulSet's templates, or an existing claim for an external volume),
//! host paths, memory-backed emptyDirs for `tmpfs`, a scratch `/tmp`
//! under a read-only root, an emptyDir for an image's data directory that
//! no volume holds (the image's `VOLUME` means nothing to Kubernetes, and
//! the root is read-only), and the secrets as files in /run/secrets.

use super::workload::Kind;
use super::{claim, dns_label, narrows, Plan};
use crate::backend::yaml::{strings, Map, Node};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{MountSource, Service, Volume};

/// The pod's volumes, the container's mounts, the claim templates of a
/// StatefulSet, and notes for the file's header.
pub(super) struct Volumes {
    pub(super) volumes: Vec<Node>,
    pub(super) mounts: Vec<Node>,
    pub(super) claims: Vec<Node>,
    pub(super) notes: Vec<String>,
    pub(super) secret_note: Option<String>,
}

impl Volumes {
    pub(super) fn of(
        plan: &Plan<'_>,
        s: &Service,
        kind: Kind,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Self {
        let model = plan.model;
        let mut v = Volumes {
            volumes: Vec::new(),
            mounts: Vec::new(),
            claims: Vec::new(),
            notes: Vec::new(),
            secret_note: None,
        };
        let mut named: Vec<String> = Vec::new();
        // The names infrac makes up must not take a volume's own name.
        let mut taken: super::Taken = s
            .mounts
            .iter()
            .filter_map(|m| match m.source {
                MountSource::Volume(id) => Some(dns_label(&model.volume(id).name)),
                MountSource::HostPath(_) => None,
            })
            .collect();
        let mut hosts = 0;
        for m in &s.mounts {
            let name = match &m.source {
                MountSource::Volume(id) => {
                    let volume = model.volume(*id);
                    let name = dns_label(&volume.name);
                    if !named.contains(&name) {
                        named.push(name.clone());
                        if volume.external {
                            let mut claim = Map::new();
                            claim.insert("claimName", name.as_str());
                            v.volume(&name, "persistentVolumeClaim", claim);
                            v.notes.push(format!(
                                "The PersistentVolumeClaim `{name}` (external volume `{}`) must exist.",
                                volume.name
                            ));
                        } else if kind == Kind::StatefulSet {
                            v.claims.push(claim_template(&name, volume));
                        } else {
                            diagnostics.push(
                                narrows(m.span, format!("a DaemonSet cannot claim a volume per pod: `{}` of `{}` lives only as long as its pod", volume.name, s.name))
                                    .label("an emptyDir in Kubernetes")
                                    .help(format!("declare `volume {} {{ external = true }}` and create a PersistentVolumeClaim of that name, or drop `mode = global`", volume.name)),
                            );
                            v.volume(&name, "emptyDir", Map::new());
                            v.notes.push(format!(
                                "Volume `{}` is an emptyDir: a DaemonSet cannot claim storage per pod.",
                                volume.name
                            ));
                        }
                    }
                    name
                }
                MountSource::HostPath(path) => {
                    let name = claim(&mut taken, &format!("host-{hosts}"));
                    hosts += 1;
                    let mut host = Map::new();
                    host.insert("path", path.as_str());
                    v.volume(&name, "hostPath", host);
                    name
                }
            };
            v.mount(&name, &m.target, m.readonly);
        }
        for (i, entry) in s.tmpfs.iter().enumerate() {
            let (path, options) = entry.split_once(':').unwrap_or((entry, ""));
            let size = options
                .split(',')
                .find_map(|o| o.strip_prefix("size="))
                .and_then(tmpfs_size)
                .unwrap_or_else(|| "64Mi".to_string());
            let name = claim(&mut taken, &format!("tmpfs-{i}"));
            let mut dir = Map::new();
            dir.insert("medium", "Memory").insert("sizeLimit", size);
            v.volume(&name, "emptyDir", dir);
            v.mount(&name, path, false);
        }
        if let Some(data) = s.data.as_ref().filter(|d| s.volume_at(&d.dir).is_none()) {
            diagnostics.push(
                Diagnostic::new(
                    Code::DataNotKept,
                    data.span,
                    format!("the data of `{}` in {} is on no volume: Kubernetes keeps it only as long as the pod", s.name, data.dir),
                )
                .label("an emptyDir in Kubernetes")
                .help(format!("mount a volume there to keep it: `volume {n}-data {{}}` and `mounts = [{n}-data -> \"{}\"]`", data.dir, n = s.name)),
            );
            let name = claim(&mut taken, "data");
            v.volume(&name, "emptyDir", Map::new());
            v.mount(&name, &data.dir, false);
        }
        let has_tmp = s.mounts.iter().any(|m| m.target == "/tmp")
            || s.tmpfs.iter().any(|t| t.split(':').next() == Some("/tmp"));
        if s.read_only != Some(false) && !has_tmp {
            // The root is read-only: give programs the scratch space they expect.
            let mut dir = Map::new();
            dir.insert("sizeLimit", "64Mi");
            let name = claim(&mut taken, "tmp");
            v.volume(&name, "emptyDir", dir);
            v.mount(&name, "/tmp", false);
        }
        if !s.secrets.is_empty() {
            let name = claim(&mut taken, "secrets");
            v.secrets(plan, s, &name);
        }
        v
    }

    fn volume(&mut self, name: &str, kind: &str, source: Map) {
        let mut m = Map::new();
        m.insert("name", name).insert(kind, source);
        self.volumes.push(Node::Map(m));
    }

    fn mount(&mut self, name: &str, path: &str, read_only: bool) {
        let mut m = Map::new();
        m.insert("name", name).insert("mountPath", path);
        if read_only {
            m.insert("readOnly", true);
        }
        self.mounts.push(Node::Map(m));
    }

    /// One projected volume at /run/secrets: each secret's key `value`
    /// becomes the file /run/secrets/NAME, as in compose and swarm.
    fn secrets(&mut self, plan: &Plan<'_>, s: &Service, volume: &str) {
        let mut sources = Vec::new();
        let mut names = Vec::new();
        for id in &s.secrets {
            let secret = plan.model.secret(*id);
            // An external secret is synced into a Secret of the program's
            // name (the header's prerequisites say from which key).
            let name = dns_label(&secret.name);
            let mut item = Map::new();
            item.insert("key", "value")
                .insert("path", secret.name.as_str());
            let mut source = Map::new();
            source
                .insert("name", name.as_str())
                .insert("items", Node::Seq(vec![Node::Map(item)]));
            let mut entry = Map::new();
            entry.insert("secret", source);
            sources.push(Node::Map(entry));
            names.push(name);
        }
        let mut projected = Map::new();
        projected
            .insert_commented(
                "defaultMode",
                0o440u32,
                "0440: the pod's user and group only",
            )
            .insert("sources", Node::Seq(sources));
        self.volume(volume, "projected", projected);
        self.mount(volume, "/run/secrets", true);
        self.secret_note = Some(format!(
            "Secrets {} are not in these manifests: an external store (or `kubectl create secret`, see kustomization.yaml) creates them.",
            names.join(", ")
        ));
    }
}

/// A StatefulSet's claim for `volume`: its `size` (1Gi when unsaid) and
/// its StorageClass (the cluster's default when unsaid).
fn claim_template(name: &str, volume: &Volume) -> Node {
    let mut storage = Map::new();
    storage.insert(
        "storage",
        volume.size.map_or_else(|| "1Gi".to_string(), |b| b.k8s()),
    );
    let mut resources = Map::new();
    resources.insert("requests", storage);
    let mut spec = Map::new();
    spec.insert("accessModes", strings(&["ReadWriteOnce"]));
    spec.insert_some("storageClassName", volume.class.as_ref());
    spec.insert("resources", resources);
    let mut meta = Map::new();
    meta.insert("name", name);
    let mut m = Map::new();
    m.insert("metadata", meta).insert("spec", spec);
    Node::Map(m)
}

/// Docker's tmpfs `size=` (`64m`, binary units) as a quantity.
fn tmpfs_size(size: &str) -> Option<String> {
    let (n, unit) = size.split_at(size.find(|c: char| !c.is_ascii_digit())?);
    let suffix = match unit.to_ascii_lowercase().as_str() {
        "k" => "Ki",
        "m" => "Mi",
        "g" => "Gi",
        _ => return None,
    };
    (!n.is_empty()).then(|| format!("{n}{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmpfs_sizes() {
        assert_eq!(tmpfs_size("64m").as_deref(), Some("64Mi"));
        assert_eq!(tmpfs_size("1g").as_deref(), Some("1Gi"));
        assert_eq!(tmpfs_size("100"), None);
    }
}
