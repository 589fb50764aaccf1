"""Budgeting's handlers against the real PostgreSQL, without the bus."""
import uuid

import pytest
from sqlalchemy import text

from services.budgeting import handlers, schemas
from services.common import auth
from services.common.errors import Conflict, NotFound, Unavailable, ValidationFailed
from services.common.events import Envelope

PB = """META
key;value
budget;100
vote_type;approval
num_projects;2
num_votes;3
PROJECTS
project_id;cost;name
a;60;Benches
b;50;Trees
VOTES
voter_id;vote;sex
v1;a;F
v2;a,b;M
v3;b;F
"""


@pytest.fixture(scope="module")
def db(service_db):
    return service_db("budgeting")


@pytest.fixture
def admin(city_id):
    return auth.Principal(user_id=str(uuid.uuid4()), city_id=city_id, role="admin")


@pytest.fixture
def project(peers):
    """A budgeting project that ideas knows of (the read model learns it by asking once)."""
    pid = uuid.uuid4()

    def get_project(principal, city_id, project_id):
        if project_id != str(pid):
            raise NotFound("No such project.")
        return {"status": "active", "method": "budgeting"}

    peers.answers[("ideas", "get_project")] = get_project
    return pid


def _citizen(city_id):
    return auth.Principal(user_id=str(uuid.uuid4()), city_id=city_id, role="citizen")


def _configure(db, admin, pid, peers, clock, **body):
    return handlers.configure_budget(db, admin, pid, schemas.BudgetBody(**body), peers=peers, now=clock.now,
                                     principal=admin.model_dump(mode="json"))


def _item(db, admin, pid, peers, cost, locales=("en",), **extra):
    data = schemas.CityItem(title={"en": f"Item {cost}"}, cost=cost, city_locales=list(locales), **extra)
    return handlers.add_item(db, admin, pid, data, peers=peers, principal=None)


def _events(db, city_id) -> list[str]:
    with db.transaction() as tx:
        return [r.type for r in tx.execute(text(
            "SELECT type FROM budgeting.outbox WHERE payload->>'city_id' = :c ORDER BY id"), {"c": city_id})]


APPROVAL = {"type": "approval", "min_items": 1, "max_items": 2}


def test_a_budget_from_collecting_to_voting_to_closed_with_its_results(db, admin, project, peers, clock, city_id):
    view = _configure(db, admin, project, peers, clock, total=100, currency="EUR", ballot=APPROVAL)
    assert (view["phase"], view["total"], view["items_count"]) == ("collecting", 100, 0)
    a, b = _item(db, admin, project, peers, 60), _item(db, admin, project, peers, 50)
    with db.read() as s:
        assert [i["id"] for i in handlers.list_items(s, city_id, project, schemas.ItemsQuery())["items"]] == [a["id"], b["id"]]
        page = handlers.list_items(s, city_id, project, schemas.ItemsQuery(limit=1))
        assert handlers.list_items(s, city_id, project, schemas.ItemsQuery(limit=1, cursor=page["next_cursor"]))[
            "items"][0]["id"] == b["id"]
    _configure(db, admin, project, peers, clock, phase="voting")
    voters = [_citizen(city_id) for _ in range(3)]
    for me, chosen in zip(voters, ([a["id"]], [a["id"], b["id"]], [a["id"]])):
        with db.transaction() as tx:
            handlers.save_ballot(tx, me, project, schemas.BallotBody(item_ids=chosen))
        with db.transaction() as tx:
            assert handlers.submit_ballot(tx, me, project, schemas.BallotBody())["status"] == "submitted"
    with db.read() as s:
        assert handlers.get_ballot(s, voters[1], project)["item_ids"] == [a["id"], b["id"]]
    view = _configure(db, admin, project, peers, clock, phase="closed")
    assert view["ballots_submitted"] == 3 and view["phase"] == "closed"
    assert _events(db, city_id) == ["budgeting.phase_changed", "budgeting.phase_changed", "budgeting.ballot_submitted",
                                    "budgeting.ballot_submitted", "budgeting.ballot_submitted",
                                    "budgeting.phase_changed", "budgeting.results_published"]
    out = handlers.results(db, None, city_id, project, schemas.ResultsQuery(rule="greedy"), peers=peers, now=clock.now)
    assert out["selected"] == [a["id"]] and out["ballots"] == 3
    # results by gender: the voters' profiles asked of accounts once, then kept
    peers.answers[("accounts", "get_profiles")] = lambda c, ids: [
        {"user_id": u, "gender": "female", "birth_year": 1990, "district": None} for u in ids]
    split = handlers.results(db, None, city_id, project, schemas.ResultsQuery(by="gender"), peers=peers, now=clock.now)
    assert sum(g["voters"] for g in split["groups"]) == 3
    assert len(peers.asked("accounts", "get_profiles")) == 1


