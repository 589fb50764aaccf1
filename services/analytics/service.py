"""Analytics: topics of a project's ideas, similar ideas, which groups care about what, participation.

Everything is computed from read models fed by bus events (ideas, votes, profiles, ballots), never
from other services' tables. Topic models are rebuilt in the background: on `refresh_topics`, and by a
timer for projects whose ideas changed enough since the last build (services/analytics/report.py).
New ideas get a topic from the current model as they arrive.

Projects with too few usable ideas for a model answer `topics: []` with `status: "not_enough_ideas"`,
`needed` and `have` (200, not an error: it is a normal state of a young project), and the heatmap
answers with no cells and the same status.
"""
from __future__ import annotations

import base64
import uuid
from datetime import UTC, date, datetime

from nameko.timer import timer

from services.analytics import export, report, schemas, store
from services.analytics.insight import heatmap as heatmap_of
from services.analytics.models import metadata
from services.analytics.replica import Replica, idea_text
from services.common import auth
from services.common.config import settings
from services.common.db import Database
from services.common.demographics import group_of
from services.common.entrypoints import on_event, rpc
from services.common.errors import NotFound, Unauthorized, ValidationFailed, validate
from services.common.observability import Observability
from services.common.outbox import OutboxRelay

def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def _admin(principal, city_id) -> auth.Principal:
    me = auth.principal_of(principal)
    if me is None:
        raise Unauthorized("This needs a bearer token.")
    return me.require_city(city_id).require("admin")


def _staff(principal, city_id) -> auth.Principal:
    me = auth.principal_of(principal)
    if me is None:
        raise Unauthorized("This needs a bearer token.")
    return me.require_city(city_id).require("moderator")


def _format(fmt: str) -> None:
    if fmt not in ("csv", "xlsx"):
        raise NotFound("No such export format.")


