"""Budgeting's use cases: configure a budget and move it through its phases, items, ballots, results
(published when voting closes), pabulib imports and exports, and the read models of projects and
demographics.

Plain functions called with their dependencies: `tx` or `db` (when a use case asks a peer between
reads and writes), `peers` (`peers.ask(service, method, *args)`), `now` (the clock), `pause` (lets other
work run during a long parse). The decisions are in rules.py, ballots.py, tally.py and outcomes.py;
the SQL in store.py.
"""
from __future__ import annotations

import contextlib
import gc
import uuid
from datetime import datetime

from eventlet import tpool

from services.budgeting import interchange, pabulib, readmodels, rules, schemas, store, tally
from services.common import auth, logs, pagination
from services.common.errors import AgoraError, Conflict, NotFound, ValidationFailed
from services.common.texts import check_locales

ACCEPTED_IDEA_STATUSES = ("accepted", "implemented")
DEFAULT_CURRENCY = "EUR"


# -- the budget --------------------------------------------------------------------------------------
def configure_budget(db, me: auth.Principal, pid: uuid.UUID, data: schemas.BudgetBody, *, peers, now: datetime,
                     principal: dict) -> dict:
    wanted = data.model_dump(exclude_unset=True, exclude_none=True)
    if "ballot" in wanted:
        wanted["ballot"] = rules.normalized_ballot(data.ballot.model_dump(mode="json"))
    require_budgeting_project(db, me.city_id, pid, peers=peers, now=now, principal=principal)
    with db.transaction() as tx:
        row = store.budget_of(tx.session, me.city_id, pid, lock="update")
        if row is None:
            missing = [k for k in ("total", "currency", "ballot") if k not in wanted]
            if missing:
                raise ValidationFailed("A new budget needs its total, currency and ballot rules.",
                                       [{"field": k, "issue": "required when the budget is first configured"}
                                        for k in missing])
            row = store.create_budget(
                tx, me.city_id, pid, total=wanted["total"], currency=wanted["currency"], ballot=wanted["ballot"],
                phase=wanted.get("phase", "collecting"), rule=wanted.get("rule", rules.DEFAULT_RULE))
            if row is None:
                raise Conflict("The budget was configured by someone else at the same moment; try again.")
            _phase_changed(tx, me, pid, row)
        else:
            current = store.budget_dict(row)
            rules.check_settings_change(row.phase, current, wanted)
            if "phase" in wanted:
                rules.check_phase_change(row.phase, wanted["phase"])
            changes = {k: v for k, v in wanted.items() if v != current.get(k)}
            if changes:
                row = store.update_budget(tx, me.city_id, pid, bump="total" in changes, **changes)
            if "phase" in changes:
                _phase_changed(tx, me, pid, row)
        counts = store.counts(tx.session, me.city_id, pid)
    return budget_view(pid, row, counts)


def _phase_changed(tx, me, pid, row, loaded: tuple | None = None) -> None:
    tx.emit("budgeting.phase_changed", city_id=me.city_id, actor_id=me.user_id,
            data={"project_id": pid, "phase": row.phase})
    if row.phase == "closed":
        _publish(tx, me, pid, row, loaded)


def _publish(tx, me, pid, row, loaded: tuple | None = None) -> dict:
    """Compute the budget's own rule over the submitted ballots, store it as the published result and
    announce it. Runs in the transaction that closed the budget, which holds the budget row."""
    answer = _compute(tx.session, me.city_id, pid, row, row.rule, None, {}, loaded)
    store.cache(tx, me.city_id, pid, row.rule, "", row.version, answer)
    tx.emit("budgeting.results_published", city_id=me.city_id, actor_id=me.user_id, data={
        "project_id": pid, "rule": row.rule, "selected": answer["selected"], "spent": answer["spent"]})
    return answer


def get_budget(session, city_id, pid) -> dict:
    row = budget_or_404(session, city_id, pid)
    return budget_view(pid, row, store.counts(session, city_id, pid))


def budget_or_404(session, city_id, pid, lock=None):
    row = store.budget_of(session, city_id, pid, lock=lock)
    if row is None:
        raise NotFound("This project has no budget.")
    return row


# -- items -------------------------------------------------------------------------------------------
def add_item(db, me: auth.Principal, pid, data: schemas.CityItem, *, peers, principal: dict) -> dict:
    check_locales(data.city_locales, title=data.title)
    if data.idea_id is not None:
        _check_idea(peers, principal, me.city_id, data.idea_id)
    with db.transaction() as tx:
        budget = budget_or_404(tx.session, me.city_id, pid, lock="update")
        if budget.phase != "collecting":
            raise Conflict(f"The budget is {budget.phase}; items are added while collecting.")
        row = store.add_item(tx, me.city_id, pid, title=data.title, cost=data.cost, idea_id=data.idea_id)
        if row is None:
            raise Conflict("This idea is an item of this budget already.",
                           [{"field": "idea_id", "issue": "already an item"}])
        store.update_budget(tx, me.city_id, pid, bump=True)
    return store.item_dict(row)


def _check_idea(peers, principal, city_id, idea_id) -> None:
    try:
        idea = peers.ask("ideas", "get_idea", principal, str(city_id), str(idea_id))
    except NotFound:
        raise ValidationFailed("No such idea.", [{"field": "idea_id", "issue": "no such idea in this city"}]) from None
    status = idea.get("status")
    if status not in ACCEPTED_IDEA_STATUSES:
        raise ValidationFailed("Only accepted ideas become budget items.", [
            {"field": "idea_id", "issue": f"the idea is {status}; it must be accepted"}])


def delete_item(tx, me: auth.Principal, pid, iid: uuid.UUID | None) -> dict:
    budget = budget_or_404(tx.session, me.city_id, pid, lock="update")
    if budget.phase != "collecting":
        raise Conflict(f"The budget is {budget.phase}; items are removed only while collecting.")
    if iid is None or not store.delete_item(tx, me.city_id, pid, iid):
        raise NotFound("No such item in this budget.")
    store.update_budget(tx, me.city_id, pid, bump=True)
    return {"id": str(iid), "deleted": True}


def list_items(session, city_id, pid, query: schemas.ItemsQuery) -> dict:
    limit = pagination.limit_of(query.limit)
    after = pagination.decode(query.cursor)
    if after is not None:
        if len(after) != 2 or uuid_or_none(after[1]) is None or not str(after[0]).isdigit():
            raise ValidationFailed("The cursor is not valid.", [{"field": "cursor", "issue": "not a cursor of this list"}])
        after = [int(after[0]), uuid_or_none(after[1])]
    budget_or_404(session, city_id, pid)
    rows = store.items_page(session, city_id, pid, after=after, limit=limit + 1)
    page = pagination.page(rows, limit, lambda r: [r.position, str(r.id)])
    return {**page, "items": [store.item_dict(r) for r in page["items"]]}


# -- ballots -----------------------------------------------------------------------------------------
def save_ballot(tx, me: auth.Principal, pid, data: schemas.BallotBody) -> dict:
    budget = budget_or_404(tx.session, me.city_id, pid, lock="share")
    _check_voting(budget)
    return store.ballot_dict(_save_draft(tx, me, pid, budget, data))


def _save_draft(tx, me, pid, budget, data: schemas.BallotBody):
    config = dict(budget.ballot)
    ballot = rules.ballot_of(config, data.item_ids, data.points)
    costs = {str(i.id): i.cost for i in store.items_of(tx.session, me.city_id, pid)}
    rules.check_ballot(ballot, costs, config, budget.total)
    if isinstance(ballot, dict):
        given = [(k, v) for k, v in ballot.items() if v > 0]
        item_ids, points = [k for k, _ in given], [v for _, v in given]
    else:
        item_ids, points = ballot, None
    row = store.save_draft(tx, me.city_id, pid, me.user_id, item_ids, points)
    if row is None:
        raise Conflict("Your ballot is submitted; a submitted ballot is final.")
    return row


def get_ballot(session, me: auth.Principal, pid) -> dict:
    row = store.ballot_of(session, me.city_id, pid, me.user_id)
    if row is None:
        raise NotFound("You have no ballot in this budget.")
    return store.ballot_dict(row)


def submit_ballot(tx, me: auth.Principal, pid, data: schemas.BallotBody) -> dict:
    """Submit the draft (or, with a body, save it as the draft first): final from now on."""
    budget = budget_or_404(tx.session, me.city_id, pid, lock="update")
    _check_voting(budget)
    if data.item_ids is not None or data.points is not None:
        _save_draft(tx, me, pid, budget, data)
    row = store.submit(tx, me.city_id, pid, me.user_id)
    if row is None:
        if store.ballot_of(tx.session, me.city_id, pid, me.user_id) is not None:
            raise Conflict("Your ballot is submitted already; a submitted ballot is final.")
        raise Conflict("You have no ballot to submit; save one with PUT .../ballot first.")
    store.update_budget(tx, me.city_id, pid, bump=True)
    tx.emit("budgeting.ballot_submitted", city_id=me.city_id, actor_id=me.user_id, data={
        "project_id": pid, "user_id": me.user_id, "ballot_id": row.id, "item_ids": list(row.item_ids)})
    return store.ballot_dict(row)


def _check_voting(budget) -> None:
    if budget.phase != "voting":
        raise Conflict(f"The budget is {budget.phase}; ballots are cast only in the voting phase.")


