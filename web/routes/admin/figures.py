"""The officials' pictures built from API answers: topics, the topic x group heatmap, participation,
poll results by group, budget rules side by side. Pure functions (no I/O): answers in, charts out."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Callable

from babel.dates import format_date
from babel.numbers import format_decimal

from web import charts, insights

DIMENSIONS = ("age_group", "gender", "district")
RULES = ("greedy", "mes", "phragmen")


def dimension_name(dimension: str, tr) -> str:
    _ = tr.gettext
    return {"age_group": _("Age group"), "gender": _("Gender"), "district": _("District")}.get(dimension, dimension)


def number_format(locale: str) -> Callable:
    def fmt(v) -> str:
        if isinstance(v, float) and not v.is_integer():
            return format_decimal(round(v, 1), format="#,##0.#", locale=locale)
        return format_decimal(int(v), format="#,##0", locale=locale)
    return fmt


def topics_chart(answer: dict, tr, locale: str, href: Callable[[dict], str]) -> charts.Chart:
    _ = tr.gettext
    items = [{"label": t["label"], "size": t["size"], "words": t.get("keywords", [])[:6], "href": href(t)}
             for t in answer.get("topics", []) if t.get("size", 0) > 0]
    fmt = number_format(locale)
    return charts.treemap(
        "topics", _("Topics of the ideas"),
        _("Each tile is a topic found in the ideas; its area is the number of ideas on it."), items,
        columns=[_("Topic"), _("Ideas"), _("Top words")],
        size_label=lambda n: tr.ngettext("%(num)s idea", "%(num)s ideas", n) % {"num": fmt(n)})


def heatmap_chart(answer: dict, tr, locale: str, href: Callable[[dict], str]) -> charts.Chart:
    _ = tr.gettext
    dimension = answer.get("dimension", "age_group")
    topics = [t for t in answer.get("topics", []) if isinstance(t, dict)]
    groups = list(answer.get("groups", []))
    t_index = {t["id"]: i for i, t in enumerate(topics)}
    g_index = {g: j for j, g in enumerate(groups)}
    cells = {}
    for c in answer.get("cells", []):
        if c["topic_id"] in t_index and c["group"] in g_index:
            cells[(t_index[c["topic_id"]], g_index[c["group"]])] = charts.Cell(
                c["count"], c["expected"], c["lift"], c["p_value"], href(c))
    lift = lambda v: format_decimal(round(v, 2), format="0.0#", locale=locale) + "×"  # noqa: E731
    return charts.heatmap(
        f"heatmap-{dimension}", _("Topics by %(dimension)s") % {"dimension": dimension_name(dimension, tr).lower()},
        _("Each cell compares the ideas of a group on a topic with what independence would give: "
          "above 1× the group raises the topic more often, below 1× less often."),
        [t.get("label", "") for t in topics], [insights.group_name(dimension, g, tr) for g in groups], cells,
        columns=[_("Topic"), dimension_name(dimension, tr), _("Ideas"), _("Expected"), _("Lift"), _("p-value")],
        legend={"fewer": _("less often"), "more": _("more often"),
                "significance": _("* p < 0.05   ** p < 0.01   *** p < 0.001 (test of the cell against the rest)")},
        fmt_lift=lift)


def participation_chart(dashboard: dict, tr, locale: str) -> charts.Chart:
    _ = tr.gettext
    series = dashboard.get("series", [])
    dates = [d["date"] for d in series]
    names = (("ideas", _("Ideas")), ("comments", _("Comments")), ("votes", _("Votes")),
             ("participants", _("Participants")))
    from datetime import date

    def day(iso: str) -> str:
        return format_date(date.fromisoformat(iso), format="d MMM", locale=locale)

    return charts.line_chart(
        "participation", _("Participation per day"),
        _("Ideas, comments, votes and distinct participants per day, from %(start)s to %(end)s.")
        % {"start": dashboard.get("from", ""), "end": dashboard.get("to", "")},
        dates, [(label, [d.get(key, 0) for d in series]) for key, label in names],
        date_label=_("Day"), fmt=number_format(locale), date_fmt=day)


def participants_chart(dashboard: dict, dimension: str, tr, locale: str) -> charts.Chart:
    _ = tr.gettext
    groups = (dashboard.get("participants_by") or {}).get(dimension, {})
    order = sorted(groups, key=lambda g: (g == insights.UNKNOWN, g))
    return charts.bar_chart(
        f"participants-{dimension}", _("Participants by %(dimension)s") % {
            "dimension": dimension_name(dimension, tr).lower()},
        _("How many distinct people took part, in each group."),
        [(insights.group_name(dimension, g, tr), groups[g]) for g in order],
        columns=[dimension_name(dimension, tr), _("Participants")], fmt=number_format(locale))


def poll_chart(question: dict, results: dict, tr, locale: str, text_of: Callable) -> charts.Chart:
    """One question's answers, per group when the results are split (`?by=`), else overall."""
    _ = tr.gettext
    options = {o["id"]: text_of(o["text"]) for o in question.get("options", [])}
    by = results.get("by")
    if by and question.get("groups"):
        groups = [(f"{insights.group_name(by, g['group'], tr)} ({g['respondents']})",
                   [(options.get(o["id"], "?"), o["count"]) for o in g["options"]]) for g in question["groups"]]
    else:
        groups = [(_("Everyone (%(num)s)") % {"num": question.get("respondents", 0)},
                   [(options.get(o["id"], "?"), o["count"]) for o in question.get("options", [])])]
    return charts.grouped_bar_chart(
        f"poll-{question['id']}", text_of(question.get("text")),
        _("Answers to this question, per group of respondents."), groups,
        columns=[dimension_name(by, tr) if by else _("Group"), _("Answer"), _("Respondents")], fmt=number_format(locale))


