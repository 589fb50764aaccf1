"""Reads through the gateway at scale: a project's ideas sorted by popular with 100,000 ideas, and the
city's leaderboard with 100,000 ranked citizens.

Starts accounts, ideas, gamification and the gateway (separate processes) on a scratch database and
broker vhost (dropped at the end), creates a city and a project through the API, then fills the ideas
service's and the gamification service's tables directly with generate_series (100,000 ideas with
skewed vote totals in the measured project, plus 20,000 in another project of the same city; 100,000
users with period totals). Then, for each read:

- latency one request at a time (p50/p95 over `--samples` requests; first page and a page further on);
- throughput and p50/p95/p99 with `--connections` clients for `--seconds` (wrk, or the Python generator).

Usage: python bench/bench_reads.py [--ideas 100000] [--users 100000] [--samples 200] [--seconds 10]
Results: bench/results/reads.json (and the table in bench/README.md)
"""
from __future__ import annotations

import argparse
import json
import os
import platform as host
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]
os.environ.setdefault("AGORA_SERVICES", "accounts,ideas,gamification")

import requests  # noqa: E402
from sqlalchemy import text  # noqa: E402

import loadgen  # noqa: E402
from cluster import Proc, Scratch, inserted_users, service_modules  # noqa: E402
from support import Api, free_port  # noqa: E402

OUT = ROOT / "bench" / "results" / "reads.json"
SERVICES = ["accounts", "ideas", "gamification"]


def seed(scratch: Scratch, city_id: str, project_id: str, ideas: int, users: int) -> dict:
    started = time.perf_counter()
    other_project = str(uuid.uuid4())
    with scratch.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO ideas.projects (id, city_id, title, method, status) "
            "VALUES (:p, :c, '{\"en\": \"Other\"}'::jsonb, 'ideation', 'active')"), {"p": other_project, "c": city_id})
        for project, count in ((project_id, ideas), (other_project, ideas // 5)):
            conn.execute(text("""
                INSERT INTO ideas.ideas (id, city_id, project_id, author_id, title, body, topics, locale,
                                         up_votes, down_votes, votes_version, controversy, created_at)
                SELECT md5(:p || g)::uuid, :c, :p, md5('author' || (g % 5000))::uuid,
                       'Idea number ' || g, 'A longer body for idea ' || g || ' about the city and its streets.',
                       ARRAY['mobility'], 'en',
                       floor(200 * power(random(), 4))::int, floor(40 * power(random(), 3))::int, 1, random(),
                       now() - make_interval(secs => g)
                FROM generate_series(1, :n) AS g
            """), {"p": project, "c": city_id, "n": count})
        conn.execute(text("""
            INSERT INTO gamification.users (city_id, user_id, display_name)
            SELECT :c, md5('user' || g)::uuid, 'Citizen ' || g FROM generate_series(1, :n) AS g
        """), {"c": city_id, "n": users})
        conn.execute(text("""
            INSERT INTO gamification.totals (city_id, period, user_id, points)
            SELECT :c, 'all', md5('user' || g)::uuid, floor(5000 * power(random(), 6))::int + 1
            FROM generate_series(1, :n) AS g
        """), {"c": city_id, "n": users})
        conn.execute(text("ANALYZE ideas.ideas"))
        conn.execute(text("ANALYZE gamification.totals"))
    return {"ideas_in_project": ideas, "ideas_elsewhere": ideas // 5, "ranked_users": users,
            "seed_seconds": round(time.perf_counter() - started, 1)}


def sequential(url: str, headers: dict, samples: int) -> dict:
    http = requests.Session()
    times = []
    for _ in range(5):
        http.get(url, headers=headers, timeout=30)
    for _ in range(samples):
        started = time.perf_counter()
        r = http.get(url, headers=headers, timeout=30)
        times.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.text
    return {**loadgen.percentiles(times), "samples": samples}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ideas", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--gateways", type=int, default=2)
    parser.add_argument("--tool", default=None)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()

    started = time.monotonic()
    scratch = Scratch(SERVICES, prefix="agora_bench")
    procs: list[Proc] = []
    log_dir = Path(os.environ.get("BENCH_LOG_DIR", "/tmp"))
    env = {"LOG_LEVEL": "WARNING", "MAX_WORKERS": "32"}
    try:
        for name, modules in (("gamification", service_modules("gamification")),
                              ("accounts-ideas", service_modules("accounts", "ideas"))):
            procs.append(Proc(scratch, modules, name=name, log_dir=log_dir, extra_env=env).start())
        port = free_port()
        for n in range(args.gateways):
            procs.append(Proc(scratch, ["gateway.service"], name=f"gateway-{n}", log_dir=log_dir, port=port,
                              extra_env={**env, "MAX_WORKERS": "64"}).start())
        base = procs[-1].url
        api = Api(base)
        city = api.new_city()
        r = api.post(f"/cities/{city['slug']}/projects", token=city["admin_token"], json={
            "title": {"en": "Everything"}, "method": "ideation", "status": "active", "topics": ["mobility"]})
        assert r.status_code == 201, r.text
        project = r.json()["id"]
        print("seeding", flush=True)
        seeded = seed(scratch, city["id"], project, args.ideas, args.users)
        print(f"seeded in {seeded['seed_seconds']}s", flush=True)

        token = inserted_users(scratch, city, 1)[0]["token"]  # a real user: the gateway checks it
        headers = {"Authorization": f"Bearer {token}"}
        popular = f"/api/v1/cities/{city['slug']}/projects/{project}/ideas?sort=popular&limit=20"
        board = f"/api/v1/cities/{city['slug']}/leaderboard?limit=20"
        first = api.http.get(base + popular, headers=headers, timeout=30).json()
        assert len(first["items"]) == 20 and first["next_cursor"], first
        scores = [i["up_votes"] - i["down_votes"] for i in first["items"]]
        assert scores == sorted(scores, reverse=True)
        # a page further on: follow the cursor 10 pages
        cursor = first["next_cursor"]
        for _ in range(9):
            cursor = api.http.get(base + popular + f"&cursor={cursor}", headers=headers, timeout=30).json()["next_cursor"]
        deep = popular + f"&cursor={cursor}"
        lb = api.http.get(base + board, headers=headers, timeout=30).json()
        assert len(lb["items"]) == 20 and lb["items"][0]["rank"] == 1, lb

        reads = {}
        for name, path in (("ideas_popular_first_page", popular), ("ideas_popular_page_11", deep),
                           ("leaderboard_top_20", board)):
            one = sequential(base + path, headers, args.samples)
            many = loadgen.run(loadgen.Load(base, [path], [token], connections=args.connections,
                                            duration=args.seconds, method="GET"), args.tool)
            reads[name] = {"one_at_a_time": one, "concurrent": many}
            print(f"{name}: p50 {one['p50_ms']:.1f} ms, p95 {one['p95_ms']:.1f} ms one at a time; "
                  f"{many['rps']:.0f}/s p95 {many['p95_ms']:.0f} ms with {args.connections} clients", flush=True)

        result = {
            "benchmark": "reads",
            "machine": {"cpus": os.cpu_count(), "python": host.python_version(), "platform": host.platform()},
            "setup": {**seeded, "gateways": args.gateways, "connections": args.connections,
                      "seconds": args.seconds, "samples": args.samples},
            "reads": reads,
            "wall_seconds": round(time.monotonic() - started, 1),
        }
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        try:
            import report

            report.write()
        except Exception as exc:
            print("bench/README.md not updated:", exc)
        return 0
    finally:
        for p in reversed(procs):
            p.stop()
        scratch.close()


if __name__ == "__main__":
    sys.exit(main())
