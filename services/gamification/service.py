"""Gamification: a points ledger fed by votes, ideas, comments and ballots; badges; leaderboards."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta, timezone

import eventlet
from nameko.rpc import RpcProxy

from services.common import auth, logs, pagination
from services.common.db import Database
from services.common.entrypoints import on_event, on_events, rpc
from services.common.errors import ValidationFailed, validate
from services.common.observability import Observability
from services.common.outbox import OutboxRelay
from services.gamification import ranking, schemas, store, votes
from services.gamification import rules as rule_book
from services.gamification.models import metadata

NAME_LOOKUP_SECONDS = 1.0


class GamificationService:
    name = "gamification"

    db = Database(metadata)
    outbox = OutboxRelay(metadata)
    obs = Observability()
    accounts = RpcProxy("accounts")

    # -- votes -------------------------------------------------------------------------------------
    # A vote stream is this service's busiest input: its events come in batches, the locks of every
    # author and voter of a batch are taken at once (in a fixed order), then each vote is booked in turn.
    @on_events("voting", "vote_cast")
    def on_vote_cast(self, tx, events):
        self._votes(tx, events, "cast")

    @on_events("voting", "vote_changed")
    def on_vote_changed(self, tx, events):
        self._votes(tx, events, "changed")

    @on_events("voting", "vote_withdrawn")
    def on_vote_withdrawn(self, tx, events):
        self._votes(tx, events, "withdrawn")

    def _votes(self, tx, events, kind: str):
        batch = [(event, _city(event), validate(schemas.VoteEvent, event.data)) for event in events]
        store.lock_pairs(tx, [(c, u) for _, c, v in batch for u in (v.author_id, v.voter_id)])
        rules = {c: store.rules_of(tx, c) for c in {c for _, c, _ in batch}}
        # badges and levels once per user and batch, from the totals after the whole batch
        touched: dict = {c: {} for c in rules}
        participants: dict = {c: set() for c in rules}
        booked = 0
        for event, city_id, data in batch:
            users, fresh, entries = self._vote(tx, event, kind, city_id, data, rules[city_id])
            touched[city_id].update(users)
            participants[city_id].update(fresh)
            booked += entries
        for city_id, city_rules in rules.items():
            self._badges_and_levels(tx, city_id, touched[city_id], participants[city_id], city_rules)
        logs.get().info("votes_booked", events=len(batch), entries=booked)

    def _vote(self, tx, event, kind: str, city_id, data, rules) -> tuple[dict, list, int]:
        key = f"vote:{data.vote_id}"
        row = store.subject_row(tx, city_id, key)
        before = None if row is None else votes.VoteState(row.version, row.value, row.active, row.anchor_at)
        after = votes.apply(before, kind, data.value, data.target_version, event.occurred_at)
        written = []
        if after != before:
            reason = f"{data.target_type}_upvoted"
            written = [store.put_subject(
                tx, city_id, key, replace=True, user_id=data.author_id, kind="vote", reason=reason,
                points=rules["points"][reason] if row is None or row.value != after.value else row.points,
                active=after.active, target_type=data.target_type, target_id=data.target_id,
                voter_id=data.voter_id, value=after.value, version=after.version, anchor_at=after.anchor_at,
            )]
        participants = []
        if kind != "withdrawn" and store.record_activity(tx, city_id, data.voter_id, event.occurred_at):
            participants.append(data.voter_id)
        touched, booked = self._book(tx, event, city_id, [key], rules, known=written)
        return touched, participants, booked

    # -- ideas and comments -------------------------------------------------------------------------
    @on_event("ideas", "idea_created")
    def on_idea_created(self, tx, event):
        city_id, data = _city(event), validate(schemas.IdeaCreated, event.data)
        at = data.created_at or event.occurred_at
        self._earn(tx, event, city_id, f"idea:{data.idea_id}:posted", data.author_id, "idea_posted",
                   ("idea", data.idea_id), at, participated=True)

    @on_event("ideas", "idea_status_changed")
    def on_idea_status_changed(self, tx, event):
        city_id, data = _city(event), validate(schemas.IdeaStatusChanged, event.data)
        rule = rule_book.STATUS_RULES.get(data.status)
        if rule is not None:
            self._earn(tx, event, city_id, f"idea:{data.idea_id}:{data.status}", data.author_id, rule,
                       ("idea", data.idea_id), event.occurred_at)

    @on_event("ideas", "comment_created")
    def on_comment_created(self, tx, event):
        city_id, data = _city(event), validate(schemas.CommentCreated, event.data)
        at = data.created_at or event.occurred_at
        self._earn(tx, event, city_id, f"comment:{data.comment_id}:posted", data.author_id, "comment_posted",
                   ("comment", data.comment_id), at, participated=True)

    @on_event("budgeting", "ballot_submitted")
    def on_ballot_submitted(self, tx, event):
        city_id, data = _city(event), validate(schemas.BallotSubmitted, event.data)
        # One award per citizen and budget, however many ballots the budgeting service records.
        self._earn(tx, event, city_id, f"ballot:{data.project_id}:{data.user_id}", data.user_id,
                   "ballot_submitted", None, event.occurred_at, participated=True)

    def _earn(self, tx, event, city_id, key, user_id, rule, target, at, participated=False):
        rules = store.lock_users_and_rules(tx, city_id, [user_id])
        store.put_subject(
            tx, city_id, key, replace=False, user_id=user_id, kind=rule, reason=rule,
            points=rules["points"][rule], active=True, anchor_at=at,
            target_type=target[0] if target else None, target_id=target[1] if target else None,
        )
        fresh_day = participated and store.record_activity(tx, city_id, user_id, at)
        self._settle(tx, event, city_id, [key], rules, [user_id] if fresh_day else [])

    # -- visibility ----------------------------------------------------------------------------------
    @on_event("ideas", "idea_deleted")
    def on_idea_deleted(self, tx, event):
        city_id, data = _city(event), validate(schemas.IdeaDeleted, event.data)
        # the author's lock first: a vote on the idea settling at the same time sees the tombstone
        store.lock_users(tx, city_id, [data.author_id])
        store.tombstone(tx, city_id, "idea", data.idea_id)
        self._resettle_target(tx, event, city_id, "idea", data.idea_id, data.author_id)

    @on_event("ideas", "content_hidden")
    def on_content_hidden(self, tx, event):
        self._visibility(tx, event, hidden=True)

    @on_event("ideas", "content_restored")
    def on_content_restored(self, tx, event):
        self._visibility(tx, event, hidden=False)

    def _visibility(self, tx, event, hidden: bool):
        city_id, data = _city(event), validate(schemas.ContentVisibility, event.data)
        store.lock_users(tx, city_id, [data.author_id])
        if store.set_hidden(tx, city_id, data.target_type, data.target_id, hidden, event.occurred_at):
            self._resettle_target(tx, event, city_id, data.target_type, data.target_id, data.author_id)

    def _resettle_target(self, tx, event, city_id, target_type, target_id, author_id):
        rules = store.rules_of(tx, city_id)
        found = store.keys_of_target(tx, city_id, target_type, target_id)
        store.lock_users(tx, city_id, {author_id, *(r.user_id for r in found)})
        self._settle(tx, event, city_id, [r.key for r in found], rules, [])

    # -- profiles ------------------------------------------------------------------------------------
    @on_event("accounts", "user_registered")
    def on_user_registered(self, tx, event):
        self._profile(tx, event)

    @on_event("accounts", "user_updated")
    def on_user_updated(self, tx, event):
        self._profile(tx, event)

    def _profile(self, tx, event):
        city_id, data = _city(event), validate(schemas.ProfileEvent, event.data)
        store.set_profile(tx, city_id, data.user_id, data.display_name, event.occurred_at)

    # -- the common tail: book, announce, badges, levels ----------------------------------------------
    def _settle(self, tx, event, city_id, keys, rules, participants):
        touched, booked = self._book(tx, event, city_id, keys, rules)
        self._badges_and_levels(tx, city_id, touched, participants, rules)
        if booked:
            logs.get().info("points_booked", entries=booked, users=len(touched))

    def _book(self, tx, event, city_id, keys, rules, known=None) -> tuple[dict, int]:
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

    def _badges_and_levels(self, tx, city_id, touched: dict, participants, rules) -> None:
        for user_id in {*touched, *participants}:
            for badge, level in store.check_badges(tx, city_id, user_id, rules):
                tx.emit("gamification.badge_earned", city_id=city_id, actor_id=user_id,
                        data={"user_id": user_id, "badge": badge, "level": level})
        for user_id, total in touched.items():
            level = store.ensure_user_at_level(tx, city_id, user_id, total, rules)
            if level:
                tx.emit("gamification.level_up", city_id=city_id, actor_id=user_id,
                        data={"user_id": user_id, "level": level, "total": total})

    # -- reads ---------------------------------------------------------------------------------------
    @rpc
    def get_rules(self, city_id: str) -> dict:
        city_id = _city_id(city_id)
        with self.db.read() as s:
            return rule_book.describe(store.rules_of(s, city_id))

    @rpc
    def update_rules(self, principal: dict, city_id: str, payload: dict) -> dict:
        me = auth.principal_of(principal).require("admin").require_city(city_id)
        change = validate(schemas.RulesChange, payload).model_dump(exclude_none=True)
        with self.db.transaction() as tx:
            rules = store.save_rules(tx, me.city_id, change, me.user_id)
        return rule_book.describe(rules)

    @rpc
    def leaderboard(self, city_id: str, query: dict | None = None) -> dict:
        city_id = _city_id(city_id)
        q = validate(schemas.LeaderboardQuery, query or {})
        key = ranking.period_key(q.period, datetime.now(timezone.utc))
        after = pagination.decode(q.cursor)
        position = 0
        if after is not None:
            if len(after) != 4 or after[3] != key:
                raise ValidationFailed("The cursor is not valid.",
                                       [{"field": "cursor", "issue": "not a cursor of this leaderboard"}])
            position = int(after[2])
            after = after[:2]
        with self.db.read() as s:
            rows = store.leaderboard(s, city_id, key, q.limit, after)
            more, rows = len(rows) > q.limit, rows[: q.limit]
            first = 1 + store.users_above(s, city_id, key, rows[0].points) if rows else 1
        names = self._names(city_id, rows)
        rank_list = ranking.ranks([r.points for r in rows], first, position)
        items = [
            {"rank": rank, "user": {"id": str(r.user_id), "display_name": names.get(str(r.user_id))},
             "points": r.points}
            for rank, r in zip(rank_list, rows)
        ]
        cursor = None
        if more and rows:
            cursor = pagination.encode([rows[-1].points, str(rows[-1].user_id), position + len(rows), key])
        return {"period": q.period, "period_key": key, "items": items, "next_cursor": cursor}

    @rpc
    def score(self, city_id: str, user_id: str, period: str = "all") -> dict:
        city_id, user_id = _city_id(city_id), _user_id(user_id)
        if period not in ranking.PERIODS:
            raise ValidationFailed("The period is not valid.", [{"field": "period", "issue": "all, month or week"}])
        key = ranking.period_key(period, datetime.now(timezone.utc))
        with self.db.read() as s:
            points = store.points_of(s, city_id, key, user_id)
            rank = 1 + store.users_above(s, city_id, key, points)
            return {
                "user_id": str(user_id), "period": period, "points": points, "rank": rank,
                "level": store.level_of(s, city_id, user_id), "badges": store.badges_of(s, city_id, user_id),
            }

    @rpc
    def engaged(self, principal: dict, city_id: str, query: dict | None = None) -> dict:
        me = auth.principal_of(principal).require("admin").require_city(city_id)
        q = validate(schemas.EngagedQuery, query or {})
        end = _utc(q.to) if q.to else datetime.now(timezone.utc)
        start = _utc(q.from_) if q.from_ else end - timedelta(days=30)
        if start >= end:
            raise ValidationFailed("The period is not valid.", [{"field": "from", "issue": "must be before 'to'"}])
        with self.db.read() as s:
            rows = store.engaged(s, me.city_id, start, end, q.limit)
        names = self._names(me.city_id, [_Row(r["user_id"], r["display_name"]) for r in rows])
        for rank, row in zip(ranking.ranks([r["points"] for r in rows]), rows):
            row["rank"] = rank
            row["display_name"] = names.get(row["user_id"])
        body = {"from": start.isoformat(), "to": end.isoformat(), "items": rows}
        if q.format == "csv":
            return {"csv": _csv(rows), "from": body["from"], "to": body["to"]}
        return body

    def _names(self, city_id, rows) -> dict:
        """Display names for rows; names not learnt from accounts events yet are asked of accounts once."""
        names = {str(r.user_id): r.display_name for r in rows}
        missing = [u for u, n in names.items() if n is None]
        if not missing:
            return names
        try:
            with eventlet.Timeout(NAME_LOOKUP_SECONDS):
                profiles = self.accounts.get_profiles(str(city_id), missing)
        except (Exception, eventlet.Timeout) as exc:  # names are a nicety; the board answers without them
            logs.get().warning("display_names_unavailable", error=type(exc).__name__)
            return names
        with self.db.transaction() as tx:
            for p in profiles:
                store.set_profile(tx, city_id, p["user_id"], p["display_name"],
                                  datetime(1970, 1, 1, tzinfo=timezone.utc))
                names[str(p["user_id"])] = p["display_name"]
        return names


class _Row:
    def __init__(self, user_id, display_name):
        self.user_id, self.display_name = user_id, display_name


CSV_COLUMNS = ["rank", "user_id", "display_name", "points", *store.ENGAGED_REASONS]


def _csv(rows: list[dict]) -> str:
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


def _city(event):
    if event.city_id is None:
        raise ValidationFailed("The event names no city.", [{"field": "city_id", "issue": "required"}])
    return event.city_id


def _city_id(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed("Not a city id.", [{"field": "city_id", "issue": "not a UUID"}]) from None


def _user_id(value):
    from services.common.errors import NotFound

    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound("No such user.") from None
