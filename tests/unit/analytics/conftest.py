import csv

import pytest
from support import SHARED_DATA

DATA = SHARED_DATA / "ideas"


def _rows(name):
    path = DATA / f"{name}.csv"
    assert path.exists(), f"shared corpus missing: {path} (set AGORA_SHARED_DATA)"
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
