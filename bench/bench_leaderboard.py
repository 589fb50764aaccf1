"""Leaderboard at scale: the top 20 and one user's rank over 1,000,000 ledger rows and 100,000 users.

Builds a scratch database (created and dropped here) with the gamification schema from its migrations,
fills the ledger with generate_series, derives the materialised per-period totals the service keeps,
and times, as medians over repeated runs:

- the service's own queries (services/gamification/store.py): the top 20 of a period with their ranks
  (the page, plus one indexed count for the first row's rank) and one user's score and rank
  (the user's total, then 1 + the number of users with more points, an index-only range count);
- the baseline a naive design would run: GROUP BY over the ledger for the top 20, and for one rank;
- the write side: booking one ledger entry with its three period totals, one transaction each.

Usage: python bench/bench_leaderboard.py [--rows 1000000] [--users 100000] [--runs 50] [--out FILE]
Results: bench/results/leaderboard.json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.common.db import sqlalchemy_url  # noqa: E402
from services.common.migrate import upgrade  # noqa: E402
from services.gamification import ranking, store  # noqa: E402

CITY = uuid.UUID("6f1c1f1e-7d7a-4f61-9c1e-2b8f1f7f0a01")
OTHER_CITY = uuid.UUID("6f1c1f1e-7d7a-4f61-9c1e-2b8f1f7f0a02")
OUT = ROOT / "bench" / "results" / "leaderboard.json"


def timed(fn, runs: int) -> dict:
    fn()  # warm the cache once
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 3), "p90_ms": round(samples[int(len(samples) * 0.9) - 1], 3),
            "runs": runs}


def build(conn, rows: int, users: int) -> dict:
    """Users and ledger rows with a skewed distribution (few very active citizens, many occasional ones)."""
    started = time.perf_counter()
    conn.execute(text("""
        CREATE TEMP TABLE bench_users AS
        SELECT n, md5('user' || n)::uuid AS user_id FROM generate_series(0, :users - 1) AS n
    """), {"users": users})
    conn.execute(text("CREATE UNIQUE INDEX ON bench_users (n)"))
    conn.execute(text("""
        INSERT INTO gamification.users (city_id, user_id, display_name)
        SELECT :city, user_id, 'Citizen ' || n FROM bench_users
    """), {"city": CITY})
    # 95% of the rows in the measured city, 5% in another city sharing the tables
    conn.execute(text("""
        INSERT INTO gamification.ledger (city_id, user_id, points, reason, subject_key, source_event_id, earned_at)
        SELECT CASE WHEN g % 20 = 0 THEN CAST(:other AS uuid) ELSE CAST(:city AS uuid) END,
               u.user_id,
               (ARRAY[1, 1, 2, 5, 5, 5, 20, 50, -5])[1 + (g % 9)],
               (ARRAY['idea_posted', 'comment_posted', 'comment_upvoted', 'idea_upvoted', 'idea_upvoted',
                      'idea_upvoted', 'idea_accepted', 'idea_implemented', 'idea_upvoted'])[1 + (g % 9)],
               'bench:' || g,
               md5('event' || g)::uuid,
               now() - make_interval(secs => (g::bigint * 7919 % 31536000))
        FROM generate_series(1, :rows) AS g
        JOIN bench_users u ON u.n = floor(:users * power(((g * 2654435761::bigint) % 1000003) / 1000003.0, 2.5))::int
    """), {"rows": rows, "users": users, "city": CITY, "other": OTHER_CITY})
    ledger_done = time.perf_counter()
    # the totals the service keeps up to date entry by entry, derived here in bulk
    for _period, bucket in (
        ("all", "'all'"),
        ("month", "'month:' || to_char(earned_at AT TIME ZONE 'UTC', 'YYYY-MM')"),
        ("week", "'week:' || to_char(earned_at AT TIME ZONE 'UTC', 'IYYY-\"W\"IW')"),
    ):
        conn.execute(text(f"""
            INSERT INTO gamification.totals (city_id, period, user_id, points)
            SELECT city_id, {bucket}, user_id, sum(points) FROM gamification.ledger
            GROUP BY 1, 2, 3
        """))
    conn.commit()
    counts = conn.execute(text("""
        SELECT (SELECT count(*) FROM gamification.ledger) AS ledger_rows,
               (SELECT count(DISTINCT user_id) FROM gamification.ledger WHERE city_id = :city) AS users_with_points,
               (SELECT count(*) FROM gamification.totals) AS totals_rows
    """), {"city": CITY}).one()
    return {"ledger_rows": counts.ledger_rows, "users": users, "users_with_points": counts.users_with_points,
            "totals_rows": counts.totals_rows, "ledger_seconds": round(ledger_done - started, 1),
            "totals_seconds": round(time.perf_counter() - ledger_done, 1)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--baseline-runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    base = sqlalchemy_url(os.environ.get("DATABASE_URL", "postgresql://root@127.0.0.1:5432/agora"))
    name = f"agora_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    started = time.perf_counter()
    try:
        upgrade(["gamification"], url)
        eng = create_engine(url)
        with eng.connect() as conn:
            print(f"building {args.rows:,} ledger rows for {args.users:,} users in {name} ...", flush=True)
            built = build(conn, args.rows, args.users)
        with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        print(json.dumps(built), flush=True)
        results = measure(eng, args)
        eng.dispose()
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    report = {
        "benchmark": "leaderboard top 20 and one user's rank",
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "postgres": results.pop("postgres")},
        "data": built,
        "results": results,
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["results"], indent=2))
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


def measure(eng, args) -> dict:
    now = datetime.now(timezone.utc)
    out: dict = {}
    with Session(eng) as s:
        out["postgres"] = s.execute(text("SHOW server_version")).scalar()

        def top20(period):
            key = ranking.period_key(period, now)

            def run():
                rows = store.leaderboard(s, CITY, key, 20, None)[:20]
                first = 1 + store.users_above(s, CITY, key, rows[0].points)
                return ranking.ranks([r.points for r in rows], first, 0)
            return run

        def rank_of(user_id, period="all"):
            key = ranking.period_key(period, now)

            def run():
                points = store.points_of(s, CITY, key, user_id)
                return 1 + store.users_above(s, CITY, key, points)
            return run

        # users at the top, the middle and the bottom of the all-time board (a low rank counts the most rows)
        ordered = s.execute(text("""
            SELECT user_id, points FROM gamification.totals WHERE city_id = :c AND period = 'all' AND points > 0
            ORDER BY points DESC, user_id
        """), {"c": CITY}).all()
        picks = {"top": ordered[0], "median": ordered[len(ordered) // 2], "bottom": ordered[-1]}
        top = top20("all")()
        assert top[0] == 1 and len(top) == 20

        out["materialised"] = {
            "top20_all": timed(top20("all"), args.runs),
            "top20_month": timed(top20("month"), args.runs),
            "top20_week": timed(top20("week"), args.runs),
        }
        for label, row in picks.items():
            rank = rank_of(row.user_id)()
            out["materialised"][f"rank_{label}_user"] = {**timed(rank_of(row.user_id), args.runs), "rank": rank,
                                                         "points": row.points}

        naive_top = text("""
            SELECT user_id, sum(points) AS points FROM gamification.ledger WHERE city_id = :c
            GROUP BY user_id ORDER BY points DESC, user_id LIMIT 20
        """)
        naive_rank = text("""
            WITH t AS (SELECT user_id, sum(points) AS p FROM gamification.ledger WHERE city_id = :c GROUP BY user_id)
            SELECT 1 + count(*) FROM t
            WHERE p > (SELECT coalesce(sum(points), 0) FROM gamification.ledger WHERE city_id = :c AND user_id = :u)
        """)
        month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        naive_top_month = text("""
            SELECT user_id, sum(points) AS points FROM gamification.ledger
            WHERE city_id = :c AND earned_at >= :since
            GROUP BY user_id ORDER BY points DESC, user_id LIMIT 20
        """)
        median_user = picks["median"].user_id
        naive_rank_value = s.execute(naive_rank, {"c": CITY, "u": median_user}).scalar()
        assert naive_rank_value == rank_of(median_user)(), "the baseline and the service disagree on the rank"
        out["baseline_group_by"] = {
            "top20_all": timed(lambda: s.execute(naive_top, {"c": CITY}).all(), args.baseline_runs),
            "top20_month": timed(lambda: s.execute(naive_top_month, {"c": CITY, "since": month_start}).all(),
                                 args.baseline_runs),
            "rank_median_user": timed(lambda: s.execute(naive_rank, {"c": CITY, "u": median_user}).scalar(),
                                      args.baseline_runs),
        }
        s.rollback()

    # the write side: one ledger entry and its three period totals per transaction (what an award costs)
    samples = []
    with eng.connect() as conn:
        users = conn.execute(text("SELECT user_id FROM gamification.users ORDER BY user_id LIMIT 500")).scalars().all()
    for i, user_id in enumerate(users):
        with Session(eng) as s:
            row = _Row(user_id, f"bench:write:{i}", now - timedelta(days=i % 40))
            started = time.perf_counter()
            store.book(s, CITY, row, 5, uuid.uuid4(), counts=True)
            s.commit()
            samples.append((time.perf_counter() - started) * 1000)
    out["materialised"]["book_one_entry"] = {"median_ms": round(statistics.median(samples), 3), "runs": len(samples)}

    m, b = out["materialised"], out["baseline_group_by"]
    out["speedup"] = {
        "top20_all": round(b["top20_all"]["median_ms"] / m["top20_all"]["median_ms"], 1),
        "top20_month": round(b["top20_month"]["median_ms"] / m["top20_month"]["median_ms"], 1),
        "rank_median_user": round(b["rank_median_user"]["median_ms"] / m["rank_median_user"]["median_ms"], 1),
    }
    return out


class _Row:
    """What store.book reads of a subject."""

    def __init__(self, user_id, key, anchor_at):
        self.user_id, self.key, self.anchor_at, self.reason = user_id, key, anchor_at, "idea_upvoted"
        self.awarded, self.counts = 0, False


if __name__ == "__main__":
    main(sys.argv[1:])
