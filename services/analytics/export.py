"""Export of a project's ideas with topics, votes, status and author demographics (never e-mail).

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


def safe_cell(value):
    """A cell value a spreadsheet shows as text, never runs."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([safe_cell(row[c]) for c in COLUMNS])
    return out.getvalue()


def to_xlsx(rows: list[dict], sheet_title: str = "ideas") -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet_title[:31] or "ideas")
    ws.append(list(COLUMNS))
    for row in rows:
        cells = []
        for c in COLUMNS:
            v = row[c]
            if isinstance(v, str):
                v = safe_cell(v.translate(_XML_ILLEGAL))[:32_767]  # a cell's limit in Excel
            cells.append(v)
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
