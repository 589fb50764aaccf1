"""Writes the tables of bench/README.md from bench/results/votes.json and reads.json.

Only the part between the `<!-- results:start -->` and `<!-- results:end -->` markers is rewritten,
so the prose around the tables stays as written. `python bench/report.py` redoes it by hand.
"""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def _load(name: str) -> dict | None:
    path = HERE / "results" / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _ms(value) -> str:
    return "–" if value is None else f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def tables() -> str:
    out = []
    votes = _load("votes")
    if votes:
        s, e, v, lag = votes["setup"], votes["baseline_echo"], votes["votes"], votes["event_lag_ms"]
        out += [
            f"### Vote path ({votes['machine']['cpus']} cores; {s['connections']} connections, "
            f"{s['rounds']} rounds of {s['seconds']:.0f} s, medians; load by {s['tool']}; "
            f"{s['gateways']} gateway processes, {s['voting_processes']} voting process)",
            "",
            "| path | answers/s | p50 ms | p95 ms | p99 ms | non-2xx | vs baseline |",
            "|---|---:|---:|---:|---:|---:|---:|",
            f"| baseline: gateway → RPC echo, no database | {e['ok_rps']:.0f} | {_ms(e['p50_ms'])} | "
            f"{_ms(e['p95_ms'])} | {_ms(e['p99_ms'])} | {e['non_2xx']} | 1.00 |",
            f"| vote: gateway → voting (stored, outbox) | {v['ok_rps']:.0f} | {_ms(v['p50_ms'])} | "
            f"{_ms(v['p95_ms'])} | {_ms(v['p99_ms'])} | {v['non_2xx']} | {votes['ratio_votes_to_echo_rps']:.2f} |",
            "| target | ≥ 1000 | | | < 100 | 0 | ≥ 1.00 |",
            "",
            f"Event lag, vote answered → author's points visible, during the vote load: "
            f"p50 {_ms(lag['p50_ms'])} ms, p95 {_ms(lag['p95_ms'])} ms ({lag['probes']} probes). "
            f"After the load the platform settled in {votes['after_load']['settled_in_s']} s: "
            f"{votes['after_load']['votes']} votes stored once, outboxes empty, every author's points exact.",
            "",
        ]
        cpu_e, cpu_v = e.get("cpu_ms_per_request"), v.get("cpu_ms_per_request")
        if cpu_e and cpu_v:
            groups = [g for g in ("gateway", "voting", "echo", "accounts-ideas", "gamification", "postgresql",
                                  "rabbitmq", "load generator") if cpu_e.get(g, 0) + cpu_v.get(g, 0) >= 0.05]
            out += [
                "CPU per answer (ms, all cores; medians over rounds), by process:",
                "",
                "| path | " + " | ".join(groups) + " | total |",
                "|---|" + "---:|" * (len(groups) + 1),
                "| baseline | " + " | ".join(f"{cpu_e.get(g, 0):.2f}" for g in groups) + f" | {cpu_e['total']:.2f} |",
                "| vote | " + " | ".join(f"{cpu_v.get(g, 0):.2f}" for g in groups) + f" | {cpu_v['total']:.2f} |",
                "",
            ]
        if votes.get("mean_batch_sizes"):
            sizes = votes["mean_batch_sizes"]
            shown = {k: n for k, n in sizes.items() if k.endswith(("cast_votes", "on_vote_cast"))}
            out += ["Mean batch sizes over the run: " + ", ".join(f"`{k}` {n}" for k, n in shown.items()) + ".", ""]
    reads = _load("reads")
    if reads:
        s = reads["setup"]
        out += [
            f"### Reads ({s['ideas_in_project']:,} ideas in the project, {s['ranked_users']:,} ranked citizens; "
            f"{s['connections']} connections for the concurrent figures)",
            "",
            "| read | one at a time p50 ms | p95 ms | concurrent answers/s | p50 ms | p95 ms | p99 ms |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        names = {"ideas_popular_first_page": "ideas, sort=popular, first page of 20",
                 "ideas_popular_page_11": "ideas, sort=popular, page 11 (cursor)",
                 "leaderboard_top_20": "leaderboard, top 20"}
        for key, row in reads["reads"].items():
            one, many = row["one_at_a_time"], row["concurrent"]
            out.append(f"| {names.get(key, key)} | {_ms(one['p50_ms'])} | {_ms(one['p95_ms'])} | {many['ok_rps']:.0f} | "
                       f"{_ms(many['p50_ms'])} | {_ms(many['p95_ms'])} | {_ms(many['p99_ms'])} |")
        out.append("")
    return "\n".join(out)


def write() -> None:
    body = f"{START}\n{tables()}\n{END}"
    text = README.read_text() if README.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + body + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + body + "\n"
    README.write_text(text)


if __name__ == "__main__":
    write()
