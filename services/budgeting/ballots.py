"""Validation of a single ballot against the ballot rules of a vote.

Each check returns a list of :class:`Violation` (empty when the ballot is
valid); :func:`ensure_valid` raises :class:`BallotError` carrying that list.
``Violation.as_dict()`` gives the ``{"field": ..., "issue": ...}`` shape used in
HTTP 422 responses.

Public API::

    ApprovalRules(min_items=0, max_items=None)
    KnapsackRules(total, min_spend_share=None)
    CumulativeRules(points, min_items=0, max_items=None)
    validate(ballot, costs, rules) -> list[Violation]
    ensure_valid(ballot, costs, rules) -> None   # raises BallotError
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from numbers import Integral

__all__ = [
    "ApprovalRules",
    "BallotError",
    "CumulativeRules",
    "KnapsackRules",
    "Violation",
    "ensure_valid",
    "validate",
]

Number = int | Decimal | Fraction


@dataclass(frozen=True)
class Violation:
    """One problem with a ballot: ``field`` names the offending part (``items``, ``items[3]``, ``points.p7``)."""

    field: str
    issue: str

    def as_dict(self) -> dict[str, str]:
        """``{"field": ..., "issue": ...}`` for an error response."""
        return {"field": self.field, "issue": self.issue}


class BallotError(ValueError):
    """A ballot breaks the rules; ``violations`` lists every problem found."""

    def __init__(self, violations: list[Violation]):
        self.violations = list(violations)
        super().__init__("; ".join(f"{v.field}: {v.issue}" for v in self.violations))

    def as_dicts(self) -> list[dict[str, str]]:
        """The violations as ``{"field", "issue"}`` dicts."""
        return [v.as_dict() for v in self.violations]


@dataclass(frozen=True)
class ApprovalRules:
    """Approve between ``min_items`` and ``max_items`` (``None``: no upper limit) distinct items."""

    min_items: int = 0
    max_items: int | None = None

    def __post_init__(self):
        if self.min_items < 0 or (self.max_items is not None and self.max_items < self.min_items):
            raise ValueError("need 0 <= min_items <= max_items")


@dataclass(frozen=True)
class KnapsackRules:
    """Pick distinct items whose costs add up to at most ``total``.

    With ``min_spend_share`` (a fraction in [0, 1], e.g. ``Decimal("0.5")``) the
    chosen items must also cost at least that share of ``total``.
    """

    total: Number
    min_spend_share: Number | None = None

    def __post_init__(self):
        if self.total < 0:
            raise ValueError("total must not be negative")
        if self.min_spend_share is not None and not (0 <= self.min_spend_share <= 1):
            raise ValueError("min_spend_share must be within [0, 1]")


@dataclass(frozen=True)
class CumulativeRules:
    """Spread at most ``points`` points over items; each value a non-negative integer.

    ``min_items``/``max_items`` bound the number of items given points (> 0).
    """

    points: int
    min_items: int = 0
    max_items: int | None = None

    def __post_init__(self):
        if self.points < 0:
            raise ValueError("points must not be negative")
        if self.min_items < 0 or (self.max_items is not None and self.max_items < self.min_items):
            raise ValueError("need 0 <= min_items <= max_items")


Rules = ApprovalRules | KnapsackRules | CumulativeRules


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _item_list(ballot, costs: Mapping[str, Number], out: list[Violation]) -> list[str] | None:
    """Items of an approval/knapsack ballot, checking type, unknown ids and duplicates."""
    if isinstance(ballot, (str, bytes, Mapping)) or not isinstance(ballot, Collection):
        out.append(Violation("items", "must be a list of item ids"))
        return None
    items = list(ballot)
    seen: set = set()
    for i, item in enumerate(items):
        if not isinstance(item, str):
            out.append(Violation(f"items[{i}]", "must be an item id (a string)"))
        elif item not in costs:
            out.append(Violation(f"items[{i}]", f"unknown item {item!r}"))
        elif item in seen:
            out.append(Violation(f"items[{i}]", f"item {item!r} is listed more than once"))
        else:
            seen.add(item)
    return [i for i in dict.fromkeys(items) if isinstance(i, str) and i in costs]


def _count_bounds(field: str, n: int, lo: int, hi: int | None, out: list[Violation]) -> None:
    if n < lo:
        out.append(Violation(field, f"choose at least {_plural(lo, 'item')} ({n} chosen)"))
    if hi is not None and n > hi:
        out.append(Violation(field, f"choose at most {_plural(hi, 'item')} ({n} chosen)"))


def validate(ballot: Collection[str] | Mapping[str, object], costs: Mapping[str, Number], rules: Rules) -> list[Violation]:
    """Every way in which ``ballot`` breaks ``rules``; an empty list means the ballot is valid.

    ``ballot`` is a collection of item ids for :class:`ApprovalRules` and
    :class:`KnapsackRules`, a ``{item_id: points}`` mapping for
    :class:`CumulativeRules`. ``costs`` (``{item_id: cost}``) defines the known
    items. Unknown or repeated ids are reported per position (``items[2]``) or
    per item (``points.<id>``); count, spending and point limits on the whole
    ballot are reported on ``items`` or ``points``.
    """
    out: list[Violation] = []
    if isinstance(rules, ApprovalRules):
        items = _item_list(ballot, costs, out)
        if items is not None:
            _count_bounds("items", len(items), rules.min_items, rules.max_items, out)
    elif isinstance(rules, KnapsackRules):
        items = _item_list(ballot, costs, out)
        if items is not None:
            spent = sum((costs[i] for i in items), 0)
            if spent > rules.total:
                out.append(Violation("items", f"selected items cost {spent}, more than the {rules.total} available"))
            if rules.min_spend_share is not None:
                floor = Fraction(rules.min_spend_share) * Fraction(rules.total)
                if Fraction(spent) < floor:
                    share = _fmt_share(rules.min_spend_share)
                    out.append(Violation("items", f"selected items cost {spent}; spend at least {share} of {rules.total}"))
    elif isinstance(rules, CumulativeRules):
        if not isinstance(ballot, Mapping):
            return [Violation("points", "must map item ids to points")]
        total = 0
        given = 0
        for item, pts in ballot.items():
            field = f"points.{item}"
            if not isinstance(item, str) or item not in costs:
                out.append(Violation(field, f"unknown item {item!r}"))
                continue
            if isinstance(pts, bool) or not isinstance(pts, Integral):
                out.append(Violation(field, "points must be a whole number"))
                continue
            if pts < 0:
                out.append(Violation(field, "points must not be negative"))
                continue
            total += int(pts)
            given += pts > 0
        if total > rules.points:
            out.append(Violation("points", f"{total} points given, at most {rules.points} allowed"))
        _count_bounds("points", given, rules.min_items, rules.max_items, out)
    else:
        raise TypeError(f"unknown ballot rules {type(rules).__name__}")
    return out


def _fmt_share(x: Number) -> str:
    pct = Fraction(x) * 100
    return f"{int(pct)}%" if pct.denominator == 1 else f"{float(pct):g}%"


def ensure_valid(ballot, costs: Mapping[str, Number], rules: Rules) -> None:
    """Raise :class:`BallotError` listing every violation if ``ballot`` breaks ``rules``."""
    violations = validate(ballot, costs, rules)
    if violations:
        raise BallotError(violations)
