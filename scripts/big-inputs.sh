#!/usr/bin/env bash
# The big-input tests that take minutes in a debug build (a 50 MB program,
# 100,000 services, every target), in release, one at a time so their
# peak-memory figures are not disturbed by each other. Prints the figures
# quoted in book/src/internals/hardening.md. Needs about 8 GB of memory
# and 2 GB of disk in the temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --test big_inputs -- --include-ignored --nocapture --test-threads=1
