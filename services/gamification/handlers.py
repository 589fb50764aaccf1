"""Gamification's use cases: book the points of votes, ideas, comments and ballots; hide, restore and
delete what earned them; the rules; leaderboards, scores and the engaged citizens.

Plain functions called with their dependencies: `tx` (a transaction) or `db` (when a use case reads and
then writes), `now` (the clock), `peers` (`peers.ask(service, method, *args)`). The decisions are made by
the pure modules (votes, ledger, badges, ranking, rulebook); the SQL is in store.py.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

from services.common import logs, pagination
from services.common.errors import NotFound, Unavailable, ValidationFailed
from services.gamification import ranking, rulebook, schemas, store, votes

# a profile learnt from an answer of accounts is older than any event of accounts about the user
ASKED_PROFILE_AT = datetime(1970, 1, 1, tzinfo=timezone.utc)


# -- votes -------------------------------------------------------------------------------------------
# A vote stream is this service's busiest input: its events come in batches, the locks of every author
# and voter of a batch are taken at once (in a fixed order), then each vote is booked in turn.
def book_votes(tx, batch: list[tuple], kind: str) -> None:
    """`batch`: (event, city_id, schemas.VoteEvent) of one kind: cast, changed or withdrawn."""
    store.lock_pairs(tx, [(c, u) for _, c, v in batch for u in (v.author_id, v.voter_id)])
    rules = {c: store.rules_of(tx, c) for c in {c for _, c, _ in batch}}
    # badges and levels once per user and batch, from the totals after the whole batch
    touched: dict = {c: {} for c in rules}
    participants: dict = {c: set() for c in rules}
    booked = 0
    for event, city_id, data in batch:
        users, fresh, entries = _vote(tx, event, kind, city_id, data, rules[city_id])
        touched[city_id].update(users)
        participants[city_id].update(fresh)
        booked += entries
    for city_id, city_rules in rules.items():
        _badges_and_levels(tx, city_id, touched[city_id], participants[city_id], city_rules)
    logs.get().info("votes_booked", events=len(batch), entries=booked)


def _vote(tx, event, kind: str, city_id, data: schemas.VoteEvent, rules) -> tuple[dict, list, int]:
    participants = []
    if kind != "withdrawn" and store.record_activity(tx, city_id, data.voter_id, event.occurred_at):
        participants.append(data.voter_id)
    if data.author_id is None:  # content whose author voting did not know: no one earns by it
        logs.get().warning("vote_without_author", vote_id=str(data.vote_id))
        return {}, participants, 0
    key = f"vote:{data.vote_id}"
    row = store.subject_row(tx, city_id, key)
    before = None if row is None else votes.VoteState(row.version, row.value, row.active, row.anchor_at)
    after = votes.apply(before, kind, data.value, data.target_version, event.occurred_at)
    written = []
    if after != before:
        reason = rulebook.vote_reason(data.target_type, after.value)
        written = [store.put_subject(
            tx, city_id, key, replace=True, user_id=data.author_id, kind="vote", reason=reason,
            points=rulebook.vote_points(rules, reason) if row is None or row.value != after.value else row.points,
            active=after.active, target_type=data.target_type, target_id=data.target_id,
            voter_id=data.voter_id, value=after.value, version=after.version, anchor_at=after.anchor_at,
        )]
    touched, booked = _book(tx, event, city_id, [key], rules, known=written)
    return touched, participants, booked


# -- ideas, comments, ballots --------------------------------------------------------------------------
def idea_created(tx, event, city_id, data: schemas.IdeaCreated) -> None:
    _earn(tx, event, city_id, f"idea:{data.idea_id}:posted", data.author_id, "idea_posted",
          ("idea", data.idea_id), data.created_at or event.occurred_at, participated=True)


def idea_status_changed(tx, event, city_id, data: schemas.IdeaStatusChanged) -> None:
    rule = rulebook.STATUS_RULES.get(data.status)
    if rule is not None:
        _earn(tx, event, city_id, f"idea:{data.idea_id}:{data.status}", data.author_id, rule,
              ("idea", data.idea_id), event.occurred_at)


def comment_created(tx, event, city_id, data: schemas.CommentCreated) -> None:
    _earn(tx, event, city_id, f"comment:{data.comment_id}:posted", data.author_id, "comment_posted",
          ("comment", data.comment_id), data.created_at or event.occurred_at, participated=True)


def ballot_submitted(tx, event, city_id, data: schemas.BallotSubmitted) -> None:
    # One award per citizen and budget, however many ballots the budgeting service records.
    _earn(tx, event, city_id, f"ballot:{data.project_id}:{data.user_id}", data.user_id, "ballot_submitted",
          None, event.occurred_at, participated=True)


def _earn(tx, event, city_id, key, user_id, rule, target, at, participated=False) -> None:
    rules = store.lock_users_and_rules(tx, city_id, [user_id])
    store.put_subject(
        tx, city_id, key, replace=False, user_id=user_id, kind=rule, reason=rule,
        points=rules["points"][rule], active=True, anchor_at=at,
        target_type=target[0] if target else None, target_id=target[1] if target else None,
    )
    fresh_day = participated and store.record_activity(tx, city_id, user_id, at)
    _settle(tx, event, city_id, [key], rules, [user_id] if fresh_day else [])


# -- visibility --------------------------------------------------------------------------------------
def idea_deleted(tx, event, city_id, data: schemas.IdeaDeleted) -> None:
    # the author's lock first: a vote on the idea settling at the same time sees the tombstone
    store.lock_users(tx, city_id, [data.author_id])
    store.tombstone(tx, city_id, "idea", data.idea_id)
    _resettle_target(tx, event, city_id, "idea", data.idea_id, data.author_id)


def visibility(tx, event, city_id, data: schemas.ContentVisibility, hidden: bool) -> None:
    store.lock_users(tx, city_id, [data.author_id])
    if store.set_hidden(tx, city_id, data.target_type, data.target_id, hidden, event.occurred_at):
        _resettle_target(tx, event, city_id, data.target_type, data.target_id, data.author_id)


def _resettle_target(tx, event, city_id, target_type, target_id, author_id) -> None:
    rules = store.rules_of(tx, city_id)
    found = store.keys_of_target(tx, city_id, target_type, target_id)
    store.lock_users(tx, city_id, {author_id, *(r.user_id for r in found)})
    _settle(tx, event, city_id, [r.key for r in found], rules, [])


def profile(tx, event, city_id, data: schemas.ProfileEvent) -> None:
    store.set_profile(tx, city_id, data.user_id, data.display_name, event.occurred_at)


# -- the common tail: book, announce, badges, levels -----------------------------------------------------
def _settle(tx, event, city_id, keys, rules, participants) -> None:
    touched, booked = _book(tx, event, city_id, keys, rules)
    _badges_and_levels(tx, city_id, touched, participants, rules)
    if booked:
        logs.get().info("points_booked", entries=booked, users=len(touched))


def _book(tx, event, city_id, keys, rules, known=None) -> tuple[dict, int]:
    """Book what the subjects are worth now and announce it; ({user_id: total after}, entries)."""
    booked = store.settle(tx, city_id, keys, event.event_id, rules, known)
    touched = {}
    for entry in booked:
        tx.emit("gamification.points_awarded", city_id=city_id, actor_id=entry["user_id"], data={
            "user_id": entry["user_id"], "points": entry["points"], "total": entry["total"],
            "reason": entry["reason"], "source_event_id": event.event_id,
        })
        touched[entry["user_id"]] = entry["total"]
    return touched, len(booked)


def _badges_and_levels(tx, city_id, touched: dict, participants, rules) -> None:
    for user_id in {*touched, *participants}:
        for badge, level in store.check_badges(tx, city_id, user_id, rules):
            tx.emit("gamification.badge_earned", city_id=city_id, actor_id=user_id,
                    data={"user_id": user_id, "badge": badge, "level": level})
    for user_id, total in touched.items():
        level = store.ensure_user_at_level(tx, city_id, user_id, total, rules)
        if level:
            tx.emit("gamification.level_up", city_id=city_id, actor_id=user_id,
                    data={"user_id": user_id, "level": level, "total": total})


# -- the rules ---------------------------------------------------------------------------------------
def get_rules(session, city_id) -> dict:
    return rulebook.describe(store.rules_of(session, city_id))


def update_rules(tx, me, change: schemas.RulesChange) -> dict:
    rules = store.save_rules(tx, me.city_id, change.model_dump(exclude_none=True), me.user_id)
    return rulebook.describe(rules)


# -- reads -------------------------------------------------------------------------------------------
def leaderboard(db, city_id, q: schemas.LeaderboardQuery, *, now: datetime, peers) -> dict:
    key = ranking.period_key(q.period, now)
    after = pagination.decode(q.cursor)
    position = 0
    if after is not None:
        if len(after) != 4 or after[3] != key:
            raise ValidationFailed("The cursor is not valid.",
                                   [{"field": "cursor", "issue": "not a cursor of this leaderboard"}])
        position = int(after[2])
        after = after[:2]
    with db.read() as s:
        rows = store.leaderboard(s, city_id, key, q.limit, after)
        more, rows = len(rows) > q.limit, rows[: q.limit]
        first = 1 + store.users_above(s, city_id, key, rows[0].points) if rows else 1
    names = _names(db, peers, city_id, {str(r.user_id): r.display_name for r in rows})
    rank_list = ranking.ranks([r.points for r in rows], first, position)
    items = [
        {"rank": rank, "user": {"id": str(r.user_id), "display_name": names.get(str(r.user_id))}, "points": r.points}
        for rank, r in zip(rank_list, rows)
    ]
    cursor = None
    if more and rows:
        cursor = pagination.encode([rows[-1].points, str(rows[-1].user_id), position + len(rows), key])
    return {"period": q.period, "period_key": key, "items": items, "next_cursor": cursor}


def score(db, city_id, user_id, q: schemas.ScoreQuery, *, now: datetime, peers) -> dict:
    """A user's points, rank, level and badges; 404 for a user who is not one of the city's."""
    with db.read() as s:
        known = store.user_known(s, city_id, user_id)
    if not known:
        _learn_user(db, peers, city_id, user_id)
    key = ranking.period_key(q.period, now)
    with db.read() as s:
        points = store.points_of(s, city_id, key, user_id)
        return {
            "user_id": str(user_id), "period": q.period, "points": points,
            "rank": 1 + store.users_above(s, city_id, key, points),
            "level": store.level_of(s, city_id, user_id), "badges": store.badges_of(s, city_id, user_id),
        }


def _learn_user(db, peers, city_id, user_id) -> None:
    """A user not seen here yet (accounts' event may be on its way) is asked of accounts once."""
    found = peers.ask("accounts", "get_profiles", str(city_id), [str(user_id)])
    if not found:
        raise NotFound("No such user.")
    _remember_names(db, city_id, found)


def engaged(db, me, q: schemas.EngagedQuery, *, now: datetime, peers) -> dict:
    end = _utc(q.to) if q.to else now
    start = _utc(q.from_) if q.from_ else end - timedelta(days=30)
    if start >= end:
        raise ValidationFailed("The period is not valid.", [{"field": "from", "issue": "must be before 'to'"}])
    with db.read() as s:
        rows = store.engaged(s, me.city_id, start, end, q.limit)
    names = _names(db, peers, me.city_id, {r["user_id"]: r["display_name"] for r in rows})
    for rank, row in zip(ranking.ranks([r["points"] for r in rows]), rows):
        row["rank"] = rank
        row["display_name"] = names.get(row["user_id"])
    body = {"from": start.isoformat(), "to": end.isoformat(), "items": rows}
    if q.format == "csv":
        return {"csv": engaged_csv(rows), "from": body["from"], "to": body["to"]}
    return body


def _names(db, peers, city_id, names: dict) -> dict:
    """`names` ({user_id: display_name or None}) completed: names not learnt from accounts' events yet
    are asked of accounts once. Names are a nicety: when accounts cannot answer, the list goes without."""
    missing = [u for u, n in names.items() if n is None]
    if not missing:
        return names
    try:
        found = peers.ask("accounts", "get_profiles", str(city_id), missing)
    except Unavailable as exc:
        logs.get().warning("display_names_unavailable", error=exc.message)
        return names
    _remember_names(db, city_id, found)
    return {**names, **{str(p["user_id"]): p["display_name"] for p in found}}


def _remember_names(db, city_id, profiles: list[dict]) -> None:
    with db.transaction() as tx:
        for p in profiles:
            store.set_profile(tx, city_id, p["user_id"], p["display_name"], ASKED_PROFILE_AT)


CSV_COLUMNS = ["rank", "user_id", "display_name", "points", *store.ENGAGED_REASONS]


def engaged_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "display_name": _safe_cell(row.get("display_name") or "")})
    return out.getvalue()


def _safe_cell(value: str) -> str:
    """Citizen-chosen text opened in a spreadsheet must not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)
