import numpy as np
import pytest
from scipy.stats import chi2_contingency

from services.analytics.insight import heatmap


def _cell(h, topic, group):
    return next(c for c in h.cells if c["topic_id"] == topic and c["group"] == group)


def test_small_table_by_hand():
    # topic 0: a=3, b=1 ; topic 1: a=1, b=3 ; N=8, all margins 4 -> expected 2 everywhere.
    pairs = [(0, "a")] * 3 + [(0, "b")] + [(1, "a")] + [(1, "b")] * 3
    h = heatmap(pairs)
    assert h.n == 8 and h.topics == [0, 1] and h.groups == ["a", "b"]
    c = _cell(h, 0, "a")
    assert c["count"] == 3 and c["expected"] == pytest.approx(2.0)
    assert c["lift"] == pytest.approx(1.5)
    # 2x2 chi-square without correction: sum (O-E)^2/E = 4 * (1^2 / 2) = 2.0, dof 1.
    assert h.chi2 == pytest.approx(2.0) and h.dof == 1
    assert h.p_value == pytest.approx(0.1572992, rel=1e-5)  # 1 - chi2.cdf(2, 1)
    assert c["p_value"] == pytest.approx(h.p_value)  # with two groups the cell test is the table


def test_against_scipy_on_a_larger_table():
    rng = np.random.default_rng(0)
    topics = rng.integers(0, 4, 300)
    groups = rng.choice(["under_25", "25-34", "35-49", None], 300)
    pairs = list(zip(topics.tolist(), [g if g != "None" else None for g in groups.tolist()]))
    pairs = [(t, None if g is None else g) for t, g in pairs]
    h = heatmap(pairs)
    table = np.array([[sum(1 for t, g in pairs if t == ti and (g or "unknown") == gi)
                       for gi in h.groups] for ti in h.topics])
    chi2, p, dof, expected = chi2_contingency(table, correction=False)
    assert h.chi2 == pytest.approx(chi2) and h.p_value == pytest.approx(p) and h.dof == dof
    n = table.sum()
    for i, t in enumerate(h.topics):
        for j, g in enumerate(h.groups):
            c = _cell(h, t, g)
            assert c["expected"] == pytest.approx(expected[i, j])
            assert c["lift"] == pytest.approx(table[i, j] / expected[i, j])
            a = table[i, j]
            two = [[a, table[i].sum() - a], [table[:, j].sum() - a, n - table[i].sum() - table[:, j].sum() + a]]
            assert c["p_value"] == pytest.approx(chi2_contingency(two, correction=False)[1])
    assert sum(c["count"] for c in h.cells) == 300


def test_none_group_is_unknown_and_degenerate_tables():
    h = heatmap([(1, None), (1, "x")])
    assert h.groups == ["x", "unknown"]
    empty = heatmap([])
    assert empty.cells == [] and empty.n == 0 and empty.p_value == 1.0
    single = heatmap([(0, "x"), (1, "x"), (1, "x")])
    assert single.chi2 == 0.0 and single.p_value == 1.0
    assert all(c["lift"] == pytest.approx(1.0) and c["p_value"] == 1.0 for c in single.cells)
    one_topic = heatmap([(0, "x"), (0, "y")])
    assert all(c["p_value"] == 1.0 for c in one_topic.cells)
    assert heatmap([(0, "x")]).to_dict()["cells"][0]["expected"] == 1.0
