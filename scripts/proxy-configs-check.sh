#!/usr/bin/env bash
# The generated proxy configurations, checked by the proxies themselves:
# every example and every program under compiler/tests/routes/ is built for
# compose, and each file under proxy/SERVICE/ goes to its program's own
# configuration test — `nginx -t`, `haproxy -c`, `caddy validate`.
# Traefik is not packaged by Debian: its static and dynamic files are
# checked structurally instead (every key Traefik reads, every name a
# router uses defined), and the script says so.
#
# The proxies are Debian's (nginx-light, haproxy, caddy), installed with apt
# when missing. The configurations name their certificate and key as
# /run/secrets/NAME; the check points them at a throwaway self-signed pair
# (one PEM holding both, which every proxy reads as either). Backends are
# resolved at request time in every configuration, so no check needs DNS.
#
#   scripts/proxy-configs-check.sh          # needs target/release/infrac
#   INFRAC=path/to/infrac scripts/proxy-configs-check.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
infrac=${INFRAC:-$here/target/release/infrac}

missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
command -v caddy >/dev/null || missing+=(caddy)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (apt)"
  as_root=()
  [ "$(id -u)" = 0 ] || as_root=(sudo)
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin:/sbin"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=infrac.test \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
cat "$work/cert.pem" "$work/key.pem" >"$work/pair.pem"

programs=("$here"/examples/*/main.inf "$here"/compiler/tests/routes/*.inf)
checked=0
failed=0
fail() {
  echo "FAIL $1"
  failed=$((failed + 1))
}

# A copy of one proxy's files in which /run/secrets/NAME is a file of the
# sandbox holding the test pair.
sandbox() {
  local src=$1 dst=$2
  mkdir -p "$dst/secrets"
  cp "$src"/* "$dst/"
  local name
  for name in $(grep -oh '/run/secrets/[A-Za-z0-9_.-]*' "$src"/* | sort -u); do
    cp "$work/pair.pem" "$dst/secrets/${name#/run/secrets/}"
  done
  find "$dst" -maxdepth 1 -type f -exec sed -i "s|/run/secrets/|$dst/secrets/|g; s|/etc/traefik/|$dst/|g" {} +
}

for program in "${programs[@]}"; do
  name=$(basename "$(dirname "$program")")
  [ "$name" = routes ] && name=routes-$(basename "$program" .inf)
  out="$work/out/$name"
  "$infrac" build "$program" --target compose -o "$out" 2>/dev/null
  [ -d "$out/proxy" ] || continue
  for dir in "$out"/proxy/*/; do
    proxy=$(basename "$dir")
    box="$work/box/$name/$proxy"
    sandbox "$dir" "$box"
    label="$name/$proxy"
    if [ -f "$box/nginx.conf" ]; then
      # -e: the error log named here, not the build's default file.
      if nginx -q -t -e stderr -c "$box/nginx.conf" -p "$box"; then
        echo "ok   $label: nginx -t"
      else fail "$label: nginx -t"; fi
    elif [ -f "$box/haproxy.cfg" ]; then
      if haproxy -q -c -f "$box/haproxy.cfg"; then
        echo "ok   $label: haproxy -c"
      else fail "$label: haproxy -c"; fi
    elif [ -f "$box/Caddyfile" ]; then
      if caddy validate --config "$box/Caddyfile" --adapter caddyfile >"$box/caddy.log" 2>&1; then
        echo "ok   $label: caddy validate"
      else cat "$box/caddy.log"; fail "$label: caddy validate"; fi
    elif [ -f "$box/traefik.yml" ]; then
      if python3 "$here/scripts/traefik-config-check.py" "$box/traefik.yml" "$box/dynamic.yml"; then
        echo "ok   $label: traefik (structural: Traefik is not in Debian)"
      else fail "$label: traefik (structural)"; fi
    else
      fail "$label: no configuration infrac knows"
    fi
    checked=$((checked + 1))
  done
done
echo "proxy configurations: $checked checked, $failed failed"
[ "$failed" -eq 0 ] && [ "$checked" -gt 0 ]
