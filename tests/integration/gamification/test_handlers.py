"""Gamification's handlers against the real PostgreSQL, without the bus."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from services.common import auth
from services.common.errors import NotFound, Unavailable, ValidationFailed
from services.common.events import Envelope
from services.gamification import handlers, schemas


@pytest.fixture(scope="module")
def db(service_db):
    return service_db("gamification")


def _event(city_id, type_, at, **data) -> Envelope:
    return Envelope(event_id=uuid.uuid4(), type=type_, occurred_at=at, city_id=city_id, data=data)


def _uid() -> str:
    return str(uuid.uuid4())


class Votes:
    """One voter's vote on one idea of one author, through the vote handlers."""

    def __init__(self, db, city_id, clock, author=None, target_type="idea"):
        self.db, self.city_id, self.clock = db, city_id, clock
        self.vote_id, self.voter, self.target = _uid(), _uid(), _uid()
        self.author, self.target_type, self.version = author or _uid(), target_type, 0

    def send(self, kind: str, value: str, **extra):
        self.version += 1
        data = {"vote_id": self.vote_id, "target_type": self.target_type, "target_id": self.target,
                "voter_id": self.voter, "author_id": self.author, "value": value,
                "target_version": self.version, **extra}
        event = _event(self.city_id, f"voting.vote_{kind}", self.clock.now, **data)
        with self.db.transaction() as tx:
            handlers.book_votes(tx, [(event, self.city_id, schemas.VoteEvent.model_validate(event.data))], kind)


def _subject(db, city_id, key):
    with db.transaction() as tx:
        return tx.execute(text("SELECT reason, points, awarded, value, active FROM gamification.subjects "
                               "WHERE city_id = :c AND key = :k"), {"c": city_id, "k": key}).first()


def _ledger(db, city_id, user_id) -> list[tuple]:
    with db.transaction() as tx:
        return [tuple(r) for r in tx.execute(text(
            "SELECT points, reason FROM gamification.ledger WHERE city_id = :c AND user_id = :u ORDER BY id"),
            {"c": city_id, "u": user_id})]


def _outbox(db, city_id) -> list[tuple]:
    with db.transaction() as tx:
        return [(r.type, r.data) for r in tx.execute(text(
            "SELECT type, payload->'data' AS data FROM gamification.outbox "
            "WHERE payload->>'city_id' = :c ORDER BY id"), {"c": city_id})]


def _score(db, city_id, user_id, clock, peers, period="all"):
    return handlers.score(db, uuid.UUID(city_id), uuid.UUID(user_id), schemas.ScoreQuery(period=period),
                          now=clock.now, peers=peers)


def test_an_up_vote_earns_its_author_points_and_a_withdrawal_gives_them_back(db, city_id, clock, peers):
    v = Votes(db, city_id, clock)
    v.send("cast", "up")
    assert _ledger(db, city_id, v.author) == [(5, "idea_upvoted")]
    assert ("gamification.points_awarded", {"user_id": v.author, "points": 5, "total": 5,
                                            "reason": "idea_upvoted", "source_event_id": _outbox(db, city_id)[0][1]["source_event_id"]}) \
        in _outbox(db, city_id)
    v.send("withdrawn", "up")
    assert _ledger(db, city_id, v.author) == [(5, "idea_upvoted"), (-5, "idea_upvoted")]
    assert _score(db, city_id, v.author, clock, peers)["points"] == 0


def test_a_down_vote_is_stored_as_a_down_vote_and_earns_nothing(db, city_id, clock):
    v = Votes(db, city_id, clock)
    v.send("cast", "down")
    assert tuple(_subject(db, city_id, f"vote:{v.vote_id}")) == ("idea_downvoted", 0, 0, "down", True)
    assert _ledger(db, city_id, v.author) == []
    v.send("changed", "up")
    assert _subject(db, city_id, f"vote:{v.vote_id}").reason == "idea_upvoted"
    v.send("changed", "down")
    assert _subject(db, city_id, f"vote:{v.vote_id}").reason == "idea_downvoted"
    # what the up vote earned is given back as the up vote's
    assert _ledger(db, city_id, v.author) == [(5, "idea_upvoted"), (-5, "idea_upvoted")]
    c = Votes(db, city_id, clock, target_type="comment")
    c.send("cast", "down")
    assert _subject(db, city_id, f"vote:{c.vote_id}").reason == "comment_downvoted"


def test_a_vote_event_without_an_author_books_nothing(db, city_id, clock):
    v = Votes(db, city_id, clock)
    v.author = None
    v.send("cast", "up")
    assert _subject(db, city_id, f"vote:{v.vote_id}") is None
    with db.transaction() as tx:
        assert tx.execute(text("SELECT count(*) FROM gamification.ledger WHERE city_id = :c"),
                          {"c": city_id}).scalar() == 0


