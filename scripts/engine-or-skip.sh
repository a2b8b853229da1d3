# Sourced by the live tiers (e2e-live.sh, e2e-examples.sh): `engine_or_skip
# TIER` ends the calling script with a loud SKIPPED line (exit 0) when no
# Docker engine answers, and installs Compose v2 when the engine lacks it.
# Needs `$here`, the repository root.

engine_or_skip() {
  if ! docker info >/dev/null 2>&1; then
    echo "=================================================================="
    echo "SKIPPED: $1 — no Docker engine answers on this machine"
    echo "=================================================================="
    exit 0
  fi
  if ! docker compose version >/dev/null 2>&1; then
    "$here/scripts/install-tools.sh" --validators >/dev/null
  fi
}