# -- results -----------------------------------------------------------------------------------------
def results(db, me: auth.Principal | None, city_id, pid, query: schemas.ResultsQuery, *, peers, now: datetime) -> dict:
    with db.read() as s:
        budget = budget_or_404(s, city_id, pid)
        if budget.phase != "closed" and not (me is not None and me.at_least("admin")
                                              and str(me.city_id) == str(city_id)):
            raise Conflict(f"The budget is {budget.phase}; results are published when voting closes.")
        rule = query.rule or budget.rule
        dimension = query.by or ""
        answer = store.cached(s, city_id, pid, rule, dimension, budget.version)
    if answer is not None:
        return answer
    profiles = _profiles_for(db, city_id, pid, peers=peers, now=now) if dimension else {}
    with db.transaction() as tx:
        store.lock_results(tx, city_id, pid, rule, dimension)
        budget = budget_or_404(tx.session, city_id, pid, lock="share")  # holds submissions back meanwhile
        answer = store.cached(tx.session, city_id, pid, rule, dimension, budget.version)
        if answer is None:
            answer = _compute(tx.session, city_id, pid, budget, rule, query.by, profiles)
            store.cache(tx, city_id, pid, rule, dimension, budget.version, answer)
    return answer


def _compute(session, city_id, pid, budget, rule: str, by: str | None, profiles: dict,
             loaded: tuple | None = None) -> dict:
    """The answer of the results route. `loaded` = (items, ballots) when the caller has them at hand
    (an import); otherwise the items and submitted ballots are read."""
    if loaded is not None:
        items, ballots = loaded
        rows = []
    else:
        items = [tally.Item(str(i.id), i.key, i.cost) for i in store.items_of(session, city_id, pid)]
        rows = store.submitted(session, city_id, pid)
        ballots = tally.ballots_of(rows, {i.item_id: i.key for i in items},
                                   cumulative=budget.ballot.get("type") == "cumulative")
    # the outcome methods are CPU-bound: run them on a thread so this process keeps serving meanwhile
    if by is None:
        answer = tpool.execute(tally.outcome, rule, items, budget.total, ballots)
    else:
        groups = [tally.group_of(r._asdict(), profiles.get(str(r.user_id)) if r.user_id else None, by)
                  for r in rows]
        answer = tpool.execute(tally.by_group, rule, items, budget.total, ballots, groups, by)
    return {"project_id": str(pid), "currency": budget.currency, "total": tally.number(budget.total),
            "ballots": len(ballots), **answer}


def _profiles_for(db, city_id, pid, *, peers, now: datetime) -> dict:
    """The demographics of the budget's voters: from the read model, the missing ones asked of accounts
    once (without them a voter counts as unknown)."""
    with db.read() as s:
        users = [str(r.user_id) for r in store.submitted(s, city_id, pid) if r.user_id]
        known = readmodels.get_profiles(s, city_id, users)
    missing = [u for u in users if u not in known]
    if not missing:
        return known
    try:
        found = peers.ask("accounts", "get_profiles", str(city_id), missing)
    except AgoraError:
        found = []
    if found:
        with db.transaction() as tx:
            for p in found:
                readmodels.upsert_profile(tx, city_id, p["user_id"], birth_year=p.get("birth_year"),
                                          gender=p.get("gender"), district=p.get("district"), at=now)
            known = readmodels.get_profiles(tx.session, city_id, users)
    return known


# -- pabulib -----------------------------------------------------------------------------------------
def import_pabulib(db, me: auth.Principal, pid, data: schemas.PabulibImport, *, peers, now: datetime,
                   principal: dict, pause) -> dict:
    """Items and submitted anonymous ballots from a .pb file, in one transaction; the budget is then
    closed and its results published."""
    require_budgeting_project(db, me.city_id, pid, peers=peers, now=now, principal=principal)
    if not data.text.strip():
        raise ValidationFailed("The body is empty; send a pabulib .pb file.", [{"field": "body", "issue": "empty"}])
    # in this green thread, pausing every few rows: a large file never holds the process
    with young_collections_only():
        try:
            election = pabulib.parse(data.text, pause=pause)
        except pabulib.PabulibError as exc:
            issue = {"field": "body", "issue": exc.message}
            if exc.line is not None:
                issue["line"] = exc.line
            raise ValidationFailed(f"The pabulib file is not valid: {exc}", [issue]) from None
        plan = interchange.plan_import(election, data.city_locales, pause=pause)
        del election
        item_ids, count = _store_import(db, me, pid, plan)
        del plan  # freed before the collector runs in full again
    logs.get().info("pabulib_imported", project_id=str(pid), items=len(item_ids), ballots=count)
    return {"items": item_ids, "ballots": count}


