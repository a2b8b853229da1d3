"""One example on one target for the live tier: bringing it up, and the
checks from outside and inside (see scripts/e2e-examples.sh for the list)."""

import json
import re
import socket
import ssl
import threading
import time

from live_common import (ANSWERS, APP, OUTSIDE_NET, TLS_PORTS, VERBOSE, Checks, app_report,
                         docker, http, office_address, run, stack_down, tcp_answers)

class Target:
    """One example on one target: its containers and its checks."""

    def __init__(self, ex, target, file, host_ip):
        self.ex, self.target, self.file, self.host_ip = ex, target, file, host_ip
        self.checks = Checks()

    # The containers of a service, running ones first.
    def containers(self, service):
        if self.target == "compose":
            label = "com.docker.compose.project=%s" % self.ex.project
            flt = ["--filter", "label=" + label, "--filter", "label=com.docker.compose.service=" + service]
        else:
            flt = ["--filter", "label=com.docker.swarm.service.name=%s_%s" % (self.ex.project, service)]
        return docker("ps", "-q", *flt)[1].split()

    def container_ip(self, cid):
        out = docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", cid)[1]
        return [a for a in out.split() if a]

    def logs(self, service, lines=3):
        ids = docker("ps", "-aq", "--filter", "label=com.docker.compose.service=" + service,
                     "--filter", "label=com.docker.compose.project=" + self.ex.project)[1].split() \
            if self.target == "compose" else \
            docker("ps", "-aq", "--filter", "label=com.docker.swarm.service.name=%s_%s" % (self.ex.project, service))[1].split()
        if not ids:
            return "no container"
        _, out, err = docker("logs", "--tail", str(lines), ids[0])
        text = " | ".join(l.strip() for l in (out + err).splitlines() if l.strip())
        return text[-300:] or "no output"

    # -------------------------------------------------------------- up

    def up(self):
        if self.target == "compose":
            rc, out, err = run(["docker", "compose", "-p", self.ex.project, "-f", self.file,
                                "up", "-d", "--wait"], timeout=240, env=self.ex.env)
            if rc == 0:
                self.checks.add("up --wait", True)
                return
            bad = []
            for name in self.ex.doc["services"]:
                ids = self.containers(name)
                state = docker("inspect", "-f", "{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{end}}", ids[0])[1].strip() if ids else "not running"
                if not state.startswith("running/healthy") and state != "running/":
                    bad.append("%s %s (%s)" % (name, state, self.logs(name)))
            last = [l.strip() for l in err.splitlines() if l.strip()][-1:] or ["exit %d" % rc]
            self.checks.add("up --wait", False, "compose: %s; %s" % (last[0][:300], "; ".join(bad)))
        else:
            # External secrets are created beforehand, as the file's comment says.
            self.created = []
            for key, spec in (self.ex.doc.get("secrets") or {}).items():
                if isinstance(spec, dict) and spec.get("external"):
                    name = spec.get("name", key)
                    value = self.ex.secret_by_name.get(key)
                    if value is None:
                        self.checks.add("external secret %s" % name, False, "no secret `%s` in the program" % key)
                        continue
                    docker("secret", "rm", name)
                    rc, _, err = run(["docker", "secret", "create", name, "-"], inp=value)
                    if rc == 0:
                        self.created.append(name)
                    else:
                        self.checks.add("external secret %s" % name, False, err.strip()[:200])
            rc, out, err = run(["docker", "stack", "deploy", "-c", self.file, self.ex.project],
                               timeout=120, env=self.ex.env)
            if rc != 0:
                self.checks.add("stack deploy", False, err.strip()[-300:])
                return
            ok, pending = self.converged(120)
            self.checks.add("stack deploy converges", ok, "; ".join(pending))

    def converged(self, limit):
        """Whether every service runs all its replicas, healthy."""
        deadline = time.time() + limit
        while True:
            pending = []
            for name in self.ex.doc["services"]:
                svc = "%s_%s" % (self.ex.project, name)
                reps = docker("service", "ls", "--filter", "name=" + svc, "--format", "{{.Name}} {{.Replicas}}")[1]
                line = next((l for l in reps.splitlines() if l.split()[0] == svc), "")
                m = re.search(r"(\d+)/(\d+)", line)
                if not m or m.group(1) != m.group(2) or m.group(2) == "0":
                    err = docker("service", "ps", svc, "--no-trunc", "--format", "{{.CurrentState}} {{.Error}}")[1].splitlines()
                    pending.append("%s %s (%s; log: %s)" % (name, m.group(0) if m else "?",
                                                           (err[0] if err else "no task")[:160], self.logs(name, 2)))
                    continue
                for cid in self.containers(name):
                    h = docker("inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{end}}", cid)[1].strip()
                    if h not in ("", "healthy"):
                        pending.append("%s %s (%s)" % (name, h, self.logs(name)))
                        break
            if not pending or time.time() > deadline:
                return not pending, pending
            time.sleep(3)

    # ----------------------------------------------------------- routes

    def published(self, service):
        """(container port, host port, effective) of the ports a service
        publishes on this target."""
        svc = self.ex.doc["services"].get(service, {})
        out = []
        for p in svc.get("ports", []) or []:
            if isinstance(p, dict):
                out.append((int(p["target"]), int(p.get("published", p["target"])), p.get("host_ip", "")))
            else:
                parts = str(p).split("/")[0].split(":")
                out.append((int(parts[-1]), int(parts[-2]), parts[0] if len(parts) == 3 else ""))
        return out

    def routes(self):
        for proxy in self.ex.graph["services"]:
            served = set()
            for route in proxy["routes"]:
                matcher, target = route["matcher"], route["target"]
                host, _, path = matcher.partition("/") if not matcher.startswith("/") else ("", "", matcher[1:])
                path = "/" + path
                pubs = [(c, h, ip) for c, h, ip in self.published(proxy["name"]) if ip != "127.0.0.1"]
                if not pubs:
                    self.checks.add("route %s" % matcher, False, "proxy %s publishes no port on this target" % proxy["name"])
                    continue
                for cport, hport, _ in pubs:
                    scheme = "https" if cport in TLS_PORTS else "http"
                    what = "route %s via %s:%d (%s)" % (matcher, proxy["name"], hport, scheme)
                    url_host = host or self.host_ip
                    url = "%s://%s:%d%s" % (scheme, url_host, hport, path)
                    resolve = ["%s:%d:%s" % (host, h, self.host_ip) for _, h, _ in pubs] if host else []
                    if scheme == "https" and (host, hport) not in served:
                        served.add((host, hport))
                        self.certificate_served(proxy["name"], host, hport)
                    if route["restriction"]:
                        self.restricted_route(what, url, resolve, host, hport, route, target)
                        continue
                    self.route_reaches(what, url, resolve, target, host)

    def certificate_served(self, proxy, host, hport, tries=10):
        """The proxy's TLS port serves the program's certificate (the test
        copy's, for the route's host by SNI), not a default of its own:
        Traefik, for one, serves its self-signed default when it cannot
        read the certificate it is given."""
        want = ssl.PEM_cert_to_DER_cert(self.ex.cert) if self.ex.cert else None
        got, why = None, "no certificate"
        for _ in range(tries):
            try:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                with socket.create_connection((self.host_ip, hport), timeout=5) as raw:
                    with ctx.wrap_socket(raw, server_hostname=host or None) as tls:
                        got = tls.getpeercert(binary_form=True)
                if got == want:
                    break
                why = "another certificate (%d bytes), not the program's" % len(got or b"")
            except (OSError, ValueError) as err:
                why = "no TLS handshake: %s" % err
            time.sleep(1)
        self.checks.add("%s:%d serves the program's certificate%s" % (proxy, hport, " for " + host if host else ""),
                        want is not None and got == want, why)

    def route_reaches(self, what, url, resolve, target, host, tries=10):
        code, body = None, ""
        for _ in range(tries):
            code, body = http(url, resolve=resolve)
            rep = app_report(body)
            if rep:
                break
            time.sleep(1)
        rep = app_report(body)
        if not rep:
            self.checks.add(what, False, "no answer from the app (HTTP %s: %s)" % (code, (body or "").strip()[:120]))
            return
        if rep.get("service") != target:
            self.checks.add(what, False, "answered by %s, not %s" % (rep.get("service"), target))
            return
        if host and rep.get("host", "").split(":")[0] != host:
            self.checks.add(what, False, "reached %s, but the Host header arrived as %r" % (target, rep.get("host")))
            return
        self.checks.add(what, True)

    def restricted_route(self, what, url, resolve, host, hport, route, target):
        # From the host: not in the office range, must be refused.
        code, body = http(url, resolve=resolve)
        self.checks.add(what + " refuses the host (outside the range)", not app_report(body) and code,
                        "the app answered a client outside %s" % route["restriction"] if app_report(body)
                        else "no answer at all (%s): the refusal is not shown" % body)
        # From a container on a network of its own, outside the range.
        cmd = self.curl_cmd(url, resolve)
        # It must be answered, by a refusal: silence would prove nothing.
        rc, out, _ = docker("run", "--rm", "--network", OUTSIDE_NET, "--entrypoint", "curl", APP,
                            "-w", "\n%{http_code}", *cmd, timeout=60)
        body, _, status = out.rpartition("\n")
        self.checks.add(what + " refuses a container outside the range",
                        not app_report(body) and status not in ("", "000"),
                        "the app answered a client outside %s" % route["restriction"] if app_report(body)
                        else "no answer at all (curl exit %d): the refusal is not shown" % rc)
        ip = office_address(route["restriction"])
        if not ip:
            self.checks.add(what + " admits a client inside the range", False, "no client address could be made in the range")
            return
        rc, out, err = run(["curl", "--interface", ip, *cmd], timeout=60)
        rep = app_report(out)
        self.checks.add(what + " admits a client at %s (inside the range)" % ip,
                        rep and rep.get("service") == target,
                        "no answer from %s (%s)" % (target, (out or err).strip()[:120]))

    def curl_cmd(self, url, resolve):
        args = ["-skL", "--max-redirs", "3", "--max-time", "5"]
        for r in resolve:
            args += ["--resolve", r]
        return args + [url]

    # ---------------------------------------------------- inside the apps

    def apps(self):
        """Every stand-in app reaches what its environment names, and its
        secrets are readable files."""
        for name, role in sorted(self.ex.swapped.items()):
            if role != "app":
                continue
            ids = self.containers(name)
            if not ids:
                self.checks.add("app %s inside" % name, False, "no running container (%s)" % self.logs(name))
                continue
            port = (self.ex.services.get(name, {}).get("ports") or [{"container": 8080}])[0]["container"]
            rep = None
            for _ in range(10):
                _, out, _ = docker("exec", ids[0], "curl", "-s", "--max-time", "5", "http://127.0.0.1:%d/" % port)
                rep = app_report(out)
                if rep and all(v == "ok" for v in rep["deps"].values()):
                    break
                time.sleep(2)
            if not rep:
                self.checks.add("app %s answers inside" % name, False, "no answer on 127.0.0.1:%d" % port)
                continue
            if rep["deps"]:
                bad = {k: v for k, v in rep["deps"].items() if v != "ok"}
                self.checks.add("app %s reaches %s" % (name, ", ".join(sorted(rep["deps"]))), not bad,
                                "; ".join("%s %s" % kv for kv in bad.items()))

    def secrets(self):
        values = [v for v in self.ex.secret_values.values() if v]
        for name, svc in sorted(self.ex.doc["services"].items()):
            names = [s if isinstance(s, str) else s.get("target", s.get("source")) for s in svc.get("secrets", []) or []]
            if not names:
                continue
            ids = self.containers(name)
            if not ids:
                self.checks.add("secrets of %s" % name, False, "no running container")
                continue
            missing = [n for n in names if docker("exec", ids[0], "test", "-f", n if n.startswith("/") else "/run/secrets/" + n)[0] != 0]
            self.checks.add("secrets of %s are files" % name, not missing, "not a file: " + ", ".join(missing))
            dumps = docker("inspect", ids[0])[1]
            if self.target == "swarm":
                dumps += docker("service", "inspect", "%s_%s" % (self.ex.project, name))[1]
            leaked = [v for v in values if len(v) > 8 and v.strip() and v.strip()[:40] in dumps]
            self.checks.add("secrets of %s not in docker inspect" % name, not leaked, "a secret value is in docker inspect")

    # ------------------------------------------------------------ ports

    def ports(self):
        """Data and admin ports answer nowhere they must not: internal ports
        not on the host's addresses nor from a container on another network;
        local ports on 127.0.0.1 only (compose) or not at all (swarm)."""
        published_by_any = {h for s in self.ex.doc["services"] for _, h, _ in self.published(s)}
        probes = []  # (what, ip, port, want)
        for s in self.ex.graph["services"]:
            cls = s["class"]
            for p in s["ports"]:
                eff, cport, hport = p["effective"], p["container"], p["host"]
                if eff.startswith("restricted"):
                    if VERBOSE:
                        print("    note: %s:%d %s is left to the provider's security group" % (s["name"], cport, eff))
                    continue
                if eff == "internal" and cls in ("data", "admin"):
                    if hport not in published_by_any:
                        for ip in (self.host_ip, "127.0.0.1"):
                            probes.append(("%s %s:%d not on %s" % (cls, s["name"], cport, ip), ip, hport, False))
                    for cid in self.containers(s["name"])[:1]:
                        for ip in self.container_ip(cid):
                            probes.append(("%s %s:%d not from another network (%s)" % (cls, s["name"], cport, ip),
                                           "outside:" + ip, cport, False))
                elif eff == "public" and not s["routes"] and p["declared"] == "public":
                    probes.append(("public %s:%d on %s" % (s["name"], cport, self.host_ip), self.host_ip, hport, True))
                elif eff == "local":
                    if hport in {h for n in self.ex.doc["services"] if n != s["name"] for _, h, _ in self.published(n)}:
                        continue
                    probes.append(("local %s:%d not on %s" % (s["name"], cport, self.host_ip), self.host_ip, hport, False))
                    if self.target == "compose":
                        probes.append(("local %s:%d on 127.0.0.1" % (s["name"], cport), "127.0.0.1", hport, True))
        outside = [(ip.split(":", 1)[1], port) for _, ip, port, _ in probes if ip.startswith("outside:")]
        from_outside = {}
        if outside:
            script = ANSWERS + ("import sys, json\n"
                                "print(json.dumps({a: answers(a.rsplit(':', 1)[0], int(a.rsplit(':', 1)[1]))"
                                " for a in sys.argv[1:]}))\n")
            _, out, _ = docker("run", "--rm", "--network", OUTSIDE_NET, "--entrypoint", "python3", APP, "-c", script,
                               *["%s:%d" % hp for hp in outside], timeout=120)
            try:
                from_outside = json.loads(out)
            except ValueError:
                from_outside = {}
        for what, ip, port, want in probes:
            if ip.startswith("outside:"):
                got = from_outside.get("%s:%d" % (ip.split(":", 1)[1], port))
                if got is None:
                    self.checks.add(what, False, "the probe container did not run")
                    continue
            else:
                got = any(tcp_answers(ip, port) for _ in range(5 if want else 1))
            self.checks.add(what, got == want, "answers" if got else "silent")

    # ------------------------------------------------- update and failure

    def update_all(self):
        results = {}

        def one(name):
            svc = "%s_%s" % (self.ex.project, name)
            rc, out, err = docker("service", "update", "--force", "--quiet", "--detach=false", svc, timeout=100)
            # The CLI returns once the tasks run; the update's own state
            # settles after its monitor period.
            for _ in range(30):
                state = docker("service", "inspect", "-f", "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}", svc)[1].strip()
                if state not in ("updating", "rollback_started"):
                    break
                time.sleep(2)
            results[name] = (rc == 0 and state in ("completed", ""), (err.strip()[-160:] or state or "exit %d" % rc))

        # A service that is not running is not updated (it would only wait
        # out the timeout): its line says so.
        names = []
        for n in self.ex.doc["services"]:
            if self.containers(n):
                names.append(n)
            else:
                self.checks.add("service update --force %s converges" % n, False, "not running before the update")
        threads = [threading.Thread(target=one, args=(n,)) for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for name, (ok, why) in sorted(results.items()):
            self.checks.add("service update --force %s converges" % name, ok, why)

    def kill_all(self):
        """A container killed from outside (SIGKILL to its process) comes back."""
        before = {}
        for name in self.ex.doc["services"]:
            ids = self.containers(name)
            if not ids:
                self.checks.add("killed %s comes back" % name, False, "no running container to kill")
                continue
            cid = ids[0]
            pid = docker("inspect", "-f", "{{.State.Pid}}", cid)[1].strip()
            started = docker("inspect", "-f", "{{.State.StartedAt}}", cid)[1].strip()
            before[name] = (cid, started)
            if pid and pid != "0":
                run(["kill", "-9", pid])
        deadline = time.time() + 120
        pending = dict(before)
        while pending and time.time() < deadline:
            time.sleep(3)
            for name, (cid, started) in list(pending.items()):
                if self.target == "compose":
                    st = docker("inspect", "-f", "{{.State.Running}} {{.State.StartedAt}} {{if .State.Health}}{{.State.Health.Status}}{{end}}", cid)[1].split()
                    back = len(st) >= 2 and st[0] == "true" and st[1] != started and (len(st) == 2 or st[2] == "healthy")
                else:
                    ids = [i for i in self.containers(name) if i != cid]
                    back = bool(ids) and docker("inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{else}}healthy{{end}}", ids[0])[1].strip() == "healthy"
                if back:
                    del pending[name]
        for name in sorted(before):
            self.checks.add("killed %s comes back" % name, name not in pending,
                            "not running again after 120 s (%s)" % self.logs(name) if name in pending else "")

    def teardown(self):
        if self.target == "compose":
            run(["docker", "compose", "-p", self.ex.project, "-f", self.file, "down", "-v", "--remove-orphans",
                 "--timeout", "5"], timeout=180, env=self.ex.env)
        else:
            stack_down(self.ex.project)
            for name in getattr(self, "created", []):
                docker("secret", "rm", name)
