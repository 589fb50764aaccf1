"""Budgets, items, ballots and cached results in the database.

- A budget row is the lock that orders everything in its project: configuring it and adding items
  take it `FOR UPDATE`; a draft takes it `FOR SHARE`; a submission bumps its `version` with
  `UPDATE ... WHERE phase = 'voting'`, so a ballot submitted while voting closes either commits first
  (and is counted in the published results) or finds the phase closed.
- One ballot per user and budget is a unique constraint; a draft is an upsert that changes the row
  only while it is a draft, so a submitted ballot stays as it was.
- An import writes items with one multi-row insert and the ballots with `INSERT ... SELECT`s from
  JSON documents of a few thousand voters each (COPY is not available to green psycopg2), all in the caller's transaction: a file is
  imported whole or not at all.
"""
from __future__ import annotations

import json
import uuid
from decimal import Decimal

from sqlalchemy import delete, func, literal, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert

from services.budgeting.models import ballots, budgets, items, results

# -- budgets ---------------------------------------------------------------------------------------


def budget_of(session, city_id, project_id, lock: str | None = None):
    stmt = select(budgets).where(budgets.c.city_id == city_id, budgets.c.project_id == project_id)
    if lock == "update":
        stmt = stmt.with_for_update()
    elif lock == "share":
        stmt = stmt.with_for_update(read=True)
    return session.execute(stmt).first()


def budget_dict(row) -> dict:
    return {"total": row.total, "currency": row.currency, "ballot": dict(row.ballot), "phase": row.phase,
            "rule": row.rule, "version": row.version, "meta": row.meta}


def create_budget(tx, city_id, project_id, *, total, currency, ballot, phase, rule, meta=None):
    return tx.execute(
        insert(budgets).values(city_id=city_id, project_id=project_id, total=total, currency=currency,
                               ballot=ballot, phase=phase, rule=rule, meta=meta)
        .on_conflict_do_nothing().returning(budgets)
    ).first()


def update_budget(tx, city_id, project_id, bump: bool = False, **values):
    if bump:
        values["version"] = budgets.c.version + 1
    return tx.execute(
        update(budgets).where(budgets.c.city_id == city_id, budgets.c.project_id == project_id)
        .values(**values, updated_at=func.now()).returning(budgets)
    ).one()


def counts(session, city_id, project_id) -> dict:
    row = session.execute(
        select(
            select(func.count()).select_from(items)
            .where(items.c.city_id == city_id, items.c.project_id == project_id).scalar_subquery().label("items"),
            select(func.count()).select_from(ballots)
            .where(ballots.c.city_id == city_id, ballots.c.project_id == project_id,
                   ballots.c.status == "submitted").scalar_subquery().label("submitted"),
            select(func.count()).select_from(ballots)
            .where(ballots.c.city_id == city_id, ballots.c.project_id == project_id).scalar_subquery().label("all"),
        )
    ).one()
    return {"items": row.items, "ballots_submitted": row.submitted, "ballots": row.all}


# -- items -----------------------------------------------------------------------------------------


def item_dict(row) -> dict:
    return {"id": str(row.id), "project_id": str(row.project_id), "title": dict(row.title),
            "cost": _number(row.cost), "idea_id": str(row.idea_id) if row.idea_id else None,
            "created_at": row.created_at.isoformat()}


def add_item(tx, city_id, project_id, *, title, cost, idea_id=None):
    item_id = uuid.uuid4()
    position = tx.execute(
        select(func.coalesce(func.max(items.c.position), 0) + 1)
        .where(items.c.city_id == city_id, items.c.project_id == project_id)
    ).scalar_one()
    return tx.execute(
        insert(items).values(id=item_id, city_id=city_id, project_id=project_id, key=str(item_id), title=title,
                             cost=cost, idea_id=idea_id, position=position)
        .on_conflict_do_nothing().returning(items)
    ).first()


def delete_item(tx, city_id, project_id, item_id) -> bool:
    return tx.execute(
        delete(items).where(items.c.city_id == city_id, items.c.project_id == project_id, items.c.id == item_id)
        .returning(items.c.id)
    ).first() is not None


def items_page(session, city_id, project_id, *, after=None, limit: int) -> list:
    q = select(items).where(items.c.city_id == city_id, items.c.project_id == project_id)
    if after is not None:
        q = q.where(tuple_(items.c.position, items.c.id)
                    > tuple_(literal(int(after[0]), items.c.position.type), literal(after[1], items.c.id.type)))
    return session.execute(q.order_by(items.c.position, items.c.id).limit(limit)).all()


def items_of(session, city_id, project_id) -> list:
    return session.execute(
        select(items).where(items.c.city_id == city_id, items.c.project_id == project_id)
        .order_by(items.c.position, items.c.id)
    ).all()


def insert_items(tx, city_id, project_id, plans) -> dict[str, str]:
    """Insert imported items in one statement; the file's project_id → the new item id."""
    rows = [{"id": uuid.uuid4(), "city_id": city_id, "project_id": project_id, "key": p.key, "title": p.title,
             "cost": p.cost, "extra": p.extra or None, "position": n} for n, p in enumerate(plans, start=1)]
    if rows:
        tx.execute(insert(items).values(rows))
    return {r["key"]: str(r["id"]) for r in rows}


# -- ballots ---------------------------------------------------------------------------------------


