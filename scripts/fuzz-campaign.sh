#!/usr/bin/env bash
# A fuzz campaign: each target fuzzed until its process has used CPU_SECONDS
# of CPU (default 600: ten CPU-minutes), not wall time, so a campaign on a
# loaded machine still does the work it claims. Targets run JOBS at a time
# (default 1), at niceness NICE (default 19: the campaign yields to
# everything else; NICE=0 when it must finish beside other work). Book: internals/fuzzing.md, where the figures go.
#
#   scripts/fuzz-campaign.sh [TARGET...]     (default: every target)
#   CPU_SECONDS=600 JOBS=2 MAX_LEN=65536 scripts/fuzz-campaign.sh
#
# Inputs up to MAX_LEN bytes (default 64 KiB: libFuzzer's own default is
# the largest corpus input, which left everything past 8 KiB unexplored).
# New inputs go to fuzz/target/campaign/TARGET (the committed corpus is
# read, never written); crashes, timeouts and out-of-memory inputs to
# fuzz/artifacts/TARGET/. One line per target in
# fuzz/target/campaign/summary.txt: CPU seconds, runs, execs/s, coverage,
# features, corpus size, peak RSS, and what ended it.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export PATH="$HOME/.cargo/bin:$PATH"

CPU_SECONDS=${CPU_SECONDS:-600}
JOBS=${JOBS:-1}
NICE=${NICE:-19}
MAX_LEN=${MAX_LEN:-65536}
# Wall-clock ceiling: libFuzzer stops itself if CPU never reaches the goal.
WALL=${WALL:-$((CPU_SECONDS * 8))}

cargo fuzz build -s none >/dev/null
bin=target/x86_64-unknown-linux-gnu/release
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
mkdir -p target/campaign
summary=target/campaign/summary.txt

dict_for() {
  case $1 in
    import | import_project) echo "-dict=yaml.dict" ;;
    parse | check | print_roundtrip) echo "-dict=inf.dict" ;;
  esac
}

# CPU seconds (user + system) used by process $1 so far.
cpu_of() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

campaign() {
  local target=$1 work=target/campaign/$1 log=target/campaign/$1.log
  mkdir -p "$work" "artifacts/$target"
  local started=$SECONDS
  # shellcheck disable=SC2046
  nice -n "$NICE" "$bin/$target" "$work" "corpus/$target" $(dict_for "$target") \
    -max_len="$MAX_LEN" -timeout=10 -rss_limit_mb=1024 -max_total_time="$WALL" \
    -print_final_stats=1 -artifact_prefix="artifacts/$target/" >"$log" 2>&1 &
  local pid=$! cpu=0 ended=wall
  while kill -0 "$pid" 2>/dev/null; do
    cpu=$(cpu_of "$pid")
    if [ "$cpu" -ge "$CPU_SECONDS" ]; then
      ended=cpu
      kill -INT "$pid"
      break
    fi
    sleep 5
  done
  local rc=0
  wait "$pid" || rc=$?
  # libFuzzer exits 1 on SIGINT after printing its final stats; a crash
  # leaves an artifact, which is what tells the two apart.
  local crashes
  crashes=$(find "artifacts/$target" -type f | wc -l)
  local stats
  stats=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  local runs execs peak
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  peak=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
  printf '%s cpu=%ss wall=%ss runs=%s execs/s=%s peak_rss=%sMB rc=%s ended=%s artifacts=%s last: %s\n' \
    "$target" "$cpu" "$((SECONDS - started))" "${runs:-?}" "${execs:-?}" "${peak:-?}" "$rc" "$ended" \
    "$crashes" "$stats" | tee -a "$summary"
}

running=0
for target in "${targets[@]}"; do
  campaign "$target" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait
