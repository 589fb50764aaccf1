"""What one analytics replica keeps in memory, and the background topic builds it runs.

Similarity indexes: one `SimilarityIndex` per project, filled from the read model at first use. With
several replicas every idea event reaches only one of them (competing consumers), so a replica cannot
keep its indexes complete from the events it consumes. Instead each index remembers the project's
`ideas_version` it reflects; before a query the replica reads the current version (one indexed row)
and, when it moved, applies just the ideas changed since (`ideas.seq` > the index's version). The version
is taken under the project's row lock, so everything up to it is committed when it is seen. This keeps
every replica exact without a broadcast queue per replica, and a replica that restarts or missed a
message heals at its next query.

Topic models: built in a real OS thread (`eventlet.tpool`), so neither the eventlet hub nor the RPC
workers wait for the CPU-heavy build; one replica builds a project at a time (a PostgreSQL advisory
lock); loaded models are cached per replica by `model_version`.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from datetime import UTC, datetime

import eventlet
from eventlet import tpool
from eventlet.semaphore import Semaphore
from nameko.extensions import DependencyProvider
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from services.analytics import store
from services.analytics.report import BuildState, rebuild_due
from services.analytics.similarity import SimilarityIndex
from services.analytics.topics import NotEnoughIdeas, TopicModel, build_topics
from services.common import logs
from services.common.db import Db, engine

MAX_INDEXES = 256  # projects whose similarity index a replica keeps (least recently used dropped)
MAX_MODELS = 64
FILL_CHUNK = 200  # ideas indexed between two yields to the hub while filling an index


def idea_text(title, body) -> str:
    return f"{title or ''}\n{body or ''}"


class _Index:
    def __init__(self):
        self.index: SimilarityIndex | None = None
        self.version = -1
        self.lock = Semaphore(1)


class Replica(DependencyProvider):
    """Shared by the workers of one service process (the dependency is the provider itself)."""

    def setup(self):
        self.db = Db(sessionmaker(bind=engine(), expire_on_commit=False), "analytics")
        self.indexes: OrderedDict = OrderedDict()
        self.models: OrderedDict = OrderedDict()
        self.building: set = set()
        self.log = logs.get(service="analytics", component="replica")

    def get_dependency(self, worker_ctx):
        return self

    # -- similarity --------------------------------------------------------------------------------
    def similarity(self, session, city_id, project_id, version: int) -> SimilarityIndex:
        """The project's index, brought up to `version` (the project's current ideas_version)."""
        key = (str(city_id), str(project_id))
        entry = self.indexes.get(key)
        if entry is None:
            entry = self.indexes[key] = _Index()
            while len(self.indexes) > MAX_INDEXES:
                self.indexes.popitem(last=False)
        self.indexes.move_to_end(key)
        if entry.version >= version and entry.index is not None:
            return entry.index
        with entry.lock:
            if entry.index is None:
                index = SimilarityIndex()
                rows = store.visible_ideas(session, city_id, project_id)
                for n, r in enumerate(rows, 1):
                    index.add(str(r.id), idea_text(r.title, r.body), r.locale)
                    if n % FILL_CHUNK == 0:
                        eventlet.sleep(0)
                entry.index, entry.version = index, version
            elif entry.version < version:
                for r in store.idea_changes(session, city_id, project_id, entry.version, version):
                    if r.visible:
                        entry.index.add(str(r.id), idea_text(r.title, r.body), r.locale)
                    else:
                        entry.index.remove(str(r.id))
                entry.version = version
        return entry.index

    # -- topic models ------------------------------------------------------------------------------
    def model(self, session, city_id, project_id, model_version: str) -> TopicModel | None:
        key = (str(city_id), str(project_id))
        hit = self.models.get(key)
        if hit is not None and hit[0] == model_version:
            self.models.move_to_end(key)
            return hit[1]
        blob = store.model_blob(session, city_id, project_id, model_version)
        if blob is None:
            return None
        model = TopicModel.from_bytes(bytes(blob))
        self.models[key] = (model_version, model)
        while len(self.models) > MAX_MODELS:
            self.models.popitem(last=False)
        return model

    def current_model(self, session, city_id, project_id) -> TopicModel | None:
        meta = store.model_meta(session, city_id, project_id)
        if meta is None or meta.status != "ok":
            return None
        return self.model(session, city_id, project_id, meta.model_version)

    def build_soon(self, city_id, project_id) -> bool:
        """Start a build of the project in the background, unless this replica is building it already."""
        key = (str(city_id), str(project_id))
        if key in self.building:
            return False
        self.building.add(key)

        def run():
            try:
                self.build(city_id, project_id)
            except Exception:  # logged; the timer tries again
                self.log.exception("topic_build_failed", city_id=str(city_id), project_id=str(project_id))
            finally:
                self.building.discard(key)

        self.container.spawn_managed_thread(run)
        return True

    def build_stale(self) -> int:
        """Start background builds of the projects whose model is due (see report.rebuild_due)."""
        now = datetime.now(UTC)
        with self.db.read() as s:
            rows = store.build_candidates(s)
        started = 0
        for r in rows:
            if rebuild_due(_state(r), now):
                started += self.build_soon(r.city_id, r.id)
        return started

    def build(self, city_id, project_id) -> str:
        """Build the project's model if it is due; one replica at a time (advisory lock). The outcome."""
        lock_key = f"analytics:build:{project_id}"
        with engine().connect() as conn:
            got = conn.execute(text("SELECT pg_try_advisory_lock(hashtextextended(:k, 0))"), {"k": lock_key}).scalar()
            conn.commit()
            if not got:
                return "busy"
            try:
                return self._build_locked(city_id, project_id)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(hashtextextended(:k, 0))"), {"k": lock_key})
                conn.commit()

    def _build_locked(self, city_id, project_id) -> str:
        log = self.log.bind(city_id=str(city_id), project_id=str(project_id))
        with self.db.read() as s:
            state = store.build_state(s, city_id, project_id)
            if state is None or not rebuild_due(_state(state), datetime.now(UTC)):
                return "fresh"
            started_at = s.execute(text("SELECT clock_timestamp()")).scalar()
            version = s.execute(
                text("SELECT ideas_version FROM analytics.projects WHERE id = :p AND city_id = :c"),
                {"p": str(project_id), "c": str(city_id)},
            ).scalar()
            rows = store.visible_ideas(s, city_id, project_id)
        items = [(str(r.id), idea_text(r.title, r.body), r.locale) for r in rows]
        t0 = time.perf_counter()
        try:
            model = tpool.execute(build_topics, items, seed=0)
        except NotEnoughIdeas as exc:
            model, have, needed = None, exc.count, exc.minimum
        seconds = time.perf_counter() - t0
        with self.db.transaction() as tx:
            store.topic_lock(tx, project_id, shared=False)
            if model is None:
                store.save_model(tx, city_id, project_id, status="not_enough_ideas", model_version=None, blob=None,
                                 topics=[], have=have, needed=needed, built_version=version,
                                 started_at=started_at, build_seconds=seconds)
                store.set_topics(tx, city_id, project_id, None, [])
                log.info("topic_model_not_enough_ideas", have=have, needed=needed)
                return "not_enough_ideas"
            blob = tpool.execute(model.to_bytes)
            topics = [{"id": t.topic_id, "label": t.label, "keywords": t.keywords} for t in model.topics]
            store.save_model(tx, city_id, project_id, status="ok", model_version=model.model_version, blob=blob,
                             topics=topics, have=len(items), needed=0, built_version=version,
                             started_at=started_at, build_seconds=seconds)
            # Ideas that arrived while building are assigned now; after this lock is released, new ones
            # are assigned by their own event handler with this model.
            assigned = []
            for r in store.visible_ideas(tx.session, city_id, project_id):
                topic = model.assignments.get(str(r.id), "missing")
                if topic == "missing":
                    a = model.assign(idea_text(r.title, r.body), r.locale)
                    topic, score = a.topic_id, a.score
                else:
                    score = None
                if topic is not None:
                    assigned.append((r.id, topic, score))
            store.set_topics(tx, city_id, project_id, model.model_version, assigned)
        key = (str(city_id), str(project_id))
        self.models[key] = (model.model_version, model)
        log.info("topic_model_built", model_version=model.model_version, topics=model.num_topics,
                 ideas=len(items), seconds=round(seconds, 3))
        return "ok"


def _state(row) -> BuildState:
    return BuildState(ideas_version=row.ideas_version, visible=row.visible,
                      refresh_requested_at=row.refresh_requested_at, built_version=row.built_version,
                      started_at=row.started_at, status=row.status)