def ballot_dict(row) -> dict:
    out = {"id": str(row.id), "project_id": str(row.project_id), "status": row.status,
           "item_ids": list(row.item_ids), "updated_at": row.updated_at.isoformat(),
           "submitted_at": row.submitted_at.isoformat() if row.submitted_at else None}
    if row.points is not None:
        out["points"] = {i: _number(p) for i, p in zip(row.item_ids, row.points)}
    return out


def ballot_of(session, city_id, project_id, user_id):
    return session.execute(
        select(ballots).where(ballots.c.city_id == city_id, ballots.c.project_id == project_id,
                              ballots.c.user_id == user_id)
    ).first()


def save_draft(tx, city_id, project_id, user_id, item_ids: list[str], points: list | None):
    """Insert or replace the user's draft; None when their ballot is submitted already."""
    stmt = insert(ballots).values(id=uuid.uuid4(), city_id=city_id, project_id=project_id, user_id=user_id,
                                  status="draft", item_ids=item_ids, points=points)
    stmt = stmt.on_conflict_do_update(
        constraint="uq_ballots_one_per_user",
        set_={"item_ids": stmt.excluded.item_ids, "points": stmt.excluded.points, "updated_at": func.now()},
        where=ballots.c.status == "draft",
    ).returning(ballots)
    return tx.execute(stmt).first()


def submit(tx, city_id, project_id, user_id):
    """Mark the user's draft submitted; None when there is no draft."""
    return tx.execute(
        update(ballots).where(ballots.c.city_id == city_id, ballots.c.project_id == project_id,
                              ballots.c.user_id == user_id, ballots.c.status == "draft")
        .values(status="submitted", submitted_at=func.now(), updated_at=func.now()).returning(ballots)
    ).first()


def submitted(session, city_id, project_id, *, full: bool = False) -> list:
    """Every submitted ballot in file order, then in order of submission: (user_id, item_ids as one
    comma-separated text, points, age_group, gender, district), and with `full` also id, voter_ref and extra."""
    columns = [ballots.c.user_id, func.array_to_string(ballots.c.item_ids, ",").label("item_ids"), ballots.c.points,
               ballots.c.age_group, ballots.c.gender, ballots.c.district]
    if full:
        columns += [ballots.c.id, ballots.c.voter_ref, ballots.c.extra]
    return session.execute(
        select(*columns)
        .where(ballots.c.city_id == city_id, ballots.c.project_id == project_id, ballots.c.status == "submitted")
        .order_by(ballots.c.position.asc().nulls_last(), ballots.c.submitted_at, ballots.c.id)
    ).all()


_BULK_BALLOTS = text(
    """
    INSERT INTO budgeting.ballots (id, city_id, project_id, voter_ref, status, item_ids, points, age_group, gender,
                                   district, extra, position, submitted_at)
    SELECT gen_random_uuid(), CAST(:city_id AS uuid), CAST(:project_id AS uuid), v.r, 'submitted', v.i, v.p, v.a,
           v.g, v.d, v.e, v.n, now()
    FROM jsonb_to_recordset(CAST(:voters AS jsonb))
         AS v(r text, i uuid[], p numeric[], a text, g text, d text, e jsonb, n bigint)
    """
)


BALLOTS_PER_STATEMENT = 2000  # a statement's JSON document is built in a few milliseconds


def bulk_ballots(tx, city_id, project_id, voters, item_id_of: dict[str, str]) -> int:
    """Write imported voters as submitted ballots, a few thousand per statement (the server unpacks one
    JSON document per statement; while it does, the process serves other work); returns how many."""
    voters = list(voters)
    for start in range(0, len(voters), BALLOTS_PER_STATEMENT):
        rows = [
            {"r": v.voter_ref, "i": [item_id_of[k] for k in v.keys],
             "p": [str(x) for x in v.points] if v.points is not None else None,
             "a": v.age_group, "g": v.gender, "d": v.district, "e": v.extra or None, "n": n}
            for n, v in enumerate(voters[start:start + BALLOTS_PER_STATEMENT], start=start + 1)
        ]
        tx.execute(_BULK_BALLOTS, {"city_id": str(city_id), "project_id": str(project_id),
                                   "voters": json.dumps(rows, ensure_ascii=False, separators=(",", ":"))})
    return len(voters)


# -- results ---------------------------------------------------------------------------------------


def cached(session, city_id, project_id, rule: str, dimension: str, version: int):
    row = session.execute(
        select(results.c.answer).where(
            results.c.city_id == city_id, results.c.project_id == project_id, results.c.rule == rule,
            results.c.dimension == dimension, results.c.version == version)
    ).first()
    return row.answer if row else None


def cache(tx, city_id, project_id, rule: str, dimension: str, version: int, answer: dict) -> None:
    tx.execute(
        insert(results).values(city_id=city_id, project_id=project_id, rule=rule, dimension=dimension,
                               version=version, answer=answer).on_conflict_do_nothing()
    )
    # older versions of this budget's results are never read again
    tx.execute(delete(results).where(results.c.city_id == city_id, results.c.project_id == project_id,
                                     results.c.version < version))


def lock_results(tx, city_id, project_id, rule: str, dimension: str) -> None:
    """Serialise computing one result: concurrent requests wait for the first and then read its cache."""
    tx.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
               {"k": f"budgeting.results:{city_id}:{project_id}:{rule}:{dimension}"})


def _number(value):
    if value is None:
        return None
    d = Decimal(str(value))
    return int(d) if d == d.to_integral_value() else float(d)
