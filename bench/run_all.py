"""Run every benchmark under bench/ (`make bench`), one after another; each writes bench/results/<name>.json.

`python bench/run_all.py leaderboard votes` runs only those whose file names contain the given words;
`python bench/run_all.py pages` (`make bench-pages`) the web site's pages alone.
The soak (an hour) runs only when named: `python bench/run_all.py soak`.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ONLY_WHEN_NAMED = {"bench_soak"}


def main(words: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if words:
        scripts = [s for s in scripts if any(w in s.stem for w in words)]
    else:
        scripts = [s for s in scripts if s.stem not in ONLY_WHEN_NAMED]
    failed = []
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        started = time.monotonic()
        done = subprocess.run([sys.executable, str(script)], cwd=HERE.parent,
                              env={**os.environ, "PYTHONPATH": str(HERE.parent)})
        print(f"=== {script.stem}: exit {done.returncode} in {time.monotonic() - started:.0f}s", flush=True)
        if done.returncode:
            failed.append(script.stem)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
