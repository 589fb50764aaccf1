"""The gamification tables at work: subjects settled into the ledger, totals, badges, reads.

Every function takes the transaction (or read session) of the caller and filters by city. The
decisions are made by the pure modules (votes, ledger, badges, ranking, rulebook); this module only
loads their inputs and writes their outcome.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.gamification import badges as badge_logic
from services.gamification import ranking
from services.gamification import rulebook
from services.gamification.ledger import Subject, deltas
from services.gamification.models import (
    badges, city_rules, ledger, subjects, targets, totals, users,
)


# -- rules -------------------------------------------------------------------------------------------
def rules_of(session, city_id) -> dict:
    row = session.execute(select(city_rules.c.overrides).where(city_rules.c.city_id == city_id)).first()
    return rulebook.effective(row.overrides if row else None)


def save_rules(tx, city_id, change: dict, user_id) -> dict:
    row = tx.execute(
        select(city_rules.c.overrides).where(city_rules.c.city_id == city_id).with_for_update()
    ).first()
    merged = rulebook.merge_overrides(row.overrides if row else None, change)
    stmt = pg_insert(city_rules).values(city_id=city_id, overrides=merged, updated_by=user_id)
    tx.execute(stmt.on_conflict_do_update(
        index_elements=[city_rules.c.city_id],
        set_={"overrides": merged, "updated_by": user_id, "updated_at": func.now()},
    ))
    return rulebook.effective(merged)


# -- locking -----------------------------------------------------------------------------------------
_LOCK = text(
    "SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) "
    "FROM unnest(CAST(:keys AS text[])) WITH ORDINALITY AS u(k, n)"
)


def _user_keys(pairs) -> list[str]:
    """The lock keys of (city_id, user_id) pairs, in the one order every transaction takes them."""
    return sorted({f"gam:{c}:{u}" for c, u in pairs if u is not None})


def lock_users(tx, city_id, user_ids) -> None:
    """Serialise point changes per user (cap groups, totals, badges), in a fixed order: no deadlocks.

    One statement for all the users: the keys are taken in the order given (sorted here), row by row."""
    lock_pairs(tx, [(city_id, u) for u in user_ids])


def lock_pairs(tx, pairs) -> None:
    """`lock_users` for (city_id, user_id) pairs of several cities at once, in the same fixed order."""
    keys = _user_keys(pairs)
    if keys:
        tx.execute(_LOCK, {"keys": keys})


_LOCK_AND_RULES = text(
    "SELECT (SELECT overrides FROM gamification.city_rules WHERE city_id = :c) AS overrides "
    "FROM (SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) AS locked "
    "      FROM unnest(CAST(:keys AS text[])) WITH ORDINALITY AS u(k, n)) AS l"
)


def lock_users_and_rules(tx, city_id, user_ids) -> dict:
    """`lock_users`, then `rules_of` (read once the locks are held), in one statement."""
    row = tx.execute(_LOCK_AND_RULES, {"c": city_id, "keys": _user_keys((city_id, u) for u in user_ids)}).one()
    return rulebook.effective(row.overrides)


# -- subjects ----------------------------------------------------------------------------------------
# The statements of a vote's booking are plain SQL constants: they run once or more for every vote, and
# as text() they go straight to the database driver (services/common/rawsql.py).
# Columns by name, never `*`: a prepared statement's result may not change shape when a migration
# adds a column while the service runs.
_ALL = ", ".join(c.name for c in subjects.columns)


def _with_visibility(from_item: str, alias: str) -> str:
    """SELECT the subject columns of `alias` (named in `from_item`) and whether its content is hidden
    or deleted (`invisible`): the rows every settlement reads."""
    columns = ", ".join(f"{alias}.{c.name}" for c in subjects.columns)
    return (f"SELECT {columns}, COALESCE(t.hidden OR t.deleted, false) AS invisible FROM {from_item} "
            f"LEFT JOIN gamification.targets t ON t.city_id = {alias}.city_id "
            f"AND t.target_type = {alias}.target_type AND t.target_id = {alias}.target_id")
_SUBJECT = text(f"SELECT {_ALL} FROM gamification.subjects WHERE city_id = :c AND key = :key FOR UPDATE")

_SUBJECT_COLUMNS = ("user_id", "kind", "reason", "points", "active", "target_type", "target_id", "voter_id",
                    "value", "version", "anchor_at")
_PUT_SUBJECT = (
    "INSERT INTO gamification.subjects (city_id, key, day, " + ", ".join(_SUBJECT_COLUMNS) + ") "
    "VALUES (:c, :key, :day, " + ", ".join(f":{c}" for c in _SUBJECT_COLUMNS) + ") ON CONFLICT (city_id, key) "
)
# replacing: all but the subject's owner, kind and moment (its day and period) follow the new state
_PUT_SUBJECT_REPLACING = text("WITH up AS (" + _PUT_SUBJECT + "DO UPDATE SET " + ", ".join(
    f"{c} = EXCLUDED.{c}" for c in _SUBJECT_COLUMNS if c not in ("user_id", "kind", "anchor_at")
) + f", updated_at = now() RETURNING {_ALL}) " + _with_visibility("up", "up"))
_PUT_SUBJECT_KEEPING = text(_PUT_SUBJECT + "DO NOTHING")


def subject_row(tx, city_id, key: str):
    return tx.execute(_SUBJECT, {"c": city_id, "key": key}).first()


def put_subject(tx, city_id, key: str, *, replace: bool, **values):
    """Insert a subject; when it exists, keep it (`replace=False`) or overwrite the given fields and
    return its row as written, with whether its content is hidden or deleted (`invisible`)."""
    unknown = set(values) - set(_SUBJECT_COLUMNS)
    if unknown:
        raise TypeError(f"not subject columns: {sorted(unknown)}")
    day = values["anchor_at"].astimezone(timezone.utc).date()
    params = {**dict.fromkeys(_SUBJECT_COLUMNS), **values, "c": city_id, "key": key, "day": day}
    if replace:
        return tx.execute(_PUT_SUBJECT_REPLACING, params).one()
    tx.execute(_PUT_SUBJECT_KEEPING, params)
    return None


def keys_of_target(tx, city_id, target_type: str, target_id) -> list:
    return tx.execute(
        select(subjects.c.key, subjects.c.user_id)
        .where(subjects.c.city_id == city_id, subjects.c.target_type == target_type,
               subjects.c.target_id == target_id)
    ).all()


def tombstone(tx, city_id, target_type: str, target_id) -> None:
    """Content deleted for good (its points are reversed, and stay so whatever arrives later)."""
    stmt = pg_insert(targets).values(city_id=city_id, target_type=target_type, target_id=target_id, deleted=True)
    tx.execute(stmt.on_conflict_do_update(
        index_elements=[targets.c.city_id, targets.c.target_type, targets.c.target_id], set_={"deleted": True}
    ))


def set_hidden(tx, city_id, target_type: str, target_id, hidden: bool, at: datetime) -> bool:
    """Hide or restore content; the latest decision wins whatever the order of arrival. True if applied."""
    stmt = pg_insert(targets).values(
        city_id=city_id, target_type=target_type, target_id=target_id, hidden=hidden, hidden_changed_at=at
    )
    row = tx.execute(stmt.on_conflict_do_update(
        index_elements=[targets.c.city_id, targets.c.target_type, targets.c.target_id],
        set_={"hidden": hidden, "hidden_changed_at": at},
        where=or_(targets.c.hidden_changed_at.is_(None), targets.c.hidden_changed_at < at),
    ).returning(targets.c.hidden)).first()
    return row is not None


def _as_subject(row) -> Subject:
    return Subject(
        key=row.key, user_id=str(row.user_id), kind=row.kind, points=row.points, active=row.active,
        awarded=row.awarded, target=(row.target_type, str(row.target_id)) if row.target_id else None,
        voter_id=str(row.voter_id) if row.voter_id else None, value=row.value, anchor_at=row.anchor_at,
    )


# The subjects to settle and whether their content is hidden or deleted (by key), then the other votes
# of each cap group (same voter, author and day) by those values: statements whose plans are an index
# lookup each, whatever the table's statistics say (a young table has none).
_SUBJECTS = text(
    _with_visibility("gamification.subjects s", "s")
    + " WHERE s.city_id = :c AND s.key = ANY(CAST(:keys AS text[]))"
)
_CAP_GROUP = text(
    _with_visibility("gamification.subjects s", "s")
    + " WHERE s.city_id = :c AND s.kind = 'vote' AND s.voter_id = :voter AND s.user_id = :user AND s.day = :day"
    " AND s.key <> ALL(CAST(:keys AS text[]))"
)


def _settle_read(tx, city_id, keys: list[str], known: list) -> list:
    rows = [r for r in known if r.key in keys]
    unread = [k for k in keys if k not in {r.key for r in rows}]
    if unread:
        rows += tx.execute(_SUBJECTS, {"c": city_id, "keys": unread}).all()
    groups = sorted({(str(r.voter_id), str(r.user_id), r.day) for r in rows if r.kind == "vote" and r.voter_id})
    for voter, user, day in groups:  # one for a vote; a hidden idea's votes may span a few
        rows += tx.execute(_CAP_GROUP, {"c": city_id, "keys": keys, "voter": voter, "user": user, "day": day}).all()
    return rows


def settle(tx, city_id, keys: list[str], source_event_id, rules: dict, known: list | None = None) -> list[dict]:
    """Book what the given subjects (and the cap groups of the votes among them) are worth now;
    `known` are rows of some of them just written (with `invisible`), not read again.

    Returns the ledger entries booked: [{user_id, points, reason, subject_key, total}].
    """
    if not keys:
        return []
    # the subjects, the other votes of their cap groups (same voter, author and day), and whether the
    # content of each is hidden or deleted
    rows = _settle_read(tx, city_id, list(keys), known or [])
    by_key = {r.key: r for r in rows}
    hidden = {(r.target_type, str(r.target_id)) for r in rows if r.target_id is not None and r.invisible}
    booked = []
    for subject, delta, counts in deltas([_as_subject(r) for r in rows], hidden, rules["daily_cap_per_pair"]):
        row = by_key[subject.key]
        if delta == 0 and counts == row.counts:
            continue
        counters = counter_names(row.kind, row.target_type) if counts != row.counts else ()
        total = book(tx, city_id, row, delta, source_event_id, counts=counts, counters=counters)
        if delta:
            booked.append({"user_id": row.user_id, "points": delta, "subject_key": row.key,
                           "reason": rulebook.booked_as(row.kind, row.reason, row.target_type),
                           "total": total})
    return booked


def book(tx, city_id, row, delta: int, source_event_id, *, counts: bool, counters=()) -> int | None:
    """A subject's new worth in one statement: `delta` more points awarded for it (a ledger entry and the
    user's totals of every period it falls in), whether it `counts` now and the badge `counters` that
    changed with that. Returns the user's all-time total after it (None when `delta` is 0)."""
    totals = tx.execute(_SETTLE, {
        "c": city_id, "key": row.key, "u": row.user_id, "awarded": row.awarded + delta, "counts": counts,
        "names": list(counters), "dn": 1 if counts else -1, "d": delta,
        "reason": rulebook.booked_as(row.kind, row.reason, row.target_type),
        "source": source_event_id, "at": row.anchor_at, "periods": list(ranking.period_keys(row.anchor_at)),
    }).all()
    return next((r.points for r in totals if r.period == "all"), None)