def test_refusals_of_the_budget_and_its_items(db, admin, project, peers, clock, city_id):
    with pytest.raises(ValidationFailed, match="needs its total"):
        _configure(db, admin, project, peers, clock, total=100)
    with pytest.raises(NotFound):
        _configure(db, admin, uuid.uuid4(), peers, clock, total=100, currency="EUR", ballot=APPROVAL)
    with db.read() as s:
        with pytest.raises(NotFound):
            handlers.get_budget(s, city_id, project)
    _configure(db, admin, project, peers, clock, total=100, currency="EUR", ballot=APPROVAL)
    with pytest.raises(ValidationFailed) as refused:
        handlers.add_item(db, admin, project, schemas.CityItem(title={"fr": "Bancs"}, cost=5, city_locales=["en"]),
                          peers=peers, principal=None)
    assert refused.value.details == [{"field": "title.fr", "issue": "not a locale of this city (en)"}]
    idea = uuid.uuid4()
    peers.answers[("ideas", "get_idea")] = lambda p, c, i: {"status": "accepted" if i == str(idea) else "draft"}
    item = _item(db, admin, project, peers, 10, idea_id=idea)
    assert item["idea_id"] == str(idea)
    with pytest.raises(Conflict, match="already"):
        _item(db, admin, project, peers, 10, idea_id=idea)
    with pytest.raises(ValidationFailed, match="accepted"):
        _item(db, admin, project, peers, 10, idea_id=uuid.uuid4())
    peers.answers[("ideas", "get_idea")] = Unavailable("The ideas service is not available.")
    with pytest.raises(Unavailable):
        _item(db, admin, project, peers, 10, idea_id=uuid.uuid4())
    with db.transaction() as tx:
        assert handlers.delete_item(tx, admin, project, uuid.UUID(item["id"]))["deleted"]
    with pytest.raises(NotFound):
        with db.transaction() as tx:
            handlers.delete_item(tx, admin, project, None)
    _configure(db, admin, project, peers, clock, phase="voting")
    with pytest.raises(Conflict, match="while collecting"):
        _item(db, admin, project, peers, 10)
    with pytest.raises(Conflict):
        _configure(db, admin, project, peers, clock, total=5)
    # another method's project holds no budget
    other = uuid.uuid4()
    peers.answers[("ideas", "get_project")] = {"status": "active", "method": "ideation"}
    with pytest.raises(Conflict, match="ideation project"):
        _configure(db, admin, other, peers, clock, total=100, currency="EUR", ballot=APPROVAL)


