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

All decisions are exact. Amounts are scaled to integers. The Method of Equal
Shares has two engines: an exact one (budgets as integer numerators over
common denominators, used for ``mes_raw`` and as fallback) and a floating-point
one used for the many runs of the completion, which only decides comparisons
that clear a safety margin and hands any close call to the exact engine. The
completion skips budget increments for which the previous run provably
repeats itself (see ``_MES.certify``) instead of re-running MES at each one.

Public API::

    greedy(costs, budget, ballots) -> Outcome
    mes(costs, budget, ballots) -> Outcome          # equalshares/add1 + greedy completion
    mes_raw(costs, budget, ballots) -> Outcome      # Method of Equal Shares only
    phragmen(costs, budget, ballots) -> Outcome     # sequential Phragmén
    RULES: dict[str, rule]
    votes_by_group(ballots, group_of_voter, items=None) -> dict[group, dict[item, int]]
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import numpy as np
from scipy import sparse

__all__ = ["RULES", "Outcome", "greedy", "mes", "mes_raw", "phragmen", "votes_by_group"]

Number = int | Decimal | Fraction
Ballot = Collection[str] | Mapping[str, Number]

# Relative margin under which two floating-point quantities are treated as a
# possible tie and re-decided exactly. Rounding errors of the float prices are
# below 1e-12 relative (sums of at most ~1e5 non-negative terms, budgets
# re-derived from exact values or a few dozen subtractions), so anything
# outside the margin is decided correctly by the floats alone.
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


