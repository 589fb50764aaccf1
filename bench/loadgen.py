"""HTTP load for the benchmarks: wrk when it is installed, otherwise a small Python generator.

Both send `PUT <path>` with a JSON body and a bearer token, chosen at random for each request from the
given lists, over keep-alive connections, for a fixed duration, and report the same figures:
requests, answers per second, non-2xx answers, socket errors and latency percentiles in milliseconds.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing import get_context
from urllib.parse import urlsplit


@dataclass
class Load:
    url: str                    # http://127.0.0.1:8000
    paths: list[str]            # one is picked at random per request
    tokens: list[str]           # one is picked at random per request
    up_share: float = 0.7       # body {"value": "up"} with this probability, else "down"
    connections: int = 32
    duration: float = 20.0
    method: str = "PUT"         # GET sends no body


def run(load: Load, tool: str | None = None) -> dict:
    """Run `load` with wrk (default when installed) or the Python generator (`tool="python"`)."""
    tool = tool or os.environ.get("BENCH_LOADGEN") or ("wrk" if shutil.which("wrk") else "python")
    result = _wrk(load) if tool == "wrk" else _python(load)
    result["tool"] = tool
    return result


# -- wrk -------------------------------------------------------------------------------------------
_LUA = """
local paths = {%(paths)s}
local tokens = {%(tokens)s}
local up_share = %(up_share)f
local method = "%(method)s"
local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + seed)
end

request = function()
  if method == "GET" then
    return wrk.format("GET", paths[math.random(#paths)], {
      ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]})
  end
  local value = "down"
  if math.random() < up_share then value = "up" end
  return wrk.format(method, paths[math.random(#paths)], {
    ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
    ["Content-Type"] = "application/json"}, '{"value":"' .. value .. '"}')
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "seconds": %%f, "non_2xx": %%d, "socket_errors": %%d, ' ..
    '"p50_ms": %%f, "p90_ms": %%f, "p95_ms": %%f, "p99_ms": %%f, "max_ms": %%f, "mean_ms": %%f}\\n',
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000))
end
"""


def _lua_list(items: list[str]) -> str:
    return ",".join(json.dumps(i) for i in items)


def _wrk(load: Load) -> dict:
    script = _LUA % {"paths": _lua_list(load.paths), "tokens": _lua_list(load.tokens), "up_share": load.up_share,
                     "method": load.method}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        threads = max(1, min(2, load.connections))
        done = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(load.connections), "-d", f"{int(load.duration)}s",
             "--timeout", "10s", "-s", path, load.url],
            capture_output=True, text=True, timeout=load.duration + 60,
        )
    finally:
        os.unlink(path)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            out = json.loads(line[len("RESULT "):])
            out["rps"] = out["requests"] / out["seconds"] if out["seconds"] else 0.0
            out["ok_rps"] = (out["requests"] - out["non_2xx"]) / out["seconds"] if out["seconds"] else 0.0
            return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}
    raise RuntimeError(f"wrk gave no result:\n{done.stdout}\n{done.stderr}")


# -- the Python fallback ---------------------------------------------------------------------------
def _worker(load: Load, connections: int, seed: int, out) -> None:
    parts = urlsplit(load.url)
    stop_at = time.monotonic() + load.duration
    samples: list[float] = []
    counts = {"non_2xx": 0, "socket_errors": 0}
    lock = threading.Lock()

    def loop(n: int):
        rnd = random.Random(seed * 1000 + n)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine = []
        while time.monotonic() < stop_at:
            body = b'{"value":"up"}' if rnd.random() < load.up_share else b'{"value":"down"}'
            headers = {"Authorization": "Bearer " + rnd.choice(load.tokens), "Content-Type": "application/json"}
            if load.method == "GET":
                body, headers = None, {"Authorization": headers["Authorization"]}
            started = time.perf_counter()
            try:
                conn.request(load.method, rnd.choice(load.paths), body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                mine.append((time.perf_counter() - started) * 1000)
                if not 200 <= response.status < 300:
                    with lock:
                        counts["non_2xx"] += 1
            except (OSError, http.client.HTTPException):
                with lock:
                    counts["socket_errors"] += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((samples, counts))


def _python(load: Load) -> dict:
    ctx = get_context("fork")
    queue = ctx.Queue()
    procs = 2 if load.connections >= 2 else 1
    per = [load.connections // procs + (1 if i < load.connections % procs else 0) for i in range(procs)]
    started = time.monotonic()
    workers = [ctx.Process(target=_worker, args=(load, per[i], i + 1, queue)) for i in range(procs)]
    for w in workers:
        w.start()
    samples, non_2xx, errors = [], 0, 0
    for _ in workers:
        s, c = queue.get()
        samples.extend(s)
        non_2xx += c["non_2xx"]
        errors += c["socket_errors"]
    for w in workers:
        w.join()
    seconds = time.monotonic() - started
    out = {"requests": len(samples), "seconds": round(seconds, 3), "non_2xx": non_2xx, "socket_errors": errors,
           **percentiles(samples)}
    out["rps"] = round(len(samples) / seconds, 3)
    out["ok_rps"] = round((len(samples) - non_2xx) / seconds, 3)
    return out


def percentiles(samples_ms: list[float]) -> dict:
    if not samples_ms:
        return {"p50_ms": None, "p90_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None}
    s = sorted(samples_ms)

    def pct(p):
        return round(s[min(len(s) - 1, max(0, int(round(p / 100 * len(s))) - 1))], 3)

    return {"p50_ms": pct(50), "p90_ms": pct(90), "p95_ms": pct(95), "p99_ms": pct(99),
            "max_ms": round(s[-1], 3), "mean_ms": round(sum(s) / len(s), 3)}
