"""Outcome rules for participatory budgeting, as pure functions.

Every rule takes the same three arguments:

``costs``
    ``{item_id: cost}``; costs are positive ``int``, ``Decimal`` or ``Fraction``.
``budget``
    the total budget (same kinds of numbers).
``ballots``
    one entry per voter: an approval ballot (any collection of item ids: ``set``,
    ``frozenset``, ``list``, ``tuple``; ordinal and choose-1 ballots are passed as
    the ordered ids and count as approval of every listed item) or a cumulative /
    scoring ballot (a ``{item_id: points}`` mapping).

and returns an :class:`Outcome` with the selected item ids in selection order.

Semantics follow pabutools (``Cost_Sat`` satisfaction, i.e. a voter's utility for
an item is its cost when the item is on the ballot, whatever the points): an item
is *supported* by a voter when it appears on the ballot, including a
points-mapping entry with 0 points. Ties are broken as pabutools breaks them by
default: in favour of the smallest item id in plain string order (``"10" < "9"``).

All decisions are made with exact arithmetic: amounts are scaled to integers,
the Method of Equal Shares keeps voters' budgets as integer numerators over a
common denominator and only uses floating point to shortlist candidates, then
settles every close call exactly.

Public API::

    greedy(costs, budget, ballots) -> Outcome
    mes(costs, budget, ballots) -> Outcome          # equalshares/add1 + greedy completion
    mes_raw(costs, budget, ballots) -> Outcome      # Method of Equal Shares only
    phragmen(costs, budget, ballots) -> Outcome     # sequential Phragmén
    RULES: dict[str, rule]
    votes_by_group(ballots, group_of_voter, items=None) -> dict[group, dict[item, int]]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import numpy as np
from scipy import sparse

__all__ = ["Outcome", "greedy", "mes", "mes_raw", "phragmen", "RULES", "votes_by_group"]

Number = int | Decimal | Fraction
Ballot = Collection[str] | Mapping[str, Number]

# Relative margin under which two floating-point quantities are treated as a
# possible tie and re-decided exactly. The float estimates are accurate to far
# better than this (see _MES.round_estimates), so anything outside the margin is
# decided correctly by the floats alone.
_CLOSE = 1e-7


@dataclass(frozen=True)
class Outcome:
    """Result of a rule.

    ``selected``: item ids in selection order; ``spent``: their total cost;
    ``budget``: the budget given; ``votes``: number of supporters of every item
    (items nobody supports included, with 0); ``points``: total points per item
    for points ballots, else ``None``; ``details``: rule-specific figures (for
    ``mes``: ``mes_selected`` the number of items chosen by equal shares before
    the greedy completion, and ``voter_budget_increments``).
    """

    rule: str
    selected: tuple[str, ...]
    spent: Number
    budget: Number
    votes: dict[str, int]
    points: dict[str, Number] | None = None
    details: dict[str, object] = field(default_factory=dict)

    @property
    def leftover(self) -> Number:
        """Budget not spent."""
        return self.budget - self.spent


# --------------------------------------------------------------------------- #
# Problem preparation
# --------------------------------------------------------------------------- #


def _as_fraction(x: Number, what: str) -> Fraction:
    if isinstance(x, bool) or not isinstance(x, (int, Decimal, Fraction)):
        raise TypeError(f"{what} must be an int, Decimal or Fraction, got {type(x).__name__}")
    if isinstance(x, Decimal) and not x.is_finite():
        raise ValueError(f"{what} must be finite")
    return Fraction(x)


class _Problem:
    """Items sorted by id (= tie-breaking order), integer-scaled costs and budget, grouped ballots."""

    def __init__(self, costs: Mapping[str, Number], budget: Number, ballots: Sequence[Ballot]):
        self.ids: list[str] = sorted(costs)
        for i in self.ids:
            if not isinstance(i, str):
                raise TypeError(f"item ids must be strings, got {i!r}")
        fc = [_as_fraction(costs[i], f"cost of {i!r}") for i in self.ids]
        fb = _as_fraction(budget, "budget")
        for i, c in zip(self.ids, fc):
            if c <= 0:
                raise ValueError(f"cost of item {i!r} must be positive")
        if fb < 0:
            raise ValueError("budget must not be negative")
        scale = 1
        for x in fc + [fb]:
            scale = math.lcm(scale, x.denominator)
        self.scale = scale
        self.cost = [int(c * scale) for c in fc]
        self.budget = int(fb * scale)
        self.budget_in = budget
        self.costs_in = costs
        self.m = len(self.ids)
        self.n = len(ballots)
        index = {i: k for k, i in enumerate(self.ids)}
        groups: Counter = Counter()
        points = None
        for b in ballots:
            if isinstance(b, Mapping):
                if points is None:
                    points = [Fraction(0)] * self.m
                for i, v in b.items():
                    if i not in index:
                        raise ValueError(f"ballot names unknown item {i!r}")
                    points[index[i]] += _as_fraction(v, "points")
                keys = b.keys()
            elif isinstance(b, (str, bytes)) or not isinstance(b, Iterable):
                raise TypeError("a ballot must be a collection of item ids or a mapping of item id to points")
            else:
                keys = b
            try:
                s = frozenset(index[i] for i in keys)
            except KeyError as exc:
                raise ValueError(f"ballot names unknown item {exc.args[0]!r}") from None
            groups[s] += 1
        # voter classes: distinct non-empty ballots with their multiplicity
        self.classes = [s for s in groups if s]
        self.weight = np.array([groups[s] for s in self.classes], dtype=np.int64)
        rows = [k for k, s in enumerate(self.classes) for _ in s]
        cols = [p for s in self.classes for p in sorted(s)]
        self.K = len(self.classes)
        self.inc = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.int64), (rows, cols)), shape=(self.K, self.m), dtype=np.int64
        )
        # weighted incidence: W[k, p] = weight of class k if it supports p
        self.W = sparse.csr_matrix(self.inc.multiply(self.weight[:, None]))
        self.support = np.asarray(self.W.sum(axis=0)).ravel().astype(np.int64)
        self.points = points

    def unscale(self, x: int) -> Number:
        v = Fraction(x, self.scale)
        if v.denominator == 1:
            return int(v)
        b = self.budget_in
        if isinstance(b, Decimal) or any(isinstance(c, Decimal) for c in self.costs_in.values()):
            return Decimal(v.numerator) / Decimal(v.denominator)
        return v

    def outcome(self, rule: str, selected: Sequence[int], details: dict | None = None) -> Outcome:
        votes = {i: int(self.support[k]) for k, i in enumerate(self.ids)}
        pts = None
        if self.points is not None:
            pts = {i: (int(p) if p.denominator == 1 else p) for i, p in zip(self.ids, self.points)}
        spent = sum(self.cost[k] for k in selected)
        return Outcome(
            rule=rule,
            selected=tuple(self.ids[k] for k in selected),
            spent=self.unscale(spent),
            budget=self.budget_in,
            votes=votes,
            points=pts,
            details=details or {},
        )


# --------------------------------------------------------------------------- #
# Greedy
# --------------------------------------------------------------------------- #


def _greedy_fill(prob: _Problem, selected: list[int]) -> list[int]:
    """Append items by decreasing supporters (ties: smallest id) while they fit."""
    chosen = set(selected)
    left = prob.budget - sum(prob.cost[k] for k in selected)
    out = list(selected)
    for k in sorted(range(prob.m), key=lambda k: (-int(prob.support[k]), k)):
        if k not in chosen and prob.cost[k] <= left:
            out.append(k)
            left -= prob.cost[k]
    return out


def greedy(costs: Mapping[str, Number], budget: Number, ballots: Sequence[Ballot]) -> Outcome:
    """Utilitarian greedy: items by number of supporters, most first; an item that no longer fits is skipped.

    Equals pabutools ``greedy_utilitarian_welfare(..., sat_class=Cost_Sat)``
    (cost-utility greedy: satisfaction per unit of cost is the supporter count).
    Items nobody supports come last and are still funded if they fit.
    """
    prob = _Problem(costs, budget, ballots)
    return prob.outcome("greedy", _greedy_fill(prob, []))


# --------------------------------------------------------------------------- #
# Method of Equal Shares
# --------------------------------------------------------------------------- #


class _MES:
    """Method of Equal Shares with cost utilities, exact.

    Voters with the same remaining budget are pooled into *budget classes*: a
    budget class holds voter classes (distinct ballots) and its budget is the
    exact rational ``N[g] / den`` (Python ints over a common denominator).
    Voters whose budget is exhausted are dropped: they can no longer pay.

    Floats are used only to rank items; an item within ``_CLOSE`` (relative) of
    the best one, or of being (un)affordable, is re-decided exactly.

    For the completion, :meth:`run` can also report how far the initial per-voter
    budget ``t`` may grow before any decision of the run could change. Along a
    fixed run every budget is an affine function of ``t``; its slope ``S[g] / sden``
    is tracked exactly next to its value. Slopes are never negative and prices
    never increase with ``t``, which gives simple, conservative bounds:

    * an affordable item stays affordable; an unaffordable one needs the budget
      gap to its cost to be covered by the slopes of its supporters' budgets;
    * a poor supporter of a bought item (one who paid everything) stays poor
      until its budget catches up with the price; rich ones stay rich;
    * the bought item's price per unit of cost decreases linearly while any
      other item's price ``q`` cannot drop faster than ``(sum of supporters'
      slopes) / (weight of supporters richer than q)``.
    """

    def __init__(self, prob: _Problem):
        self.prob = prob
        self.cost_f = np.array(prob.cost, dtype=np.float64)
        self.inc = prob.inc.toarray().astype(bool)

    def run(self, num: int, den: int, bound: bool = False) -> tuple[list[int], float]:
        """Run MES with an initial budget of ``num/den`` per voter (budget units).

        Returns the selected items in selection order and, when ``bound`` is set,
        a lower bound ``dt`` such that every initial budget in ``[t, t + dt)``
        gives the same run (0.0 when nothing can be guaranteed).
        """
        prob = self.prob
        if prob.K == 0 or num <= 0:
            return [], math.inf
        g0 = math.gcd(num, den)
        N, den = [num // g0], den // g0
        S, sden = [1], 1  # slopes d(budget)/dt
        cls = np.zeros(prob.K, dtype=np.int64)  # budget class of each voter class, -1 = no budget left
        alive = np.flatnonzero(prob.support > 0)
        selected: list[int] = []
        dt = math.inf
        M = self._class_counts(cls, len(N))
        while alive.size and N:
            beta = np.array([x / den for x in N], dtype=np.float64)
            order = np.argsort(beta, kind="stable")
            Ms = M[order][:, alive]
            bs = beta[order]
            contrib = Ms * bs[:, None]
            total = contrib.sum(axis=0)
            c = self.cost_f[alive]
            afford = total >= c
            close = np.abs(total - c) <= _CLOSE * c
            for j in np.flatnonzero(close):
                p = alive[j]
                col = M[:, p]
                afford[j] = sum(int(col[g]) * N[g] for g in np.flatnonzero(col)) >= prob.cost[p] * den
            if bound:
                slope = np.array([x / sden for x in S], dtype=np.float64)
                vslope = slope[order] @ Ms  # d(total)/dt per item
                dt = min(dt, self._afford_bound(total[~afford], c[~afford], vslope[~afford], close[~afford]))
            if not afford.any():
                break
            alive = alive[afford]
            Ms, contrib, c = Ms[:, afford], contrib[:, afford], c[afford]
            cnt = Ms.sum(axis=0)
            poor_before = np.cumsum(contrib, axis=0) - contrib
            rest = cnt - (np.cumsum(Ms, axis=0) - Ms)
            cols = np.arange(alive.size)
            with np.errstate(divide="ignore", invalid="ignore"):
                q = (c - poor_before) / rest
            ok = (Ms > 0) & (q <= bs[:, None])
            first = np.argmax(ok, axis=0)
            found = ok[first, cols]
            qf = np.where(found, q[first, cols], np.inf)
            rho = qf / c
            rmin = rho[found].min() if found.any() else np.inf
            # an item whose price the floats could not place is settled exactly
            cand = np.flatnonzero((rho <= rmin * (1 + _CLOSE)) | ~found)
            prices = {}
            for j in cand:
                p_ = int(alive[j])
                prices[p_] = self._exact_price(M, N, den, p_)
            # rho = q / cost = qn / (qd * den * cost); ties -> smallest index
            keyed = sorted((Fraction(v[0], v[1] * prob.cost[p_]), p_) for p_, v in prices.items())
            best_rho, p = keyed[0]
            qn, qd, poor = prices[p]
            if bound:
                rho_x = rho.copy()
                tied = np.zeros(alive.size, dtype=bool)
                for key, p2 in keyed[1:]:  # close calls: use the exact value
                    rho_x[alive == p2] = float(key / den)
                    tied[alive == p2] = key == best_rho
                sl_s = slope[order]
                dt = min(dt, self._price_bound(
                    M[:, p], N, S, den, sden, p, qn, qd, poor, float(best_rho / den),
                    alive != p, rho_x, tied, Ms, bs, sl_s, vslope[afford], qf, first, found, c,
                ))
            selected.append(p)
            alive = alive[alive != p]
            cls, N, S, den, sden, degenerate = self._pay(cls, M[:, p], N, S, den, sden, p, qn, qd, poor)
            if degenerate and bound:
                dt = 0.0
            if bound and dt <= 0:
                bound = False
            M = self._class_counts(cls, len(N))
        return selected, dt

    @staticmethod
    def _afford_bound(total, cost, vslope, close) -> float:
        """How far t may grow before an unaffordable item could become affordable."""
        if total.size == 0:
            return math.inf
        if close.any():
            return 0.0
        gap = (cost - total) - 1e-9 * cost
        if (gap <= 0).any():
            return 0.0
        sl = vslope * (1 + 1e-9)
        with np.errstate(divide="ignore"):
            d = np.where(sl > 0, gap / np.where(sl > 0, sl, 1), np.inf)
        return float(d.min()) * (1 - 1e-6)

    def _price_bound(self, col, N, S, den, sden, p, qn, qd, poor, rho_w,
                     others, rho, tied, Ms, bs, sl, vslope, qf, first, found, c) -> float:
        """How far t may grow before the bought item ``p`` could lose its rank or its payment structure.

        ``col``: supporters of ``p`` per budget class; ``poor``: classes paying
        their whole budget. The other arrays describe every affordable item of
        the round (``others`` masks out ``p``): price per unit of cost (exact for
        close calls), exact-tie flags, and the sorted float state of the round.
        """
        R = qd
        ps = sum(int(col[g]) * S[g] for g in poor)
        q = Fraction(qn, qd * den)
        qslope = Fraction(-ps, R * sden)  # the price never grows with t
        dt = math.inf
        # a poor supporter stays poor while its budget is below the price
        for g in poor:
            rate = Fraction(S[g], sden) - qslope
            if rate > 0:
                dt = min(dt, float((q - Fraction(N[g], den)) / rate) * (1 - 1e-9))
        if not others.any():
            return dt
        s_w = float(qslope) / self.prob.cost[p]  # exact slope of p's price per unit of cost (<= 0)
        Ms, qf, first, found, c = Ms[:, others], qf[others], first[others], found[others], c[others]
        rho, tied, vs = rho[others], tied[others], vslope[others]
        if not found.all():
            return 0.0
        cols = np.arange(c.size)
        supp = Ms > 0
        # (1) while an item's poor supporters stay poor its price is affine in t
        poor_mask = supp & (np.arange(Ms.shape[0])[:, None] < first[None, :])
        PS = (Ms * sl[:, None] * poor_mask).sum(axis=0)
        Rr = (Ms * ~poor_mask).sum(axis=0)
        qslope_o = -PS / Rr
        s_o = qslope_o / c
        near = (supp & (np.abs(bs[:, None] - qf[None, :]) <= 1e-9 * qf[None, :])).any(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = sl[:, None] - qslope_o[None, :] * (1 + 1e-9)
            cross = np.where(poor_mask & (rate > 0), (qf[None, :] - bs[:, None]) / rate, np.inf)
        d_aff = np.where(near, 0.0, cross.min(axis=0) * (1 - 1e-6))
        gap = (rho - rho_w) - 1e-9 * rho_w
        diff = (s_w - s_o) + 1e-9 * (abs(s_w) + np.abs(s_o))  # upper bound of how fast the gap closes
        with np.errstate(divide="ignore", invalid="ignore"):
            t_aff = np.where(diff > 0, gap / diff, np.inf)
        # exact ties: the smaller id keeps winning only if its price falls at least as fast
        t_aff = np.where(tied, np.where((s_o == 0) & (s_w == 0) | (s_o - s_w >= 1e-9 * (abs(s_w) + np.abs(s_o))), np.inf, 0.0), t_aff)
        t_aff = np.where((gap <= 0) & ~tied, 0.0, t_aff)
        g1 = np.minimum(d_aff, t_aff)
        # (2) in any case an item's price cannot drop faster than (budget slopes) / (rich weight)
        rich_lb = (Ms * (bs[:, None] >= qf[None, :] * (1 + 1e-9))).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            down = np.where(rich_lb > 0, vs * (1 + 1e-9) / (np.maximum(rich_lb, 1) * c), np.inf)
            coef = down + s_w * (1 - 1e-9)
            t_loose = np.where(gap <= 0, 0.0, np.where(coef > 0, gap / coef * (1 - 1e-6), np.inf))
        return min(dt, float(np.maximum(g1, t_loose).min()))

    def _class_counts(self, cls: np.ndarray, G: int) -> np.ndarray:
        """Dense G x m matrix: number of voters of budget class g supporting item p."""
        prob = self.prob
        rows = np.flatnonzero(cls >= 0)
        P = sparse.csr_matrix(
            (np.ones(rows.size, dtype=np.int64), (cls[rows], rows)), shape=(G, prob.K), dtype=np.int64
        )
        return (P @ prob.W).toarray()

    def _exact_price(self, M, N, den, p):
        """Exact per-voter payment cap for item ``p``: ``(qn, qd, poor classes)``.

        A supporter with budget b pays min(b, q), q = qn / (qd * den) in budget
        units, q being the unique value at which the payments add up to the cost.
        """
        col = M[:, p]
        gs = sorted(np.flatnonzero(col).tolist(), key=N.__getitem__)
        cost_n = self.prob.cost[p] * den
        paid = 0
        R = int(col.sum())
        poor = []
        for g in gs:
            if cost_n - paid <= R * N[g]:
                break
            w = int(col[g])
            paid += w * N[g]
            R -= w
            poor.append(g)
        else:
            raise AssertionError("item is not affordable")  # guarded by the affordability check
        return cost_n - paid, R, poor

    def _pay(self, cls, col, N, S, den, sden, p, qn, qd, poor):
        """Charge supporters of ``p`` min(budget, q); re-pool voters by exact remaining budget and slope."""
        supp = self.inc[:, p]
        live = cls >= 0
        key = np.where(live, cls * 2 + supp, -1)
        uniq, inv = np.unique(key, return_inverse=True)
        poor_set = set(poor)
        # slope of q: -sum_{poor} w S / (R sden); rich supporters' slope S/sden - q'
        R = qd
        ps = sum(int(col[g]) * S[g] for g in poor)
        new_val, new_sl = [], []
        degenerate = False
        for k in uniq.tolist():
            if k < 0:
                new_val.append(0)
                new_sl.append(0)
                continue
            g, s = divmod(k, 2)
            v = N[g] * qd
            sl = S[g] * R
            if s:
                if g in poor_set:
                    v, sl = 0, 0
                else:
                    v -= qn
                    sl += ps
                    if v == 0:
                        degenerate = True  # paid exactly everything: budget 0 but may grow with t
            new_val.append(v)
            new_sl.append(sl)
        den2, sden2 = den * qd, sden * R
        gv = math.gcd(den2, *new_val)
        gs = math.gcd(sden2, *new_sl)
        ids: dict[tuple[int, int], int] = {}
        N2: list[int] = []
        S2: list[int] = []
        remap = []
        for v, sl in zip(new_val, new_sl):
            if v == 0:
                remap.append(-1)
                continue
            kk = (v // gv, sl // gs)
            if kk not in ids:
                ids[kk] = len(N2)
                N2.append(kk[0])
                S2.append(kk[1])
            remap.append(ids[kk])
        remap = np.array(remap, dtype=np.int64)
        return remap[inv], N2, S2, den2 // gv, sden2 // gs, degenerate


def _is_exhaustive(prob: _Problem, selected: Sequence[int], among: Iterable[int]) -> bool:
    spent = sum(prob.cost[k] for k in selected)
    chosen = set(selected)
    return all(k in chosen or spent + prob.cost[k] > prob.budget for k in among)


def _mes_add1(prob: _Problem, skip: bool = True) -> tuple[list[int], int, int]:
    """equalshares/add1: raise the per-voter budget by 1 until the outcome is exhaustive.

    Same stopping rule as pabutools ``voter_budget_increment=1``: stop at the first
    exhaustive outcome (over the items someone supports), or return the previous
    outcome as soon as an outcome overspends the budget. With ``skip``, budgets
    for which the run provably repeats the previous one are not re-run.

    Returns (selected items, number of increments, number of MES runs).
    """
    eng = _MES(prob)
    n, B, step = prob.n, prob.budget, prob.scale  # one currency unit, scaled
    supported = [k for k in range(prob.m) if prob.support[k] > 0]
    previous: list[int] = []
    k = runs = 0
    while True:
        outcome, dt = eng.run(B + k * step * n, n, bound=skip)
        runs += 1
        if sum(prob.cost[j] for j in outcome) > B:
            return previous, k, runs
        if _is_exhaustive(prob, outcome, supported):
            return outcome, k, runs
        previous = outcome
        # increments j with j * step < dt give this very outcome again
        jump = 1
        if skip and dt > step:
            jump = max(1, math.ceil(dt / step) - 1) if math.isfinite(dt) else None
            if jump is None:
                # nothing can change any more: the outcome stays non-exhaustive forever
                raise AssertionError("equal shares completion does not terminate")
        k += jump


def mes_raw(costs: Mapping[str, Number], budget: Number, ballots: Sequence[Ballot]) -> Outcome:
    """Method of Equal Shares with cost utilities, without completion.

    Every voter gets ``budget / len(ballots)``; repeatedly the item that its
    supporters can buy with the lowest maximal payment per unit of cost is bought
    (each supporter pays ``min(own budget, q)``), until no item is affordable by
    its supporters. Equals pabutools ``method_of_equal_shares(..., sat_class=Cost_Sat)``.
    """
    prob = _Problem(costs, budget, ballots)
    if prob.n == 0:
        return prob.outcome("mes_raw", [])
    sel, _ = _MES(prob).run(prob.budget, prob.n)
    return prob.outcome("mes_raw", sel)


def mes(costs: Mapping[str, Number], budget: Number, ballots: Sequence[Ballot]) -> Outcome:
    """Method of Equal Shares, completed ("equalshares/add1" then greedy).

    The per-voter budget is raised by 1 currency unit at a time until the MES
    outcome is exhaustive (the last outcome that stays within the budget is kept),
    then leftover budget is filled greedily by number of supporters. Equals
    pabutools ``method_of_equal_shares(..., sat_class=Cost_Sat, voter_budget_increment=1)``
    followed by ``greedy_utilitarian_welfare(..., sat_class=Cost_Sat, initial_budget_allocation=...)``.
    """
    prob = _Problem(costs, budget, ballots)
    if prob.n == 0:
        sel, inc, runs = [], 0, 0
    else:
        sel, inc, runs = _mes_add1(prob)
    full = _greedy_fill(prob, sel)
    return prob.outcome("mes", full, {"mes_selected": len(sel), "voter_budget_increments": inc, "mes_runs": runs})


# --------------------------------------------------------------------------- #
# Sequential Phragmén
# --------------------------------------------------------------------------- #


def phragmen(costs: Mapping[str, Number], budget: Number, ballots: Sequence[Ballot]) -> Outcome:
    """Sequential Phragmén (pabutools ``sequential_phragmen``).

    Voters earn virtual money continuously; an item is bought as soon as its
    supporters together can pay its cost, and they then all hold the same load.
    The rule stops (it does not skip) when the next item to buy would overspend
    the budget. Items costing more than the budget are ignored. Ballots are read
    as approval of every item they list.
    """
    prob = _Problem(costs, budget, ballots)
    B = prob.budget
    remaining = [k for k in range(prob.m) if prob.cost[k] <= B]
    score = prob.support
    level = np.zeros(prob.K, dtype=np.int64)  # load level of each voter class
    loads: list[Fraction] = [Fraction(0)]
    WT = prob.W.T.tocsr()  # m x K
    selected: list[int] = []
    spent = 0
    while remaining:
        L = sparse.csr_matrix(
            (np.ones(prob.K, dtype=np.int64), (np.arange(prob.K), level)), shape=(prob.K, len(loads))
        )
        C = (WT @ L).toarray()  # C[p, l]: supporters of p at load level l
        lf = np.array([float(x) for x in loads])
        finite = [k for k in remaining if score[k] > 0]
        if finite:
            arr = np.array(finite)
            est = (C[arr] @ lf + np.array([prob.cost[k] for k in finite], dtype=float)) / score[arr]
            lo = est.min()
            cand = [k for k, e in zip(finite, est) if e <= lo * (1 + _CLOSE)]
            exact = {
                k: (sum((int(C[k, l]) * loads[l] for l in np.flatnonzero(C[k])), Fraction(0)) + prob.cost[k])
                / int(score[k])
                for k in cand
            }
            best = min(exact.values())
            tied = [k for k in cand if exact[k] == best]
        else:
            best = None
            tied = list(remaining)
        if any(spent + prob.cost[k] > B for k in tied):
            break
        p = min(tied)
        selected.append(p)
        spent += prob.cost[p]
        remaining.remove(p)
        if best is not None:
            loads.append(best)
            supp = np.asarray(prob.inc[:, p].todense()).ravel().astype(bool)
            level[supp] = len(loads) - 1
    return prob.outcome("phragmen", selected)


RULES: dict[str, Callable[..., Outcome]] = {"greedy": greedy, "mes": mes, "mes_raw": mes_raw, "phragmen": phragmen}
"""Rule name -> rule function."""


# --------------------------------------------------------------------------- #
# Vote counts by group
# --------------------------------------------------------------------------- #


def votes_by_group(
    ballots: Sequence[Ballot],
    group_of_voter: Sequence[Hashable] | Callable[[int], Hashable],
    items: Iterable[str] | None = None,
) -> dict[Hashable, dict[str, int]]:
    """Number of supporters of each item, split by a voter attribute (age band, sex, district, ...).

    ``group_of_voter`` is either a sequence parallel to ``ballots`` or a function
    of the voter's index; voters whose group is ``None`` are counted under
    ``None``. With ``items`` given, every group lists exactly those items (0 when
    unsupported); otherwise only items supported within the group appear.
    Groups appear in order of first occurrence.
    """
    getter = group_of_voter if callable(group_of_voter) else group_of_voter.__getitem__
    if not callable(group_of_voter) and len(group_of_voter) != len(ballots):
        raise ValueError("group_of_voter must have one entry per ballot")
    counts: dict[Hashable, Counter] = {}
    for idx, b in enumerate(ballots):
        g = getter(idx)
        c = counts.setdefault(g, Counter())
        c.update(b.keys() if isinstance(b, Mapping) else set(b))
    if items is None:
        return {g: dict(c) for g, c in counts.items()}
    items = list(items)
    return {g: {i: c.get(i, 0) for i in items} for g, c in counts.items()}
