"""Ideas: projects (consultations), ideas, comments, topics, statuses with official feedback, and flags.

Keeps two read models fed by events: the users of the accounts service (to show authors) and the vote
totals of the voting service (to sort lists without asking anyone).
"""
from __future__ import annotations

import uuid

import eventlet
from nameko.rpc import RpcProxy
from sqlalchemy import func, insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.common import auth, logs, pagination
from services.common.db import Database
from services.common.entrypoints import on_event, on_events, rpc
from services.common.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed, validate
from services.common.observability import Observability
from services.common.outbox import OutboxRelay
from services.ideas import listing, moderation, schemas, texts, views, vote_counts, workflow
from services.ideas.models import TARGETS, comments, flags, ideas, metadata, projects, users

PROFILE_LOOKUP_SECONDS = 2.0


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _id_or_404(value, what: str) -> uuid.UUID:
    parsed = _uuid(value)
    if parsed is None:
        raise NotFound(f"No such {what}.")
    return parsed


def _caller(principal, city_id, required: str | None = None):
    """The caller as a Principal (None when anonymous), checked against the city and a role."""
    me = auth.principal_of(principal)
    if me is None:
        if required is not None:
            raise Unauthorized("This needs a bearer token.")
        return None
    me.require_city(city_id)
    if required is not None and required != "citizen":
        me.require(required)
    return me


def _is_moderator(me) -> bool:
    return me is not None and me.at_least("moderator")


def _query(model, payload) -> object:
    return validate(model, payload or {})


