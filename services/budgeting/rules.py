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
    Voters whose budget is exhausted leave the pools: they can no longer pay.

    Floats are used only to rank items; an item within ``_CLOSE`` (relative) of
    the best one, or of being (un)affordable, is re-decided exactly.

    For the completion, :meth:`run` can also report how far the initial
    per-voter budget ``t`` may grow while the run provably makes the same
    choices. Along a fixed sequence of purchases every remaining budget is a
    non-decreasing function of ``t`` and every price a non-increasing one. Each
    voter class carries ``U``, an upper bound on how fast its budget can grow
    with ``t`` (1 at the start; a purchase adds to its supporters' bound the
    largest rate at which its price can fall: poor supporters' growth divided by
    the rich supporters' weight). This gives, for an increase ``d`` of ``t``:

    * an item that is unaffordable stays so while its supporters' budgets, growing
      at most ``U`` each, cannot cover the missing amount; affordable items stay
      affordable;
    * the bought item's price per unit of cost can only fall, and any other
      item's price ``q`` falls by at most ``d * (growth of its supporters poorer
      than q) / (weight of those at least as rich as q)`` (nothing, if all its
      supporters can pay ``q``).
    """

    def __init__(self, prob: _Problem):
        self.prob = prob
        self.cost_f = np.array(prob.cost, dtype=np.float64)
        self.inc = prob.inc.toarray().astype(bool)
        self.WT = prob.W.T.tocsr()

    def run(self, num: int, den: int, bound: bool = False) -> tuple[list[int], float]:
        """Run MES with an initial budget of ``num/den`` per voter (budget units).

        Returns the selected items in selection order and, when ``bound`` is set,
        ``dt`` such that every initial budget in ``[t, t + dt)`` gives the same
        selection (0.0 when nothing can be guaranteed; ``inf`` without ``bound``).
        """
        prob = self.prob
        if prob.K == 0 or num <= 0:
            return [], math.inf
        g0 = math.gcd(num, den)
        N, den = [num // g0], den // g0
        cls = np.zeros(prob.K, dtype=np.int64)  # budget class of each voter class, -1 = no budget left
        U = np.ones(prob.K, dtype=np.float64)  # growth-rate bound of each voter class's budget
        alive = np.flatnonzero(prob.support > 0)
        selected: list[int] = []
        dt = math.inf
        while alive.size:
            c_all = self.cost_f[alive]
            if not N:  # nobody can pay any more
                if bound:
                    wu = self.WT @ U
                    dt = min(dt, self._afford_bound(np.zeros(alive.size), c_all, wu[alive], np.zeros(alive.size, bool)))
                break
            M = self._class_counts(cls, len(N), prob.W)
            beta = np.array([x / den for x in N], dtype=np.float64)
            order = np.argsort(beta, kind="stable")
            Ms = M[order][:, alive]
            bs = beta[order]
            contrib = Ms * bs[:, None]
            total = contrib.sum(axis=0)
            afford = total >= c_all
            close = np.abs(total - c_all) <= _CLOSE * c_all
            for j in np.flatnonzero(close):
                p = alive[j]
                col = M[:, p]
                afford[j] = sum(int(col[g]) * N[g] for g in np.flatnonzero(col)) >= prob.cost[p] * den
            if bound:
                wu = self.WT @ U  # growth bound of all supporters' budgets, per item
                na = ~afford
                dt = min(dt, self._afford_bound(total[na], c_all[na], wu[alive][na], close[na]))
            if not afford.any():
                break
            alive = alive[afford]
            Ms, contrib, c = Ms[:, afford], contrib[:, afford], c_all[afford]
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
            prices = {int(alive[j]): self._exact_price(M, N, den, int(alive[j])) for j in cand}
            # rho = q / cost = qn / (qd * den * cost); ties -> smallest index
            keyed = sorted((Fraction(v[0], v[1] * prob.cost[k]), k) for k, v in prices.items())
            best_rho, p = keyed[0]
            qn, qd, poor = prices[p]
            if bound:
                rho_x = rho.copy()
                tied = np.zeros(alive.size, dtype=bool)
                for key, p2 in keyed[1:]:  # close calls: use the exact value
                    rho_x[alive == p2] = float(key / den)
                    tied[alive == p2] = key == best_rho
                MU = self._class_counts(cls, len(N), prob.W.multiply(U[:, None]).tocsr())
                MUs = MU[order][:, alive]
                others = alive != p
                sure_rich = bs[:, None] >= qf[None, :] * (1 + 1e-9)
                rich_w = (Ms * sure_rich).sum(axis=0)
                poor_growth = np.maximum(wu[alive] - (MUs * sure_rich).sum(axis=0), 0.0)
                const = (rich_w == prob.support[alive]) & found  # every supporter can pay: price is fixed
                dt = min(dt, self._rank_bound(
                    float(best_rho / den), rho_x[others], tied[others], const[others],
                    poor_growth[others], rich_w[others], c[others], found[others],
                ))
                # the price of p falls at most this fast; its supporters' budgets may grow that much faster
                rich_classes = np.setdiff1d(np.flatnonzero(M[:, p]), np.array(poor, dtype=np.int64))
                qbar = max(wu[p] - float(MU[rich_classes, p].sum()), 0.0) / qd * (1 + 1e-9)
                U = np.where(self.inc[:, p], (U + qbar) * (1 + 1e-12), U)
            selected.append(p)
            alive = alive[alive != p]
            cls, N, den = self._pay(cls, N, den, p, qn, qd, poor)
            if bound and dt <= 0:
                bound = False
        return selected, (dt if dt > 0 else 0.0)

    @staticmethod
    def _afford_bound(total, cost, growth, close) -> float:
        """How far t may grow before an unaffordable item could become affordable."""
        if total.size == 0:
            return math.inf
        if close.any():
            return 0.0
        gap = (cost - total) - 1e-9 * cost
        if (gap <= 0).any():
            return 0.0
        g = growth * (1 + 1e-9)
        with np.errstate(divide="ignore"):
            d = np.where(g > 0, gap / np.where(g > 0, g, 1), np.inf)
        return float(d.min()) * (1 - 1e-6)

    @staticmethod
    def _rank_bound(rho_w, rho, tied, const, poor_growth, rich_w, c, found) -> float:
        """How far t may grow before another item could become cheaper (per unit of cost) than the winner."""
        if rho.size == 0:
            return math.inf
        if not found.all():
            return 0.0
        gap = (rho - rho_w) - 1e-9 * rho_w
        with np.errstate(divide="ignore", invalid="ignore"):
            fall = np.where(rich_w > 0, poor_growth * (1 + 1e-9) / (np.maximum(rich_w, 1) * c), np.inf)
            d = np.where(const, np.inf, np.where(gap > 0, gap / fall, 0.0))
        d = np.where(tied & ~const, 0.0, d)
        return float(d.min()) * (1 - 1e-6)

    def _class_counts(self, cls: np.ndarray, G: int, W) -> np.ndarray:
        """Dense G x m matrix: sum over voter classes of budget class g of ``W[k, p]``."""
        prob = self.prob
        rows = np.flatnonzero(cls >= 0)
        P = sparse.csr_matrix(
            (np.ones(rows.size, dtype=W.dtype), (cls[rows], rows)), shape=(G, prob.K)
        )
        return (P @ W).toarray()

    def _exact_price(self, M, N, den, p):
        """Exact per-voter payment cap for item ``p``: ``(qn, qd, poor classes)``.

        A supporter with budget b pays min(b, q), q = qn / (qd * den) in budget
        units, q being the unique value at which the payments add up to the cost;
        ``qd`` is the weight of the supporters who can pay q.
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

    def _pay(self, cls, N, den, p, qn, qd, poor):
        """Charge supporters of ``p`` min(budget, q); re-pool voter classes by exact remaining budget."""
        G = len(N)
        supp = self.inc[:, p]
        live = cls >= 0
        key = np.where(live, cls * 2 + supp, 2 * G)
        present = np.bincount(key, minlength=2 * G + 1)[: 2 * G] > 0
        poor_set = set(poor)
        new_val = []
        keys = np.flatnonzero(present).tolist()
        for k in keys:
            g, s = divmod(k, 2)
            v = N[g] * qd
            if s:
                v = 0 if g in poor_set else v - qn
            new_val.append(v)
        den2 = den * qd
        gv = math.gcd(den2, *new_val)
        ids: dict[int, int] = {}
        N2: list[int] = []
        table = np.full(2 * G + 1, -1, dtype=np.int64)
        for k, v in zip(keys, new_val):
            if v <= 0:
                continue
            v //= gv
            if v not in ids:
                ids[v] = len(N2)
                N2.append(v)
            table[k] = ids[v]
        return table[key], N2, den2 // gv


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