def counter_names(kind: str, target_type: str | None) -> tuple[str, ...]:
    """The badge counters a counting subject adds to."""
    return (kind, "comment_vote") if kind == "vote" and target_type == "comment" else (kind,)


# What a subject's new worth changes, in one statement: the subject (awarded, counts), the badge
# counters when it starts or stops counting (`names`, by `dn`), and when points change (`d`), a ledger
# entry and the user's totals of every period it falls in, whose new values it returns.
_SETTLE = text(
    """
    WITH s AS (
        UPDATE gamification.subjects SET awarded = :awarded, counts = :counts, updated_at = now()
        WHERE city_id = :c AND key = :key
    ), k AS (
        INSERT INTO gamification.counters AS k (city_id, user_id, name, n)
        SELECT CAST(:c AS uuid), CAST(:u AS uuid), name, CAST(:dn AS integer)
        FROM unnest(CAST(:names AS text[])) AS name
        ON CONFLICT (city_id, user_id, name) DO UPDATE SET n = k.n + EXCLUDED.n
    ), l AS (
        INSERT INTO gamification.ledger (city_id, user_id, points, reason, subject_key, source_event_id, earned_at)
        SELECT CAST(:c AS uuid), CAST(:u AS uuid), CAST(:d AS integer), CAST(:reason AS text), CAST(:key AS text),
               CAST(:source AS uuid), CAST(:at AS timestamptz)
        WHERE CAST(:d AS integer) <> 0
    )
    INSERT INTO gamification.totals AS t (city_id, period, user_id, points)
    SELECT CAST(:c AS uuid), p, CAST(:u AS uuid), CAST(:d AS integer) FROM unnest(CAST(:periods AS text[])) AS p
    WHERE CAST(:d AS integer) <> 0
    ON CONFLICT (city_id, period, user_id) DO UPDATE SET points = t.points + EXCLUDED.points
    RETURNING period, points
    """
)


