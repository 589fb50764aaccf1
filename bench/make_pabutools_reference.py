"""Compute reference outcomes with pabutools for the shared `.pb` files.

Writes ``tests/unit/budgeting/pabutools_reference.json``: for each file and each
rule (``greedy``, ``mes``, ``mes_raw``, ``phragmen``) the list of selected project
ids in pabutools' selection order (pabutools returns Phragmén's selection
sorted by id), with the pabutools version and the seconds each computation took.
The fast unit suite compares the budgeting rules against this file; re-run this
script after upgrading pabutools.

pabutools' completed MES (``voter_budget_increment=1``) re-runs MES once per
unit of per-voter budget. On Hungary_Budapest_2024 that is about 22,000 runs
(days of computation), so for such files ``--tail-check`` records a *tail
check* instead of the full reference (``mes_tail``): pabutools' own increment
loop is started one increment before the point where our implementation stops,
and it must stop at the same point with the same outcome; single pabutools MES
runs at a few earlier budgets are recorded as well (``mes_runs``).

Usage::

    python bench/make_pabutools_reference.py [--rules greedy,mes_raw,...] [FILE_NAME ...]
    python bench/make_pabutools_reference.py --tail-check Hungary_Budapest_2024.pb
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from importlib.metadata import version
from pathlib import Path

from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat, parse_pabulib
from pabutools.fractions import frac
from pabutools.rules import (
    greedy_utilitarian_welfare,
    method_of_equal_shares,
    sequential_phragmen,
)
from pabutools.rules.budgetallocation import BudgetAllocation
from pabutools.rules.mes.mes_rule import method_of_equal_shares_scheme
from pabutools.tiebreaking import lexico_tie_breaking

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = Path(os.environ.get("AGORA_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data")) / "pb"
DEFAULT_OUT = ROOT / "tests" / "unit" / "budgeting" / "pabutools_reference.json"
RULE_NAMES = ("greedy", "mes_raw", "phragmen", "mes")


def as_approval_profile(profile):
    """Approval view of any profile: a voter approves every project on the ballot."""
    return ApprovalProfile([ApprovalBallot(list(b)) for b in profile])


def pabutools_rule(name, instance, profile):
    """The pabutools computation the budgeting rule ``name`` must reproduce."""
    if name == "greedy":
        return greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    if name == "mes_raw":
        return method_of_equal_shares(instance, profile, sat_class=Cost_Sat)
    if name == "phragmen":
        prof = profile if isinstance(profile, ApprovalProfile) else as_approval_profile(profile)
        return sequential_phragmen(instance, prof)
    if name == "mes":
        raw = method_of_equal_shares(instance, profile, sat_class=Cost_Sat, voter_budget_increment=1)
        return greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat, initial_budget_allocation=raw)
    raise ValueError(name)


def mes_from(instance, profile, per_voter, increment):
    """pabutools MES (Cost_Sat) from a given initial per-voter budget, optionally iterated."""
    sat_profile = profile.as_sat_profile(sat_class=Cost_Sat)
    return method_of_equal_shares_scheme(
        instance, profile, sat_profile, per_voter, BudgetAllocation(), lexico_tie_breaking,
        voter_budget_increment=increment, binary_sat=isinstance(profile, ApprovalProfile),
    )


def compute(path: Path, rules: list[str]) -> dict:
    """Reference outcomes (and timings in seconds) for one file."""
    instance, profile = parse_pabulib(str(path))
    out: dict = {"outcomes": {}, "seconds": {}}
    for name in rules:
        t0 = time.perf_counter()
        alloc = pabutools_rule(name, instance, profile)
        out["seconds"][name] = round(time.perf_counter() - t0, 3)
        out["outcomes"][name] = [p.name for p in alloc]
    return out


def tail_check(path: Path, samples: int = 3) -> dict:
    """pabutools check of the end of the MES completion, located with our implementation."""
    from services.budgeting import pabulib as ours_pb
    from services.budgeting import outcomes as ours

    election = ours_pb.parse(path.read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    outcome = ours.mes(election.costs(), election.budget, election.ballots())
    ours_seconds = time.perf_counter() - t0
    k = outcome.details["voter_budget_increments"]
    instance, profile = parse_pabulib(str(path))
    base = frac(instance.budget_limit, profile.num_ballots())
    t0 = time.perf_counter()
    raw = mes_from(instance, profile, base + max(k - 1, 0), 1)
    done = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat, initial_budget_allocation=raw)
    tail = {"start_increment": max(k - 1, 0), "outcome": [p.name for p in done],
            "seconds": round(time.perf_counter() - t0, 3)}
    runs = []
    for i in range(samples):
        kk = (k * i) // samples
        t0 = time.perf_counter()
        res = mes_from(instance, profile, base + kk, None)
        runs.append({"increment": kk, "outcome": [p.name for p in res], "seconds": round(time.perf_counter() - t0, 3)})
    return {"increments": k, "ours_seconds": round(ours_seconds, 3), "mes_tail": tail, "mes_runs": runs}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--rules", default=",".join(RULE_NAMES), help="comma-separated rules to (re)compute")
    ap.add_argument("--tail-check", action="store_true", help="record the MES completion tail check instead")
    ap.add_argument("files", nargs="*", help="file names to (re)compute; default: all")
    args = ap.parse_args(argv)

    doc = {"files": {}}
    if args.out.exists():
        doc = json.loads(args.out.read_text())
    files = doc.setdefault("files", {})
    names = args.files or sorted(p.name for p in args.data.glob("*.pb"))
    rules = [r for r in args.rules.split(",") if r]
    for name in names:
        t0 = time.perf_counter()
        entry = files.setdefault(name, {"outcomes": {}, "seconds": {}})
        if args.tail_check:
            entry["mes_tail_check"] = tail_check(args.data / name)
            print(f"{name}: tail check {time.perf_counter() - t0:.1f}s", flush=True)
        else:
            res = compute(args.data / name, rules)
            entry["outcomes"].update(res["outcomes"])
            entry["seconds"].update(res["seconds"])
            print(f"{name}: {time.perf_counter() - t0:.1f}s {res['seconds']}", flush=True)
        doc.update({
            "pabutools_version": version("pabutools"),
            "satisfaction": "Cost_Sat",
            "mes": "method_of_equal_shares(voter_budget_increment=1) + greedy_utilitarian_welfare completion",
            "phragmen_note": "non-approval profiles are read as approval of every project on the ballot; "
                             "pabutools returns the Phragmen selection sorted by id",
            "files": dict(sorted(files.items())),
        })
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
