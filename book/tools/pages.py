#!/usr/bin/env python3
"""Writes book/src/errors/CODE.md for every finding of the catalogue.

The prose is the table below; the examples are the checker's own fixtures
(compiler/tests/fixtures/CODE/fail.inf and near-miss.inf), so every page's
examples are the ones the test suite proves. Run it after changing either:
    python3 book/tools/pages.py
"""
import pathlib, re

ROOT = pathlib.Path(__file__).resolve().parents[2]
CODES = ROOT / "compiler/src/diagnostics/codes.rs"
FIXTURES = ROOT / "compiler/tests/fixtures"
OUT = ROOT / "book/src/errors"

# code: (what it finds and why, how to fix, upstream checks it mirrors)
TEXT = {
"E0001": ("The text does not follow the grammar: a misspelt keyword, a missing `=`, a `}` too many. The message names what the parser expected at that point, in words, and when the word you wrote is close to a keyword, it suggests it.",
          "Write what the message says was expected. The language reference lists the form of each item.", ""),
"E0002": ("A string contains a backslash followed by a character that is not an escape. The escapes are `\\\"`, `\\\\`, `\\n`, `\\t`, `\\r`, `\\0` and `\\u{HEX}`; anything else is almost always a Windows path or a regular expression written without doubling the backslash.",
          "Double the backslash (`\\\\`) to mean a backslash.", ""),
"E0003": ("A number does not fit in 64 bits. Numbers in infrac are ports, counts and sizes; one this large is a typo.",
          "Write the number you meant. Ports run from 1 to 65535 (a port out of that range is `invalid-value`).", ""),
"E0004": ("Lists, maps, blocks or calls are nested deeper than the compiler allows. No real program nests this deep; the limit keeps a hostile or generated file from exhausting the stack.",
          "Flatten the value, or split it with `let`.", ""),
"E1001": ("A reference names something that was never declared: a network in `networks`, a service in `depends` or a route, a secret, a volume, a node, a template, a `let`. The message suggests the closest declared name; for a template the standard library has, it says which `use` line is missing.",
          "Fix the spelling, declare the item, or add the `use std/NAME` line.", ""),
"E1002": ("Two items of the same kind share a name. Each kind (services, networks, volumes, secrets, nodes, templates, `let`s) has its own namespace, so a network and a service may share a name, but two services may not. The second definition is the error; the first is shown beside it.",
          "Rename one, or merge the two blocks.", ""),
"E1003": ("A reference names an item of the wrong kind: `depends = [edge]` where `edge` is a network, `networks = [db]` where `db` is a service.",
          "Name an item of the kind the attribute takes.", ""),
"E1004": ("An item has no attribute of that name (or a `port`/`route` appears where only services may have one). The message suggests the closest attribute the item takes.",
          "Fix the spelling; the language reference lists every attribute of every item.", ""),
"E1005": ("A value has the wrong type, or lies outside its allowed set: a list where a string is expected, a port outside 1–65535, `class = database`, an unknown `role` or `engine`, a malformed duration or memory size.",
          "Write a value of the type the message names.", ""),
"E1006": ("A required attribute is missing: a service without `image` that extends no template, a secret without `from`, a health check without a probe.",
          "Add the attribute the message names.", ""),
"E1007": ("`use std/NAME` names a module the standard library does not have.",
          "Use one of the modules the help lists (see the stdlib page).", ""),
"E1008": ("A route points at a port its target service does not declare. A route is only as good as the port it reaches; the checker needs the port to compute who can reach it.",
          "Route to a declared port, or declare the port on the target (`port 8080 internal`).", ""),
"E1009": ("An attribute is set twice in one block, or one container port and protocol is declared twice. Which one would win is a guess nobody should have to make.",
          "Keep one of them.", ""),
"E1010": ("A `restricted(...)` list holds something that is not an address range. Ranges are CIDRs (`203.0.113.0/24`, `2001:db8::/48`) or single addresses (`203.0.113.7`, taken as `/32`).",
          "Write a valid IPv4 or IPv6 range.", ""),
"E1011": ("An `allow` names no finding: neither a kebab-case name (`admin-public`) nor a code (`E2002`).",
          "Name the finding you mean; `infrac explain NAME` confirms it exists.", ""),
"E1012": ("An `allow` names a finding that may never be waived: `data-exposed`, `engine-plaintext`, `plaintext-secret` and `control-plane-exposed` are the incidents infrac exists to prevent, and errors about the program text itself (syntax, names, values) are fixed, not accepted.",
          "Remove the waiver and fix the program.", ""),
"E1013": ("Templates extend each other in a cycle (`template a: b`, `template b: a`), so no service built on them has a definite value.",
          "Break the cycle: a chain of templates must end.", ""),
"W1001": ("An `allow` in a block where nothing has that finding. Stale waivers are how accepted risks outlive their reasons: the finding moved or was fixed, and the waiver now silently covers whatever comes next.",
          "Delete the waiver, or move it into the block where the finding now happens.", ""),
"E2001": ("A service of class `data` (postgres, mysql, mongo, redis, elasticsearch, ... — or declared `class = data`) is reachable beyond the services on its networks: its own port is `restricted` or `public`, or a proxy's route hands it a wider reach. This is the incident behind infrac: a Redis and a database on the internet, shell-injected and ransomed. The error points at the line that opens the hole — the port's level, or the route in the proxy — and shows the whole path as secondary labels.",
          "Make the port `internal` (reachable only by services on its networks) and let the services that use it share a network with it; for your own access make it `local` and use an SSH tunnel. Never route a proxy to a data store. This finding cannot be waived.",
          "KICS 381c3f2a (sensitive port exposed to entire network), KICS 451d79dc, compose-lint CL-0005, Checkov CKV_AWS_277, CKV_AWS_17, trivy AVD-AWS-0180; CIS Docker 5.9, 5.14"),
"E2002": ("A service of class `admin` (Jenkins, Prometheus, Grafana, Kibana, Portainer, ...) is reachable from the whole internet, by its own `public` port or through a proxy's route. Jenkins' script console is code execution; Prometheus and Kibana hand out metrics and logs. Authentication on the route does not count: the incidents behind infrac happened behind logins.",
          "Restrict it to known addresses (`port 8080 restricted(office)`, or `restricted(office)` on the route), or make it `local` and use an SSH tunnel.",
          "KICS 381c3f2a (3000, 5601, 8080, 9090), Checkov CKV_K8S_33, kube-linter exposed-services, KICS 69bbc5e3"),
"E2003": ("A `restricted(...)` list that restricts nothing: it is empty, or holds `0.0.0.0/0` or `::/0`. On a port, a route or a node's SSH, that is `public` under another name.",
          "List the ranges that need access, such as your office's: `restricted([\"203.0.113.0/24\"])`.",
          "KICS 3a7d4239 (ingress whitelist open to all), Checkov CKV_AWS_24/25/277"),
"E2004": ("A service `depends` on another with which it shares no network, so it cannot reach it. Services that name no network are on the implicit `default` network.",
          "Put both services on one network.", ""),
"E2005": ("Services depend on each other in a cycle; no one of them can start first.",
          "Remove one of the dependencies in the cycle.", ""),
"E2006": ("Two services publish the same host port and protocol where they would collide: on one host, or through a cluster. Two services pinned to different nodes with `on` may share a port.",
          "Publish one on another host port (`port 443 public as 8443`), or pin them to different nodes.", ""),
"E2007": ("A Docker engine API is reachable over plain TCP: a node with `engine = tcp`, or a service that serves port 2375 beyond its host. Whoever reaches that port is root on the host.",
          "Reach the engine over SSH (`engine = ssh`) or with mutual TLS on 2376 (`engine = tls`). This finding cannot be waived.",
          "CIS Docker 2.7, KICS tcpPortsMap 2375/2376"),
"E2008": ("A node's SSH is open to everyone (`ssh = public`). Port 22 to the world is brute-forced within minutes.",
          "Use `ssh = none` and the cloud's session manager, or `ssh = restricted(office)`.",
          "Checkov CKV_AWS_24, trivy AVD-AWS-0107, KICS 65905cec"),
"E2009": ("A cluster control-plane port is reachable beyond the cluster's nodes: swarm 2377/7946/4789, etcd 2379/2380, kubelet 10250/10255, 10257, 10259 above `internal`, or the Kubernetes API 6443 from the whole internet. The incident: swarm ports opened between two hosts without an address restriction, followed by an injection attack — VXLAN has no authentication.",
          "Declare such ports `internal`; the Terraform target opens the swarm ports between the nodes only, by security-group reference. This finding cannot be waived.",
          "CIS Docker 7.2, 7.9; Checkov CKV_K8S_138, CKV_K8S_141; moby GHSA-vwm3-crmr-xfxw"),
"E2010": ("SSH, telnet, RDP, VNC or WinRM (22, 23, 3389, 5900, 5985, 5986) published to the whole internet by a service.",
          "Restrict it to known addresses, or reach it through the cloud's session manager.",
          "Checkov CKV_AWS_24, CKV_AWS_25, trivy AVD-AWS-0107"),
"E2011": ("A proxy routes to a service with which it shares no network: the route cannot work as written.",
          "Put the proxy on one of the target's networks.", ""),
"W2001": ("A `restricted(...)` range is wider than a /16 (IPv4) or a /48 (IPv6): 65,536 addresses or more. A cloud provider's whole range is nearly the internet.",
          "Narrow the range to the addresses that really need access.",
          "KICS 92fe237e (sensitive port exposed to wide private network)"),
"W2002": ("A service whose image the catalogue does not know exposes a port that usually belongs to a data store or an admin tool (6379 is Redis, 5432 PostgreSQL, 9090 Prometheus, ...). Its class defaults to `app`, whose ceiling is `public`, which may be wrong.",
          "Declare the class: `class = data` (or `admin`; `class = app` if it really is your own service).", ""),
"W2003": ("A data store shares a network with a service whose port reaches beyond `internal` and which neither depends on it nor routes to it. One compromised edge service is then one hop from the database: the three-tier separation the incidents lacked.",
          "Give the data store a network that only the services using it join.", "Research rule INF-E023 (three tiers)"),
"E3001": ("A credential is written into the program: a credential-shaped environment key (`*PASSWORD*`, `*SECRET*`, `*TOKEN*`, `*API_KEY*`, ...) with a literal value, a password in a URL (`postgres://app:pw@db`), private-key material, or a well-known token shape (AKIA…, ghp_…). The program is in git; the secret now is too. The value is masked in every report.",
          "Declare a `secret` taken from outside the repository (`from = env(\"VAR\")`, `file(...)`, `external(...)`), list it in the service's `secrets`, and point the service at `/run/secrets/NAME` (the `*_FILE` convention). Then rotate the credential. This finding cannot be waived.",
          "compose-lint CL-0020, CL-0021; KICS a88baa34; Checkov secrets scan"),
"W3001": ("A credential-shaped environment variable is taken from the deploying machine's environment (`env(\"VAR\")`). Environment variables leak: `docker inspect`, `/proc`, crash reports, child processes.",
          "Pass it as a secret file instead.", "Checkov CKV_K8S_35, kube-linter env-var-secret"),
"W3002": ("A secret is declared but no service lists it in `secrets`.",
          "List it where it is needed, or delete it.", ""),
"E4001": ("A service mounts the Docker (or containerd, CRI-O, Podman) socket: whoever controls the container controls every container and the host.",
          "Do not mount the socket; if a tool needs the engine, put a socket proxy that allows only the calls it needs in between, and waive this with the reason.",
          "compose-lint CL-0001, KICS d6355c88, CIS Docker 5.32"),
"E4002": ("A service runs privileged, or shares the host's network, PID or IPC namespace: the container boundary is gone.",
          "Remove the flag; grant the one capability the service needs with `cap_add`.",
          "compose-lint CL-0002, CL-0008, CL-0010; CIS Docker 5.5, 5.10, 5.16, 5.17"),
"E4003": ("A service adds a capability that escapes the container: `SYS_ADMIN`, `ALL`, `SYS_PTRACE`, `SYS_MODULE`, `NET_ADMIN`, `DAC_READ_SEARCH`, `SYS_RAWIO`, `BPF`, ...",
          "Add only narrow capabilities (`NET_BIND_SERVICE`, `CHOWN`); waive with a reason where the tool really needs one.",
          "compose-lint CL-0011, CIS Docker 5.4"),
"E4004": ("A service mounts a host directory that gives control of the host or its secrets: `/`, `/etc`, `/proc`, `/sys`, `/root`, `/var/lib/docker`, `/run`, ... (writable sub-paths too). Read-only mounts of `/`, `/etc`, `/proc`, `/sys`, `/root`, `/boot` and `/var/lib/docker` still disclose the host.",
          "Mount only the files the service needs, read-only, or use a named volume. Monitoring agents that read `/proc` by design waive it with a reason (the stdlib's node-exporter template does).",
          "compose-lint CL-0013, CL-0025, CIS Docker 5.6"),
"E4005": ("A service switches off a kernel security profile: `seccomp=unconfined`, `apparmor=unconfined`, `label=disable`, `systempaths=unconfined`.",
          "Remove the option; the default profiles let ordinary services run.",
          "compose-lint CL-0009, CIS Docker 5.22"),
"W4001": ("An image has no tag, or is tagged `latest`: every pull may bring a different image.",
          "Pin a version tag (`redis:7.4.1`) or a digest (`redis@sha256:...`).",
          "compose-lint CL-0004, Checkov CKV_K8S_14, kube-linter latest-tag"),
"W4002": ("A service has no health check: dependents start before it is ready, and a hung process is never restarted.",
          "Add `health = { cmd = [...] }` or `health = { http = \"/healthz\", port = N }`.",
          "KICS 698ed579, CIS Docker 5.27, Checkov CKV_K8S_8/9"),
"W4003": ("A service has no CPU or no memory limit: one runaway process starves everything on its host.",
          "Add `resources = { cpu = \"0.5\", memory = \"512Mi\" }`.",
          "compose-lint CL-0026, Checkov CKV_K8S_10-13, CIS Docker 5.11, 5.12"),
"E5001": ("At `infrac build`: an exposure level the chosen target cannot enforce. Compose and swarm publish a `restricted(...)` port on every interface and rely on the security groups the Terraform target generates from the program's `provider` — with no `provider`, nothing would enforce the ranges, so the build fails rather than widen the port. The Kubernetes target also refuses `host_network` services, which NetworkPolicies cannot confine.",
          "Add `provider aws { region = \"...\" }` and deploy the Terraform target's security groups with the stack, or make the port `local` and use an SSH tunnel.", ""),
"W5001": ("At `infrac build`: the target can only express a level more narrowly than the program says, and does so. Swarm cannot bind a published port to loopback, so a `local` port is not published at all; Kubernetes gives a `local` port no Service (use `kubectl port-forward`); compose has no store for `external(...)` secrets. A target narrows and says so; it never widens.",
          "Nothing to fix if the narrower reach is fine; the warning says how to reach the port.", ""),
}

