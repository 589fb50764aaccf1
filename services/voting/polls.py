"""Polls: checking questions and answers, and counting results overall and by demographic group.

Plain functions, no I/O.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from services.common import demographics
from services.common.errors import Conflict, ValidationFailed
from services.common.texts import locale_issues


@dataclass(frozen=True)
class Question:
    id: str
    kind: str  # single | multiple
    max_choices: int
    option_ids: tuple[str, ...]
    text: dict = field(default_factory=dict)
    options: tuple[dict, ...] = ()  # [{id, text}] in order


def check_poll_project(method: str | None, status: str, *, answering: bool) -> None:
    """Questions belong to `poll` projects; answers are taken while the project is active."""
    if method is not None and method != "poll":
        raise Conflict("This project is not a poll.")
    if status == "closed":
        raise Conflict("The poll is closed.")
    if answering and status != "active":
        raise Conflict("The poll is not open yet.")


def normalize_question(kind: str, text: dict, options: list[dict], max_choices: int | None,
                       locales: list[str]) -> int:
    """Check a new question against the city's locales and its kind; the `max_choices` to store."""
    issues = locale_issues(text, locales, "text")
    for i, option in enumerate(options):
        issues += locale_issues(option["text"], locales, f"options.{i}.text")
    if kind == "single":
        if max_choices not in (None, 1):
            issues.append({"field": "max_choices", "issue": "a single choice question allows exactly 1 choice"})
        result = 1
    else:
        result = max_choices if max_choices is not None else len(options)
        if result > len(options):
            issues.append({"field": "max_choices", "issue": f"at most the number of options ({len(options)})"})
    if issues:
        raise ValidationFailed("The question is not valid.", issues)
    return result


def _uuid(value) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        return None


def check_answers(answers: dict, questions: dict[str, Question]) -> dict[str, list[str]]:
    """Validate `{question_id: [option_id, ...]}` against the poll's questions.

    Every question named must be of this poll, every option of that question, without repeats, at
    least one and at most the question's `max_choices`. Returns the answers with canonical ids.
    """
    issues, clean = [], {}
    if not answers:
        raise ValidationFailed("The response is not valid.", [{"field": "answers", "issue": "answer at least one question"}])
    for raw_qid, raw_options in answers.items():
        where = f"answers.{raw_qid}"
        qid = _uuid(raw_qid)
        question = questions.get(qid) if qid else None
        if question is None:
            issues.append({"field": where, "issue": "not a question of this poll"})
            continue
        chosen = [_uuid(o) for o in raw_options]
        if not chosen:
            issues.append({"field": where, "issue": "choose at least one option"})
            continue
        foreign = [str(raw) for raw, o in zip(raw_options, chosen) if o not in question.option_ids]
        if foreign:
            issues.append({"field": where, "issue": f"not options of this question: {', '.join(foreign)}"})
            continue
        if len(set(chosen)) != len(chosen):
            issues.append({"field": where, "issue": "an option is chosen twice"})
            continue
        if len(chosen) > question.max_choices:
            issues.append({"field": where, "issue": f"at most {question.max_choices} choice(s)"})
            continue
        clean[qid] = chosen
    if issues:
        raise ValidationFailed("The response is not valid.", issues)
    return clean


def results(questions: list[Question], choices: list[tuple[str, str, str]], profiles: dict[str, dict],
            by: str | None = None, today: date | None = None) -> dict:
    """Counts per option, overall and, with `by`, per demographic group.

    `choices` are `(user_id, question_id, option_id)` rows; `profiles` maps user_id to the user's
    demographics (missing users fall in the group `unknown`).
    """
    if by is not None and by not in demographics.DIMENSIONS:
        raise ValidationFailed("Unknown dimension.", [{"field": "by", "issue": "age_group, gender or district"}])
    counts: dict[tuple[str, str], int] = {}
    answered: dict[str, set] = {}
    group_counts: dict[tuple[str, str, str], int] = {}
    group_answered: dict[tuple[str, str], set] = {}
    everyone: set = set()
    group_of = {}
    for user_id, qid, oid in choices:
        user_id, qid, oid = str(user_id), str(qid), str(oid)
        everyone.add(user_id)
        counts[(qid, oid)] = counts.get((qid, oid), 0) + 1
        answered.setdefault(qid, set()).add(user_id)
        if by:
            if user_id not in group_of:
                group_of[user_id] = demographics.group_of(profiles.get(user_id), by, today)
            group = group_of[user_id]
            group_counts[(qid, group, oid)] = group_counts.get((qid, group, oid), 0) + 1
            group_answered.setdefault((qid, group), set()).add(user_id)

    out = []
    for q in questions:
        item = {
            "id": q.id,
            "text": q.text,
            "kind": q.kind,
            "max_choices": q.max_choices,
            "respondents": len(answered.get(q.id, ())),
            "options": [
                {"id": o["id"], "text": o["text"], "count": counts.get((q.id, o["id"]), 0)} for o in q.options
            ],
        }
        if by:
            groups = sorted({g for (qid, g) in group_answered if qid == q.id}, key=lambda g: _group_order(by, g))
            item["groups"] = [
                {
                    "group": g,
                    "respondents": len(group_answered[(q.id, g)]),
                    "options": [{"id": o["id"], "count": group_counts.get((q.id, g, o["id"]), 0)} for o in q.options],
                }
                for g in groups
            ]
        out.append(item)
    return {"by": by, "respondents": len(everyone), "questions": out}


def _group_order(by: str, group: str):
    known = {"age_group": demographics.AGE_GROUPS, "gender": demographics.GENDERS}.get(by, ())
    if group == demographics.UNKNOWN:
        return (2, 0, "")
    if group in known:
        return (0, known.index(group), "")
    return (1, 0, group)
