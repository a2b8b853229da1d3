//! The ports a compose file publishes, as `docker compose config` reads
//! them (where installed) or as the YAML says, and `docker compose config
//! -q` on a rebuilt file: what the corpus round trip compares.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::common::read;

/// Published ports: service → (container port, protocol, host interface).
pub type Published = BTreeMap<String, Vec<(u16, String, String)>>;

/// The host interface a port is published on, `0.0.0.0` for all of them.
pub fn interface(ip: &str) -> String {
    match ip.trim_matches(['[', ']']) {
        "" | "0.0.0.0" | "::" => "0.0.0.0".to_string(),
        other => other.to_string(),
    }
}

/// Whether publishing on `rebuilt` reaches no further than on `original`:
/// the same interface, any interface where the original took all of them,
/// or the loopback one (reachable from the host only).
pub fn no_wider(rebuilt: &str, original: &str) -> bool {
    original == "0.0.0.0" || rebuilt == original || rebuilt == "::1" || rebuilt.starts_with("127.")
}

/// Published ports of the original as `docker compose config` reads it
/// (extends, include, interpolation and the long syntax resolved), or
/// `None` when compose refuses the original.
pub fn config_ports(paths: &[PathBuf]) -> Option<Published> {
    let mut cmd = Command::new("docker");
    cmd.current_dir(paths.first()?.parent()?)
        .args(["compose", "--profile", "*"]);
    for p in paths {
        cmd.arg("-f").arg(p);
    }
    let out = cmd.args(["config", "--format", "json"]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let mut published = yaml_ports(paths);
    for (name, service) in json["services"].as_object()? {
        for port in service["ports"].as_array().into_iter().flatten() {
            let Some(target) = port["target"].as_u64().and_then(|t| u16::try_from(t).ok()) else {
                continue;
            };
            published.entry(name.clone()).or_default().push((
                target,
                port["protocol"].as_str().unwrap_or("tcp").to_string(),
                interface(port["host_ip"].as_str().unwrap_or("")),
            ));
        }
    }
    Some(published)
}

/// Published ports of the original files as written (no extends), read
/// by a parser the importer does not use (serde_yaml), interpolated with
/// the `.env` beside the first file as compose would.
pub fn yaml_ports(paths: &[PathBuf]) -> Published {
    let vars = paths
        .first()
        .and_then(|p| std::fs::read_to_string(p.with_file_name(".env")).ok())
        .map(|text| dotenv_vars(&text))
        .unwrap_or_default();
    let mut out = Published::new();
    for p in paths {
        for (service, ports) in original_ports(&read(p), &vars) {
            out.entry(service).or_default().extend(ports);
        }
    }
    out
}

/// `KEY=VALUE` lines of a dotenv file (quotes stripped; enough for the
/// corpus's `.env` files, which set ports and versions).
pub fn dotenv_vars(text: &str) -> HashMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.trim_start_matches("export ").split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            (k.trim().to_string(), v.to_string())
        })
        .collect()
}

