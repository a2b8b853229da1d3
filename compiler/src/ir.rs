//! The checked model every backend reads: names resolved, templates merged,
//! classes inferred, defaults settled and the effective exposure of every
//! port computed. Backends never see the AST; everything they need is here,
//! with the source span to point a diagnostic at.

mod exposure;
mod proxy;
mod quantity;

/// Every IR item points back into the source with one of these.
pub use crate::span::Span;

pub use exposure::{Exposure, Hop, LocalPeers, Ranges};
pub use proxy::{ProxyKind, Tls};
pub use quantity::{Bytes, Duration, MilliCpu, QuantityError};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize { self.0 as usize }
        }
    )*};
}

id_type!(
    /// Index into [`Model::services`].
    ServiceId,
    /// Index into [`Model::networks`].
    NetworkId,
    /// Index into [`Model::nodes`].
    NodeId,
    /// Index into [`Model::volumes`].
    VolumeId,
    /// Index into [`Model::secrets`].
    SecretId
);

/// A whole checked program. Every list is sorted by name, so outputs built
/// from it are deterministic.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub provider: Option<Provider>,
    pub nodes: Vec<Node>,
    pub networks: Vec<Network>,
    pub volumes: Vec<Volume>,
    pub secrets: Vec<Secret>,
    pub services: Vec<Service>,
}

impl Model {
    pub fn service(&self, id: ServiceId) -> &Service {
        &self.services[id.index()]
    }
    pub fn network(&self, id: NetworkId) -> &Network {
        &self.networks[id.index()]
    }
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }
    pub fn volume(&self, id: VolumeId) -> &Volume {
        &self.volumes[id.index()]
    }
    pub fn secret(&self, id: SecretId) -> &Secret {
        &self.secrets[id.index()]
    }
}

#[derive(Debug, Clone)]
pub struct Provider {
    /// Only `aws` exists today.
    pub name: String,
    pub region: Option<String>,
    pub vpc_id: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Manager,
    Worker,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Manager => "manager",
            Role::Worker => "worker",
        }
    }
}

/// How a node's Docker engine is reached from elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Engine {
    /// Only through the local socket (the default).
    Local,
    /// Through SSH (`docker -H ssh://...`).
    Ssh,
    /// TCP with mutual TLS on 2376.
    Tls,
    /// Plain TCP on 2375: never allowed, kept so the checker can say so.
    Tcp,
}

/// Who may reach a node's SSH port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ssh {
    None,
    Restricted(Ranges),
    Public,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub role: Role,
    pub ssh: Ssh,
    pub engine: Engine,
    pub labels: Vec<(String, String)>,
    /// Who may reach a TLS engine API from outside the cluster's own nodes
    /// (`engine = tls(restricted(LIST))`); `None` for plain `engine = tls`
    /// and the other engines.
    pub engine_from: Option<Ranges>,
    /// Findings this node waived, with the program's reason (a waived
    /// `ssh-public` becomes a checkov skip on that one rule).
    pub accepted: Vec<(crate::diagnostics::Code, String)>,
    pub span: Span,
    /// Where `ssh` and `engine` were set (the node's name when unset).
    pub ssh_span: Span,
    pub engine_span: Span,
}

#[derive(Debug, Clone)]
pub struct Network {
    pub name: String,
    pub internal: bool,
    pub encrypted: bool,
    pub external: bool,
    pub driver: Option<String>,
    /// False for the implicit `default` network of services that name none.
    pub declared: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Volume {
    pub name: String,
    pub external: bool,
    pub driver: Option<String>,
    /// The storage a claim requests (Kubernetes; 1Gi when unsaid).
    pub size: Option<Bytes>,
    /// The StorageClass of its claims (Kubernetes).
    pub class: Option<String>,
    pub span: Span,
}

/// Where a secret's value comes from at deploy time. The value itself never
/// enters the compiler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable of the machine that deploys.
    Env(String),
    /// A file outside the repository.
    File(String),
    /// A name in the target's own secret store.
    External(String),
}

