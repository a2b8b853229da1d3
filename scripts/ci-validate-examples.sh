#!/usr/bin/env bash
# Builds every example for every target and validates the output with the
# real tools (scripts/validate-outputs.sh). Every example must build for
# all four targets: a missing output (terraform/ until that backend lands)
# fails.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
infrac=${INFRAC:-$here/target/release/infrac}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
dirs=()
for example in "$here"/examples/*/main.inf; do
  name=$(basename "$(dirname "$example")")
  "$infrac" build "$example" --target all -o "$out/$name"
  dirs+=("$out/$name")
done
"$here/scripts/validate-outputs.sh" --all-targets "${dirs[@]}"
# The proxies' own configurations, checked by nginx, haproxy and caddy.
INFRAC="$infrac" "$here/scripts/proxy-configs-check.sh"
