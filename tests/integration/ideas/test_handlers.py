"""The ideas service's handlers against the real PostgreSQL, with fake peers, without the bus."""
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from services.common.errors import Conflict, Forbidden, NotFound, Unauthorized, Unavailable, ValidationFailed
from services.ideas import handlers, schemas

LOCALES = ["en", "nl"]


@pytest.fixture(scope="module")
def db(service_db):
    return service_db("ideas")


def _p(city_id, role="citizen", user_id=None):
    return {"user_id": user_id or str(uuid.uuid4()), "city_id": city_id, "role": role}


@pytest.fixture
def admin(city_id):
    return _p(city_id, "admin")


@pytest.fixture
def project(db, city_id, admin):
    return _project(db, city_id, admin)


def _project(db, city_id, admin, **fields):
    data = schemas.NewProject(**{"title": {"en": "Car-free centre"}, "method": "ideation", "status": "active",
                                 "topics": ["mobility", "green"], **fields})
    with db.transaction() as tx:
        return handlers.create_project(tx, admin, city_id, LOCALES, data)


def _idea(db, city_id, project, me, **fields):
    data = schemas.NewIdea(**{"title": "More bike parking", "body": "The racks are full.", **fields})
    with db.transaction() as tx:
        return handlers.create_idea(tx, me, city_id, LOCALES, project["id"], data, None)


def _comment(db, city_id, idea, me, **fields):
    with db.transaction() as tx:
        return handlers.create_comment(tx, me, city_id, idea["id"], schemas.NewComment(**{"body": "Yes.", **fields}))


def _outbox(db, city_id) -> list[str]:
    with db.transaction() as tx:
        return [r.type for r in tx.execute(text(
            "SELECT type FROM ideas.outbox WHERE payload->>'city_id' = :c ORDER BY id"), {"c": city_id})]


# -- projects --------------------------------------------------------------------------------------
def test_projects_created_changed_listed_and_drafts_hidden(db, city_id, admin, project):
    draft = _project(db, city_id, admin, status="draft")
    with db.transaction() as tx:
        changed = handlers.update_project(tx, admin, city_id, LOCALES, project["id"],
                                          schemas.ProjectPatch(title={"en": "Car-free", "nl": "Autovrij"}))
    assert changed["title"] == {"en": "Car-free", "nl": "Autovrij"}
    with db.read() as s:
        public = handlers.list_projects(s, None, city_id, schemas.ProjectQuery())
        assert [p["id"] for p in public["items"]] == [project["id"]]
        assert len(handlers.list_projects(s, admin, city_id, schemas.ProjectQuery())["items"]) == 2
        with pytest.raises(NotFound):
            handlers.get_project(s, None, city_id, draft["id"])
        with pytest.raises(NotFound):
            handlers.get_project(s, None, str(uuid.uuid4()), project["id"])  # another city
    assert _outbox(db, city_id) == ["ideas.project_created", "ideas.project_created", "ideas.project_updated"]


def test_projects_refused(db, city_id, admin, project):
    with pytest.raises(ValidationFailed) as refused, db.transaction() as tx:
        handlers.create_project(tx, admin, city_id, LOCALES, schemas.NewProject(title={"de": "Autofrei"},
                                                                                 method="ideation"))
    assert refused.value.details[0]["field"] == "title.de"
    with pytest.raises(Forbidden), db.transaction() as tx:
        handlers.create_project(tx, _p(city_id), city_id, LOCALES, schemas.NewProject(title={"en": "x"},
                                                                                       method="ideation"))
    with pytest.raises(NotFound), db.transaction() as tx:
        handlers.update_project(tx, admin, city_id, LOCALES, str(uuid.uuid4()), schemas.ProjectPatch(status="closed"))


# -- ideas -----------------------------------------------------------------------------------------
def test_an_idea_posted_edited_moved_along_and_deleted(db, city_id, admin, project):
    me = _p(city_id)
    idea = _idea(db, city_id, project, me, topics=["green"])
    assert idea["locale"] == "en" and idea["status"] == "proposed" and idea["project_id"] == project["id"]
    with db.transaction() as tx:
        edited = handlers.update_idea(tx, me, city_id, LOCALES, idea["id"], schemas.IdeaPatch(topics=["mobility"],
                                                                                           locale="nl"))
    assert edited["topics"] == ["mobility"] and edited["locale"] == "nl"
    with db.transaction() as tx:
        moved = handlers.change_status(tx, admin, city_id, LOCALES, idea["id"],
                                       schemas.StatusChange(status="under_review", feedback={"en": "Looking."}))
    assert moved["status"] == "under_review"
    with db.transaction() as tx:
        handlers.delete_idea(tx, me, city_id, idea["id"])
    with db.read() as s, pytest.raises(NotFound):
        handlers.get_idea(s, None, city_id, idea["id"])
    assert _outbox(db, city_id)[1:] == ["ideas.idea_created", "ideas.idea_updated", "ideas.idea_status_changed",
                                        "ideas.idea_deleted"]


