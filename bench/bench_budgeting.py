"""Benchmark: completed Method of Equal Shares, ours vs pabutools, on the largest shared files.

For each file both implementations compute MES with cost utilities, completed
by raising the per-voter budget 1 unit at a time ("equalshares/add1", pabutools
``voter_budget_increment=1``) and then greedily
(``greedy_utilitarian_welfare(..., initial_budget_allocation=...)``). The
outcomes must be identical. Timings exclude parsing. Results go to
``bench/results/budgeting.json``.

pabutools re-runs MES once per increment. When the estimated time of its full
completion does not fit the time budget (Hungary_Budapest_2024 needs about
22,000 increments, i.e. days), the bench runs pabutools' increment loop from
one increment before the stopping point found by our implementation (the
"tail": it must stop at the same point with the same outcome) plus one MES run
at the initial budget, and reports pabutools' time as an *estimate*: number of
MES runs x mean measured time of one run. Such rows are marked ``estimated``.

Usage::

    python bench/bench_budgeting.py [--repeat 5] [--pabutools-repeat 2] [--time-budget 600] [FILE ...]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import multiprocessing
import platform
import queue
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.budgeting import outcomes, pabulib

DATA = Path(os.environ.get("AGORA_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data")) / "pb"
OUT = ROOT / "bench" / "results" / "budgeting.json"
DEFAULT_FILES = ["Poland_Wieliczka_2023_Green_Budget.pb", "Poland_Wroclaw_2017.pb", "Hungary_Budapest_2024.pb"]


def _load_reference_module():
    spec = importlib.util.spec_from_file_location("make_pabutools_reference", ROOT / "bench" / "make_pabutools_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _timed(fn):
    t0 = time.perf_counter()
    res = fn()
    return res, time.perf_counter() - t0


def _full_run_child(ref, path, results):
    res = ref.compute(path, ["mes"])
    results.put((res["outcomes"]["mes"], res["seconds"]["mes"]))


def _run_with_timeout(ref, path: Path, timeout: float):
    """pabutools' full completed MES in a child process; ``(outcome, seconds)`` or ``None`` on time-out."""
    if timeout <= 0:
        return None
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    child = ctx.Process(target=_full_run_child, args=(ref, path, results), daemon=True)
    child.start()
    try:
        return results.get(timeout=timeout)
    except queue.Empty:  # out of time
        return None
    finally:
        child.join(timeout=1)
        if child.is_alive():
            child.kill()
            child.join()