def test_the_daily_cap_per_voter_and_author(db, city_id, clock):
    author, voter = _uid(), _uid()
    for _ in range(4):
        v = Votes(db, city_id, clock, author=author)
        v.voter = voter
        clock.advance(seconds=1)
        v.send("cast", "up")
    assert [p for p, _ in _ledger(db, city_id, author)] == [5, 5, 5]


def test_ideas_comments_statuses_and_ballots_earn_once(db, city_id, clock, peers):
    author, idea, comment = _uid(), _uid(), _uid()
    posted = _event(city_id, "ideas.idea_created", clock.now, idea_id=idea, author_id=author)
    for _ in range(2):  # the same subject twice books once
        with db.transaction() as tx:
            handlers.idea_created(tx, posted, city_id, schemas.IdeaCreated.model_validate(posted.data))
    for status in ("under_review", "accepted", "implemented"):
        e = _event(city_id, "ideas.idea_status_changed", clock.now, idea_id=idea, author_id=author, status=status)
        with db.transaction() as tx:
            handlers.idea_status_changed(tx, e, city_id, schemas.IdeaStatusChanged.model_validate(e.data))
    e = _event(city_id, "ideas.comment_created", clock.now, comment_id=comment, author_id=author)
    with db.transaction() as tx:
        handlers.comment_created(tx, e, city_id, schemas.CommentCreated.model_validate(e.data))
    for _ in range(2):
        e = _event(city_id, "budgeting.ballot_submitted", clock.now, project_id=idea, user_id=author)
        with db.transaction() as tx:
            handlers.ballot_submitted(tx, e, city_id, schemas.BallotSubmitted.model_validate(e.data))
    assert _ledger(db, city_id, author) == [(1, "idea_posted"), (20, "idea_accepted"), (50, "idea_implemented"),
                                           (1, "comment_posted"), (3, "ballot_submitted")]
    types = [t for t, _ in _outbox(db, city_id)]
    assert "gamification.badge_earned" in types and "gamification.level_up" in types
    score = _score(db, city_id, author, clock, peers)
    assert score["points"] == 75 and score["rank"] == 1 and score["level"] == 2
    assert {b["badge"] for b in score["badges"]} >= {"ideas_posted", "ideas_accepted"}


def test_hidden_content_loses_its_points_until_restored_and_deleted_ideas_for_good(db, city_id, clock):
    v = Votes(db, city_id, clock)
    v.send("cast", "up")
    hide = _event(city_id, "ideas.content_hidden", clock.advance(minutes=1), target_type="idea",
                  target_id=v.target, author_id=v.author)
    with db.transaction() as tx:
        handlers.visibility(tx, hide, city_id, schemas.ContentVisibility.model_validate(hide.data), hidden=True)
    restore = _event(city_id, "ideas.content_restored", clock.advance(minutes=1), target_type="idea",
                     target_id=v.target, author_id=v.author)
    with db.transaction() as tx:
        handlers.visibility(tx, restore, city_id, schemas.ContentVisibility.model_validate(restore.data), hidden=False)
    # an older hide arriving late changes nothing
    with db.transaction() as tx:
        handlers.visibility(tx, hide, city_id, schemas.ContentVisibility.model_validate(hide.data), hidden=True)
    gone = _event(city_id, "ideas.idea_deleted", clock.advance(minutes=1), idea_id=v.target, author_id=v.author)
    with db.transaction() as tx:
        handlers.idea_deleted(tx, gone, city_id, schemas.IdeaDeleted.model_validate(gone.data))
    v.send("changed", "up")  # a later vote on deleted content earns nothing
    assert [p for p, _ in _ledger(db, city_id, v.author)] == [5, -5, 5, -5]


def test_rules_read_and_changed_by_the_city_admin(db, city_id):
    me = auth.Principal(user_id=_uid(), city_id=city_id, role="admin")
    with db.read() as s:
        assert handlers.get_rules(s, city_id)["points"]["idea_upvoted"] == 5
    with db.transaction() as tx:
        out = handlers.update_rules(tx, me, schemas.RulesChange(points={"idea_upvoted": 7}, daily_cap_per_pair=1))
    assert out["points"]["idea_upvoted"] == 7 and out["daily_cap_per_pair"] == 1
    with db.read() as s:
        assert handlers.get_rules(s, city_id)["points"]["idea_upvoted"] == 7
        assert handlers.get_rules(s, str(uuid.uuid4()))["points"]["idea_upvoted"] == 5
    with pytest.raises(Exception):
        schemas.RulesChange(points={"no_such_action": 1})