# -- participatory budgets ---------------------------------------------------------------------------
def pabulib_ballots(text: str) -> tuple[list[str], list[set[str]]]:
    """(project ids in file order, each voter's set of project ids) of a .pb file (as the API exports it)."""
    section = None
    header: list[str] = []
    projects: list[str] = []
    ballots: list[set[str]] = []
    for row in csv.reader(io.StringIO(text), delimiter=";"):
        if len(row) == 1 and row[0].strip().upper() in ("META", "PROJECTS", "VOTES"):
            section, header = row[0].strip().lower(), []
            continue
        if not row or section is None:
            continue
        if not header:
            header = [h.strip() for h in row]
            continue
        values = dict(zip(header, row))
        if section == "projects":
            projects.append(values.get("project_id", ""))
        elif section == "votes":
            ballots.append({v.strip() for v in values.get("vote", "").split(",") if v.strip()})
    return projects, ballots


@dataclass
class RuleOutcome:
    rule: str
    selected: list[str]       # item ids funded
    spent: float
    satisfied: int | None     # voters with at least one funded item (None: ballots unknown)
    groups: list[dict]        # [{group, voters, selected, spent}] when split by a dimension


def compare_rules(results: dict[str, dict], items: list[dict], pb_text: str | None) -> list[RuleOutcome]:
    """The outcome of each rule, with how many voters have at least one funded item (from the exported
    ballots; the items of the export come in the order of the budget's items)."""
    key_of: dict[str, str] = {}
    ballots: list[set[str]] = []
    if pb_text:
        keys, ballots = pabulib_ballots(pb_text)
        ids = [i["id"] for i in items]
        key_of = {i: (i if i in keys else k) for i, k in zip(ids, keys)}
    out = []
    for rule, answer in results.items():
        chosen = {key_of.get(i, i) for i in answer.get("selected", [])}
        satisfied = sum(1 for b in ballots if b & chosen) if pb_text else None
        out.append(RuleOutcome(rule, list(answer.get("selected", [])), answer.get("spent", 0), satisfied,
                               list(answer.get("groups", []))))
    return out


def csv_text(columns: list[str], rows: list[list]) -> str:
    return charts.Table(columns, rows).csv()
