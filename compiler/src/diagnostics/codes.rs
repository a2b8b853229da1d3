//! The permanent catalogue of findings: one row per code.
//!
//! A code and its kebab-case name never change meaning and are never reused;
//! a retired finding keeps its row. Codes are grouped by the phase that
//! reports them: `0xxx` reading and syntax, `1xxx` names and values, `2xxx` exposure and
//! reachability, `3xxx` secrets, `4xxx` host access and container hygiene,
//! `5xxx` targets, `6xxx` import. `E` codes are errors and `W` codes warnings.
//!
//! Every row has a book page `book/src/errors/CODE.md`, embedded here so
//! `infrac explain` works from an installed binary.

use serde::Serialize;

/// How bad a finding is. Fixed per code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

macro_rules! catalogue {
    ($( $variant:ident = $code:literal, $name:literal, $sev:ident, $waive:ident, $summary:literal; )*) => {
        /// A kind of finding. See the module documentation for the numbering.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $( $variant, )* }

        impl Code {
            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The permanent code, e.g. `E2001`.
            pub fn code(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            /// The permanent kebab-case name, e.g. `data-exposed`.
            pub fn name(self) -> &'static str {
                match self { $( Code::$variant => $name, )* }
            }

            pub fn severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$sev, )* }
            }

            /// Whether `allow NAME "reason"` may silence it.
            pub fn waiver(self) -> Waivable {
                match self { $( Code::$variant => Waivable::$waive, )* }
            }

            /// One line saying what the finding is about.
            pub fn summary(self) -> &'static str {
                match self { $( Code::$variant => $summary, )* }
            }

            /// The book page, as Markdown.
            pub fn page(self) -> &'static str {
                match self { $( Code::$variant => include_str!(concat!("../../../book/src/errors/", $code, ".md")), )* }
            }
        }
    };
}

/// Whether a finding can be waived with `allow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waivable {
    /// A finding a team may accept with a written reason.
    Yes,
    /// Too dangerous to accept: a data store on the internet, a plain-TCP
    /// engine API, a literal secret, cluster ports open beyond the nodes.
    Never,
    /// Not a finding about the infrastructure but about the program text
    /// (syntax, names, types): it must be fixed, not accepted.
    NotAFinding,
}

