#!/usr/bin/env bash
# Whole-process figures for the book's performance page: builds release,
# generates programs of N services (`infrac workload N`), times
# `infrac check` and `infrac build --target T` for every target and `all`
# (hyperfine when installed, else a loop over `date +%s%N`), measures the
# bytes written and the peak RSS (/usr/bin/time), computes MB/s and
# t(10k)/t(1k), runs the serde floor (`cargo bench --bench floor`), and
# prints a Markdown table and whether each budget is met.
#
#   scripts/bench-table.sh               # everything
#   SIZES="10 100" scripts/bench-table.sh
#   FLOOR=skip scripts/bench-table.sh    # no floor bench (or FLOOR=18.0, in MB/s)
#   TMPDIR=/dev/shm scripts/bench-table.sh   # outputs on tmpfs, not the disk
#
# Builds write into a scratch directory under $TMPDIR, replacing the
# previous output as a repeated `infrac build` does, so the removal of the
# old files is part of every timed run. Run it under `nice` on a shared
# machine; the CPU column (user + system) is steadier than wall time there.
set -euo pipefail

cd "$(dirname "$0")/.."
SIZES=${SIZES:-"10 100 1000 10000"}
FLOOR=${FLOOR:-bench}

cargo build --release --quiet
BIN=$PWD/target/release/infrac
WORK=$(mktemp -d "${TMPDIR:-/tmp}/infrac-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Every target `build` accepts, from its help, so a new one is measured too.
TARGETS=$("$BIN" build --help |
    awk '/^ *(-t, )?--target / { t = 1 } t && /possible values/ { sub(/.*possible values: /, ""); sub(/\].*/, ""); gsub(/,/, ""); print; exit }')
[ -n "$TARGETS" ] || { echo "cannot read the targets from infrac build --help" >&2; exit 2; }

HYPERFINE=$(command -v hyperfine || true)
TIME=$(command -v /usr/bin/time || true)

# time_cmd NAME RUNS CMD...: appends "NAME mean_s cpu_s" to $WORK/times.
time_cmd() {
    local name=$1 runs=$2
    shift 2
    if [ -n "$HYPERFINE" ]; then
        "$HYPERFINE" -N --style none --warmup 1 --runs "$runs" \
            --export-json "$WORK/h.json" "$*" >"$WORK/h.log" 2>&1 ||
            { cat "$WORK/h.log" >&2; exit 1; }
        python3 - "$name" "$WORK/h.json" >>"$WORK/times" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))["results"][0]
print(sys.argv[1], r["mean"], r["user"] + r["system"])
PY
    else
        local total=0 start end
        "$@" >/dev/null 2>&1 || true
        for _ in $(seq "$runs"); do
            start=$(date +%s%N)
            "$@" >/dev/null 2>&1 || true
            end=$(date +%s%N)
            total=$((total + end - start))
        done
        echo "$name $(python3 -c "print($total / $runs / 1e9)") nan" >>"$WORK/times"
    fi
}

# peak NAME CMD...: appends "NAME peak_kb bytes_written" to $WORK/peaks.
peak() {
    local name=$1
    shift
    local kb=nan bytes=0
    if [ -n "$TIME" ]; then
        "$TIME" -f '%M' -o "$WORK/rss" "$@" >/dev/null 2>"$WORK/err" || true
        kb=$(tail -1 "$WORK/rss")
    else
        "$@" >/dev/null 2>"$WORK/err" || true
    fi
    bytes=$(sed -n 's/.*built [0-9]* file(s), \([0-9]*\) bytes.*/\1/p' "$WORK/err" | tail -1)
    echo "$name $kb ${bytes:-0}" >>"$WORK/peaks"
}

: >"$WORK/times"
: >"$WORK/peaks"
for n in 50 $SIZES; do
    "$BIN" workload "$n" >"$WORK/w$n.inf"
done
# The 50-service check budget.
time_cmd "check/50" 30 "$BIN" check "$WORK/w50.inf"
for n in $SIZES; do
    runs=10
    [ "$n" -ge 10000 ] && runs=3
    time_cmd "check/$n" "$runs" "$BIN" check "$WORK/w$n.inf"
    peak "check/$n" "$BIN" check "$WORK/w$n.inf"
    for t in $TARGETS; do
        out="$WORK/out-$t-$n"
        time_cmd "$t/$n" "$runs" "$BIN" build "$WORK/w$n.inf" --target "$t" -o "$out"
        peak "$t/$n" "$BIN" build "$WORK/w$n.inf" --target "$t" -o "$out"
        rm -rf "$out"
    done
