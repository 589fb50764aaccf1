"""Exports of a project's ideas (with topics, votes, status and author demographics), comments and
votes (with the demographics of their authors and voters only): never an e-mail, never a voter's id.

Rows are built from read-model rows, then written as CSV (text) or XLSX (bytes, openpyxl). Cells that a
spreadsheet would run as a formula (starting with = + - @, tab or carriage return) are prefixed with a
quote, so an exported idea cannot execute anything in the admin's spreadsheet (CSV injection).
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

from services.common.demographics import age_group

COLUMNS = (
    "idea_id", "title", "body", "status", "locale", "tags", "created_at", "topic_id", "topic_label",
    "up_votes", "down_votes", "comments", "hidden", "author_id", "author_age_group", "author_gender",
    "author_district",
)
COMMENT_COLUMNS = (
    "comment_id", "idea_id", "idea_title", "parent_id", "body", "created_at", "author_age_group",
    "author_gender", "author_district",
)
VOTE_COLUMNS = (
    "idea_id", "idea_title", "target_type", "target_id", "value", "voted_at", "voter_age_group",
    "voter_gender", "voter_district",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML (and so XLSX) cannot hold; removed from cells of the XLSX file.
_XML_ILLEGAL = dict.fromkeys([*range(9), 11, 12, *range(14, 32)])


def export_rows(ideas: list[dict], topic_labels: dict[int, str], today: date | None = None) -> list[dict]:
    """One row per idea: ``ideas`` are read-model rows joined with the author's profile
    (birth_year, gender, district) and the idea's comment count."""
    rows = []
    for i in ideas:
        topic_id = i.get("topic_id")
        created = i.get("created_at")
        rows.append({
            "idea_id": str(i["id"]),
            "title": i.get("title") or "",
            "body": i.get("body") or "",
            "status": i.get("status") or "",
            "locale": i.get("locale") or "",
            "tags": ",".join(i.get("tags") or []),
            "created_at": created.isoformat() if isinstance(created, datetime) else (created or ""),
            "topic_id": "" if topic_id is None else topic_id,
            "topic_label": topic_labels.get(topic_id, "") if topic_id is not None else "",
            "up_votes": i.get("up_votes", 0),
            "down_votes": i.get("down_votes", 0),
            "comments": i.get("comments", 0),
            "hidden": bool(i.get("hidden")),
            "author_id": str(i["author_id"]) if i.get("author_id") else "",
            "author_age_group": age_group(i.get("birth_year"), today),
            "author_gender": i.get("gender") or "unknown",
            "author_district": i.get("district") or "unknown",
        })
    return rows


def _when(value) -> str:
    return value.isoformat() if isinstance(value, datetime) else (value or "")


def _people(prefix: str, row: dict, today: date | None) -> dict:
    return {f"{prefix}_age_group": age_group(row.get("birth_year"), today),
            f"{prefix}_gender": row.get("gender") or "unknown",
            f"{prefix}_district": row.get("district") or "unknown"}


def comment_rows(comments: list[dict], today: date | None = None) -> list[dict]:
    """One row per comment: read-model rows joined with the idea's title and the author's profile."""
    return [{"comment_id": str(c["id"]), "idea_id": str(c["idea_id"]), "idea_title": c.get("idea_title") or "",
             "parent_id": str(c["parent_id"]) if c.get("parent_id") else "", "body": c.get("body") or "",
             "created_at": _when(c.get("created_at")), **_people("author", c, today)} for c in comments]


def vote_rows(votes: list[dict], today: date | None = None) -> list[dict]:
    """One row per current vote: the target, the value and the voter's demographics only."""
    return [{"idea_id": str(v["idea_id"]), "idea_title": v.get("idea_title") or "", "target_type": v["target_type"],
             "target_id": str(v["target_id"]), "value": v["value"], "voted_at": _when(v.get("voted_at")),
             **_people("voter", v, today)} for v in votes]


def safe_cell(value):
    """A cell value a spreadsheet shows as text, never runs."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: list[dict], columns: tuple = COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(row[c]) for c in columns])
    return out.getvalue()


def to_xlsx(rows: list[dict], sheet_title: str = "ideas", columns: tuple = COLUMNS) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet_title[:31] or "ideas")
    ws.append(list(columns))
    for row in rows:
        cells = []
        for c in columns:
            v = row[c]
            if isinstance(v, str):
                v = safe_cell(v.translate(_XML_ILLEGAL))[:32_767]  # a cell's limit in Excel
            cells.append(v)
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