catalogue! {
    // 0xxx: reading and syntax
    SyntaxError          = "E0001", "syntax-error",          Error,   NotAFinding, "the text does not follow the grammar";
    InvalidEscape        = "E0002", "invalid-escape",        Error,   NotAFinding, "a string contains an escape sequence that does not exist";
    InvalidNumber        = "E0003", "invalid-number",        Error,   NotAFinding, "a number is out of range";
    TooDeep              = "E0004", "too-deep",              Error,   NotAFinding, "lists, maps or blocks nested deeper than the compiler allows";
    NotUtf8              = "E0005", "invalid-encoding",      Error,   NotAFinding, "a file that is not UTF-8 text";
    NotARegularFile      = "E0006", "not-a-file",            Error,   NotAFinding, "a device, FIFO or socket where a file was expected";
    InputTooLarge        = "E0007", "too-large",             Error,   NotAFinding, "a file larger than the compiler reads";
    ImportBudget         = "E0008", "import-budget",         Error,   NotAFinding, "a compose file that names more files or bytes than an import reads";

    // 1xxx: names, attributes and values
    UnknownName          = "E1001", "unknown-name",          Error,   NotAFinding, "a reference to something never declared";
    DuplicateName        = "E1002", "duplicate-name",        Error,   NotAFinding, "two items of the same kind with one name";
    WrongKind            = "E1003", "wrong-kind",            Error,   NotAFinding, "a reference to an item of the wrong kind";
    UnknownAttribute     = "E1004", "unknown-attribute",     Error,   NotAFinding, "an attribute the item does not have";
    InvalidValue         = "E1005", "invalid-value",         Error,   NotAFinding, "a value of the wrong type or outside its allowed set";
    MissingAttribute     = "E1006", "missing-attribute",     Error,   NotAFinding, "a required attribute is missing";
    UnknownModule        = "E1007", "unknown-module",        Error,   NotAFinding, "a `use` of a module that does not exist";
    UnknownPort          = "E1008", "unknown-port",          Error,   NotAFinding, "a route to a port its target does not declare";
    DuplicateAttribute   = "E1009", "duplicate-attribute",   Error,   NotAFinding, "an attribute or port set twice in one block";
    InvalidCidr          = "E1010", "invalid-cidr",          Error,   NotAFinding, "an address range that is not a valid CIDR";
    UnknownFinding       = "E1011", "unknown-finding",       Error,   NotAFinding, "an `allow` naming a finding that does not exist";
    CannotWaive          = "E1012", "cannot-waive",          Error,   NotAFinding, "an `allow` for a finding that may never be waived";
    TemplateCycle        = "E1013", "template-cycle",        Error,   NotAFinding, "templates that extend each other in a cycle";
    ValueOutOfRange      = "E1014", "value-out-of-range",    Error,   NotAFinding, "a duration, amount of memory or number of CPUs beyond any deployment";
    InvalidRoute         = "E1015", "invalid-route",         Error,   NotAFinding, "a route whose host is not a DNS name or whose path is not a URL path";
    UnusedWaiver         = "W1001", "unused-waiver",         Warning, NotAFinding, "an `allow` that matches no finding";

    // 2xxx: exposure and reachability
    DataExposed          = "E2001", "data-exposed",          Error,   Never, "a `data` service whose effective exposure is above `internal`";
    AdminPublic          = "E2002", "admin-public",          Error,   Yes,   "an `admin` service whose effective exposure is `public`";
    OpenRestriction      = "E2003", "open-restriction",      Error,   Yes,   "`restricted(...)` with an empty list or a range that contains everything";
    UnreachableDependency= "E2004", "unreachable-dependency",Error,   Yes,   "a dependency that shares no network with its dependent";
    DependencyCycle      = "E2005", "dependency-cycle",      Error,   Yes,   "services that depend on each other in a cycle";
    PortConflict         = "E2006", "port-conflict",         Error,   Yes,   "two services publishing the same host port on the same node";
    EnginePlaintext      = "E2007", "engine-plaintext",      Error,   Never, "a Docker engine API reachable over plain TCP";
    SshPublic            = "E2008", "ssh-public",            Error,   Yes,   "a node whose SSH is open to everyone";
    ControlPlaneExposed  = "E2009", "control-plane-exposed", Error,   Never, "cluster control-plane ports reachable beyond the cluster's nodes";
    RemoteAdminPublic    = "E2010", "remote-admin-public",   Error,   Yes,   "SSH, RDP, VNC, WinRM or telnet published to the world";
    UnreachableRoute     = "E2011", "unreachable-route",     Error,   Yes,   "a route whose proxy shares no network with its target";
    ClassLowered         = "E2012", "class-lowered",         Error,   Yes,   "a declared class lower than the catalogue's class for the image";
    BroadRestriction     = "W2001", "broad-restriction",     Warning, Yes,   "`restricted(...)` with a range wider than a /16 (IPv4) or /48 (IPv6)";
    UnclassifiedPort     = "W2002", "unclassified-port",     Warning, Yes,   "a port of a sensitive kind on an image whose class is unknown";
    DataTierShared       = "W2003", "data-tier-shared",      Warning, Yes,   "a `data` service on a network shared with a published service that does not use it";
    HostNetworkPort      = "W2004", "host-network-port",     Warning, Yes,   "a port declared narrower than `public` on a service on the host's network";
    LocalReachesPeers    = "W2005", "local-reaches-peers",   Warning, Yes,   "a `local` port on a service whose networks it shares with others (compose and swarm let them reach it)";

    // 3xxx: secrets
    PlaintextSecret      = "E3001", "plaintext-secret",      Error,   Never, "a credential written as a literal (env value, URL userinfo, key material)";
    SecretInEnv          = "W3001", "secret-in-env",         Warning, Yes,   "a credential passed through an environment variable rather than a file";
    UnusedSecret         = "W3002", "unused-secret",         Warning, Yes,   "a secret that no service uses";

    // 4xxx: host access and container hygiene
    RuntimeSocket        = "E4001", "runtime-socket",        Error,   Yes,   "a mount of the Docker (or other runtime) socket";
    Privileged           = "E4002", "privileged",            Error,   Yes,   "a privileged container, host network or host namespaces";
    DangerousCapability  = "E4003", "dangerous-capability",  Error,   Yes,   "a capability that escapes the container (SYS_ADMIN, ALL, ...)";
    SensitiveHostMount   = "E4004", "sensitive-host-mount",  Error,   Yes,   "a mount of a host directory that gives control of the host";
    UnconfinedProfile    = "E4005", "unconfined-profile",    Error,   Yes,   "a seccomp or AppArmor profile switched off";
    UnpinnedImage        = "W4001", "unpinned-image",        Warning, Yes,   "an image without a tag, or tagged `latest`";
    NoHealthcheck        = "W4002", "no-healthcheck",        Warning, Yes,   "a long-running service without a health check";
    NoResourceLimits     = "W4003", "no-resource-limits",    Warning, Yes,   "a service without CPU and memory limits";

    // 5xxx: targets
    TargetCannotEnforce  = "E5001", "target-cannot-enforce", Error,   NotAFinding, "an exposure level the chosen target cannot enforce";
    NoSecretStore        = "E5002", "no-secret-store",       Error,   NotAFinding, "an external secret on a target that has no secret store";
    NoEligibleNode       = "E5003", "no-eligible-node",      Error,   NotAFinding, "a service whose placement matches none of the program's nodes";
    NameTooLong          = "E5010", "name-too-long",         Error,   NotAFinding, "a name longer than the chosen target can carry";
    RouteUnrealised      = "E5015", "route-unrealised",      Error,   NotAFinding, "a route the chosen target cannot turn into proxy configuration";
    RouteClientHidden    = "E5016", "route-client-hidden",   Error,   NotAFinding, "a restricted route whose proxy cannot see the client's address";
    RouteConflict        = "E5017", "route-conflict",        Error,   NotAFinding, "two routes that claim one host and path for different backends";
    TargetNarrows        = "W5001", "target-narrows",        Warning, NotAFinding, "an exposure the target can only express more narrowly";
    PlacementShort       = "W5002", "placement-short",       Warning, NotAFinding, "more replicas than the nodes that can run them side by side";
    IgnoredByTarget      = "W5003", "ignored-by-target",     Warning, NotAFinding, "a setting the target's deployer ignores";
    DataNotKept          = "W5004", "data-not-kept",         Warning, NotAFinding, "an image's data directory on no volume, on a target that loses it";
    RoutePlaintext       = "W5015", "route-plaintext",       Warning, NotAFinding, "a proxy that serves port 443 as plain HTTP: it has no `tls`";

    // 6xxx: import
    ImportInvalid        = "E6001", "import-invalid",        Error,   NotAFinding, "the imported file is not valid compose/YAML";
    ImportSharedNamespace= "E6002", "import-shared-namespace",Error,  NotAFinding, "a service that shares another's network namespace, or has none";
    ImportLoss           = "W6001", "import-loss",           Warning, NotAFinding, "a key or value of the imported file was not carried over or only approximated";
    ImportTag            = "W6002", "import-tag",            Warning, NotAFinding, "a YAML tag of the imported file that the import does not apply";
    ImportInferred       = "W6003", "import-inferred",       Warning, NotAFinding, "a dependency the import inferred from a host name the service names";
    ImportInferredPort   = "W6004", "import-inferred-port",  Warning, NotAFinding, "a port the import declared on a service that declared none";
    MigrateBlocked       = "W6005", "migrate-blocked",       Warning, NotAFinding, "a connection of the source that the migration's target blocks";
}

impl Code {
    /// Looks a code up by its code (`E2001`, any case) or its name (`data-exposed`).
    pub fn find(key: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.code().eq_ignore_ascii_case(key) || c.name() == key)
    }
}