def _file(stem: str, fmt: str, rows: list[dict], columns: tuple, sheet: str) -> dict:
    """`{filename, content_type, text}` (csv) or `{..., base64}` (xlsx)."""
    name = f"{stem}.{fmt}"
    if fmt == "csv":
        return {"filename": name, "content_type": "text/csv; charset=utf-8", "text": export.to_csv(rows, columns)}
    return {"filename": name,
            "content_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "base64": base64.b64encode(export.to_xlsx(rows, sheet, columns)).decode()}


def _data(model, event):
    return validate(model, event.data)


class AnalyticsService:
    name = "analytics"

    db = Database(metadata)
    outbox = OutboxRelay(metadata)
    obs = Observability()
    replica = Replica()

    # -- read models: projects and ideas -----------------------------------------------------------
    @on_event("ideas", "project_created")
    def on_project_created(self, tx, event):
        store.upsert_project(tx, event.city_id, event.occurred_at, _data(schemas.ProjectState, event))

    @on_event("ideas", "project_updated")
    def on_project_updated(self, tx, event):
        store.upsert_project(tx, event.city_id, event.occurred_at, _data(schemas.ProjectState, event))

    @on_event("ideas", "idea_created")
    def on_idea_created(self, tx, event):
        self._idea_state(tx, event, created=True)

    @on_event("ideas", "idea_updated")
    def on_idea_updated(self, tx, event):
        self._idea_state(tx, event, created=False)

    def _idea_state(self, tx, event, created: bool):
        d = _data(schemas.IdeaState, event)
        at = event.occurred_at
        if created:
            store.record_activity(tx, event, "idea", d.project_id, d.author_id, d.created_at)
        version = store.bump_project(tx, event.city_id, d.project_id)
        store.topic_lock(tx, d.project_id, shared=True)
        row = store.lock_idea(tx, event.city_id, d.idea_id, d.project_id)
        values = {"seq": version}
        if row.state_at is None or row.state_at < at:
            values.update(project_id=d.project_id, author_id=d.author_id, title=d.title, body=d.body,
                          locale=d.locale, tags=d.topics, created_at=d.created_at or row.created_at, state_at=at)
            if not row.deleted and not row.hidden:
                model = self.replica.current_model(tx.session, event.city_id, d.project_id)
                if model is not None:
                    a = model.assign(idea_text(d.title, d.body), d.locale)
                    values.update(topic_id=a.topic_id, topic_score=a.score,
                                  topic_model_version=model.model_version if a.topic_id is not None else None)
        if d.status and (row.status_at is None or row.status_at < at):
            values.update(status=d.status, status_at=at)
        store.set_idea(tx, event.city_id, d.idea_id, **values)

    @on_event("ideas", "idea_status_changed")
    def on_idea_status_changed(self, tx, event):
        d = _data(schemas.IdeaStatus, event)
        row = store.lock_idea(tx, event.city_id, d.idea_id, d.project_id)
        if row.status_at is None or row.status_at < event.occurred_at:
            store.set_idea(tx, event.city_id, d.idea_id, status=d.status, status_at=event.occurred_at)

    @on_event("ideas", "idea_deleted")
    def on_idea_deleted(self, tx, event):
        d = _data(schemas.IdeaRef, event)
        version = store.bump_project(tx, event.city_id, d.project_id)
        store.lock_idea(tx, event.city_id, d.idea_id, d.project_id)
        store.set_idea(tx, event.city_id, d.idea_id, deleted=True, seq=version)

    @on_event("ideas", "content_hidden")
    def on_content_hidden(self, tx, event):
        self._visibility(tx, event, hidden=True)

    @on_event("ideas", "content_restored")
    def on_content_restored(self, tx, event):
        self._visibility(tx, event, hidden=False)

    def _visibility(self, tx, event, hidden: bool):
        d = _data(schemas.Moderation, event)
        if d.target_type != "idea":
            return
        version = store.bump_project(tx, event.city_id, d.project_id)
        store.topic_lock(tx, d.project_id, shared=True)
        row = store.lock_idea(tx, event.city_id, d.idea_id, d.project_id)
        if row.hidden_at is not None and row.hidden_at >= event.occurred_at:
            return
        values = {"hidden": hidden, "hidden_at": event.occurred_at, "seq": version}
        if d.flags is not None:
            values["flags"] = d.flags
        if not hidden and row.title is not None and not row.deleted:
            # A model built while the idea was hidden left it out: give it a topic now.
            model = self.replica.current_model(tx.session, event.city_id, d.project_id)
            if model is not None and row.topic_model_version != model.model_version:
                a = model.assign(idea_text(row.title, row.body), row.locale)
                values.update(topic_id=a.topic_id, topic_score=a.score,
                              topic_model_version=model.model_version if a.topic_id is not None else None)
        store.set_idea(tx, event.city_id, d.idea_id, **values)

    # -- read models: comments, votes, people, participation ---------------------------------------
    @on_event("ideas", "comment_created")
    def on_comment_created(self, tx, event):
        d = _data(schemas.Comment, event)
        store.upsert_comment(tx, event.city_id, d)
        store.record_activity(tx, event, "comment", d.project_id, d.author_id, d.created_at)

    @on_event("ideas", "comment_deleted")
    def on_comment_deleted(self, tx, event):
        store.upsert_comment(tx, event.city_id, _data(schemas.Comment, event), deleted=True)

    @on_event("voting", "vote_cast")
    def on_vote_cast(self, tx, event):
        d = self._votes(tx, event)
        store.record_activity(tx, event, "vote", d.project_id, d.voter_id)

    @on_event("voting", "vote_changed")
    def on_vote_changed(self, tx, event):
        self._votes(tx, event)

    @on_event("voting", "vote_withdrawn")
    def on_vote_withdrawn(self, tx, event):
        self._votes(tx, event, withdrawn=True)

    def _votes(self, tx, event, withdrawn: bool = False):
        d = _data(schemas.Vote, event)
        if d.target_type == "idea" and d.project_id is not None:
            store.set_votes(tx, event.city_id, d.idea_id, d.project_id, d.up_votes, d.down_votes, d.target_version)
        store.set_vote(tx, event.city_id, d, None if withdrawn else d.value, event.occurred_at)
        return d

    @on_event("voting", "poll_answered")
    def on_poll_answered(self, tx, event):
        d = _data(schemas.Participation, event)
        store.record_activity(tx, event, "poll", d.project_id, d.user_id or event.actor_id)

    @on_event("budgeting", "ballot_submitted")
    def on_ballot_submitted(self, tx, event):
        d = _data(schemas.Participation, event)
        store.record_activity(tx, event, "ballot", d.project_id, d.user_id or event.actor_id)

    @on_event("accounts", "user_registered")
    def on_user_registered(self, tx, event):
        store.upsert_user(tx, event.city_id, event.occurred_at, _data(schemas.Profile, event))

    @on_event("accounts", "user_updated")
    def on_user_updated(self, tx, event):
        store.upsert_user(tx, event.city_id, event.occurred_at, _data(schemas.Profile, event))

    # -- topics ------------------------------------------------------------------------------------
    def _project(self, s, city_id, project_id):
        pid = _uuid(project_id)
        row = store.project_row(s, city_id, pid) if pid else None
        if row is None:
            raise NotFound("No such project.")
        return row

    @rpc
    def get_topics(self, principal, city_id: str, project_id: str) -> dict:
        with self.db.read() as s:
            project = self._project(s, city_id, project_id)
            meta = store.model_meta(s, city_id, project.id)
            have = store.count_visible(s, city_id, project.id)
            members = store.topic_members(s, city_id, project.id, meta.model_version) if meta and meta.status == "ok" else []
        return report.topics_answer(meta._asdict() if meta else None, members, have, project.ideas_version)

    @rpc
    def refresh_topics(self, principal, city_id: str, project_id: str) -> dict:
        """Ask for a rebuild now; it runs in the background (here, or on another replica if it is busy)."""
        _admin(principal, city_id)
        with self.db.transaction() as tx:
            project = self._project(tx.session, city_id, project_id)
            store.request_refresh(tx, city_id, project.id)
        self.replica.build_soon(city_id, project.id)
        return {"status": "accepted", "project_id": str(project.id)}

    @timer(interval=settings().analytics_rebuild_check_seconds)
    def rebuild_stale_models(self):
        self.replica.build_stale()

    # -- similar ideas -----------------------------------------------------------------------------
    def _similar(self, s, city_id, project, query, *, idea_id=None, text=None, locale=None) -> dict:
        index = self.replica.similarity(s, city_id, project.id, project.ideas_version)
        if idea_id is not None and str(idea_id) in index:
            found = index.similar_to_idea(str(idea_id), query.limit, min_score=query.min_score)
        else:
            exclude = [str(idea_id)] if idea_id is not None else []
            found = index.similar_to_text(text, query.limit, exclude=exclude, min_score=query.min_score,
                                          language=locale)
        names = store.titles(s, city_id, [i for i, _ in found])
        return {"items": [{"idea_id": i, "score": round(score, 4), "title": names.get(i)} for i, score in found]}

    @rpc
    def similar_to_idea(self, principal, city_id: str, idea_id: str, query: dict) -> dict:
        q = validate(schemas.SimilarQuery, query or {})
        iid = _uuid(idea_id)
        with self.db.read() as s:
            idea = store.idea_row(s, city_id, iid) if iid else None
            if idea is None or not store.is_visible(idea):
                raise NotFound("No such idea.")
            project = self._project(s, city_id, idea.project_id)
            return self._similar(s, city_id, project, q, idea_id=idea.id, text=idea_text(idea.title, idea.body),
                                 locale=idea.locale)

    @rpc
    def similar_to_draft(self, principal, city_id: str, project_id: str, payload: dict, query: dict) -> dict:
        draft = validate(schemas.Draft, payload or {})
        q = validate(schemas.SimilarQuery, query or {})
        with self.db.read() as s:
            project = self._project(s, city_id, project_id)
            return self._similar(s, city_id, project, q, text=idea_text(draft.title, draft.body),
                                 locale=draft.locale)

    # -- demographics, participation, export -------------------------------------------------------
    @rpc
    def heatmap(self, principal, city_id: str, project_id: str, query: dict) -> dict:
        _admin(principal, city_id)
        dimension = validate(schemas.HeatmapQuery, query or {}).dimension
        today = date.today()
        with self.db.read() as s:
            project = self._project(s, city_id, project_id)
            meta = store.model_meta(s, city_id, project.id)
            if meta is None or meta.status != "ok":
                have = store.count_visible(s, city_id, project.id)
                answer = report.topics_answer(meta._asdict() if meta else None, [], have, project.ideas_version)
                return {"status": answer["status"], "dimension": dimension, "model_version": None, "cells": [],
                        "topics": [], "groups": [], "n": 0, "chi2": 0.0, "dof": 0, "p_value": 1.0,
                        "needed": answer["needed"], "have": answer["have"]}
            rows = store.heatmap_rows(s, city_id, project.id, meta.model_version)
        pairs = [(r.topic_id, group_of({"birth_year": r.birth_year, "gender": r.gender, "district": r.district},
                                       dimension, today)) for r in rows]
        result = heatmap_of(pairs).to_dict()
        labels = {t["id"]: t["label"] for t in meta.topics}
        result["topics"] = [{"id": t, "label": labels.get(t, "")} for t in result["topics"]]
        return {"status": "ok", "dimension": dimension, "model_version": meta.model_version, **result}

    @rpc
    def dashboard(self, principal, city_id: str, query: dict) -> dict:
        _admin(principal, city_id)
        q = validate(schemas.DashboardQuery, query or {})
        start, end = report.period(q.from_, q.to, datetime.now(UTC).date())
        if (end - start).days > 366:
            raise ValidationFailed("The period is too long.", [{"field": "from", "issue": "at most 366 days before `to`"}])
        with self.db.read() as s:
            if q.project_id is not None:
                self._project(s, city_id, q.project_id)  # another city's project is not found, as elsewhere
            rows = store.dashboard_rows(s, city_id, start, end, q.project_id)
        totals = rows["totals"]
        return {
            "from": start.isoformat(), "to": end.isoformat(),
            "project_id": str(q.project_id) if q.project_id else None,
            "totals": {**{f"{k}s": int(totals.get(k, 0)) for k in report.KINDS},
                       "participants": int(rows["participants"] or 0)},
            "series": report.daily_series(rows["series"], start, end),
            "participants_by": report.participants_by_group(rows["groups"]),
        }

    @rpc
    def inputs(self, principal, city_id: str, project_id: str, query: dict) -> dict:
        """The input manager: a page of the project's ideas with their counts and author demographics."""
        _staff(principal, city_id)
        q = validate(schemas.InputsQuery, query or {})
        with self.db.read() as s:
            project = self._project(s, city_id, project_id)
            meta = store.model_meta(s, city_id, project.id)
            current = meta.model_version if meta is not None and meta.status == "ok" else None
            page = store.inputs(s, city_id, project.id, q, current, date.today())
        page["items"] = [report.input_item(r) for r in page["items"]]
        return page

    @rpc
    def export_comments(self, principal, city_id: str, project_id: str, fmt: str) -> dict:
        """The project's comments as a file, with their authors' demographics only."""
        return self._export_of("comments", principal, city_id, project_id, fmt)

    @rpc
    def export_votes(self, principal, city_id: str, project_id: str, fmt: str) -> dict:
        """The project's current votes as a file, with their voters' demographics only."""
        return self._export_of("votes", principal, city_id, project_id, fmt)

    def _export_of(self, what: str, principal, city_id, project_id, fmt: str) -> dict:
        _admin(principal, city_id)
        _format(fmt)
        read, build, columns = {
            "comments": (store.comment_export_rows, export.comment_rows, export.COMMENT_COLUMNS),
            "votes": (store.vote_export_rows, export.vote_rows, export.VOTE_COLUMNS),
        }[what]
        with self.db.read() as s:
            project = self._project(s, city_id, project_id)
            rows = build(read(s, city_id, project.id))
        return _file(f"{what}-{project.id}", fmt, rows, columns, what)

    @rpc
    def export(self, principal, city_id: str, project_id: str, fmt: str) -> dict:
        """The project's ideas as a file: `{filename, content_type, text}` (csv) or `{..., base64}` (xlsx)."""
        _admin(principal, city_id)
        _format(fmt)
        with self.db.read() as s:
            project = self._project(s, city_id, project_id)
            meta = store.model_meta(s, city_id, project.id)
            ideas = store.export_rows(s, city_id, project.id)
        current = meta.model_version if meta is not None and meta.status == "ok" else None
        labels = {t["id"]: t["label"] for t in meta.topics} if current else {}
        for i in ideas:
            if i["topic_model_version"] != current:
                i["topic_id"] = None
        return _file(f"ideas-{project.id}", fmt, export.export_rows(ideas, labels), export.COLUMNS, "ideas")
