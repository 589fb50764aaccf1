"""Compute reference outcomes with pabutools for every shared `.pb` file.

Writes ``tests/unit/budgeting/pabutools_reference.json``: for each file and each
rule (``greedy``, ``mes``, ``mes_raw``, ``phragmen``) the list of selected project
ids in pabutools' selection order, with the pabutools version and the time each
computation took. The fast unit suite compares the budgeting rules against this
file; re-run this script after upgrading pabutools.

Usage: python bench/make_pabutools_reference.py [--data DIR] [--out FILE] [FILE_NAME ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from importlib.metadata import version
from pathlib import Path

from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat, parse_pabulib
from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares, sequential_phragmen

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path("/work/shared/data/pb")
DEFAULT_OUT = ROOT / "tests" / "unit" / "budgeting" / "pabutools_reference.json"


def as_approval_profile(profile):
    """Approval view of any profile: a voter approves every project on the ballot."""
    return ApprovalProfile([ApprovalBallot(list(b)) for b in profile])


def reference_rules(instance, profile):
    """Yield (rule name, callable) pairs computing the pabutools reference outcomes."""

    def mes():
        raw = method_of_equal_shares(instance, profile, sat_class=Cost_Sat, voter_budget_increment=1)
        return greedy_utilitarian_welfare(
            instance, profile, sat_class=Cost_Sat, initial_budget_allocation=raw
        )

    def mes_raw():
        return method_of_equal_shares(instance, profile, sat_class=Cost_Sat)

    def greedy():
        return greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)

    def phragmen():
        prof = profile if isinstance(profile, ApprovalProfile) else as_approval_profile(profile)
        return sequential_phragmen(instance, prof)

    return [("greedy", greedy), ("mes_raw", mes_raw), ("phragmen", phragmen), ("mes", mes)]


def compute(path: Path, rules: list[str] | None = None) -> dict:
    """Reference outcomes (and timings in seconds) for one file."""
    instance, profile = parse_pabulib(str(path))
    out: dict = {"outcomes": {}, "seconds": {}}
    for name, fn in reference_rules(instance, profile):
        if rules and name not in rules:
            continue
        t0 = time.perf_counter()
        alloc = fn()
        out["seconds"][name] = round(time.perf_counter() - t0, 3)
        out["outcomes"][name] = [p.name for p in alloc]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("files", nargs="*", help="file names to (re)compute; default: all")
    args = ap.parse_args(argv)

    existing = {}
    if args.out.exists():
        existing = json.loads(args.out.read_text()).get("files", {})
    names = args.files or sorted(p.name for p in args.data.glob("*.pb"))
    for name in names:
        t0 = time.perf_counter()
        existing[name] = compute(args.data / name)
        print(f"{name}: {time.perf_counter() - t0:.1f}s {existing[name]['seconds']}", flush=True)
        doc = {
            "pabutools_version": version("pabutools"),
            "satisfaction": "Cost_Sat",
            "mes": "method_of_equal_shares(voter_budget_increment=1) + greedy_utilitarian_welfare completion",
            "phragmen_note": "non-approval profiles are read as approval of every project on the ballot",
            "files": dict(sorted(existing.items())),
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
