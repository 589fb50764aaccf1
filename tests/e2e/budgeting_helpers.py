"""Helpers of the budgeting e2e tests: budgeting projects, budgets, items, and the shared pabulib files."""
from __future__ import annotations

from pathlib import Path

from support import SHARED_DATA, eventually



def pb_dir() -> Path:
    return SHARED_DATA / "pb"


def pb_text(name: str) -> str:
    return (pb_dir() / name).read_text(encoding="utf-8")


def project(api, city, method="budgeting") -> str:
    r = api.post(f"/cities/{city['slug']}/projects", token=city["admin_token"], json={
        "title": {"en": "City budget", "nl": "Stadsbudget"}, "method": method})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def base(city, project_id) -> str:
    return f"/cities/{city['slug']}/projects/{project_id}"


def configure(api, city, project_id, **body):
    return api.put(base(city, project_id) + "/budget", token=city["admin_token"], json=body)


def budget(api, city, *, ballot=None, total=1000, phase="collecting", items=(), currency="EUR"):
    """A configured budgeting project with items; returns (project_id, [item_id])."""
    pid = project(api, city)
    r = configure(api, city, pid, total=total, currency=currency, ballot=ballot or {"type": "approval"}, phase="collecting")
    assert r.status_code == 200, r.text
    ids = [add_item(api, city, pid, title, cost).json()["id"] for title, cost in items]
    if phase != "collecting":
        r = configure(api, city, pid, phase=phase)
        assert r.status_code == 200, r.text
    return pid, ids


def add_item(api, city, project_id, title, cost, **extra):
    r = api.post(base(city, project_id) + "/budget/items", token=city["admin_token"],
                 json={"title": {"en": title}, "cost": cost, **extra})
    return r


def import_pb(api, city, project_id, text: str, token=None):
    return api.post(base(city, project_id) + "/budget/import", token=token or city["admin_token"],
                    data=text.encode("utf-8"), headers={"Content-Type": "text/plain; charset=utf-8"}, timeout=60)


def results(api, city, project_id, token=None, **query):
    return api.get(base(city, project_id) + "/budget/results", token=token, params=query)


__all__ = ["eventually"]