class _State:
    """Exact budgets during one MES run.

    Voter classes with the same payment history share a *budget class*. Class
    ``g`` (``g >= 1``; 0 means "budget exhausted") holds the exact budget
    ``num[g] / D[rnd[g]]`` where ``D`` is the list of common denominators used so
    far (each one a multiple of the previous, so values are rescaled lazily and
    a purchase only touches its supporters' classes). ``beta`` is the float
    image of the budgets (``beta[0] == 0``); ``size[g]`` counts voter classes.
    """

    __slots__ = ("D", "beta", "cls", "num", "rnd", "size")

    def __init__(self, K: int, num: int, den: int):
        g = math.gcd(num, den)
        self.cls = np.ones(K, dtype=np.int64)
        self.num = [0, num // g]
        self.rnd = [0, 0]
        self.D = [den // g]
        self.beta = np.zeros(max(16, 2 * K + 2))
        self.beta[1] = self.num[1] / self.D[0]
        self.size = [0, K]

    def values(self, gs: Sequence[int]) -> list[int]:
        """Exact budgets of classes ``gs`` as numerators over the current denominator ``D[-1]``."""
        D, cur, num, rnd = self.D, self.D[-1], self.num, self.rnd
        last = len(D) - 1
        fac: dict[int, int] = {}
        out = []
        for g in gs:
            r = rnd[g]
            if r == last:
                out.append(num[g])
            else:
                f = fac.get(r)
                if f is None:
                    f = fac[r] = cur // D[r]
                out.append(num[g] * f)
        return out

    def new_class(self, value: int, size: int) -> int:
        g = len(self.num)
        self.num.append(value)
        self.rnd.append(len(self.D) - 1)
        self.size.append(size)
        if g >= self.beta.size:
            self.beta = np.concatenate([self.beta, np.zeros(self.beta.size)])
        self.beta[g] = value / self.D[-1]
        return g


class _MES:
    """Method of Equal Shares with cost utilities, exact.

    An item's price is the per-voter payment cap ``q`` at which its supporters,
    each paying ``min(budget, q)``, cover its cost; MES buys the item with the
    lowest ``q / cost``. Prices only rise during a run (budgets only fall), so
    a price computed earlier in the run is a lower bound and, as in pabutools,
    only the items whose bound could beat the current best are re-priced.

    Prices are computed in floating point per item over its supporters; an
    item within ``_CLOSE`` (relative) of the best one, or of being affordable,
    is re-decided with exact integer arithmetic, so every decision is exact.
    """

    def __init__(self, prob: _Problem):
        self.prob = prob
        inc = prob.inc.tocsc()
        self.supp_idx = [inc.indices[inc.indptr[p]:inc.indptr[p + 1]] for p in range(prob.m)]
        self.supp_w = [prob.weight[ix] for ix in self.supp_idx]
        self.cost_f = [float(c) for c in prob.cost]

    # ---- pricing ---------------------------------------------------------
    def _price_f(self, st: _State, p: int) -> tuple[int, float]:
        """Float pricing of ``p``: (status, rho). status 1 affordable, 0 not, -1 too close to call."""
        ix, w = self.supp_idx[p], self.supp_w[p]
        b = st.beta[st.cls[ix]]
        c = self.cost_f[p]
        total = float(b @ w)
        if abs(total - c) <= _CLOSE * c:
            return -1, math.nan
        if total < c:
            return 0, math.inf
        o = np.argsort(b)
        bs, ws = b[o], w[o]
        paid = np.cumsum(bs * ws)
        paid = np.concatenate(([0.0], paid[:-1]))
        rest = int(ws.sum()) - np.concatenate(([0], np.cumsum(ws)[:-1]))
        q = (c - paid) / rest
        j = int(np.argmax(q <= bs))
        if not q[j] <= bs[j]:
            return -1, math.nan
        return 1, float(q[j]) / c

    def _price_exact(self, st: _State, p: int):
        """Exact pricing of ``p``: ``None`` if unaffordable, else ``(rho, qn, qd, poor)``.

        ``rho`` is the exact price per unit of cost (a Fraction); a rich supporter
        pays ``qn / (qd * D)`` with ``D`` the current common denominator;
        ``poor`` lists the budget classes paying their whole budget.
        """
        cl = st.cls[self.supp_idx[p]]
        live = cl > 0
        gs_arr, inv = np.unique(cl[live], return_inverse=True)
        wsum = np.bincount(inv, weights=self.supp_w[p][live]).astype(np.int64).tolist()
        gs = gs_arr.tolist()
        vals = st.values(gs)
        den = st.D[-1]
        cost_n = self.prob.cost[p] * den
        if sum(w * v for w, v in zip(wsum, vals)) < cost_n:
            return None
        order = sorted(range(len(gs)), key=vals.__getitem__)
        paid = 0
        R = sum(wsum)
        poor = []
        for i in order:
            v = vals[i]
            if cost_n - paid <= R * v:
                break
            paid += wsum[i] * v
            R -= wsum[i]
            poor.append(gs[i])
        qn = cost_n - paid
        return Fraction(qn, R * den * self.prob.cost[p]), qn, R, poor

    def _pay(self, st: _State, p: int, qn: int, qd: int, poor: list[int]) -> None:
        """Charge supporters of ``p`` min(budget, qn / (qd * D)); other voters are untouched."""
        ix = self.supp_idx[p]
        cl = st.cls[ix]
        live = cl > 0
        ixl, cll = ix[live], cl[live]
        gs_arr, pos, cnt = np.unique(cll, return_inverse=True, return_counts=True)
        gs = gs_arr.tolist()
        vals = st.values(gs)
        st.D.append(st.D[-1] * qd)
        r_new = len(st.D) - 1
        poor_set = set(poor)
        new_ids = []
        for g, v, c in zip(gs, vals, cnt.tolist()):
            whole = c == st.size[g]
            v = 0 if g in poor_set else v * qd - qn
            if v <= 0:
                new_ids.append(0)
                st.size[g] -= c
            elif whole:
                st.num[g] = v
                st.rnd[g] = r_new
                st.beta[g] = v / st.D[-1]
                new_ids.append(g)
            else:
                st.size[g] -= c
                new_ids.append(st.new_class(v, c))
        st.cls[ixl] = np.array(new_ids, dtype=np.int64)[pos]

    def _status(self, st: _State, p: int) -> tuple[bool, float, object]:
        """(affordable, float rho, exact pricing or None when not computed)."""
        s, rho = self._price_f(st, p)
        if s >= 0:
            return bool(s), rho, None
        ex = self._price_exact(st, p)
        if ex is None:
            return False, math.inf, None
        return True, float(ex[0]), ex

    # ---- runs --------------------------------------------------------------
    def run(self, num: int, den: int) -> tuple[list[int], list[Fraction]]:
        """MES with an initial budget of ``num/den`` per voter (budget units).

        Returns the items bought, in order, and the exact price per unit of cost
        paid in each round.
        """
        prob = self.prob
        st = _State(prob.K, num, den)
        # (lower bound of rho, item); q >= cost / supporters, so rho >= 1 / supporters
        heap = [((1.0 - 1e-12) / int(prob.support[p]), p) for p in range(prob.m) if prob.support[p] > 0]
        heapq.heapify(heap)
        selected: list[int] = []
        rhos: list[Fraction] = []
        while heap:
            best = math.inf
            seen: list[tuple[float, int, object]] = []
            while heap and heap[0][0] <= best * (1 + _CLOSE):
                _, p = heapq.heappop(heap)
                ok, rho, ex = self._status(st, p)
                if not ok:
                    continue  # unaffordable now, hence for the rest of the run
                seen.append((rho, p, ex))
                best = min(best, rho)
            if not seen:
                break
            close = [(p, ex) for rho, p, ex in seen if rho <= best * (1 + _CLOSE)]
            win = None
            for p, ex in close:
                ex = ex or self._price_exact(st, p)
                if win is None or (ex[0], p) < (win[1][0], win[0]):
                    win = (p, ex)
            p, (rho_x, qn, qd, poor) = win
            for rho, p2, _ in seen:
                if p2 != p:
                    heapq.heappush(heap, (rho, p2))
            selected.append(p)
            rhos.append(rho_x)
            self._pay(st, p, qn, qd, poor)
        return selected, rhos

    def certify(self, num: int, den: int, selected: Sequence[int], rhos: Sequence[Fraction]) -> bool:
        """True if MES makes the same purchases, in the same order, for every initial budget in ``[t0, num/den]``.

        ``selected``/``rhos`` come from :meth:`run` at a smaller budget ``t0``.
        Along a fixed sequence of purchases, budgets only grow and prices only
        fall as the initial budget grows. So it suffices that, re-playing the
        purchases at ``t1 = num/den``, in every round each other item is either
        unaffordable at ``t1`` or priced at ``t1`` no lower than the bought item
        was at ``t0`` (strictly higher if its id sorts first), and that after
        the last purchase nothing is affordable at ``t1``.
        """
        prob = self.prob
        st = _State(prob.K, num, den)
        alive = {p for p in range(prob.m) if prob.support[p] > 0}
        # lower bounds of rho at t1 (rho only rises within a run, and rho >= 1 / supporters)
        lb = {p: (1.0 - 1e-12) / int(prob.support[p]) for p in alive}
        for w, thr in zip(selected, rhos):
            alive.discard(w)
            thr_f = float(thr)
            for p in list(alive):
                if lb[p] > thr_f * (1 + _CLOSE):
                    continue
                ok, rho, ex = self._status(st, p)
                if not ok:
                    alive.discard(p)
                    continue
                lb[p] = rho
                if rho > thr_f * (1 + _CLOSE):
                    continue
                ex = ex or self._price_exact(st, p)
                if ex[0] < thr or (ex[0] == thr and p < w):
                    return False
            ex = self._price_exact(st, w)
            if ex is None:  # cannot happen: budgets at t1 are at least those at t0
                return False
            self._pay(st, w, ex[1], ex[2], ex[3])
        for p in alive:
            if self._status(st, p)[0]:
                return False
        return True


class _Unsure(Exception):
    """A floating-point comparison was too close to call; the caller redoes the work exactly."""


class _FastMES:
    """Floating-point MES that refuses to guess.

    Budgets are floats per voter class; prices are found without sorting, by
    the fixed-point iteration ``q <- (cost - budgets of those below q) /
    (weight of those at or above q)`` started from ``cost / supporters``, which
    climbs to the exact price in a few steps. Every comparison that decides
    something must clear a relative margin of ``_CLOSE``, far above the
    rounding error; the one exact case handled here is an item all of whose
    supporters can pay its price (its price per unit of cost is then exactly
    ``1 / supporters``). Anything else that is too close raises
    :class:`_Unsure` and the caller falls back to the exact :class:`_MES`.
    """

    def __init__(self, prob: _Problem, exact: _MES):
        self.prob = prob
        self.ix = exact.supp_idx
        self.w = [w.astype(np.float64) for w in exact.supp_w]
        self.W = [int(w.sum()) for w in exact.supp_w]
        self.cost = exact.cost_f

    def _price(self, bud: np.ndarray, p: int):
        """(rho or None if unaffordable, q, exact rho or None)."""
        b = bud[self.ix[p]]
        w = self.w[p]
        c = self.cost[p]
        total = float(b @ w)
        if abs(total - c) <= _CLOSE * c:
            raise _Unsure
        if total < c:
            return None, 0.0, None
        W = self.W[p]
        q = c / W
        poor = b < q
        npoor = int(np.count_nonzero(poor))
        if npoor == 0:
            if float(b.min()) < q * (1 + 1e-9):
                raise _Unsure
            return 1.0 / W, q, Fraction(1, W)
        while True:
            wp = w[poor]
            q = (c - float(b[poor] @ wp)) / (W - float(wp.sum()))
            poor = b < q
            n2 = int(np.count_nonzero(poor))
            if n2 == npoor:
                return q / c, q, None
            if n2 < npoor:  # the poor set only grows in exact arithmetic: rounding noise
                raise _Unsure
            npoor = n2

    def run(self, num: int, den: int):
        """Like :meth:`_MES.run`, with float prices (the exact ones when known, else floats)."""
        prob = self.prob
        bud = np.full(prob.K, num / den)
        # q >= cost / supporters, so rho >= 1 / supporters
        heap = [(1.0 / self.W[p], p) for p in range(prob.m) if prob.support[p] > 0]
        heapq.heapify(heap)
        selected, rhos = [], []
        while heap:
            best = math.inf
            seen = []
            while heap and heap[0][0] <= best * (1 + _CLOSE):
                _, p = heapq.heappop(heap)
                rho, q, ex = self._price(bud, p)
                if rho is None:
                    continue
                seen.append((rho, p, q, ex))
                best = min(best, rho)
            if not seen:
                break
            close = [s for s in seen if s[0] <= best * (1 + _CLOSE)]
            if len(close) > 1:
                if any(s[3] is None for s in close):
                    raise _Unsure
                close.sort(key=lambda s: (s[3], s[1]))
            rho, p, q, ex = close[0]
            for s in seen:
                if s[1] != p:
                    heapq.heappush(heap, (s[0], s[1]))
            selected.append(p)
            rhos.append(ex if ex is not None else rho)
            ix = self.ix[p]
            bud[ix] = np.maximum(bud[ix] - q, 0.0)
        return selected, rhos

    def certify(self, num: int, den: int, selected, rhos) -> bool:
        """Float version of :meth:`_MES.certify` (raises :class:`_Unsure` when it cannot tell)."""
        prob = self.prob
        bud = np.full(prob.K, num / den)
        alive = {p for p in range(prob.m) if prob.support[p] > 0}
        lb = {p: (1.0 - 1e-12) / self.W[p] for p in alive}
        for w, thr in zip(selected, rhos):
            alive.discard(w)
            thr_f = float(thr)
            for p in list(alive):
                if lb[p] > thr_f * (1 + _CLOSE):
                    continue
                rho, q, ex = self._price(bud, p)
                if rho is None:
                    alive.discard(p)
                    continue
                lb[p] = rho
                if rho > thr_f * (1 + _CLOSE):
                    continue
                if rho < thr_f * (1 - _CLOSE):
                    return False
                if ex is None or not isinstance(thr, Fraction):
                    raise _Unsure
                if ex < thr or (ex == thr and p < w):
                    return False
            rho, q, _ = self._price(bud, w)
            if rho is None:
                return False
            ix = self.ix[w]
            bud[ix] = np.maximum(bud[ix] - q, 0.0)
        for p in alive:
            if self._price(bud, p)[0] is not None:
                return False
        return True


def _is_exhaustive(prob: _Problem, selected: Sequence[int], among: Iterable[int]) -> bool:
    spent = sum(prob.cost[k] for k in selected)
    chosen = set(selected)
    return all(k in chosen or spent + prob.cost[k] > prob.budget for k in among)


def _mes_add1(prob: _Problem) -> tuple[list[int], int, int]:
    """equalshares/add1: raise the per-voter budget by 1 until the outcome is exhaustive.

    Same stopping rule as pabutools ``voter_budget_increment=1``: stop at the
    first exhaustive outcome (over the items someone supports), or return the
    previous outcome as soon as an outcome overspends the budget.

    Budgets whose run provably repeats the last one are not re-run: after a run
    at increment ``k`` the driver tries to certify that the same purchases are
    made up to ``k + J`` (see :meth:`_MES.certify`), doubling ``J`` after a
    success and halving it after a failure.

    Returns (selected items, number of increments, number of runs and replays).
    """
    exact = _MES(prob)
    fast = _FastMES(prob, exact)
    n, B, step = prob.n, prob.budget, prob.scale  # one currency unit, scaled
    supported = [k for k in range(prob.m) if prob.support[k] > 0]

    def run(k):
        try:
            return fast.run(B + k * step * n, n)
        except _Unsure:
            return exact.run(B + k * step * n, n)

    def certify(k0, k1, outcome, rhos):
        try:
            return fast.certify(B + k1 * step * n, n, outcome, rhos)
        except _Unsure:
            if not all(isinstance(r, Fraction) for r in rhos):
                outcome, rhos = exact.run(B + k0 * step * n, n)
            return exact.certify(B + k1 * step * n, n, outcome, rhos)

    previous: list[int] = []
    k = work = 0
    jump = 1
    while True:
        outcome, rhos = run(k)
        work += 1
        if sum(prob.cost[j] for j in outcome) > B:
            return previous, k, work
        if _is_exhaustive(prob, outcome, supported):
            return outcome, k, work
        previous = outcome
        while jump >= 1:
            work += 1
            if certify(k, k + jump, outcome, rhos):
                break
            jump //= 2
        if jump >= 1:
            k += jump + 1
            jump *= 2
        else:
            k += 1
            jump = 1


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
