#!/usr/bin/env bash
# Replays the committed fuzz corpus (fuzz/corpus/TARGET/) through every
# fuzz target once: no fuzzing, only the inputs we have, so a change that
# makes an old input crash, hang (10 s per input) or break a target's
# assertion fails here. Book: internals/fuzzing.md.
#
# Installs cargo-fuzz (cached in ~/.cargo/bin) when it is missing and
# builds on the stable toolchain without a sanitizer (`-s none`): the
# targets are safe Rust, where a panic, an abort or a stack overflow is
# what we look for, and AddressSanitizer needs nightly.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export PATH="$HOME/.cargo/bin:$PATH"

CARGO_FUZZ_VERSION=0.13.2
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "-- cargo-fuzz $CARGO_FUZZ_VERSION (cargo install)"
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION" --quiet
fi

targets=$(cargo fuzz list)
cargo fuzz build -s none
failed=()
for target in $targets; do
  corpus=corpus/$target
  count=$(find "$corpus" -type f | wc -l)
  echo "-- $target: $count inputs"
  # -runs=0: execute the corpus once and stop; nothing is written to it.
  if ! cargo fuzz run -s none "$target" "$corpus" -- -runs=0 -timeout=10 -rss_limit_mb=2048 \
    >"target/replay-$target.log" 2>&1; then
    echo "FAILED: $target (last lines of fuzz/target/replay-$target.log):"
    tail -n 40 "target/replay-$target.log"
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz replay failed for: ${failed[*]}"
  exit 1
fi
echo "fuzz replay: every corpus input passes every target"