def bench_file(name: str, ref, repeat: int, pabu_repeat: int, deadline: float, ours_cap: float) -> dict:
    from pabutools.election import Cost_Sat, parse_pabulib
    from pabutools.fractions import frac
    from pabutools.rules import greedy_utilitarian_welfare

    path = DATA / name
    election, t_parse = _timed(lambda: pabulib.parse(path.read_text(encoding="utf-8")))
    costs, budget, ballots = election.costs(), election.budget, election.ballots()

    ours_times, outcome = [], None
    for _ in range(repeat):
        res, dt = _timed(lambda: outcomes.mes(costs, budget, ballots))
        ours_times.append(dt)
        outcome = res
        if sum(ours_times) + dt > ours_cap:
            break
    increments = outcome.details["voter_budget_increments"]

    (instance, profile), t_pparse = _timed(lambda: parse_pabulib(str(path)))
    base = frac(instance.budget_limit, profile.num_ballots())
    row = {
        "file": name,
        "voters": len(election.votes),
        "projects": len(election.projects),
        "vote_type": election.vote_type,
        "increments": increments,
        "mes_selected": outcome.details["mes_selected"],
        "ours_runs_and_replays": outcome.details["mes_runs"],
        "selected": list(outcome.selected),
        "ours_seconds": [round(t, 4) for t in ours_times],
        "ours_median": round(statistics.median(ours_times), 4),
        "parse_seconds": {"ours": round(t_parse, 3), "pabutools": round(t_pparse, 3)},
    }

    # pabutools' loop = set-up (satisfaction profile) + one MES run per increment: measure the set-up,
    # one run at the initial budget and the last runs of the loop (the tail), which must end like ours
    start = max(increments - 1, 0)
    tail_runs = increments - start + 1
    _, setup = _timed(lambda: profile.as_sat_profile(sat_class=Cost_Sat))
    _, t_single = _timed(lambda: ref.mes_from(instance, profile, base, None))
    raw, t_tail = _timed(lambda: ref.mes_from(instance, profile, base + start, 1))
    res = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat, initial_budget_allocation=raw)
    tail_outcome = [p.name for p in res]
    # one more loop iteration = the tail minus the single run (a rough figure: iteration times vary with
    # the budget); if timing noise hides it, use the whole single run
    inner = t_tail - t_single if t_tail > t_single else t_single - setup
    estimate_full = t_single + increments * inner
    row["pabutools_tail_identical"] = tail_outcome == list(outcome.selected)
    remaining = deadline - time.perf_counter()
    pabu_times = []
    if estimate_full < 10 * remaining:  # worth trying: run the full completion under a time limit
        for _ in range(max(1, pabu_repeat)):
            res = _run_with_timeout(ref, path, deadline - time.perf_counter())
            if res is None:
                break
            pabu_outcome, dt = res
            pabu_times.append(dt)
            if deadline - time.perf_counter() < 1.3 * dt:
                break
    if pabu_times:
        row.update(
            pabutools_mode="full",
            pabutools_seconds=[round(t, 3) for t in pabu_times],
            pabutools_median=round(statistics.median(pabu_times), 3),
        )
    else:
        pabu_outcome = tail_outcome
        row.update(
            pabutools_mode="estimated",
            pabutools_note=(
                f"full completion = {increments + 1} MES runs, estimated {estimate_full / 3600:.1f} h; measured the "
                f"set-up ({setup:.1f}s), one run at the initial budget ({t_single:.1f}s with set-up) and the last "
                f"{tail_runs} runs from increment {start} ({t_tail:.1f}s with set-up); estimate = single run + "
                f"{increments} x (tail - single run), a rough estimate (iteration times vary with the budget)"
            ),
            pabutools_tail_start_increment=start,
            pabutools_seconds=[round(estimate_full, 1)],
            pabutools_median=round(estimate_full, 1),
        )
    row["pabutools_single_mes_run_seconds"] = round(t_single - setup, 3)
    row["pabutools_setup_seconds"] = round(setup, 3)
    row["identical"] = pabu_outcome == list(outcome.selected) and row["pabutools_tail_identical"]
    row["speedup"] = round(row["pabutools_median"] / row["ours_median"], 1)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", default=DEFAULT_FILES)
    ap.add_argument("--repeat", type=int, default=5, help="runs of our implementation per file (median)")
    ap.add_argument("--pabutools-repeat", type=int, default=2, help="runs of pabutools per file when it fits")
    ap.add_argument("--time-budget", type=float, default=600.0, help="seconds for the whole bench (approximate)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)

    ref = _load_reference_module()
    start = time.perf_counter()
    deadline = start + args.time_budget
    rows = []
    for i, name in enumerate(args.files):
        # our runs get at most half of this file's share of the remaining time
        ours_cap = (deadline - time.perf_counter()) / (2 * (len(args.files) - i))
        # pabutools shares what is left with the files still to come
        share = time.perf_counter() + (deadline - time.perf_counter()) / (len(args.files) - i)
        row = bench_file(name, ref, args.repeat, args.pabutools_repeat, share, ours_cap)
        rows.append(row)
        print(f"{name}: ours {row['ours_median']}s, pabutools {row['pabutools_median']}s "
              f"({row['pabutools_mode']}), x{row['speedup']}, identical={row['identical']}", flush=True)

    print()
    hdr = f"{'file':40} {'voters':>7} {'incr':>6} {'ours s (n)':>13} {'pabutools s (n)':>20} {'speedup':>8} {'same':>5}"
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        ours = f"{r['ours_median']:.3f} ({len(r['ours_seconds'])})"
        pab = f"{r['pabutools_median']:.1f} ({len(r['pabutools_seconds']) if r['pabutools_mode'] == 'full' else 'est.'})"
        print(f"{r['file'][:40]:40} {r['voters']:>7} {r['increments']:>6} {ours:>13} {pab:>20} {r['speedup']:>8} {r['identical']!s:>5}")

    doc = {
        "benchmark": "completed MES (equalshares/add1 + greedy), Cost_Sat; ours vs pabutools",
        "pabutools_version": version("pabutools"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "total_seconds": round(time.perf_counter() - start, 1),
        "files": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return 0 if all(r["identical"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
