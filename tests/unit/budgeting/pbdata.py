"""Shared helpers for the budgeting domain tests: the shared `.pb` files and the pabutools reference."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

import pytest

from services.budgeting import pabulib

DATA_DIR = Path(os.environ.get("AGORA_PB_DATA", "/work/shared/data/pb"))
REFERENCE = Path(__file__).with_name("pabutools_reference.json")
PB_FILES = sorted(p.name for p in DATA_DIR.glob("*.pb")) if DATA_DIR.is_dir() else []

needs_data = pytest.mark.skipif(not PB_FILES, reason=f"no .pb files in {DATA_DIR}")


@cache
def load(name: str) -> pabulib.Election:
    """Parsed shared file (cached across tests)."""
    return pabulib.parse((DATA_DIR / name).read_text(encoding="utf-8"))


@cache
def reference() -> dict:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))
