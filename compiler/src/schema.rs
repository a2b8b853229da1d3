//! The attribute table: every key a block or attribute map takes, with its
//! type, a one-line doc, its print order and the targets that honour it.
//!
//! One table drives every place that knows the language's keys: the
//! checker's known-attribute sets (and "did you mean"), the importer's key
//! order (a table's order is the order an imported block is printed in),
//! the book's reference tables (a test keeps `book/src/reference/*.md`
//! listing exactly these keys and targets) and, later, completion and
//! hover in the editor.

use crate::backend::Target;

/// The shape of an attribute's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    String,
    /// A list of strings.
    Strings,
    /// A string split on spaces, or a list of strings (exec form).
    Command,
    Integer,
    Boolean,
    /// One of these bare words.
    Word(&'static [&'static str]),
    /// The name of an item of this kind (`node`).
    Reference(&'static str),
    /// A list of names of items of this kind.
    References(&'static str),
    /// `{ key = "value" }` with scalar values.
    StringMap,
    /// A map whose keys are the given table's.
    Map(&'static [Attr]),
    /// `vol -> "/path"`, `"/host" -> "/path" readonly`.
    Mounts,
    /// `"10s"`, `"1m30s"` ([`crate::ir::Duration`]).
    Duration,
    /// `"512Mi"` ([`crate::ir::Bytes`]).
    Memory,
    /// `"0.5"` ([`crate::ir::MilliCpu`]).
    Cpus,
    /// An address list, `restricted(LIST)`, or a word such as `none`.
    Access,
    /// `env("VAR")`, `file("path")` or `external("name")`.
    SecretSource,
    /// `{ uid = 70, gid = 70, fs_group = 70 }` ([`USER`]), or Docker's
    /// `"UID[:GID]"` or a user name.
    User,
}

/// One key of a block or attribute map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr {
    pub key: &'static str,
    pub ty: ValueType,
    /// One line for the book, completion and hover.
    pub doc: &'static str,
    /// The targets whose output carries it; empty for a key only the
    /// checker reads (`class`).
    pub targets: &'static [Target],
}

const fn attr(
    key: &'static str,
    ty: ValueType,
    targets: &'static [Target],
    doc: &'static str,
) -> Attr {
    Attr {
        key,
        ty,
        doc,
        targets,
    }
}

use Target::{Compose, K8s, Swarm, Terraform};
const RUNTIMES: &[Target] = &[Compose, Swarm, K8s];
const DOCKER: &[Target] = &[Compose, Swarm];
const ORCHESTRATORS: &[Target] = &[Swarm, K8s];
const CHECKER: &[Target] = &[];

/// The keys of a table in print order, as a fixed array (for the `const`
/// key lists below).
const fn keys<const N: usize>(table: &[Attr]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = table[i].key;
        i += 1;
    }
    out
}

