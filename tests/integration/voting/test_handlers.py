"""Voting's handlers against the real PostgreSQL, with fake peers and a fixed clock, without the bus."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from services.common.errors import Conflict, Forbidden, NotFound, Unauthorized, Unavailable, ValidationFailed
from services.common.events import Envelope
from services.voting import handlers, readmodels, schemas


@pytest.fixture(scope="module")
def db(service_db):
    return service_db("voting")


def _principal(city_id, user_id=None, role="citizen"):
    return {"user_id": user_id or str(uuid.uuid4()), "city_id": city_id, "role": role}


def _event(city_id, type_, at, **data):
    return Envelope(event_id=uuid.uuid4(), type=type_, occurred_at=at, city_id=city_id, data=data)


class World:
    """What the ideas service would answer about a few targets of one city."""

    def __init__(self, city_id, peers, status="active", allow_down_votes=True, method="ideation"):
        self.city_id, self.peers = city_id, peers
        self.project = {"id": str(uuid.uuid4()), "status": status, "allow_down_votes": allow_down_votes,
                        "method": method}
        self.author = str(uuid.uuid4())
        self.targets: dict[str, dict] = {}
        peers.answers[("ideas", "vote_target")] = self.vote_target
        peers.answers[("ideas", "get_project")] = self.get_project

    def idea(self, visible=True) -> str:
        tid = str(uuid.uuid4())
        self.targets[tid] = {"target_type": "idea", "target_id": tid, "idea_id": tid,
                             "project_id": self.project["id"], "author_id": self.author, "visible": visible,
                             "project_status": self.project["status"],
                             "allow_down_votes": self.project["allow_down_votes"]}
        return tid

    def vote_target(self, city_id, target_type, target_id):
        found = self.targets.get(target_id)
        if city_id != self.city_id or found is None or found["target_type"] != target_type:
            raise NotFound(f"No such {target_type}.")
        return found

    def get_project(self, principal, city_id, project_id):
        if city_id != self.city_id or project_id != self.project["id"]:
            raise NotFound("No such project in this city.")
        return self.project


def _cast(db, clock, peers, city_id, voter, target_id, value="up", target_type="idea"):
    return handlers.cast_votes(db, clock.now, peers, [{"principal": voter, "city_id": city_id, "target_type": target_type,
                                                      "target_id": target_id, "body": {"value": value}}])[0]


def _outbox(db, city_id) -> list[str]:
    with db.transaction() as tx:
        return [r.type for r in tx.execute(text(
            "SELECT type FROM voting.outbox WHERE payload->>'city_id' = :c ORDER BY id"), {"c": city_id})]


# -- votes -----------------------------------------------------------------------------------------
def test_a_vote_learns_its_target_once_then_changes_and_withdraws(db, city_id, clock, peers):
    world = World(city_id, peers)
    idea, voter = world.idea(), _principal(city_id)
    assert _cast(db, clock, peers, city_id, voter, idea) == {"value": "up", "up_votes": 1, "down_votes": 0}
    assert len(peers.asked("ideas", "vote_target")) == 1
    assert _cast(db, clock, peers, city_id, voter, idea, "down") == {"value": "down", "up_votes": 0, "down_votes": 1}
    assert _cast(db, clock, peers, city_id, voter, idea, "down") == {"value": "down", "up_votes": 0, "down_votes": 1}
    assert len(peers.asked("ideas", "vote_target")) == 1  # known from then on
    assert handlers.get_vote(db, clock.now, peers, voter, city_id, "idea", idea) == {
        "value": "down", "up_votes": 0, "down_votes": 1}
    assert handlers.get_vote(db, clock.now, peers, None, city_id, "idea", idea)["value"] is None
    assert handlers.withdraw_vote(db, clock.now, peers, voter, city_id, "idea", idea) == {
        "value": None, "up_votes": 0, "down_votes": 0}
    assert _outbox(db, city_id) == ["voting.vote_cast", "voting.vote_changed", "voting.vote_withdrawn"]


def test_a_batch_answers_each_item_in_order(db, city_id, clock, peers):
    world = World(city_id, peers)
    idea, voters = world.idea(), [_principal(city_id) for _ in range(3)]
    items = [{"principal": v, "city_id": city_id, "target_type": "idea", "target_id": idea, "body": {"value": "up"}}
             for v in voters]
    items.append({"principal": voters[0], "city_id": city_id, "target_type": "idea", "target_id": idea,
                  "body": {"value": "down"}})
    items.append([voters[1], "idea", idea, {"value": "up"}])  # the positional shape of old: refused alone
    items.append({"principal": None, "city_id": city_id, "target_type": "idea", "target_id": idea, "body": {}})
    answers = handlers.cast_votes(db, clock.now, peers, items)
    assert [a["up_votes"] for a in answers[:3]] == [1, 2, 3]
    assert answers[3] == {"value": "down", "up_votes": 2, "down_votes": 1}
    assert isinstance(answers[4], ValidationFailed) and isinstance(answers[5], Unauthorized)
    with pytest.raises(ValidationFailed):
        handlers.cast_votes(db, clock.now, peers, [])


def test_votes_refused_by_the_rules(db, city_id, clock, peers):
    world = World(city_id, peers, allow_down_votes=False)
    idea, hidden, voter = world.idea(), world.idea(visible=False), _principal(city_id)
    author = _principal(city_id, world.author)
    assert isinstance(_cast(db, clock, peers, city_id, author, idea), Conflict)  # own content
    assert isinstance(_cast(db, clock, peers, city_id, voter, idea, "down"), Conflict)  # down votes off
    assert isinstance(_cast(db, clock, peers, city_id, voter, hidden), Conflict)
    assert isinstance(_cast(db, clock, peers, city_id, voter, str(uuid.uuid4())), NotFound)
    assert isinstance(_cast(db, clock, peers, city_id, voter, "not-an-id"), NotFound)
    assert isinstance(_cast(db, clock, peers, city_id, voter, idea, target_type="project"), NotFound)
    assert isinstance(_cast(db, clock, peers, city_id, voter, idea, "sideways"), ValidationFailed)
    stranger = _principal(str(uuid.uuid4()))
    assert isinstance(_cast(db, clock, peers, city_id, stranger, idea), Forbidden)
    assert _outbox(db, city_id) == []


def test_a_closed_project_or_a_deleted_idea_takes_no_votes(db, city_id, clock, peers):
    world = World(city_id, peers)
    idea, voter = world.idea(), _principal(city_id)
    assert _cast(db, clock, peers, city_id, voter, idea)["up_votes"] == 1
    with db.transaction() as tx:
        handlers.project_fact(tx, _event(city_id, "ideas.project_updated", clock.advance(minutes=1),
                                         project_id=world.project["id"], status="closed", method="ideation"))
    assert isinstance(_cast(db, clock, peers, city_id, voter, idea, "down"), Conflict)
    with pytest.raises(Conflict):
        handlers.withdraw_vote(db, clock.now, peers, voter, city_id, "idea", idea)
    with db.transaction() as tx:
        handlers.idea_fact(tx, _event(city_id, "ideas.idea_deleted", clock.now, idea_id=idea,
                                      project_id=world.project["id"]), deleted=True)
    assert isinstance(_cast(db, clock, peers, city_id, _principal(city_id), idea), Conflict)


def test_an_unreachable_ideas_service_is_unavailable_for_that_vote_only(db, city_id, clock, peers):
    world = World(city_id, peers)
    known, voter = world.idea(), _principal(city_id)
    _cast(db, clock, peers, city_id, _principal(city_id), known)
    peers.answers[("ideas", "vote_target")] = Unavailable("The ideas service did not answer in time.")
    answers = handlers.cast_votes(db, clock.now, peers, [
        {"principal": voter, "city_id": city_id, "target_type": "idea", "target_id": t, "body": {"value": "up"}}
        for t in (str(uuid.uuid4()), known)])
    assert isinstance(answers[0], Unavailable) and answers[1]["up_votes"] == 2


def test_own_votes_answer_only_those_voted_on(db, city_id, clock, peers):
    world = World(city_id, peers)
    ideas, voter = [world.idea() for _ in range(3)], _principal(city_id)
    _cast(db, clock, peers, city_id, voter, ideas[0])
    _cast(db, clock, peers, city_id, voter, ideas[2], "down")
    query = schemas.OwnVotesQuery(target_type="idea", ids=",".join(ideas[::-1]))
    with db.read() as s:
        assert handlers.own_votes(s, voter, city_id, query) == {"items": [
            {"target_id": ideas[2], "value": "down"}, {"target_id": ideas[0], "value": "up"}]}
        assert handlers.own_votes(s, _principal(city_id), city_id, query) == {"items": []}
        with pytest.raises(Unauthorized):
            handlers.own_votes(s, None, city_id, query)


# -- read models -----------------------------------------------------------------------------------
def test_project_facts_converge_whatever_their_order(db, city_id, clock):
    pid = str(uuid.uuid4())
    newer, older = clock.now, clock.now - timedelta(minutes=5)
    with db.transaction() as tx:
        handlers.project_fact(tx, _event(city_id, "ideas.project_updated", newer, project_id=pid, status="closed"))
        handlers.project_fact(tx, _event(city_id, "ideas.project_created", older, project_id=pid, status="active",
                                         method="poll", allow_down_votes=False))
    with db.read() as s:
        project = readmodels.get_project(s, city_id, pid)
    assert (project.status, project.method, project.allow_down_votes) == ("closed", "poll", True)


def test_a_deleted_target_stays_deleted(db, city_id, clock):
    tid = str(uuid.uuid4())
    with db.transaction() as tx:
        handlers.idea_fact(tx, _event(city_id, "ideas.idea_deleted", clock.now, idea_id=tid), deleted=True)
        handlers.idea_fact(tx, _event(city_id, "ideas.idea_created", clock.now, idea_id=tid,
                                      project_id=str(uuid.uuid4()), author_id=str(uuid.uuid4())))
        handlers.visibility_fact(tx, _event(city_id, "ideas.content_hidden", clock.now, target_type="idea",
                                            target_id=tid), hidden=True)
    with db.read() as s:
        target = readmodels.get_target(s, city_id, "idea", tid)
    assert target.deleted and target.hidden and target.project_id is not None


# -- polls -----------------------------------------------------------------------------------------
def _question(**fields):
    return schemas.QuestionRequest(**{
        "text": {"en": "How do you get to work?"}, "kind": "single",
        "options": [{"text": {"en": "Bike"}}, {"text": {"en": "Tram"}}], "city_locales": ["en", "nl"], **fields})


def test_a_poll_from_question_to_results(db, city_id, clock, peers):
    world = World(city_id, peers, method="poll")
    pid, admin = world.project["id"], _principal(city_id, role="admin")
    question = handlers.create_question(db, clock.now, peers, admin, city_id, pid, _question())
    assert [o["text"] for o in question["options"]] == [{"en": "Bike"}, {"en": "Tram"}]
    listed = handlers.list_questions(db, clock.now, peers, None, city_id, pid, schemas.QuestionQuery())
    assert [q["id"] for q in listed["items"]] == [question["id"]] and listed["next_cursor"] is None
    voter = _principal(city_id)
    peers.answers[("accounts", "get_profiles")] = lambda c, ids: [
        {"user_id": ids[0], "birth_year": 1990, "gender": "female", "district": "Noord"}]
    bike = question["options"][0]["id"]
    answer = handlers.answer_poll(db, clock.now, peers, voter, city_id, pid,
                                  schemas.PollAnswers(answers={question["id"]: [bike]}))
    assert answer["replaced"] is False
    with db.read() as s:
        assert handlers.get_response(s, voter, city_id, pid)["answers"] == {question["id"]: [bike]}
        with pytest.raises(NotFound):
            handlers.get_response(s, _principal(city_id), city_id, pid)
    results = handlers.poll_results(db, clock.now, peers, city_id, pid, "gender")
    q = results["questions"][0]
    assert [o["count"] for o in q["options"]] == [1, 0]
    assert _outbox(db, city_id) == ["voting.poll_answered"]


def test_questions_refused(db, city_id, clock, peers):
    world = World(city_id, peers, method="poll")
    pid = world.project["id"]
    with pytest.raises(Forbidden):
        handlers.create_question(db, clock.now, peers, _principal(city_id), city_id, pid, _question())
    admin = _principal(city_id, role="admin")
    with pytest.raises(ValidationFailed) as refused:
        handlers.create_question(db, clock.now, peers, admin, city_id, pid, _question(text={"de": "Wie?"}))
    assert refused.value.details[0]["field"] == "text.de"
    with pytest.raises(ValidationFailed):
        handlers.create_question(db, clock.now, peers, admin, city_id, pid, _question(max_choices=2))
    ideation = World(city_id, peers)  # a project of another method
    with pytest.raises(Conflict):
        handlers.create_question(db, clock.now, peers, admin, city_id, ideation.project["id"], _question())


def test_questions_of_another_citys_project_are_not_found(db, city_id, clock, peers):
    world = World(city_id, peers, method="poll")
    pid, admin = world.project["id"], _principal(city_id, role="admin")
    handlers.create_question(db, clock.now, peers, admin, city_id, pid, _question())
    other_city = str(uuid.uuid4())
    with pytest.raises(NotFound):
        handlers.list_questions(db, clock.now, peers, None, other_city, pid, schemas.QuestionQuery())
    with pytest.raises(NotFound):
        handlers.list_questions(db, clock.now, peers, None, city_id, "not-a-uuid", schemas.QuestionQuery())
    with pytest.raises(NotFound):
        handlers.poll_results(db, clock.now, peers, other_city, pid, None)
