"""Reading and writing participatory-budgeting data in the pabulib ``.pb`` format.

A ``.pb`` file has three sections, in this order: ``META``, ``PROJECTS`` and
``VOTES``. Each section starts with its name on a line of its own; the next line
names the columns (``key;value`` for META). Fields are ``;``-separated and may be
double-quoted (a quoted field may contain ``;``). Costs may use a decimal comma.

The parser is strict: anything that would make an outcome computed from the file
questionable (a missing section, a row with the wrong number of fields, a vote for
an unknown project, a cost that is not a positive number, fewer rows than the
META section announces, ...) raises :class:`PabulibError` with the offending line.

Public API::

    parse(text: str) -> Election
    dump(election: Election) -> str
    Election, Project, Vote, PabulibError
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

__all__ = ["Election", "PabulibError", "Project", "Vote", "dump", "parse", "parse_number"]

Number = int | Decimal

VOTE_TYPES = ("approval", "cumulative", "scoring", "ordinal", "choose-1")
"""Vote types the parser understands (``vote_type`` in META)."""

_SECTIONS = ("meta", "projects", "votes")


class PabulibError(ValueError):
    """A ``.pb`` text is malformed; ``line`` is the 1-based line number (or ``None``)."""

    def __init__(self, message: str, line: int | None = None):
        self.message = message
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)


@dataclass
class Project:
    """A project (an item that can be funded).

    ``extra`` keeps every other column of the PROJECTS section (``votes``,
    ``category``, ``district``, ...) as raw strings, in column order.
    """

    project_id: str
    cost: Number
    name: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Vote:
    """One voter's ballot.

    ``items`` lists project ids in ballot order (the ranking for ordinal votes);
    ``points`` is parallel to ``items`` for cumulative and scoring votes and
    ``None`` otherwise. ``extra`` keeps the other columns (``age``, ``sex``,
    ``district``, ``voting_method``, ...) as raw strings.
    """

    voter_id: str
    items: list[str]
    points: list[Number] | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Election:
    """A parsed ``.pb`` file: META as an ordered ``dict`` of strings, projects and votes in file order."""

    meta: dict[str, str]
    projects: list[Project]
    votes: list[Vote]

    @property
    def vote_type(self) -> str:
        """The ``vote_type`` META entry (``approval``, ``cumulative``, ``ordinal``, ``choose-1``, ``scoring``)."""
        return self.meta["vote_type"]

    @property
    def budget(self) -> Number:
        """The total budget (META ``budget``) as an ``int`` or ``Decimal``."""
        return parse_number(self.meta["budget"])

    def costs(self) -> dict[str, Number]:
        """Project id -> cost, in file order."""
        return {p.project_id: p.cost for p in self.projects}

    def ballots(self) -> list:
        """Ballots ready for :mod:`services.budgeting.outcomes`.

        Cumulative and scoring votes become ``{project_id: points}`` dicts; every
        other vote type becomes the ordered tuple of project ids (ordinal and
        choose-1 ballots are read as approval of the listed projects, as pabutools
        does with cost satisfaction).
        """
        if self.vote_type in ("cumulative", "scoring"):
            return [dict(zip(v.items, v.points or ())) for v in self.votes]
        return [tuple(v.items) for v in self.votes]


# Numbers in a file get the bounds of the API (services/budgeting/schemas.py MAX_MONEY), checked on the
# text and its exponent before any conversion: `int(Decimal("1e200000"))` would build a 200,000-digit
# integer, holding the interpreter for seconds.
MAX_NUMBER = Decimal("1e15")
MAX_NUMBER_TEXT = 64       # characters
MAX_DECIMALS = 15          # digits after the point

# Parsing yields to other work (`pause`) every this many rows, so a large file never holds the process.
ROWS_PER_PAUSE = 200


class OutOfRange(ValueError):
    """A number that is well formed but outside the bounds of the API."""


def parse_number(text: str) -> Number:
    """Parse ``"1200"``, ``"1200.50"``, ``"1200,50"`` or ``"7000.0"``; integral values come back as ``int``.

    Raises ``ValueError`` for anything else (including NaN and infinities), and :class:`OutOfRange`
    beyond 1e15 (or finer than 15 decimals).
    """
    if len(text) > MAX_NUMBER_TEXT:
        raise OutOfRange(f"a number of more than {MAX_NUMBER_TEXT} characters")
    s = text.strip().replace(",", ".")
    if not s:
        raise ValueError("empty number")
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    if not d.is_finite():
        raise ValueError(f"not a finite number: {text!r}")
    if d and (d.adjusted() > MAX_NUMBER.adjusted() or abs(d) > MAX_NUMBER):
        raise OutOfRange(f"{text.strip()!r} is more than {MAX_NUMBER:.0e}".replace("+", ""))
    if d.as_tuple().exponent < -MAX_DECIMALS and d != d.quantize(Decimal(1).scaleb(-MAX_DECIMALS)):
        raise OutOfRange(f"{text.strip()!r} has more than {MAX_DECIMALS} decimals")
    if d == d.to_integral_value():
        return int(d)
    return d.normalize()


def _number(text: str, what: str, line: int) -> Number:
    """`parse_number`, as a PabulibError naming `what` (\"cost of project 'p1'\")."""
    try:
        return parse_number(text)
    except OutOfRange as exc:
        raise PabulibError(f"{what} is out of range: {exc}", line=line) from None
    except ValueError:
        raise PabulibError(f"{what} is not a number: {text!r}", line=line) from None


def _is_blank(row: list[str]) -> bool:
    return all(not c.strip() for c in row)


def _section_name(row: list[str]) -> str | None:
    if row and row[0].strip().lower() in _SECTIONS and all(not c.strip() for c in row[1:]):
        return row[0].strip().lower()
    return None


def _rows(text: str):
    """Yield (line number, stripped fields) for each non-blank row."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", strict=True)
    start = 1
    try:
        for row in reader:
            line = start
            start = reader.line_num + 1
            if _is_blank(row):
                continue
            yield line, [c.strip() for c in row]
    except csv.Error as exc:
        raise PabulibError(f"malformed field ({exc}); unterminated quote?", line=start) from None


def _header(rows, section: str, required: tuple[str, ...]) -> tuple[int, list[str]]:
    try:
        line, hdr = next(rows)
    except StopIteration:
        raise PabulibError(f"file ends right after the {section.upper()} header; column names expected") from None
    if _section_name(hdr):
        raise PabulibError(f"{section.upper()} section has no column-name line", line=line)
    hdr = [h.strip() for h in hdr]
    seen = set()
    for h in hdr:
        if not h:
            raise PabulibError(f"empty column name in {section.upper()} header", line=line)
        if h in seen:
            raise PabulibError(f"duplicate column {h!r} in {section.upper()} header", line=line)
        seen.add(h)
    for r in required:
        if r not in seen:
            raise PabulibError(f"{section.upper()} header lacks the {r!r} column", line=line)
    return line, hdr


def parse(text: str, pause: Callable[[], object] | None = None) -> Election:
    """Parse the text of a ``.pb`` file into an :class:`Election`.

    Raises :class:`PabulibError` (with ``line`` set where it applies) when the text
    is malformed or truncated: sections missing, repeated or out of order; header
    lines missing required columns (``project_id``/``cost``, ``voter_id``/``vote``);
    rows whose field count differs from the header; costs or budget that are not
    positive numbers; unknown ``vote_type``; votes naming unknown or repeated
    projects; points missing, non-numeric, negative or not matching the projects
    listed; duplicate project or voter ids; fewer or more projects/votes than
    ``num_projects``/``num_votes`` announce; numbers beyond the bounds of the API.

    ``pause`` (e.g. ``eventlet.sleep``) is called every ``ROWS_PER_PAUSE`` rows, so that a process
    parsing a large file keeps serving meanwhile.
    """
    rows = _rows(text)
    meta: dict[str, str] = {}
    projects: list[Project] = []
    votes: list[Vote] = []
    seen_sections: list[str] = []
    section: str | None = None
    header: list[str] = []
    project_ids: set[str] = set()
    voter_ids: set[str] = set()
    vote_type: str | None = None
    last_line = 0

    for n, (line, row) in enumerate(rows, 1):
        if pause is not None and n % ROWS_PER_PAUSE == 0:
            pause()
        last_line = line
        name = _section_name(row)
        if name is not None:
            expected = _SECTIONS[len(seen_sections)] if len(seen_sections) < 3 else None
            if name in seen_sections:
                raise PabulibError(f"section {name.upper()} appears twice", line=line)
            if name != expected:
                raise PabulibError(
                    f"section {name.upper()} found where {expected.upper() if expected else 'end of file'} was expected",
                    line=line,
                )
            seen_sections.append(name)
            section = name
            required = {"meta": ("key", "value"), "projects": ("project_id", "cost"), "votes": ("voter_id", "vote")}
            _, header = _header(rows, name, required[name] if name != "meta" else ())
            if name == "projects":
                _check_meta(meta, line)
                vote_type = meta["vote_type"]
            if name == "votes" and not projects:
                raise PabulibError("PROJECTS section is empty", line=line)
            continue
        if section is None:
            raise PabulibError("file must start with a META section", line=line)
        if section == "meta":
            if len(row) < 2:
                raise PabulibError("META row needs a key and a value", line=line)
            if len(row) > 2 and any(row[2:]):
                raise PabulibError("META row has more than two fields; quote values containing ';'", line=line)
            key = row[0]
            if not key:
                raise PabulibError("META row has an empty key", line=line)
            if key in meta:
                raise PabulibError(f"META key {key!r} appears twice", line=line)
            meta[key] = row[1]
            continue
        if len(row) != len(header):
            raise PabulibError(
                f"{section.upper()} row has {len(row)} fields, header has {len(header)} (truncated line?)", line=line
            )
        rec = dict(zip(header, row))
        if section == "projects":
            projects.append(_project(rec, line, project_ids))
        else:
            votes.append(_vote(rec, line, vote_type, project_ids, voter_ids))

    missing = [s.upper() for s in _SECTIONS if s not in seen_sections]
    if missing:
        raise PabulibError(f"missing section(s): {', '.join(missing)} (truncated file?)", line=last_line + 1)
    for key, found, what in (("num_projects", len(projects), "projects"), ("num_votes", len(votes), "votes")):
        if key in meta:
            try:
                announced = int(meta[key])
            except ValueError:
                raise PabulibError(f"META {key} is not an integer: {meta[key]!r}") from None
            if announced != found:
                raise PabulibError(
                    f"META announces {announced} {what} but the file has {found} (truncated file?)", line=last_line
                )
    return Election(meta=meta, projects=projects, votes=votes)


def _check_meta(meta: dict[str, str], line: int) -> None:
    for key in ("budget", "vote_type"):
        if key not in meta:
            raise PabulibError(f"META lacks the {key!r} entry", line=line)
    if meta["vote_type"] not in VOTE_TYPES:
        raise PabulibError(f"unsupported vote_type {meta['vote_type']!r}; expected one of {', '.join(VOTE_TYPES)}", line=line)
    budget = _number(meta["budget"], "META budget", line)
    if budget <= 0:
        raise PabulibError(f"META budget must be positive, got {meta['budget']!r}", line=line)


def _project(rec: dict[str, str], line: int, project_ids: set[str]) -> Project:
    pid = rec.pop("project_id")
    if not pid:
        raise PabulibError("empty project_id", line=line)
    if "," in pid:
        raise PabulibError(f"project_id {pid!r} contains a comma", line=line)
    if pid in project_ids:
        raise PabulibError(f"duplicate project_id {pid!r}", line=line)
    raw_cost = rec.pop("cost")
    cost = _number(raw_cost, f"cost of project {pid!r}", line)
    if cost <= 0:
        raise PabulibError(f"cost of project {pid!r} must be positive, got {raw_cost!r}", line=line)
    project_ids.add(pid)
    name = rec.pop("name", None)
    return Project(project_id=pid, cost=cost, name=name, extra=rec)


def _vote(rec: dict[str, str], line: int, vote_type: str, project_ids: set[str], voter_ids: set[str]) -> Vote:
    vid = rec.pop("voter_id")
    if not vid:
        raise PabulibError("empty voter_id", line=line)
    if vid in voter_ids:
        raise PabulibError(f"duplicate voter_id {vid!r}", line=line)
    voter_ids.add(vid)
    raw_vote = rec.pop("vote")
    items = [s.strip() for s in raw_vote.split(",")] if raw_vote else []
    seen: set[str] = set()
    for item in items:
        if item not in project_ids:
            raise PabulibError(f"vote of voter {vid!r} names unknown project {item!r}", line=line)
        if item in seen:
            raise PabulibError(f"vote of voter {vid!r} names project {item!r} twice", line=line)
        seen.add(item)
    if vote_type == "choose-1" and len(items) > 1:
        raise PabulibError(f"choose-1 vote of voter {vid!r} names {len(items)} projects", line=line)
    points = None
    if vote_type in ("cumulative", "scoring"):
        raw_points = rec.pop("points", None)
        if raw_points is None:
            raise PabulibError(f"{vote_type} votes need a 'points' column", line=line)
        parts = [s.strip() for s in raw_points.split(",")] if raw_points else []
        if len(parts) != len(items):
            raise PabulibError(
                f"voter {vid!r} gives {len(parts)} points values for {len(items)} projects", line=line
            )
        points = []
        for item, part in zip(items, parts):
            value = _number(part, f"points of voter {vid!r} for project {item!r}", line)
            if value < 0:
                raise PabulibError(f"points of voter {vid!r} for project {item!r} are negative", line=line)
            points.append(value)
    return Vote(voter_id=vid, items=items, points=points, extra=rec)


def _fmt(value: Number) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def dump(election: Election) -> str:
    """Serialise an :class:`Election` to ``.pb`` text (``\\n`` line endings, fields quoted only when needed).

    ``parse(dump(e)) == e`` for every election produced by :func:`parse`. Columns
    are written as ``project_id;cost[;name]`` then the ``extra`` columns, and
    ``voter_id;vote[;points]`` then the ``extra`` columns.
    """
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    buf.write("META\n")
    w.writerow(["key", "value"])
    for key, value in election.meta.items():
        w.writerow([key, value])

    buf.write("PROJECTS\n")
    extra_cols = _extra_columns(p.extra for p in election.projects)
    has_name = any(p.name is not None for p in election.projects)
    w.writerow(["project_id", "cost"] + (["name"] if has_name else []) + extra_cols)
    for p in election.projects:
        row = [p.project_id, _fmt(p.cost)] + ([p.name or ""] if has_name else [])
        w.writerow(row + [p.extra.get(c, "") for c in extra_cols])

    buf.write("VOTES\n")
    extra_cols = _extra_columns(v.extra for v in election.votes)
    has_points = any(v.points is not None for v in election.votes)
    w.writerow(["voter_id", "vote"] + (["points"] if has_points else []) + extra_cols)
    for v in election.votes:
        row = [v.voter_id, ",".join(v.items)]
        if has_points:
            row.append(",".join(_fmt(x) for x in (v.points or ())))
        w.writerow(row + [v.extra.get(c, "") for c in extra_cols])
    return buf.getvalue()


def _extra_columns(extras) -> list[str]:
    cols: dict[str, None] = {}
    for e in extras:
        for k in e:
            cols.setdefault(k, None)
    return list(cols)
