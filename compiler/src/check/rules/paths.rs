//! Host paths, judged as paths: what a bind mount's source really names
//! once `.`, `..`, repeated slashes, `~` and `$HOME` are resolved, and
//! whether that hands the container the host.
//!
//! Three answers: a runtime socket or a directory holding one (`/run`,
//! `/var/run`: a read-only mount of the socket still connects to it); a
//! path that is sensitive even read-only (`/etc/shadow`, `~/.ssh`, `/root`,
//! the kubelet's and the runtimes' state with their secrets); a path that
//! is sensitive when writable (`/etc`, `/usr`, cron). An ordinary directory
//! (`/srv/app`, `/home/alice/app/data`, `./data`) is neither.

/// Why a host path is dangerous to mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathRisk {
    /// A container runtime's API: control of every container and the host.
    Socket,
    /// Host control or host secrets.
    Sensitive,
}

/// Files of a runtime API.
const RUNTIME_SOCKETS: &[&str] = &[
    "docker.sock",
    "containerd.sock",
    "crio.sock",
    "podman.sock",
    "dockershim.sock",
    "cri-dockerd.sock",
    "kubelet.sock",
    "buildkitd.sock",
];
/// Directories that hold a runtime socket (and the host's other sockets:
/// systemd, D-Bus): mounting them, even read-only, connects to all of them.
const SOCKET_DIRS: &[&str] = &["/run", "/var/run"];
/// Sensitive even read-only, with everything under them: credentials and
/// the state of the runtimes and the kubelet (pod secrets, tokens,
/// container filesystems).
const SECRET_TREES: &[&str] = &[
    "/root",
    "/proc",
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/etc/ssh",
    "/etc/ssl/private",
    "/etc/docker",
    "/etc/kubernetes",
    "/etc/containerd",
    "/etc/crio",
    "/etc/rancher",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/containers",
    "/var/lib/crio",
    "/var/lib/kubelet",
    "/var/lib/etcd",
    "/var/lib/rancher",
    "/var/lib/k0s",
    "/var/snap/microk8s",
];
/// Sensitive even read-only, themselves only: the whole host's view.
const SECRET_EXACT: &[&str] = &["/", "/etc", "/sys", "/boot", "/home", "/dev"];
/// Sensitive when writable, with everything under them.
const WRITABLE_TREES: &[&str] = &[
    "/etc",
    "/sys",
    "/boot",
    "/dev",
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/bin",
    "/sbin",
    "/var/spool/cron",
    "/var/lib/kubelet",
];
/// What in a home directory holds credentials or runs at login.
const HOME_SECRETS: &[&str] = &[
    ".ssh",
    ".docker",
    ".kube",
    ".aws",
    ".azure",
    ".gnupg",
    ".config/gcloud",
    ".netrc",
    ".pgpass",
    ".git-credentials",
    ".bashrc",
    ".profile",
    ".bash_profile",
    ".zshrc",
];

/// The path a mount source names: `~` and `$HOME` stand for a home
/// directory (`/home/~`), `.` and repeated slashes go, `..` climbs. A
/// relative path stays relative (the project's directory); one that climbs
/// out of it (`../../etc`) is judged as the absolute path it can reach, since
/// enough `..` from anywhere reach `/`.
pub(crate) fn normalise(path: &str) -> String {
    let path = path.trim();
    let (rooted, rest) = if let Some(r) = path
        .strip_prefix("~")
        .or_else(|| path.strip_prefix("${HOME}"))
        .or_else(|| path.strip_prefix("$HOME"))
    {
        (true, format!("/home/~/{r}"))
    } else {
        (path.starts_with('/'), path.to_string())
    };
    let mut parts: Vec<&str> = Vec::new();
    let mut climbed = false;
    for part in rest.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() && !rooted {
                    climbed = true;
                }
            }
            p => parts.push(p),
        }
    }
    if rooted || climbed {
        format!("/{}", parts.join("/"))
    } else {
        parts.join("/")
    }
}

fn under(path: &str, root: &str) -> bool {
    path == root || (path.starts_with(root) && path[root.len()..].starts_with('/'))
}

/// A user's home (`/home/NAME`) or something in it that holds secrets.
fn home_secret(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/home/") else {
        return false;
    };
    match rest.split_once('/') {
        // The home itself: its .ssh, shell profiles and credentials.
        None => !rest.is_empty(),
        Some((_, inside)) => HOME_SECRETS.iter().any(|s| under(inside, s)),
    }
}

/// The risk of bind-mounting host path `path` (as written), if any.
pub(crate) fn risk(path: &str, readonly: bool) -> Option<PathRisk> {
    if path.starts_with(r"\\.\pipe\") || path.starts_with("//./pipe/") {
        // The Windows engine's named pipe.
        return Some(PathRisk::Socket);
    }
    let p = normalise(path);
    if !p.starts_with('/') {
        return None;
    }
    let last = p.rsplit('/').next().unwrap_or("");
    if RUNTIME_SOCKETS.contains(&last)
        || SOCKET_DIRS
            .iter()
            .any(|d| under(&p, d) && !under(&p, "/run/secrets"))
    {
        return Some(PathRisk::Socket);
    }
    if SECRET_EXACT.contains(&p.as_str())
        || SECRET_TREES.iter().any(|t| under(&p, t))
        || home_secret(&p)
    {
        return Some(PathRisk::Sensitive);
    }
    if !readonly && WRITABLE_TREES.iter().any(|t| under(&p, t)) {
        return Some(PathRisk::Sensitive);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_forms() {
        assert_eq!(normalise("/var/run/./docker.sock"), "/var/run/docker.sock");
        assert_eq!(
            normalise("//var//run//docker.sock/"),
            "/var/run/docker.sock"
        );
        assert_eq!(normalise("/srv/../etc"), "/etc");
        assert_eq!(normalise("/../../etc"), "/etc");
        assert_eq!(normalise("./data"), "data");
        assert_eq!(normalise("../../../../etc/shadow"), "/etc/shadow");
        assert_eq!(normalise("~/.ssh"), "/home/~/.ssh");
        assert_eq!(normalise("$HOME/.kube"), "/home/~/.kube");
    }

    #[test]
    fn risks() {
        use PathRisk::*;
        assert_eq!(risk("/var/run/docker.sock", true), Some(Socket));
        assert_eq!(risk("/run", true), Some(Socket));
        assert_eq!(risk("/var/run/", true), Some(Socket));
        assert_eq!(risk("/etc/shadow", true), Some(Sensitive));
        assert_eq!(risk("~/.ssh", true), Some(Sensitive));
        assert_eq!(risk("/root", true), Some(Sensitive));
        assert_eq!(risk("/var/lib/kubelet/pods", true), Some(Sensitive));
        assert_eq!(risk("/srv/../etc", false), Some(Sensitive));
        assert_eq!(risk("/home/alice/app/data", false), None);
        assert_eq!(risk("./data", false), None);
        assert_eq!(risk("/srv/www", false), None);
        assert_eq!(risk("/etc/nginx/nginx.conf", true), None);
        assert_eq!(risk("/etc/nginx/nginx.conf", false), Some(Sensitive));
        assert_eq!(risk("/var/lib/mysql", false), None);
        assert_eq!(risk("/run/secrets/db", true), None);
    }
}
