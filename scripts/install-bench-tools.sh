#!/usr/bin/env bash
# Optional tools of the benchmarks: wrk (HTTP load, from the distribution's packages) and py-spy
# (sampling profiler, from PyPI, into the project's virtualenv). The benchmarks run without them:
# bench/loadgen.py falls back to its Python generator, and --profile is simply not available.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get install -y -qq wrk || { apt-get update -qq && apt-get install -y -qq wrk; } || echo "wrk not installed; the Python load generator will be used"
  else
    echo "wrk not installed (needs apt-get as root); the Python load generator will be used"
  fi
fi
if [ -x .venv/bin/pip ] && [ ! -x .venv/bin/py-spy ]; then
  .venv/bin/pip install --quiet py-spy || echo "py-spy not installed; profiling is unavailable"
fi
