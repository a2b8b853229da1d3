//! `deploy` (replicas, mode, placement, resources) and the service-level
//! resource keys (`cpus`, `mem_limit`, `pids_limit`, ...).

use super::service::Svc;
use super::yaml::Node;
use super::{entry, expect_map, name, string, value, Importer};
use crate::ast::{DeclKind, Entry, ValueKind};
use crate::check::memory_bytes;
use crate::diagnostics::Diagnostic;
use crate::span::Span;

impl Importer {
    // ---- deploy ----------------------------------------------------------

    pub(super) fn deploy(&mut self, s: &mut Svc, k: &Node, v: &Node) -> Result<(), Diagnostic> {
        if v.is_null() {
            return Ok(());
        }
        let _ = k;
        for (dk, dv) in expect_map(v, "`deploy`")? {
            let key = self.key(dk)?;
            let what = format!("`deploy.{key}` of `{}`", s.name);
            match key.as_str() {
                "replicas" => {
                    if let Some(n) = self.count(dv, &what)? {
                        s.set("replicas", dk.span, value(ValueKind::Int(n), dv.span));
                    }
                }
                "mode" => match self.text(dv, &what)?.as_deref() {
                    Some("replicated") | None => {}
                    Some("global") => s.set("mode", dk.span, name("global", dv.span)),
                    Some(other) => self.lose(
                        dv.span,
                        format!("`deploy.mode: {other}` of `{}` is not carried over", s.name),
                        "not imported",
                        "jobs are not in the language",
                    ),
                },
                "placement" => self.placement(s, dk, dv)?,
                "resources" => self.resources(s, dv)?,
                "labels" => self.lose(
                    dk.span,
                    format!("{what} are not carried over"),
                    "service labels (read by proxies such as Traefik) are not imported",
                    "set them on the containers with `labels`, or configure the proxy by routes",
                ),
                "restart_policy" => self.restart_policy(s, dk, dv)?,
                k2 if k2.starts_with("x-") => {}
                other => self.not_carried(dk.span, &format!("`deploy.{other}` of `{}`", s.name)),
            }
        }
        Ok(())
    }

    fn placement(&mut self, s: &mut Svc, k: &Node, v: &Node) -> Result<(), Diagnostic> {
        let mut labels: Vec<Entry> = Vec::new();
        for (pk, pv) in self.body_entries(v, "`placement`")? {
            let key = self.key(pk)?;
            if key != "constraints" {
                self.not_carried(pk.span, &format!("`placement.{key}` of `{}`", s.name));
                continue;
            }
            for (c, span) in self.strings(pv, "a placement constraint")? {
                let parsed = c
                    .split_once("==")
                    .map(|(l, r)| (l.trim(), r.trim(), true))
                    .or_else(|| c.split_once("!=").map(|(l, r)| (l.trim(), r.trim(), false)));
                match parsed {
                    Some(("node.role", role @ ("manager" | "worker"), eq)) => {
                        let is_manager = (role == "manager") == eq;
                        let role = if is_manager { "manager" } else { "worker" };
                        s.placement.retain(|e| e.key.node != "role");
                        s.placement.push(entry("role", span, name(role, span)));
                        s.placement_span.get_or_insert(k.span);
                    }
                    Some(("node.hostname", host, true)) => {
                        let node = self.node_ref(host, span);
                        s.set("on", span, name(node, span));
                    }
                    Some((l, r, true)) if l.starts_with("node.labels.") => {
                        let label = &l["node.labels.".len()..];
                        labels.push(entry(label.to_string(), span, string(r.to_string(), span)));
                    }
                    _ => self.lose(span, format!("the placement constraint `{c}` of `{}` is not carried over", s.name), "not imported", "infrac places by `on = NODE`, `placement = { role = ..., labels = { ... } }`"),
                }
            }
        }
        if !labels.is_empty() {
            let whole = labels.iter().fold(k.span, |acc, e| acc.to(e.span));
            s.placement
                .push(entry("labels", k.span, super::map(labels, whole)));
            s.placement_span.get_or_insert(k.span);
        }
        Ok(())
    }

    fn node_ref(&mut self, host: &str, span: Span) -> String {
        if let Some(d) = self.nodes.get(host) {
            return d.name.clone();
        }
        let program = self.declare_name(DeclKind::Node, host, span);
        self.declare_bare(|i| &mut i.nodes, host.to_string(), &program, span);
        program
    }

    fn resources(&mut self, s: &mut Svc, v: &Node) -> Result<(), Diagnostic> {
        for (rk, rv) in self.body_entries(v, "`resources`")? {
            let key = self.key(rk)?;
            let (cpu, memory) = match key.as_str() {
                "limits" => ("cpu", "memory"),
                "reservations" => ("cpu_request", "memory_request"),
                other => {
                    self.not_carried(rk.span, &format!("`resources.{other}` of `{}`", s.name));
                    continue;
                }
            };
            for (ek, ev) in self.body_entries(rv, "`resources`")? {
                match self.key(ek)?.as_str() {
                    "cpus" => self.amount(s, ek, ev, cpu)?,
                    "memory" => self.amount(s, ek, ev, memory)?,
                    "pids" if key == "limits" => {
                        if let Some(n) = self.count(ev, "`pids`")? {
                            s.resources.push(entry(
                                "pids",
                                ek.span,
                                value(ValueKind::Int(n), ev.span),
                            ));
                            s.resources_span.get_or_insert(ek.span);
                        }
                    }
                    other => self.not_carried(
                        ek.span,
                        &format!("`resources.{key}.{other}` of `{}`", s.name),
                    ),
                }
            }
        }
        Ok(())
    }

