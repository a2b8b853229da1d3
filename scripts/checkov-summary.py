"""Reads a checkov JSON report (`checkov -o json`) and prints one line of
counts for it, then each failed check and each skip that gives no reason.
Exits 1 if there is any of those, or a parsing error, or no report.

usage: checkov-summary.py REPORT.json WHERE FRAMEWORK

Used by scripts/validate-outputs.sh; the counts go into the book's target
pages, one line per example.
"""

import json
import sys

# What checkov records for a skip written without a reason.
NO_REASON = ("", "No comment provided")


def main() -> int:
    path, where, framework = sys.argv[1:4]
    try:
        with open(path) as f:
            report = json.load(f)
    except (OSError, ValueError):
        print(f"  checkov {framework}: {where}: no report")
        return 1
    # One framework gives one object, several a list; nothing scanned
    # gives the bare summary.
    reports = report if isinstance(report, list) else [report]
    total = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0}
    problems = []
    for r in reports:
        summary = r.get("summary", r)
        for key in total:
            total[key] += summary.get(key, 0)
        results = r.get("results", {})
        for c in results.get("failed_checks", []):
            line = c["file_line_range"][0]
            problems.append(
                f"    FAILED {c['check_id']} {c['resource']} ({c['file_path']}:{line}): {c['check_name']}"
            )
        for c in results.get("skipped_checks", []):
            reason = (c.get("check_result") or {}).get("suppress_comment") or ""
            if reason.strip() in NO_REASON:
                problems.append(
                    f"    SKIPPED WITHOUT A REASON {c['check_id']} {c['resource']} ({c['file_path']})"
                )
    print(
        f"  checkov {framework}: {where}: {total['passed']} passed, "
        f"{total['failed']} failed, {total['skipped']} skipped"
    )
    for p in problems[:20]:
        print(p)
    if total["parsing_errors"]:
        print(f"    {total['parsing_errors']} file(s) checkov could not parse")
    return 1 if problems or total["parsing_errors"] or total["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
