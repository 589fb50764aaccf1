"""CPU time used by each part of the platform during a load, from /proc (Linux).

On a machine whose cores are saturated, throughput is CPU divided by CPU per request, so the CPU each
process spends per answer says where to look. `Meter(groups).start()` then `.stop(requests)` gives the
milliseconds of CPU per request of each group: the platform's own processes by name, PostgreSQL (every
`postgres` process), RabbitMQ (`beam.smp`) and the load generator (`wrk`).
"""
from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
BY_COMMAND = {"postgres": "postgresql", "beam.smp": "rabbitmq", "wrk": "load generator"}


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _by_command() -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                comm = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if comm in BY_COMMAND:
                found[int(entry.name)] = BY_COMMAND[comm]
    return found


def _reaped_children() -> float:
    times = os.times()
    return times.children_user + times.children_system


class Meter:
    """CPU seconds per group between `start()` and `stop()`; `named` maps pid -> group name."""

    def __init__(self, named: dict[int, str]):
        self.named = named
        self.before: dict[int, tuple[str, float]] = {}

    def _snapshot(self) -> dict[int, tuple[str, float]]:
        out = {}
        for pid, group in {**_by_command(), **self.named}.items():
            seconds = _cpu_seconds(pid)
            if seconds is not None:
                out[pid] = (group, seconds)
        return out

    def start(self) -> "Meter":
        self.before = self._snapshot()
        self.children_before = _reaped_children()
        return self

    def stop(self, requests: int) -> dict[str, float]:
        """Milliseconds of CPU per request of each group (processes that started during the load count
        from zero), plus `total`."""
        used: dict[str, float] = {}
        for pid, (group, seconds) in self._snapshot().items():
            start = self.before.get(pid, (group, 0.0))[1]
            used[group] = used.get(group, 0.0) + seconds - start
        # a load generator that ran and exited in between is only seen in its parent's reaped children
        used["load generator"] = used.get("load generator", 0.0) + _reaped_children() - self.children_before
        per = {g: round(s * 1000 / max(requests, 1), 3) for g, s in sorted(used.items())}
        per["total"] = round(sum(used.values()) * 1000 / max(requests, 1), 3)
        return per
