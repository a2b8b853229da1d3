#!/usr/bin/env python3
"""Structural check of a generated Traefik v3 static and dynamic
configuration (Traefik is not packaged by Debian, so it cannot check them
itself here): only keys Traefik reads, the types it expects, and every
name a router uses defined — entry points in the static file, services
and middlewares in the dynamic one, certificate files present.

    traefik-config-check.py traefik.yml dynamic.yml
"""
import os
import re
import sys

import yaml

errors = []


def err(msg):
    errors.append(msg)


def keys(where, value, allowed, required=()):
    if not isinstance(value, dict):
        err(f"{where}: expected a map, got {type(value).__name__}")
        return {}
    for k in value:
        if k not in allowed:
            err(f"{where}: unknown key {k!r}")
    for k in required:
        if k not in value:
            err(f"{where}: missing {k!r}")
    return value


ADDRESS = re.compile(r"^(\[[0-9a-f:]+\]|[0-9.]*):\d{1,5}$")
RULE = re.compile(r"^(?:\(|\)|\s|&&|\|\||!|(?:Host|HostRegexp|Path|PathPrefix)\(`[^`]+`\))+$")


def check_static(doc):
    keys("static", doc, {"entryPoints", "ping", "providers", "global", "log", "accessLog"},
         ("entryPoints", "providers"))
    eps = keys("entryPoints", doc.get("entryPoints", {}), set(doc.get("entryPoints", {})))
    for name, ep in eps.items():
        ep = keys(f"entryPoints.{name}", ep, {"address", "http"}, ("address",))
        if not ADDRESS.match(str(ep.get("address", ""))):
            err(f"entryPoints.{name}.address {ep.get('address')!r} is not [HOST]:PORT")
        if "http" in ep:
            http = keys(f"entryPoints.{name}.http", ep["http"], {"redirections"})
            red = keys(f"entryPoints.{name}.http.redirections", http.get("redirections", {}), {"entryPoint"})
            to = keys(f"entryPoints.{name}.http.redirections.entryPoint", red.get("entryPoint", {}),
                      {"to", "scheme", "permanent"}, ("to",))
            if to.get("scheme") not in (None, "https"):
                err(f"entryPoints.{name}: redirect scheme {to.get('scheme')!r}")
    if "ping" in doc:
        ping = keys("ping", doc["ping"], {"entryPoint"})
        if ping.get("entryPoint", "traefik") not in eps:
            err(f"ping.entryPoint {ping.get('entryPoint')!r} is not an entry point")
    providers = keys("providers", doc.get("providers", {}), {"file"}, ("file",))
    keys("providers.file", providers.get("file", {}), {"filename", "directory", "watch"})
    return set(eps)


def check_dynamic(doc, entry_points, base):
    keys("dynamic", doc, {"http", "tls"}, ("http",))
    http = keys("http", doc.get("http", {}), {"routers", "services", "middlewares"}, ("routers", "services"))
    services = keys("http.services", http.get("services", {}), set(http.get("services", {})))
    for name, s in services.items():
        s = keys(f"services.{name}", s, {"loadBalancer"}, ("loadBalancer",))
        lb = keys(f"services.{name}.loadBalancer", s.get("loadBalancer", {}), {"servers"}, ("servers",))
        servers = lb.get("servers", [])
        if not isinstance(servers, list) or not servers:
            err(f"services.{name}: no servers")
        for srv in servers if isinstance(servers, list) else []:
            srv = keys(f"services.{name}.servers[]", srv, {"url"}, ("url",))
            if not re.match(r"^http://[a-z0-9][a-z0-9_.-]*:\d+$", str(srv.get("url", ""))):
                err(f"services.{name}: url {srv.get('url')!r}")
    middlewares = keys("http.middlewares", http.get("middlewares", {}), set(http.get("middlewares", {})))
    for name, m in middlewares.items():
        m = keys(f"middlewares.{name}", m, {"ipAllowList"}, ("ipAllowList",))
        allow = keys(f"middlewares.{name}.ipAllowList", m.get("ipAllowList", {}), {"sourceRange"}, ("sourceRange",))
        ranges = allow.get("sourceRange", [])
        if not isinstance(ranges, list) or not ranges:
            err(f"middlewares.{name}: empty sourceRange")
    routers = keys("http.routers", http.get("routers", {}), set(http.get("routers", {})))
    if not routers:
        err("http.routers: none")
    for name, r in routers.items():
        r = keys(f"routers.{name}", r, {"entryPoints", "rule", "priority", "service", "middlewares", "tls"},
                 ("rule", "service"))
        for ep in r.get("entryPoints", []):
            if ep not in entry_points:
                err(f"routers.{name}: entry point {ep!r} is not defined")
        if r.get("service") not in services:
            err(f"routers.{name}: service {r.get('service')!r} is not defined")
        for m in r.get("middlewares", []):
            if m not in middlewares:
                err(f"routers.{name}: middleware {m!r} is not defined")
        if not RULE.match(str(r.get("rule", ""))):
            err(f"routers.{name}: rule {r.get('rule')!r} is not a rule of Host/Path matchers")
        if "priority" in r and not (isinstance(r["priority"], int) and r["priority"] > 0):
            err(f"routers.{name}: priority {r['priority']!r}")
        if "tls" in r and r["tls"] not in ({}, None) and not isinstance(r["tls"], dict):
            err(f"routers.{name}: tls {r['tls']!r}")
        if "tls" in r and "tls" not in doc:
            err(f"routers.{name}: TLS without a certificate")
    if "tls" in doc:
        tls = keys("tls", doc["tls"], {"stores", "certificates"})
        stores = keys("tls.stores", tls.get("stores", {}), {"default"})
        default = keys("tls.stores.default", stores.get("default", {}), {"defaultCertificate"})
        cert = keys("tls.stores.default.defaultCertificate", default.get("defaultCertificate", {}),
                    {"certFile", "keyFile"}, ("certFile", "keyFile"))
        for k in ("certFile", "keyFile"):
            if k in cert and not os.path.isfile(cert[k]):
                err(f"tls: {k} {cert[k]} does not exist")


def main():
    static_path, dynamic_path = sys.argv[1:3]
    with open(static_path) as f:
        static = yaml.safe_load(f)
    with open(dynamic_path) as f:
        dynamic = yaml.safe_load(f)
    eps = check_static(static)
    filename = static.get("providers", {}).get("file", {}).get("filename")
    if filename and os.path.abspath(filename) != os.path.abspath(dynamic_path):
        err(f"providers.file.filename {filename} is not {dynamic_path}")
    check_dynamic(dynamic, eps, os.path.dirname(dynamic_path))
    for e in errors:
        print(f"{static_path}: {e}", file=sys.stderr)
    sys.exit(1 if errors else 0)


main()
