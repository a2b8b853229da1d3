//! The program's namespaces: the application's, always `restricted`, and
//! one per lower Pod Security level a service needs (`PROJECT-privileged`,
//! `PROJECT-baseline`), so a privileged DaemonSet does not lower every
//! other pod's namespace.

use super::workload::{self, PodSecurity};
use super::{Object, Plan};
use crate::backend::yaml::Map;
use crate::ir::{Model, ServiceId};

/// The application's namespace and each lower level's, in [`Plan::namespaces`]
/// order; the DNS names a namespace of a lower level gets, from
/// `PROJECT-LEVEL` cut to fit 63 bytes.
pub(super) fn of(model: &Model, project: &str) -> (Vec<(String, PodSecurity)>, Vec<usize>) {
    let mut namespaces = vec![(project.to_string(), PodSecurity::Restricted)];
    let mut of = Vec::with_capacity(model.services.len());
    for s in &model.services {
        let level = workload::pod_security(s);
        let name = match level {
            PodSecurity::Restricted => project.to_string(),
            lower => {
                let suffix = format!("-{}", lower.as_str());
                let mut stem = project.to_string();
                stem.truncate(63 - suffix.len());
                format!("{}{suffix}", stem.trim_end_matches('-'))
            }
        };
        let i = match namespaces.iter().position(|(n, _)| *n == name) {
            Some(i) => i,
            None => {
                namespaces.push((name, level));
                namespaces.len() - 1
            }
        };
        of.push(i);
    }
    (namespaces, of)
}

/// The Namespace objects, each labelled with its Pod Security level.
pub(super) fn objects(plan: &Plan<'_>) -> Vec<Object> {
    plan.namespaces
        .iter()
        .map(|(name, level)| {
            let mut labels = plan.labels(None);
            labels
                .insert("pod-security.kubernetes.io/enforce", level.as_str())
                .insert("pod-security.kubernetes.io/enforce-version", "latest")
                .insert("pod-security.kubernetes.io/warn", level.as_str())
                .insert("pod-security.kubernetes.io/warn-version", "latest");
            let mut metadata = Map::new();
            metadata.insert("name", name.as_str()).insert("labels", labels);
            let mut body = Map::new();
            body.insert("apiVersion", "v1")
                .insert("kind", "Namespace")
                .insert("metadata", metadata);
            let mut o = Object {
                notes: Vec::new(),
                body,
            };
            if *level != PodSecurity::Restricted {
                let members: Vec<String> = plan
                    .model
                    .services
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| plan.namespace_of(ServiceId(*i as u32)) == name)
                    .map(|(_, s)| format!("`{}`", s.name))
                    .collect();
                o = o.note(format!(
                    "Pod Security `{}` for {} only (waived host access or added capabilities): namespace `{}` stays `restricted`.",
                    level.as_str(),
                    members.join(", "),
                    plan.namespace
                ));
            }
            o
        })
        .collect()
}
