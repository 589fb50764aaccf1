import csv
import os
from pathlib import Path

import pytest

DATA = Path(os.environ.get("AGORA_IDEAS_DATA", "/work/shared/data/ideas"))


def _rows(name):
    path = DATA / f"{name}.csv"
    if not path.exists():
        pytest.skip(f"shared corpus {name} not available")
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def petitions():
    """[(id, text)] of the We the People petitions (English)."""
    return [(r["id"], f"{r['title']}\n{r['content']}") for r in _rows("wtp_petitions_1k_en")]


@pytest.fixture(scope="session")
def amsterdam():
    return [(f"{r['instance']}:{r['project_id']}", r["name"])
            for r in _rows("pabulib_projects_amsterdam_nl")]


@pytest.fixture(scope="session")
def madrid():
    return [(r["id"], f"{r['title']}\n{r['summary']}\n{r['text']}")
            for r in _rows("decide_madrid_proposals_es")]


@pytest.fixture(scope="session")
def mturk():
    return [(r["project_id"], f"{r['name']}\n{r['description']}", r["category"])
            for r in _rows("pabulib_projects_mturk_en")]
