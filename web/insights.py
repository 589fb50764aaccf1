"""The strongest topic x group differences of a heatmap, as sentences an official can paste in a report.

Pure functions over the analytics heatmap answer (``cells: [{topic_id, group, count, expected, lift,
p_value}]``): no I/O. A cell's lift compares it with independence; a sentence says "as often as
others", so the figure written is the rate ratio of the group against everyone else: the share of the
group's ideas on the topic over the share of the other authors' ideas on it.

The heatmap tests every cell; with dozens of cells some small p-values are luck. A cell is reported
only when it passes the Benjamini-Hochberg procedure over the table's cells (false discovery rate
``alpha``), the p-value written is the cell's own.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from babel.numbers import format_decimal
from markupsafe import Markup, escape

UNKNOWN = "unknown"


class Translator(Protocol):
    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


@dataclass(frozen=True)
class Finding:
    topic_id: int
    topic: str
    group: str
    dimension: str
    count: int
    expected: float
    lift: float
    ratio: float  # the group's rate over the others' rate (math.inf when the others have none)
    p_value: float

    @property
    def more(self) -> bool:
        return self.ratio > 1


def benjamini_hochberg(p_values: list[float], alpha: float) -> list[bool]:
    """Which hypotheses are rejected at false discovery rate ``alpha``."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    cutoff = -1
    for rank, i in enumerate(order, start=1):
        if p_values[i] <= alpha * rank / m:
            cutoff = rank
    rejected = [False] * m
    for rank, i in enumerate(order, start=1):
        rejected[i] = rank <= cutoff
    return rejected


def totals(cells: list[dict]) -> tuple[dict, dict, int]:
    rows: dict = {}
    cols: dict = {}
    for c in cells:
        rows[c["topic_id"]] = rows.get(c["topic_id"], 0) + c["count"]
        cols[c["group"]] = cols.get(c["group"], 0) + c["count"]
    return rows, cols, sum(rows.values())


def rate_ratio(count: int, row_total: int, col_total: int, n: int) -> float:
    """(count / group's ideas) / (the topic's other ideas / everyone else's ideas)."""
    others = n - col_total
    if col_total == 0:
        return 0.0
    mine = count / col_total
    theirs = (row_total - count) / others if others > 0 else 0.0
    if theirs == 0:
        return math.inf if mine > 0 else 1.0
    return mine / theirs


def findings(heatmap: dict, *, alpha: float = 0.05, min_ideas: int = 5, limit: int = 6) -> list[Finding]:
    """The strongest significant differences, strongest first.

    Leaves out the ``unknown`` group (people who gave no answer are not a group to report on) and cells
    with too few ideas to read (fewer than ``min_ideas`` observed for a "more" finding, or expected for a
    "less" one). Strength is the size of the difference (|log ratio|), ties by p-value; each topic gives
    its strongest finding only."""
    cells = [c for c in heatmap.get("cells", []) if c.get("group") != UNKNOWN]
    if not cells:
        return []
    rows, cols, n = totals(heatmap.get("cells", []))
    labels = {t["id"]: t.get("label", "") for t in heatmap.get("topics", []) if isinstance(t, dict)}
    dimension = heatmap.get("dimension", "")
    significant = benjamini_hochberg([float(c["p_value"]) for c in cells], alpha)
    found = []
    for c, ok in zip(cells, significant):
        if not ok:
            continue
        ratio = rate_ratio(c["count"], rows[c["topic_id"]], cols[c["group"]], n)
        if ratio == 1.0:
            continue
        readable = c["count"] >= min_ideas if ratio > 1 else c["expected"] >= min_ideas
        if not readable:
            continue
        found.append(Finding(topic_id=c["topic_id"], topic=labels.get(c["topic_id"], str(c["topic_id"])),
                             group=str(c["group"]), dimension=dimension, count=int(c["count"]),
                             expected=float(c["expected"]), lift=float(c["lift"]), ratio=ratio,
                             p_value=float(c["p_value"])))

    def strength(f: Finding) -> float:
        return 99.0 if math.isinf(f.ratio) else abs(math.log(f.ratio)) if f.ratio > 0 else 98.0

    found.sort(key=lambda f: (-strength(f), f.p_value, f.topic_id, f.group))
    # one sentence per topic: with two groups, "A more often" and "B less often" are the same fact
    seen, kept = set(), []
    for f in found:
        if f.topic_id not in seen:
            seen.add(f.topic_id)
            kept.append(f)
    return kept[:limit]


