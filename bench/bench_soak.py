"""Soak: a steady vote load for a long while, the bookkeeping tables' sizes recorded over time.

Every vote writes an outbox row (voting) and a processed-event id in each consumer (ideas, gamification);
without pruning these tables grow with the platform's age. Here the platform (accounts, ideas, voting,
gamification and the gateway, one process, a scratch database and broker vhost dropped at the end) runs
with a short pruning window (`--window-minutes`, the production default being a week) so that the run
covers many windows: the sizes must climb for one window, then stay flat, at about rate x window.

Every `--sample-seconds` the rows of `<schema>.outbox` and `<schema>.processed_events` are counted, and
the process's `agora_table_rows` gauge is read from its /metrics. At the end the books are checked
(tests/cluster.py: nothing lost or doubled, points exact).

Usage: python bench/bench_soak.py [--minutes 60] [--rate 20] [--window-minutes 3] [--sample-seconds 30]
Results: bench/results/soak.json (not run in CI)
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

import requests  # noqa: E402
from sqlalchemy import text  # noqa: E402

from cluster import Books, City, Proc, Scratch, Voter, service_modules, split_pairs  # noqa: E402
from support import Api  # noqa: E402

OUT = ROOT / "bench" / "results" / "soak.json"
SERVICES = ["accounts", "ideas", "voting", "gamification"]
TABLES = ("outbox", "processed_events")


def count_rows(scratch: Scratch) -> dict[str, int]:
    with scratch.engine.connect() as conn:
        return {f"{s}.{t}": conn.execute(text(f'SELECT count(*) FROM "{s}".{t}')).scalar()
                for s in SERVICES for t in TABLES}


def gauge(ops_port: int) -> dict[str, float]:
    try:
        body = requests.get(f"http://127.0.0.1:{ops_port}/metrics", timeout=5).text
    except requests.RequestException:
        return {}
    return {f"{m[0]}.{m[1]}": float(m[2]) for m in
            re.findall(r'^agora_table_rows\{schema="([^"]+)",table="([^"]+)"\} (\S+)$', body, re.M)}


def steady(clients: list[Voter], rate: float, stop: threading.Event) -> None:
    """`rate` votes a second in all, spread evenly over the clients, until `stop`."""
    interval = len(clients) / rate

    def loop(v: Voter):
        next_at = time.monotonic()
        while not stop.is_set():
            v.one()
            next_at += interval
            stop.wait(max(0.0, next_at - time.monotonic()))

    threads = [threading.Thread(target=loop, args=(v,), daemon=True) for v in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--rate", type=float, default=20.0, help="votes a second")
    ap.add_argument("--window-minutes", type=float, default=3.0, help="PRUNE_AFTER_HOURS, in minutes")
    ap.add_argument("--prune-seconds", type=float, default=30.0, help="PRUNE_INTERVAL_SECONDS")
    ap.add_argument("--sample-seconds", type=float, default=30.0)
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()

    scratch = Scratch(SERVICES, prefix="agora_soak")
    log_dir = ROOT / "bench" / "results"
    log_dir.mkdir(parents=True, exist_ok=True)
    proc = Proc(scratch, service_modules(*SERVICES) + ["gateway.service"], name="soak", log_dir=Path("/tmp"),
                expected=SERVICES, extra_env={
                    "LOG_LEVEL": "WARNING", "PRUNE_AFTER_HOURS": str(args.window_minutes / 60),
                    "PRUNE_INTERVAL_SECONDS": str(args.prune_seconds)})
    samples: list[dict] = []
    try:
        proc.start()
        api = Api(proc.url)
        city = City(api, authors=5, ideas_each=4, voters=60)
        city.wait_voting_knows_ideas()
        clients = [Voter(proc.url, city, pairs, seed=n) for n, pairs in enumerate(split_pairs(city, args.clients))]
        stop = threading.Event()
        load = threading.Thread(target=steady, args=(clients, args.rate, stop), daemon=True)
        started = time.monotonic()
        load.start()
        end = started + args.minutes * 60
        while time.monotonic() < end:
            time.sleep(min(args.sample_seconds, max(0.0, end - time.monotonic())))
            sample = {"minute": round((time.monotonic() - started) / 60, 2), "rows": count_rows(scratch),
                      "gauge": gauge(proc.ops_port),
                      "votes_sent": sum(len(v.timings) for v in clients)}
            samples.append(sample)
            print(json.dumps(sample), flush=True)
        stop.set()
        load.join(30)
        books = Books(scratch, city)
        books.wait_settled(timeout=120)
        summary = books.check(clients)
        statuses: dict[int, int] = {}
        for v in clients:
            for s, n in v.statuses.items():
                statuses[s] = statuses.get(s, 0) + n
        window = args.window_minutes + args.prune_seconds / 60
        steady_samples = [s for s in samples if s["minute"] >= 2 * window]
        flat = {}
        for key in samples[0]["rows"] if samples else []:
            values = [s["rows"][key] for s in steady_samples]
            if values:
                flat[key] = {"min": min(values), "max": max(values), "last": values[-1]}
        result = {"minutes": args.minutes, "rate": args.rate, "window_minutes": args.window_minutes,
                  "prune_interval_seconds": args.prune_seconds, "statuses": statuses, "books": summary,
                  "after_two_windows": flat, "samples": samples}
        OUT.write_text(json.dumps(result, indent=1))
        print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=1))
    finally:
        proc.stop()
        scratch.close()


if __name__ == "__main__":
    main()