#[derive(Debug, Clone)]
pub struct Secret {
    pub name: String,
    pub source: SecretSource,
    pub span: Span,
}

/// The class of a service decides its exposure ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    Data,
    Admin,
    App,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Data => "data",
            Class::Admin => "admin",
            Class::App => "app",
        }
    }

    pub fn parse(s: &str) -> Option<Class> {
        match s {
            "data" => Some(Class::Data),
            "admin" => Some(Class::Admin),
            "app" => Some(Class::App),
            _ => None,
        }
    }
}

/// Why a service has its class, for messages ("inferred from the image").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassOrigin {
    Declared(Span),
    /// Matched this catalogue entry.
    Image(String),
    /// The image is unknown but listens on a well-known port of the class
    /// (`port`, what that port usually is): treated as that class until the
    /// program declares one.
    Port(u16, String),
    Default,
}

/// A port's protocol (`port 53/udp`); tcp when unsaid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Port {
    pub container: u16,
    pub protocol: Protocol,
    /// The host port when published (`as HOST`, else the container port).
    pub host: u16,
    /// The level written on the port.
    pub declared: Exposure,
    /// The widest reach after routes: what the checker judged.
    pub effective: Exposure,
    /// Why it is that wide: the routes that carried reach to it, nearest
    /// first (the route into this port, then the route into its proxy's
    /// widest port, ...), back to a port that declared its level itself.
    /// Empty when the port's own level is its effective one.
    pub witness: Vec<Hop>,
    pub span: Span,
    /// The span of the level (`public`, `restricted(...)`).
    pub level_span: Span,
}

#[derive(Debug, Clone)]
pub struct Route {
    /// A host name (`app.example.com`), a path (`/api`), or both
    /// (`app.example.com/api`), as written.
    pub matcher: String,
    /// The matcher's host, checked as an RFC 1123 name; `None` for a
    /// route on a path alone (any host).
    pub host: Option<String>,
    /// The matcher's path, `/` when it names none.
    pub path: String,
    pub target: ServiceId,
    pub port: u16,
    /// The route's own allowlist, `restricted(...)` after the target.
    pub restriction: Option<Ranges>,
    /// The reach it hands on to its target's port: its proxy's reach
    /// narrowed by `restriction`. `None` when the proxy has no port of its
    /// own, so hands nothing on. Settled by the checker's fixpoint.
    pub handed: Option<Exposure>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum MountSource {
    Volume(VolumeId),
    HostPath(String),
}

#[derive(Debug, Clone)]
pub struct Mount {
    pub source: MountSource,
    pub target: String,
    pub readonly: bool,
    pub span: Span,
}

/// An environment variable's value. Credentials never get here as
/// literals: the checker rejects them first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    Literal(String),
    /// Passed through from the deploying machine's environment.
    HostEnv(String),
}

#[derive(Debug, Clone)]
pub struct EnvVar {
    pub key: String,
    pub value: EnvValue,
    pub key_span: Span,
    pub value_span: Span,
    /// Where the literal itself is written: `value_span`, or the value of
    /// the `let` it names (`API_KEY = key`), which must be masked too.
    pub literal_span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthProbe {
    /// Exec form: the command and its arguments.
    Command(Vec<String>),
    Http {
        path: String,
        port: u16,
    },
    Tcp {
        port: u16,
    },
}

#[derive(Debug, Clone)]
pub struct Health {
    pub probe: HealthProbe,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub retries: Option<u32>,
    pub start_period: Option<Duration>,
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct Resources {
    /// CPU limit (`"0.5"`).
    pub cpu: Option<MilliCpu>,
    /// Memory limit (`"512Mi"`).
    pub memory: Option<Bytes>,
    pub cpu_request: Option<MilliCpu>,
    pub memory_request: Option<Bytes>,
    pub pids: Option<u64>,
}

/// Who a service's process runs as: `user = { uid, gid, fs_group }` or
/// Docker's `"UID[:GID]"` / a name. Every target runs it as this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// As Docker takes it: `UID:GID`, or the program's string as written.
    pub docker: String,
    /// The numeric ids, when known (Kubernetes needs them).
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// The group that owns mounted volumes (Kubernetes `fsGroup`); the gid
    /// when unsaid.
    pub fs_group: Option<u32>,
}

/// Where an image keeps its data (`data = { dir, subdir, env }`): the
/// directory a volume belongs on, and the subdirectory of it the data must
/// live in when the mount point itself is unfit (PostgreSQL refuses a
/// directory holding `lost+found`, and a fresh volume's root is root's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    pub dir: String,
    pub subdir: Option<String>,
    /// The variable that tells the image where its data is; the checker
    /// has already set it in the service's `env` to [`DataDir::path`].
    pub env: Option<String>,
    pub span: Span,
}