def _store_import(db, me, pid, plan: interchange.ImportPlan) -> tuple[dict, int]:
    with db.transaction() as tx:
        row = store.budget_of(tx.session, me.city_id, pid, lock="update")
        if row is not None:
            counts = store.counts(tx.session, me.city_id, pid)
            if counts["items"] or counts["ballots"]:
                raise Conflict("This budget has items or ballots already; a file is imported into an empty budget.")
        fields = {"total": plan.total, "currency": plan.currency or (row.currency if row else DEFAULT_CURRENCY),
                  "ballot": plan.ballot, "meta": plan.meta}
        if row is None:
            row = store.create_budget(tx, me.city_id, pid, phase="closed", rule=rules.DEFAULT_RULE, **fields)
            if row is None:
                raise Conflict("The budget was configured by someone else at the same moment; try again.")
        else:
            store.update_budget(tx, me.city_id, pid, bump=True, phase="closed", **fields)
        item_ids = store.insert_items(tx, me.city_id, pid, plan.items)
        count = store.bulk_ballots(tx, me.city_id, pid, plan.voters, item_ids)
        row = store.budget_of(tx.session, me.city_id, pid)
        loaded = ([tally.Item(item_ids[p.key], p.key, p.cost) for p in plan.items], plan.ballots())
        _phase_changed(tx, me, pid, row, loaded)
    return item_ids, count


_parsing = 0


@contextlib.contextmanager
def young_collections_only():
    """A large file becomes a million small objects while it is read and stored: a full collection of
    the garbage collector over them holds the process for hundreds of milliseconds. Meanwhile only the
    young generations are collected, at each pause (`collect_young`); the full collection comes after,
    once they are freed."""
    global _parsing
    _parsing += 1
    gc.disable()
    try:
        yield
    finally:
        _parsing -= 1
        if not _parsing:
            gc.enable()


def collect_young() -> None:
    gc.collect(1)


def export_pabulib(session, me: auth.Principal, pid) -> str:
    budget = store.budget_dict(budget_or_404(session, me.city_id, pid))
    items = [{"id": i.id, "key": i.key, "title": i.title, "cost": i.cost, "extra": i.extra}
             for i in store.items_of(session, me.city_id, pid)]
    rows = store.submitted(session, me.city_id, pid, full=True)
    profiles = readmodels.get_profiles(session, me.city_id, [str(r.user_id) for r in rows if r.user_id])
    ballots = [{"id": r.id, "user_id": r.user_id, "voter_ref": r.voter_ref,
                "item_ids": r.item_ids.split(",") if r.item_ids else [], "points": r.points, "extra": r.extra}
               for r in rows]
    return tpool.execute(lambda: pabulib.dump(interchange.election_of(budget, items, ballots, profiles)))


# -- projects (ideas) and profiles (accounts) ---------------------------------------------------------------
def require_budgeting_project(db, city_id, pid: uuid.UUID, *, peers, now: datetime, principal) -> None:
    """The project must be a `budgeting` project: from the read model, or asked of ideas once."""
    with db.read() as s:
        project = readmodels.get_project(s, city_id, pid)
    if project is None or project.method is None:
        try:
            answer = peers.ask("ideas", "get_project", principal, str(city_id), str(pid))
        except NotFound:
            raise NotFound("No such project.") from None
        with db.transaction() as tx:
            readmodels.upsert_project(tx, city_id, pid, status=answer["status"], method=answer.get("method"), at=now)
            project = readmodels.get_project(tx.session, city_id, pid)
    if project.method != "budgeting":
        raise Conflict(f"This is a {project.method} project; budgets belong to budgeting projects.")


def project_fact(tx, event) -> None:
    d = event.data
    readmodels.upsert_project(tx, event.city_id, d["project_id"], status=d["status"], method=d.get("method"),
                              at=event.occurred_at)


def profile_fact(tx, event) -> None:
    d = event.data
    readmodels.upsert_profile(tx, d.get("city_id") or event.city_id, d["user_id"], birth_year=d.get("birth_year"),
                              gender=d.get("gender"), district=d.get("district"), at=event.occurred_at)


# -- views -------------------------------------------------------------------------------------------
def budget_view(pid, row, counts: dict) -> dict:
    return {
        "project_id": str(pid), "total": tally.number(row.total), "currency": row.currency,
        "ballot": {k: v for k, v in dict(row.ballot).items() if v is not None}, "phase": row.phase,
        "rule": row.rule, "items_count": counts["items"], "ballots_submitted": counts["ballots_submitted"],
        "imported": row.meta is not None, "updated_at": row.updated_at.isoformat(),
    }


def uuid_or_none(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None
