"""Demographic insight: which groups raise which topics more or less than expected.

A contingency table of topics x groups (age group, gender, district, ...) from one ``(topic_id,
group)`` pair per idea. Each cell reports its count, the count ``expected`` if topic and group were
independent (row total * column total / N), ``lift`` = count / expected, and a p-value.

Per-cell test: a 2x2 chi-square of "this topic vs the other topics" x "this group vs the other
groups" (no continuity correction, so it matches the independence model above). It answers the
question a reader of one heatmap cell asks, "is this group over/under-represented in this topic?",
which the overall table test cannot; with many cells, read small p-values as hints (no
multiple-testing correction is applied). The overall chi-square of the full table is reported too.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Hashable, Iterable

import numpy as np
from scipy.stats import chi2_contingency

UNKNOWN = "unknown"


@dataclass
class Heatmap:
    """Result of :func:`heatmap`: the cells plus the overall test of the table."""

    cells: list[dict] = field(default_factory=list)
    topics: list = field(default_factory=list)
    groups: list = field(default_factory=list)
    n: int = 0
    chi2: float = 0.0
    dof: int = 0
    p_value: float = 1.0

    def to_dict(self) -> dict:
        return {"cells": self.cells, "topics": self.topics, "groups": self.groups, "n": self.n,
                "chi2": self.chi2, "dof": self.dof, "p_value": self.p_value}


def _order(value) -> tuple:
    """Numbers first in numeric order, then other values by text, None last."""
    if value is None:
        return (2, 0, "")
    if isinstance(value, (int, float)):
        return (0, value, "")
    return (1, 0, str(value))


def contingency(pairs: Iterable[tuple[Hashable, Hashable | None]]
                ) -> tuple[list, list, np.ndarray]:
    """(topics, groups, counts matrix topics x groups); a None group becomes ``"unknown"``."""
    counts = Counter((topic, UNKNOWN if group is None else group) for topic, group in pairs)
    topics = sorted({t for t, _ in counts}, key=_order)
    groups = sorted({g for _, g in counts}, key=lambda v: (v == UNKNOWN, str(v)))
    table = np.zeros((len(topics), len(groups)), dtype=np.int64)
    t_index = {t: i for i, t in enumerate(topics)}
    g_index = {g: j for j, g in enumerate(groups)}
    for (t, g), c in counts.items():
        table[t_index[t], g_index[g]] = c
    return topics, groups, table


def cell_test(count: int, row_total: int, col_total: int, n: int) -> float:
    """p-value of the 2x2 chi-square (no continuity correction) of one cell against the rest.

    1.0 when the 2x2 table is degenerate (a row or column of it is empty, e.g. a single group).
    """
    table = np.array([[count, row_total - count],
                      [col_total - count, n - row_total - col_total + count]], dtype=float)
    if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
        return 1.0
    _, p, _, _ = chi2_contingency(table, correction=False)
    return float(p)


def heatmap(pairs: Iterable[tuple[Hashable, Hashable | None]]) -> Heatmap:
    """Topic x group heatmap from one ``(topic_id, group)`` pair per idea.

    Cells: ``{topic_id, group, count, expected, lift, p_value}`` for every topic and group seen
    (zero counts included). Empty input gives an empty heatmap; a single topic or group gives
    lift 1 and p-value 1 everywhere (nothing to compare against).
    """
    topics, groups, table = contingency(pairs)
    n = int(table.sum())
    result = Heatmap(topics=topics, groups=groups, n=n)
    if n == 0:
        return result
    rows = table.sum(axis=1)
    cols = table.sum(axis=0)
    expected = np.outer(rows, cols) / n
    for i, topic in enumerate(topics):
        for j, group in enumerate(groups):
            count = int(table[i, j])
            exp = float(expected[i, j])
            result.cells.append({
                "topic_id": topic, "group": group, "count": count, "expected": exp,
                "lift": count / exp if exp > 0 else 0.0,
                "p_value": cell_test(count, int(rows[i]), int(cols[j]), n),
            })
    if len(topics) > 1 and len(groups) > 1:
        chi2, p, dof, _ = chi2_contingency(table, correction=False)
        result.chi2, result.p_value, result.dof = float(chi2), float(p), int(dof)
    return result