def test_ideas_refused(db, city_id, admin, project):
    me, other = _p(city_id), _p(city_id)
    idea = _idea(db, city_id, project, me)
    with pytest.raises(ValidationFailed):
        _idea(db, city_id, project, me, topics=["aliens"])
    with pytest.raises(ValidationFailed):
        _idea(db, city_id, project, me, locale="de")
    with pytest.raises(Unauthorized):
        _idea(db, city_id, project, None)
    closed = _project(db, city_id, admin, status="closed")
    with pytest.raises(Conflict):
        _idea(db, city_id, closed, me)
    with pytest.raises(Forbidden), db.transaction() as tx:
        handlers.update_idea(tx, other, city_id, LOCALES, idea["id"], schemas.IdeaPatch(title="Mine now"))
    with pytest.raises(Conflict), db.transaction() as tx:
        handlers.change_status(tx, admin, city_id, LOCALES, idea["id"], schemas.StatusChange(status="implemented"))
    with pytest.raises(NotFound), db.read() as s:
        handlers.get_idea(s, None, str(uuid.uuid4()), idea["id"])


def test_lists_of_a_project_and_of_ones_own(db, city_id, admin, project):
    me, other = _p(city_id), _p(city_id)
    second = _project(db, city_id, admin)
    mine = [_idea(db, city_id, p, me, title=f"mine {n}") for n, p in enumerate([project, second, project])]
    _idea(db, city_id, project, other)
    with db.read() as s:
        listed = handlers.list_ideas(s, None, city_id, project["id"], schemas.IdeaQuery(limit=10))
        assert len(listed["items"]) == 3
        page = handlers.list_own(s, me, city_id, "idea", schemas.OwnQuery(limit=2))
        assert [i["id"] for i in page["items"]] == [mine[2]["id"], mine[1]["id"]]
        rest = handlers.list_own(s, me, city_id, "idea", schemas.OwnQuery(limit=2, cursor=page["next_cursor"]))
        assert [i["id"] for i in rest["items"]] == [mine[0]["id"]]
        with pytest.raises(Unauthorized):
            handlers.list_own(s, None, city_id, "idea", schemas.OwnQuery())


# -- comments --------------------------------------------------------------------------------------
def test_comments_replies_own_list_and_refusals(db, city_id, project):
    author, me = _p(city_id), _p(city_id)
    idea = _idea(db, city_id, project, author)
    top = _comment(db, city_id, idea, me)
    reply = _comment(db, city_id, idea, author, parent_id=top["id"])
    assert reply["parent_id"] == top["id"]
    with pytest.raises(ValidationFailed):
        _comment(db, city_id, idea, me, parent_id=reply["id"])  # one level deep
    with pytest.raises(ValidationFailed):
        _comment(db, city_id, idea, me, parent_id=str(uuid.uuid4()))
    with db.transaction() as tx:
        assert handlers.update_comment(tx, me, city_id, top["id"], schemas.CommentPatch(body="Yes!"))["body"] == "Yes!"
    with pytest.raises(Forbidden), db.transaction() as tx:
        handlers.update_comment(tx, author, city_id, top["id"], schemas.CommentPatch(body="No."))
    with db.read() as s:
        assert [c["id"] for c in handlers.list_own(s, me, city_id, "comment", schemas.OwnQuery())["items"]] == [top["id"]]
    with db.transaction() as tx:
        handlers.delete_comment(tx, me, city_id, top["id"])
    with db.read() as s:
        listed = handlers.list_comments(s, None, city_id, idea["id"], schemas.FlagQuery())["items"]
        assert [c["deleted"] for c in listed] == [True, False] and listed[0]["body"] is None
        assert handlers.list_own(s, me, city_id, "comment", schemas.OwnQuery())["items"] == []


# -- flags and moderation --------------------------------------------------------------------------
def test_flags_hide_at_the_threshold_and_a_moderator_restores(db, city_id, project):
    author = _p(city_id)
    idea = _idea(db, city_id, project, author)
    flaggers = [_p(city_id) for _ in range(2)]
    for who in flaggers:
        with db.transaction() as tx:
            handlers.flag(tx, who, city_id, "idea", idea["id"], schemas.NewFlag(reason="spam"), default_threshold=2)
    with db.read() as s, pytest.raises(NotFound):
        handlers.get_idea(s, None, city_id, idea["id"])
    moderator = _p(city_id, "moderator")
    with db.read() as s:
        queue = handlers.list_flags(s, moderator, city_id, schemas.FlagQuery())["items"]
    assert [(q["target_id"], q["flags"], q["reasons"], q["hidden"]) for q in queue] == [
        (idea["id"], 2, {"spam": 2}, True)]
    with db.transaction() as tx:
        decided = handlers.moderate(tx, moderator, city_id, "idea", idea["id"],
                                    schemas.ModerationDecision(decision="restore"))
    assert decided["resolved_flags"] == 2 and decided["hidden"] is False
    with db.read() as s:
        assert handlers.get_idea(s, None, city_id, idea["id"])["hidden"] is False
    assert _outbox(db, city_id)[-2:] == ["ideas.content_hidden", "ideas.content_restored"]


