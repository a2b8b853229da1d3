"""One example's test copy for the live tier: its secrets given test
values, built for a target, its images swapped for the local builds."""

import json
import os
import re
import secrets as rnd
import shutil

import yaml

from live_common import HERE, INFRAC, ipvs, lookup, repository, run

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
        text = original = open(program).read()
        graph_rc, graph, err = run([INFRAC, "graph", "--format", "json", program])
        if graph_rc != 0:
            raise RuntimeError("infrac graph: " + err.strip()[-300:])
        self.graph = json.loads(graph)
        self.services = {s["name"]: s for s in self.graph["services"]}
        hosts = sorted({r["matcher"].split("/")[0] for s in self.graph["services"]
                        for r in s["routes"] if not r["matcher"].startswith("/")})
        cert, key = self.certificate(hosts)
        self.cert = cert
        self.env = dict(os.environ)
        for var in sorted(set(re.findall(r'env\("([A-Za-z_][A-Za-z0-9_]*)"\)', text))):
            value = self.value_for(var, cert, key)
            self.env[var] = value
            self.secret_values[var] = value
        # A file() secret's test file, inside the test copy: a relative
        # path beside the program, an absolute one (the examples' /srv/...)
        # moved under the copy's secrets/ in the copy's program, so the
        # host's own paths are never written.
        for path in sorted(set(re.findall(r'file\("([^"]+)"\)', text))):
            full = os.path.join(self.work, "src", path)
            if os.path.isabs(path):
                full = os.path.join(self.work, "secrets", path.lstrip("/"))
                text = text.replace('file("%s")' % path, 'file("%s")' % full)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            value = self.value_for(path, cert, key)
            with open(full, "w") as f:
                f.write(value)
            self.secret_values[path] = value
        with open(program, "w") as f:
            f.write(text)
        # Each declared secret's test value, by the secret's name.
        self.secret_by_name = {}
        for name, kind, arg in re.findall(r'secret\s+([A-Za-z0-9_-]+)\s*\{[^}]*?from\s*=\s*(env|file)\("([^"]+)"\)', original):
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
        constraints dropped (every node name and role is this one node),
        and where the kernel has no IPVS, DNS round robin instead of the
        service's virtual address (swarm routes a VIP with IPVS only: here
        it would swallow every connection between services)."""
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
            if target == "swarm" and not ipvs():
                svc.setdefault("deploy", {})["endpoint_mode"] = "dnsrr"
            if target == "swarm":
                placement = (svc.get("deploy") or {}).get("placement")
                if placement:
                    placement.pop("constraints", None)
                    placement.pop("max_replicas_per_node", None)
        with open(path, "w") as f:
            yaml.safe_dump(doc, f, sort_keys=False)
        self.doc = doc
        return doc
