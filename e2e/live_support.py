"""What the examples' live tier (e2e/live_examples.py) stands on: the
engine and HTTP helpers, the probe that proves a service answers by its
protocol, the image map (e2e/live-images.map), and one example's test copy
(secrets, certificates, builds, swapped images).
"""

import json
import os
import re
import secrets as rnd
import shutil
import socket
import subprocess

import yaml

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INFRAC = os.environ.get("INFRAC", os.path.join(HERE, "target/release/infrac"))
VERBOSE = os.environ.get("LIVE_EXAMPLES_VERBOSE") == "1"
OUTSIDE_NET = "infrac-live-outside"  # a client network no example joins
OFFICE_NET = "infrac-live-office"  # a client network inside an office range
APP = "infrac-live-app:latest"
TLS_PORTS = {443, 8443}


def run(args, timeout=120, check=False, env=None, inp=None):
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, input=inp)
    except subprocess.TimeoutExpired:
        return 124, "", "timed out after %d s: %s" % (timeout, " ".join(args[:4]))
    if check and p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(args[:4]), p.stderr.strip()[-300:]))
    return p.returncode, p.stdout, p.stderr


def docker(*args, timeout=120):
    return run(["docker", *args], timeout=timeout)


def host_address():
    out = run(["hostname", "-I"])[1].split()
    private = re.compile(r"^(127\.|172\.(1[6-9]|2[0-9]|3[01])\.)")
    v4 = [a for a in out if re.match(r"^\d+\.", a)]
    return next((a for a in v4 if not private.match(a)), v4[0] if v4 else "127.0.0.1")


# Whether the service itself answers on host:port, by its protocol: redis
# PONGs, postgres answers an SSLRequest with S or N, anything else must
# answer an HTTP GET with a page of the live images ("infrac-live"). A bare
# TCP connect proves nothing: some networks (this test machine's) accept
# any outbound connection. The same code runs inside probe containers.
ANSWERS = r"""
import socket
def answers(host, port, timeout=2.0):
    try:
        with socket.create_connection((host, port), timeout=timeout) as c:
            c.settimeout(timeout)
            if port == 6379:
                c.sendall(b"PING\r\n")
                return c.recv(16).startswith((b"+PONG", b"-NOAUTH"))
            if port == 5432:
                c.sendall(b"\x00\x00\x00\x08\x04\xd2\x16\x2f")
                return c.recv(1) in (b"S", b"N")
            c.sendall(b"GET / HTTP/1.0\r\nHost: probe\r\n\r\n")
            data = b""
            while len(data) < 65536:
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
            return b"infrac-live" in data
    except OSError:
        return False
"""
exec(ANSWERS)


def tcp_answers(host, port, timeout=2.0):
    return answers(host, port, timeout)  # noqa: F821 (defined by exec above)


# ---------------------------------------------------------------- the map

def load_map():
    rules = []
    with open(os.path.join(HERE, "e2e/live-images.map")) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            repo, role, *rest = line.split()
            rules.append((repo, role, rest))
    return rules


def repository(image):
    """nginx:1.27-alpine -> nginx; ghcr.io/acme/shop:2 -> acme/shop."""
    name = image.split("@", 1)[0]
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    last = parts[-1].split(":", 1)[0]
    return "/".join(parts[:-1] + [last]).removeprefix("library/")


def lookup(rules, image):
    repo = repository(image)
    for pattern, role, rest in rules:
        if pattern == "*" or pattern == repo:
            return role, rest
    return "app", []


# ------------------------------------------------------------ one example