def catalogue():
    rows = []
    for m in re.finditer(r'(\w+)\s*= "([EW]\d{4})", "([a-z-]+)",\s*(\w+),\s*(\w+),\s*"(.*)";', CODES.read_text()):
        _, code, name, sev, waive, summary = m.groups()
        rows.append((code, name, sev, waive, summary))
    return rows

def block(tag, path):
    text = path.read_text().rstrip("\n")
    return f"```inf {tag}\n{text}\n```\n"

def page(code, name, sev, waive, summary):
    what, fix, upstream = TEXT[code]
    out = [f"# {code} {name}\n", f"**{'Error' if sev == 'Error' else 'Warning'}** · {summary}.\n", what + "\n"]
    fail = FIXTURES / code / "fail.inf"
    near = FIXTURES / code / "near-miss.inf"
    if fail.is_file():
        out.append("## Example\n")
        out.append(block("error" if sev == "Error" else "warning", fail))
    out.append("## How to fix it\n")
    out.append(fix + "\n")
    if near.is_file():
        out.append(block("ok", near))
    if waive == "Yes":
        out.append("## Waiving it\n")
        out.append(f"A team that accepts this finding says so where it happens, with a reason; the waiver is listed in every `infrac check`:\n\n```text\nallow {name} \"the reason, for the next reader\"\n```\n")
    elif waive == "Never":
        out.append("## Waiving it\n")
        out.append("It cannot be waived: `allow` of this finding is itself an error ([E1012](E1012.md)).\n")
    if upstream:
        out.append(f"## Upstream checks it mirrors\n\n{upstream}.\n")
    return "\n".join(out)

def main():
    rows = catalogue()
    index = ["# Findings\n", "Every finding has a permanent code and name; `infrac explain CODE` (or `NAME`) prints its page. Codes are grouped by the phase that reports them: 0xxx syntax, 1xxx names and values, 2xxx exposure and reachability, 3xxx secrets, 4xxx host access and hygiene, 5xxx targets, 6xxx import.\n",
             "| code | name | severity | waivable | finds |", "|---|---|---|---|---|"]
    for code, name, sev, waive, summary in rows:
        w = {"Yes": "yes", "Never": "never", "NotAFinding": "—"}[waive]
        index.append(f"| [{code}]({code}.md) | `{name}` | {sev.lower()} | {w} | {summary} |")
        if code in TEXT:
            (OUT / f"{code}.md").write_text(page(code, name, sev, waive, summary))
    (OUT / "README.md").write_text("\n".join(index) + "\n")

main()
