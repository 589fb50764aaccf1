"""Who hears about what."""
from services.notifications import triggers as t

A, B, C, D = "a" * 8, "b" * 8, "c" * 8, "d" * 8


def comment(author=B, idea_author=A, parent_id=None, parent_author=None, body="Nice"):
    return {"comment_id": "c1", "idea_id": "i1", "project_id": "p1", "author_id": author, "idea_author_id": idea_author,
            "parent_id": parent_id, "parent_author_id": parent_author, "body": body}


def test_a_comment_tells_the_ideas_author_but_not_the_commenter():
    notices = t.comment_notices(comment(), B, "Bikes", "Bram")
    assert [(n.user_id, n.kind) for n in notices] == [(A, "comment_on_idea")]
    assert notices[0].data["idea_title"] == "Bikes" and notices[0].data["actor_name"] == "Bram"
    assert t.comment_notices(comment(author=A), A, None, None) == []


def test_a_reply_tells_the_parent_author_and_someone_both_hears_once():
    notices = t.comment_notices(comment(parent_id="c0", parent_author=C), B, None, None)
    assert sorted((n.user_id, n.kind) for n in notices) == [(A, "comment_on_idea"), (C, "reply_to_comment")]
    notices = t.comment_notices(comment(parent_id="c0", parent_author=A), B, None, None)
    assert [(n.user_id, n.kind) for n in notices] == [(A, "reply_to_comment")]
    assert t.comment_notices(comment(parent_id="c0", parent_author=B, idea_author=B), B, None, None) == []


def test_excerpts_are_short_and_on_one_line():
    assert t.excerpt("a\n\n b") == "a b"
    long = t.excerpt("word " * 100)
    assert len(long) <= t.EXCERPT_CHARS and long.endswith("…")


def test_status_change_tells_author_and_voters_not_the_admin():
    data = {"idea_id": "i1", "project_id": "p1", "author_id": A, "old_status": "proposed", "status": "accepted",
            "feedback": None}
    notices = t.status_notices(data, D, [B, C, D, A], "Bikes")
    assert [(n.user_id, n.kind, n.data["role"]) for n in notices] == [
        (A, "status_changed", "author"), (B, "status_changed", "voter"), (C, "status_changed", "voter")]


def test_feedback_without_a_change_is_official_feedback_and_nothing_is_nothing():
    data = {"idea_id": "i1", "author_id": A, "old_status": "accepted", "status": "accepted", "feedback": {"en": "Soon"}}
    assert [n.kind for n in t.status_notices(data, D, [], None)] == ["official_feedback"]
    assert t.status_notices({**data, "feedback": None}, D, [B], None) == []


def test_milestones_once_each_the_highest_when_several_pass_at_once():
    vote = {"target_type": "idea", "target_id": "i1", "idea_id": "i1", "author_id": A, "up_votes": 9}
    assert t.milestone_notice(vote, set(), None) == (None, [])
    notice, reached = t.milestone_notice({**vote, "up_votes": 10}, set(), "Bikes")
    assert notice.user_id == A and notice.data["milestone"] == 10 and reached == [10]
    assert t.milestone_notice({**vote, "up_votes": 12}, {10}, None) == (None, [])
    notice, reached = t.milestone_notice({**vote, "up_votes": 55}, set(), None)
    assert notice.data["milestone"] == 50 and reached == [10, 50]
    assert t.milestone_notice({**vote, "target_type": "comment", "up_votes": 100}, set(), None) == (None, [])


def test_project_phases_tell_participants_and_only_the_voting_phase():
    phase = {"project_id": "p1", "phase": "voting"}
    assert [n.user_id for n in t.phase_notices(phase, D, [B, A, D, A], {"en": "Parks"})] == [A, B]
    assert t.phase_notices({**phase, "phase": "closed"}, D, [A], None) == []
    results = t.results_notices({"project_id": "p1", "selected": ["x", "y"]}, None, [A], None)
    assert results[0].kind == "results_published" and results[0].data["selected_count"] == 2


def test_badges_levels_and_email_preferences():
    assert t.badge_notice({"user_id": A, "badge": "pioneer", "level": 2}).data == {"badge": "pioneer", "level": 2}
    assert t.level_notice({"user_id": A, "level": 3, "total": 40}).kind == "level_up"
    assert [t.email_status(p) for p in ("instant", "daily", "off", None)] == ["pending", "digest", "none", "pending"]