def test_refusals_of_ballots(db, admin, project, peers, clock, city_id):
    _configure(db, admin, project, peers, clock, total=100, currency="EUR", ballot=APPROVAL)
    a = _item(db, admin, project, peers, 60)
    me = _citizen(city_id)
    with pytest.raises(Conflict, match="only in the voting phase"):
        with db.transaction() as tx:
            handlers.save_ballot(tx, me, project, schemas.BallotBody(item_ids=[a["id"]]))
    _configure(db, admin, project, peers, clock, phase="voting")
    with pytest.raises(Conflict, match="no ballot to submit"):
        with db.transaction() as tx:
            handlers.submit_ballot(tx, me, project, schemas.BallotBody())
    with pytest.raises(ValidationFailed):
        with db.transaction() as tx:
            handlers.save_ballot(tx, me, project, schemas.BallotBody(item_ids=[]))
    with db.read() as s:
        with pytest.raises(NotFound):
            handlers.get_ballot(s, me, project)
    with db.transaction() as tx:
        handlers.submit_ballot(tx, me, project, schemas.BallotBody(item_ids=[a["id"]]))
    with pytest.raises(Conflict, match="final"):
        with db.transaction() as tx:
            handlers.save_ballot(tx, me, project, schemas.BallotBody(item_ids=[a["id"]]))
    with pytest.raises(Conflict, match="submitted already"):
        with db.transaction() as tx:
            handlers.submit_ballot(tx, me, project, schemas.BallotBody())
    with pytest.raises(Conflict, match="published when voting closes"):
        handlers.results(db, me, city_id, project, schemas.ResultsQuery(), peers=peers, now=clock.now)
    assert handlers.results(db, admin, city_id, project, schemas.ResultsQuery(), peers=peers, now=clock.now)["ballots"] == 1


def test_an_import_closes_the_budget_pausing_as_it_parses_and_exports_back(db, admin, project, peers, clock, city_id):
    pauses = []
    out = handlers.import_pabulib(db, admin, project, schemas.PabulibImport(text=PB, city_locales=["nl", "en"]),
                                  peers=peers, now=clock.now, principal=None, pause=lambda: pauses.append(1))
    assert out["ballots"] == 3 and set(out["items"]) == {"a", "b"}
    with db.read() as s:
        view = handlers.get_budget(s, city_id, project)
        assert (view["phase"], view["imported"], view["ballots_submitted"]) == ("closed", True, 3)
        exported = handlers.export_pabulib(s, admin, project)
    assert "budget;100" in exported and "v2;a,b" in exported.replace('"', "")
    assert _events(db, city_id)[-2:] == ["budgeting.phase_changed", "budgeting.results_published"]
    with pytest.raises(Conflict, match="empty budget"):
        handlers.import_pabulib(db, admin, project, schemas.PabulibImport(text=PB), peers=peers, now=clock.now,
                                principal=None, pause=lambda: None)


def test_an_import_of_numbers_beyond_bounds_is_refused_and_stores_nothing(db, admin, project, peers, clock, city_id):
    for bad in (PB.replace("budget;100", "budget;1e200000"), PB.replace("a;60;", "a;1e300;"), ""):
        with pytest.raises(ValidationFailed):
            handlers.import_pabulib(db, admin, project, schemas.PabulibImport(text=bad), peers=peers, now=clock.now,
                                    principal=None, pause=lambda: None)
    with db.read() as s:
        with pytest.raises(NotFound):
            handlers.get_budget(s, city_id, project)


def test_the_project_read_model_follows_the_newest_fact_and_keeps_the_method(db, clock, city_id, admin, peers):
    pid = str(uuid.uuid4())

    def fact(type_, at, **data):
        return Envelope(event_id=uuid.uuid4(), type=type_, occurred_at=at, city_id=city_id,
                        data={"project_id": pid, **data})

    later = clock.advance(minutes=1)
    with db.transaction() as tx:
        handlers.project_fact(tx, fact("ideas.project_updated", later, status="archived"))
        handlers.project_fact(tx, fact("ideas.project_created", later.replace(minute=0), status="active",
                                       method="budgeting"))
    with db.read() as s:
        from services.budgeting import readmodels
        row = readmodels.get_project(s, city_id, uuid.UUID(pid))
    assert (row.status, row.method) == ("archived", "budgeting")
    # known now: configuring asks ideas nothing
    _configure(db, admin, uuid.UUID(pid), peers, clock, total=10, currency="EUR", ballot=APPROVAL)
    assert peers.asked("ideas", "get_project") == []