# -- users, activity, badges, levels ------------------------------------------------------------------
def set_profile(tx, city_id, user_id, display_name: str, at: datetime) -> None:
    stmt = pg_insert(users).values(city_id=city_id, user_id=user_id, display_name=display_name, profile_at=at)
    tx.execute(stmt.on_conflict_do_update(
        index_elements=[users.c.city_id, users.c.user_id],
        set_={"display_name": display_name, "profile_at": at},
        where=or_(users.c.profile_at.is_(None), users.c.profile_at <= at),
    ))


_ACTIVITY = text(
    "INSERT INTO gamification.activity_days (city_id, user_id, day) VALUES (:c, :u, :day) "
    "ON CONFLICT DO NOTHING RETURNING day"
)


def record_activity(tx, city_id, user_id, at: datetime) -> bool:
    """Note a day of participation; True when the day is new for the user."""
    day = at.astimezone(timezone.utc).date()
    return tx.execute(_ACTIVITY, {"c": city_id, "u": user_id, "day": day}).first() is not None


# What the badges of one user count, in one statement: the counters (subjects that count, by kind, and
# votes on comments), distinct ideas accepted or implemented, the days of participation and the levels held.
_BADGE_FACTS = text(
    """
    SELECT
        (SELECT COALESCE(jsonb_object_agg(name, n), '{}'::jsonb) FROM gamification.counters
            WHERE city_id = :c AND user_id = :u) AS kinds,
        (SELECT count(DISTINCT target_id) FROM gamification.subjects
            WHERE city_id = :c AND user_id = :u AND counts AND kind IN ('idea_accepted', 'idea_implemented')
        ) AS accepted,
        (SELECT COALESCE(array_agg(day), '{}') FROM gamification.activity_days
            WHERE city_id = :c AND user_id = :u) AS days,
        (SELECT COALESCE(jsonb_object_agg(badge, level), '{}'::jsonb) FROM (
            SELECT badge, max(level) AS level FROM gamification.badges
            WHERE city_id = :c AND user_id = :u GROUP BY badge) h) AS held
    """
)