class IdeasService:
    name = "ideas"

    db = Database(metadata)
    outbox = OutboxRelay(metadata)
    obs = Observability()
    accounts = RpcProxy("accounts")

    # -- projects -------------------------------------------------------------------------------
    @rpc
    def create_project(self, principal: dict, city: dict, payload: dict) -> dict:
        me = _caller(principal, city["id"], "admin")
        data = validate(schemas.NewProject, payload)
        texts.check_locales(city["locales"], title=data.title, description=data.description)
        with self.db.transaction() as tx:
            row = tx.execute(
                insert(projects).values(
                    id=uuid.uuid4(), city_id=city["id"], title=data.title, description=data.description,
                    method=data.method, status=data.status, topics=data.topics,
                    allow_down_votes=data.allow_down_votes, flag_threshold=data.flag_threshold,
                    created_by=me.user_id,
                ).returning(projects)
            ).one()
            tx.emit("ideas.project_created", city_id=city["id"], actor_id=me.user_id, data=views.project_event(row))
        return views.project(row)

    @rpc
    def update_project(self, principal: dict, city: dict, project_id: str, payload: dict) -> dict:
        me = _caller(principal, city["id"], "admin")
        data = validate(schemas.ProjectPatch, payload)
        patch = {k: v for k, v in data.model_dump(exclude_unset=True).items()
                 if v is not None or k == "flag_threshold"}
        texts.check_locales(city["locales"], title=patch.get("title"), description=patch.get("description"))
        project_id = _id_or_404(project_id, "project")
        with self.db.transaction() as tx:
            row = tx.execute(
                update(projects)
                .where(projects.c.id == project_id, projects.c.city_id == city["id"])
                .values(**patch, updated_at=func.now())
                .returning(projects)
            ).first()
            if row is None:
                raise NotFound("No such project in this city.")
            if patch:
                tx.emit("ideas.project_updated", city_id=city["id"], actor_id=me.user_id, data=views.project_event(row))
        return views.project(row)

    @rpc
    def get_project(self, principal, city_id: str, project_id: str) -> dict:
        me = _caller(principal, city_id)
        with self.db.read() as s:
            return views.project(self._project(s, city_id, project_id, me))

    @rpc
    def list_projects(self, principal, city_id: str, query: dict) -> dict:
        me = _caller(principal, city_id)
        q = _query(schemas.ProjectQuery, query)
        after, key_of = listing.newest_first(projects, q.cursor)
        stmt = select(projects).where(projects.c.city_id == city_id)
        if not _is_moderator(me):
            stmt = stmt.where(projects.c.status != "draft")
        if q.status:
            stmt = stmt.where(projects.c.status == q.status)
        if q.method:
            stmt = stmt.where(projects.c.method == q.method)
        if after is not None:
            stmt = stmt.where(after)
        stmt = stmt.order_by(projects.c.created_at.desc(), projects.c.id.desc()).limit(q.limit + 1)
        with self.db.read() as s:
            rows = s.execute(stmt).all()
        result = pagination.page(rows, q.limit, key_of)
        return {**result, "items": [views.project(r) for r in result["items"]]}

    def _project(self, session, city_id, project_id, me, lock: bool = False):
        """A project the caller may see (drafts only to moderators and admins), else NotFound."""
        stmt = select(projects).where(projects.c.id == _id_or_404(project_id, "project"),
                                      projects.c.city_id == city_id)
        if lock:
            stmt = stmt.with_for_update(read=True)
        row = session.execute(stmt).first()
        if row is None or (row.status == "draft" and not _is_moderator(me)):
            raise NotFound("No such project in this city.")
        return row

    # -- ideas ----------------------------------------------------------------------------------
    @rpc
    def create_idea(self, principal: dict, city: dict, project_id: str, payload: dict) -> dict:
        city_id = city["id"]
        me = _caller(principal, city_id, "citizen")
        data = validate(schemas.NewIdea, payload)
        author = self._author(city_id, me.user_id)
        locale = texts.post_locale(data.locale, author.locale if author else None, city["locales"])
        idea_id = uuid.uuid4()
        with self.db.transaction() as tx:
            project = self._project(tx.session, city_id, project_id, me, lock=True)
            workflow.check_takes_ideas(project.method, project.status)
            texts.check_topics(data.topics, list(project.topics))
            row = tx.execute(
                insert(ideas).values(
                    id=idea_id, city_id=city_id, project_id=project.id, author_id=me.user_id, title=data.title,
                    body=data.body, topics=data.topics, locale=locale,
                    lat=data.location.lat if data.location else None,
                    lng=data.location.lng if data.location else None,
                    status=workflow.INITIAL,
                ).returning(ideas)
            ).one()
            tx.emit("ideas.idea_created", city_id=city_id, actor_id=me.user_id, data=views.idea_event(row))
            return views.idea(self._idea(tx.session, city_id, idea_id, me), _is_moderator(me))

    @rpc
    def get_idea(self, principal, city_id: str, idea_id: str) -> dict:
        me = _caller(principal, city_id)
        with self.db.read() as s:
            return views.idea(self._idea(s, city_id, idea_id, me), _is_moderator(me))

    @rpc
    def list_ideas(self, principal, city_id: str, project_id: str, query: dict) -> dict:
        me = _caller(principal, city_id)
        q = _query(schemas.IdeaQuery, query)
        score, after, key_of = listing.idea_order(q.sort, q.cursor)
        with self.db.read() as s:
            project = self._project(s, city_id, project_id, me)
            stmt = (
                listing.idea_select().add_columns(score.label("sort_score"))
                .where(ideas.c.city_id == city_id, ideas.c.project_id == project.id,
                       listing.visible_clause(ideas, _is_moderator(me)))
            )
            if q.topic:
                stmt = stmt.where(listing.has_topic(q.topic))
            if q.status:
                stmt = stmt.where(ideas.c.status == q.status)
            if q.q:
                stmt = stmt.where(listing.search_clause(q.q))
            if after is not None:
                stmt = stmt.where(after)
            rows = s.execute(stmt.order_by(score.desc(), ideas.c.id.desc()).limit(q.limit + 1)).all()
        result = pagination.page(rows, q.limit, key_of)
        return {**result, "items": [views.idea(r, _is_moderator(me)) for r in result["items"]]}

    @rpc
    def list_own_ideas(self, principal: dict, city_id: str, query: dict) -> dict:
        """The caller's own ideas across the city's projects, newest first."""
        me = _caller(principal, city_id, "citizen")
        q = _query(schemas.OwnQuery, query)
        after, key_of = listing.newest_first(ideas, q.cursor)
        stmt = listing.idea_select().where(
            ideas.c.city_id == city_id, ideas.c.author_id == me.user_id,
            listing.visible_clause(ideas, _is_moderator(me)), listing.in_visible_project(ideas, city_id, _is_moderator(me)),
        )
        if after is not None:
            stmt = stmt.where(after)
        with self.db.read() as s:
            rows = s.execute(stmt.order_by(ideas.c.created_at.desc(), ideas.c.id.desc()).limit(q.limit + 1)).all()
        result = pagination.page(rows, q.limit, key_of)
        return {**result, "items": [views.idea(r, _is_moderator(me)) for r in result["items"]]}

    @rpc
    def update_idea(self, principal: dict, city: dict, idea_id: str, payload: dict) -> dict:
        city_id = city["id"]
        me = _caller(principal, city_id, "citizen")
        data = validate(schemas.IdeaPatch, payload)
        patch = data.model_dump(exclude_unset=True)
        if "locale" in patch:
            patch["locale"] = texts.post_locale(patch["locale"], None, city["locales"]) if patch["locale"] else None
        if "location" in patch:
            location = patch.pop("location")
            patch["lat"], patch["lng"] = (location["lat"], location["lng"]) if location else (None, None)
        with self.db.transaction() as tx:
            row = self._idea(tx.session, city_id, idea_id, me, lock=True)
            self._check_owner_or_moderator(me, row.author_id, "idea")
            if "topics" in patch:
                project = tx.execute(select(projects.c.topics).where(projects.c.id == row.project_id,
                                                                     projects.c.city_id == city_id)).one()
                texts.check_topics(patch["topics"], list(project.topics))
            if patch:
                updated = tx.execute(
                    update(ideas).where(ideas.c.id == row.id, ideas.c.city_id == city_id)
                    .values(**patch, updated_at=func.now()).returning(ideas)
                ).one()
                tx.emit("ideas.idea_updated", city_id=city_id, actor_id=me.user_id, data=views.idea_event(updated))
                row = self._idea(tx.session, city_id, row.id, me)
            return views.idea(row, _is_moderator(me))

    @rpc
    def delete_idea(self, principal: dict, city_id: str, idea_id: str) -> None:
        me = _caller(principal, city_id, "citizen")
        with self.db.transaction() as tx:
            row = self._idea(tx.session, city_id, idea_id, me, lock=True)
            self._check_owner_or_moderator(me, row.author_id, "idea")
            self._delete(tx, "idea", row, me.user_id)

    @rpc
    def change_status(self, principal: dict, city: dict, idea_id: str, payload: dict) -> dict:
        city_id = city["id"]
        me = _caller(principal, city_id, "admin")
        data = validate(schemas.StatusChange, payload)
        texts.check_locales(city["locales"], feedback=data.feedback)
        with self.db.transaction() as tx:
            row = self._idea(tx.session, city_id, idea_id, me, lock=True)
            workflow.check_transition(row.status, data.status)
            tx.execute(
                update(ideas).where(ideas.c.id == row.id, ideas.c.city_id == city_id)
                .values(status=data.status, feedback=data.feedback, status_changed_at=func.now())
            )
            tx.emit("ideas.idea_status_changed", city_id=city_id, actor_id=me.user_id, data={
                "idea_id": row.id, "project_id": row.project_id, "author_id": row.author_id,
                "old_status": row.status, "status": data.status, "feedback": data.feedback,
            })
            return views.idea(self._idea(tx.session, city_id, row.id, me), True)

    def _idea(self, session, city_id, idea_id, me, lock: bool = False):
        """An idea the caller may see, with author, counts and flags; NotFound otherwise."""
        idea_id = _id_or_404(idea_id, "idea")
        if lock:
            session.execute(select(ideas.c.id).where(ideas.c.id == idea_id, ideas.c.city_id == city_id)
                            .with_for_update())
        row = session.execute(
            listing.idea_select().where(ideas.c.id == idea_id, ideas.c.city_id == city_id)
        ).first()
        if row is None or not moderation.visible(row, _is_moderator(me)):
            raise NotFound("No such idea in this city.")
        return row

    @staticmethod
    def _check_owner_or_moderator(me, author_id, what: str) -> None:
        if str(me.user_id) != str(author_id) and not me.at_least("moderator"):
            raise Forbidden(f"Only the author or a moderator may change this {what}.")

    def _delete(self, tx, target_type: str, row, deleted_by) -> None:
        table = TARGETS[target_type]
        tx.execute(update(table).where(table.c.id == row.id, table.c.city_id == row.city_id)
                   .values(deleted_at=func.now(), deleted_by=deleted_by))
        if target_type == "idea":
            tx.emit("ideas.idea_deleted", city_id=row.city_id, actor_id=deleted_by, data={
                "idea_id": row.id, "project_id": row.project_id, "author_id": row.author_id, "deleted_by": deleted_by,
            })
        else:
            tx.emit("ideas.comment_deleted", city_id=row.city_id, actor_id=deleted_by, data={
                "comment_id": row.id, "idea_id": row.idea_id, "project_id": row.project_id,
                "author_id": row.author_id,
            })

    # -- comments -------------------------------------------------------------------------------
    @rpc
    def create_comment(self, principal: dict, city_id: str, idea_id: str, payload: dict) -> dict:
        me = _caller(principal, city_id, "citizen")
        data = validate(schemas.NewComment, payload)
        self._author(city_id, me.user_id)
        comment_id = uuid.uuid4()
        with self.db.transaction() as tx:
            idea = self._idea(tx.session, city_id, idea_id, me)
            parent = None
            if data.parent_id is not None:
                parent = tx.execute(select(comments).where(
                    comments.c.id == data.parent_id, comments.c.city_id == city_id, comments.c.idea_id == idea.id,
                )).first()
                if parent is None or not moderation.visible(parent, _is_moderator(me)):
                    raise ValidationFailed("The request is not valid.",
                                           [{"field": "parent_id", "issue": "no such comment on this idea"}])
                if parent.parent_id is not None:
                    raise ValidationFailed("The request is not valid.", [
                        {"field": "parent_id", "issue": "replies go one level deep: reply to the top comment"}])
            row = tx.execute(
                insert(comments).values(
                    id=comment_id, city_id=city_id, idea_id=idea.id, project_id=idea.project_id,
                    author_id=me.user_id, parent_id=parent.id if parent else None, body=data.body,
                ).returning(comments)
            ).one()
            tx.emit("ideas.comment_created", city_id=city_id, actor_id=me.user_id, data={
                "comment_id": row.id, "idea_id": idea.id, "project_id": idea.project_id, "author_id": me.user_id,
                "idea_author_id": idea.author_id, "parent_id": row.parent_id,
                "parent_author_id": parent.author_id if parent else None, "body": row.body,
                "created_at": row.created_at,
            })
            return views.comment(self._comment(tx.session, city_id, comment_id, me), _is_moderator(me))

    @rpc
    def list_comments(self, principal, city_id: str, idea_id: str, query: dict) -> dict:
        me = _caller(principal, city_id)
        q = _query(schemas.FlagQuery, query)
        after, key_of = listing.comment_order(q.cursor)
        with self.db.read() as s:
            idea = self._idea(s, city_id, idea_id, me)
            stmt = listing.comment_select().where(comments.c.city_id == city_id, comments.c.idea_id == idea.id)
            if not _is_moderator(me):
                stmt = stmt.where(comments.c.hidden_at.is_(None))
            if after is not None:
                stmt = stmt.where(after)
            rows = s.execute(stmt.order_by(comments.c.created_at, comments.c.id).limit(q.limit + 1)).all()
        result = pagination.page(rows, q.limit, key_of)
        return {**result, "items": [views.comment(r, _is_moderator(me)) for r in result["items"]]}

    @rpc
    def list_own_comments(self, principal: dict, city_id: str, query: dict) -> dict:
        """The caller's own comments (not deleted, on ideas the caller may see), newest first."""
        me = _caller(principal, city_id, "citizen")
        q = _query(schemas.OwnQuery, query)
        after, key_of = listing.newest_first(comments, q.cursor)
        stmt = listing.comment_select().where(
            comments.c.city_id == city_id, comments.c.author_id == me.user_id,
            listing.visible_clause(comments, _is_moderator(me)), listing.on_visible_idea(city_id, _is_moderator(me)),
        )
        if after is not None:
            stmt = stmt.where(after)
        with self.db.read() as s:
            rows = s.execute(stmt.order_by(comments.c.created_at.desc(), comments.c.id.desc())
                             .limit(q.limit + 1)).all()
        result = pagination.page(rows, q.limit, key_of)
        return {**result, "items": [views.comment(r, _is_moderator(me)) for r in result["items"]]}

    @rpc
    def get_comment(self, principal, city_id: str, comment_id: str) -> dict:
        me = _caller(principal, city_id)
        with self.db.read() as s:
            return views.comment(self._comment(s, city_id, comment_id, me), _is_moderator(me))

    @rpc
    def update_comment(self, principal: dict, city_id: str, comment_id: str, payload: dict) -> dict:
        me = _caller(principal, city_id, "citizen")
        data = validate(schemas.CommentPatch, payload)
        with self.db.transaction() as tx:
            row = self._comment(tx.session, city_id, comment_id, me, lock=True)
            self._check_owner_or_moderator(me, row.author_id, "comment")
            tx.execute(update(comments).where(comments.c.id == row.id, comments.c.city_id == city_id)
                       .values(body=data.body, updated_at=func.now()))
            return views.comment(self._comment(tx.session, city_id, row.id, me), _is_moderator(me))

    @rpc
    def delete_comment(self, principal: dict, city_id: str, comment_id: str) -> None:
        me = _caller(principal, city_id, "citizen")
        with self.db.transaction() as tx:
            row = self._comment(tx.session, city_id, comment_id, me, lock=True)
            self._check_owner_or_moderator(me, row.author_id, "comment")
            self._delete(tx, "comment", row, me.user_id)

    def _comment(self, session, city_id, comment_id, me, lock: bool = False):
        """A comment the caller may see, on an idea the caller may see; NotFound otherwise."""
        comment_id = _id_or_404(comment_id, "comment")
        if lock:
            session.execute(select(comments.c.id).where(comments.c.id == comment_id, comments.c.city_id == city_id)
                            .with_for_update())
        row = session.execute(
            listing.comment_select().where(comments.c.id == comment_id, comments.c.city_id == city_id)
        ).first()
        if row is None or not moderation.visible(row, _is_moderator(me)):
            raise NotFound("No such comment in this city.")
        self._idea(session, city_id, row.idea_id, me)
        return row

    # -- flags and moderation -------------------------------------------------------------------
    @rpc
    def flag(self, principal: dict, city_id: str, target_type: str, target_id: str, payload: dict) -> dict:
        me = _caller(principal, city_id, "citizen")
        data = validate(schemas.NewFlag, payload)
        table = TARGETS.get(target_type)
        if table is None:
            raise NotFound(f"Nothing to flag of type {target_type!r}.")
        with self.db.transaction() as tx:
            row = (self._idea if target_type == "idea" else self._comment)(tx.session, city_id, target_id, me, lock=True)
            moderation.check_can_flag(me.user_id, row.author_id)
            flag = tx.execute(
                pg_insert(flags).values(
                    id=uuid.uuid4(), city_id=city_id, target_type=target_type, target_id=row.id,
                    user_id=me.user_id, reason=data.reason,
                ).on_conflict_do_nothing(constraint="uq_ideas_flags_one_per_user").returning(flags)
            ).first()
            if flag is None:
                raise Conflict(f"You have flagged this {target_type} already.")
            open_flags = tx.execute(select(func.count()).where(
                flags.c.city_id == city_id, flags.c.target_type == target_type, flags.c.target_id == row.id,
                flags.c.resolved_at.is_(None))).scalar_one()
            project_threshold = tx.execute(select(projects.c.flag_threshold).where(
                projects.c.id == row.project_id, projects.c.city_id == city_id)).scalar()
            limit = moderation.threshold(project_threshold)
            if moderation.should_hide(open_flags, limit, row.hidden_at is not None):
                tx.execute(update(table).where(table.c.id == row.id, table.c.city_id == city_id)
                           .values(hidden_at=func.now()))
                tx.emit("ideas.content_hidden", city_id=city_id, actor_id=me.user_id,
                        data=self._moderation_data(target_type, row, open_flags))
        return {"id": str(flag.id), "target_type": target_type, "target_id": str(row.id), "reason": flag.reason,
                "created_at": flag.created_at.isoformat()}

    @staticmethod
    def _moderation_data(target_type, row, count) -> dict:
        return {
            "target_type": target_type, "target_id": row.id,
            "idea_id": row.id if target_type == "idea" else row.idea_id,
            "project_id": row.project_id, "author_id": row.author_id, "flags": count,
        }

    @rpc
    def list_flags(self, principal: dict, city_id: str, query: dict) -> dict:
        """The moderation queue: content with open flags, oldest first flag first."""
        _caller(principal, city_id, "moderator")
        q = _query(schemas.FlagQuery, query)
        queue = (
            select(
                flags.c.target_type, flags.c.target_id,
                func.min(flags.c.created_at).label("created_at"), func.max(flags.c.created_at).label("last_flagged_at"),
                func.count().label("flags"), func.array_agg(flags.c.reason).label("reasons"),
            )
            .where(flags.c.city_id == city_id, flags.c.resolved_at.is_(None))
            .group_by(flags.c.target_type, flags.c.target_id)
            .subquery()
        )
        stmt = select(queue)
        key = listing.time_id_key(q.cursor)
        if key is not None:
            stmt = stmt.where(tuple_(queue.c.created_at, queue.c.target_id) > tuple_(*key))
        with self.db.read() as s:
            rows = s.execute(stmt.order_by(queue.c.created_at, queue.c.target_id).limit(q.limit + 1)).all()
            result = pagination.page(rows, q.limit, lambda r: [r.created_at.isoformat(), str(r.target_id)])
            items = []
            for r in result["items"]:
                table = TARGETS[r.target_type]
                content = s.execute(
                    (listing.idea_select() if r.target_type == "idea" else listing.comment_select())
                    .where(table.c.id == r.target_id, table.c.city_id == city_id)
                ).first()
                reasons: dict[str, int] = {}
                for reason in r.reasons:
                    reasons[reason] = reasons.get(reason, 0) + 1
                items.append({
                    "target_type": r.target_type, "target_id": str(r.target_id), "flags": r.flags,
                    "reasons": reasons, "first_flagged_at": r.created_at.isoformat(),
                    "last_flagged_at": r.last_flagged_at.isoformat(),
                    "hidden": content is not None and content.hidden_at is not None,
                    "deleted": content is None or content.deleted_at is not None,
                    "content": None if content is None else (
                        views.idea(content, True) if r.target_type == "idea" else views.comment(content, True)),
                })
        return {"items": items, "next_cursor": result["next_cursor"]}

    @rpc
    def moderate(self, principal: dict, city_id: str, target_type: str, target_id: str, payload: dict) -> dict:
        me = _caller(principal, city_id, "moderator")
        data = validate(schemas.ModerationDecision, payload)
        table = TARGETS.get(target_type)
        if table is None:
            raise NotFound(f"Nothing to moderate of type {target_type!r}.")
        target_id = _id_or_404(target_id, target_type)
        with self.db.transaction() as tx:
            row = tx.execute(select(table).where(table.c.id == target_id, table.c.city_id == city_id)
                             .with_for_update()).first()
            if row is None or row.deleted_at is not None:
                raise NotFound(f"No such {target_type} in this city.")
            hidden = row.hidden_at is not None
            effect = moderation.decide(data.decision, hidden)
            resolved = tx.execute(
                update(flags).where(flags.c.city_id == city_id, flags.c.target_type == target_type,
                                    flags.c.target_id == row.id, flags.c.resolved_at.is_(None))
                .values(resolved_at=func.now(), resolved_by=me.user_id, resolution=data.decision)
                .returning(flags.c.id)
            ).all()
            if effect["deleted"]:
                self._delete(tx, target_type, row, me.user_id)
            elif hidden:
                tx.execute(update(table).where(table.c.id == row.id, table.c.city_id == city_id).values(hidden_at=None))
            if effect["event"] == "content_restored":
                tx.emit("ideas.content_restored", city_id=city_id, actor_id=me.user_id,
                        data=self._moderation_data(target_type, row, len(resolved)))
        return {"target_type": target_type, "target_id": str(row.id), "decision": data.decision,
                "hidden": effect["hidden"], "deleted": effect["deleted"], "resolved_flags": len(resolved)}

    # -- for other services ---------------------------------------------------------------------
    @rpc
    def vote_target(self, city_id: str, target_type: str, target_id: str) -> dict:
        """What voting needs to know of an idea or comment it has not seen yet."""
        table = TARGETS.get(target_type)
        target = _uuid(target_id)
        if table is None or target is None or _uuid(city_id) is None:
            raise NotFound(f"No such {target_type}.")
        with self.db.read() as s:
            row = s.execute(select(table).where(table.c.id == target, table.c.city_id == city_id)).first()
            if row is None:
                raise NotFound(f"No such {target_type} in this city.")
            idea_id = row.id if target_type == "idea" else row.idea_id
            idea = row if target_type == "idea" else s.execute(
                select(ideas).where(ideas.c.id == idea_id, ideas.c.city_id == city_id)).one()
            project = s.execute(select(projects).where(projects.c.id == row.project_id,
                                                       projects.c.city_id == city_id)).one()
        visible = all(r.deleted_at is None and r.hidden_at is None for r in (row, idea))
        return {
            "target_type": target_type, "target_id": str(row.id), "idea_id": str(idea_id),
            "project_id": str(row.project_id), "author_id": str(row.author_id), "visible": visible,
            "project_status": project.status, "allow_down_votes": project.allow_down_votes,
        }

    # -- read model: users ----------------------------------------------------------------------
    def _author(self, city_id, user_id):
        """The author's row of the users read model; asks accounts once when no event has brought it yet."""
        with self.db.read() as s:
            row = s.execute(select(users).where(users.c.id == user_id, users.c.city_id == city_id)).first()
        if row is not None and row.display_name is not None:
            return row
        try:
            with eventlet.Timeout(PROFILE_LOOKUP_SECONDS):
                profiles = self.accounts.get_profiles(str(city_id), [str(user_id)])
        except (eventlet.Timeout, Exception) as exc:  # the post goes on; the name arrives with the event
            logs.get().warning("author_profile_unavailable", user_id=str(user_id), error=type(exc).__name__)
            return row
        if not profiles:
            return row
        profile = profiles[0]
        with self.db.transaction() as tx:
            return tx.execute(
                pg_insert(users).values(
                    id=user_id, city_id=city_id, display_name=profile["display_name"], role=profile.get("role"),
                    locale=profile.get("locale"), updated_at=func.now(),
                ).on_conflict_do_update(
                    index_elements=[users.c.id],
                    set_={"display_name": profile["display_name"], "locale": profile.get("locale")},
                    where=users.c.display_name.is_(None),
                ).returning(users)
            ).first() or row

    def _apply_profile(self, tx, event) -> None:
        profile = validate(schemas.ProfileEvent, event.data)
        values = {"display_name": profile.display_name, "role": profile.role, "locale": profile.locale,
                  "updated_at": event.occurred_at}
        tx.execute(
            pg_insert(users).values(id=profile.user_id, city_id=profile.city_id, **values)
            .on_conflict_do_update(index_elements=[users.c.id], set_=values,
                                   where=users.c.updated_at <= event.occurred_at)
        )

    @on_event("accounts", "user_registered")
    def on_user_registered(self, tx, event):
        self._apply_profile(tx, event)

    @on_event("accounts", "user_updated")
    def on_user_updated(self, tx, event):
        self._apply_profile(tx, event)

    @on_event("accounts", "role_changed")
    def on_role_changed(self, tx, event):
        change = validate(schemas.RoleEvent, event.data)
        tx.execute(
            pg_insert(users).values(id=change.user_id, city_id=change.city_id, role=change.role,
                                    updated_at=event.occurred_at)
            .on_conflict_do_update(index_elements=[users.c.id], set_={"role": change.role})
        )

    # -- read model: votes (in batches: a vote stream is this service's busiest input) -------------
    @on_events("voting", "vote_cast")
    def on_vote_cast(self, tx, events):
        vote_counts.apply(tx, events)

    @on_events("voting", "vote_changed")
    def on_vote_changed(self, tx, events):
        vote_counts.apply(tx, events)

    @on_events("voting", "vote_withdrawn")
    def on_vote_withdrawn(self, tx, events):
        vote_counts.apply(tx, events)