impl DataDir {
    /// Where the data itself lives: `dir`, or `dir/subdir`.
    pub fn path(&self) -> String {
        match &self.subdir {
            Some(sub) => format!("{}/{sub}", self.dir.trim_end_matches('/')),
            None => self.dir.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Replicated,
    /// One task per node (swarm `mode: global`, a Kubernetes DaemonSet).
    Global,
}

#[derive(Debug, Clone, Default)]
pub struct Placement {
    pub role: Option<Role>,
    pub labels: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub image: String,
    pub class: Class,
    pub class_origin: ClassOrigin,
    /// The template it extends, if any.
    pub template: Option<String>,
    pub replicas: u32,
    pub mode: Mode,
    pub on: Option<NodeId>,
    pub placement: Placement,
    /// Never empty: a service that names no network is on `default`.
    pub networks: Vec<NetworkId>,
    pub depends: Vec<(ServiceId, Span)>,
    pub secrets: Vec<SecretId>,
    pub env: Vec<EnvVar>,
    pub mounts: Vec<Mount>,
    pub tmpfs: Vec<String>,
    pub data: Option<DataDir>,
    pub health: Option<Health>,
    pub resources: Resources,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub privileged: bool,
    pub host_network: bool,
    pub host_pid: bool,
    pub host_ipc: bool,
    pub read_only: Option<bool>,
    pub security_opt: Vec<String>,
    pub user: Option<User>,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub labels: Vec<(String, String)>,
    pub working_dir: Option<String>,
    pub restart: Option<String>,
    pub stop_grace_period: Option<Duration>,
    pub ports: Vec<Port>,
    pub routes: Vec<Route>,
    /// The certificate and key a proxy serves its routes' hosts with.
    pub tls: Option<Tls>,
    /// Where each attribute was set (in the service or its template), for
    /// rules that point at an attribute rather than a port.
    pub attr_spans: Vec<(String, Span)>,
    /// Findings this service waived, with the program's reason: backends
    /// turn them into the upstream tools' suppressions for it alone.
    pub accepted: Vec<(crate::diagnostics::Code, String)>,
    /// Where the `allow` statements and the block itself are.
    pub span: Span,
    pub name_span: Span,
}

impl Service {
    /// The span of attribute `key`, else of the service's name.
    pub fn attr_span(&self, key: &str) -> Span {
        self.attr_spans
            .iter()
            .find(|(k, _)| k == key)
            .map_or(self.name_span, |(_, s)| *s)
    }

    /// The volume mounted at `path` or above it, if any.
    pub fn volume_at(&self, path: &str) -> Option<&Mount> {
        self.mounts.iter().find(|m| {
            let t = m.target.trim_end_matches('/');
            matches!(m.source, MountSource::Volume(_))
                && (path == t || path.strip_prefix(t).is_some_and(|r| r.starts_with('/')))
        })
    }

    pub fn port(&self, container: u16) -> Option<&Port> {
        self.ports.iter().find(|p| p.container == container)
    }

    /// The widest effective exposure of any of its ports: the reach a proxy
    /// hands on through its routes.
    pub fn reach(&self) -> Option<Exposure> {
        self.ports
            .iter()
            .map(|p| p.effective.clone())
            .reduce(|a, b| a.join(&b))
    }
}