def check_badges(tx, city_id, user_id, rules: dict) -> list[tuple[str, int]]:
    """Store and return the badge levels the user has newly reached."""
    facts = tx.execute(_BADGE_FACTS, {"c": city_id, "u": user_id}).one()
    kinds = facts.kinds
    counts = badge_logic.badge_counts(
        ideas_posted=kinds.get("idea_posted", 0), upvotes_received=kinds.get("vote", 0),
        comment_upvotes=kinds.get("comment_vote", 0), ideas_accepted=facts.accepted,
        streak=badge_logic.longest_streak(facts.days),
    )
    earned = []
    for badge, level in badge_logic.new_levels(counts, rules["badges"], facts.held):
        if tx.execute(_BADGE, {"c": city_id, "u": user_id, "badge": badge, "level": level}).first():
            earned.append((badge, level))
    return earned


_BADGE = text(
    "INSERT INTO gamification.badges (city_id, user_id, badge, level) VALUES (:c, :u, :badge, :level) "
    "ON CONFLICT DO NOTHING RETURNING level"
)


_ENSURE_AND_RAISE = text(
    """
    INSERT INTO gamification.users AS u (city_id, user_id, level) VALUES (:c, :u, :level)
    ON CONFLICT (city_id, user_id) DO UPDATE SET level = EXCLUDED.level WHERE u.level < EXCLUDED.level
    RETURNING level
    """
)


