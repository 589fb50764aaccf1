"""Shared helpers for the budgeting domain tests: the shared `.pb` files and the pabutools reference."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path


from services.budgeting import pabulib
from support import SHARED_DATA

DATA_DIR = SHARED_DATA / "pb"
REFERENCE = Path(__file__).with_name("pabutools_reference.json")
PB_FILES = sorted(p.name for p in DATA_DIR.glob("*.pb"))
# The data is part of the test setup: missing files are a failure, never a silent skip.
assert PB_FILES, f"no .pb files in {DATA_DIR} (set AGORA_SHARED_DATA to the shared data folder)"


@cache
def load(name: str) -> pabulib.Election:
    """Parsed shared file (cached across tests)."""
    return pabulib.parse((DATA_DIR / name).read_text(encoding="utf-8"))


@cache
def reference() -> dict:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))
