"""The live tier's stand-in application (scripts/live-images.sh builds it
into the `app` image; scripts/e2e-examples.sh runs it in place of every
application image of the examples).

It serves HTTP on every port in APP_PORTS (default 8080). `/healthz` (and the
health paths of the images it stands in for) answers `ok`; any other path
answers a JSON report: the Host header it was asked for, its own name, each
dependency named in its environment (`*_HOST`, with `*_PORT`, the host's own
`:PORT` or the port the name implies) and whether it answered as that kind of
server (redis, postgres, MySQL/MariaDB by their protocols), and which
secrets are readable files under /run/secrets (names only, never contents).
"""

import json
import os
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The health paths of the images it stands in for (any path with "health"
# in it, and WordPress's blank.gif, answer too).
HEALTH = {"/-/healthy", "/login", "/metrics"}
# Ports implied by a dependency's variable name, when no *_PORT says.
DEFAULT_PORTS = (("REDIS", 6379), ("CACHE", 6379), ("MYSQL", 3306),
                 ("MARIADB", 3306), ("DB", 5432), ("DATABASE", 5432),
                 ("POSTGRES", 5432), ("PG", 5432))


def dependencies():
    deps = []
    for key, host in sorted(os.environ.items()):
        if not key.endswith("_HOST") or not host or "/" in host:
            continue
        stem = key[: -len("_HOST")]
        port = os.environ.get(stem + "_PORT")
        if ":" in host:
            # HOST:PORT (WordPress's WORDPRESS_DB_HOST=db:3306): its own
            # port before any the variable's name implies.
            host, named = host.rsplit(":", 1)
            port = port or named
        if port is None:
            port = next((p for word, p in DEFAULT_PORTS if word in stem), None)
        if port is not None:
            deps.append((key, host, int(port)))
    return deps


def probe(host, port):
    """Whether host:port answers as the server its port implies: redis
    answers PING with +PONG, postgres answers an SSLRequest with S or N,
    MySQL and MariaDB greet first with a handshake packet (protocol 10),
    anything else must accept a connection."""
    try:
        with socket.create_connection((host, port), timeout=3) as conn:
            conn.settimeout(3)
            if port == 6379:
                conn.sendall(b"PING\r\n")
                reply = conn.recv(64)
                return "ok" if reply.startswith((b"+PONG", b"-NOAUTH")) else "bad reply %r" % reply[:20]
            if port == 5432:
                conn.sendall(b"\x00\x00\x00\x08\x04\xd2\x16\x2f")
                reply = conn.recv(1)
                return "ok" if reply in (b"S", b"N") else "bad reply %r" % reply
            if port == 3306:
                reply = conn.recv(64)
                return "ok" if reply[4:5] == b"\x0a" else "bad greeting %r" % reply[:20]
            return "ok"
    except OSError as err:
        return "unreachable: %s" % err


def secrets():
    try:
        names = sorted(os.listdir("/run/secrets"))
    except OSError:
        return []
    readable = []
    for name in names:
        try:
            with open(os.path.join("/run/secrets", name), "rb") as f:
                f.read(1)
            readable.append(name)
        except OSError:
            pass
    return readable


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        if path in HEALTH or "health" in path or path.endswith(".gif"):
            body = b"ok\n"
            ctype = "text/plain"
        else:
            report = {
                "app": "infrac-live",
                "host": self.headers.get("Host", ""),
                "service": os.environ.get("APP_SERVICE") or socket.gethostname(),
                "client": self.client_address[0],
                "forwarded_for": self.headers.get("X-Forwarded-For", ""),
                "deps": {"%s=%s:%d" % (k, h, p): probe(h, p) for k, h, p in dependencies()},
                "secrets": secrets(),
            }
            body = (json.dumps(report, sort_keys=True) + "\n").encode()
            ctype = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.client_address[0], fmt % args))


def main():
    ports = [int(p) for p in os.environ.get("APP_PORTS", "8080").replace(",", " ").split()]
    servers = []
    for port in ports:
        server = ThreadingHTTPServer(("", port), Handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print("infrac-live app %s on %s" % (" ".join(sys.argv[1:]), ports), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