/// A service's (and a template's) attributes, in print order.
pub const SERVICE: &[Attr] = &[
    attr(
        "image",
        ValueType::String,
        RUNTIMES,
        "the container image; pin a tag",
    ),
    attr(
        "class",
        ValueType::Word(&["data", "admin", "app"]),
        CHECKER,
        "the exposure ceiling; inferred from the image when absent",
    ),
    attr(
        "entrypoint",
        ValueType::Command,
        RUNTIMES,
        "the image's entrypoint replaced, exec form",
    ),
    attr(
        "command",
        ValueType::Command,
        RUNTIMES,
        "the image's command replaced, exec form",
    ),
    attr(
        "user",
        ValueType::User,
        RUNTIMES,
        "the user and group the process runs as, the same on every target",
    ),
    attr(
        "working_dir",
        ValueType::String,
        RUNTIMES,
        "the process's working directory",
    ),
    attr(
        "replicas",
        ValueType::Integer,
        RUNTIMES,
        "how many copies run (default 1)",
    ),
    attr(
        "mode",
        ValueType::Word(&["replicated", "global"]),
        ORCHESTRATORS,
        "`global`: one copy per node",
    ),
    attr(
        "on",
        ValueType::Reference("node"),
        &[Swarm, Terraform],
        "the node it is pinned to",
    ),
    attr(
        "placement",
        ValueType::Map(PLACEMENT),
        &[Swarm, K8s, Terraform],
        "scheduling constraints: a node role and labels",
    ),
    attr(
        "networks",
        ValueType::References("network"),
        DOCKER,
        "the networks it joins (default: the implicit `default`)",
    ),
    attr(
        "depends",
        ValueType::References("service"),
        &[Compose, K8s],
        "the services it needs: start order, and the edges network policies allow",
    ),
    attr(
        "secrets",
        ValueType::References("secret"),
        RUNTIMES,
        "secrets mounted as files at /run/secrets/NAME",
    ),
    attr(
        "tls",
        ValueType::Map(TLS),
        RUNTIMES,
        "a proxy's certificate and key secrets: its routes' hosts serve HTTPS",
    ),
    attr(
        "env",
        ValueType::StringMap,
        RUNTIMES,
        "environment variables: values, or env(\"VAR\") from the deploying machine",
    ),
    attr(
        "mounts",
        ValueType::Mounts,
        RUNTIMES,
        "volumes and host paths mounted into the container",
    ),
    attr(
        "tmpfs",
        ValueType::Strings,
        RUNTIMES,
        "in-memory directories: the paths the image writes under a read-only root",
    ),
    attr(
        "data",
        ValueType::Map(DATA),
        RUNTIMES,
        "where the image keeps its data, and how it must sit on a volume",
    ),
    attr(
        "health",
        ValueType::Map(HEALTH),
        RUNTIMES,
        "the health check: a command, an HTTP path or a TCP port",
    ),
    attr(
        "resources",
        ValueType::Map(RESOURCES),
        RUNTIMES,
        "CPU and memory limits and requests, and a process limit",
    ),
    attr(
        "cap_add",
        ValueType::Strings,
        RUNTIMES,
        "capabilities added back after every one is dropped",
    ),
    attr(
        "cap_drop",
        ValueType::Strings,
        DOCKER,
        "capabilities dropped (default: all)",
    ),
    attr(
        "privileged",
        ValueType::Boolean,
        &[Compose, K8s],
        "a privileged container; judged by the checker (stack deploy ignores it)",
    ),
    attr(
        "host_network",
        ValueType::Boolean,
        DOCKER,
        "the host's network namespace; judged by the checker",
    ),
    attr(
        "host_pid",
        ValueType::Boolean,
        RUNTIMES,
        "the host's process namespace; judged by the checker",
    ),
    attr(
        "host_ipc",
        ValueType::Boolean,
        RUNTIMES,
        "the host's IPC namespace; judged by the checker",
    ),
    attr(
        "read_only",
        ValueType::Boolean,
        RUNTIMES,
        "a read-only root filesystem",
    ),
    attr(
        "security_opt",
        ValueType::Strings,
        &[Compose],
        "Docker security options (no-new-privileges is the default; stack deploy ignores them)",
    ),
    attr("labels", ValueType::StringMap, RUNTIMES, "container labels"),
    attr(
        "restart",
        ValueType::String,
        &[Compose],
        "the restart policy (default: unless-stopped, never giving up)",
    ),
    attr(
        "stop_grace_period",
        ValueType::Duration,
        RUNTIMES,
        "how long a stopping container gets before it is killed",
    ),
];

/// The keys of [`SERVICE`], in print order.
pub const SERVICE_KEYS: [&str; SERVICE.len()] = keys(SERVICE);

/// The keys of `health = { ... }`.
pub const HEALTH: &[Attr] = &[
    attr(
        "cmd",
        ValueType::Command,
        RUNTIMES,
        "probe: a command that exits 0 when healthy",
    ),
    attr(
        "http",
        ValueType::String,
        RUNTIMES,
        "probe: a path that answers 2xx over HTTP",
    ),
    attr(
        "tcp",
        ValueType::Integer,
        RUNTIMES,
        "probe: a port that accepts connections",
    ),
    attr(
        "port",
        ValueType::Integer,
        RUNTIMES,
        "the port of an `http` probe (default: the first tcp port)",
    ),
    attr(
        "interval",
        ValueType::Duration,
        RUNTIMES,
        "time between probes",
    ),
    attr(
        "timeout",
        ValueType::Duration,
        RUNTIMES,
        "how long one probe may take",
    ),
    attr(
        "retries",
        ValueType::Integer,
        RUNTIMES,
        "failed probes before it is unhealthy",
    ),
    attr(
        "start_period",
        ValueType::Duration,
        RUNTIMES,
        "grace time after start before failures count",
    ),
];

/// The keys of [`HEALTH`].
pub const HEALTH_KEYS: [&str; HEALTH.len()] = keys(HEALTH);

/// The keys of `resources = { ... }`.
pub const RESOURCES: &[Attr] = &[
    attr("cpu", ValueType::Cpus, RUNTIMES, "CPU limit, in CPUs"),
    attr("memory", ValueType::Memory, RUNTIMES, "memory limit"),
    attr(
        "cpu_request",
        ValueType::Cpus,
        RUNTIMES,
        "CPUs reserved for it",
    ),
    attr(
        "memory_request",
        ValueType::Memory,
        RUNTIMES,
        "memory reserved for it",
    ),
    attr(
        "pids",
        ValueType::Integer,
        DOCKER,
        "the most processes it may run",
    ),
];

/// The keys of [`RESOURCES`].
pub const RESOURCE_KEYS: [&str; RESOURCES.len()] = keys(RESOURCES);

/// The keys of `user = { ... }`.
pub const USER: &[Attr] = &[
    attr("uid", ValueType::Integer, RUNTIMES, "the numeric user id"),
    attr(
        "gid",
        ValueType::Integer,
        RUNTIMES,
        "the numeric group id (default: the uid)",
    ),
    attr(
        "fs_group",
        ValueType::Integer,
        &[K8s],
        "the group that owns mounted volumes (default: the gid; Docker copies the image's ownership into a new volume instead)",
    ),
];

