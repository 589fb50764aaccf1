"""Poll questions, answers and results by demographic group."""
import uuid
from datetime import date

import pytest

from services.common.errors import Conflict, ValidationFailed
from services.voting.polls import Question, check_answers, check_poll_project, normalize_question, results

Q1, Q2 = str(uuid.uuid4()), str(uuid.uuid4())
A, B, C, D = (str(uuid.uuid4()) for _ in range(4))
SINGLE = Question(Q1, "single", 1, (A, B), {"en": "Tram or bus?"}, ({"id": A, "text": {"en": "tram"}},
                                                                  {"id": B, "text": {"en": "bus"}}))
MULTI = Question(Q2, "multiple", 2, (C, D), {"en": "Which parks?"},
                 ({"id": C, "text": {"en": "north"}}, {"id": D, "text": {"en": "south"}}))
QUESTIONS = {Q1: SINGLE, Q2: MULTI}


def issues(exc):
    return {d["field"]: d["issue"] for d in exc.value.details}


def test_valid_answers_come_back_canonical():
    assert check_answers({Q1.upper(): [A.upper()], Q2: [C, D]}, QUESTIONS) == {Q1: [A], Q2: [C, D]}


def test_options_of_another_question_are_refused():
    with pytest.raises(ValidationFailed) as exc:
        check_answers({Q1: [C]}, QUESTIONS)
    assert "not options of this question" in issues(exc)[f"answers.{Q1}"]


def test_more_choices_than_allowed_are_refused():
    with pytest.raises(ValidationFailed) as exc:
        check_answers({Q1: [A, B]}, QUESTIONS)
    assert "at most 1" in issues(exc)[f"answers.{Q1}"]


@pytest.mark.parametrize("answers, field", [
    ({}, "answers"),
    ({str(uuid.uuid4()): [A]}, None),
    ({"not-a-uuid": [A]}, "answers.not-a-uuid"),
    ({Q1: []}, f"answers.{Q1}"),
    ({Q2: [C, C]}, f"answers.{Q2}"),
    ({Q1: ["junk"]}, f"answers.{Q1}"),
])
def test_bad_answers(answers, field):
    with pytest.raises(ValidationFailed) as exc:
        check_answers(answers, QUESTIONS)
    assert field is None or field in issues(exc)


def test_question_rules():
    two = [{"text": {"en": "a"}}, {"text": {"en": "b"}}]
    assert normalize_question("single", {"en": "q"}, two, None, ["en"]) == 1
    assert normalize_question("multiple", {"en": "q"}, two, None, ["en"]) == 2
    assert normalize_question("multiple", {"en": "q"}, two, 1, ["en"]) == 1
    with pytest.raises(ValidationFailed) as exc:
        normalize_question("single", {"en": "q"}, two, 2, ["en"])
    assert "max_choices" in issues(exc)
    with pytest.raises(ValidationFailed) as exc:
        normalize_question("multiple", {"en": "q", "fr": "q"}, [{"text": {"de": "a"}}, {"text": {"en": "b"}}], 3, ["en"])
    assert {"text.fr", "options.0.text.de", "max_choices"} <= set(issues(exc))


def test_poll_project_states():
    check_poll_project("poll", "draft", answering=False)
    check_poll_project("poll", "active", answering=True)
    for method, status, answering in (("ideation", "active", False), ("poll", "closed", False),
                                      ("poll", "draft", True)):
        with pytest.raises(Conflict):
            check_poll_project(method, status, answering=answering)


def test_results_overall_and_by_group():
    today = date(2026, 6, 1)
    profiles = {
        "u1": {"birth_year": 2005, "gender": "female", "district": "Noord"},  # under_25
        "u2": {"birth_year": 1990, "gender": "male", "district": "Noord"},  # 35-49
        "u3": {"birth_year": 1950, "gender": "female", "district": "Zuid"},  # 65+
    }
    choices = [("u1", Q1, A), ("u2", Q1, B), ("u3", Q1, A), ("u1", Q2, C), ("u1", Q2, D), ("u4", Q2, D)]
    overall = results([SINGLE, MULTI], choices, profiles, today=today)
    assert overall["respondents"] == 4
    q1, q2 = overall["questions"]
    assert [o["count"] for o in q1["options"]] == [2, 1] and q1["respondents"] == 3
    assert [o["count"] for o in q2["options"]] == [1, 2] and q2["respondents"] == 2
    assert "groups" not in q1

    by_age = results([SINGLE, MULTI], choices, profiles, by="age_group", today=today)
    groups = {g["group"]: [o["count"] for o in g["options"]] for g in by_age["questions"][0]["groups"]}
    assert groups == {"under_25": [1, 0], "35-49": [0, 1], "65+": [1, 0]}
    assert [g["group"] for g in by_age["questions"][1]["groups"]] == ["under_25", "unknown"]

    by_gender = results([SINGLE], choices, profiles, by="gender", today=today)["questions"][0]["groups"]
    assert [(g["group"], g["respondents"]) for g in by_gender] == [("female", 2), ("male", 1)]
    by_district = results([SINGLE], choices, profiles, by="district", today=today)["questions"][0]["groups"]
    assert {g["group"]: [o["count"] for o in g["options"]] for g in by_district} == {"Noord": [1, 1], "Zuid": [1, 0]}
    # the per-group counts add up to the overall ones
    for by in ("age_group", "gender", "district"):
        for q in results([SINGLE, MULTI], choices, profiles, by=by, today=today)["questions"]:
            for i, option in enumerate(q["options"]):
                assert sum(g["options"][i]["count"] for g in q["groups"]) == option["count"]
