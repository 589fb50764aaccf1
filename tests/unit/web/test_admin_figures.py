"""The officials' pictures built from API answers."""
import gettext

from services.analytics.insight import heatmap as heatmap_of
from web import charts
from web.routes.admin import figures

EN = gettext.NullTranslations()

PB = """META
key;value
description;test
num_projects;3
num_votes;4
budget;100
vote_type;approval
PROJECTS
project_id;cost;name;votes
a1;60;"Park; big";3
b2;50;Bikes;2
c3;40;Trees;1
VOTES
voter_id;vote;age
v1;a1,b2;30
v2;a1;40
v3;b2,c3;50
v4;a1;22
"""


def test_pabulib_ballots_reads_projects_and_votes():
    projects, ballots = figures.pabulib_ballots(PB)
    assert projects == ["a1", "b2", "c3"]
    assert ballots == [{"a1", "b2"}, {"a1"}, {"b2", "c3"}, {"a1"}]


def test_compare_rules_counts_voters_with_a_funded_item():
    items = [{"id": "i-a"}, {"id": "i-b"}, {"id": "i-c"}]
    results = {"greedy": {"selected": ["i-a", "i-c"], "spent": 100},
               "mes": {"selected": ["i-b", "i-c"], "spent": 90}}
    out = {o.rule: o for o in figures.compare_rules(results, items, PB)}
    assert out["greedy"].satisfied == 4  # a1 for v1, v2, v4; c3 for v3
    assert out["mes"].satisfied == 2     # v1 (b2) and v3
    assert out["greedy"].spent == 100
    assert figures.compare_rules(results, items, None)[0].satisfied is None


def test_heatmap_chart_links_each_cell_and_translates_groups():
    pairs = [(0, "under_25")] * 20 + [(1, "65+")] * 20 + [(0, "65+")] * 2 + [(1, "under_25")] * 2
    h = heatmap_of(pairs).to_dict()
    h["topics"] = [{"id": 0, "label": "cycling"}, {"id": 1, "label": "parking"}]
    h["dimension"] = "age_group"
    chart = figures.heatmap_chart(h, EN, "en", lambda c: f"/ideas?topic_id={c['topic_id']}&age_group={c['group']}")
    assert len(chart.links) == 4
    assert "/ideas?topic_id=0&age_group=under_25" in chart.links
    assert "under 25" in str(chart.svg) and "65 and over" in str(chart.svg)
    assert chart.table.columns[1] == "Age group"


def test_topics_chart_sizes_and_links():
    answer = {"topics": [{"id": 0, "label": "bike, lane", "keywords": ["bike", "lane"], "size": 30},
                         {"id": 1, "label": "empty", "keywords": [], "size": 0}]}
    chart = figures.topics_chart(answer, EN, "en", lambda t: f"/t/{t['id']}")
    assert chart.links == ["/t/0"]  # empty topics are not drawn
    assert "30 ideas" in str(chart.svg)


def test_participation_chart_has_a_row_per_day():
    dash = {"from": "2026-11-01", "to": "2026-11-02", "series": [
        {"date": "2026-11-01", "ideas": 3, "comments": 1, "votes": 10, "participants": 5},
        {"date": "2026-11-02", "ideas": 0, "comments": 2, "votes": 4, "participants": 3}]}
    chart = figures.participation_chart(dash, EN, "nl")
    assert chart.table.rows == [["2026-11-01", 3, 1, 10, 5], ["2026-11-02", 0, 2, 4, 3]]
    assert "1 nov" in str(chart.svg)


def test_poll_chart_by_group():
    q = {"id": "q1", "text": {"en": "Where?"}, "respondents": 5,
         "options": [{"id": "o1", "text": {"en": "Park"}, "count": 3}, {"id": "o2", "text": {"en": "Square"}, "count": 2}],
         "groups": [{"group": "female", "respondents": 3, "options": [{"id": "o1", "count": 2}, {"id": "o2", "count": 1}]},
                    {"group": "male", "respondents": 2, "options": [{"id": "o1", "count": 1}, {"id": "o2", "count": 1}]}]}
    chart = figures.poll_chart(q, {"by": "gender"}, EN, "en", lambda t: t["en"])
    assert chart.title == "Where?"
    assert chart.table.rows[0] == ["women (3)", "Park", 2]
    assert len(chart.table.rows) == 4


def test_grouped_bars_share_one_scale():
    c = charts.grouped_bar_chart("g", "t", "d", [("A", [("x", 10), ("y", 5)]), ("B", [("x", 2)])],
                                 columns=["g", "o", "n"])
    assert c.table.rows == [["A", "x", 10], ["A", "y", 5], ["B", "x", 2]]
    assert 'role="img"' in str(c.svg)
