"""What the examples' live tier (live_examples.py) shares: running
commands and docker, the probes that tell whether a server answers as
itself, the image map (e2e/live-images.map), and the client networks the
route checks send requests from."""

import ipaddress
import json
import os
import re
import subprocess
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INFRAC = os.environ.get("INFRAC", os.path.join(HERE, "target/release/infrac"))
VERBOSE = os.environ.get("LIVE_EXAMPLES_VERBOSE") == "1"
OUTSIDE_NET = "infrac-live-outside"  # a client network no example joins
APP = "infrac-live-app:latest"
TLS_PORTS = {443, 8443}
# Swarm's virtual service addresses are IPVS rules; a kernel built without
# IPVS (this test machine's) routes nothing to them.
def ipvs():
    return os.path.exists("/proc/net/ip_vs")


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
# PONGs, postgres answers an SSLRequest with S or N, MySQL and MariaDB
# greet with a handshake packet (protocol 10), anything else must
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
            if port == 3306:
                return c.recv(64)[4:5] == b"\x0a"
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



# ------------------------------------------------------------ the checks

class Checks:
    def __init__(self):
        self.results = []

    def add(self, name, ok, why=""):
        self.results.append((name, bool(ok), why))

    def failed(self):
        return [r for r in self.results if not r[1]]


def http(url, host=None, resolve=(), timeout=5):
    """(status, body) of a GET, redirects followed: a proxy's plain port
    redirects to its TLS one, and the route must still reach its app.
    RESOLVE is every host:port:address the route's host may be sent to."""
    args = ["curl", "-skL", "--max-redirs", "3", "--max-time", str(timeout), "-o", "-", "-w", "\n%{http_code}"]
    for r in resolve:
        args += ["--resolve", r]
    if host and not resolve:
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



def stack_down(project):
    if project in docker("stack", "ls", "--format", "{{.Name}}")[1].split():
        docker("stack", "rm", project, timeout=120)
    for _ in range(60):
        left = docker("ps", "-aq", "--filter", "label=com.docker.stack.namespace=" + project)[1].split()
        nets = docker("network", "ls", "-q", "--filter", "label=com.docker.stack.namespace=" + project)[1].split()
        if not left and not nets:
            break
        time.sleep(1)
    vols = docker("volume", "ls", "-q", "--filter", "label=com.docker.stack.namespace=" + project)[1].split()
    if vols:
        docker("volume", "rm", "-f", *vols)


OFFICE_ADDRS = set()


def office_address(restriction):
    """A client address inside the first IPv4 range of an allowlist, added
    to the host's loopback (removed on exit): a request sent from it to the
    host's published port keeps it as its source, as a client in that
    range would, so the proxy sees the client's own address. (A container
    on a bridge of its own with masquerading off does not do: Docker's
    isolation rules drop what it sends to another network's published
    port.)"""
    text = " ".join(restriction) if isinstance(restriction, list) else str(restriction or "")
    cidrs = re.findall(r"(\d+\.\d+\.\d+\.\d+)/(\d+)", text)
    if not cidrs:
        return None
    net = ipaddress.ip_network("%s/%s" % cidrs[0], strict=False)
    hosts = list(net.hosts()) if net.num_addresses > 2 else [net.network_address]
    client = str(hosts[-1] if len(hosts) > 1 else hosts[0])
    if client not in OFFICE_ADDRS:
        if run(["ip", "addr", "add", client + "/32", "dev", "lo"])[0] != 0:
            return None
        OFFICE_ADDRS.add(client)
    return client


def office_cleanup():
    for client in sorted(OFFICE_ADDRS):
        run(["ip", "addr", "del", client + "/32", "dev", "lo"])
    OFFICE_ADDRS.clear()
