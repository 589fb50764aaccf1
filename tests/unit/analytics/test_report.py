"""When a topic model is rebuilt, the topics answer, the dashboard's shapes and the export files."""
import csv
import io
from datetime import UTC, date, datetime, timedelta

from openpyxl import load_workbook

from services.analytics import export, report
from services.analytics.report import BuildState, rebuild_due

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def test_a_project_is_first_built_once_it_has_enough_ideas():
    assert not rebuild_due(BuildState(ideas_version=9, visible=9), NOW)
    assert rebuild_due(BuildState(ideas_version=10, visible=10), NOW)


def test_a_model_is_rebuilt_after_enough_changes_or_when_old():
    built = dict(built_version=100, started_at=NOW - timedelta(minutes=5), status="ok", visible=80)
    assert not rebuild_due(BuildState(ideas_version=100, **built), NOW)
    assert not rebuild_due(BuildState(ideas_version=105, **built), NOW)
    assert rebuild_due(BuildState(ideas_version=100 + report.REBUILD_AFTER_CHANGES, **built), NOW)
    assert rebuild_due(BuildState(ideas_version=101, **built), NOW + report.REBUILD_MAX_AGE)
    # nothing changed: never rebuilt, however old
    assert not rebuild_due(BuildState(ideas_version=100, **built), NOW + timedelta(days=30))


def test_a_refresh_request_forces_one_build():
    built = dict(ideas_version=100, built_version=100, status="ok", visible=80)
    asked = NOW - timedelta(seconds=1)
    assert rebuild_due(BuildState(refresh_requested_at=asked, started_at=NOW - timedelta(minutes=1), **built), NOW)
    assert not rebuild_due(BuildState(refresh_requested_at=asked, started_at=NOW, **built), NOW)
    # also for a project with too few ideas, so the admin gets a fresh answer
    assert rebuild_due(BuildState(ideas_version=3, visible=3, refresh_requested_at=asked), NOW)


def test_too_few_usable_ideas_are_not_retried_until_something_changes():
    state = dict(built_version=12, status="not_enough_ideas", started_at=NOW, visible=12)
    assert not rebuild_due(BuildState(ideas_version=12, **state), NOW)
    assert rebuild_due(BuildState(ideas_version=13, **{**state, "visible": 13}), NOW)
    assert not rebuild_due(BuildState(ideas_version=13, **{**state, "visible": 5}), NOW)


def test_topics_answer_without_a_model_says_why():
    a = report.topics_answer(None, [], have=3, ideas_version=3)
    assert a == {"status": "not_enough_ideas", "model_version": None, "built_at": None, "topics": [],
                 "needed": 10, "have": 3}
    assert report.topics_answer(None, [], have=12, ideas_version=12)["status"] == "pending"
    # built from the current ideas: 12 visible, but only 4 with a meaningful word
    model = {"status": "not_enough_ideas", "have": 4, "needed": 10, "built_version": 12}
    a = report.topics_answer(model, [], have=12, ideas_version=12)
    assert a["status"] == "not_enough_ideas" and a["have"] == 4
    assert report.topics_answer(model, [], have=13, ideas_version=13)["status"] == "pending"


def test_topics_answer_lists_current_members():
    model = {"status": "ok", "model_version": "v1", "built_at": NOW, "built_version": 5,
             "topics": [{"id": 0, "label": "bike", "keywords": ["bike"]}, {"id": 1, "label": "tree", "keywords": ["tree"]}]}
    a = report.topics_answer(model, [("a", 0), ("b", 0), ("c", 1)], have=4, ideas_version=9)
    assert a["topics"][0] == {"id": 0, "label": "bike", "keywords": ["bike"], "size": 2, "idea_ids": ["a", "b"]}
    assert a["topics"][1]["size"] == 1 and a["unassigned"] == 1 and a["built_at"] == NOW.isoformat()


def test_period_and_daily_series_fill_missing_days():
    start, end = report.period(None, None, date(2026, 5, 4))
    assert (start, end) == (date(2026, 4, 5), date(2026, 5, 4))
    assert report.period(date(2026, 5, 1), datetime(2026, 5, 3, 8, tzinfo=UTC), date(2026, 5, 4)) == \
        (date(2026, 5, 1), date(2026, 5, 3))
    series = report.daily_series([(date(2026, 5, 2), "idea", 3), (date(2026, 5, 2), "participants", 2),
                                  (date(2026, 5, 3), "vote", 5)], date(2026, 5, 1), date(2026, 5, 3))
    assert [s["date"] for s in series] == ["2026-05-01", "2026-05-02", "2026-05-03"]
    assert series[0] == {"date": "2026-05-01", "ideas": 0, "comments": 0, "votes": 0, "ballots": 0, "polls": 0,
                         "participants": 0}
    assert series[1]["ideas"] == 3 and series[1]["participants"] == 2 and series[2]["votes"] == 5


def test_participants_by_group():
    rows = [(2000, "female", "Centrum", 2), (1950, "male", None, 1), (None, None, None, 4)]
    by = report.participants_by_group(rows, today=date(2026, 5, 4))
    assert by["age_group"] == {"65+": 1, "unknown": 4, "25-34": 2}
    assert by["gender"] == {"female": 2, "male": 1, "unknown": 4}
    assert by["district"] == {"Centrum": 2, "unknown": 5}


IDEAS = [
    {"id": "i1", "title": "=cmd|' /C calc'!A0", "body": "Line one\nline two, with \"quotes\"", "status": "proposed",
     "locale": "en", "tags": ["mobility", "green"], "created_at": NOW, "topic_id": 0, "up_votes": 3, "down_votes": 1,
     "comments": 2, "hidden": False, "author_id": "u1", "birth_year": 1990, "gender": "female", "district": "Noord",
     "email": "never@example.org"},
    {"id": "i2", "title": "Plain \x01 title", "body": "", "status": None, "locale": None, "tags": [], "created_at": None,
     "topic_id": None, "up_votes": 0, "down_votes": 0, "comments": 0, "hidden": True, "author_id": None},
]


def test_export_rows_csv_and_xlsx():
    rows = export.export_rows(IDEAS, {0: "bike, lanes"}, today=date(2026, 5, 4))
    assert rows[0]["topic_label"] == "bike, lanes" and rows[0]["author_age_group"] == "35-49"
    assert rows[1]["author_gender"] == "unknown" and rows[1]["topic_id"] == ""
    text = export.to_csv(rows)
    assert "never@example.org" not in text and "email" not in text
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert parsed[0]["title"] == "'=cmd|' /C calc'!A0"  # shown as text, never run as a formula
    assert parsed[0]["body"] == "Line one\nline two, with \"quotes\"" and parsed[0]["tags"] == "mobility,green"
    sheet = load_workbook(io.BytesIO(export.to_xlsx(rows))).active
    values = list(sheet.values)
    assert values[0] == export.COLUMNS and len(values) == 3
    assert values[1][1].startswith("'=") and values[2][1] == "Plain  title"
