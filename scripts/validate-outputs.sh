#!/usr/bin/env bash
# Validates build output directories with the tools people use, and fails
# on the first problem of any kind. For each DIR given:
#   DIR/compose.yaml  docker compose config -q (Compose v2), the compose-spec
#                     JSON schema (../shared/schemas), compose-lint --fail-on high
#                     (with the generated .compose-lint.yml: waivers only)
#   DIR/stack.yml     docker stack config, the swarm v3 schema, compose-lint
#   DIR/k8s/          kubernetes-validate --strict (Kubernetes 1.37), checkov
#                     --framework kubernetes with zero failed checks
#   DIR/terraform/    terraform fmt -check, python-hcl2 parse, checkov
#                     --framework terraform with zero failed checks
# Skips (with a line) only what a machine cannot run: never a failure.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/infrac-tools
venv=$cache/venv
schemas=$here/../shared/schemas
[ -x "$venv/bin/checkov" ] || "$here/scripts/install-tools.sh" --validators >/dev/null

fail=0
problem() { echo "FAILED: $*"; fail=1; }

# Secrets the programs read from the deploying environment: any value will
# do for `config`, which only interpolates.
env_for() { grep -o '\${[A-Za-z_][A-Za-z0-9_]*:?' "$1" | sed 's/[${:?]//g' | sort -u | sed 's/$/=validation/'; }

schema_check() { # FILE SCHEMA
  if [ ! -f "$2" ]; then echo "  skip: schema $(basename "$2") (../shared absent)"; return; fi
  "$venv/bin/python" - "$1" "$2" <<'PY' || problem "$1 does not match $(basename "$2")"
import json, sys, yaml, jsonschema
doc = yaml.safe_load(open(sys.argv[1]))
schema = json.load(open(sys.argv[2]))
errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
for e in errors[:10]:
    print("  schema:", "/".join(map(str, e.path)), e.message)
sys.exit(1 if errors else 0)
PY
}

lint() { # FILE
  (cd "$(dirname "$1")" && "$venv/bin/compose-lint" check --fail-on high -q "$(basename "$1")") >/dev/null \
    || { (cd "$(dirname "$1")" && "$venv/bin/compose-lint" check --fail-on high "$(basename "$1")" | grep -E "HIGH|CRITICAL" | head -n 10) || true; problem "compose-lint: $1"; }
}

checkov_dir() { # DIR FRAMEWORK
  # checkov skips hidden directories: copy into a visible one.
  local tmp; tmp=$(mktemp -d)
  cp -r "$1" "$tmp/out"
  if ! "$venv/bin/checkov" -d "$tmp/out" --framework "$2" --compact --quiet > "$tmp/report" 2>&1; then
    grep -E "Check:|FAILED|Error" "$tmp/report" | head -n 20 || true
    problem "checkov $2: $1"
  fi
  rm -rf "$tmp"
}

for dir in "$@"; do
  done_checks=()
  if [ -f "$dir/compose.yaml" ]; then
    env $(env_for "$dir/compose.yaml") docker compose -f "$dir/compose.yaml" config -q || problem "docker compose config: $dir/compose.yaml"
    schema_check "$dir/compose.yaml" "$schemas/compose-spec.json"
    lint "$dir/compose.yaml"
    done_checks+=("compose.yaml: compose config, compose-spec schema, compose-lint")
  fi
  if [ -f "$dir/stack.yml" ]; then
    env $(env_for "$dir/stack.yml") docker stack config -c "$dir/stack.yml" >/dev/null || problem "docker stack config: $dir/stack.yml"
    schema_check "$dir/stack.yml" "$schemas/docker-cli-config_schema_v3.13.json"
    lint "$dir/stack.yml"
    done_checks+=("stack.yml: stack config, v3.13 schema, compose-lint")
  fi
  if [ -d "$dir/k8s" ]; then
    manifests=$(find "$dir/k8s" -name '*.yaml' ! -name kustomization.yaml | sort)
    # shellcheck disable=SC2086
    "$venv/bin/kubernetes-validate" --strict -k 1.37.0 --quiet $manifests || problem "kubernetes-validate: $dir/k8s"
    checkov_dir "$dir/k8s" kubernetes
    done_checks+=("k8s/: kubernetes-validate --strict 1.37, checkov")
  fi
  if [ -d "$dir/terraform" ]; then
    if command -v terraform >/dev/null 2>&1; then
      terraform fmt -check -diff "$dir/terraform" || problem "terraform fmt: $dir/terraform"
    else
      echo "  skip: terraform fmt (no terraform on this machine)"
    fi
    for tf in "$dir"/terraform/*.tf; do
      "$venv/bin/python" -c 'import hcl2, sys; hcl2.load(open(sys.argv[1]))' "$tf" || problem "python-hcl2: $tf"
    done
    checkov_dir "$dir/terraform" terraform
    done_checks+=("terraform/: terraform fmt, python-hcl2, checkov")
  fi
  for c in "${done_checks[@]}"; do echo "validated: $dir/$c"; done
done
[ "$fail" = 0 ]