done

# The floor: serde_yaml dumping the same Kubernetes and compose documents.
case "$FLOOR" in
skip) floor=nan ;;
bench)
    TMPDIR=$WORK cargo bench --quiet --bench floor -- --noplot >"$WORK/floor.txt" 2>&1
    floor=$(python3 - "$WORK/floor.txt" 2>"$WORK/floor-all" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
units = {"KiB/s": 1024 / 1e6, "MiB/s": 1048576 / 1e6, "GiB/s": 1073741824 / 1e6}
found = {}
for name, body in re.findall(r"^(\S+)\s*\n?\s*time:.*?\n\s*thrpt:\s*\[(.*?)\]", text, re.M | re.S):
    value, unit = body.split()[2:4]
    found[name] = float(value) * units[unit]
for name, mbps in found.items():
    print(f"{name} {mbps:.1f}", file=sys.stderr)
print(found.get("floor/serde_yaml/k8s/10000", float("nan")))
PY
    )
    ;;
*) floor=$FLOOR ;;
esac

python3 - "$WORK" "$floor" "$SIZES" "$TARGETS" <<'PY'
import math, os, sys
work, floor, sizes, targets = sys.argv[1], float(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
times = {l.split()[0]: (float(l.split()[1]), float(l.split()[2])) for l in open(f"{work}/times")}
peaks = {l.split()[0]: (float(l.split()[1]), int(l.split()[2])) for l in open(f"{work}/peaks")}

def ms(s):
    return "n/a" if math.isnan(s) else (f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s")

print("| command | N | wall (mean) | CPU (user+sys) | bytes written | MB/s | peak RSS | RSS / bytes |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for name in ["check"] + targets:
    for n in sizes:
        key = f"{name}/{n}"
        if key not in times:
            continue
        wall, cpu = times[key]
        kb, written = peaks[key]
        rate = f"{written / wall / 1e6:.1f}" if written else "–"
        ratio = f"{kb * 1024 / written:.1f}×" if written else "–"
        rss = "n/a" if math.isnan(kb) else f"{kb / 1024:.0f} MB"
        cmd = "`check`" if name == "check" else f"`build --target {name}`"
        print(f"| {cmd} | {int(n):,} | {ms(wall)} | {ms(cpu)} | {written:,} | {rate} | {rss} | {ratio} |")
print()
print("| command | t(10k)/t(1k) wall | CPU |")
print("|---|---:|---:|")
for name in ["check"] + targets:
    a, b = times.get(f"{name}/1000"), times.get(f"{name}/10000")
    if a and b:
        print(f"| {name} | {b[0] / a[0]:.1f} | {b[1] / a[1]:.1f} |")
print()
if os.path.exists(f"{work}/floor-all"):
    print("Floor (`cargo bench --bench floor`: serde_yaml on the same documents, and the writer alone, N = 10,000):")
    for line in open(f"{work}/floor-all"):
        name, mbps = line.split()
        print(f"- {name}: {mbps} MB/s")
    print()

def verdict(ok):
    return "met" if ok else "NOT met"

print("Budgets:")
all10 = times.get("all/10000")
if all10:
    kb, written = peaks["all/10000"]
    rate = written / all10[0] / 1e6
    if not math.isnan(floor):
        print(f"- `build --target all`, 10k, at least the floor: {rate:.1f} MB/s ({written / all10[1] / 1e6:.1f} MB/s of CPU time) vs {floor:.1f} MB/s: {verdict(rate >= floor)}")
    print(f"- `build --target all`, 10k, under 2 s: {ms(all10[0])} (CPU {ms(all10[1])}): {verdict(all10[0] < 2)}")
    if not math.isnan(kb):
        print(f"- peak memory under 3x bytes written (all, 10k): {kb / 1024:.0f} MB for {written / 1e6:.0f} MB: {verdict(kb * 1024 < 3 * written)}")
for name in ["check", "all"]:
    a, b = times.get(f"{name}/1000"), times.get(f"{name}/10000")
    if a and b:
        print(f"- linear cost, `{name}` t(10k)/t(1k) <= 11: {b[0] / a[0]:.1f}: {verdict(b[0] / a[0] <= 11)}")
c50 = times.get("check/50")
if c50:
    print(f"- `check` of 50 services under 5 ms: {ms(c50[0])} (CPU {ms(c50[1])}): {verdict(c50[0] < 0.005)}")
PY