def test_flags_refused(db, city_id, project):
    author, me = _p(city_id), _p(city_id)
    idea = _idea(db, city_id, project, author)
    with pytest.raises(Conflict), db.transaction() as tx:
        handlers.flag(tx, author, city_id, "idea", idea["id"], schemas.NewFlag(reason="spam"), default_threshold=3)
    with db.transaction() as tx:
        handlers.flag(tx, me, city_id, "idea", idea["id"], schemas.NewFlag(reason="spam"), default_threshold=3)
    with pytest.raises(Conflict), db.transaction() as tx:
        handlers.flag(tx, me, city_id, "idea", idea["id"], schemas.NewFlag(reason="spam"), default_threshold=3)
    with pytest.raises(NotFound), db.transaction() as tx:
        handlers.flag(tx, me, city_id, "project", idea["id"], schemas.NewFlag(reason="spam"), default_threshold=3)
    with pytest.raises(Forbidden), db.transaction() as tx:
        handlers.moderate(tx, me, city_id, "idea", idea["id"], schemas.ModerationDecision(decision="remove"))


# -- for voting, and the users read model ----------------------------------------------------------
def test_vote_target_answers_within_the_city_only(db, city_id, project):
    author = _p(city_id)
    idea = _idea(db, city_id, project, author)
    comment = _comment(db, city_id, idea, _p(city_id))
    with db.read() as s:
        fact = handlers.vote_target(s, city_id, "comment", comment["id"])
        assert (fact["idea_id"], fact["project_status"], fact["visible"]) == (idea["id"], "active", True)
        for args in ((str(uuid.uuid4()), "idea", idea["id"]), (city_id, "project", idea["id"]),
                     (city_id, "idea", "not-an-id")):
            with pytest.raises(NotFound):
                handlers.vote_target(s, *args)


def test_an_author_is_asked_of_accounts_once_and_a_lookup_that_fails_lets_the_post_go_on(db, city_id, peers):
    user_id = str(uuid.uuid4())
    peers.answers[("accounts", "get_profiles")] = [{"user_id": user_id, "display_name": "Ann", "locale": "nl"}]
    assert handlers.author(db, peers, city_id, user_id).display_name == "Ann"
    assert handlers.author(db, peers, city_id, user_id).locale == "nl"
    assert len(peers.asked("accounts", "get_profiles")) == 1
    peers.answers[("accounts", "get_profiles")] = Unavailable("down")
    assert handlers.author(db, peers, city_id, str(uuid.uuid4())) is None
    # a newer event wins over what was asked; an older one changes nothing
    profile = schemas.ProfileEvent(user_id=user_id, city_id=city_id, display_name="Anna", locale="en")
    with db.transaction() as tx:
        handlers.apply_profile(tx, profile, datetime(2999, 1, 1, tzinfo=timezone.utc))
        handlers.apply_profile(tx, profile.model_copy(update={"display_name": "Old"}),
                               datetime(2000, 1, 1, tzinfo=timezone.utc))
    assert handlers.author(db, peers, city_id, user_id).display_name == "Anna"


def _vote_event(city_id, name, target_id, up, down, version, value="up", previous=None, target_type="idea"):
    from services.common.events import Envelope

    return Envelope(event_id=uuid.uuid4(), type=f"voting.{name}", occurred_at=datetime.now(timezone.utc),
                    city_id=city_id, data={"target_type": target_type, "target_id": target_id, "value": value,
                                           "previous_value": previous, "up_votes": up, "down_votes": down,
                                           "target_version": version})


def test_vote_totals_keep_the_newest_version_and_sort_the_lists(db, city_id, project):
    a, b = _idea(db, city_id, project, _p(city_id)), _idea(db, city_id, project, _p(city_id))
    with db.transaction() as tx:
        handlers.apply_votes(tx, [
            _vote_event(city_id, "vote_cast", a["id"], 3, 0, 3),
            _vote_event(city_id, "vote_cast", a["id"], 9, 9, 2),  # older: its totals are not kept
            _vote_event(city_id, "vote_cast", b["id"], 1, 0, 1),
            _vote_event(str(uuid.uuid4()), "vote_cast", b["id"], 50, 0, 9),  # another city's: ignored
        ])
    with db.read() as s:
        assert (handlers.get_idea(s, None, city_id, a["id"])["up_votes"],
                handlers.get_idea(s, None, city_id, b["id"])["up_votes"]) == (3, 1)
        for sort in ("popular", "trending"):
            listed = handlers.list_ideas(s, None, city_id, project["id"], schemas.IdeaQuery(sort=sort))["items"]
            assert [i["id"] for i in listed] == [a["id"], b["id"]]
    with db.transaction() as tx:
        handlers.apply_votes(tx, [_vote_event(city_id, "vote_withdrawn", a["id"], 0, 0, 4)])
    with db.read() as s:
        assert handlers.get_idea(s, None, city_id, a["id"])["up_votes"] == 0