def overall_test(cells: list[dict]) -> dict:
    """Chi-square test of independence of the whole table, from its cells (when the API gives none)."""
    from scipy.stats import chi2 as chi2_dist

    rows, cols, n = totals(cells)
    rows = {k: v for k, v in rows.items() if v > 0}
    cols = {k: v for k, v in cols.items() if v > 0}
    if n == 0 or len(rows) < 2 or len(cols) < 2:
        return {"chi2": 0.0, "dof": 0, "p_value": 1.0}
    counts = {(c["topic_id"], c["group"]): c["count"] for c in cells}
    stat = 0.0
    for t, rt in rows.items():
        for g, ct in cols.items():
            e = rt * ct / n
            stat += (counts.get((t, g), 0) - e) ** 2 / e
    dof = (len(rows) - 1) * (len(cols) - 1)
    return {"chi2": stat, "dof": dof, "p_value": float(chi2_dist.sf(stat, dof))}


# -- words -----------------------------------------------------------------------------------------
def number(value: float, locale: str, digits: int = 1) -> str:
    return format_decimal(round(value, digits), format="#,##0." + "#" * digits if digits else "#,##0",
                          locale=locale)


def p_text(p: float, locale: str) -> str:
    if p < 0.001:
        return "p < " + format_decimal(0.001, format="0.###", locale=locale)
    return "p = " + format_decimal(float(f"{p:.2g}"), format="0.###", locale=locale)


def group_name(dimension: str, group: str, tr: Translator) -> str:
    """The readable name of a demographic group, as used in the dashboard tables and the heatmap."""
    _ = tr.gettext
    if group == UNKNOWN:
        return _("not given")
    if dimension == "age_group":
        if group == "under_25":
            return _("under 25")
        if group == "65+":
            return _("65 and over")
        return group.replace("-", "–")
    if dimension == "gender":
        return {"female": _("women"), "male": _("men"), "other": _("another gender")}.get(group, group)
    return group


def who(dimension: str, group: str, tr: Translator) -> str:
    """The subject of a sentence: "Citizens aged 25–34", "Women", "Citizens of Centrum"."""
    _ = tr.gettext
    if dimension == "age_group":
        if group == "under_25":
            return _("Citizens under 25")
        if group == "65+":
            return _("Citizens aged 65 and over")
        return _("Citizens aged %(range)s") % {"range": group.replace("-", "–")}
    if dimension == "gender":
        return {"female": _("Women"), "male": _("Men"),
                "other": _("Citizens of another gender")}.get(group, group)
    return _("Citizens of %(district)s") % {"district": group}


def sentence(f: Finding, tr: Translator, locale: str, *, html: bool = True) -> str:
    """One finding as a sentence with its figures; HTML (topic in <em>, the rest escaped) or plain text
    (topic between asterisks)."""
    _ = tr.gettext
    ideas = tr.ngettext("%(num)s idea", "%(num)s ideas", f.count) % {"num": number(f.count, locale, 0)}
    topic = Markup("<em>%s</em>") % f.topic if html else f"*{f.topic}*"
    values = {"who": escape(who(f.dimension, f.group, tr)) if html else who(f.dimension, f.group, tr),
              "topic": topic, "ideas": ideas, "p": p_text(f.p_value, locale)}
    if math.isinf(f.ratio):
        template = _("%(who)s are the only ones to mention %(topic)s, %(ideas)s, %(p)s")
    elif f.count == 0:
        values["expected"] = number(f.expected, locale, 0)
        template = _("%(who)s never mention %(topic)s (%(expected)s ideas expected), %(p)s")
    elif f.more:
        values["ratio"] = number(f.ratio, locale)
        template = _("%(who)s mention %(topic)s %(ratio)s× as often as others, %(ideas)s, %(p)s")
    else:
        values["ratio"] = number(1 / f.ratio, locale)
        template = _("%(who)s mention %(topic)s %(ratio)s× less often than others, %(ideas)s, %(p)s")
    if html:
        return Markup(escape(template) % values)
    return template % values
