"""Status workflow, projects taking ideas, flags and moderation, locales and topics."""
from types import SimpleNamespace

import pytest

from services.common.config import Settings
from services.common.errors import Conflict, ValidationFailed
from services.ideas import moderation, texts, workflow
from services.ideas.schemas import IdeaPatch, NewIdea, NewProject
from services.common.errors import validate


# -- workflow ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("old, new", [
    ("proposed", "under_review"), ("under_review", "accepted"), ("under_review", "rejected"),
    ("accepted", "implemented"),
])
def test_workflow_steps(old, new):
    workflow.check_transition(old, new)


@pytest.mark.parametrize("old, new", [
    ("proposed", "accepted"), ("proposed", "implemented"), ("proposed", "proposed"), ("under_review", "implemented"),
    ("rejected", "implemented"), ("rejected", "accepted"), ("implemented", "proposed"), ("accepted", "rejected"),
])
def test_invalid_transitions_name_the_allowed_ones(old, new):
    with pytest.raises(Conflict) as err:
        workflow.check_transition(old, new)
    for allowed in workflow.allowed_next(old):
        assert allowed in err.value.message
    if not workflow.allowed_next(old):
        assert "final" in err.value.message


def test_only_active_ideation_and_budgeting_projects_take_ideas():
    workflow.check_takes_ideas("ideation", "active")
    workflow.check_takes_ideas("budgeting", "active")
    for method, status in (("poll", "active"), ("ideation", "closed"), ("ideation", "draft")):
        with pytest.raises(Conflict):
            workflow.check_takes_ideas(method, status)


# -- flags ------------------------------------------------------------------------------------------
def test_threshold_defaults_and_env():
    assert Settings.from_env({}).flag_threshold == 3
    assert Settings.from_env({"FLAG_THRESHOLD": "5"}).flag_threshold == 5
    assert Settings.from_env({"FLAG_THRESHOLD": "zero"}).flag_threshold == 3
    assert Settings.from_env({"FLAG_THRESHOLD": "0"}).flag_threshold == 3
    assert moderation.threshold(2, 3) == 2 and moderation.threshold(None, 4) == 4


def test_hidden_when_the_threshold_is_reached_once():
    assert not moderation.should_hide(2, 3, hidden=False)
    assert moderation.should_hide(3, 3, hidden=False)
    assert not moderation.should_hide(4, 3, hidden=True)


def test_nobody_flags_their_own_content():
    with pytest.raises(Conflict):
        moderation.check_can_flag("u1", "u1")
    moderation.check_can_flag("u1", "u2")


def test_visibility():
    row = lambda hidden=None, deleted=None: SimpleNamespace(hidden_at=hidden, deleted_at=deleted)  # noqa: E731
    assert moderation.visible(row(), False)
    assert not moderation.visible(row(hidden="t"), False) and moderation.visible(row(hidden="t"), True)
    assert not moderation.visible(row(deleted="t"), True)


def test_decisions():
    assert moderation.decide("restore", True) == {"hidden": False, "deleted": False, "event": "content_restored"}
    assert moderation.decide("restore", False)["event"] is None
    assert moderation.decide("remove", True)["deleted"] is True
    with pytest.raises(ValueError):
        moderation.decide("ignore", True)


# -- texts ------------------------------------------------------------------------------------------
def test_multilingual_texts_use_the_city_locales():
    texts.check_locales(["en", "nl"], title={"en": "a", "nl": "b"}, description={}, feedback=None)
    with pytest.raises(ValidationFailed) as err:
        texts.check_locales(["en", "nl"], title={"en": "a", "de": "b"}, description={"fr": "c"})
    assert {d["field"] for d in err.value.details} == {"title.de", "description.fr"}


def test_post_locale():
    assert texts.post_locale("nl", "en", ["en", "nl"]) == "nl"
    assert texts.post_locale(None, "nl", ["en", "nl"]) == "nl"
    assert texts.post_locale(None, "fr", ["en", "nl"]) == "en"
    with pytest.raises(ValidationFailed):
        texts.post_locale("de", None, ["en", "nl"])


def test_topics_must_be_the_project_ones():
    texts.check_topics(["green"], ["green", "mobility"])
    with pytest.raises(ValidationFailed) as err:
        texts.check_topics(["green", "aliens"], ["green"])
    assert err.value.details[0]["field"] == "topics.1"


# -- payloads ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [
    {"title": "", "body": "b"}, {"title": " ", "body": "b"}, {"title": "x" * 100_000, "body": "b"},
    {"title": "t", "body": ""}, {"title": "t", "body": "b", "topics": ["a", "a"]},
    {"title": "t", "body": "b", "location": {"lat": 91, "lng": 0}}, {"title": "t", "body": "b", "locale": "english"},
])
def test_bad_ideas(body):
    with pytest.raises(ValidationFailed):
        validate(NewIdea, body)


def test_patch_cannot_null_required_fields():
    with pytest.raises(ValidationFailed):
        validate(IdeaPatch, {"title": None})
    assert validate(IdeaPatch, {"location": None}).model_dump(exclude_unset=True) == {"location": None}


def test_project_defaults_and_topics():
    p = validate(NewProject, {"title": {"en": "x"}, "method": "ideation", "topics": ["mobility"]})
    assert p.status == "active" and p.topics == ["mobility"] and p.allow_down_votes is True
    with pytest.raises(ValidationFailed):
        validate(NewProject, {"title": {"en": "x"}, "method": "ideation", "topics": ["Mobility"]})
    with pytest.raises(ValidationFailed):
        validate(NewProject, {"title": {"en": "x"}, "method": "ideation", "topics": ["a", "a"]})