def ensure_user_at_level(tx, city_id, user_id, total: int | None, rules: dict) -> int | None:
    """In one statement: the user's row exists, and its level is raised when `total` reaches one above
    the highest so far; returns the new level, else None."""
    level = badge_logic.level_for(total, rules["levels"]) if total is not None else 0
    row = tx.execute(_ENSURE_AND_RAISE, {"c": city_id, "u": user_id, "level": level}).first()
    return row.level if row is not None and level > 0 else None


# -- reads -------------------------------------------------------------------------------------------
def leaderboard(session, city_id, period_key: str, limit: int, after: list | None):
    """Up to limit+1 rows `(user_id, points, display_name)` by points, then user id; after a keyset."""
    q = (
        select(totals.c.user_id, totals.c.points, users.c.display_name)
        .select_from(totals.outerjoin(users, and_(users.c.city_id == totals.c.city_id,
                                                    users.c.user_id == totals.c.user_id)))
        .where(totals.c.city_id == city_id, totals.c.period == period_key, totals.c.points > 0)
        .order_by(totals.c.points.desc(), totals.c.user_id)
        .limit(limit + 1)
    )
    if after:
        points, user_id = after
        q = q.where(or_(totals.c.points < points, and_(totals.c.points == points, totals.c.user_id > user_id)))
    return session.execute(q).all()


def users_above(session, city_id, period_key: str, points: int) -> int:
    return session.execute(
        select(func.count()).select_from(totals)
        .where(totals.c.city_id == city_id, totals.c.period == period_key, totals.c.points > points)
    ).scalar_one()


def points_of(session, city_id, period_key: str, user_id) -> int:
    row = session.execute(
        select(totals.c.points)
        .where(totals.c.city_id == city_id, totals.c.period == period_key, totals.c.user_id == user_id)
    ).first()
    return row.points if row else 0


def badges_of(session, city_id, user_id) -> list[dict]:
    rows = session.execute(
        select(badges.c.badge, badges.c.level, badges.c.earned_at)
        .where(badges.c.city_id == city_id, badges.c.user_id == user_id)
        .order_by(badges.c.badge, badges.c.level.desc())
        .distinct(badges.c.badge)
    ).all()
    return [{"badge": r.badge, "level": r.level, "earned_at": r.earned_at.isoformat()} for r in rows]


def user_known(session, city_id, user_id) -> bool:
    """Whether the user is known here as one of the city's (from accounts' events or points earned)."""
    return session.execute(
        select(users.c.user_id).where(users.c.city_id == city_id, users.c.user_id == user_id)
    ).first() is not None


def level_of(session, city_id, user_id) -> int:
    row = session.execute(
        select(users.c.level).where(users.c.city_id == city_id, users.c.user_id == user_id)
    ).first()
    return row.level if row else 0


ENGAGED_REASONS = ("idea_posted", "comment_posted", "idea_upvoted", "comment_upvoted", "idea_accepted",
                   "idea_implemented", "ballot_submitted")


def engaged(session, city_id, start: datetime, end: datetime, limit: int) -> list[dict]:
    """Citizens by points earned in [start, end), with the net count of each kind of award."""
    net = {
        reason: func.coalesce(func.sum(func.sign(ledger.c.points)).filter(ledger.c.reason == reason), 0)
        for reason in ENGAGED_REASONS
    }
    points = func.sum(ledger.c.points)
    q = (
        select(ledger.c.user_id, points.label("points"), *(v.label(k) for k, v in net.items()))
        .where(ledger.c.city_id == city_id, ledger.c.earned_at >= start, ledger.c.earned_at < end)
        .group_by(ledger.c.user_id)
        .having(points > 0)
        .order_by(points.desc(), ledger.c.user_id)
        .limit(limit)
        .subquery()
    )
    rows = session.execute(
        select(q, users.c.display_name)
        .select_from(q.outerjoin(users, and_(users.c.city_id == city_id, users.c.user_id == q.c.user_id)))
        .order_by(q.c.points.desc(), q.c.user_id)
    ).all()
    out = []
    for row in rows:
        item = {"user_id": str(row.user_id), "display_name": row.display_name, "points": int(row.points)}
        item.update({k: int(getattr(row, k)) for k in ENGAGED_REASONS})
        out.append(item)
    return out