    // ---- numbers and resources -------------------------------------------

    /// A whole number (interpolated); reported and `None` when it is not.
    pub(super) fn count(&mut self, v: &Node, what: &str) -> Result<Option<u64>, Diagnostic> {
        let Some(t) = self.text(v, what)? else {
            return Ok(None);
        };
        match t.trim().parse::<u64>() {
            Ok(n) => Ok(Some(n)),
            Err(_) => {
                self.lose(
                    v.span,
                    format!("{what} `{t}` is not a whole number"),
                    "not imported",
                    "",
                );
                Ok(None)
            }
        }
    }

    /// A CPU or memory amount (`cpus`, `mem_limit`, `deploy.resources`)
    /// for the program's resource `key`: `cpu`, `memory`, or their
    /// `_request`. The first one written wins.
    pub(super) fn amount(
        &mut self,
        s: &mut Svc,
        k: &Node,
        v: &Node,
        key: &str,
    ) -> Result<(), Diagnostic> {
        let what = format!("`{}` of `{}`", self.key(k)?, s.name);
        let Some(t) = self.text(v, &what)? else {
            return Ok(());
        };
        let (read, not, help) = if key.starts_with("cpu") {
            let cpus = t.parse::<f64>().is_ok_and(|c| c > 0.0);
            (cpus.then(|| t.clone()), "a number of CPUs", "")
        } else {
            let help = "write it as \"512Mi\" or \"1Gi\"";
            (memory_size(&t), "an amount of memory", help)
        };
        match read {
            Some(amount) => {
                if !s.resources.iter().any(|e| e.key.node == key) {
                    s.resources.push(entry(key, k.span, string(amount, v.span)));
                    s.resources_span.get_or_insert(k.span);
                }
            }
            None => self.lose(
                v.span,
                format!("{what} `{t}` is {not}"),
                "not imported",
                help,
            ),
        }
        Ok(())
    }
}

/// Docker's memory sizes (`512m`, `1g`, `1.5gb`, bytes) in the language's
/// units. Docker reads `m` as mebibytes, so `512m` is `512Mi`.
pub(super) fn memory_size(t: &str) -> Option<String> {
    let t = t.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let unit = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => "",
        "k" | "kb" | "ki" | "kib" => "Ki",
        "m" | "mb" | "mi" | "mib" => "Mi",
        "g" | "gb" | "gi" | "gib" => "Gi",
        "t" | "tb" | "ti" | "tib" => "Ti",
        _ => return None,
    };
    let out = if number.chars().all(|c| c.is_ascii_digit()) && !number.is_empty() {
        format!("{number}{unit}")
    } else {
        let n: f64 = number.parse().ok()?;
        let factor: f64 = match unit {
            "" => 1.0,
            "Ki" => 1024.0,
            "Mi" => 1024.0 * 1024.0,
            "Gi" => 1024.0 * 1024.0 * 1024.0,
            _ => 1024.0f64.powi(4),
        };
        format!("{}", (n * factor) as u64)
    };
    memory_bytes(&out).map(|_| out)
}

impl Importer {
    /// `deploy.restart_policy` as compose's `restart`: `none` → `no`,
    /// `on-failure` (with `max_attempts` N → `on-failure:N`), `any` →
    /// `always`. A service's own `restart` wins; `delay` and `window` have
    /// no equivalent.
    fn restart_policy(&mut self, s: &mut Svc, k: &Node, v: &Node) -> Result<(), Diagnostic> {
        let what = format!("`deploy.restart_policy` of `{}`", s.name);
        let entries = expect_map(v, &what)?;
        let mut condition = None;
        let mut attempts = None;
        for (pk, pv) in entries {
            let key = self.key(pk)?;
            match key.as_str() {
                "condition" => condition = self.text(pv, &what)?,
                "max_attempts" => attempts = self.count(pv, &what)?,
                other => self.lose(
                    pk.span,
                    format!(
                        "`restart_policy.{other}` of `{}` is not carried over",
                        s.name
                    ),
                    "no equivalent in the language",
                    "the generated files wait their own delay between restarts",
                ),
            }
        }
        let restart = match (condition.as_deref(), attempts) {
            (Some("none"), _) => "no".to_string(),
            (Some("any"), _) => "always".to_string(),
            (Some("on-failure") | None, Some(n)) if n > 0 => format!("on-failure:{n}"),
            (Some("on-failure") | None, _) => "on-failure".to_string(),
            (Some(other), _) => {
                self.lose(
                    v.span,
                    format!("{what}: the condition `{other}` is not one compose knows"),
                    "not imported",
                    "write `none`, `on-failure` or `any`",
                );
                return Ok(());
            }
        };
        if s.attrs.contains_key("restart") {
            self.lose(
                k.span,
                format!("{what} is not carried over: the service's own `restart` is kept"),
                "two restart policies",
                "",
            );
            return Ok(());
        }
        self.lose(
            k.span,
            format!("{what} is carried as `restart = \"{restart}\"`"),
            "approximated",
            "compose obeys `restart`; the swarm and Kubernetes backends use their own restart policy, on failure",
        );
        s.set("restart", k.span, string(restart, v.span));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units() {
        assert_eq!(memory_size("512m").as_deref(), Some("512Mi"));
        assert_eq!(memory_size("1G").as_deref(), Some("1Gi"));
        assert_eq!(memory_size("1.5g").as_deref(), Some("1610612736"));
        assert_eq!(memory_size("2048").as_deref(), Some("2048"));
        assert_eq!(memory_size("lots"), None);
    }
}
