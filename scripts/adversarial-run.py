#!/usr/bin/env python3
"""Imports every adversarial compose project (scripts/adversarial-gen.py)
with the release binary and holds each run to issue 15's limits: it ends
within CPU_LIMIT seconds of CPU (default 2), WALL_LIMIT seconds of wall
time (default 10: the CI machine is shared, and a run that blocks, on a
FIFO say, uses no CPU at all), and MEM_LIMIT MB of peak RSS (default 200),
with exit 0 and a program on stdout, or exit 1 or 2 and a diagnostic on
stderr; never a panic, a signal or silence. Prints the worst time and
RSS with their cases, every failure, and exits 1 if there is one.

    scripts/adversarial-run.py [--count N] [--seed S] [--dir DIR] [--jobs J] BINARY

Without --dir, generates N cases (default 500) into a temporary directory;
with --dir, runs the cases there (generating N first if it is empty).
"""
import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))


def limit_memory():
    # A safety net far above the limit, so a runaway fails fast (an
    # allocation failure aborts) instead of taking the machine with it.
    gib = 1 << 30
    resource.setrlimit(resource.RLIMIT_AS, (2 * gib, 2 * gib))


def run(binary, case, wall_limit):
    out_path, err_path = os.path.join(case, ".out"), os.path.join(case, ".err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.monotonic()
        proc = subprocess.Popen([binary, "import", "compose.yaml"], cwd=case, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err, preexec_fn=limit_memory,
                                env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})
        timer = threading.Timer(wall_limit, lambda: proc.send_signal(signal.SIGKILL))
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
    with open(err_path, "rb") as f:
        stderr = f.read()
    stdout_size = os.path.getsize(out_path)
    os.remove(out_path)
    os.remove(err_path)
    return {
        "case": os.path.basename(case),
        "code": proc.returncode,
        "cpu": usage.ru_utime + usage.ru_stime,
        "wall": wall,
        "rss_mb": usage.ru_maxrss / 1024,
        "stderr": stderr,
        "stdout_size": stdout_size,
    }


def verdict(r, args):
    problems = []
    code, stderr = r["code"], r["stderr"]
    if code < 0:
        problems.append(f"killed by signal {-code}")
    elif code not in (0, 1, 2):
        problems.append(f"exit {code}")
    if b"panicked" in stderr:
        problems.append("panicked")
    if code == 0 and r["stdout_size"] == 0:
        problems.append("exit 0 without a program")
    if code in (1, 2) and not stderr.strip():
        problems.append(f"exit {code} without a diagnostic")
    if r["cpu"] > args.cpu_limit:
        problems.append(f"{r['cpu']:.2f} s of CPU")
    if r["wall"] > args.wall_limit:
        problems.append(f"{r['wall']:.2f} s of wall time")
    if r["rss_mb"] > args.mem_limit:
        problems.append(f"{r['rss_mb']:.0f} MB of RSS")
    return problems


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("binary")
    p.add_argument("--count", type=int, default=500)
    p.add_argument("--seed", type=int, default=15)
    p.add_argument("--dir")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--cpu-limit", type=float, default=float(os.environ.get("CPU_LIMIT", 2)))
    p.add_argument("--wall-limit", type=float, default=float(os.environ.get("WALL_LIMIT", 10)))
    p.add_argument("--mem-limit", type=float, default=float(os.environ.get("MEM_LIMIT", 200)))
    args = p.parse_args()
    binary = os.path.abspath(args.binary)

    tmp = None
    if args.dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="infrac-adversarial-")
        args.dir = os.path.join(tmp.name, "cases")
    if not os.path.isdir(args.dir) or not os.listdir(args.dir):
        subprocess.run([sys.executable, os.path.join(HERE, "adversarial-gen.py"), args.dir,
                        str(args.count), str(args.seed)], check=True)
    kinds = {}
    kinds_file = os.path.join(args.dir, "kinds.txt")
    if os.path.exists(kinds_file):
        with open(kinds_file) as f:
            kinds = dict(line.split() for line in f if line.strip())
    cases = sorted(os.path.join(args.dir, c) for c in os.listdir(args.dir) if c.isdigit())

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda c: run(binary, c, args.wall_limit + 1), cases))
    failures = [(r, v) for r in results if (v := verdict(r, args))]

    codes = {}
    for r in results:
        codes[r["code"]] = codes.get(r["code"], 0) + 1
    print(f"adversarial imports: {len(results)} cases in {time.monotonic() - started:.0f} s, "
          f"exit codes {dict(sorted(codes.items()))}")
    for key, unit in (("cpu", "s CPU"), ("wall", "s wall"), ("rss_mb", "MB RSS")):
        worst = sorted(results, key=lambda r: r[key], reverse=True)[:3]
        shown = ", ".join(f"{r[key]:.2f} {unit} (case {r['case']}, {kinds.get(r['case'], '?')}, exit {r['code']})"
                          for r in worst)
        print(f"  worst {unit.split()[-1]}: {shown}")
    by_kind = {}
    for r in results:
        k = kinds.get(r["case"], "?")
        worst = by_kind.setdefault(k, [0.0, 0.0, 0.0, 0])
        worst[0], worst[1] = max(worst[0], r["cpu"]), max(worst[1], r["wall"])
        worst[2], worst[3] = max(worst[2], r["rss_mb"]), worst[3] + 1
    for k, (cpu, wall, rss, n) in sorted(by_kind.items()):
        print(f"  {k:15} {n:6} cases, worst {cpu:.2f} s CPU, {wall:.2f} s wall, {rss:.0f} MB")
    for r, problems in failures:
        first = r["stderr"].decode("utf-8", "replace").strip().splitlines()[:3]
        print(f"FAILED case {r['case']} ({kinds.get(r['case'], '?')}): {'; '.join(problems)}; "
              f"exit {r['code']}; stderr: {' | '.join(first)[:300]}")
    if failures:
        print(f"{len(failures)} of {len(results)} cases broke the limits; cases in {args.dir} "
              f"(regenerate one with scripts/adversarial-gen.py DIR N {args.seed})")
        if tmp is not None:
            tmp._finalizer.detach()  # keep them to look at
        sys.exit(1)
    print("every case ended within the limits with a program or a diagnostic")


if __name__ == "__main__":
    main()
