"""The vote path under load, next to a bare baseline measured in the same run, and the event lag.

Starts the platform as separate processes in a scratch database and broker vhost (dropped at the end):
gateway processes sharing one port (SO_REUSEPORT), voting, gamification, accounts + ideas, and the echo
service of bench/echo.py. Then, over keep-alive connections (wrk, or bench/loadgen.py's Python
generator when wrk is not installed):

- baseline: `PUT /cities/<c>/bench-echo/<idea>`: the same gateway work as a vote (token, city, body,
  one RPC, JSON answer) answered by an RPC echo, no database, no event;
- votes: `PUT /cities/<c>/ideas/<idea>/vote` by thousands of voters on hundreds of ideas, up (70%) or
  down, so votes are cast and changed: each is stored once, its event published through the outbox,
  and the author's points booked by gamification;
- event lag, during the vote load: from a vote's HTTP answer to its author's points being visible in
  gamification's totals (sequential probes, each by a fresh voter on a dedicated author's idea).

Rounds alternate baseline and votes; the figures are medians over rounds. After the load, the books
are checked (tests/cluster.py): votes stored once, outboxes drained, every author's points exact.

Usage: python bench/bench_votes.py [--seconds 15] [--rounds 3] [--connections 32] [--gateways 2]
Results: bench/results/votes.json (and the table in bench/README.md)
"""
from __future__ import annotations

import argparse
import json
import os
import platform as host
import re
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]
os.environ.setdefault("AGORA_SERVICES", "accounts,ideas,voting,gamification")

import requests  # noqa: E402
from sqlalchemy import text  # noqa: E402

import cpu  # noqa: E402
import loadgen  # noqa: E402
from cluster import Books, City, Proc, Scratch, inserted_users, service_modules  # noqa: E402
from support import Api, free_port  # noqa: E402

OUT = ROOT / "bench" / "results" / "votes.json"
SERVICES = ["accounts", "ideas", "voting", "gamification"]


def start_platform(scratch: Scratch, args, log_dir: Path) -> list[Proc]:
    env = {"LOG_LEVEL": args.log_level, "RPC_TIMEOUT": "10"}
    procs = []

    def proc(modules, name, max_workers, **kw):
        p = Proc(scratch, modules, name=name, log_dir=log_dir, expected=SERVICES + ["echo"],
                 extra_env={**env, "MAX_WORKERS": str(max_workers)}, **kw)
        procs.append(p)
        return p.start()

    proc(["bench.echo:EchoService"], "echo", args.service_workers)
    for n in range(args.voting):
        proc(service_modules("voting"), f"voting-{n}", args.service_workers)
    proc(service_modules("gamification"), "gamification", args.service_workers)
    proc(service_modules("accounts", "ideas"), "accounts-ideas", args.service_workers)
    port = free_port()
    for n in range(args.gateways):
        proc(["bench.echo:GatewayWithEcho"], f"gateway-{n}", args.gateway_workers, port=port)
    return procs


class LagProbe(threading.Thread):
    """Sequential probes: a fresh voter votes up a dedicated author's idea; time until the author's
    points show the award in gamification's totals."""

    def __init__(self, base_url: str, city: City, idea_id: str, author_id: str, scratch):
        super().__init__(daemon=True)
        self.base, self.city, self.idea, self.author = base_url, city, idea_id, author_id
        self.scratch, self.engine = scratch, scratch.engine
        self.samples: list[float] = []
        self.failed = 0
        self.stop = threading.Event()

    def points(self, conn) -> int:
        return conn.execute(text(
            "SELECT COALESCE((SELECT points FROM gamification.totals WHERE city_id = :c AND period = 'all' "
            "AND user_id = :u), 0)"), {"c": self.city.id, "u": self.author}).scalar()

    def run(self):
        http = requests.Session()
        with self.engine.connect() as conn:
            conn.execute(text("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED"))
            conn.commit()
            while not self.stop.is_set():
                before = self.points(conn)
                conn.commit()
                voter = inserted_users(self.scratch, self.city.info, 1)[0]  # a real user, new each time
                r = http.put(f"{self.base}{self.city.vote_path(self.idea)}", json={"value": "up"},
                             headers={"Authorization": f"Bearer {voter['token']}"}, timeout=30)
                answered = time.perf_counter()
                if r.status_code != 200:
                    self.failed += 1
                    continue
                deadline = answered + 30
                while time.perf_counter() < deadline:
                    seen = self.points(conn)
                    conn.commit()
                    if seen >= before + 5:
                        self.samples.append((time.perf_counter() - answered) * 1000)
                        break
                    time.sleep(0.003)
                time.sleep(0.05)


