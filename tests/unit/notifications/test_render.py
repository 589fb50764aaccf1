"""Texts and e-mails in the reader's locale."""
import jwt
import pytest

from services.common.errors import ValidationFailed
from services.notifications import mailer, render, triggers, unsubscribe

SAMPLES = {
    "comment_on_idea": {"actor_name": "Bram", "idea_title": "Bikes", "excerpt": "Yes"},
    "reply_to_comment": {"actor_name": "Bram", "excerpt": "Yes"},
    "status_changed": {"idea_title": "Bikes", "old_status": "proposed", "status": "accepted", "role": "author",
                       "feedback": {"en": "Soon", "nl": "Binnenkort"}},
    "official_feedback": {"status": "accepted", "old_status": "accepted", "feedback": {"en": "Soon"}},
    "badge_earned": {"badge": "pioneer", "level": 1},
    "level_up": {"level": 2, "total": 20},
    "vote_milestone": {"milestone": 50, "up_votes": 51},
    "voting_opened": {"project_title": {"en": "Parks", "fr": "Parcs"}},
    "results_published": {"project_title": {}, "selected_count": 3},
}


@pytest.mark.parametrize("locale", ["en", "nl", "fr"])
@pytest.mark.parametrize("kind", triggers.KINDS)
def test_every_kind_has_a_title_in_every_locale(kind, locale):
    title, body = render.text(kind, SAMPLES[kind], locale)
    assert title and kind not in title and "None" not in title + body


def test_texts_follow_the_locale_and_fall_back_to_english():
    assert render.text("comment_on_idea", SAMPLES["comment_on_idea"], "nl")[0] == "Bram reageerde op “Bikes”"
    assert render.text("comment_on_idea", SAMPLES["comment_on_idea"], "fr")[0] == "Bram a commenté « Bikes »"
    assert render.text("comment_on_idea", SAMPLES["comment_on_idea"], "de")[0] == "Bram commented on “Bikes”"
    assert render.text("comment_on_idea", {}, "nl-BE")[0] == "Iemand reageerde op je idee"
    assert "Binnenkort" in render.text("status_changed", SAMPLES["status_changed"], "nl")[1]
    assert "Soon" in render.text("status_changed", SAMPLES["status_changed"], "fr")[1]  # feedback in English when no French
    assert render.text("voting_opened", SAMPLES["voting_opened"], "fr")[0] == "Le vote est ouvert dans Parcs"


def test_pick_and_locale_of():
    assert render.pick({"nl": "a", "en": "b"}, "fr") == "b" and render.pick({"nl": "a"}, "fr") == "a"
    assert render.pick(None) == "" and render.pick("plain") == "plain"
    assert render.locale_of(None, "nl-BE") == "nl" and render.locale_of("de") == "en"


def test_an_email_has_text_and_escaped_html_and_an_unsubscribe_link():
    data = {"actor_name": "<script>", "idea_title": "A & B", "excerpt": "x"}
    email = render.notification_email("comment_on_idea", data, locale="en", name="Anna", city_name="Gent",
                                      unsubscribe_url="https://agora.example/u?token=t&x=1")
    assert email.subject == "<script> commented on “A & B”"
    assert "Hello Anna," in email.text and "https://agora.example/u?token=t&x=1" in email.text
    assert "&lt;script&gt;" in email.html and "<script>" not in email.html
    assert 'href="https://agora.example/u?token=t&amp;x=1"' in email.html
    msg = mailer.message(email, sender="Agora <no-reply@agora.local>", to="anna@example.org", to_name="Anna",
                         unsubscribe_url="https://agora.example/u?token=t", message_id="<n1@agora>")
    assert msg.get_body(("plain",)).get_content().startswith("Hello Anna,")
    assert msg.get_body(("html",)).get_content().lstrip().startswith("<!DOCTYPE html>")
    assert msg["List-Unsubscribe"] == "<https://agora.example/u?token=t>" and msg["Message-ID"] == "<n1@agora>"


def test_a_digest_lists_every_notification_in_order():
    items = [("badge_earned", SAMPLES["badge_earned"]), ("level_up", SAMPLES["level_up"])]
    email = render.digest_email(items, locale="nl", name="Jo", city_name="Gent", unsubscribe_url="u")
    assert email.subject == "Je dagelijks overzicht: 2 meldingen"
    assert email.text.index("pioneer") < email.text.index("niveau 2")
    assert email.html.count("<li>") == 2


def test_unsubscribe_tokens_name_one_user_of_one_city_and_nothing_else():
    token = unsubscribe.issue("u1", "c1", "secret")
    assert unsubscribe.read(token, "secret") == ("u1", "c1")
    with pytest.raises(ValidationFailed):
        unsubscribe.read(token, "other-secret")
    access = jwt.encode({"sub": "u1", "city": "c1", "role": "admin", "exp": 9999999999}, "secret", algorithm="HS256")
    with pytest.raises(ValidationFailed):
        unsubscribe.read(access, "secret")
    with pytest.raises(ValidationFailed):
        unsubscribe.read("garbage", "secret")
    assert unsubscribe.link("http://h:8000/", "gent", "a.b") == "http://h:8000/api/v1/cities/gent/notifications/unsubscribe?token=a.b"
