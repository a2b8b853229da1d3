"""The examples' live tier (run by scripts/e2e-examples.sh).

Every directory of examples/ is copied, its secrets given test values, built
for compose and for swarm, and its images swapped for the local builds of
scripts/live-images.sh by the rules of e2e/live-images.map (in the test copy
only). Each target then runs on the local engine and is proven from outside
and inside; see CHECKS in the script's help for the list. One line per
example and target, the failed checks under it with the reason; the last
line is `N passed, M failed`.
"""

import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from live_common import HERE, OUTSIDE_NET, VERBOSE, docker, host_address, ipvs, load_map, office_cleanup, run  # noqa: E402
from live_example import Example  # noqa: E402
from live_target import Target  # noqa: E402


def main():
    if run(["docker", "info"], timeout=30)[0] != 0:
        print("=" * 66)
        print("SKIPPED: examples' live tier — no Docker engine answers on this machine")
        print("=" * 66)
        return 0
    only = sys.argv[1:]
    rules = load_map()
    host_ip = host_address()
    work = tempfile.mkdtemp(prefix="infrac-live-")
    swarm_started = False
    live = {"targets": []}

    def cleanup(*_):
        for t in live["targets"]:
            try:
                t.teardown()
            except Exception:
                pass
        docker("network", "rm", OUTSIDE_NET)
        office_cleanup()
        if swarm_started:
            docker("swarm", "leave", "--force")
        shutil.rmtree(work, ignore_errors=True)

    def on_signal(signum, _frame):
        cleanup()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    passed = failed = skipped = 0
    started = time.time()
    try:
        docker("network", "create", OUTSIDE_NET)
        print("== examples' live tier on Docker %s, host address %s" % (
            docker("version", "--format", "{{.Server.Version}}")[1].strip(), host_ip))
        if docker("info", "--format", "{{.Swarm.LocalNodeState}}")[1].strip() != "active":
            rc, _, err = docker("swarm", "init", "--advertise-addr", host_ip)
            swarm_started = rc == 0
            if rc != 0:
                print("SKIPPED: every swarm line — docker swarm init failed: " + err.strip()[:200])
        swarm_ok = docker("info", "--format", "{{.Swarm.LocalNodeState}}")[1].strip() == "active"
        if swarm_ok and not ipvs():
            print("   (no IPVS in this kernel: swarm services use endpoint_mode dnsrr in the test copies)")
        names = sorted(d for d in os.listdir(os.path.join(HERE, "examples"))
                       if os.path.isfile(os.path.join(HERE, "examples", d, "main.inf")))
        for name in names:
            if only and name not in only:
                continue
            ex = Example(name, work, rules)
            try:
                program = ex.prepare()
            except Exception as err:
                for target in ("compose", "swarm"):
                    failed += 1
                    print("FAIL %-22s %-7s could not prepare: %s" % (name, target, err))
                continue
            for target in ("compose", "swarm"):
                t0 = time.time()
                if ex.skip:
                    skipped += 1
                    print("SKIP %-22s %-7s %s" % (name, target, ex.skip))
                    continue
                if target == "swarm" and not swarm_ok:
                    skipped += 1
                    print("SKIP %-22s %-7s no swarm on this engine" % (name, target))
                    continue
                try:
                    path = ex.build(program, target)
                    ex.swap(path, target)
                except Exception as err:
                    failed += 1
                    print("FAIL %-22s %-7s %s" % (name, target, err))
                    continue
                t = Target(ex, target, path, host_ip)
                live["targets"].append(t)
                try:
                    t.up()
                    t.routes()
                    t.apps()
                    t.ports()
                    t.secrets()
                    if target == "swarm":
                        t.update_all()
                    t.kill_all()
                except Exception as err:
                    t.checks.add("the tier itself", False, "%s: %s" % (type(err).__name__, err))
                finally:
                    t.teardown()
                    live["targets"].remove(t)
                bad = t.checks.failed()
                n = len(t.checks.results)
                secs = int(time.time() - t0)
                if bad:
                    failed += 1
                    print("FAIL %-22s %-7s %d of %d checks failed (%d s)" % (name, target, len(bad), n, secs))
                else:
                    passed += 1
                    print("ok   %-22s %-7s %d checks (%d s)" % (name, target, n, secs))
                for check, ok, why in t.checks.results:
                    if not ok:
                        print("       - %s: %s" % (check, why))
                    elif VERBOSE:
                        print("       + %s" % check)
    finally:
        cleanup()
    if skipped:
        print("examples' live tier: %d skipped (each with its reason above)" % skipped)
    print("examples' live tier in %d s: %d passed, %d failed" % (time.time() - started, passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