def profile(procs: list[Proc], directory: str, seconds: float) -> list:
    """py-spy (pip install py-spy) sampling every platform process while the votes run."""
    import shutil
    import subprocess

    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    Path(directory).mkdir(parents=True, exist_ok=True)
    return [subprocess.Popen([spy, "record", "--nonblocking", "-r", "200", "-d", str(int(seconds)), "-f", "raw",
                              "-o", str(Path(directory) / f"{p.log_path.stem.split('-', 1)[-1]}.txt"),
                              "--pid", str(p.process.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for p in procs]


def batch_sizes(procs: list[Proc]) -> dict:
    """Mean batch sizes over the run, from every process's metrics: votes per batch RPC (gateways) and
    events per batch (the consumers)."""
    import re as _re

    totals: dict[str, list[float]] = {}
    for p in procs:
        url = f"http://127.0.0.1:{p.ops_port}/metrics"  # the gateway too: /metrics is on the ops port only
        try:
            body = requests.get(url, timeout=5).text
        except requests.RequestException:
            continue
        for m in _re.finditer(r'^agora_(rpc|event)_batch_size_(sum|count)\{([^}]*)\} ([0-9.e+]+)$', body, _re.M):
            labels = dict(_re.findall(r'(\w+)="([^"]*)"', m.group(3)))
            key = f"{labels.get('service')}.{labels.get('method') or labels.get('handler')}"
            pair = totals.setdefault(key, [0.0, 0.0])
            pair[0 if m.group(2) == "sum" else 1] += float(m.group(4))
    return {k: round(s / c, 1) for k, (s, c) in sorted(totals.items()) if c}


def summarize(runs: list[dict]) -> dict:
    keys = ["rps", "ok_rps", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms"]
    out = {k: round(statistics.median(r[k] for r in runs), 2) for k in keys}
    out["non_2xx"] = sum(r["non_2xx"] for r in runs)
    out["socket_errors"] = sum(r["socket_errors"] for r in runs)
    out["requests"] = sum(r["requests"] for r in runs)
    groups = sorted({g for r in runs for g in r.get("cpu_ms_per_request", {})})
    out["cpu_ms_per_request"] = {g: round(statistics.median(r["cpu_ms_per_request"].get(g, 0.0) for r in runs), 3)
                                 for g in groups}
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--gateways", type=int, default=2)
    parser.add_argument("--voting", type=int, default=1)
    parser.add_argument("--gateway-workers", type=int, default=int(os.environ.get("BENCH_GATEWAY_WORKERS", 64)))
    parser.add_argument("--service-workers", type=int, default=int(os.environ.get("BENCH_SERVICE_WORKERS", 32)))
    parser.add_argument("--voters", type=int, default=5000)
    parser.add_argument("--authors", type=int, default=20)
    parser.add_argument("--ideas-each", type=int, default=10)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--tool", default=None, help="wrk or python (default: wrk when installed)")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--keep", action="store_true", help="leave the platform running (for profiling)")
    parser.add_argument("--profile", default=None, metavar="DIR",
                        help="py-spy flame graphs of every process during the first vote round, into DIR")
    args = parser.parse_args()

    started = time.monotonic()
    log_dir = Path(os.environ.get("BENCH_LOG_DIR", "/tmp"))
    scratch = Scratch(SERVICES, prefix="agora_bench")
    procs: list[Proc] = []
    try:
        procs = start_platform(scratch, args, log_dir)
        base = procs[-1].url
        api = Api(base)
        print(f"platform up in {time.monotonic() - started:.0f}s ({len(procs)} processes); seeding", flush=True)
        city = City(api, authors=args.authors, ideas_each=args.ideas_each, voters=0)
        city.voters = inserted_users(scratch, city.info, args.voters)  # real users: the gateway checks each
        probe_author = inserted_users(scratch, city.info, 1)[0]
        probe_idea = city._idea(probe_author)
        city.wait_voting_knows_ideas(timeout=60)
        ideas = list(city.ideas)
        tokens = [v["token"] for v in city.voters]
        vote_load = loadgen.Load(base, [city.vote_path(i) for i in ideas], tokens,
                                 connections=args.connections, duration=args.seconds)
        echo_load = loadgen.Load(base, [f"/api/v1/cities/{city.slug}/bench-echo/{i}" for i in ideas], tokens,
                                 connections=args.connections, duration=args.seconds)

        print("warming up", flush=True)
        loadgen.run(loadgen.Load(**{**echo_load.__dict__, "duration": 3}), args.tool)
        loadgen.run(loadgen.Load(**{**vote_load.__dict__, "duration": 5}), args.tool)
        Books(scratch, city).wait_settled(timeout=120)
        # statistics, as autovacuum keeps them on a running platform: a database minutes old plans
        # (and keeps prepared) its statements as if its tables were empty
        with scratch.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()

        named = {p.process.pid: re.sub(r"-\d+$", "", p.log_path.stem.split("-", 1)[-1]) for p in procs}
        echo_runs, vote_runs, lags, probe_failures = [], [], [], 0
        for n in range(args.rounds):
            meter = cpu.Meter(named).start()
            echo = loadgen.run(echo_load, args.tool)
            echo["cpu_ms_per_request"] = meter.stop(echo["requests"])
            echo_runs.append(echo)
            probe = LagProbe(base, city, probe_idea, probe_author["id"], scratch)
            probe.start()
            spies = profile(procs, args.profile, args.seconds) if args.profile and n == 0 else []
            meter = cpu.Meter(named).start()
            votes = loadgen.run(vote_load, args.tool)
            votes["cpu_ms_per_request"] = meter.stop(votes["requests"])
            for spy in spies:
                spy.wait(60)
            probe.stop.set()
            probe.join(35)
            vote_runs.append(votes)
            lags.extend(probe.samples)
            probe_failures += probe.failed
            print(f"round {n + 1}: echo {echo['rps']:.0f}/s p99 {echo['p99_ms']:.0f} ms | votes {votes['rps']:.0f}/s "
                  f"p50 {votes['p50_ms']:.0f} p99 {votes['p99_ms']:.0f} ms, non-2xx {votes['non_2xx']} | "
                  f"lag probes {len(probe.samples)}", flush=True)
            print(f"  cpu ms per request: echo {echo['cpu_ms_per_request']} | votes {votes['cpu_ms_per_request']}",
                  flush=True)
            settle_started = time.monotonic()
            Books(scratch, city).wait_settled(timeout=180)
            print(f"  settled {time.monotonic() - settle_started:.1f}s after the load", flush=True)

        drain_started = time.monotonic()
        books = Books(scratch, city)
        books.wait_settled(timeout=180)
        drained_in = time.monotonic() - drain_started
        summary = books.check()
        with scratch.engine.connect() as conn:
            events = conn.execute(text("SELECT count(*) FROM voting.outbox")).scalar()

        lags.sort()
        batches = batch_sizes(procs)
        print("mean batch sizes:", batches, flush=True)
        echo_s, vote_s = summarize(echo_runs), summarize(vote_runs)
        result = {
            "benchmark": "votes",
            "machine": {"cpus": os.cpu_count(), "python": host.python_version(), "platform": host.platform()},
            "setup": {"processes": [p.log_path.stem.split("-", 1)[-1] for p in procs], "gateways": args.gateways,
                      "voting_processes": args.voting, "gateway_workers": args.gateway_workers,
                      "service_workers": args.service_workers, "connections": args.connections,
                      "seconds": args.seconds, "rounds": args.rounds, "voters": args.voters,
                      "ideas": len(ideas), "log_level": args.log_level, "tool": vote_runs[0]["tool"]},
            "baseline_echo": {**echo_s, "runs": echo_runs},
            "votes": {**vote_s, "runs": vote_runs},
            "ratio_votes_to_echo_rps": round(vote_s["ok_rps"] / echo_s["ok_rps"], 3) if echo_s["ok_rps"] else None,
            "event_lag_ms": {**loadgen.percentiles(lags), "probes": len(lags), "probe_failures": probe_failures},
            "mean_batch_sizes": batches,
            "after_load": {"settled_in_s": round(drained_in, 2), "voting_events": events, **summary},
            "targets": {"votes_per_s": 1000, "p99_ms": 100, "votes_vs_echo": 1.0},
            "wall_seconds": round(time.monotonic() - started, 1),
        }
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps({k: result[k] for k in ("baseline_echo", "votes", "event_lag_ms", "after_load")},
                         default=str)[:2000])
        try:
            import report

            report.write()
        except Exception as exc:  # the table is a convenience; the JSON is the result
            print("bench/README.md not updated:", exc)
        if args.keep:
            print("platform left running; Ctrl-C to stop", flush=True)
            while True:
                time.sleep(3600)
        return 0
    finally:
        for p in reversed(procs):
            p.stop()
        scratch.close()


if __name__ == "__main__":
    sys.exit(main())