class Example:
    def __init__(self, name, work, rules):
        self.name = name
        self.src = os.path.join(HERE, "examples", name)
        self.work = os.path.join(work, name)
        self.rules = rules
        self.project = "lx-" + re.sub(r"[^a-z0-9-]", "-", name.lower())
        self.secret_values = {}
        self.skip = None

    def prepare(self):
        """The test copy: the example's directory with every env() secret
        given a random value and every file() secret created."""
        shutil.copytree(self.src, os.path.join(self.work, "src"))
        program = os.path.join(self.work, "src", "main.inf")
        text = open(program).read()
        graph_rc, graph, err = run([INFRAC, "graph", "--format", "json", program])
        if graph_rc != 0:
            raise RuntimeError("infrac graph: " + err.strip()[-300:])
        self.graph = json.loads(graph)
        self.services = {s["name"]: s for s in self.graph["services"]}
        hosts = sorted({r["matcher"].split("/")[0] for s in self.graph["services"]
                        for r in s["routes"] if not r["matcher"].startswith("/")})
        cert, key = self.certificate(hosts)
        self.env = dict(os.environ)
        for var in sorted(set(re.findall(r'env\("([A-Za-z_][A-Za-z0-9_]*)"\)', text))):
            value = self.value_for(var, cert, key)
            self.env[var] = value
            self.secret_values[var] = value
        for path in sorted(set(re.findall(r'file\("([^"]+)"\)', text))):
            full = os.path.join(self.work, "src", path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            value = self.value_for(path, cert, key)
            with open(full, "w") as f:
                f.write(value)
            self.secret_values[path] = value
        # Each declared secret's test value, by the secret's name.
        self.secret_by_name = {}
        for name, kind, arg in re.findall(r'secret\s+([A-Za-z0-9_-]+)\s*\{[^}]*?from\s*=\s*(env|file)\("([^"]+)"\)', text):
            self.secret_by_name[name] = self.secret_values.get(arg, "")
        for s in self.graph["services"]:
            role, _ = lookup(self.rules, s["image"])
            if role == "-":
                reason = next(r[2] for r in self.rules if repository(s["image"]) in (r[0], "*") and r[1] == "-")
                self.skip = "service %s runs %s: %s" % (s["name"], s["image"], " ".join(reason))
        return program

    def certificate(self, hosts):
        """A self-signed certificate for every route host (TLS routes)."""
        cert = os.path.join(self.work, "tls.crt")
        key = os.path.join(self.work, "tls.key")
        names = hosts or ["localhost"]
        san = ",".join("DNS:" + h for h in names)
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=" + names[0], "-addext", "subjectAltName=" + san,
             "-keyout", key, "-out", cert], timeout=60)
        read = lambda p: open(p).read() if os.path.exists(p) else ""
        return read(cert), read(key)

    @staticmethod
    def value_for(name, cert, key):
        lower = name.lower()
        if "key" in lower and ("tls" in lower or "ssl" in lower or lower.endswith(".pem")):
            return key
        if "cert" in lower or "crt" in lower or "chain" in lower:
            return cert
        return "infrac-live-" + rnd.token_hex(12)

    def build(self, program, target):
        out = os.path.join(self.work, target)
        rc, _, err = run([INFRAC, "build", program, "--target", target, "-o", out], env=self.env)
        if rc != 0:
            lines = [l for l in err.splitlines() if l.strip()]
            raise RuntimeError("infrac build --target %s: %s" % (target, lines[0] if lines else "exit %d" % rc))
        return os.path.join(out, "compose.yaml" if target == "compose" else "stack.yml")

    def swap(self, path, target):
        """Each image swapped for its local build; on swarm, placement
        constraints dropped (every node name and role is this one node)."""
        doc = yaml.safe_load(open(path))
        self.swapped = {}
        for name, svc in (doc.get("services") or {}).items():
            role, args = lookup(self.rules, svc.get("image", ""))
            self.swapped[name] = role
            svc["image"] = "infrac-live-%s:latest" % role
            if role == "app":
                ports = [p["container"] for p in self.services.get(name, {}).get("ports", [])]
                env = svc.setdefault("environment", {})
                if isinstance(env, list):
                    env = dict(e.split("=", 1) for e in env)
                    svc["environment"] = env
                env["APP_PORTS"] = " ".join(str(p) for p in ports) or "8080"
                env["APP_SERVICE"] = name
                env.update(a.split("=", 1) for a in args if "=" in a)
                svc["command"] = [name] + [a for a in args if "=" not in a]
            if target == "swarm":
                placement = (svc.get("deploy") or {}).get("placement")
                if placement:
                    placement.pop("constraints", None)
                    placement.pop("max_replicas_per_node", None)
        with open(path, "w") as f:
            yaml.safe_dump(doc, f, sort_keys=False)
        self.doc = doc
        return doc


# ------------------------------------------------------------ the checks

class Checks:
    def __init__(self):
        self.results = []

    def add(self, name, ok, why=""):
        self.results.append((name, bool(ok), why))

    def failed(self):
        return [r for r in self.results if not r[1]]


def http(url, host=None, resolve=None, timeout=5):
    args = ["curl", "-sk", "--max-time", str(timeout), "-o", "-", "-w", "\n%{http_code}"]
    if resolve:
        args += ["--resolve", resolve]
    elif host:
        args += ["-H", "Host: " + host]
    rc, out, err = run(args + [url], timeout=timeout + 5)
    if rc != 0:
        return None, "curl exit %d" % rc
    body, _, code = out.rpartition("\n")
    return code, body


def app_report(body):
    try:
        doc = json.loads(body)
    except (ValueError, TypeError):
        return None
    return doc if isinstance(doc, dict) and doc.get("app") == "infrac-live" else None
