//! Host access and container hygiene: runtime sockets, privileged mode and
//! host namespaces, escaping capabilities, sensitive host mounts, disabled
//! security profiles; unpinned images, missing health checks and limits.

use crate::check::Ctx;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Model, MountSource, Service};

/// Capabilities that give a way out of the container.
const DANGEROUS_CAPABILITIES: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "SYS_PTRACE",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_BOOT",
    "DAC_READ_SEARCH",
    "NET_ADMIN",
    "BPF",
    "PERFMON",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
];

pub(super) fn access(ctx: &mut Ctx<'_>, model: &Model) {
    for s in &model.services {
        for m in &s.mounts {
            let MountSource::HostPath(path) = &m.source else {
                continue;
            };
            let normal = super::paths::normalise(path);
            let shown = if normal == *path {
                path.clone()
            } else {
                format!("{path}` (`{normal}`")
            };
            let ro = if m.readonly { " (read-only)" } else { "" };
            match super::paths::risk(path, m.readonly) {
                Some(super::paths::PathRisk::Socket) => {
                    let message = if normal.ends_with(".sock") || normal.contains("pipe") {
                        format!(
                            "`{}` mounts the container runtime's socket `{shown}`{ro}",
                            s.name
                        )
                    } else {
                        format!("`{}` mounts `{shown}`{ro}, the host directory that holds the container runtime's socket", s.name)
                    };
                    let label = if m.readonly {
                        "read-only does not stop a socket from connecting: whoever controls this container controls every container and the host"
                    } else {
                        "whoever controls this container controls every container and the host"
                    };
                    ctx.diagnostics.push(
                        Diagnostic::new(Code::RuntimeSocket, m.span, message)
                            .label(label)
                            .help("do not mount the socket; if a tool must talk to the engine, put a socket proxy that allows only the calls it needs in between, and waive this with a reason"),
                    );
                }
                Some(super::paths::PathRisk::Sensitive) => {
                    ctx.diagnostics.push(
                        Diagnostic::new(Code::SensitiveHostMount, m.span, format!("`{}` mounts the host's `{shown}`{ro}", s.name))
                            .label("host control or host secrets inside the container")
                            .help("mount only the files the service needs, read-only, or a named volume; if the tool really needs it (a node exporter reading /proc), waive this with `allow sensitive-host-mount \"reason\"`"),
                    );
                }
                None => {}
            }
        }
        for (flag, on, what) in [
            (
                "privileged",
                s.privileged,
                "runs privileged: every device and capability of the host",
            ),
            (
                "host_network",
                s.host_network,
                "shares the host's network namespace",
            ),
            (
                "host_pid",
                s.host_pid,
                "shares the host's process namespace",
            ),
            ("host_ipc", s.host_ipc, "shares the host's IPC namespace"),
        ] {
            if on {
                ctx.diagnostics.push(
                    Diagnostic::new(Code::Privileged, s.attr_span(flag), format!("`{}` {what}", s.name))
                        .label("the container boundary is gone here")
                        .help(format!("remove `{flag} = true`; grant the one capability the service needs with `cap_add` instead")),
                );
            }
        }
        for cap in &s.cap_add {
            let name = cap.trim().to_ascii_uppercase();
            let name = name.strip_prefix("CAP_").unwrap_or(&name);
            if DANGEROUS_CAPABILITIES.contains(&name) {
                ctx.diagnostics.push(
                    Diagnostic::new(Code::DangerousCapability, s.attr_span("cap_add"), format!("`{}` adds the capability {name}, which escapes the container", s.name))
                        .label(format!("adds {name}"))
                        .help("add only narrow capabilities (NET_BIND_SERVICE, CHOWN, ...); if this one is really needed, waive it with a reason"),
                );
            }
        }
        for opt in &s.security_opt {
            let o = opt.replace(':', "=").to_ascii_lowercase();
            let o: String = o.chars().filter(|c| !c.is_whitespace()).collect();
            // `label=type:spc_t` is SELinux's "super privileged container"
            // type: confined by nothing.
            if matches!(
                o.as_str(),
                "seccomp=unconfined"
                    | "apparmor=unconfined"
                    | "label=disable"
                    | "label=type=spc_t"
                    | "label=type=unconfined_t"
                    | "label=type=container_runtime_t"
                    | "systempaths=unconfined"
            ) {
                ctx.diagnostics.push(
                    Diagnostic::new(Code::UnconfinedProfile, s.attr_span("security_opt"), format!("`{}` switches off a kernel security profile (`{opt}`)", s.name))
                        .label("profile disabled")
                        .help("remove it; the default seccomp and AppArmor profiles let ordinary services run"),
                );
            }
        }
    }
}

fn unpinned(image: &str) -> bool {
    if image.contains("@sha256:") {
        return false;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => true,
        Some((_, tag)) => tag == "latest" || tag.is_empty(),
    }
}

pub(super) fn hygiene(ctx: &mut Ctx<'_>, model: &Model) {
    for s in &model.services {
        if !s.image.is_empty() && unpinned(&s.image) {
            ctx.diagnostics.push(
                Diagnostic::new(
                    Code::UnpinnedImage,
                    s.attr_span("image"),
                    format!("image `{}` of `{}` is not pinned", s.image, s.name),
                )
                .label("no tag, or `latest`: a different image on every pull")
                .help("pin a version tag (`redis:7.4.1`) or a digest (`redis@sha256:...`)"),
            );
        }
        if s.health.is_none() {
            ctx.diagnostics.push(no_health(s));
        }
        if s.resources.cpu.is_none() || s.resources.memory.is_none() {
            let missing = match (&s.resources.cpu, &s.resources.memory) {
                (None, None) => "CPU and memory limits",
                (None, Some(_)) => "CPU limit",
                _ => "memory limit",
            };
            ctx.diagnostics.push(
                Diagnostic::new(
                    Code::NoResourceLimits,
                    s.name_span,
                    format!("`{}` has no {missing}", s.name),
                )
                .label("can starve every other service on its host")
                .help("add `resources = { cpu = \"0.5\", memory = \"512Mi\" }`"),
            );
        }
    }
}

fn no_health(s: &Service) -> Diagnostic {
    Diagnostic::new(
        Code::NoHealthcheck,
        s.name_span,
        format!("`{}` has no health check", s.name),
    )
    .label("dependents start before it is ready; a hung process is never restarted")
    .help("add `health = { cmd = [\"...\"] }` or `health = { http = \"/healthz\", port = N }`")
}
