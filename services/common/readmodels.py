"""Read models: the facts a service keeps of another service's data, from its events (or from one
RPC answer when an event has not arrived yet).

Events of different types travel on different queues, and any event may come twice, so a fact is
merged in a way that converges whatever the order:

- a row is keyed by its id (with `city_id`); the first fact inserts it, later ones merge into it;
- the row carries the time of the newest fact applied (`at`: the event's `occurred_at`, or the time
  an RPC answer was read); a fact older than that changes no column, except
- `keep_known` columns, which a fact that does not know them (NULL) never clears, and which an older
  fact may still fill in when they are unknown (a project's method, a target's idea or author);
- `tombstones`, boolean columns that once true stay true whatever arrives later or earlier (deleted).

    projects = ReadModel(models.projects, key=("city_id", "project_id"), keep_known=("method",))
    projects.upsert(tx, at=event.occurred_at, city_id=c, project_id=p, status="active", method=None)
    row = projects.get(session, city_id=c, project_id=p)
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, and_, case, false, func, or_, select
from sqlalchemy.dialects.postgresql import insert


class ReadModel:
    def __init__(self, table: Table, key: tuple[str, ...], *, at: str = "state_at", keep_known: tuple[str, ...] = (),
                 tombstones: tuple[str, ...] = (), touched: str | None = None):
        """`table` keyed by the columns `key`, whose column `at` holds the time of the newest fact;
        `touched`, if given, is a column set to now() whenever a fact changes the row."""
        columns = set(table.c.keys())
        unknown = {at, *key, *keep_known, *tombstones, *([touched] if touched else [])} - columns
        if unknown:
            raise ValueError(f"{table.name} has no columns {sorted(unknown)}")
        self.table, self.key, self.at = table, tuple(key), at
        self.keep_known, self.tombstones, self.touched = frozenset(keep_known), frozenset(tombstones), touched

    def upsert(self, tx, *, at: datetime | None, **values) -> None:
        """Merge one fact: `values` holds the key columns and the columns the fact speaks of. `at` None
        is a fact without a time (it fills unknown columns and sets tombstones, nothing else)."""
        missing = [k for k in self.key if values.get(k) is None]
        if missing:
            raise ValueError(f"a fact about {self.table.name} needs {missing}")
        stmt = insert(self.table).values(**values, **{self.at: at})
        old, new = self.table.c, stmt.excluded
        newer = and_(new[self.at].is_not(None), or_(old[self.at].is_(None), new[self.at] > old[self.at]))
        set_, changes = {}, [newer]
        for name in values:
            if name in self.key:
                continue
            if name in self.tombstones:
                set_[name] = old[name] | new[name]
                changes.append(and_(new[name], ~old[name]))
            elif name in self.keep_known:
                set_[name] = case((newer, func.coalesce(new[name], old[name])), else_=func.coalesce(old[name], new[name]))
                changes.append(and_(old[name].is_(None), new[name].is_not(None)))
            else:
                set_[name] = case((newer, new[name]), else_=old[name])
        set_[self.at] = case((newer, new[self.at]), else_=old[self.at])
        if self.touched:
            set_[self.touched] = func.now()
        tx.execute(stmt.on_conflict_do_update(
            index_elements=[old[k] for k in self.key], set_=set_, where=or_(false(), *changes),
        ))

    def get(self, session, **key):
        """The row with this key, or None."""
        return session.execute(select(self.table).where(*self._match(key))).first()

    def get_many(self, session, ids, **key) -> list:
        """The known rows whose last key column is in `ids`, the other key columns as given."""
        *fixed, last = self.key
        ids = list(ids)
        if not ids:
            return []
        where = [self.table.c[k] == key[k] for k in fixed] + [self.table.c[last].in_(ids)]
        return session.execute(select(self.table).where(*where)).all()

    def _match(self, key: dict) -> list:
        if set(key) != set(self.key):
            raise ValueError(f"give exactly {list(self.key)}")
        return [self.table.c[k] == v for k, v in key.items()]