/// The keys of [`USER`].
pub const USER_KEYS: [&str; USER.len()] = keys(USER);

/// The keys of `data = { ... }`.
pub const DATA: &[Attr] = &[
    attr(
        "dir",
        ValueType::String,
        RUNTIMES,
        "the directory the image keeps its data in: mount a volume there",
    ),
    attr(
        "subdir",
        ValueType::String,
        RUNTIMES,
        "the data lives in this subdirectory of the volume, never at its mount point",
    ),
    attr(
        "env",
        ValueType::String,
        RUNTIMES,
        "the variable that tells the image where its data is; set to the data's path",
    ),
];

/// The keys of [`DATA`].
pub const DATA_KEYS: [&str; DATA.len()] = keys(DATA);

/// The keys of `placement = { ... }`.
pub const PLACEMENT: &[Attr] = &[
    attr(
        "role",
        ValueType::Word(&["manager", "worker"]),
        &[Swarm, Terraform],
        "the role of the nodes it may run on",
    ),
    attr(
        "labels",
        ValueType::StringMap,
        ORCHESTRATORS,
        "labels the nodes it runs on must carry",
    ),
];

/// The keys of [`PLACEMENT`].
pub const PLACEMENT_KEYS: [&str; PLACEMENT.len()] = keys(PLACEMENT);

/// The keys of `tls = { ... }`.
pub const TLS: &[Attr] = &[
    attr(
        "cert",
        ValueType::Reference("secret"),
        RUNTIMES,
        "the secret holding the PEM certificate chain",
    ),
    attr(
        "key",
        ValueType::Reference("secret"),
        RUNTIMES,
        "the secret holding the PEM private key",
    ),
];

/// The keys of [`TLS`].
pub const TLS_KEYS: [&str; TLS.len()] = keys(TLS);

/// A node's attributes.
pub const NODE: &[Attr] = &[
    attr(
        "role",
        ValueType::Word(&["manager", "worker"]),
        &[Swarm, Terraform],
        "a swarm manager or worker (default: worker)",
    ),
    attr(
        "ssh",
        ValueType::Access,
        &[Terraform],
        "who may reach SSH: none, restricted(LIST) or public",
    ),
    attr(
        "engine",
        ValueType::Access,
        &[Terraform],
        "how the Docker engine is reached: local, ssh, tls or tcp",
    ),
    attr(
        "labels",
        ValueType::StringMap,
        &[Terraform],
        "labels that placement constraints match",
    ),
];

/// The keys of [`NODE`].
pub const NODE_KEYS: [&str; NODE.len()] = keys(NODE);

/// A network's attributes.
pub const NETWORK: &[Attr] = &[
    attr(
        "internal",
        ValueType::Boolean,
        DOCKER,
        "no way out of the host",
    ),
    attr(
        "encrypted",
        ValueType::Boolean,
        &[Swarm, Terraform],
        "encrypted overlay traffic between nodes (default: when the program has several nodes)",
    ),
    attr(
        "external",
        ValueType::Boolean,
        DOCKER,
        "created outside the program",
    ),
    attr("driver", ValueType::String, DOCKER, "the network driver"),
];

/// The keys of [`NETWORK`].
pub const NETWORK_KEYS: [&str; NETWORK.len()] = keys(NETWORK);

/// A volume's attributes.
pub const VOLUME: &[Attr] = &[
    attr(
        "external",
        ValueType::Boolean,
        DOCKER,
        "created outside the program",
    ),
    attr("driver", ValueType::String, DOCKER, "the volume driver"),
    attr(
        "size",
        ValueType::Memory,
        &[K8s],
        "the storage each claim requests (default 1Gi)",
    ),
    attr(
        "class",
        ValueType::String,
        &[K8s],
        "the StorageClass of its claims (default: the cluster's default class)",
    ),
];

/// The keys of [`VOLUME`].
pub const VOLUME_KEYS: [&str; VOLUME.len()] = keys(VOLUME);

/// A secret's attributes.
pub const SECRET: &[Attr] = &[attr(
    "from",
    ValueType::SecretSource,
    RUNTIMES,
    "where the value comes from at deploy time",
)];

/// The keys of [`SECRET`].
pub const SECRET_KEYS: [&str; SECRET.len()] = keys(SECRET);

/// A provider's attributes.
pub const PROVIDER: &[Attr] = &[
    attr(
        "region",
        ValueType::String,
        &[Terraform],
        "the region the security groups are made in",
    ),
    attr(
        "vpc_id",
        ValueType::String,
        &[Terraform],
        "the VPC the security groups belong to",
    ),
];

/// The keys of [`PROVIDER`].
pub const PROVIDER_KEYS: [&str; PROVIDER.len()] = keys(PROVIDER);

/// The attribute of `table` named `key`.
pub fn find(table: &'static [Attr], key: &str) -> Option<&'static Attr> {
    table.iter().find(|a| a.key == key)
}

#[cfg(test)]
mod tests;