/// Published ports of the original file: service → (container, protocol, reach).
pub fn original_ports(text: &str, vars: &HashMap<String, String>) -> Published {
    let mut out = Published::new();
    let Ok(mut doc) =
        serde_yaml::from_str::<serde_yaml::Value>(text.trim_start_matches('\u{feff}'))
    else {
        return out;
    };
    if doc.apply_merge().is_err() {
        return out;
    }
    let Some(services) = doc.get("services").and_then(|s| s.as_mapping()) else {
        return out;
    };
    for (name, service) in services {
        let name = name.as_str().unwrap_or("").to_string();
        let ports = service.get("ports").and_then(|p| p.as_sequence());
        for port in ports.into_iter().flatten() {
            let (ip, container, proto) = match port {
                serde_yaml::Value::Mapping(_) => (
                    port.get("host_ip")
                        .and_then(|v| v.as_str())
                        .map(|s| interpolated(s, vars))
                        .unwrap_or_default(),
                    match port.get("target") {
                        Some(serde_yaml::Value::Number(n)) => n.to_string(),
                        Some(serde_yaml::Value::String(s)) => interpolated(s, vars),
                        _ => String::new(),
                    },
                    port.get("protocol")
                        .and_then(|v| v.as_str())
                        .unwrap_or("tcp")
                        .to_string(),
                ),
                other => {
                    let s = match other {
                        serde_yaml::Value::Number(i) => i.to_string(),
                        serde_yaml::Value::String(s) => s.clone(),
                        _ => continue,
                    };
                    let s = interpolated(&s, vars);
                    if s.contains('$') {
                        continue;
                    }
                    let (rest, proto) = s.rsplit_once('/').unwrap_or((&s, "tcp"));
                    let parts: Vec<&str> = rest.rsplitn(3, ':').collect();
                    let ip = if parts.len() == 3 { parts[2] } else { "" };
                    (ip.to_string(), parts[0].to_string(), proto.to_string())
                }
            };
            let (c0, c1) = container
                .split_once('-')
                .unwrap_or((&container, &container));
            let (Ok(c0), Ok(c1)) = (c0.parse::<u16>(), c1.parse::<u16>()) else {
                continue;
            };
            for c in c0..=c1 {
                out.entry(name.clone())
                    .or_default()
                    .push((c, proto.clone(), interface(&ip)));
            }
        }
    }
    out
}

/// `${VAR}` and `$VAR` replaced by their value in `vars`, `${VAR:-d}` and
/// `${VAR-d}` by the value or the default; what stays unset is kept.
pub fn interpolated(s: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(inner_start) = after.strip_prefix('{') {
            let Some(len) = inner_start.find('}') else {
                out.push_str(&rest[at..]);
                return out;
            };
            let inner = &inner_start[..len];
            let (name, default) = match inner.split_once(":-").or_else(|| inner.split_once('-')) {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            match (vars.get(name), default) {
                (Some(v), _) => out.push_str(v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => out.push_str(&rest[at..at + 3 + len]),
            }
            rest = &inner_start[len + 1..];
        } else {
            let len = after
                .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
                .unwrap_or(after.len());
            match vars.get(&after[..len]) {
                Some(v) => out.push_str(v),
                None => out.push_str(&rest[at..at + 1 + len]),
            }
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    out
}

/// Published ports of a generated compose file.
pub fn rebuilt_ports(text: &str) -> Published {
    let docs = yaml_rust2::YamlLoader::load_from_str(text).expect("generated YAML parses");
    let mut out = Published::new();
    let Some(services) = docs[0]["services"].as_hash() else {
        return out;
    };
    for (name, service) in services {
        for port in service["ports"].as_vec().into_iter().flatten() {
            let s = port.as_str().expect("generated ports are strings");
            let (rest, proto) = s.rsplit_once('/').unwrap_or((s, "tcp"));
            let parts: Vec<&str> = rest.rsplitn(3, ':').collect();
            let ip = if parts.len() == 3 { parts[2] } else { "" };
            out.entry(name.as_str().unwrap_or("").to_string())
                .or_default()
                .push((
                    parts[0].parse().expect("a port"),
                    proto.to_string(),
                    interface(ip),
                ));
        }
    }
    out
}

pub fn docker_compose_available() -> bool {
    Command::new("docker")
        .args(["compose", "version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `docker compose config -q` on a generated file, with every
/// variable it requires set (the deploying machine sets them).
pub fn compose_config(dir: &Path, contents: &str) -> Result<(), String> {
    std::fs::write(dir.join("compose.yaml"), contents).unwrap();
    let mut cmd = Command::new("docker");
    cmd.current_dir(dir)
        .args(["compose", "-f", "compose.yaml", "config", "-q"]);
    for part in contents.split("${").skip(1) {
        let var: String = part
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !var.is_empty() {
            cmd.env(&var, "set-by-the-test");
        }
    }
    let out = cmd.output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}