def test_the_leaderboard_ranks_pages_and_asks_names_once(db, city_id, clock, peers):
    authors = [_uid() for _ in range(3)]
    for author, n in zip(authors, (2, 1, 1)):
        for _ in range(n):
            Votes(db, city_id, clock, author=author).send("cast", "up")
    profile = _event(city_id, "accounts.user_registered", clock.now, user_id=authors[0], display_name="Ann")
    with db.transaction() as tx:
        handlers.profile(tx, profile, city_id, schemas.ProfileEvent.model_validate(profile.data))
    peers.answers[("accounts", "get_profiles")] = lambda c, ids: [{"user_id": u, "display_name": f"U{u[:4]}"}
                                                                  for u in ids]
    first = handlers.leaderboard(db, uuid.UUID(city_id), schemas.LeaderboardQuery(limit=2), now=clock.now,
                                 peers=peers)
    assert [(i["rank"], i["points"]) for i in first["items"]] == [(1, 10), (2, 5)]
    assert first["items"][0]["user"]["display_name"] == "Ann"
    assert len(peers.asked("accounts", "get_profiles")) == 1
    second = handlers.leaderboard(db, uuid.UUID(city_id), schemas.LeaderboardQuery(limit=2, cursor=first["next_cursor"]),
                                  now=clock.now, peers=peers)
    assert [(i["rank"], i["points"]) for i in second["items"]] == [(2, 5)] and second["next_cursor"] is None
    assert len(peers.asked("accounts", "get_profiles")) == 2  # the names learnt are kept
    again = handlers.leaderboard(db, uuid.UUID(city_id), schemas.LeaderboardQuery(limit=3), now=clock.now, peers=peers)
    assert all(i["user"]["display_name"] for i in again["items"]) and len(peers.asked("accounts", "get_profiles")) == 2
    with pytest.raises(ValidationFailed):
        handlers.leaderboard(db, uuid.UUID(city_id), schemas.LeaderboardQuery(period="week", cursor=first["next_cursor"]),
                             now=clock.now, peers=peers)


def test_the_leaderboard_answers_without_names_when_accounts_cannot(db, city_id, clock, peers):
    Votes(db, city_id, clock).send("cast", "up")
    peers.answers[("accounts", "get_profiles")] = Unavailable("down")
    board = handlers.leaderboard(db, uuid.UUID(city_id), schemas.LeaderboardQuery(), now=clock.now, peers=peers)
    assert [i["user"]["display_name"] for i in board["items"]] == [None]


def test_a_score_of_someone_not_of_the_city_is_404(db, city_id, clock, peers):
    stranger, newcomer = _uid(), _uid()
    peers.answers[("accounts", "get_profiles")] = lambda c, ids: (
        [{"user_id": newcomer, "display_name": "New"}] if ids == [newcomer] else [])
    with pytest.raises(NotFound):
        _score(db, city_id, stranger, clock, peers)
    # a user accounts knows but whose event has not arrived yet: zero, and known from now on
    assert _score(db, city_id, newcomer, clock, peers)["points"] == 0
    assert _score(db, city_id, newcomer, clock, peers)["rank"] == 1
    assert peers.asked("accounts", "get_profiles") == [(city_id, [stranger]), (city_id, [newcomer])]


def test_the_engaged_citizens_as_json_and_csv(db, city_id, clock, peers):
    v = Votes(db, city_id, clock)
    v.send("cast", "up")
    name = _event(city_id, "accounts.user_registered", clock.now, user_id=v.author, display_name="=SUM(A1)")
    with db.transaction() as tx:
        handlers.profile(tx, name, city_id, schemas.ProfileEvent.model_validate(name.data))
    me = auth.Principal(user_id=_uid(), city_id=city_id, role="admin")
    later = clock.now + timedelta(hours=1)
    body = handlers.engaged(db, me, schemas.EngagedQuery(), now=later, peers=peers)
    assert [(i["rank"], i["user_id"], i["points"], i["idea_upvoted"]) for i in body["items"]] == [(1, v.author, 5, 1)]
    csv = handlers.engaged(db, me, schemas.EngagedQuery(format="csv"), now=later, peers=peers)["csv"]
    assert csv.splitlines()[1].startswith(f"1,{v.author},'=SUM(A1),5,")
    empty = handlers.engaged(db, me, schemas.EngagedQuery(**{"from": "2020-01-01", "to": "2020-02-01"}),
                             now=later, peers=peers)
    assert empty["items"] == []
    with pytest.raises(ValidationFailed):
        handlers.engaged(db, me, schemas.EngagedQuery(**{"from": later + timedelta(days=1)}), now=later, peers=peers)
